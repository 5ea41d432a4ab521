/*
 * The parameter table of a context and the one way to change parameters:
 * aio_context_set_params(), all or nothing.  See "Parameters" in aio.h.
 *
 * Ranges and error texts are QEMU 7.2's (iothread and main-loop objects):
 * every parameter is a non-negative int64 at the property level; the pool
 * sizes are further bounded to int (thread-pool-max >= 1) and judged as a
 * pair.  Unlike QEMU, a refused set stores nothing.
 */
#include "core/aio-internal.h"

#include <limits.h>
#include <string.h>

#define PARAM(field) offsetof(AioParams, field)

/* QEMU's text for any refused pool size or pair. */
static const char pool_error[] = "bad thread-pool-min/thread-pool-max values";

/* poll-mode's values, in AioPollMode order. */
static const char *const poll_mode_values[] = { "fixed", "auto", NULL };

static const AioParamInfo param_table[AIO_PARAM_COUNT] = {
    [AIO_PARAM_POLL_MAX_NS] = {
        .id = AIO_PARAM_POLL_MAX_NS, .name = "poll-max-ns",
        .offset = PARAM(poll_max_ns),
        /* An iothread polls by default (QEMU's iothread default); a bare
         * context does not until asked, like QEMU's aio_context_new. */
        .default_value = 32768, .context_initial = 0,
        .min = 0, .max = INT64_MAX,
        .doc = "Longest busy-poll window in ns; 0 disables polling.",
    },
    [AIO_PARAM_POLL_GROW] = {
        .id = AIO_PARAM_POLL_GROW, .name = "poll-grow",
        .offset = PARAM(poll_grow),
        .min = 0, .max = INT64_MAX, .zero_means = 2,
        .doc = "Factor the poll window grows by; 0 means 2.",
    },
    [AIO_PARAM_POLL_SHRINK] = {
        .id = AIO_PARAM_POLL_SHRINK, .name = "poll-shrink",
        .offset = PARAM(poll_shrink),
        .min = 0, .max = INT64_MAX,
        .doc = "Divisor the poll window shrinks by; 0 resets it to 0.",
    },
    [AIO_PARAM_AIO_MAX_BATCH] = {
        .id = AIO_PARAM_AIO_MAX_BATCH, .name = "aio-max-batch",
        .offset = PARAM(aio_max_batch),
        .min = 0, .max = INT64_MAX,
        .zero_means = AIO_DISK_DEFAULT_MAX_BATCH, .main_loop = true,
        .doc = "Largest batch a disk engine submits at once; 0 means the "
               "engine default.",
    },
    [AIO_PARAM_THREAD_POOL_MIN] = {
        .id = AIO_PARAM_THREAD_POOL_MIN, .name = "thread-pool-min",
        .offset = PARAM(thread_pool_min),
        .min = 0, .max = INT_MAX, .main_loop = true,
        .doc = "Pool workers kept alive: created at once, never reaped "
               "below this.",
    },
    [AIO_PARAM_THREAD_POOL_MAX] = {
        .id = AIO_PARAM_THREAD_POOL_MAX, .name = "thread-pool-max",
        .offset = PARAM(thread_pool_max),
        .default_value = THREAD_POOL_DEFAULT_MAX,
        .context_initial = THREAD_POOL_DEFAULT_MAX,
        .min = 1, .max = INT_MAX, .main_loop = true,
        .doc = "Most pool workers, a cap: workers are created on demand.",
    },
    [AIO_PARAM_POLL_MODE] = {
        .id = AIO_PARAM_POLL_MODE, .name = "poll-mode",
        .offset = PARAM(poll_mode),
        /* An iothread polls only while polling pays (README "poll-mode"
         * gives the measurements); a bare context keeps QEMU's semantics
         * (and does not poll until asked: poll-max-ns 0). */
        .default_value = AIO_POLL_MODE_AUTO,
        .context_initial = AIO_POLL_MODE_FIXED,
        .min = AIO_POLL_MODE_FIXED, .max = AIO_POLL_MODE_AUTO,
        .values = poll_mode_values,
        .doc = "Who decides to busy-poll: fixed polls whenever the learnt "
               "window is above 0 (QEMU); auto skips the window while "
               "polling costs more CPU than the waiting it spares.",
    },
    [AIO_PARAM_STALL_THRESHOLD_NS] = {
        .id = AIO_PARAM_STALL_THRESHOLD_NS, .name = "stall-threshold-ns",
        .offset = PARAM(stall_threshold_ns),
        /* 100 ms: a loop callback should take microseconds; one that takes
         * 100 ms delays every request of its iothread (and a live property
         * change) by a human-visible amount, yet a busy machine does not
         * preempt a thread that long, so a report is a real stall.  A bare
         * context has no watchdog: off, like polling. */
        .default_value = 100000000, .context_initial = 0,
        .min = 0, .max = INT64_MAX,
        .doc = "A callback that runs longer than this many ns is a stall "
               "(event IOTHREAD_STALL, stats counter stalls); 0 disables "
               "stall detection.",
    },
    [AIO_PARAM_STATS_DETAIL] = {
        .id = AIO_PARAM_STATS_DETAIL, .name = "stats-detail",
        .offset = PARAM(stats_detail),
        .min = 0, .max = 1,
        .doc = "1 counts and times callbacks per kind and name "
               "(query-iothread-stats detail); 0 turns that off.",
    },
};

