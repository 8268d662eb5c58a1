// Unit tests of rewrite.c, through small compilations: naming (§3), creation
// order, stub placement (§2) and the producers that reach a use.
#include "ffq_int.h"
#include "rewrite_int.h"

#include "check.h"

static const char *compile(ffq_ctx *cx, const char *src) {
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    if (ffq_compile_buffer(cx, "m.py", src, strlen(src), &opt) != FFQ_OK) {
        fprintf(stderr, "%s", ffq_diagnostics(cx));
        return NULL;
    }
    return ffq_output(cx, NULL);
}

#define HEAD "import torch\n\nclass M(torch.nn.Module):\n    def forward(self, x, y):\n"

static void test_suffixes_for_repeated_names(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        a = torch.relu(x)\n        b = torch.relu(y)\n"
                                       "        return a + b\n");
    CHECK_CONTAINS(out, "self.quantizer_relu_1: fastforward.nn.Quantizer");
    CHECK_CONTAINS(out, "self.quantizer_relu_2: fastforward.nn.Quantizer");
    CHECK_CONTAINS(out, "self.quantizer_add: fastforward.nn.Quantizer");
    // op quantizers first, parameters last (§3.3)
    CHECK(strstr(out, "quantizer_relu_1:") < strstr(out, "quantizer_add:"));
    CHECK(strstr(out, "quantizer_add:") < strstr(out, "quantizer_x:"));
    ffq_ctx_free(cx);
}

static void test_reassignment_new_producer(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        h = x.exp()\n        z = h * y\n"
                                       "        h = x.abs()\n        return h - z\n");
    CHECK_CONTAINS(out, "h = self.quantizer_h_1(h)");
    CHECK_CONTAINS(out, "h = self.quantizer_h_2(h)");
    ffq_ctx_free(cx);
}

static void test_literals_not_quantized(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        return x * 2 + (-1 + 3)\n");
    CHECK_CONTAINS(out, "fastforward.nn.functional.mul(x, 2");
    CHECK(strstr(out, "quantizer_y") == NULL);  // y unused
    ffq_ctx_free(cx);
}

static void test_helper_variable_named_quantizer(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out =
        compile(cx, HEAD "        quantizer_a = x.exp()\n        return torch.relu(quantizer_a)\n");
    CHECK_CONTAINS(out, "self.quantizer_a(quantizer_a)");  // no quantizer_quantizer_a
    ffq_ctx_free(cx);
}

static void test_ident_of_expressions(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        return torch.relu(x.T) + torch.relu([y])\n");
    CHECK_CONTAINS(out, "x_T = self.quantizer_x_T(x.T)");
    CHECK_CONTAINS(out, "self.quantizer__y([y])");
    ffq_ctx_free(cx);
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle)) n++;
    return n;
}

// §2.4: a nested block's shared temporary is numbered first; the block around it then takes
// the smallest number none of its `_tmp_` names (the nested one included) uses.
static void test_shared_numbering_nested_first(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        if y is None:\n            z = x[0] * x[0]\n"
                                       "        else:\n            z = x\n"
                                       "        return z + x[1] * x[1]\n");
    CHECK_CONTAINS(out, "            _tmp_1 = self.quantizer_x_0(x[0])\n            z = ");
    CHECK_CONTAINS(out, "_tmp_1 = fastforward.nn.functional.mul(\n            _tmp_2, _tmp_2,");
    CHECK_CONTAINS(out, "        _tmp_2 = self.quantizer_x_1(x[1])\n        _tmp_1 = ");
    CHECK(count_of(out, "self.quantizer_x_0(") == 1);
    CHECK(count_of(out, "self.quantizer_x_1(") == 1);
    ffq_ctx_free(cx);
}

// §2.4: a store into a subscript between two reads ends a run; the reads after it share.
static void test_shared_run_split_by_store(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        a = x[0] * 2\n        x[0] = a\n"
                                       "        b = x[0] * 3\n        return b - x[0]\n");
    CHECK_CONTAINS(out, "mul(\n            self.quantizer_x_0(x[0]), 2,");
    CHECK_CONTAINS(out, "x[0] = a\n        _tmp_1 = self.quantizer_x_0(x[0])\n        b = ");
    CHECK_CONTAINS(out, "sub(b, _tmp_1,");
    CHECK(count_of(out, "self.quantizer_x_0(") == 2);
    ffq_ctx_free(cx);
}

// §2.4: helpers' quantizers are not `self.` calls; their repeated calls stay.
static void test_shared_only_in_methods(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, "import torch\n\ndef helper(x):\n    return x[0] * x[0]\n\n"
                                  "class M(torch.nn.Module):\n    def forward(self, x):\n"
                                  "        return helper(x)\n");
    CHECK(count_of(out, "quantizer_x_0(x[0])") == 2);
    CHECK(strstr(out, "_tmp_") == NULL);
    ffq_ctx_free(cx);
}

