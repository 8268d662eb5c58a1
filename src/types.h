// types.h: type inference (spec §7).
//
// types.c consumes one function to convert (its Cst, its Module's bindings,
// the generated class's attributes, the operator table) and produces a Types:
// the inferred type of every expression node of that function it evaluated.
// Unknown always means "may be a tensor": inference only ever removes
// quantizers, never loses one that a tensor needs.
#ifndef FFQ_TYPES_H
#define FFQ_TYPES_H

#include "base.h"
#include "cst.h"
#include "program.h"

typedef struct Types Types;

// Infer the types of fn's body. `cls` is the class fn is converted for
// (NULL for free functions). Never fails: what cannot be inferred is unknown.
Types *types_infer(ffq_ctx *cx, const FuncInfo *fn, ClassInfo *cls);

// §7.1: is the call / binary or unary operator / augmented assignment at
// `node` a candidate? Looks at the positional arguments of a call (keyword
// arguments carry no type), both operands of an operator, the operand of a
// unary operator. True when none of them has a type (or there are none), or
// when one of them is a tensor, unknown, or a container that may hold a
// tensor. `t == NULL` (inference off) is always true.
bool types_is_candidate(const Types *t, uint32_t node);

// `--dump=types`: a `# types of Class.method` header, then every name (and
// `self.attr`) with its inferred type, per line of the function:
// `line N: name: Type, ...` (deterministic, source order). Types print as
// `Tensor`, `int`, `list[int]`, `tuple[int, ...]`, `int | None`, `Unknown`,
// `Never` (Bottom), or an instance's qualified class name.
void types_dump(ffq_ctx *cx, const Types *t, StrBuf *out);

// --- the lattice (exported for tests/unit/test_types.c and the dump) ---
//
// Types are interned in a TypeLattice, so two equal types are the same
// pointer. TY_BOTTOM is "no value" (an unbound name, an empty union); it
// reads as TY_UNKNOWN wherever a value is used. TY_UNKNOWN is the top.

typedef enum TypeKind {
    TY_BOTTOM,
    TY_UNKNOWN,
    TY_TENSOR,
    TY_BOOL,
    TY_INT,
    TY_FLOAT,
    TY_COMPLEX,
    TY_STR,
    TY_BYTES,
    TY_NONE,
    TY_SIZE,
    TY_DTYPE,
    TY_DEVICE,
    TY_RANGE,
    TY_SLICE,
    TY_OBJECT,  // a known non-tensor value of no interest (function, module, class, ...)
    TY_LIST,
    TY_SET,
    TY_TUPLE,
    TY_DICT,
    TY_INSTANCE,  // instance of a class (nn.Module subclasses, user classes): name = qualname
    TY_UNION,
    TY__COUNT
} TypeKind;

typedef struct Type Type;
typedef struct TypeLattice TypeLattice;

TypeLattice *types_lattice_new(ffq_ctx *cx);
TypeKind types_kind(const Type *t);
// Basic kinds (TY_BOTTOM .. TY_OBJECT) have one instance each.
const Type *types_basic(TypeLattice *L, TypeKind k);
const Type *types_list(TypeLattice *L, const Type *elem);
const Type *types_set(TypeLattice *L, const Type *elem);
const Type *types_tuple(TypeLattice *L, const Type *const *elems, size_t n);  // tuple[A, B]
const Type *types_tuple_of(TypeLattice *L, const Type *elem);                 // tuple[T, ...]
const Type *types_dict(TypeLattice *L, const Type *key, const Type *value);
// An instance of the class with canonical dotted name `qualname`; `cls` is its
// ClassInfo when it is a class of the program (NULL for torch.nn.Linear, ...).
const Type *types_instance(TypeLattice *L, const char *qualname, ClassInfo *cls);
// The ClassInfo of an instance type of a class of the program, else NULL.
ClassInfo *types_instance_class(const Type *t);
// Least upper bound: equal types join to themselves, containers of the same
// kind join element-wise, anything else becomes a union (Unknown beyond 8
// members). Bottom is the identity, Unknown absorbs.
const Type *types_join(TypeLattice *L, const Type *a, const Type *b);
// Greatest lower bound (isinstance narrowing): Unknown is the identity,
// bool meets int as bool, disjoint types meet as Bottom.
const Type *types_meet(TypeLattice *L, const Type *a, const Type *b);
// Could a value of this type be a tensor or hold one (Tensor, Unknown,
// list[Tensor], Tensor | None, ...)? This is the §7.1 test.
bool types_may_be_tensor(const Type *t);
// Is it a list, tuple, dict or set (whatever its elements)?
bool types_is_container(const Type *t);
// "Tensor", "list[int]", "tuple[int, ...]", "Tensor | None", ...
const char *types_str(ffq_ctx *cx, const Type *t);

// The inferred type of a node of the function, or NULL when it was not
// evaluated (then nothing is known about it).
const Type *types_of_node(const Types *t, uint32_t node);

#endif
