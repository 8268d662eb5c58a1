// emit.h: assembling the output module (spec §1, §11).
#ifndef FFQ_EMIT_H
#define FFQ_EMIT_H

#include "base.h"
#include "program.h"
#include "rewrite.h"

typedef struct GenClass {
    const ClassInfo *ci;
    const char *name;       // Quantized<Name> (or Quantized<Name>_<k>, §4.3)
    const char *base;       // how the original class is named in the output (an alias on a clash)
    PtrVec convs;           // Conv *: forward first, then other converted methods
} GenClass;

typedef struct OutputPlan {
    const Module *mod;      // the input module
    const char *first_party;  // top-level package of the input (import sections)
    PtrVec classes;         // GenClass *, in discovery order
    PtrVec helpers;         // Conv *, in conversion order
} OutputPlan;

// Render one converted function (its decorators, signature and rewritten body).
void emit_function(ffq_ctx *cx, const Conv *cv, StrBuf *out);
// The whole output file: imports, helpers, classes.
void emit_module(ffq_ctx *cx, const OutputPlan *plan, StrBuf *out);
bool emit_is_stdlib(const char *top);

#endif
