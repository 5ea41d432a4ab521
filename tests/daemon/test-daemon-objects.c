/*
 * Integration test: the real iothreadd on a temporary socket, managed over
 * QMP.  Objects with all properties read back three ways, live changes of
 * each property, atomic iothread-set, every refusal (duplicate and bad ids,
 * negative and out-of-range values, unknown type, unknown id, missing
 * path), thread-id against /proc, events seen by a second client, stats
 * that grow while the iothread works and restart at a reset.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "daemon-util.h"
#include "tap.h"

static TestDaemon *d;

/* @name's integer in @o.  A missing object or member is a failed check of
 * its own (a "not ok" line), and reads as G_MININT64, which no expected
 * value equals. */
static gint64 int_member(JsonObject *o, const char *name)
{
    if (o && json_object_has_member(o, name)) {
        return json_object_get_int_member(o, name);
    }
    ok(false, "the reply has an integer member '%s'", name);
    return G_MININT64;
}

static void test_add_all_properties(QmpClient *c)
{
    static const struct { const char *name; gint64 value; } props[] = {
        { "poll-max-ns", 1000 }, { "poll-grow", 3 }, { "poll-shrink", 4 },
        { "aio-max-batch", 16 }, { "thread-pool-min", 2 },
        { "thread-pool-max", 8 },
    };

    ok(qx_ok(c, "object-add",
             "{\"qom-type\": \"iothread\", \"id\": \"t1\", "
             "\"poll-max-ns\": 1000, \"poll-grow\": 3, \"poll-shrink\": 4, "
             "\"aio-max-batch\": 16, \"thread-pool-min\": 2, "
             "\"thread-pool-max\": 8}"), "object-add with all properties");
    JsonObject *info = find_iothread(c, "t1");
    ok(info != NULL, "query-iothreads lists t1");
    bool all_q = true, all_get = true;
    for (size_t i = 0; i < G_N_ELEMENTS(props); i++) {
        if (int_member(info, props[i].name) != props[i].value) {
            diag("query-iothreads %s = %" G_GINT64_FORMAT, props[i].name,
                 int_member(info, props[i].name));
            all_q = false;
        }
        if (qom_get_int(c, "/objects/t1", props[i].name) != props[i].value) {
            all_get = false;
        }
    }
    ok(all_q, "query-iothreads shows every property");
    ok(all_get, "qom-get reads every property back");
    ok(info && json_object_has_member(info, "backend") &&
       json_object_has_member(info, "poll-ns"), "backend and poll-ns present");

    JsonNode *list = qx(c, "qom-list", "{\"path\": \"/objects/t1\"}", NULL,
                        NULL);
    int found = 0;
    if (list && JSON_NODE_HOLDS_ARRAY(list)) {
        JsonArray *arr = json_node_get_array(list);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            const char *name = json_object_get_string_member(
                json_array_get_object_element(arr, i), "name");
            for (size_t j = 0; j < G_N_ELEMENTS(props); j++) {
                found += strcmp(name, props[j].name) == 0;
            }
            found += strcmp(name, "thread-id") == 0;
        }
    }
    is_int(found, 7, "qom-list /objects/t1 names the 6 properties + thread-id");
    if (list) {
        json_node_unref(list);
    }

    list = qx(c, "qom-list", "{\"path\": \"/objects\"}", NULL, NULL);
    char *text = list ? json_to_string(list, FALSE) : g_strdup("");
    ok(strstr(text, "\"t1\"") && strstr(text, "child<iothread>") &&
       strstr(text, "\"io0\""), "qom-list /objects lists the children");
    g_free(text);
    if (list) {
        json_node_unref(list);
    }

    /* The thread is real: /proc/<daemon>/task/<tid>/comm. */
    gint64 tid = int_member(info, "thread-id");
    char *path = g_strdup_printf("/proc/%d/task/%" G_GINT64_FORMAT "/comm",
                                 (int)d->pid, tid);
    char *comm = NULL;
    g_file_get_contents(path, &comm, NULL, NULL);
    ok(comm && strcmp(g_strchomp(comm), "IO t1") == 0,
       "thread-id %" G_GINT64_FORMAT " is the daemon's thread 'IO t1'", tid);
    is_int(qom_get_int(c, "/objects/t1", "thread-id"), tid,
           "qom-get thread-id agrees");
    g_free(path);
    g_free(comm);
    if (info) {
        json_object_unref(info);
    }
}

