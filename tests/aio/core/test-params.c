/*
 * test-params: the parameter table and aio_context_set_params().  A new
 * context starts from the table's initial values; every boundary value is
 * accepted and read back exactly; a change holding any refused member (for
 * every pair of a valid and an invalid member, and every bad pool pair) is
 * refused whole with QEMU 7.2's error text and changes nothing; values that
 * stand for something else read back as set and resolve in
 * aio_params_effective(); the one-group shorthands follow the same rules.
 */
#include "aio-test.h"

#include <limits.h>

static const char pool_error[] = "bad thread-pool-min/thread-pool-max values";

/* A value of each parameter the table refuses, and the text QEMU gives. */
typedef struct Bad {
    AioParamId id;
    int64_t value;
    const char *message;
} Bad;

static const Bad bad_values[] = {
    { AIO_PARAM_POLL_MAX_NS, -1,
      "poll-max-ns value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_POLL_MAX_NS, INT64_MIN,
      "poll-max-ns value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_POLL_GROW, -1,
      "poll-grow value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_POLL_SHRINK, -1,
      "poll-shrink value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_AIO_MAX_BATCH, -1,
      "aio-max-batch value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_THREAD_POOL_MIN, -1,
      "thread-pool-min value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_THREAD_POOL_MIN, (int64_t)INT_MAX + 1, pool_error },
    { AIO_PARAM_THREAD_POOL_MAX, -1,
      "thread-pool-max value must be in range [0, 9223372036854775807]" },
    { AIO_PARAM_THREAD_POOL_MAX, 0, pool_error },
    { AIO_PARAM_THREAD_POOL_MAX, (int64_t)INT_MAX + 1, pool_error },
};

/* A valid value different from the initial one (a live pool would start
 * min workers, so the pool sizes stay small). */
static int64_t valid_value(AioParamId id)
{
    switch (id) {
    case AIO_PARAM_THREAD_POOL_MIN:
        return 0;
    case AIO_PARAM_THREAD_POOL_MAX:
        return 5;
    default:
        return 1000;
    }
}

static bool params_equal(const AioParams *a, const AioParams *b)
{
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        if (aio_params_get(a, id) != aio_params_get(b, id)) {
            return false;
        }
    }
    return true;
}

static void test_new_context_has_initial_values(void)
{
    AioContext *ctx = test_context_new();
    AioParams p;
    bool all = true;

    aio_context_get_params(ctx, &p);
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        if (aio_params_get(&p, id) != info->context_initial) {
            diag("%s = %" PRId64, info->name, aio_params_get(&p, id));
            all = false;
        }
    }
    ok(all && p.mask == AIO_PARAMS_ALL,
       "a new context has the table's initial values, all given");
    aio_context_unref(ctx);
}

static void test_table_names_and_ids(void)
{
    bool all = true;

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        all &= info->id == (AioParamId)id &&
               aio_param_find(info->name) == info &&
               info->min <= info->default_value &&
               info->default_value <= info->max;
    }
    ok(all, "each entry is found by its name and its default is in range");
    ok(aio_param_find("poll-max") == NULL, "an unknown name finds nothing");
}

/* Each parameter at each of its bounds (the pool min only where no live
 * pool would start INT_MAX workers: checked, not applied). */
static void test_bounds_read_back_exactly(void)
{
    AioContext *ctx = test_context_new();
    bool all = true;

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        int64_t ends[2] = { info->min, info->max };
        for (int e = 0; e < 2; e++) {
            AioParams change = { 0 }, now;
            GError *err = NULL;
            if (id == AIO_PARAM_THREAD_POOL_MIN && ends[e] > 0) {
                continue;
            }
            aio_params_set(&change, id, ends[e]);
            if (!aio_context_set_params(ctx, &change, &err)) {
                diag("%s = %" PRId64 ": %s", info->name, ends[e],
                     err->message);
                g_clear_error(&err);
                all = false;
                continue;
            }
            aio_context_get_params(ctx, &now);
            all &= aio_params_get(&now, id) == ends[e];
        }
    }
    ok(all, "every parameter accepts its bounds and reads them back");
    aio_context_unref(ctx);
}

static void test_pool_min_int_max_passes_check(void)
{
    AioParams p = { 0 };

    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MIN, INT_MAX);
    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MAX, INT_MAX);
    ok(aio_params_check(&p, NULL), "thread-pool-min = max = INT_MAX is valid");
}

/* Every bad value alone: refused with QEMU's text, AIO_ERROR_INVALID. */
static void test_bad_value_gives_qemu_text(void)
{
    AioContext *ctx = test_context_new();

    for (size_t i = 0; i < G_N_ELEMENTS(bad_values); i++) {
        const Bad *b = &bad_values[i];
        AioParams change = { 0 };
        GError *err = NULL;

        aio_params_set(&change, b->id, b->value);
        ok(!aio_context_set_params(ctx, &change, &err) &&
           g_error_matches(err, AIO_ERROR, AIO_ERROR_INVALID) &&
           strcmp(err->message, b->message) == 0,
           "%s = %" PRId64 " refused: \"%s\"", aio_param_info(b->id)->name,
           b->value, err ? err->message : "(accepted)");
        g_clear_error(&err);
    }
    aio_context_unref(ctx);
}