const AioParamInfo *aio_param_info(AioParamId id)
{
    g_return_val_if_fail((unsigned)id < AIO_PARAM_COUNT, NULL);
    return &param_table[id];
}

const AioParamInfo *aio_param_find(const char *name)
{
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        if (strcmp(param_table[id].name, name) == 0) {
            return &param_table[id];
        }
    }
    return NULL;
}

const char *aio_param_value_name(const AioParamInfo *info, int64_t value)
{
    if (!info->values || value < info->min || value > info->max) {
        return NULL;
    }
    return info->values[value];
}

bool aio_param_value_parse(const AioParamInfo *info, const char *name,
                           int64_t *value)
{
    for (int64_t v = 0; info->values && info->values[v]; v++) {
        if (strcmp(info->values[v], name) == 0) {
            *value = v;
            return true;
        }
    }
    return false;
}

static int64_t *param_field(AioParams *p, AioParamId id)
{
    return (int64_t *)((char *)p + aio_param_info(id)->offset);
}

int64_t aio_params_get(const AioParams *p, AioParamId id)
{
    return *param_field((AioParams *)p, id);
}

void aio_params_set(AioParams *p, AioParamId id, int64_t value)
{
    *param_field(p, id) = value;
    p->mask |= AIO_PARAM_BIT(id);
}

void aio_params_init_default(AioParams *p)
{
    memset(p, 0, sizeof(*p));
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        aio_params_set(p, id, param_table[id].default_value);
    }
}

void aio_params_merge(AioParams *base, const AioParams *changes)
{
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        if (changes->mask & AIO_PARAM_BIT(id)) {
            aio_params_set(base, id, aio_params_get(changes, id));
        }
    }
}

int64_t aio_params_effective(const AioParams *p, AioParamId id)
{
    int64_t v = aio_params_get(p, id);

    return v == 0 && param_table[id].zero_means ? param_table[id].zero_means
                                                : v;
}

/* An enum value out of range (only the C API can give one: the layers
 * above parse names). */
static bool param_check_enum(const AioParamInfo *info, int64_t v,
                             GError **error)
{
    if (v >= info->min && v <= info->max) {
        return true;
    }
    g_autofree char *names = g_strjoinv(", ", (char **)info->values);
    g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                "%s value must be one of: %s", info->name, names);
    return false;
}

/* One given value against its entry. */
static bool param_check_one(const AioParamInfo *info, int64_t v,
                            GError **error)
{
    if (info->values) {
        return param_check_enum(info, v, error);
    }
    if (v < 0) {
        /* QEMU's property-level check, the same for every parameter. */
        g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                    "%s value must be in range [0, %" G_GINT64_FORMAT "]",
                    info->name, INT64_MAX);
        return false;
    }
    if (v < info->min || v > info->max) {
        if (info->id == AIO_PARAM_THREAD_POOL_MIN ||
            info->id == AIO_PARAM_THREAD_POOL_MAX) {
            g_set_error_literal(error, AIO_ERROR, AIO_ERROR_INVALID,
                                pool_error);
        } else {
            g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                        "%s value must be in range [%" G_GINT64_FORMAT ", %"
                        G_GINT64_FORMAT "]", info->name, info->min, info->max);
        }
        return false;
    }
    return true;
}

