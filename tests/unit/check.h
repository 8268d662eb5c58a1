// check.h: the tiny test harness of the unit tests. A failing check prints
// its file:line and the expression (and, for strings, both values); main
// returns check_report(name), which prints `name: N passed, M failed`.
#ifndef FFQ_CHECK_H
#define FFQ_CHECK_H

#include <stdio.h>
#include <string.h>

typedef struct CheckCounts {
    int passed, failed;
} CheckCounts;

static CheckCounts check_counts;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) check_counts.passed++;                                             \
        else {                                                                       \
            check_counts.failed++;                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                   \
    do {                                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                                         \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) check_counts.passed++; \
        else {                                                                               \
            check_counts.failed++;                                                           \
            fprintf(stderr, "%s:%d: CHECK_EQ_STR failed: %s == %s\n  got:      %s\n  expected: %s\n", \
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",              \
                    check_b_ ? check_b_ : "(null)");                                         \
        }                                                                                    \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                     \
    do {                                                                                \
        const char *check_h_ = (hay), *check_n_ = (needle);                             \
        if (check_h_ && strstr(check_h_, check_n_)) check_counts.passed++;              \
        else {                                                                          \
            check_counts.failed++;                                                      \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: %s contains %s\n  text: %s\n", \
                    __FILE__, __LINE__, #hay, #needle, check_h_ ? check_h_ : "(null)"); \
        }                                                                               \
    } while (0)

static inline int check_report(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_counts.passed, check_counts.failed);
    return check_counts.failed ? 1 : 0;
}

#endif