static void test_live_set(QmpClient *c)
{
    static const struct { const char *name; gint64 value; } props[] = {
        { "poll-max-ns", 0 }, { "poll-grow", 5 }, { "poll-shrink", 6 },
        { "aio-max-batch", 7 }, { "thread-pool-max", 9 },
        { "thread-pool-min", 9 },
    };
    bool all_ok = true;

    for (size_t i = 0; i < G_N_ELEMENTS(props); i++) {
        char *args = g_strdup_printf("{\"path\": \"/objects/t1\", "
                                     "\"property\": \"%s\", \"value\": %"
                                     G_GINT64_FORMAT "}",
                                     props[i].name, props[i].value);
        bool set = qx_ok(c, "qom-set", args);
        JsonObject *info = find_iothread(c, "t1");
        bool seen = int_member(info, props[i].name) == props[i].value;
        if (!set || !seen) {
            diag("qom-set %s: set %d seen %d", props[i].name, set, seen);
            all_ok = false;
        }
        g_free(args);
        if (info) {
            json_object_unref(info);
        }
    }
    ok(all_ok, "qom-set of each property is in effect at once");

    /* The context's own view: with polling off the loop reports no poll
     * time and never enters a poll window. */
    JsonObject *before = get_stats(c, "t1", false);
    int sets_ok = 0;
    for (int i = 0; i < 20; i++) {
        sets_ok += qx_ok(c, "qom-set", "{\"path\": \"/objects/t1\", "
                         "\"property\": \"poll-grow\", \"value\": 5}");
    }
    is_int(sets_ok, 20, "20 qom-set poll-grow succeeded");
    JsonObject *after = get_stats(c, "t1", false);
    JsonObject *info = find_iothread(c, "t1");
    ok(int_member(after, "poll-ns-current") == 0 &&
       int_member(info, "poll-ns") == 0,
       "poll-max-ns 0: the context's poll time is 0");
    is_int(int_member(after, "poll-attempts"),
           int_member(before, "poll-attempts"),
           "poll-max-ns 0: no poll window entered while working");
    ok(info && after &&
       g_strcmp0(json_object_get_string_member(info, "backend"),
                 json_object_get_string_member(after, "backend")) == 0,
       "query-iothreads backend is the context's");
    if (before) {
        json_object_unref(before);
    }
    if (after) {
        json_object_unref(after);
    }
    if (info) {
        json_object_unref(info);
    }
}

static void test_iothread_set(QmpClient *c)
{
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/t1\", \"property\": "
                "\"thread-pool-min\", \"value\": 100}", "GenericError",
                "thread-pool-min"),
       "qom-set thread-pool-min above max refused, named");
    is_int(qom_get_int(c, "/objects/t1", "thread-pool-min"), 9,
           "nothing changed");
    ok(qx_ok(c, "iothread-set", "{\"id\": \"t1\", \"thread-pool-min\": 100, "
             "\"thread-pool-max\": 200}"), "iothread-set min 100 max 200");
    JsonObject *info = find_iothread(c, "t1");
    ok(int_member(info, "thread-pool-min") == 100 &&
       int_member(info, "thread-pool-max") == 200, "both in effect");
    if (info) {
        json_object_unref(info);
    }
    ok(qx_ok(c, "iothread-set", "{\"id\": \"t1\", \"thread-pool-min\": 1, "
             "\"thread-pool-max\": 2, \"poll-max-ns\": 500}"),
       "iothread-set back down to 1/2 with poll-max-ns");
    info = find_iothread(c, "t1");
    ok(int_member(info, "thread-pool-min") == 1 &&
       int_member(info, "thread-pool-max") == 2 &&
       int_member(info, "poll-max-ns") == 500, "all three in effect");
    if (info) {
        json_object_unref(info);
    }
    ok(qx_fails(c, "iothread-set", "{\"id\": \"t1\", \"thread-pool-min\": 5, "
                "\"poll-max-ns\": 7}", "GenericError", "thread-pool-min"),
       "invalid combination refused whole");
    is_int(qom_get_int(c, "/objects/t1", "poll-max-ns"), 500,
           "the valid half was not applied");
    ok(qx_fails(c, "iothread-set", "{\"id\": \"nope\", \"poll-max-ns\": 1}",
                "GenericError", "nope"), "iothread-set unknown id");
    ok(qx_ok(c, "iothread-set", "{\"id\": \"main-loop\", "
             "\"thread-pool-min\": 2, \"thread-pool-max\": 3}") &&
       qom_get_int(c, "/objects/main-loop", "thread-pool-max") == 3,
       "iothread-set main-loop, read back with qom-get");
    ok(qx_fails(c, "iothread-set", "{\"id\": \"main-loop\", "
                "\"poll-max-ns\": 1}", "GenericError", "poll-max-ns"),
       "main-loop has no poll-max-ns");
}

