/*
 * test-params: context parameters are validated whole.  Valid poll and
 * batch parameters are stored as given; a negative value is refused with
 * an AIO_ERROR_INVALID GError naming the parameter, and nothing changes
 * (not even the valid members of the same call).
 */
#include "aio-test.h"

static void check_poll(AioContext *ctx, int64_t max, int64_t grow,
                       int64_t shrink, const char *what)
{
    int64_t m, g, s;
    aio_context_get_poll_params(ctx, &m, &g, &s);
    ok(m == max && g == grow && s == shrink,
       "%s: poll params are %" PRId64 "/%" PRId64 "/%" PRId64
       " (got %" PRId64 "/%" PRId64 "/%" PRId64 ")",
       what, max, grow, shrink, m, g, s);
}

static void refuse_poll(AioContext *ctx, int64_t max, int64_t grow,
                        int64_t shrink, const char *param)
{
    GError *err = NULL;
    bool r = aio_context_set_poll_params(ctx, max, grow, shrink, &err);
    ok(!r && err, "negative %s refused", param);
    if (err) {
        ok(err->domain == AIO_ERROR && err->code == AIO_ERROR_INVALID,
           "negative %s: AIO_ERROR_INVALID", param);
        ok(strstr(err->message, param) != NULL,
           "negative %s: message names it (\"%s\")", param, err->message);
        g_error_free(err);
    } else {
        skip(2, "no error returned");
    }
    check_poll(ctx, 32768, 4, 3, "after a refused set");
}

int main(void)
{
    AioContext *ctx = test_context_new();
    GError *err = NULL;

    ok(aio_context_set_poll_params(ctx, 32768, 4, 3, &err) && !err,
       "valid poll params accepted");
    check_poll(ctx, 32768, 4, 3, "after a valid set");

    refuse_poll(ctx, -1, 2, 2, "max");
    refuse_poll(ctx, 1000, -2, 2, "grow");
    refuse_poll(ctx, 1000, 2, -3, "shrink");
    refuse_poll(ctx, INT64_MIN, 0, 0, "max");

    ok(aio_context_set_poll_params(ctx, 0, 0, 0, NULL),
       "zero (polling off, defaults) accepted without an error pointer");
    check_poll(ctx, 0, 0, 0, "after disabling");
    ok(!aio_context_set_poll_params(ctx, -5, 0, 0, NULL),
       "refused with a NULL error pointer too (no crash)");
    check_poll(ctx, 0, 0, 0, "after a refused set with NULL error");

    ok(aio_context_set_aio_params(ctx, 16, &err) && !err, "max_batch 16 set");
    is_int(aio_context_get_aio_max_batch(ctx), 16, "max_batch reads back");
    ok(!aio_context_set_aio_params(ctx, -1, &err) && err &&
       err->code == AIO_ERROR_INVALID, "negative max_batch refused");
    g_clear_error(&err);
    is_int(aio_context_get_aio_max_batch(ctx), 16, "max_batch unchanged");

    aio_context_unref(ctx);
    return done_testing();
}