/* Every (valid member, invalid member) pair: nothing changes. */
static void test_refused_pair_changes_nothing(void)
{
    AioContext *ctx = test_context_new();
    int pairs = 0, changed = 0;
    AioParams before;

    aio_context_get_params(ctx, &before);
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        for (size_t i = 0; i < G_N_ELEMENTS(bad_values); i++) {
            AioParams change = { 0 }, now;
            if (bad_values[i].id == (AioParamId)id) {
                continue;
            }
            aio_params_set(&change, id, valid_value(id));
            aio_params_set(&change, bad_values[i].id, bad_values[i].value);
            changed += aio_context_set_params(ctx, &change, NULL);
            aio_context_get_params(ctx, &now);
            changed += !params_equal(&before, &now);
            pairs++;
        }
    }
    ok(pairs == (AIO_PARAM_COUNT - 1) * (int)G_N_ELEMENTS(bad_values) &&
       changed == 0,
       "%d (valid, invalid) pairs refused, no value changed", pairs);
    aio_context_unref(ctx);
}

/* min > max, given together or against the current value. */
static void test_pool_min_above_max_refused(void)
{
    AioContext *ctx = test_context_new();
    AioParams before, now, change = { 0 };
    GError *err = NULL;

    aio_context_get_params(ctx, &before);
    aio_params_set(&change, AIO_PARAM_THREAD_POOL_MIN, 5);
    aio_params_set(&change, AIO_PARAM_THREAD_POOL_MAX, 4);
    ok(!aio_context_set_params(ctx, &change, &err) && err &&
       strcmp(err->message, pool_error) == 0, "min 5 > max 4 refused: %s",
       err ? err->message : "(accepted)");
    g_clear_error(&err);

    AioParams alone = { 0 };
    aio_params_set(&alone, AIO_PARAM_THREAD_POOL_MIN, 65);
    ok(!aio_context_set_params(ctx, &alone, NULL),
       "min 65 alone refused against the current max 64");
    aio_context_get_params(ctx, &now);
    ok(params_equal(&before, &now), "nothing changed");
    aio_context_unref(ctx);
}

static void test_zero_reads_back_as_set(void)
{
    AioContext *ctx = test_context_new();
    AioParams change = { 0 }, now;

    aio_params_set(&change, AIO_PARAM_AIO_MAX_BATCH, 0);
    aio_params_set(&change, AIO_PARAM_POLL_GROW, 0);
    ok(aio_context_set_params(ctx, &change, NULL), "aio-max-batch 0 accepted");
    aio_context_get_params(ctx, &now);
    ok(now.aio_max_batch == 0 && now.poll_grow == 0, "0 reads back as 0");
    is_int(aio_params_effective(&now, AIO_PARAM_AIO_MAX_BATCH),
           aio_param_info(AIO_PARAM_AIO_MAX_BATCH)->zero_means,
           "aio-max-batch 0 is the engine default in effect");
    is_int(aio_params_effective(&now, AIO_PARAM_POLL_GROW), 2,
           "poll-grow 0 is x2 in effect");
    aio_context_unref(ctx);
}

static void test_nonzero_is_its_own_effective_value(void)
{
    AioParams p;

    aio_params_init_default(&p);
    aio_params_set(&p, AIO_PARAM_AIO_MAX_BATCH, 7);
    is_int(aio_params_effective(&p, AIO_PARAM_AIO_MAX_BATCH), 7,
           "aio-max-batch 7 is 7 in effect");
}

static void test_shorthand_refused_whole(void)
{
    AioContext *ctx = test_context_new();
    int64_t m, g, s;

    ok(aio_context_set_poll_params(ctx, 32768, 4, 3, NULL),
       "poll shorthand accepted");
    ok(!aio_context_set_poll_params(ctx, 1000, 2, -3, NULL),
       "poll shorthand with a negative shrink refused");
    aio_context_get_poll_params(ctx, &m, &g, &s);
    ok(m == 32768 && g == 4 && s == 3,
       "its valid members were not stored (%" PRId64 "/%" PRId64 "/%" PRId64
       ")", m, g, s);
    aio_context_unref(ctx);
}

int main(void)
{
    test_new_context_has_initial_values();
    test_table_names_and_ids();
    test_bounds_read_back_exactly();
    test_pool_min_int_max_passes_check();
    test_bad_value_gives_qemu_text();
    test_refused_pair_changes_nothing();
    test_pool_min_above_max_refused();
    test_zero_reads_back_as_set();
    test_nonzero_is_its_own_effective_value();
    test_shorthand_refused_whole();
    return done_testing();
}
