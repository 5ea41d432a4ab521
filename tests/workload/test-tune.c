/*
 * The tuner on the real daemon (iothread-tune, query-tune,
 * iothread-tune-cancel, IOTHREAD_TUNE_PROGRESS/DONE) with a bh-pingpong
 * workload on io0 and 0.2 s steps: a 3-value sweep finishes with one
 * progress event per value and a done event recommending one of them;
 * apply leaves it set, otherwise the original value is back; a second tune
 * of the iothread is refused naming the first; cancel restores the
 * original; deleting the workload mid-tune fails the tune with an event;
 * quit during a tune exits cleanly; bad arguments are refused and change
 * nothing.  No timing assertions:
 * every wait has a deadline that only guards against a hang.  Run once
 * per fdmon (AIO_FDMON, inherited by the daemon).  argv[1]: the daemon.
 */
#include <string.h>

#include "tap.h"
#include "workload-util.h"

#define SWEEP "\"values\": [0, 4096, 65536], \"step-seconds\": 0.2"
#define ORIGINAL 32768    /* io0's poll-max-ns: the iothread default */

typedef struct Fixture {
    TestDaemon *d;
    QmpClient *c;
} Fixture;

/* A daemon with a bh-pingpong workload "w0" running on io0. */
static bool fixture_start(Fixture *f)
{
    f->d = test_daemon_start(NULL);
    f->c = f->d ? test_connect(f->d) : NULL;
    if (!f->c || !qx_ok(f->c, "workload-add", "{\"id\": \"w0\", \"iothread\":"
                        " \"io0\", \"type\": \"bh-pingpong\"}") ||
        wait_ops_above(f->c, "w0", 0) <= 0) {
        diag("the daemon or its workload did not start");
        return false;
    }
    return true;
}

static void fixture_stop(Fixture *f)
{
    if (f->c) {
        qmp_client_free(f->c);
    }
    if (f->d) {
        test_daemon_free(f->d);
    }
}

static gint64 poll_max_ns(Fixture *f)
{
    return qom_get_int(f->c, "/objects/io0", "poll-max-ns");
}

static const char *ev_str(JsonNode *ev, const char *member)
{
    JsonObject *data = json_object_get_object_member(
        json_node_get_object(ev), "data");
    return json_object_get_string_member_with_default(data, member, "");
}

static gint64 ev_int(JsonNode *ev, const char *member)
{
    JsonObject *data = json_object_get_object_member(
        json_node_get_object(ev), "data");
    return json_object_get_int_member_with_default(data, member, -1);
}

/* Run the 3-value sweep to its end; the DONE event (caller unrefs), or
 * NULL.  *@progress counts the progress events, each checked to carry the
 * next value of the sweep. */
static JsonNode *run_sweep(Fixture *f, const char *extra, int *progress)
{
    static const gint64 values[] = { 0, 4096, 65536 };
    char *args = g_strdup_printf("{\"id\": \"io0\", \"workload\": \"w0\", "
                                 SWEEP "%s}", extra);
    bool started = qx_ok(f->c, "iothread-tune", args);

    g_free(args);
    *progress = 0;
    for (int i = 0; started && i < 3; i++) {
        JsonNode *ev = wait_event(f->c, "IOTHREAD_TUNE_PROGRESS",
                                  WORKLOAD_WAIT_MS);
        if (ev && ev_int(ev, "value") == values[i] &&
            ev_int(ev, "step") == i + 1 && ev_int(ev, "steps") == 3) {
            (*progress)++;
        }
        if (ev) {
            json_node_unref(ev);
        }
    }
    return started ? wait_event(f->c, "IOTHREAD_TUNE_DONE", WORKLOAD_WAIT_MS)
                   : NULL;
}

static bool is_swept_value(gint64 v)
{
    return v == 0 || v == 4096 || v == 65536;
}

static void test_sweep_recommends_one_value_and_restores(void)
{
    Fixture f = { 0 };
    int progress = 0;
    JsonNode *done = fixture_start(&f) ? run_sweep(&f, "", &progress) : NULL;

    is_int(progress, 3, "one progress event per value, in order");
    ok(done && !strcmp(ev_str(done, "state"), "done") &&
       is_swept_value(ev_int(done, "recommendation")) &&
       strstr(ev_str(done, "reason"), "poll-max-ns"),
       "IOTHREAD_TUNE_DONE: done, recommends a swept value, with a reason");
    is_int(poll_max_ns(&f), ORIGINAL, "without apply the original is back");
    if (done) {
        json_node_unref(done);
    }
    fixture_stop(&f);
}

