/*
 * Deterministic input generator shared by the fuzz tests: a seeded PRNG
 * (FUZZ_SEED in the environment reproduces a run; the seed is printed as a
 * TAP diag) and mutators that turn a corpus of valid texts into hostile
 * ones (byte flips, truncation, duplication, splicing, control bytes,
 * 0xFE/0xFF, invalid UTF-8, deep nesting, huge strings, numbers at the
 * int64 edges).
 *
 * Thread rules: a FuzzRng belongs to one thread; the rest is pure.
 */
#ifndef TESTS_FUZZ_GEN_H
#define TESTS_FUZZ_GEN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} FuzzRng;

/* The seed of this run: $FUZZ_SEED (decimal or 0x hex) if set, else
 * @fallback, so the default suite is deterministic. */
uint64_t fuzz_seed_from_env(uint64_t fallback);
/* Scale factor for iteration counts: $FUZZ_SCALE (default 1, at least 1). */
unsigned fuzz_scale_from_env(void);

void fuzz_rng_init(FuzzRng *r, uint64_t seed);
uint64_t fuzz_next(FuzzRng *r);
/* Uniform in [0, n); n > 0. */
uint32_t fuzz_below(FuzzRng *r, uint32_t n);
/* True with probability 1/n. */
bool fuzz_one_in(FuzzRng *r, uint32_t n);

/* A NULL-terminated corpus of valid QMP command texts (static). */
const char *const *fuzz_qmp_corpus(void);

/* Limits for the mutators: @huge_max bounds the length of an inserted long
 * string, @deep_max the number of brackets of an inserted nesting run. */
typedef struct {
    size_t huge_max;
    unsigned deep_max;
    /* 1 in @huge_rarity mutations that may insert a huge string does. */
    unsigned huge_rarity;
} FuzzLimits;

/* Append to @out 1..4 mutations of @seed_text (@other: a second corpus
 * text for splicing).  Bytes may be anything, NUL included. */
void fuzz_mutate(FuzzRng *r, const FuzzLimits *lim, GString *out,
                 const char *seed_text, const char *other);

/* A number text at or just past an int64/double edge (static). */
const char *fuzz_edge_number(FuzzRng *r);

#endif /* TESTS_FUZZ_GEN_H */