static void test_refusals(QmpClient *c)
{
    ok(qx_fails(c, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"t1\"}",
                "GenericError", "duplicate"), "duplicate id");
    static const char *const bad_ids[] = { "0abc", "a b", "", "a/b", "-x",
                                           "x\\u00e9", NULL };
    bool all = true;
    for (int i = 0; bad_ids[i]; i++) {
        char *args = g_strdup_printf("{\"qom-type\": \"iothread\", "
                                     "\"id\": \"%s\"}", bad_ids[i]);
        all &= qx_fails(c, "object-add", args, "GenericError", "expects an identifier");
        g_free(args);
    }
    ok(all, "bad ids refused, with QEMU's text");
    ok(qx_fails(c, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"n1\", "
                "\"poll-max-ns\": -1}", "GenericError", "poll-max-ns"),
       "negative poll-max-ns refused");
    ok(qx_fails(c, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"n1\", "
                "\"thread-pool-max\": 2147483648}", "GenericError",
                "thread-pool-max"), "out-of-range thread-pool-max refused");
    ok(qx_fails(c, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"n1\", "
                "\"thread-pool-min\": 70}", "GenericError", "thread-pool-min"),
       "thread-pool-min above the default max refused");
    ok(iothread_absent(c, "n1"), "no n1 created by the refusals");
    ok(qx_fails(c, "object-add", "{\"qom-type\": \"memory-backend\", "
                "\"id\": \"m\"}", "GenericError", "qom-type"),
       "unknown qom-type");
    ok(qx_fails(c, "object-del", "{\"id\": \"nope\"}", "GenericError",
                "nope"), "object-del unknown id is GenericError");
    ok(qx_fails(c, "object-del", "{\"id\": \"main-loop\"}", "GenericError",
                "main-loop"), "main-loop cannot be deleted");
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/t1\", \"property\": "
                "\"poll-grow\", \"value\": -3}", "GenericError", "poll-grow"),
       "qom-set negative refused");
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/t1\", \"property\": "
                "\"poll-grow\", \"value\": \"3\"}", "GenericError", "integer"),
       "qom-set of a string refused");
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/t1\", \"property\": "
                "\"thread-id\", \"value\": 3}", "GenericError", "read-only"),
       "thread-id is read-only");
    ok(qx_fails(c, "qom-get", "{\"path\": \"/objects/t1\", \"property\": "
                "\"bogus\"}", "GenericError", "bogus"), "unknown property");

    ok(qx_fails(c, "qom-get", "{\"path\": \"/objects/x\", \"property\": "
                "\"poll-max-ns\"}", "DeviceNotFound",
                "Device '/objects/x' not found"), "qom-get missing path");
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/x\", \"property\": "
                "\"poll-max-ns\", \"value\": 1}", "DeviceNotFound",
                "/objects/x"), "qom-set missing path");
    ok(qx_fails(c, "qom-list", "{\"path\": \"/objects/x\"}",
                "DeviceNotFound", "/objects/x"), "qom-list missing path");
}

