/*
 * Helpers for the QMP server tests (see qmp-test-util.h).
 */
#include "qmp-test-util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The embedded schema's built-ins plus test-only commands and an event. */
static const char test_schema[] =
    "{\"entries\": ["
    "{\"enum\": \"QMPCapability\", \"data\": [], \"doc\": \"none\"},"
    "{\"command\": \"qmp_capabilities\", \"data\": {\"*enable\": "
    "[\"QMPCapability\"]}, \"doc\": \"negotiate\"},"
    "{\"command\": \"query-commands\", \"returns\": [\"any\"], \"doc\": \"d\"},"
    "{\"command\": \"query-qmp-schema\", \"returns\": [\"any\"], \"doc\": \"d\"},"
    "{\"command\": \"echo\", \"data\": {\"*value\": \"any\", \"*n\": {\"type\":"
    " \"int\", \"min\": 0, \"max\": 10}}, \"returns\": \"any\", \"doc\": "
    "\"returns value\"},"
    "{\"command\": \"fail\", \"doc\": \"fails with DeviceNotFound\"},"
    "{\"command\": \"emit\", \"data\": {\"tag\": \"str\"}, \"doc\": \"emits "
    "TEST_EVENT\"},"
    "{\"command\": \"count-clients\", \"returns\": \"int\", \"doc\": \"d\"},"
    "{\"event\": \"TEST_EVENT\", \"data\": {\"tag\": \"str\"}, \"doc\": \"d\"}"
    "]}";

static JsonNode *cmd_echo(QmpServer *server, JsonObject *args, void *opaque,
                          GError **error)
{
    JsonNode *v = json_object_get_member(args, "value");
    return v ? json_node_copy(v) : NULL;
}

static JsonNode *cmd_fail(QmpServer *server, JsonObject *args, void *opaque,
                          GError **error)
{
    g_set_error(error, QMP_ERROR, QMP_ERROR_DEVICE_NOT_FOUND,
                "Device 'nothing' not found");
    return NULL;
}

static JsonNode *cmd_emit(QmpServer *server, JsonObject *args, void *opaque,
                          GError **error)
{
    JsonObject *data = json_object_new();
    json_object_set_string_member(data, "tag",
                                  json_object_get_string_member(args, "tag"));
    qmp_server_emit_event(server, "TEST_EVENT", data);
    return NULL;
}

static JsonNode *cmd_count_clients(QmpServer *server, JsonObject *args,
                                   void *opaque, GError **error)
{
    return json_node_init_int(json_node_alloc(),
                              qmp_server_client_count(server));
}

static void *loop_thread(void *opaque)
{
    TestServer *ts = opaque;
    aio_set_current_context(ts->ctx);
    while (!atomic_load(&ts->stop)) {
        aio_poll(ts->ctx, true);
    }
    return NULL;
}

static void stop_bh(void *opaque)
{
    TestServer *ts = opaque;
    atomic_store(&ts->stop, true);
}

TestServer *test_server_start(bool embedded_schema)
{
    TestServer *ts = g_new0(TestServer, 1);
    g_autoptr(GError) err = NULL;
    ts->ctx = aio_context_new(&err);
    g_assert_no_error(err);
    ts->schema = embedded_schema
                 ? qmp_schema_load_embedded(&err)
                 : qmp_schema_load_from_data(test_schema, -1, &err);
    g_assert_no_error(err);
    ts->server = qmp_server_new(ts->ctx, ts->schema, 1, 2, 3, "test-pkg");
    if (!embedded_schema) {
        qmp_server_register(ts->server, "echo", cmd_echo, NULL);
        qmp_server_register(ts->server, "fail", cmd_fail, NULL);
        qmp_server_register(ts->server, "emit", cmd_emit, NULL);
        qmp_server_register(ts->server, "count-clients", cmd_count_clients,
                            NULL);
    }
    ts->dir = g_dir_make_tmp("qmp-test-XXXXXX", &err);
    g_assert_no_error(err);
    ts->path = g_build_filename(ts->dir, "qmp.sock", NULL);
    ts->address = g_strconcat("unix:", ts->path, NULL);
    if (!qmp_server_listen(ts->server, ts->address, &err) ||
        !qmp_server_listen(ts->server, "tcp:127.0.0.1:0", &err)) {
        g_error("listen: %s", err->message);
    }
    pthread_create(&ts->thread, NULL, loop_thread, ts);
    return ts;
}

