/*
 * Helpers for the integration tests (see daemon-util.h).  Diagnostics go
 * through printf("# ...") so they stay TAP comments.
 */
#include "daemon-util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *daemon_binary;

void test_daemon_set_binary(const char *path)
{
    g_free(daemon_binary);
    daemon_binary = g_strdup(path);
}

static const char *binary(void)
{
    if (!daemon_binary) {
        const char *env = g_getenv("IOTHREADD");
        daemon_binary = g_strdup(env ? env : "iothreadd");
    }
    return daemon_binary;
}

static bool socket_accepts(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

TestDaemon *test_daemon_start(const char *const *extra_args)
{
    TestDaemon *d = g_new0(TestDaemon, 1);
    GPtrArray *argv = g_ptr_array_new();
    GError *err = NULL;

    d->dir = g_dir_make_tmp("iothreadd-test-XXXXXX", NULL);
    d->socket = g_build_filename(d->dir, "qmp.sock", NULL);
    d->address = g_strconcat("unix:", d->socket, NULL);
    g_ptr_array_add(argv, (char *)binary());
    g_ptr_array_add(argv, "--qmp");
    g_ptr_array_add(argv, d->address);
    g_ptr_array_add(argv, "--foreground");
    for (int i = 0; extra_args && extra_args[i]; i++) {
        g_ptr_array_add(argv, (char *)extra_args[i]);
    }
    g_ptr_array_add(argv, NULL);

    if (!g_spawn_async(NULL, (char **)argv->pdata, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &d->pid, &err)) {
        printf("# cannot start %s: %s\n", binary(), err->message);
        g_error_free(err);
        g_ptr_array_free(argv, TRUE);
        test_daemon_free(d);
        return NULL;
    }
    g_ptr_array_free(argv, TRUE);
    for (int i = 0; i < 1000; i++) {
        int status;
        if (socket_accepts(d->socket)) {
            return d;
        }
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            printf("# daemon exited early (status 0x%x)\n", status);
            d->pid = 0;
            test_daemon_free(d);
            return NULL;
        }
        g_usleep(10 * 1000);
    }
    printf("# daemon did not listen on %s within 10 s\n", d->socket);
    test_daemon_free(d);
    return NULL;
}

int test_daemon_wait(TestDaemon *d, int timeout_ms)
{
    int status;

    if (d->pid <= 0) {
        return -1;
    }
    for (int waited = 0; ; waited += 5) {
        pid_t r = waitpid(d->pid, &status, WNOHANG);
        if (r == d->pid) {
            d->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        if (r < 0 || waited >= timeout_ms) {
            return -1;
        }
        g_usleep(5 * 1000);
    }
}

int test_daemon_kill(TestDaemon *d, int sig)
{
    if (d->pid <= 0) {
        return -1;
    }
    kill(d->pid, sig);
    return test_daemon_wait(d, 20000);
}

void test_daemon_free(TestDaemon *d)
{
    if (!d) {
        return;
    }
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
    }
    if (d->socket) {
        unlink(d->socket);
    }
    if (d->dir) {
        char *pid = g_build_filename(d->dir, "pid", NULL);
        unlink(pid);
        g_free(pid);
        rmdir(d->dir);
    }
    g_free(d->dir);
    g_free(d->socket);
    g_free(d->address);
    g_free(d);
}

int test_daemon_run_sync(const char *const *args, char **out_text,
                         char **err_text)
{
    GPtrArray *argv = g_ptr_array_new();
    GError *err = NULL;
    int status = -1;

    g_ptr_array_add(argv, (char *)binary());
    for (int i = 0; args && args[i]; i++) {
        g_ptr_array_add(argv, (char *)args[i]);
    }
    g_ptr_array_add(argv, NULL);
    *out_text = NULL;
    *err_text = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT,
                      NULL, NULL, out_text, err_text, &status, &err)) {
        printf("# spawn: %s\n", err->message);
        g_error_free(err);
        g_ptr_array_free(argv, TRUE);
        return -1;
    }
    g_ptr_array_free(argv, TRUE);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

QmpClient *test_connect(TestDaemon *d)
{
    GError *err = NULL;
    QmpClient *c = qmp_client_connect(d->address, &err);

    if (!c) {
        printf("# connect %s: %s\n", d->address, err->message);
        g_error_free(err);
    }
    return c;
}

JsonNode *qx(QmpClient *c, const char *command, const char *args_json,
             char **cls, char **desc)
{
    JsonObject *args = NULL;
    JsonNode *parsed = NULL;
    GError *err = NULL;

    if (cls) {
        *cls = NULL;
    }
    if (desc) {
        *desc = NULL;
    }
    if (args_json) {
        parsed = json_from_string(args_json, &err);
        if (!parsed || !JSON_NODE_HOLDS_OBJECT(parsed)) {
            printf("# test bug: bad JSON %s\n", args_json);
            g_clear_error(&err);
            if (parsed) {
                json_node_unref(parsed);
            }
            return NULL;
        }
        args = json_node_get_object(parsed);
    }
    JsonNode *ret = qmp_client_execute(c, command, args, &err);
    if (!ret) {
        const char *klass = qmp_client_last_error_class(c);
        if (cls) {
            *cls = g_strdup(klass ? klass : "(transport)");
        }
        if (desc) {
            *desc = g_strdup(err ? err->message : "?");
        }
        g_clear_error(&err);
    }
    if (parsed) {
        json_node_unref(parsed);
    }
    return ret;
}