static void test_apply_leaves_recommendation_in_effect(void)
{
    Fixture f = { 0 };
    int progress = 0;
    JsonNode *done = fixture_start(&f)
        ? run_sweep(&f, ", \"apply\": true", &progress) : NULL;
    gint64 rec = done ? ev_int(done, "recommendation") : -2;

    ok(done && is_swept_value(rec) &&
       json_object_get_boolean_member(json_object_get_object_member(
           json_node_get_object(done), "data"), "applied"),
       "apply: done, applied, recommends %" G_GINT64_FORMAT, rec);
    is_int(poll_max_ns(&f), rec, "qom-get shows the recommended value");
    if (done) {
        json_node_unref(done);
    }
    fixture_stop(&f);
}

/* query-tune's entry for io0 (new reference), or NULL. */
static JsonObject *query_tune_io0(Fixture *f)
{
    JsonNode *r = qx(f->c, "query-tune", "{\"id\": \"io0\"}", NULL, NULL);
    JsonObject *o = NULL;

    if (r && JSON_NODE_HOLDS_ARRAY(r) &&
        json_array_get_length(json_node_get_array(r)) == 1) {
        o = json_object_ref(
            json_array_get_object_element(json_node_get_array(r), 0));
    }
    if (r) {
        json_node_unref(r);
    }
    return o;
}

static void test_query_tune_keeps_results_table(void)
{
    Fixture f = { 0 };
    int progress = 0;
    JsonNode *done = fixture_start(&f) ? run_sweep(&f, "", &progress) : NULL;
    JsonObject *o = done ? query_tune_io0(&f) : NULL;
    JsonArray *results = o ? json_object_get_array_member(o, "results")
                           : NULL;

    ok(o && !strcmp(json_object_get_string_member(o, "state"), "done") &&
       json_object_get_int_member(o, "original") == ORIGINAL &&
       is_swept_value(json_object_get_int_member(o, "recommendation")),
       "query-tune: state done, the original value, the recommendation");
    ok(results && json_array_get_length(results) == 3 &&
       json_object_get_int_member(
           json_array_get_object_element(results, 2), "value") == 65536 &&
       json_object_get_int_member(
           json_array_get_object_element(results, 0), "ops") > 0,
       "query-tune: a row per value, in order, with the ops measured");
    if (o) {
        json_object_unref(o);
    }
    if (done) {
        json_node_unref(done);
    }
    fixture_stop(&f);
}

/* The fixture, and a tune of @values with 5 s steps: long enough to act
 * on while it runs (the test ends it, never waits for it). */
static bool start_long_tune(Fixture *f, const char *values)
{
    char *args = g_strdup_printf("{\"id\": \"io0\", \"workload\": \"w0\", "
                                 "\"values\": %s, \"step-seconds\": 5}",
                                 values);
    bool started = fixture_start(f) && qx_ok(f->c, "iothread-tune", args);

    g_free(args);
    return started;
}

static void test_second_tune_refused_naming_running_one(void)
{
    Fixture f = { 0 };
    bool started = start_long_tune(&f, "[0, 4096]");

    ok(started && qx_fails(f.c, "iothread-tune", "{\"id\": \"io0\", "
                           "\"workload\": \"w0\"}", "GenericError",
                           "already being tuned (poll-max-ns with workload "
                           "'w0'"),
       "a second tune of io0 is refused, naming the running one");
    ok(started && qx_ok(f.c, "iothread-tune-cancel", "{\"id\": \"io0\"}"),
       "the first is cancelled");
    fixture_stop(&f);
}

