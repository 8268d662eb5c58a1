// program.h: modules, their top-level bindings, classes and functions.
//
// program.c consumes the Cst of each file and produces a Module: every name
// bound at module level (imports, defs, classes, assignments) in source
// order, every class with its methods and resolved bases, and every free
// function. Names resolve to canonical dotted names ("F.relu" with
// `import torch.nn.functional as F` -> "torch.nn.functional.relu").
#ifndef FFQ_PROGRAM_H
#define FFQ_PROGRAM_H

#include "base.h"
#include "containers.h"
#include "cst.h"

typedef struct Module Module;
typedef struct ClassInfo ClassInfo;
typedef struct Program Program;

typedef enum BindKind {
    BIND_IMPORT,     // import a.b.c        (binds "a", module "a.b.c")
    BIND_IMPORT_AS,  // import a.b as c     (binds "c", module "a.b")
    BIND_FROM,       // from m import x as y (binds "y", module "m", attr "x")
    BIND_DEF,        // def f
    BIND_CLASS,      // class C
    BIND_ASSIGN,     // NAME = ... at module level
} BindKind;

typedef struct Binding {
    const char *name;  // the name bound in the module scope
    BindKind kind;
    const char *module;  // imports: the module imported from
    const char *attr;    // BIND_FROM: the attribute imported
    uint32_t node;       // the statement
} Binding;

typedef enum FuncKind { FN_FREE, FN_INSTANCE, FN_CLASSMETHOD, FN_STATICMETHOD } FuncKind;

enum { BASES_DEPTH_MAX = 32 };  // base classes searched (for a method, a container base)

typedef struct FuncInfo {
    const char *name;
    FuncKind kind;
    uint32_t def;      // function_definition node
    uint32_t outer;    // decorated_definition wrapping it, or def
    ClassInfo *owner;  // NULL for free functions
    Module *mod;
    uint32_t lead;      // byte offset where the comment block right above it starts
    const char *alias;  // emitted under this name (a class-body alias), or NULL
    bool property;      // @property / @x.setter / @cached_property: an attribute, not a method
    // An alias's copy of a function: the function it copies (program_cst renumbers both).
    const struct FuncInfo *copy_of;
} FuncInfo;

struct ClassInfo {
    const char *name;
    uint32_t node;  // class_definition
    Module *mod;
    PtrVec methods;     // FuncInfo *, in source order
    PtrVec bases;       // const char * canonical dotted names of the bases (textual)
    PtrVec base_nodes;  // the base expressions (uint32_t node ids), for resolution
    PtrVec base_infos;  // ClassInfo * of each base once resolved (NULL: not a known class)
    bool bases_resolved;
    int is_module;   // -1 unknown yet, 0 no, 1 derives from torch.nn.Module
    PtrVec aliases;  // ClassAlias *: `name = function` in the class body (§5.2)
};

typedef struct ClassAlias {
    const char *name;
    uint32_t value;  // the aliased expression
    FuncInfo *fn;    // the method it stands for, once resolved
    bool resolved;
} ClassAlias;

struct Module {
    const char *name;  // dotted import name
    const SrcFile *file;
    // An imported module is loaded from its outline (function bodies left
    // out, cst->outline) and gets its full tree on the first program_cst;
    // every node id of its records (bindings, classes, functions, aliases)
    // is then renumbered into that tree. Outside program.c, read it only
    // through program_cst, and a record's node ids only after that call.
    Cst *cst;
    bool is_package;          // an __init__.py: its relative imports start at itself
    PtrVec bindings;          // Binding *, in source order
    PtrVec classes;           // ClassInfo *, in source order
    PtrVec functions;         // FuncInfo * of free functions
    PtrVec stars;             // const char * modules of `from X import *`, in order
    struct NameIndex *index;  // name -> newest binding/class/function (program_fill)
    NodeMap locals;           // function_definition node -> const Locals * (locals.c)

    void *cache_entry;  // where the full tree comes from (cache.c), or NULL
    bool full_tried;    // program_cst ran (the outline stays if the trees disagree)
    PtrVec copies;      // FuncInfo *: alias copies of this module's functions
};

// --- the modules of a run, loaded on demand along the search path ---

typedef enum SymKind {
    SYM_NONE,    // not bound, or not resolvable statically
    SYM_MODULE,  // a module with Python source
    SYM_EXTERN,  // a module without source (a C extension)
    SYM_CLASS,
    SYM_FUNC,
    SYM_VALUE,  // bound by an assignment, or anything else
} SymKind;

typedef struct Symbol {
    SymKind kind;
    Module *mod;  // SYM_MODULE: the module; SYM_CLASS/FUNC/VALUE: where it is defined
    ClassInfo *cls;
    FuncInfo *fn;
    const char *qualname;  // canonical dotted name of the definition
} Symbol;

