/*
 * The client library (qmp/client.c) against the real server: connect over
 * unix and tcp, greeting, execute, error classes, raw execution, events
 * queued while a reply is awaited, timeouts, and 32 concurrent clients in
 * threads.
 */
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "qmp-test-util.h"
#include "tap.h"

#define N_CLIENTS 32
#define N_ROUNDS 50

typedef struct {
    const char *address;
    int index;
    int good;       /* replies that matched */
    bool connected;
} Worker;

static void *worker_main(void *opaque)
{
    Worker *w = opaque;
    QmpClient *c = qmp_client_connect(w->address, NULL);
    if (!c) {
        return NULL;
    }
    w->connected = true;
    for (int i = 0; i < N_ROUNDS; i++) {
        g_autoptr(JsonObject) args = json_object_new();
        char value[64];
        snprintf(value, sizeof(value), "client %d round %d", w->index, i);
        json_object_set_string_member(args, "value", value);
        JsonNode *ret = qmp_client_execute(c, "echo", args, NULL);
        if (ret && !g_strcmp0(json_node_get_string(ret), value)) {
            w->good++;
        }
        if (ret) {
            json_node_unref(ret);
        }
    }
    qmp_client_free(c);
    return NULL;
}

static void test_concurrent(TestServer *ts)
{
    Worker workers[N_CLIENTS];
    pthread_t threads[N_CLIENTS];
    for (int i = 0; i < N_CLIENTS; i++) {
        workers[i] = (Worker){ .address = ts->address, .index = i };
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    int connected = 0, good = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        connected += workers[i].connected;
        good += workers[i].good;
    }
    is_int(connected, N_CLIENTS, "%d concurrent clients connected and "
           "negotiated", N_CLIENTS);
    is_int(good, N_CLIENTS * N_ROUNDS, "each got its own %d answers",
           N_ROUNDS);
}

