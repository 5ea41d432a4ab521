/*
 * The stall watchdog (see stall-events.h).
 */
#include "stall-events.h"

/* Sampling period while no iothread has a threshold. */
#define IDLE_PERIOD_NS 1000000000LL

struct StallWatchdog {
    ObjectRegistry *reg;
    QmpServer *server;
    AioTimer *timer;
};

static void emit_stall(StallWatchdog *w, IOThread *t, const StallReport *r)
{
    JsonObject *data = json_object_new();

    json_object_set_string_member(data, "id", iothread_get_id(t));
    json_object_set_string_member(data, "kind", aio_call_kind_name(r->kind));
    json_object_set_string_member(data, "name", r->name);
    json_object_set_int_member(data, "duration-ns", r->duration_ns);
    json_object_set_boolean_member(data, "ongoing", r->ongoing);
    json_object_set_int_member(data, "suppressed", r->suppressed);
    qmp_server_emit_event(w->server, "IOTHREAD_STALL", data);
}

/* Sample every iothread; returns the period the thresholds ask for. */
static int64_t sample_all(StallWatchdog *w, int64_t now)
{
    int64_t period = IDLE_PERIOD_NS;
    guint n;
    IOThread *const *all = object_registry_iothreads(w->reg, &n);

    for (guint i = 0; i < n; i++) {
        StallReport r;
        AioParams p;

        if (iothread_check_stall(all[i], now, &r)) {
            emit_stall(w, all[i], &r);
        }
        iothread_get_params(all[i], &p);
        if (p.stall_threshold_ns > 0 &&
            stall_watch_period_ns(p.stall_threshold_ns) < period) {
            period = stall_watch_period_ns(p.stall_threshold_ns);
        }
    }
    return period;
}

static void watchdog_tick(void *opaque)
{
    StallWatchdog *w = opaque;
    int64_t now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);

    aio_timer_mod_ns(w->timer, now + sample_all(w, now));
}

StallWatchdog *stall_watchdog_new(AioContext *ctx, ObjectRegistry *reg,
                                  QmpServer *server)
{
    StallWatchdog *w = g_new0(StallWatchdog, 1);

    w->reg = reg;
    w->server = server;
    w->timer = aio_timer_new_full(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                  watchdog_tick, w, "stall-watchdog");
    aio_timer_mod_ns(w->timer, aio_clock_get_ns(AIO_CLOCK_MONOTONIC));
    return w;
}

void stall_watchdog_free(StallWatchdog *w)
{
    if (w) {
        aio_timer_free(w->timer);
        g_free(w);
    }
}
