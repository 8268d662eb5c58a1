// rewrite.h: the rewrite plan of one converted function (spec §2, §3).
//
// rewrite.c consumes a FuncInfo (its Cst, its Module's bindings) and the
// operator table, and produces a Conv: the isolated temporaries, the calls
// replaced by quantized ops, the quantizers in creation order, and the lines
// to insert before/after statements. emit.c renders a Conv to text; nothing
// in a Conv is text yet where a name is still to be decided (temporaries are
// numbered per output file in emission order, quantizers are named per group).
#ifndef FFQ_REWRITE_H
#define FFQ_REWRITE_H

#include "base.h"
#include "containers.h"
#include "cst.h"
#include "optable.h"
#include "program.h"

// A temporary introduced by isolating a candidate (`_tmp_N`); numbered lazily.
typedef struct TmpVar {
    int number;   // 0 until first emitted
    uint32_t id;  // creation index within the conversion (a key, never printed)
} TmpVar;

// What a quantizer quantizes; with --stub-tags its stub carries the matching FastForward tag
// (docs/autoquant.md §3.5).
typedef enum QuantTag {
    QT_ACTIVATION,  // "activation": a value computed at run time (assigned names, temporaries, ...)
    QT_INPUT,       // input_quantizer=True (activation/input): a parameter of the class's forward
    QT_OUTPUT,      // output_quantizer=True (activation/output): the output of a rewritten operator
    QT_PARAMETER,   // "parameter": a tensor the module holds (self.<attr>), neither weight nor bias
    QT_WEIGHT,      // weight_quantizer=True (parameter/weight): self.<...>.weight or a weight slot
    QT_BIAS,        // bias_quantizer=True (parameter/bias): self.<...>.bias or a bias slot
} QuantTag;

typedef struct Quantizer {
    const char *base;    // base name ("linear", "self_weight", "x"), or NULL when tmp is set
    TmpVar *tmp;         // base name is the temporary's name
    const char *prefix;  // forwarded (§5.4): base is "<prefix>_<origin's base>"
    struct Quantizer *origin;
    const char *base_cache;  // the base name once computed (naming)
    uint32_t depth;          // forwarded: how many helpers it travelled through
    const char *name;        // final name, set by plan_finish
    uint32_t seq;
    QuantTag tag;       // forwarded: the origin's, or what the call site passes (§3.5)
    uint32_t param;     // a parameter's quantizer: 1 + its position in the call; else 0
    QuantTag slot_tag;  // such a parameter passed as an operator's weight / bias: QT_WEIGHT / QT_BIAS
} Quantizer;

// A rewritten operator call (§2.1).
typedef struct QOp {
    const OpEntry *entry;
    uint32_t node;              // call / binary_operator / unary_operator
    Quantizer *output;          // NULL when the schema returns no Quantized
    Quantizer **intermediates;  // one per entry->nintermediates
} QOp;

typedef enum GenKind {
    GEN_TMP,    // <tmp> = <node rendered>
    GEN_QUANT,  // <var> = <q>(<var>)           (producer quantizer)
    GEN_HOIST,  // <var> = <q>(<node rendered>) (hoisted expression quantizer)
    GEN_SHARE,  // <tmp> = <q>(<node rendered>) (an inline quantizer run once per block, §2.4)
    GEN_FLOAT,  // <var> = fastforward.nn.functional.dequantized(<var>) (a local changed in place)
} GenKind;

typedef struct GenLine {
    GenKind kind;
    const char *var;  // variable name, or NULL when tmp is set
    TmpVar *tmp;
    Quantizer *q;
    uint32_t node;  // GEN_TMP / GEN_HOIST / GEN_SHARE: the expression
} GenLine;

// A temporary that holds an inline quantizer call a block reads several times (§2.4).
typedef struct SharedTmp {
    TmpVar *tmp;     // numbered by rewrite_number_shared
    uint32_t block;  // the block whose reads share it
} SharedTmp;

// An inline use of a comprehension variable (§2.5): q(x), (__ffN := q(x)) or __ffN.
typedef struct CompUse {
    Quantizer *q;
    int walrus;  // -1: single use, printed q(x)
    bool first;  // the use that binds __ffN
} CompUse;

typedef struct Conv Conv;

// A call to a function ffq follows (§5): a helper or a method of the class.
// `self.<child>.<method>(...)` where inference knows the child's class: that class's
// method runs on this function's values, so it is converted too (in the child's class).
typedef struct MemberCall {
    ClassInfo *cls;
    const char *method;
} MemberCall;

typedef struct CallSite {
    uint32_t node;  // the call
    const FuncInfo *callee;
    Conv *callee_conv;  // set once the callee is converted; NULL: not followed
    PtrVec args;        // Quantizer * of the caller, one per callee signature entry
} CallSite;