bool aio_params_check(const AioParams *p, GError **error)
{
    const unsigned pool = AIO_PARAM_BIT(AIO_PARAM_THREAD_POOL_MIN) |
                          AIO_PARAM_BIT(AIO_PARAM_THREAD_POOL_MAX);

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        if ((p->mask & AIO_PARAM_BIT(id)) &&
            !param_check_one(&param_table[id], aio_params_get(p, id), error)) {
            return false;
        }
    }
    if ((p->mask & pool) == pool && p->thread_pool_min > p->thread_pool_max) {
        g_set_error_literal(error, AIO_ERROR, AIO_ERROR_INVALID, pool_error);
        return false;
    }
    return true;
}

void aio_context_init_params(AioContext *ctx)
{
    memset(&ctx->params, 0, sizeof(ctx->params));
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        aio_params_set(&ctx->params, id, param_table[id].context_initial);
    }
    aio_call_state_apply_params(&ctx->calls, &ctx->params);
}

void aio_context_get_params(AioContext *ctx, AioParams *out)
{
    *out = ctx->params;
}

int64_t aio_context_max_batch(AioContext *ctx)
{
    return aio_params_effective(&ctx->params, AIO_PARAM_AIO_MAX_BATCH);
}

/* A lower poll-max-ns cuts the handlers' windows; 0 empties the poll set. */
static void apply_poll_max_ns(AioContext *ctx, int64_t max_ns)
{
    AioHandler *node;

    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        if (node->poll.ns > max_ns) {
            node->poll.ns = max_ns;
            ctx->poll_windows_dirty = true;
        }
    }
    if (max_ns == 0) {
        while ((node = LIST_FIRST(&ctx->poll_aio_handlers))) {
            LIST_REMOVE(node, node_poll);
            node->on_poll_list = false;
        }
        ctx->poll_windows_dirty = true;
        AIO_STAT_SET(ctx, poll_ns_current, 0);
    }
}

bool aio_context_set_params(AioContext *ctx, const AioParams *changes,
                            GError **error)
{
    const unsigned pool = AIO_PARAM_BIT(AIO_PARAM_THREAD_POOL_MIN) |
                          AIO_PARAM_BIT(AIO_PARAM_THREAD_POOL_MAX);
    AioParams wanted = ctx->params;

    aio_params_merge(&wanted, changes);
    if (!aio_params_check(&wanted, error)) {
        return false;
    }
    if ((changes->mask & AIO_PARAM_BIT(AIO_PARAM_POLL_MODE)) &&
        wanted.poll_mode != ctx->params.poll_mode) {
        aio_poll_governor_reset(ctx);
    }
    ctx->params = wanted;
    aio_call_state_apply_params(&ctx->calls, &wanted);
    if (changes->mask & AIO_PARAM_BIT(AIO_PARAM_POLL_MAX_NS)) {
        apply_poll_max_ns(ctx, wanted.poll_max_ns);
    }
    if (changes->mask & pool) {
        aio_context_apply_thread_pool_params(ctx);
    }
    aio_notify(ctx);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Shorthands                                                              */

bool aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink, GError **error)
{
    AioParams p = { 0 };

    aio_params_set(&p, AIO_PARAM_POLL_MAX_NS, max_ns);
    aio_params_set(&p, AIO_PARAM_POLL_GROW, grow);
    aio_params_set(&p, AIO_PARAM_POLL_SHRINK, shrink);
    return aio_context_set_params(ctx, &p, error);
}

void aio_context_get_poll_params(AioContext *ctx, int64_t *max_ns,
                                 int64_t *grow, int64_t *shrink)
{
    if (max_ns) {
        *max_ns = ctx->params.poll_max_ns;
    }
    if (grow) {
        *grow = ctx->params.poll_grow;
    }
    if (shrink) {
        *shrink = ctx->params.poll_shrink;
    }
}

bool aio_context_set_aio_params(AioContext *ctx, int64_t max_batch,
                                GError **error)
{
    AioParams p = { 0 };

    aio_params_set(&p, AIO_PARAM_AIO_MAX_BATCH, max_batch);
    return aio_context_set_params(ctx, &p, error);
}

int64_t aio_context_get_aio_max_batch(AioContext *ctx)
{
    return ctx->params.aio_max_batch;
}

bool aio_context_set_thread_pool_params(AioContext *ctx, int64_t min,
                                        int64_t max, GError **error)
{
    AioParams p = { 0 };

    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MIN, min);
    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MAX, max);
    return aio_context_set_params(ctx, &p, error);
}

void aio_context_get_thread_pool_params(AioContext *ctx, int64_t *min,
                                        int64_t *max)
{
    if (min) {
        *min = ctx->params.thread_pool_min;
    }
    if (max) {
        *max = ctx->params.thread_pool_max;
    }
}
