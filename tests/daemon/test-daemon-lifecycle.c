/*
 * Integration test of iothreadd as a process: default iothreads, --object,
 * --pidfile, --nodefaults, --help, bad command lines (exit 2 with a
 * message), SIGTERM / SIGINT / quit (exit 0, socket and pidfile removed).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "daemon-util.h"
#include "tap.h"

static void test_defaults(void)
{
    TestDaemon *d = test_daemon_start(NULL);
    if (!ok(d != NULL, "daemon with --qmp only starts")) {
        return;
    }
    QmpClient *c = test_connect(d);
    JsonObject *io0 = c ? find_iothread(c, "io0") : NULL;
    JsonObject *io1 = c ? find_iothread(c, "io1") : NULL;
    ok(io0 && io1, "default iothreads io0 and io1 exist");
    ok(io0 && json_object_get_int_member(io0, "poll-max-ns") == 32768 &&
       json_object_get_int_member(io0, "thread-pool-max") == 64,
       "with the default properties");
    if (io0) {
        json_object_unref(io0);
    }
    if (io1) {
        json_object_unref(io1);
    }
    JsonNode *v = c ? qx(c, "query-version", NULL, NULL, NULL) : NULL;
    char *text = v ? json_to_string(v, FALSE) : g_strdup("");
    ok(strstr(text, "\"qemu\"") && strstr(text, "\"package\""),
       "query-version: %s", text);
    g_free(text);
    if (v) {
        json_node_unref(v);
    }
    if (c) {
        qmp_client_free(c);
    }
    is_int(test_daemon_kill(d, SIGINT), 0, "SIGINT: exit status 0");
    ok(!g_file_test(d->socket, G_FILE_TEST_EXISTS), "socket removed");
    test_daemon_free(d);
}

static void test_objects_and_pidfile(void)
{
    char *dir = g_dir_make_tmp("iothreadd-pid-XXXXXX", NULL);
    char *pidfile = g_build_filename(dir, "daemon.pid", NULL);
    const char *const args[] = {
        "--object", "iothread,id=only,poll-max-ns=5,thread-pool-max=3",
        "--object", "main-loop,thread-pool-max=7",
        "--pidfile", pidfile, NULL
    };
    TestDaemon *d = test_daemon_start(args);
    if (!ok(d != NULL, "daemon with --object and --pidfile starts")) {
        goto out;
    }
    QmpClient *c = test_connect(d);
    JsonObject *only = c ? find_iothread(c, "only") : NULL;
    ok(only && json_object_get_int_member(only, "poll-max-ns") == 5 &&
       json_object_get_int_member(only, "thread-pool-max") == 3,
       "--object iothread created with its properties");
    ok(iothread_absent(c, "io0"),
       "no default iothreads when --object iothread is given");
    is_int(c ? qom_get_int(c, "/objects/main-loop", "thread-pool-max") : -1,
           7, "--object main-loop applied");
    char *pid_text = NULL;
    g_file_get_contents(pidfile, &pid_text, NULL, NULL);
    is_int(pid_text ? atoi(pid_text) : -1, d->pid, "pidfile holds the pid");
    g_free(pid_text);
    if (only) {
        json_object_unref(only);
    }

    /* quit: the reply arrives, then the daemon exits 0. */
    ok(c && qx_ok(c, "quit", NULL), "quit answers");
    is_int(test_daemon_wait(d, 20000), 0, "quit: exit status 0");
    ok(!g_file_test(d->socket, G_FILE_TEST_EXISTS) &&
       !g_file_test(pidfile, G_FILE_TEST_EXISTS),
       "socket and pidfile removed");
    if (c) {
        qmp_client_free(c);
    }
    test_daemon_free(d);
out:
    unlink(pidfile);
    rmdir(dir);
    g_free(pidfile);
    g_free(dir);
}

static void test_nodefaults_and_sigterm(void)
{
    const char *const args[] = { "--nodefaults", NULL };
    TestDaemon *d = test_daemon_start(args);
    if (!ok(d != NULL, "daemon with --nodefaults starts")) {
        return;
    }
    QmpClient *c = test_connect(d);
    JsonNode *all = c ? qx(c, "query-iothreads", NULL, NULL, NULL) : NULL;
    ok(all && JSON_NODE_HOLDS_ARRAY(all) &&
       json_array_get_length(json_node_get_array(all)) == 0,
       "--nodefaults: no iothreads");
    if (all) {
        json_node_unref(all);
    }
    /* A client still connected and an iothread with work pending must not
     * hold up the exit. */
    ok(c && qx_ok(c, "object-add",
                  "{\"qom-type\": \"iothread\", \"id\": \"w\"}"),
       "object-add w with the client connected");
    is_int(test_daemon_kill(d, SIGTERM), 0,
           "SIGTERM with a client connected: exit status 0");
    ok(!g_file_test(d->socket, G_FILE_TEST_EXISTS), "socket removed");
    if (c) {
        qmp_client_free(c);
    }
    test_daemon_free(d);
}

