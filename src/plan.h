// plan.h: the whole-output plan (spec §4, §5): which classes and functions
// are generated, in which order, under which names.
//
// plan.c consumes the program (the input module and what it imports) and
// the per-function rewrite plans (Conv, rewrite.c). It owns:
//   - discovery: root classes, their submodules (§4.1, §4.2), the work queue
//     of functions to convert, followed calls (§5.1);
//   - finishing: quantizer threading through helpers (§5.4) and dropping
//     helpers left without quantizers (§5.5), temporaries numbered in output
//     order, quantizer names (§3.1, §3.2), helper and class names (§5.6, §4.3).
// After plan_finish every Conv that is emitted has its final names, and
// nothing in the program or the Cst was modified.
#ifndef FFQ_PLAN_H
#define FFQ_PLAN_H

#include "base.h"
#include "program.h"
#include "rewrite.h"

typedef struct GenClass {
    ClassInfo *ci;
    const char *name;  // Quantized<Name> (or Quantized<Name>_<k>, §4.3)
    const char *base;  // how the original class is named in the output (an alias on a clash)
    PtrVec convs;      // Conv *: forward first, then other converted methods
} GenClass;

// One function to convert, in the order it was queued.
typedef struct PlanWork {
    const FuncInfo *fn;
    GenClass *g;  // the generated class it belongs to; NULL for free helpers
    Conv *cv;     // its rewrite plan once converted; NULL: not convertible
    // a helper first called through another name its module binds to the same
    // function (`public = _impl`; `mod.public(x)`): emitted as quantized_<call_name> (§5.2)
    const char *call_name;
} PlanWork;

typedef struct OutputPlan {
    const Module *mod;        // the input module
    const char *first_party;  // top-level package of the input (import sections)
    PtrVec roots;             // ClassInfo * the user asked for (or every nn.Module)
    PtrVec classes;           // GenClass *, in discovery order
    PtrVec helpers;           // Conv *, in conversion order
    PtrVec work;              // PlanWork *, FIFO; grows while calls are followed
    int tmp_counter;          // `_tmp_N` numbers handed out in this output file
} OutputPlan;

OutputPlan *plan_new(ffq_ctx *cx, const Module *input, const char *modname);
// The root classes: --class NAME..., or every nn.Module subclass of the
// input. False when a named class does not exist (reported).
bool plan_roots(ffq_ctx *cx, OutputPlan *plan, const ffq_options *opt);
// §4.2: the generated classes, depth-first through __init__ in registration
// order, each queueing its forward.
void plan_discover(ffq_ctx *cx, OutputPlan *plan);
// The class a queued function is converted for (NULL for free helpers).
ClassInfo *plan_class_of(const PlanWork *w);
// Record the rewrite plan of a queued function and queue what it calls (§5.1).
void plan_add(ffq_ctx *cx, OutputPlan *plan, PlanWork *w, Conv *cv);
// After the queue is drained: link call sites, thread, drop, number, name.
void plan_finish(ffq_ctx *cx, OutputPlan *plan);
// The name a temporary prints as (`_tmp_N`, numbered by plan_finish).
const char *plan_tmp_name(ffq_ctx *cx, const TmpVar *t);
// `--dump=plan`: every generated class and helper, its quantizers and the
// arguments each followed call passes (deterministic, output order).
void plan_dump(ffq_ctx *cx, const OutputPlan *plan, StrBuf *out);

#endif
