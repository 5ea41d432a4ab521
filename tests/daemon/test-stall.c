/*
 * test-stall: stall detection and callback accounting on the real daemon
 * over QMP.
 *  - Without --enable-debug-commands the x-debug-* commands do not exist.
 *  - With it, a BH stuck on a pipe read (x-debug-stall) is reported by
 *    IOTHREAD_STALL with ongoing=true, kind bh, name x-debug-stall, while
 *    it is still stuck (the test releases it only after the event), and
 *    counted once in stats.stalls; once released, a second event with
 *    ongoing=false gives the duration.
 *  - query-iothread-stats detail=true lists the stalled BH under its name
 *    with its call, once stats-detail is 1; without detail there is no
 *    callbacks member.
 *  - Bad debug-command input is a GenericError naming the problem.
 * Waits are for events, with deadlines that only guard against hangs.
 */
#include <signal.h>
#include <string.h>

#include "daemon-util.h"
#include "tap.h"

#define EVENT_WAIT_MS 10000

static const char *const debug_args[] = {
    "--nodefaults", "--enable-debug-commands", "--object",
    "iothread,id=io0,stall-threshold-ns=20000000", NULL
};

static JsonObject *event_data(JsonNode *ev)
{
    return json_object_get_object_member(json_node_get_object(ev), "data");
}

static void test_debug_commands_absent_by_default(void)
{
    static const char *const args[] = { "--nodefaults", NULL };
    TestDaemon *d = test_daemon_start(args);
    QmpClient *c = d ? test_connect(d) : NULL;

    ok(c && qx_fails(c, "x-debug-stall", "{\"id\": \"io0\"}",
                     "CommandNotFound", NULL),
       "without --enable-debug-commands x-debug-stall is CommandNotFound");
    if (c) {
        qmp_client_free(c);
    }
    test_daemon_free(d);
}

/* Wait for IOTHREAD_STALL; check it names x-debug-stall of io0 with
 * @ongoing.  Returns its duration-ns (-1 when missing or wrong). */
static gint64 expect_stall_event(QmpClient *c, bool ongoing)
{
    JsonNode *ev = wait_event(c, "IOTHREAD_STALL", EVENT_WAIT_MS);
    gint64 duration = -1;

    if (!ev) {
        diag("no IOTHREAD_STALL within %d ms", EVENT_WAIT_MS);
        return -1;
    }
    JsonObject *data = event_data(ev);
    if (!g_strcmp0(json_object_get_string_member(data, "id"), "io0") &&
        !g_strcmp0(json_object_get_string_member(data, "kind"), "bh") &&
        !g_strcmp0(json_object_get_string_member(data, "name"),
                   "x-debug-stall") &&
        json_object_get_boolean_member(data, "ongoing") == ongoing &&
        json_object_get_int_member(data, "suppressed") == 0) {
        duration = json_object_get_int_member(data, "duration-ns");
    } else {
        diag("unexpected event data");
    }
    json_node_unref(ev);
    return duration;
}

static gint64 stalls_of(QmpClient *c)
{
    JsonObject *stats = get_stats(c, "io0", false);
    gint64 n = stats && json_object_has_member(stats, "stalls")
               ? json_object_get_int_member(stats, "stalls") : -1;

    if (stats) {
        json_object_unref(stats);
    }
    return n;
}

static void test_stuck_bh_reported_while_stuck(QmpClient *c)
{
    gint64 ongoing, final;

    ok(qx_ok(c, "x-debug-stall", "{\"id\": \"io0\"}"), "x-debug-stall io0");
    ongoing = expect_stall_event(c, true);
    ok(ongoing >= 20000000, "IOTHREAD_STALL ongoing=true for bh "
       "'x-debug-stall' arrived while it is stuck, after >= the threshold "
       "(%" G_GINT64_FORMAT " ns)", ongoing);
    is_int(stalls_of(c), 1, "stats.stalls counts it while it is stuck");
    ok(qx_ok(c, "x-debug-stall-release", "{\"id\": \"io0\"}"),
       "x-debug-stall-release io0");
    final = expect_stall_event(c, false);
    ok(final >= ongoing, "once released, IOTHREAD_STALL ongoing=false with "
       "its duration (%" G_GINT64_FORMAT " ns)", final);
    is_int(stalls_of(c), 1, "still one stall");
}

/* The callbacks entry of bh 'x-debug-stall' in io0's detail, or NULL. */
static JsonObject *find_stall_callback(JsonArray *callbacks)
{
    for (guint i = 0; callbacks && i < json_array_get_length(callbacks); i++) {
        JsonObject *cb = json_array_get_object_element(callbacks, i);
        if (!g_strcmp0(json_object_get_string_member(cb, "kind"), "bh") &&
            !g_strcmp0(json_object_get_string_member(cb, "name"),
                       "x-debug-stall")) {
            return cb;
        }
    }
    return NULL;
}

static void test_detail_lists_named_callback(QmpClient *c)
{
    JsonNode *r;

    qx_ok(c, "iothread-set", "{\"id\": \"io0\", \"stats-detail\": 1}");
    qx_ok(c, "x-debug-stall", "{\"id\": \"io0\"}");
    expect_stall_event(c, true);
    qx_ok(c, "x-debug-stall-release", "{\"id\": \"io0\"}");
    expect_stall_event(c, false);
    r = qx(c, "query-iothread-stats", "{\"id\": \"io0\", \"detail\": true}",
           NULL, NULL);
    JsonObject *info = r ? json_array_get_object_element(
                               json_node_get_array(r), 0) : NULL;
    JsonObject *cb = info && json_object_has_member(info, "callbacks")
        ? find_stall_callback(json_object_get_array_member(info, "callbacks"))
        : NULL;
    ok(cb && json_object_get_int_member(cb, "calls") == 1 &&
       json_object_get_int_member(cb, "timed-calls") == 1 &&
       json_object_get_int_member(cb, "max-ns") >= 20000000,
       "detail lists bh 'x-debug-stall': 1 call, timed, >= the stall");
    if (r) {
        json_node_unref(r);
    }
    r = qx(c, "query-iothread-stats", "{\"id\": \"io0\"}", NULL, NULL);
    info = r ? json_array_get_object_element(json_node_get_array(r), 0) : NULL;
    ok(info && !json_object_has_member(info, "callbacks"),
       "without detail there is no callbacks member");
    if (r) {
        json_node_unref(r);
    }
}

static void test_debug_command_bad_input(QmpClient *c)
{
    ok(qx_fails(c, "x-debug-stall", "{\"id\": \"nope\"}", "GenericError",
                "Cannot find iothread 'nope'"),
       "x-debug-stall of an unknown iothread names it");
    ok(qx_fails(c, "x-debug-stall-release", "{\"id\": \"io0\"}",
                "GenericError", "no pending x-debug-stall"),
       "x-debug-stall-release without a stall says so");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    test_debug_commands_absent_by_default();

    TestDaemon *d = test_daemon_start(debug_args);
    QmpClient *c = d ? test_connect(d) : NULL;
    if (!ok(c != NULL, "daemon with --enable-debug-commands is up")) {
        test_daemon_free(d);
        return done_testing();
    }
    test_stuck_bh_reported_while_stuck(c);
    test_debug_command_bad_input(c);
    /* Past the rate-limit interval, so the next stall is reported. */
    g_usleep(1100 * 1000);
    test_detail_lists_named_callback(c);
    qmp_client_free(c);
    is_int(test_daemon_kill(d, SIGTERM), 0, "the daemon exits 0");
    test_daemon_free(d);
    return done_testing();
}