static void test_cancel_restores_original(void)
{
    Fixture f = { 0 };
    bool started = start_long_tune(&f, "[4096, 0]");

    /* The first value is set before iothread-tune returns. */
    is_int(started ? poll_max_ns(&f) : -2, 4096, "the sweep's first value "
           "is in effect while it runs");
    ok(started && qx_ok(f.c, "iothread-tune-cancel", "{\"id\": \"io0\"}"),
       "iothread-tune-cancel");
    JsonNode *done = started ? wait_event(f.c, "IOTHREAD_TUNE_DONE",
                                          WORKLOAD_WAIT_MS) : NULL;
    ok(done && !strcmp(ev_str(done, "state"), "cancelled") &&
       ev_int(done, "value") == ORIGINAL,
       "IOTHREAD_TUNE_DONE: cancelled, the original value");
    is_int(poll_max_ns(&f), ORIGINAL, "qom-get shows the original again");
    ok(qx_fails(f.c, "iothread-tune-cancel", "{\"id\": \"io0\"}",
                "GenericError", "no tune running"),
       "a second cancel is refused: nothing runs");
    if (done) {
        json_node_unref(done);
    }
    fixture_stop(&f);
}

static void test_workload_deleted_fails_tune(void)
{
    Fixture f = { 0 };
    bool started = start_long_tune(&f, "[4096, 0]") &&
        qx_ok(f.c, "workload-del", "{\"id\": \"w0\"}");
    JsonNode *done = started ? wait_event(f.c, "IOTHREAD_TUNE_DONE",
                                          WORKLOAD_WAIT_MS) : NULL;

    ok(done && !strcmp(ev_str(done, "state"), "failed") &&
       strstr(ev_str(done, "error"), "workload 'w0' was deleted"),
       "workload-del mid-tune: IOTHREAD_TUNE_DONE failed, naming it");
    is_int(poll_max_ns(&f), ORIGINAL, "the original value is restored");
    ok(qx_ok(f.c, "object-del", "{\"id\": \"io0\"}"),
       "the iothread can go afterwards");
    if (done) {
        json_node_unref(done);
    }
    fixture_stop(&f);
}

static void test_quit_with_tune_running_exits_cleanly(void)
{
    Fixture f = { 0 };
    bool started = start_long_tune(&f, "[4096, 0]");

    ok(started && qx_ok(f.c, "quit", NULL), "quit while a tune runs");
    is_int(started ? test_daemon_wait(f.d, WORKLOAD_WAIT_MS) : -2, 0,
           "the daemon exits 0 (the tune cancelled, the value restored "
           "without events)");
    fixture_stop(&f);
}

static void test_bad_arguments_refused_changing_nothing(void)
{
    static const struct {
        const char *args, *needle;
    } cases[] = {
        { "{\"id\": \"io9\", \"workload\": \"w0\"}", "Cannot find iothread" },
        { "{\"id\": \"io0\", \"workload\": \"nope\"}", "'nope' not found" },
        { "{\"id\": \"io1\", \"workload\": \"w0\"}",
          "runs on iothread 'io0', not 'io1'" },
        { "{\"id\": \"io0\", \"workload\": \"w0\", \"values\": [0, -1]}",
          "values[1] (-1)" },
        { "{\"id\": \"io0\", \"workload\": \"w0\", \"values\": []}",
          "1 to 64 values" },
        { "{\"id\": \"io0\", \"workload\": \"w0\", \"step-seconds\": 0.001}",
          "step-seconds" },
        { "{\"id\": \"io0\", \"workload\": \"w0\", \"parameter\": "
          "\"poll-grow\"}", "poll-grow" },
        { "{\"id\": \"io0\", \"workload\": \"w0\", \"parameter\": "
          "\"thread-pool-max\", \"values\": [0]}", "values[0] (0)" },
    };
    Fixture f = { 0 };
    bool up = fixture_start(&f);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        ok(up && qx_fails(f.c, "iothread-tune", cases[i].args,
                          "GenericError", cases[i].needle),
           "refused: %s", cases[i].args);
    }
    is_int(up ? poll_max_ns(&f) : -2, ORIGINAL, "poll-max-ns unchanged");
    JsonObject *o = up ? query_tune_io0(&f) : NULL;
    ok(up && !o, "no tune is listed");
    if (o) {
        json_object_unref(o);
    }
    fixture_stop(&f);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    test_sweep_recommends_one_value_and_restores();
    test_apply_leaves_recommendation_in_effect();
    test_query_tune_keeps_results_table();
    test_second_tune_refused_naming_running_one();
    test_cancel_restores_original();
    test_workload_deleted_fails_tune();
    test_quit_with_tune_running_exits_cleanly();
    test_bad_arguments_refused_changing_nothing();
    return done_testing();
}
