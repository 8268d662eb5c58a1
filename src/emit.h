// emit.h: assembling the output module (spec §1, §11).
#ifndef FFQ_EMIT_H
#define FFQ_EMIT_H

#include "base.h"
#include "program.h"
#include "plan.h"
#include "rewrite.h"

// Render one converted function (its decorators, signature and rewritten body).
void emit_function(ffq_ctx *cx, const Conv *cv, StrBuf *out);
// The whole output file: imports, helpers, classes. *tree receives its
// parse when one was made on the way (the body's, joined to the imports'),
// else NULL.
void emit_module(ffq_ctx *cx, const OutputPlan *plan, StrBuf *out, Cst **tree);

#endif
