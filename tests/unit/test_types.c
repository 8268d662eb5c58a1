// Unit tests of types.c: the lattice laws (join/meet, interning, may_be_tensor,
// printing) and inference results on small snippets through --dump=types.
#include "ffq_int.h"
#include "types.h"

#include "check.h"

// --- the lattice ---

typedef struct Samples {
    const Type *t[24];
    size_t n;
} Samples;

static Samples samples(TypeLattice *L) {
    Samples s = {{0}, 0};
    const Type *I = types_basic(L, TY_INT), *F = types_basic(L, TY_FLOAT), *T = types_basic(L, TY_TENSOR);
    const Type *N = types_basic(L, TY_NONE), *B = types_basic(L, TY_BOOL), *S = types_basic(L, TY_STR);
    const Type *pair[2] = {I, T};
    s.t[s.n++] = types_basic(L, TY_BOTTOM);
    s.t[s.n++] = types_basic(L, TY_UNKNOWN);
    s.t[s.n++] = I;
    s.t[s.n++] = F;
    s.t[s.n++] = T;
    s.t[s.n++] = N;
    s.t[s.n++] = B;
    s.t[s.n++] = S;
    s.t[s.n++] = types_basic(L, TY_SIZE);
    s.t[s.n++] = types_list(L, I);
    s.t[s.n++] = types_list(L, T);
    s.t[s.n++] = types_list(L, F);
    s.t[s.n++] = types_tuple(L, pair, 2);
    s.t[s.n++] = types_tuple_of(L, I);
    s.t[s.n++] = types_dict(L, S, T);
    s.t[s.n++] = types_join(L, I, N);
    s.t[s.n++] = types_join(L, T, N);
    s.t[s.n++] = types_instance(L, "m.Block", NULL);
    s.t[s.n++] = types_set(L, S);
    return s;
}

static void test_interning(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    TypeLattice *L = types_lattice_new(cx);
    const Type *I = types_basic(L, TY_INT), *T = types_basic(L, TY_TENSOR);
    CHECK(types_list(L, I) == types_list(L, I));
    CHECK(types_list(L, I) != types_set(L, I));
    const Type *p1[2] = {I, T}, *p2[2] = {I, T};
    CHECK(types_tuple(L, p1, 2) == types_tuple(L, p2, 2));
    CHECK(types_tuple(L, p1, 2) != types_tuple_of(L, I));
    CHECK(types_dict(L, I, T) == types_dict(L, I, T));
    CHECK(types_instance(L, "a.B", NULL) == types_instance(L, "a.B", NULL));
    CHECK(types_instance(L, "a.B", NULL) != types_instance(L, "a.C", NULL));
    CHECK(types_join(L, I, T) == types_join(L, T, I));  // unions are sorted
    // many distinct types: the intern table grows and stays consistent
    const Type *prev = I;
    for (int k = 0; k < 200; k++) prev = types_list(L, k % 2 ? prev : types_set(L, prev));
    CHECK(types_kind(prev) == TY_UNKNOWN || types_kind(prev) == TY_LIST);
    CHECK(types_list(L, types_list(L, I)) == types_list(L, types_list(L, I)));
    ffq_ctx_free(cx);
}

static void test_join_laws(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    TypeLattice *L = types_lattice_new(cx);
    Samples s = samples(L);
    const Type *bot = types_basic(L, TY_BOTTOM), *top = types_basic(L, TY_UNKNOWN);
    for (size_t i = 0; i < s.n; i++) {
        const Type *a = s.t[i];
        CHECK(types_join(L, a, bot) == a);  // identity
        CHECK(types_join(L, bot, a) == a);
        CHECK(types_join(L, a, top) == top);  // Unknown absorbs
        CHECK(types_join(L, a, a) == a);      // idempotence
        CHECK(types_meet(L, a, top) == a);    // Unknown is the meet identity
        CHECK(types_meet(L, a, a) == a);
        CHECK(types_meet(L, a, bot) == bot);
        for (size_t j = 0; j < s.n; j++) {
            const Type *b = s.t[j];
            CHECK(types_join(L, a, b) == types_join(L, b, a));  // commutativity
            CHECK(types_meet(L, a, b) == types_meet(L, b, a));
            const Type *ab = types_join(L, a, b);
            CHECK(types_join(L, ab, a) == ab);  // a <= a | b
            // absorption (an instance meets Tensor as Tensor: it may be a Tensor subclass)
            bool inst_tensor = (types_kind(a) == TY_INSTANCE && types_may_be_tensor(b)) ||
                               (types_kind(b) == TY_INSTANCE && types_may_be_tensor(a));
            if (!inst_tensor) CHECK(types_join(L, a, types_meet(L, a, b)) == a);
            // joining two values never loses "may be a tensor" (Bottom is no value)
            if (types_kind(a) != TY_BOTTOM && types_kind(b) != TY_BOTTOM &&
                (types_may_be_tensor(a) || types_may_be_tensor(b)))
                CHECK(types_may_be_tensor(ab));
        }
    }
    ffq_ctx_free(cx);
}

