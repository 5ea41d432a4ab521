/*
 * test-daemon-stats: what query-iothread-stats and query-iothreads report
 * about time, latencies and effective values, over QMP on the real
 * daemon:
 *  - two reads: the busy + polling + blocked deltas add up to the
 *    wall-ns delta (within 2%), and the wall-ns delta lies between the
 *    client's shortest and longest possible interval between the reads;
 *  - an idle iothread reads >= 95% blocked;
 *  - the histograms are HistogramSummary objects; cross-thread wake-ups
 *    (iothread-set runs inside the iothread) are counted in
 *    wake-latency-ns, and reset restarts them from zero;
 *  - poll-window-ns: min <= median <= max, max the window in effect;
 *    effective has the pool's idle workers and queued jobs.
 * Intervals are waited for as conditions on the daemon's own figures,
 * with a deadline that only guards against a hang.
 */
#include "tap.h"
#include "daemon-util.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>

#define DEADLINE_US (20 * G_USEC_PER_SEC)
#define INTERVAL_NS (200LL * 1000 * 1000)

static gint64 member(JsonObject *o, const char *name)
{
    return o && json_object_has_member(o, name)
           ? json_object_get_int_member(o, name) : -1;
}

static JsonObject *sub(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* A read and the client's monotonic clock (µs) just before sending it
 * and just after its reply. */
typedef struct Read {
    JsonObject *stats;
    gint64 sent_us, received_us;
} Read;

static void read_stats(QmpClient *c, const char *id, Read *r)
{
    r->sent_us = g_get_monotonic_time();
    r->stats = get_stats(c, id, false);
    r->received_us = g_get_monotonic_time();
}

/* @b at least INTERVAL_NS of the iothread's wall time after @a. */
static bool read_interval(QmpClient *c, const char *id, Read *a, Read *b)
{
    gint64 deadline = g_get_monotonic_time() + DEADLINE_US;

    read_stats(c, id, a);
    for (;;) {
        g_usleep(10000);
        read_stats(c, id, b);
        if (member(b->stats, "wall-ns") >=
            member(a->stats, "wall-ns") + INTERVAL_NS ||
            g_get_monotonic_time() > deadline) {
            break;
        }
        json_object_unref(b->stats);
    }
    return member(a->stats, "wall-ns") > 0 &&
           member(b->stats, "wall-ns") >= member(a->stats, "wall-ns") +
                                          INTERVAL_NS;
}

static gint64 delta(const Read *a, const Read *b, const char *name)
{
    return member(b->stats, name) - member(a->stats, name);
}

static void test_time_deltas_add_up_to_wall(QmpClient *c)
{
    Read a, b;
    bool long_enough = read_interval(c, "io0", &a, &b);
    gint64 wall = delta(&a, &b, "wall-ns");
    gint64 sum = delta(&a, &b, "busy-ns") + delta(&a, &b, "polling-ns") +
                 delta(&a, &b, "blocked-ns");

    ok(long_enough, "two reads %" PRId64 " ns of wall-ns apart", wall);
    ok(llabs(sum - wall) <= wall / 50,
       "busy + polling + blocked deltas %" PRId64 " ns = wall-ns delta "
       "within 2%%", sum);
    /* The daemon read its figures somewhere inside each round trip. */
    ok(wall / 1000 >= b.sent_us - a.received_us - 1 &&
       wall / 1000 <= b.received_us - a.sent_us + 1,
       "wall-ns delta %" PRId64 " us lies within the client's interval "
       "[%" PRId64 ", %" PRId64 "] us", wall / 1000,
       b.sent_us - a.received_us, b.received_us - a.sent_us);
    ok(delta(&a, &b, "thread-cpu-ns") >= 0 &&
       delta(&a, &b, "thread-cpu-ns") <= wall + wall / 50,
       "thread-cpu-ns beside it: +%" PRId64 " ns", delta(&a, &b,
                                                         "thread-cpu-ns"));
    json_object_unref(a.stats);
    json_object_unref(b.stats);
}

static void test_idle_iothread_reads_blocked(QmpClient *c)
{
    Read a, b;
    bool long_enough = read_interval(c, "io1", &a, &b);
    double blocked = (double)delta(&a, &b, "blocked-ns") /
                     (double)delta(&a, &b, "wall-ns");

    ok(long_enough, "io1: two reads %" PRId64 " ns apart",
       delta(&a, &b, "wall-ns"));
    ok(blocked >= 0.95, "an idle iothread reads %.2f%% blocked (>= 95%%)",
       blocked * 100);
    json_object_unref(a.stats);
    json_object_unref(b.stats);
}

static bool is_summary(JsonObject *h)
{
    static const char *const names[] = {
        "count", "min", "p50", "p90", "p99", "p999", "max",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (member(h, names[i]) < 0) {
            return false;
        }
    }
    return member(h, "min") <= member(h, "p50") &&
           member(h, "p50") <= member(h, "p99") &&
           member(h, "p99") <= member(h, "max");
}

/* Until io0's loop is inside a wait: two reads with the same iteration
 * count and more blocked time (a wait in progress counts as blocked).  A
 * notify that reaches the loop before it waits again wakes nothing, so
 * a test that counts wake-ups waits for this (the deadline only guards a
 * hang). */
static void wait_io0_waiting(QmpClient *c)
{
    gint64 deadline = g_get_monotonic_time() + DEADLINE_US;
    JsonObject *a = get_stats(c, "io0", false), *b;

    for (;;) {
        b = get_stats(c, "io0", false);
        bool waiting = member(b, "iterations") == member(a, "iterations") &&
                       member(b, "blocked-ns") > member(a, "blocked-ns");
        json_object_unref(a);
        a = b;
        if (waiting || g_get_monotonic_time() > deadline) {
            break;
        }
    }
    json_object_unref(a);
}

/* iothread-set runs a BH inside the iothread: one cross-thread wake-up of
 * the waiting loop each.  Returns once io0 waits again: a pass's wake
 * latency and busy time are recorded when the pass ends (aio.h), which
 * may be just after iothread-set has answered. */
static void wake_io0(QmpClient *c, int times)
{
    for (int i = 0; i < times; i++) {
        wait_io0_waiting(c);
        qx_ok(c, "iothread-set", "{\"id\": \"io0\", \"poll-grow\": 2}");
    }
    wait_io0_waiting(c);
}

static void test_histograms_are_summaries(QmpClient *c)
{
    wake_io0(c, 5);
    JsonObject *s = get_stats(c, "io0", false);
    JsonObject *wake = sub(s, "wake-latency-ns");

    ok(is_summary(wake) && is_summary(sub(s, "iteration-ns")) &&
       is_summary(sub(s, "io-batch")),
       "wake-latency-ns, iteration-ns, io-batch are ordered "
       "HistogramSummary objects");
    ok(member(wake, "count") >= 5, "5 cross-thread wake-ups counted in "
       "wake-latency-ns (count %" PRId64 ", p99 %" PRId64 " ns)",
       member(wake, "count"), member(wake, "p99"));
    ok(member(sub(s, "iteration-ns"), "count") >= 5,
       "and their busy passes in iteration-ns (count %" PRId64 ")",
       member(sub(s, "iteration-ns"), "count"));
    if (s) {
        json_object_unref(s);
    }
}

static void test_reset_restarts_histograms(QmpClient *c)
{
    wake_io0(c, 3);
    JsonObject *before = get_stats(c, "io0", true);
    JsonObject *after = get_stats(c, "io0", false);

    ok(member(sub(before, "wake-latency-ns"), "count") >= 3,
       "the reset read still has the wake-ups (%" PRId64 ")",
       member(sub(before, "wake-latency-ns"), "count"));
    ok(member(sub(after, "wake-latency-ns"), "count") == 0 &&
       member(sub(after, "wake-latency-ns"), "max") == 0,
       "after reset, wake-latency-ns is empty again");
    wake_io0(c, 2);
    JsonObject *later = get_stats(c, "io0", false);
    is_int(member(sub(later, "wake-latency-ns"), "count"), 2,
           "and counts the 2 wake-ups since");
    ok(member(later, "wall-ns") < member(before, "wall-ns"),
       "wall-ns restarted too (%" PRId64 " < %" PRId64 ")",
       member(later, "wall-ns"), member(before, "wall-ns"));
    for (JsonObject **o = (JsonObject *[]){ before, after, later, NULL }; *o;
         o++) {
        json_object_unref(*o);
    }
}

static void test_poll_window_in_query_iothreads(QmpClient *c)
{
    wake_io0(c, 3);
    JsonObject *t = find_iothread(c, "io0");
    JsonObject *w = sub(t, "poll-window-ns");
    JsonObject *eff = sub(t, "effective");

    ok(w && member(w, "min") >= 0 && member(w, "min") <= member(w, "median")
       && member(w, "median") <= member(w, "max"),
       "poll-window-ns: min %" PRId64 " <= median %" PRId64 " <= max %" PRId64,
       member(w, "min"), member(w, "median"), member(w, "max"));
    is_int(member(w, "max"), member(eff, "poll-ns"),
           "its max is the window in effect (effective.poll-ns)");
    ok(member(eff, "pool-idle") >= 0 && member(eff, "pool-queued") >= 0 &&
       member(eff, "pool-idle") <= member(eff, "pool-threads"),
       "effective: pool-threads %" PRId64 ", pool-idle %" PRId64
       ", pool-queued %" PRId64, member(eff, "pool-threads"),
       member(eff, "pool-idle"), member(eff, "pool-queued"));
    if (t) {
        json_object_unref(t);
    }
}

int main(int argc, char **argv)
{
    static const char *const args[] = {
        "--nodefaults", "--object", "iothread,id=io0",
        "--object", "iothread,id=io1", NULL
    };

    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    TestDaemon *d = test_daemon_start(args);
    if (!ok(d != NULL, "daemon starts")) {
        return done_testing();
    }
    QmpClient *c = test_connect(d);
    if (c) {
        test_time_deltas_add_up_to_wall(c);
        test_idle_iothread_reads_blocked(c);
        test_histograms_are_summaries(c);
        test_reset_restarts_histograms(c);
        test_poll_window_in_query_iothreads(c);
        qmp_client_free(c);
    }
    ok(c != NULL, "client connected");
    is_int(test_daemon_kill(d, SIGTERM), 0, "SIGTERM: exit status 0");
    test_daemon_free(d);
    return done_testing();
}
