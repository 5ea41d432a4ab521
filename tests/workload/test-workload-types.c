/*
 * Workloads on the real daemon: each type (disk on every engine, bh and
 * fd ping-pong, timer) starts, reports counters that move, and stops
 * (its file closed); a runtime ends in WORKLOAD_FINISHED; an iothread a
 * workload uses cannot be deleted; quit and SIGTERM with workloads
 * running exit cleanly.  Run once per fdmon (AIO_FDMON, inherited by the
 * daemon).  argv[1]: the daemon binary.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "workload-util.h"

static TestDaemon *start_daemon(void)
{
    TestDaemon *d = test_daemon_start(NULL);
    if (!d) {
        diag("the daemon did not start");
    }
    return d;
}

/* Started, listed as running, its ops move and its latencies are
 * recorded; deleted, it is gone. */
static void check_runs_and_stops(QmpClient *c, const char *id,
                                 const char *args_json, const char *what)
{
    if (!ok(qx_ok(c, "workload-add", args_json), "%s: workload-add", what)) {
        return;
    }
    gint64 first = wait_ops_above(c, id, 0);
    gint64 later = first > 0 ? wait_ops_above(c, id, first) : -1;
    ok(first > 0 && later > first, "%s: ops move (%" G_GINT64_FORMAT
       " then %" G_GINT64_FORMAT ")", what, first, later);

    JsonObject *o = find_workload(c, id);
    JsonObject *lat = o ? json_object_get_object_member(o, "latency-ns") : NULL;
    ok(o && !strcmp(json_object_get_string_member(o, "state"), "running") &&
       lat && json_object_get_int_member(lat, "count") >= later &&
       json_object_get_int_member(lat, "max") >=
       json_object_get_int_member(lat, "p50") &&
       json_object_get_double_member(o, "cpu-interval") >= 0,
       "%s: running, its latencies recorded", what);
    if (o) {
        json_object_unref(o);
    }
    char *del = g_strdup_printf("{\"id\": \"%s\"}", id);
    ok(qx_ok(c, "workload-del", del) && workload_ops(c, id) < 0,
       "%s: workload-del removes it", what);
    g_free(del);
}

static void test_disk_engine(TestDaemon *d, QmpClient *c, const char *engine)
{
    char *path = g_strdup_printf("%s/disk-%s", d->dir, engine);
    char *args = g_strdup_printf(
        "{\"id\": \"d-%s\", \"iothread\": \"io0\", \"type\": \"disk\", "
        "\"filename\": \"%s\", \"create\": true, \"size\": 4194304, "
        "\"direct\": false, \"rw\": \"randrw\", \"iodepth\": 4, "
        "\"engine\": \"%s\"}", engine, path, engine);
    char *id = g_strdup_printf("d-%s", engine);
    char *what = g_strdup_printf("disk on %s", engine);

    check_runs_and_stops(c, id, args, what);
    is_int(open_fds_to(d->pid, path), 0, "%s: the file is closed after "
           "workload-del", what);
    unlink(path);
    g_free(what);
    g_free(id);
    g_free(args);
    g_free(path);
}

static void test_each_type(void)
{
    TestDaemon *d = start_daemon();
    QmpClient *c = d ? test_connect(d) : NULL;

    if (!ok(c != NULL, "daemon up for the workload types")) {
        test_daemon_free(d);
        return;
    }
    test_disk_engine(d, c, "linux-aio");
    test_disk_engine(d, c, "io_uring");
    test_disk_engine(d, c, "thread-pool");
    check_runs_and_stops(c, "bh", "{\"id\": \"bh\", \"iothread\": \"io0\", "
                         "\"type\": \"bh-pingpong\"}", "bh-pingpong");
    check_runs_and_stops(c, "fd", "{\"id\": \"fd\", \"iothread\": \"io1\", "
                         "\"type\": \"fd-pingpong\"}", "fd-pingpong");
    check_runs_and_stops(c, "tm", "{\"id\": \"tm\", \"iothread\": \"io1\", "
                         "\"type\": \"timer\", \"period-ns\": 100000}",
                         "timer");
    qmp_client_free(c);
    is_int(test_daemon_kill(d, SIGTERM), 0, "the daemon exits 0 after them");
    test_daemon_free(d);
}

static void test_disk_holds_file_open(void)
{
    TestDaemon *d = start_daemon();
    QmpClient *c = d ? test_connect(d) : NULL;

    if (!ok(c != NULL, "daemon up for the fd check")) {
        test_daemon_free(d);
        return;
    }
    char *path = g_strdup_printf("%s/held", d->dir);
    char *args = g_strdup_printf(
        "{\"id\": \"h\", \"iothread\": \"io0\", \"type\": \"disk\", "
        "\"filename\": \"%s\", \"create\": true, \"size\": 1048576, "
        "\"direct\": false}", path);
    qx_ok(c, "workload-add", args);
    is_int(open_fds_to(d->pid, path), 1, "a running disk workload holds "
           "exactly one fd to its file");
    qx_ok(c, "workload-del", "{\"id\": \"h\"}");
    is_int(open_fds_to(d->pid, path), 0, "workload-del closes it");
    qmp_client_free(c);
    test_daemon_kill(d, SIGTERM);
    test_daemon_free(d);
    g_free(args);
    g_free(path);
}