static void test_client(TestServer *ts)
{
    g_autoptr(GError) err = NULL;
    QmpClient *c = qmp_client_connect(ts->address, &err);
    if (!ok(c != NULL, "connect over unix:PATH")) {
        diag("%s", err->message);
        return;
    }
    JsonObject *qmp = qmp_client_greeting(c);
    ok(qmp && json_object_has_member(qmp, "version") &&
       json_object_has_member(qmp, "capabilities"), "greeting is available");
    ok(qmp_client_fd(c) >= 0, "the socket fd is exposed");

    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_int_member(args, "value", 17);
    JsonNode *ret = qmp_client_execute(c, "echo", args, &err);
    ok(ret && json_node_get_int(ret) == 17, "execute returns the value");
    if (ret) {
        json_node_unref(ret);
    }
    ret = qmp_client_execute(c, "echo", NULL, &err);
    ok(ret && JSON_NODE_HOLDS_OBJECT(ret), "execute without arguments: "
       "return {}");
    if (ret) {
        json_node_unref(ret);
    }

    ret = qmp_client_execute(c, "fail", NULL, &err);
    ok(!ret && g_error_matches(err, QMP_CLIENT_ERROR,
                               QMP_CLIENT_ERROR_COMMAND) &&
       !g_strcmp0(qmp_client_last_error_class(c), "DeviceNotFound") &&
       strstr(err->message, "not found"),
       "an error answer: QMP_CLIENT_ERROR_COMMAND, class kept, desc as "
       "message");
    g_clear_error(&err);

    ret = qmp_client_execute(c, "no-such", NULL, &err);
    ok(!ret && !g_strcmp0(qmp_client_last_error_class(c), "CommandNotFound"),
       "unknown command: CommandNotFound");
    g_clear_error(&err);

    ret = qmp_client_execute_raw(c, "{\"execute\": \"echo\", \"arguments\": "
                                    "{\"value\": \"raw\"}, \"id\": \"r1\"}",
                                 &err);
    JsonObject *reply = ret ? json_node_get_object(ret) : NULL;
    ok(reply && !g_strcmp0(json_object_get_string_member(reply, "return"),
                           "raw") &&
       !g_strcmp0(json_object_get_string_member(reply, "id"), "r1"),
       "execute_raw returns the whole reply");
    if (ret) {
        json_node_unref(ret);
    }
    ret = qmp_client_execute_raw(c, "{\"execute\": \"fail\"}", &err);
    ok(ret && json_object_has_member(json_node_get_object(ret), "error") &&
       !g_strcmp0(qmp_client_last_error_class(c), "DeviceNotFound"),
       "execute_raw returns an error reply as an object");
    if (ret) {
        json_node_unref(ret);
    }
    ret = qmp_client_execute_raw(c, "{\"execute\": ", &err);
    ok(!ret && g_error_matches(err, QMP_CLIENT_ERROR,
                               QMP_CLIENT_ERROR_INVALID),
       "execute_raw refuses incomplete JSON without sending it");
    g_clear_error(&err);
    ret = qmp_client_execute(c, "echo", NULL, &err);
    ok(ret != NULL, "and the connection still works");
    if (ret) {
        json_node_unref(ret);
    }

    /* Events arriving while a reply is awaited are queued. */
    g_autoptr(JsonObject) eargs = json_object_new();
    json_object_set_string_member(eargs, "tag", "queued");
    ret = qmp_client_execute(c, "emit", eargs, &err);
    ok(ret != NULL, "emit runs");
    if (ret) {
        json_node_unref(ret);
    }
    JsonNode *ev = qmp_client_pop_event(c, 0, &err);
    ok(ev && !g_strcmp0(json_object_get_string_member(
                            json_node_get_object(ev), "event"), "TEST_EVENT"),
       "the event that came with the reply is queued");
    if (ev) {
        json_node_unref(ev);
    }
    ev = qmp_client_pop_event(c, 50, &err);
    ok(!ev && !err, "no more events: NULL without error after the timeout");

    /* A second client sees events caused by the first. */
    QmpClient *c2 = qmp_client_connect(ts->address, NULL);
    ret = qmp_client_execute(c, "emit", eargs, NULL);
    if (ret) {
        json_node_unref(ret);
    }
    ev = c2 ? qmp_client_pop_event(c2, 5000, &err) : NULL;
    ok(ev != NULL, "a second client waits for and gets the event");
    if (ev) {
        json_node_unref(ev);
    }
    qmp_client_free(c2);
    qmp_client_free(c);

    g_autofree char *tcp = g_strdup_printf(
        "tcp:127.0.0.1:%d", qmp_server_tcp_port(ts->server));
    c = qmp_client_connect(tcp, &err);
    ret = c ? qmp_client_execute(c, "echo", args, &err) : NULL;
    ok(ret && json_node_get_int(ret) == 17, "connect and execute over tcp");
    if (ret) {
        json_node_unref(ret);
    }
    qmp_client_free(c);
    g_clear_error(&err);

    c = qmp_client_connect(ts->path, &err);
    ok(c != NULL, "a bare path works as an address");
    qmp_client_free(c);

    g_autofree char *missing = g_build_filename(ts->dir, "nothing", NULL);
    c = qmp_client_connect(missing, &err);
    ok(!c && g_error_matches(err, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO),
       "connecting to a missing socket: IO error (%s)",
       err ? err->message : "");
    g_clear_error(&err);
}

static void test_default_path(void)
{
    const char *old = g_getenv("XDG_RUNTIME_DIR");
    g_autofree char *saved = g_strdup(old);
    g_setenv("XDG_RUNTIME_DIR", "/run/user/77", TRUE);
    g_autofree char *p1 = qmp_default_socket_path();
    ok(!strcmp(p1, "/run/user/77/iothreadd/qmp.sock"),
       "default socket under $XDG_RUNTIME_DIR (%s)", p1);
    g_unsetenv("XDG_RUNTIME_DIR");
    g_autofree char *p2 = qmp_default_socket_path();
    g_autofree char *want = g_strdup_printf("/tmp/iothreadd-%u/qmp.sock",
                                            (unsigned)getuid());
    ok(!strcmp(p2, want), "else under /tmp/iothreadd-$UID (%s)", p2);
    if (saved) {
        g_setenv("XDG_RUNTIME_DIR", saved, TRUE);
    }
}

int main(void)
{
    TestServer *ts = test_server_start(false);
    test_client(ts);
    test_concurrent(ts);
    test_server_stop(ts);
    test_default_path();
    return done_testing();
}
