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
#include "cst.h"

typedef struct Module Module;
typedef struct ClassInfo ClassInfo;

typedef enum BindKind {
    BIND_IMPORT,       // import a.b.c        (binds "a", module "a.b.c")
    BIND_IMPORT_AS,    // import a.b as c     (binds "c", module "a.b")
    BIND_FROM,         // from m import x as y (binds "y", module "m", attr "x")
    BIND_DEF,          // def f
    BIND_CLASS,        // class C
    BIND_ASSIGN,       // NAME = ... at module level
} BindKind;

typedef struct Binding {
    const char *name;   // the name bound in the module scope
    BindKind kind;
    const char *module; // imports: the module imported from
    const char *attr;   // BIND_FROM: the attribute imported
    uint32_t node;      // the statement
} Binding;

typedef enum FuncKind { FN_FREE, FN_INSTANCE, FN_CLASSMETHOD, FN_STATICMETHOD } FuncKind;

typedef struct FuncInfo {
    const char *name;
    FuncKind kind;
    uint32_t def;        // function_definition node
    uint32_t outer;      // decorated_definition wrapping it, or def
    ClassInfo *owner;    // NULL for free functions
    Module *mod;
    uint32_t lead;       // byte offset where the comment block right above it starts
} FuncInfo;

struct ClassInfo {
    const char *name;
    uint32_t node;       // class_definition
    Module *mod;
    PtrVec methods;      // FuncInfo *, in source order
    PtrVec bases;        // const char * canonical dotted names of the bases
    int is_module;       // -1 unknown yet, 0 no, 1 derives from torch.nn.Module
};

struct Module {
    const char *name;    // dotted import name
    const SrcFile *file;
    Cst *cst;
    PtrVec bindings;     // Binding *, in source order
    PtrVec classes;      // ClassInfo *, in source order
    PtrVec functions;    // FuncInfo * of free functions
};

Module *program_load(ffq_ctx *cx, const SrcFile *file, Cst *cst, const char *name);
const Binding *program_binding(const Module *m, const char *name);  // last binding of name
ClassInfo *program_class(const Module *m, const char *name);
FuncInfo *program_function(const Module *m, const char *name);
FuncInfo *program_method(const ClassInfo *c, const char *name);  // own methods only
// A method through the class and its bases defined in the same module
// (depth-first, left to right), or NULL.
FuncInfo *program_find_method(const ClassInfo *c, const char *name);
// The class a canonical dotted name denotes in module m, or NULL.
ClassInfo *program_class_by_qualname(const Module *m, const char *qualname);
// Resolve a name / attribute chain expression to a canonical dotted name
// through the module's bindings. NULL when the root is not bound at module
// level (a local, a parameter, a builtin) or the node is not a dotted chain.
const char *program_qualname(ffq_ctx *cx, const Module *m, uint32_t node);
// The dotted text of an identifier/attribute chain ("self.fc.weight"), or NULL.
const char *program_dotted_text(ffq_ctx *cx, const Cst *c, uint32_t node);
bool program_is_module_class(ffq_ctx *cx, ClassInfo *c);

#endif