static void test_runtime_finishes(void)
{
    TestDaemon *d = start_daemon();
    QmpClient *c = d ? test_connect(d) : NULL;

    if (!ok(c != NULL, "daemon up for runtime")) {
        test_daemon_free(d);
        return;
    }
    qx_ok(c, "workload-add", "{\"id\": \"r\", \"iothread\": \"io0\", "
          "\"type\": \"bh-pingpong\", \"runtime\": 1}");
    JsonNode *ev = wait_event(c, "WORKLOAD_FINISHED", WORKLOAD_WAIT_MS);
    JsonObject *data = ev ? json_object_get_object_member(
                                json_node_get_object(ev), "data") : NULL;
    ok(data && !strcmp(json_object_get_string_member(data, "id"), "r") &&
       json_object_get_int_member(data, "ops") > 0 &&
       json_object_get_int_member(data, "elapsed-ns") >= 1000000000LL,
       "runtime 1: WORKLOAD_FINISHED with its ops after >= 1 s");
    if (ev) {
        json_node_unref(ev);
    }
    gint64 ops = workload_ops(c, "r");
    JsonObject *o = find_workload(c, "r");
    ok(o && !strcmp(json_object_get_string_member(o, "state"), "finished") &&
       json_object_get_int_member(o, "ops") == ops,
       "it stays listed as finished and its ops no longer move");
    if (o) {
        json_object_unref(o);
    }
    qmp_client_free(c);
    test_daemon_kill(d, SIGTERM);
    test_daemon_free(d);
}

static void test_iothread_delete_refused(void)
{
    TestDaemon *d = start_daemon();
    QmpClient *c = d ? test_connect(d) : NULL;

    if (!ok(c != NULL, "daemon up for object-del")) {
        test_daemon_free(d);
        return;
    }
    qx_ok(c, "workload-add", "{\"id\": \"busy-io1\", \"iothread\": \"io1\", "
          "\"type\": \"timer\"}");
    ok(qx_fails(c, "object-del", "{\"id\": \"io1\"}", "GenericError",
                "workload 'busy-io1'"),
       "object-del of an iothread running a workload is refused, naming it");
    gint64 ops = workload_ops(c, "busy-io1");
    ok(!iothread_absent(c, "io1") && wait_ops_above(c, "busy-io1", ops) > ops,
       "the iothread and the workload keep running");
    qx_ok(c, "workload-del", "{\"id\": \"busy-io1\"}");
    ok(qx_ok(c, "object-del", "{\"id\": \"io1\"}") && iothread_absent(c, "io1"),
       "after workload-del the iothread can be deleted");
    qmp_client_free(c);
    test_daemon_kill(d, SIGTERM);
    test_daemon_free(d);
}

/* A disk and a ping-pong workload running when the daemon is told to
 * stop: it exits 0 (every request completed or cancelled). */
static void test_stop_with_workloads(bool by_quit)
{
    const char *how = by_quit ? "quit" : "SIGTERM";
    TestDaemon *d = start_daemon();
    QmpClient *c = d ? test_connect(d) : NULL;

    if (!ok(c != NULL, "daemon up for %s", how)) {
        test_daemon_free(d);
        return;
    }
    char *args = g_strdup_printf(
        "{\"id\": \"q\", \"iothread\": \"io0\", \"type\": \"disk\", "
        "\"filename\": \"%s/q\", \"create\": true, \"size\": 4194304, "
        "\"direct\": false, \"iodepth\": 16, \"rw\": \"randwrite\"}", d->dir);
    qx_ok(c, "workload-add", args);
    qx_ok(c, "workload-add", "{\"id\": \"p\", \"iothread\": \"io1\", "
          "\"type\": \"fd-pingpong\"}");
    wait_ops_above(c, "q", 0);
    int status;
    if (by_quit) {
        qx_ok(c, "quit", NULL);
        status = test_daemon_wait(d, WORKLOAD_WAIT_MS);
    } else {
        status = test_daemon_kill(d, SIGTERM);
    }
    is_int(status, 0, "%s with running workloads: exit status 0", how);
    qmp_client_free(c);
    test_daemon_free(d);
    g_free(args);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    test_each_type();
    test_disk_holds_file_open();
    test_runtime_finishes();
    test_iothread_delete_refused();
    test_stop_with_workloads(true);
    test_stop_with_workloads(false);
    return done_testing();
}