struct Conv {
    const FuncInfo *fn;
    Module *mod;  // (its names resolve on demand: not const)
    const Cst *c;
    bool instance;          // quantizers are self.<name>
    const char *self_name;  // the instance parameter's name
    bool failed;            // not convertible (a warning was reported)

    NodeMap tmp_of;       // node -> TmpVar *: the node was isolated
    NodeMap op_of;        // node -> QOp *
    NodeMap inline_q;     // node -> Quantizer *: replaced by q(<node>)
    NodeMap hoisted;      // node -> const char *: replaced by the hoisted variable name
    NodeMap dequant_arg;  // node -> (void *)1: rendered fastforward.nn.functional.dequantized(<node>)
    NodeMap before;       // statement node -> PtrVec * of GenLine *
    NodeMap after;        // statement node -> PtrVec * of GenLine *
    NodeMap prologue;     // block -> PtrVec * of GenLine *: first lines of the block, after
                          // its docstring and before any leading comment
    NodeMap dirty;        // node -> (void *)1 when it or a descendant is rewritten
    NodeMap text_of;      // node -> const char *: printed as this text (super() anchoring)
    PtrVec class_refs;    // nodes (as uintptr_t) naming the generated class: Name.m() -> QuantizedName.m()
    NodeMap unparen;      // parenthesized_expression -> (void *)1: printed without its
                          // redundant parentheses (§9.2)
    NodeMap unparen_at;   // source offset of such a '(' or ')' -> (void *)1 (expression keys)
    NodeMap comp_use;     // identifier -> CompUse *
    PtrVec quantizers;    // Quantizer *, in creation order (§3.3)
    PtrVec tmps;          // TmpVar *, in the order their lines are emitted
    size_t nops;

    // §2.4: one evaluation per block (rewrite_share.c)
    NodeMap shared;      // node -> TmpVar *: an inline quantizer call printed as its temporary
    PtrVec shared_tmps;  // SharedTmp *, nested blocks before the blocks around them

    // §5: following calls
    ClassInfo *cls;             // the generated class whose methods this belongs to, or NULL
    const struct Types *types;  // inferred types (NULL: inference off)
    NodeMap site_of;            // call node -> CallSite *
    PtrVec sites;               // CallSite *, in breadth-first order of the call sites
    PtrVec member_calls;        // MemberCall *: methods of a child module's class called here
    PtrVec forwarded;           // Quantizer * standing for callees' quantizers (§5.4)
    PtrVec signature;           // non-instance functions: own quantizers, then forwarded
    const char *emit_name;      // name the function is emitted under (quantized_<name>)
    bool threaded;              // signature computed
    bool on_stack;              // signature being computed (recursion)
    bool dropped;               // a helper that ended up with no quantizers (§5.5)
    bool copies_data;           // hands a value to a constructor that copies memory (rewrite.c)
    uint32_t children_use;      // where it reads self's children as a collection, or CST_NONE

    // rewrite_flow.c: the keys of the attribute and item targets the body assigns
    StrMap assigned;  // expression key -> (void *)1
    bool assigned_ready;
};

// Plan the conversion of fn. Returns NULL only when fn cannot be converted
// (after reporting a warning naming the construct).
// `cls` is the generated class the function is converted for (methods found
// through self./cls./ClassName. are looked up in it), or NULL for free helpers.
// `types` are fn's inferred types (NULL: inference off, every value may be a tensor).
Conv *rewrite_function(ffq_ctx *cx, const FuncInfo *fn, ClassInfo *cls, const struct Types *types);
// The tag of a quantizer of the value of expression `node` of `cv` (§3.5): a tensor the module
// holds (`self.weight`, ...) is a parameter, weight or bias; anything else an activation.
QuantTag rewrite_value_tag(ffq_ctx *cx, const Conv *cv, uint32_t node);
// Numbers the temporaries of one-evaluation-per-block (§2.4, `shared_tmps`): each gets the
// smallest number no `_tmp_` name of its block uses. Call once the isolated temporaries of cv
// are numbered.
void rewrite_number_shared(ffq_ctx *cx, Conv *cv);
// Every name the function's source uses (not attribute or keyword-argument names).
void rewrite_source_names(ffq_ctx *cx, const Conv *cv, StrMap *out);
// The numbers n of the `_tmp_<n>` names the function's own source uses.
void rewrite_source_tmp_numbers(ffq_ctx *cx, const Conv *cv, PtrVec *out);
// One note per table-like callable that is not in the operator table
// (collected over every function converted), at its first call.
void rewrite_report_missing(ffq_ctx *cx);
// Node n (and what holds it) must be written out anew: marked in cv->dirty.
void rewrite_mark_dirty(ffq_ctx *cx, Conv *cv, uint32_t n);
// Every argument of `call` in cv that is not literal data (nor a * / ** splat) is written
// fastforward.nn.functional.dequantized(<argument>).
void rewrite_dequantize_arguments(ffq_ctx *cx, Conv *cv, uint32_t call);

#endif
