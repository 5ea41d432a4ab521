/*
 * Timers: one sorted list per clock per context, ns resolution.  Only the
 * home thread touches the lists (see aio.h); the loop reads a clock only
 * when a list is non-empty, so timer-less contexts pay nothing.
 */
#include "core/aio-internal.h"

#include <time.h>

static const clockid_t clock_ids[AIO_CLOCK_MAX] = {
    [AIO_CLOCK_MONOTONIC] = CLOCK_MONOTONIC,
    [AIO_CLOCK_REALTIME] = CLOCK_REALTIME,
};

int64_t aio_clock_get_ns(AioClockType type)
{
    struct timespec ts;

    clock_gettime(clock_ids[type], &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void aio_timer_init_full(AioContext *ctx, AioTimer *ts, AioClockType type,
                         int scale, AioTimerCB *cb, void *opaque,
                         const char *name)
{
    *ts = (AioTimer){
        .expire_time = -1,
        .list = &ctx->tlg[type],
        .cb = cb,
        .opaque = opaque,
        .scale = scale,
        .name = name,
    };
}

AioTimer *aio_timer_new_full(AioContext *ctx, AioClockType type, int scale,
                             AioTimerCB *cb, void *opaque, const char *name)
{
    AioTimer *ts = g_new(AioTimer, 1);

    aio_timer_init_full(ctx, ts, type, scale, cb, opaque, name);
    return ts;
}

static void timer_unlink(AioTimer *ts)
{
    AioTimer **pt = &ts->list->active;

    while (*pt) {
        if (*pt == ts) {
            *pt = ts->next;
            break;
        }
        pt = &(*pt)->next;
    }
    ts->expire_time = -1;
    ts->next = NULL;
}

void aio_timer_del(AioTimer *ts)
{
    if (ts->expire_time >= 0) {
        timer_unlink(ts);
    }
}

void aio_timer_mod_ns(AioTimer *ts, int64_t expire_time_ns)
{
    AioTimerList *tl = ts->list;
    AioTimer **pt = &tl->active;

    aio_timer_del(ts);
    if (expire_time_ns < 0) {
        expire_time_ns = 0;
    }
    /* Equal deadlines keep their arming order. */
    while (*pt && (*pt)->expire_time <= expire_time_ns) {
        pt = &(*pt)->next;
    }
    ts->expire_time = expire_time_ns;
    ts->next = *pt;
    *pt = ts;
    if (pt == &tl->active) {
        /* A new earliest deadline: a wait computed before it must end. */
        aio_notify(tl->ctx);
    }
}

void aio_timer_mod(AioTimer *ts, int64_t expire_time)
{
    int64_t ns;

    if (__builtin_mul_overflow(expire_time, (int64_t)ts->scale, &ns)) {
        ns = INT64_MAX;
    }
    aio_timer_mod_ns(ts, ns);
}

bool aio_timer_pending(const AioTimer *ts)
{
    return ts->expire_time >= 0;
}

int64_t aio_timer_expire_time_ns(const AioTimer *ts)
{
    return ts->expire_time;
}

void aio_timer_free(AioTimer *ts)
{
    if (ts) {
        aio_timer_del(ts);
        g_free(ts);
    }
}

/* Run @ts's callback, accounted under its name.  The timer may be freed
 * by its callback: nothing of it is touched after the call. */
static void timer_call(AioContext *ctx, AioTimer *ts)
{
    AioCallFrame frame;
    bool begun = aio_call_begin(&ctx->calls, ctx->last_block_ns != 0,
                                AIO_CALL_TIMER, ts->name, &ts->call_entry,
                                &frame);

    ts->cb(ts->opaque);
    aio_call_end(&ctx->calls, begun, &frame);
}

bool aio_timerlists_run_expired(AioContext *ctx)
{
    uint64_t calls = 0;

    for (int type = 0; type < AIO_CLOCK_MAX; type++) {
        AioTimerList *tl = &ctx->tlg[type];
        int64_t now;

        if (!tl->active) {
            continue;
        }
        now = aio_clock_get_ns(type);
        /* Run only the timers expired on entry: a callback that re-arms
         * itself for "now" runs again in the next aio_poll(), not in an
         * endless loop here. */
        unsigned budget = 0;
        for (AioTimer *ts = tl->active; ts && ts->expire_time <= now;
             ts = ts->next) {
            budget++;
        }
        while (budget-- > 0 && tl->active && tl->active->expire_time <= now) {
            AioTimer *ts = tl->active;

            tl->active = ts->next;
            ts->next = NULL;
            ts->expire_time = -1;
            calls++;
            timer_call(ctx, ts);
        }
    }
    if (calls) {
        AIO_STAT_ADD(ctx, timer_calls, calls);
    }
    return calls > 0;
}

int64_t aio_timerlists_deadline_ns(AioContext *ctx)
{
    int64_t deadline = -1;

    for (int type = 0; type < AIO_CLOCK_MAX; type++) {
        AioTimer *first = ctx->tlg[type].active;
        int64_t delta;

        if (!first) {
            continue;
        }
        delta = first->expire_time - aio_clock_get_ns(type);
        if (delta <= 0) {
            return 0;
        }
        if (deadline < 0 || delta < deadline) {
            deadline = delta;
        }
    }
    return deadline;
}
