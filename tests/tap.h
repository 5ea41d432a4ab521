/*
 * tap.h: a tiny header-only TAP (Test Anything Protocol) producer for the
 * test programs registered with meson `protocol: 'tap'`.
 *
 *     plan(3);                        // or skip plan() and end with done_testing()
 *     ok(x == 1, "x is %d", 1);
 *     is_int(got, 42, "answer");
 *     skip(1, "no io_uring here");
 *     diag("informational %s", "text");
 *     return done_testing();          // exit status: 0 iff every test passed
 *
 * Thread rules: not thread-safe.  Call it from one thread (the test's main
 * thread); collect results from worker threads and assert after joining.
 * State is static per translation unit, so include it in one .c file per
 * program.
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_planned = -1;   /* -1: no plan yet (done_testing prints it) */
static int tap_run;
static int tap_failed;

#if defined(__GNUC__)
#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TAP_UNUSED __attribute__((unused))
#else
#define TAP_PRINTF(a, b)
#define TAP_UNUSED
#endif

/* Announce @n tests up front.  Optional: done_testing() prints a trailing
 * plan when none was given. */
static TAP_UNUSED void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

/* A '#' comment line; TAP consumers ignore it.  Goes to stdout so it stays
 * in order with the results in meson's log. */
static TAP_UNUSED TAP_PRINTF(1, 2) void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

static TAP_UNUSED bool tap_vok(bool cond, const char *fmt, va_list ap)
{
    tap_run++;
    if (!cond) {
        tap_failed++;
    }
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    return cond;
}

/* One result.  Returns @cond so callers can add diagnostics on failure. */
static TAP_UNUSED TAP_PRINTF(2, 3) bool ok(bool cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool r = tap_vok(cond, fmt, ap);
    va_end(ap);
    return r;
}

/* ok(got == expected) that prints both values when they differ. */
static TAP_UNUSED TAP_PRINTF(3, 4) bool is_int(int64_t got, int64_t expected,
                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool r = tap_vok(got == expected, fmt, ap);
    va_end(ap);
    if (!r) {
        diag("  got:      %" PRId64, got);
        diag("  expected: %" PRId64, expected);
    }
    return r;
}

/* Record @n skipped tests with a reason (they count as run, not failed). */
static TAP_UNUSED TAP_PRINTF(2, 3) void skip(int n, const char *fmt, ...)
{
    for (int i = 0; i < n; i++) {
        va_list ap;
        va_start(ap, fmt);
        tap_run++;
        printf("ok %d # SKIP ", tap_run);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
    }
    fflush(stdout);
}

/* Print the plan if none was declared, check it otherwise.  Returns the
 * exit status for main(): 0 when all tests ran and passed. */
static TAP_UNUSED int done_testing(void)
{
    if (tap_planned < 0) {
        printf("1..%d\n", tap_run);
    } else if (tap_planned != tap_run) {
        diag("planned %d tests but ran %d", tap_planned, tap_run);
        tap_failed++;
    }
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif /* TESTS_TAP_H */