static void test_join_shapes(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    TypeLattice *L = types_lattice_new(cx);
    const Type *I = types_basic(L, TY_INT), *F = types_basic(L, TY_FLOAT), *T = types_basic(L, TY_TENSOR),
               *B = types_basic(L, TY_BOOL), *N = types_basic(L, TY_NONE);
    // containers join element-wise
    CHECK_EQ_STR(types_str(cx, types_join(L, types_list(L, I), types_list(L, F))), "list[int | float]");
    const Type *a[2] = {I, I}, *b[2] = {F, I}, *c3[3] = {I, I, I};
    CHECK_EQ_STR(types_str(cx, types_join(L, types_tuple(L, a, 2), types_tuple(L, b, 2))),
                 "tuple[int | float, int]");
    CHECK_EQ_STR(types_str(cx, types_join(L, types_tuple(L, a, 2), types_tuple(L, c3, 3))),
                 "tuple[int, ...]");
    CHECK_EQ_STR(types_str(cx, types_join(L, types_dict(L, I, T), types_dict(L, I, N))),
                 "dict[int, Tensor | None]");
    CHECK(types_join(L, B, I) == I);  // bool is an int
    CHECK_EQ_STR(types_str(cx, types_join(L, types_join(L, I, N), types_list(L, I))),
                 "int | None | list[int]");
    // a union merges a container of the same kind
    CHECK_EQ_STR(types_str(cx, types_join(L, types_join(L, N, types_list(L, I)), types_list(L, T))),
                 "None | list[Tensor | int]");
    // more than 8 members: Unknown
    const Type *u = types_basic(L, TY_BOTTOM);
    TypeKind ks[] = {TY_INT, TY_FLOAT, TY_COMPLEX, TY_STR, TY_BYTES, TY_NONE, TY_SIZE, TY_DTYPE};
    for (size_t i = 0; i < 8; i++) u = types_join(L, u, types_basic(L, ks[i]));
    CHECK(types_kind(u) == TY_UNION);
    CHECK(types_kind(types_join(L, u, types_basic(L, TY_DEVICE))) == TY_UNKNOWN);
    // meets
    CHECK(types_meet(L, B, I) == B);
    CHECK(types_meet(L, I, F) == types_basic(L, TY_BOTTOM));
    CHECK(types_meet(L, types_join(L, I, N), I) == I);
    CHECK(types_meet(L, types_join(L, T, N), N) == N);
    CHECK(types_meet(L, types_list(L, types_basic(L, TY_UNKNOWN)), types_list(L, I)) == types_list(L, I));
    CHECK(types_meet(L, T, types_instance(L, "x.P", NULL)) == T);  // a Tensor subclass stays a tensor
    // nesting is capped
    const Type *deep = I;
    for (int k = 0; k < 20; k++) deep = types_list(L, deep);
    CHECK(strlen(types_str(cx, deep)) < 80);  // list[list[...[Unknown]]] at most 6 deep
    ffq_ctx_free(cx);
}