// Set the search path (directories, in order) and the input module; the
// input is registered under its name so imports of it resolve to it.
void program_init(ffq_ctx *cx, const char *const *dirs, size_t ndirs, Module *input);
// How the search path is described in messages (no machine-specific paths).
void program_set_search_text(ffq_ctx *cx, const char *text);
// The pattern rules (§8) every module read from now on is rewritten with, as the input was.
typedef struct PatternRule PatternRule;
void program_set_rules(ffq_ctx *cx, PatternRule *const *rules, size_t n);
// The module `dotted`, parsed at most once per run; NULL when no source is found.
Module *program_module(ffq_ctx *cx, const char *dotted);
// Is `dotted` a module ffq cannot read (a C extension or no such module)?
bool program_module_missing(ffq_ctx *cx, const char *dotted, bool *is_extension);
// What `name` denotes at module level of m (bindings, re-exports, star imports).
Symbol program_lookup(ffq_ctx *cx, Module *m, const char *name);
// What an identifier / attribute chain expression of m denotes.
Symbol program_resolve(ffq_ctx *cx, Module *m, uint32_t node);
// Base class i of ci, resolved across modules (NULL when unknown).
ClassInfo *program_base(ffq_ctx *cx, ClassInfo *ci, size_t i);
Symbol program_resolve_depth(ffq_ctx *cx, Module *m, uint32_t node, int depth);
// The missing module (not found, not an extension) a name expression's root
// was imported from, or NULL; and a warning about it, once per module.
const char *program_missing_import(ffq_ctx *cx, Module *m, uint32_t node);
void program_warn_missing(ffq_ctx *cx, Module *m, uint32_t at, const char *what, const char *mod);
// The search path used, for messages ("looked in: ...").
const char *program_search_text(ffq_ctx *cx);

Module *program_load(ffq_ctx *cx, const SrcFile *file, Cst *cst, const char *name);
// m's full tree (parsed now if m was loaded from its outline).
Cst *program_cst(ffq_ctx *cx, Module *m);
void program_fill(ffq_ctx *cx, Module *m, const SrcFile *file, Cst *cst);
const Binding *program_binding(const Module *m, const char *name);  // last binding of name
// The module of m's star imports (`from x import *`, the last one first, followed through
// theirs) whose top level binds name, or NULL.
const char *program_star_source(ffq_ctx *cx, Module *m, const char *name);
ClassInfo *program_class(const Module *m, const char *name);
FuncInfo *program_function(const Module *m, const char *name);
// The statement of another module-level binding of fn's name (a def, an import, an
// assignment) when at least one of them is under a condition (`if` / `try` at module
// level): which one the name is bound to is decided when the module runs. CST_NONE
// otherwise (one binding, or unconditional ones: the last wins).
uint32_t program_function_other_binding(const Module *m, const FuncInfo *fn);
FuncInfo *program_method(const ClassInfo *c, const char *name);  // own methods only
// A method through the class and its bases, across modules (depth-first,
// left to right), or NULL.
FuncInfo *program_find_method(ffq_ctx *cx, ClassInfo *c, const char *name);
// Resolve a name / attribute chain expression to a canonical dotted name
// through the module's bindings. NULL when the root is not bound at module
// level (a local, a parameter, a builtin) or the node is not a dotted chain.
const char *program_qualname(ffq_ctx *cx, const Module *m, uint32_t node);
// The dotted text of an identifier/attribute chain ("self.fc.weight"), or NULL.
const char *program_dotted_text(ffq_ctx *cx, const Cst *c, uint32_t node);
bool program_is_module_class(ffq_ctx *cx, ClassInfo *c);
// `..x.y` in module m -> the absolute dotted module name.
const char *program_absolute_module(ffq_ctx *cx, const Module *m, const char *rel);

// --- locals.c: the names a function binds in its own scope ---

typedef struct Locals {
    PtrVec names;  // const char *, in first-binding order: parameters, then the body
    StrMap set;    // the same names
} Locals;

// Parameters; targets of assignments, augmented assignments, for loops and
// comprehensions, `:=` and `as` (with, except, match); imported names; names
// of nested defs and classes; every identifier of a match pattern. Not names
// declared global or nonlocal, nor what nested functions, classes and
// lambdas bind. locals_of_def works on any tree (the generated code too);
// locals_of computes a function of the program once.
const Locals *locals_of_def(ffq_ctx *cx, const Cst *c, uint32_t def);
const Locals *locals_of(ffq_ctx *cx, const FuncInfo *fn);
bool locals_has(const Locals *l, const char *name, size_t len);

// `--dump=program`: every module read (torch's own modules left out: they
// depend on the installed version), in load order, with its bindings,
// classes (bases, whether they derive from nn.Module, methods, aliases) and
// free functions, with line numbers.
void program_dump(ffq_ctx *cx, StrBuf *out);

#endif