// The persistent environments of walk 2 (rewrite_env.c) against a plain model: a table of
// producer lists per name, copied on every copy. Random sets, copies and joins over a few
// hundred names, with the full hash and with hashes cut to 8 and to 2 bits (keys then share
// trie slots at every level, and whole hashes: entry chains).
#define NKEYS 300
#define NENVS 6
typedef struct Model {
    size_t n[NKEYS];
    Prod *p[NKEYS][64];
} Model;

static void model_set(Model *m, int k, Prod *p) {
    m->n[k] = 1;
    m->p[k][0] = p;
}

static bool model_union(Model *d, const Model *s) {
    bool grew = false;
    for (int k = 0; k < NKEYS; k++)
        for (size_t i = 0; i < s->n[k]; i++) {
            size_t j = 0;
            while (j < d->n[k] && d->p[k][j] != s->p[k][i]) j++;
            if (j == d->n[k]) {
                ffq_assert(d->n[k] < 64);  // the model's room (the runs stay far below it)
                d->p[k][d->n[k]++] = s->p[k][i], grew = true;
            }
        }
    return grew;
}

static bool same_as_model(const Env *e, const Model *m, char keys[][8]) {
    for (int k = 0; k < NKEYS; k++) {
        const EnvEntry *en = rw_env_find(e, keys[k]);
        size_t n = 0;
        for (const ProdList *l = en ? en->prods : NULL; l; l = l->next, n++)
            if (n >= m->n[k] || l->p != m->p[k][n]) return false;
        if (n != m->n[k]) return false;
    }
    return true;
}

static void test_env_tries_against_a_model(void) {
    static const uint64_t masks[] = {~0ull, 0xffull, 0x3ull};
    for (size_t mi = 0; mi < sizeof masks / sizeof masks[0]; mi++) {
        rw_env_hash_mask = masks[mi];
        ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
        RwState a = {.cx = cx};
        static char keys[NKEYS][8];
        for (int k = 0; k < NKEYS; k++) snprintf(keys[k], sizeof keys[k], "v%d", k);
        static Model models[NENVS];
        memset(models, 0, sizeof models);
        Env envs[NENVS] = {{0}};
        uint64_t rng = 12345 + mi;
        bool ok = true;
        for (int step = 0; step < 20000 && ok; step++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(rng >> 33);
            int e = (int)(r % NENVS), f = (int)((r >> 8) % NENVS), k = (int)((r >> 16) % NKEYS);
            switch ((r >> 28) % 5) {
            case 0:
            case 1: {  // name := {new producer}
                Prod *p = ARENA_NEW(cx, Prod);
                p->key = keys[k];
                rw_env_set(&a, &envs[e], p);
                model_set(&models[e], k, p);
                break;
            }
            case 2:  // a copy
                envs[e] = envs[f];
                models[e] = models[f];
                break;
            case 3: {  // a join, and whether it grew
                bool want = model_union(&models[e], &models[f]);
                ok = rw_env_union(&a, &envs[e], &envs[f]) == want;
                break;
            }
            default: {  // e joined with every other environment from f on, in one balanced join
                PtrVec all = {0};
                for (int i = 0; i < NENVS; i++) {
                    int o = (f + i) % NENVS;
                    if (o == e) continue;
                    model_union(&models[e], &models[o]);
                    vec_push(cx, &all, &envs[o]);
                }
                rw_env_union_all(&a, &envs[e], &all);
                break;
            }
            }
            for (int i = 0; i < NENVS && ok && step % 7 == 0; i++) ok = same_as_model(&envs[i], &models[i], keys);
            if (!ok) printf("step %d op %u e %d f %d k %d\n", step, (r >> 28) % 5, e, f, k);
        }
        for (int i = 0; i < NENVS && ok; i++) ok = same_as_model(&envs[i], &models[i], keys);
        if (!ok) printf("hash mask %#llx:\n", (unsigned long long)masks[mi]);
        CHECK(ok);
        ffq_ctx_free(cx);
    }
    rw_env_hash_mask = ~0ull;
}

int main(void) {
    test_suffixes_for_repeated_names();
    test_reassignment_new_producer();
    test_literals_not_quantized();
    test_helper_variable_named_quantizer();
    test_ident_of_expressions();
    test_shared_numbering_nested_first();
    test_shared_run_split_by_store();
    test_shared_only_in_methods();
    test_env_tries_against_a_model();
    return check_report("test_rewrite");
}