static void test_may_be_tensor(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    TypeLattice *L = types_lattice_new(cx);
    const Type *I = types_basic(L, TY_INT), *T = types_basic(L, TY_TENSOR), *N = types_basic(L, TY_NONE);
    CHECK(types_may_be_tensor(NULL));
    CHECK(types_may_be_tensor(T));
    CHECK(types_may_be_tensor(types_basic(L, TY_UNKNOWN)));
    CHECK(types_may_be_tensor(types_basic(L, TY_BOTTOM)));  // reads as unknown
    CHECK(types_may_be_tensor(types_list(L, T)));
    CHECK(types_may_be_tensor(types_join(L, T, N)));
    CHECK(types_may_be_tensor(types_list(L, types_basic(L, TY_BOTTOM))));  // [] may get tensors
    const Type *p[2] = {I, T};
    CHECK(types_may_be_tensor(types_tuple(L, p, 2)));
    CHECK(!types_may_be_tensor(I));
    CHECK(!types_may_be_tensor(types_basic(L, TY_SIZE)));
    CHECK(!types_may_be_tensor(types_list(L, I)));
    CHECK(!types_may_be_tensor(types_join(L, I, N)));
    CHECK(!types_may_be_tensor(types_instance(L, "torch.nn.Linear", NULL)));
    CHECK(!types_may_be_tensor(types_dict(L, types_basic(L, TY_STR), I)));
    CHECK_EQ_STR(types_str(cx, types_tuple(L, NULL, 0)), "tuple[()]");
    CHECK_EQ_STR(types_str(cx, types_tuple_of(L, T)), "tuple[Tensor, ...]");
    ffq_ctx_free(cx);
}

// --- inference, through --dump=types ---

static const char *dump(ffq_ctx *cx, const char *src) {
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    opt.dump = FFQ_DUMP_TYPES;
    if (ffq_compile_buffer(cx, "m.py", src, strlen(src), &opt) != FFQ_OK) {
        fprintf(stderr, "%s", ffq_diagnostics(cx));
        return NULL;
    }
    return ffq_output(cx, NULL);
}

#define HEAD "import torch\nfrom typing import List, Optional, Tuple\n\nclass M(torch.nn.Module):\n"

static void check_dump(const char *src, const char *const *want) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = dump(cx, src);
    for (; *want; want++) CHECK_CONTAINS(out, *want);
    ffq_ctx_free(cx);
}

static void test_infer_annotations(void) {
    const char *want[] = {
        "x: Tensor", "n: int",          "o: int | None",         "xs: list[int]",    "t: tuple[int, ...]",
        "s: str",    "u: float | None", "p: tuple[int, Tensor]", "q: Tensor | None", NULL,
    };
    check_dump(
        HEAD "    def forward(self, x: torch.Tensor, n: int, o: Optional[int], xs: List[int],\n"
             "                t: Tuple[int, ...], s: 'str', u: float | None, p: 'Tuple[int, torch.Tensor]',\n"
             "                q: 'Optional[torch.Tensor]' = None):\n"
             "        return x\n",
        want);
}

// A list or tuple repeated or extended stays one whatever the other operand is, so the
// operator is no candidate even when that operand is unknown.
static void test_infer_sequence_operators(void) {
    const char *want[] = {
        "line 6: a: list[Unknown]", "line 7: b: tuple[Unknown, ...]", "line 8: c: list[Unknown]",
        "line 9: d: list[int]",     "line 10: e: tuple[int, ...]",    NULL,
    };
    const char *src = HEAD "    def forward(self, x, n):\n"
                           "        a = [x] * (n // 2)\n"
                           "        b = (x,) * n\n"
                           "        c = n * [x]\n"
                           "        d = [0] + n\n"
                           "        e = (1, 2) * n\n"
                           "        return torch.relu(x) + len(a) + len(b) + len(c) + len(d) + len(e)\n";
    check_dump(src, want);
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    CHECK(ffq_compile_buffer(cx, "m.py", src, strlen(src), &opt) == FFQ_OK);
    const char *out = ffq_output(cx, NULL);
    CHECK(out && !strstr(out, "functional.mul("));  // no repetition became a quantized mul
    CHECK_CONTAINS(out, "b = (x,) * n");
    CHECK_CONTAINS(out, "c = n * [x]");
    ffq_ctx_free(cx);
}