bool qx_fails(QmpClient *c, const char *command, const char *args_json,
              const char *cls, const char *needle)
{
    char *got_cls, *got_desc;
    JsonNode *ret = qx(c, command, args_json, &got_cls, &got_desc);
    bool ok;

    if (ret) {
        char *text = json_to_string(ret, FALSE);
        printf("# %s %s unexpectedly succeeded: %s\n", command,
               args_json ? args_json : "", text);
        g_free(text);
        json_node_unref(ret);
        return false;
    }
    ok = g_strcmp0(got_cls, cls) == 0 &&
         (!needle || (got_desc && strstr(got_desc, needle)));
    if (!ok) {
        printf("# %s: got %s '%s', expected %s containing '%s'\n", command,
               got_cls, got_desc, cls, needle ? needle : "");
    }
    g_free(got_cls);
    g_free(got_desc);
    return ok;
}

bool qx_ok(QmpClient *c, const char *command, const char *args_json)
{
    char *cls, *desc;
    JsonNode *ret = qx(c, command, args_json, &cls, &desc);

    if (!ret) {
        printf("# %s %s failed: %s %s\n", command, args_json ? args_json : "",
               cls, desc);
        g_free(cls);
        g_free(desc);
        return false;
    }
    json_node_unref(ret);
    return true;
}

JsonObject *find_by_id(QmpClient *c, const char *command, const char *id)
{
    JsonNode *ret = qx(c, command, NULL, NULL, NULL);
    JsonObject *found = NULL;

    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
        if (ret) {
            json_node_unref(ret);
        }
        return NULL;
    }
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *got = json_object_get_string_member_with_default(
            o, "id", NULL);
        if (g_strcmp0(got, id) == 0) {
            found = json_object_ref(o);
        }
    }
    json_node_unref(ret);
    return found;
}

JsonObject *find_iothread(QmpClient *c, const char *id)
{
    return find_by_id(c, "query-iothreads", id);
}

bool iothread_absent(QmpClient *c, const char *id)
{
    JsonNode *ret = c ? qx(c, "query-iothreads", NULL, NULL, NULL) : NULL;
    bool absent = ret && JSON_NODE_HOLDS_ARRAY(ret);

    if (absent) {
        JsonArray *arr = json_node_get_array(ret);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            JsonObject *o = json_array_get_object_element(arr, i);
            absent &= g_strcmp0(json_object_get_string_member_with_default(
                                    o, "id", NULL), id) != 0;
        }
    }
    if (ret) {
        json_node_unref(ret);
    }
    return absent;
}

JsonObject *get_stats(QmpClient *c, const char *id, bool reset)
{
    char *args = g_strdup_printf("{\"id\": \"%s\", \"reset\": %s}", id,
                                 reset ? "true" : "false");
    JsonNode *ret = qx(c, "query-iothread-stats", args, NULL, NULL);
    JsonObject *stats = NULL;

    g_free(args);
    if (ret && JSON_NODE_HOLDS_ARRAY(ret) &&
        json_array_get_length(json_node_get_array(ret)) == 1) {
        JsonObject *o = json_array_get_object_element(json_node_get_array(ret),
                                                      0);
        stats = json_object_ref(json_object_get_object_member(o, "stats"));
    }
    if (ret) {
        json_node_unref(ret);
    }
    return stats;
}

gint64 qom_get_int(QmpClient *c, const char *path, const char *property)
{
    char *args = g_strdup_printf("{\"path\": \"%s\", \"property\": \"%s\"}",
                                 path, property);
    JsonNode *ret = qx(c, "qom-get", args, NULL, NULL);
    gint64 v = -1;

    g_free(args);
    if (ret && JSON_NODE_HOLDS_VALUE(ret) &&
        json_node_get_value_type(ret) == G_TYPE_INT64) {
        v = json_node_get_int(ret);
    }
    if (ret) {
        json_node_unref(ret);
    }
    return v;
}

JsonNode *wait_event(QmpClient *c, const char *name, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left < 0) {
            return NULL;
        }
        JsonNode *ev = qmp_client_pop_event(c, (int)left, NULL);
        if (!ev) {
            return NULL;
        }
        const char *got = JSON_NODE_HOLDS_OBJECT(ev)
            ? json_object_get_string_member_with_default(
                  json_node_get_object(ev), "event", NULL)
            : NULL;
        if (g_strcmp0(got, name) == 0) {
            return ev;
        }
        json_node_unref(ev);
    }
}
