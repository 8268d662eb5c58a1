// types.h: type inference (spec §7).
//
// types.c consumes one function to convert (its Cst, its Module's bindings,
// the generated class's __init__ attributes, the operator table) and
// produces a Types: the inferred type of expression nodes of that function.
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
Types *types_infer(ffq_ctx *cx, const FuncInfo *fn, const ClassInfo *cls);

// §7.1: is the call / binary or unary operator at `node` a candidate? True
// when no argument/operand type is known, or when one of them is a tensor,
// unknown, or a sequence of tensors.
bool types_is_candidate(const Types *t, uint32_t node);

// `--dump=types`: every name with its inferred type, per line of the function.
void types_dump(ffq_ctx *cx, const Types *t, StrBuf *out);

#endif