/* No option at all: the embedded default (socket under $XDG_RUNTIME_DIR,
 * directory 0700, io0 and io1). */
static void test_no_options(const char *binary)
{
    char *xdg = g_dir_make_tmp("iothreadd-xdg-XXXXXX", NULL);
    char *dir = g_build_filename(xdg, "iothreadd", NULL);
    char *sock = g_build_filename(dir, "qmp.sock", NULL);
    char **envp = g_environ_setenv(g_get_environ(), "XDG_RUNTIME_DIR", xdg,
                                   TRUE);
    char *argv[] = { (char *)binary, NULL };
    TestDaemon d = { 0 };
    GStatBuf st;

    if (!ok(g_spawn_async(NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                          NULL, &d.pid, NULL), "daemon without options starts")) {
        goto out;
    }
    for (int i = 0; i < 1000 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10 * 1000);
    }
    ok(g_stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
       "default socket directory created 0700");
    d.address = g_strconcat("unix:", sock, NULL);
    /* The socket file exists from bind(); it accepts from listen() on:
     * retry refused connections for up to 10 s (a hang guard). */
    QmpClient *c = NULL;
    for (int i = 0; i < 1000 && !c; i++) {
        c = qmp_client_connect(d.address, NULL);
        if (!c) {
            g_usleep(10 * 1000);
        }
    }
    JsonObject *io1 = c ? find_iothread(c, "io1") : NULL;
    ok(io1 != NULL, "default socket serves the default iothreads");
    if (io1) {
        json_object_unref(io1);
    }
    if (c) {
        qmp_client_free(c);
    }
    is_int(test_daemon_kill(&d, SIGTERM), 0, "SIGTERM: exit status 0");
    ok(!g_file_test(sock, G_FILE_TEST_EXISTS), "default socket removed");
    g_free(d.address);
out:
    rmdir(dir);
    rmdir(xdg);
    g_strfreev(envp);
    g_free(sock);
    g_free(dir);
    g_free(xdg);
}

static void expect_bad(const char *const *args, const char *needle,
                       const char *what)
{
    char *out = NULL, *err = NULL;
    int status = test_daemon_run_sync(args, &out, &err);
    g_free(out);
    ok(status == 2 && err && strstr(err, needle),
       "%s: exit 2 with a message", what);
    if (status != 2 || !err || !strstr(err, needle)) {
        diag("status %d, stderr: %s", status, err ? err : "");
    }
    g_free(err);
}

static void test_bad_options(void)
{
    expect_bad((const char *const[]){ "--bogus", NULL }, "--bogus",
               "unknown option");
    expect_bad((const char *const[]){ "--qmp", NULL }, "--qmp",
               "--qmp without an argument");
    expect_bad((const char *const[]){ "--qmp", "/some/path", NULL },
               "unix:PATH", "--qmp without unix:/tcp:");
    expect_bad((const char *const[]){ "--object", "iothread,id=9x", NULL },
               "expects an identifier", "--object with a bad id");
    expect_bad((const char *const[]){ "--object", "iothread", NULL },
               "id=", "--object without id");
    expect_bad((const char *const[]){ "--object",
                                      "iothread,id=a,poll-max-ns=abc", NULL },
               "poll-max-ns", "--object with a non-integer value");
    expect_bad((const char *const[]){ "--object",
                                      "iothread,id=a,poll-max-ns=-1", NULL },
               "poll-max-ns", "--object with a negative value");
    expect_bad((const char *const[]){ "--object",
                                      "iothread,id=a,thread-pool-min=5,"
                                      "thread-pool-max=2", NULL },
               "thread-pool-min", "--object with min > max");
    expect_bad((const char *const[]){ "--object", "iothread,id=a,colour=3",
                                      NULL },
               "colour", "--object with an unknown property");
    expect_bad((const char *const[]){ "--object", "disk,id=a", NULL },
               "disk", "--object with an unknown type");
    expect_bad((const char *const[]){ "--object", "iothread,id=a",
                                      "--object", "iothread,id=a", NULL },
               "duplicate", "--object twice with one id");
    expect_bad((const char *const[]){ "--object",
                                      "main-loop,thread-pool-min=65", NULL },
               "thread-pool-min", "--object main-loop with min > max");
    expect_bad((const char *const[]){ "stray", NULL }, "stray",
               "a stray argument");

    char *out = NULL, *err = NULL;
    int status = test_daemon_run_sync((const char *const[]){ "--help", NULL },
                                      &out, &err);
    ok(status == 0 && out && strstr(out, "--object") && strstr(out, "--qmp"),
       "--help exits 0 and lists the options");
    g_free(out);
    g_free(err);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
        test_no_options(argv[1]);
    }
    test_defaults();
    test_objects_and_pidfile();
    test_nodefaults_and_sigterm();
    test_bad_options();
    return done_testing();
}