static void test_events(QmpClient *c)
{
    QmpClient *watcher = test_connect(d);
    JsonNode *ev;

    if (!ok(watcher != NULL, "second client connects")) {
        return;
    }
    qx_ok(c, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"ev1\"}");
    ev = wait_event(watcher, "OBJECT_ADDED", 5000);
    char *text = ev ? json_to_string(ev, FALSE) : g_strdup("(none)");
    ok(ev && strstr(text, "\"ev1\"") && strstr(text, "timestamp"),
       "OBJECT_ADDED seen by the other client: %s", text);
    g_free(text);
    if (ev) {
        json_node_unref(ev);
    }

    qx_ok(c, "iothread-set", "{\"id\": \"ev1\", \"poll-max-ns\": 123, "
                             "\"thread-pool-max\": 64}");
    ev = wait_event(watcher, "IOTHREAD_PROPERTY_CHANGED", 5000);
    JsonObject *data = ev ? json_object_get_object_member(
                                json_node_get_object(ev), "data") : NULL;
    ok(data && int_member(data, "poll-max-ns") == 123 &&
       !json_object_has_member(data, "thread-pool-max"),
       "IOTHREAD_PROPERTY_CHANGED carries only what changed");
    if (ev) {
        json_node_unref(ev);
    }

    qx_ok(c, "object-del", "{\"id\": \"ev1\"}");
    ev = wait_event(watcher, "OBJECT_DELETED", 5000);
    text = ev ? json_to_string(ev, FALSE) : g_strdup("(none)");
    ok(ev && strstr(text, "\"ev1\""), "OBJECT_DELETED seen: %s", text);
    g_free(text);
    if (ev) {
        json_node_unref(ev);
    }
    qmp_client_free(watcher);
}

static void test_stats(QmpClient *c)
{
    JsonObject *s0 = get_stats(c, "t1", false);
    for (int i = 0; i < 50; i++) {
        qx_ok(c, "iothread-set", "{\"id\": \"t1\", \"aio-max-batch\": 8}");
    }
    JsonObject *s1 = get_stats(c, "t1", true);
    ok(s0 && s1 && int_member(s1, "bh-calls") >= int_member(s0, "bh-calls") + 50,
       "bh-calls grew by the 50 changes applied in the iothread "
       "(%" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT ")",
       int_member(s0, "bh-calls"), int_member(s1, "bh-calls"));
    ok(int_member(s1, "iterations") > int_member(s0, "iterations"),
       "iterations grew");
    JsonObject *s2 = get_stats(c, "t1", false);
    ok(s2 && int_member(s2, "bh-calls") < 50,
       "after reset the counters restart (bh-calls %" G_GINT64_FORMAT ")",
       int_member(s2, "bh-calls"));
    JsonNode *all = qx(c, "query-iothread-stats", NULL, NULL, NULL);
    char *text = all ? json_to_string(all, FALSE) : g_strdup("");
    ok(strstr(text, "\"t1\"") && strstr(text, "\"main-loop\"") &&
       strstr(text, "\"io0\""), "all contexts listed without id");
    g_free(text);
    ok(qx_fails(c, "query-iothread-stats", "{\"id\": \"zz\"}", "GenericError",
                "zz"), "stats of an unknown id refused");
    for (JsonObject **p = (JsonObject *[]){ s0, s1, s2, NULL }; *p; p++) {
        json_object_unref(*p);
    }
    if (all) {
        json_node_unref(all);
    }
}

static void test_delete(QmpClient *c)
{
    gint64 tid = qom_get_int(c, "/objects/t1", "thread-id");
    ok(tid > 0, "t1's thread-id read before deletion (%" G_GINT64_FORMAT ")",
       tid);
    ok(qx_ok(c, "object-del", "{\"id\": \"t1\"}"), "object-del t1");
    char *path = g_strdup_printf("/proc/%d/task/%" G_GINT64_FORMAT,
                                 (int)d->pid, tid);
    ok(!g_file_test(path, G_FILE_TEST_EXISTS), "its thread is gone");
    g_free(path);
    ok(iothread_absent(c, "t1"), "no longer listed");
    ok(qx_fails(c, "qom-get", "{\"path\": \"/objects/t1\", \"property\": "
                "\"poll-max-ns\"}", "DeviceNotFound", "t1"),
       "its path is gone");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    d = test_daemon_start(NULL);
    if (!ok(d != NULL, "daemon starts")) {
        return done_testing();
    }
    QmpClient *c = test_connect(d);
    if (!ok(c != NULL, "client connects and negotiates")) {
        test_daemon_free(d);
        return done_testing();
    }
    test_add_all_properties(c);
    test_live_set(c);
    test_iothread_set(c);
    test_refusals(c);
    test_events(c);
    test_stats(c);
    test_delete(c);
    qmp_client_free(c);
    is_int(test_daemon_kill(d, SIGTERM), 0, "SIGTERM: exit status 0");
    test_daemon_free(d);
    return done_testing();
}