void test_server_stop(TestServer *ts)
{
    aio_bh_schedule_oneshot(ts->ctx, stop_bh, ts);
    pthread_join(ts->thread, NULL);
    qmp_server_free(ts->server);
    /* Let the loop collect handlers removed by the free. */
    while (aio_poll(ts->ctx, false)) {
    }
    qmp_schema_free(ts->schema);
    aio_context_unref(ts->ctx);
    unlink(ts->path);
    rmdir(ts->dir);
    g_free(ts->dir);
    g_free(ts->path);
    g_free(ts->address);
    g_free(ts);
}

RawConn *raw_connect(const char *path, bool negotiate)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        g_error("connect %s: %s", path, g_strerror(errno));
    }
    RawConn *rc = g_new0(RawConn, 1);
    rc->fd = fd;
    rc->buf = g_string_new("");
    if (negotiate) {
        JsonObject *greeting = raw_recv(rc, 5000);
        g_assert(greeting);
        json_object_unref(greeting);
        raw_send_str(rc, "{\"execute\": \"qmp_capabilities\"}");
        JsonObject *r = raw_recv(rc, 5000);
        g_assert(r && json_object_has_member(r, "return"));
        json_object_unref(r);
    }
    return rc;
}

void raw_close(RawConn *rc)
{
    if (!rc) {
        return;
    }
    close(rc->fd);
    g_string_free(rc->buf, TRUE);
    g_free(rc);
}

void raw_send(RawConn *rc, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(rc->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return;     /* the server may have closed us: tests check that */
        }
        data += n;
        len -= (size_t)n;
    }
}

void raw_send_str(RawConn *rc, const char *text)
{
    raw_send(rc, text, strlen(text));
}

char *raw_recv_line(RawConn *rc, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *crlf = strstr(rc->buf->str, "\r\n");
        if (crlf) {
            size_t len = (size_t)(crlf - rc->buf->str);
            char *line = g_strndup(rc->buf->str, len);
            g_string_erase(rc->buf, 0, (gssize)(len + 2));
            return line;
        }
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            return NULL;
        }
        struct pollfd pfd = { .fd = rc->fd, .events = POLLIN };
        if (poll(&pfd, 1, (int)(left / 1000) + 1) <= 0) {
            continue;
        }
        char buf[65536];
        ssize_t n = recv(rc->fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(rc->buf, buf, n);
    }
}

JsonObject *raw_recv(RawConn *rc, int timeout_ms)
{
    g_autofree char *line = raw_recv_line(rc, timeout_ms);
    if (!line) {
        return NULL;
    }
    g_autoptr(JsonParser) p = json_parser_new();
    if (json_parser_load_from_data(p, line, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        return json_object_ref(json_node_get_object(json_parser_get_root(p)));
    }
    g_printerr("# unparsable server message: %s\n", line);
    return NULL;
}

const char *reply_error_class(JsonObject *reply)
{
    if (!reply || !json_object_has_member(reply, "error")) {
        return NULL;
    }
    return json_object_get_string_member(
        json_object_get_object_member(reply, "error"), "class");
}

const char *reply_error_desc(JsonObject *reply)
{
    if (!reply || !json_object_has_member(reply, "error")) {
        return NULL;
    }
    return json_object_get_string_member(
        json_object_get_object_member(reply, "error"), "desc");
}