static void test_infer_flow(void) {
    const char *want[] = {
        "line 6: a: int",          "line 7: b: float",
        "line 8: c: Size",         "line 9: d: int",
        "line 10: h: int, w: int", "line 11: e: int",
        "line 12: f: Tensor",      "line 13: g: Tensor",
        "line 14: i: int",         "line 15: k: int | float",
        "line 16: z: Tensor",      "line 17: r: bool",
        "line 18: y: Unknown",     NULL,
    };
    check_dump(HEAD "    def forward(self, x: torch.Tensor, v):\n"
                    "        a = 1 + 2 * 3\n"
                    "        b = a / 2\n"
                    "        c = x.shape\n"
                    "        d = x.size(0)\n"
                    "        h, w = c[0:2]\n"
                    "        e = h * w + len([1])\n"
                    "        f = x.view(h, w).float()\n"
                    "        g = torch.zeros(3)\n"
                    "        for i in range(3):\n"
                    "            k = i if i else 0.5\n"
                    "        z = torch.relu(g)\n"
                    "        r = a < b\n"
                    "        y = v.foo()\n"
                    "        return f, y\n",
               want);
}

static void test_infer_init_attributes(void) {
    const char *want[] = {"self.heads: int", "self.scale: float", "p: torch.nn.", "Linear",
                          "s: float",        "self.dim: int",     "u: Unknown",   NULL};
    check_dump(HEAD "    def __init__(self, dim: int):\n"
                    "        super().__init__()\n"
                    "        self.dim = dim\n"
                    "        self.heads: int = 8\n"
                    "        self.scale = 0.125\n"
                    "        self.proj = torch.nn.Linear(dim, dim)\n"
                    "    def forward(self, x):\n"
                    "        s = self.scale * self.heads\n"
                    "        d = self.dim\n"
                    "        u = self.proj(x)\n"
                    "        p = self.proj\n"
                    "        return u * s\n",
               want);
}

static void test_infer_narrowing_and_loops(void) {
    const char *want[] = {
        "line 7: n: int, o: int",       // `is not None` removes None
        "line 9: v: int",               // isinstance narrows
        "line 11: i: int, total: int",  // the loop keeps an int
        "line 13: j: int, e: Unknown",
        "line 14: acc: list[Unknown], acc: Unknown",  // widened: the nesting never stabilises
        NULL,
    };
    check_dump(HEAD "    def forward(self, x, o: Optional[int], v, xs):\n"
                    "        if o is not None:\n"
                    "            n = o\n"
                    "        if isinstance(v, int):\n"
                    "            v = v\n"
                    "        total = 0\n"
                    "        for i in range(4): total = total + i\n"
                    "        acc = []\n"
                    "        for j, e in enumerate(xs):\n"
                    "            acc = [acc]\n"
                    "        return x\n",
               want);
}

static void test_candidates(void) {
    // the decision itself, through the generated code
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    const char *src = HEAD "    def forward(self, x: torch.Tensor, n: int, ys: List[torch.Tensor]):\n"
                           "        k = n * 2\n"
                           "        y = x.unsqueeze(1)\n"
                           "        z = torch.cat(ys)\n"
                           "        return x * k + y + z\n";
    CHECK(ffq_compile_buffer(cx, "m.py", src, strlen(src), &opt) == FFQ_OK);
    const char *out = ffq_output(cx, NULL);
    CHECK_CONTAINS(out, "k = n * 2\n");                         // int * int: not a candidate
    CHECK_CONTAINS(out, "y = x.unsqueeze(1)\n");                // receiver ignored
    CHECK_CONTAINS(out, "fastforward.nn.functional.cat(");      // list[Tensor] is kept
    CHECK_CONTAINS(out, "fastforward.nn.functional.mul(x, k");  // tensor * int is
    ffq_ctx_free(cx);
}

int main(void) {
    test_interning();
    test_join_laws();
    test_join_shapes();
    test_may_be_tensor();
    test_infer_annotations();
    test_infer_flow();
    test_infer_sequence_operators();
    test_infer_init_attributes();
    test_infer_narrowing_and_loops();
    test_candidates();
    return check_report("test_types");
}
