/*
 * QMP server tests on a real AioContext (loop in its own thread), through
 * raw sockets: greeting, negotiation, id echo, every kind of malformed
 * input followed by a working command, pipelining, byte-split input,
 * disconnects mid-message, a client that never reads, event broadcast,
 * socket file rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-test-util.h"
#include "tap.h"

static char *node_text(JsonNode *n)
{
    return n ? json_to_string(n, FALSE) : g_strdup("(none)");
}

/* Send @req, expect an error of @cls whose desc contains @desc_part and
 * (if @id) whose "id" serializes to @id. */
static void expect_error(RawConn *rc, const char *what, const char *req,
                         size_t len, const char *cls, const char *desc_part,
                         const char *id)
{
    raw_send(rc, req, len ? len : strlen(req));
    JsonObject *r = raw_recv(rc, 5000);
    const char *got_cls = reply_error_class(r);
    const char *desc = reply_error_desc(r);
    g_autofree char *got_id = node_text(r ? json_object_get_member(r, "id")
                                          : NULL);
    bool good = got_cls && !strcmp(got_cls, cls) && desc &&
                strstr(desc, desc_part) &&
                (!id || !strcmp(got_id, id));
    if (!ok(good, "%s -> %s", what, cls)) {
        diag("class %s, desc %s, id %s", got_cls ? got_cls : "(none)",
             desc ? desc : "(none)", got_id);
    }
    if (r) {
        json_object_unref(r);
    }
}

/* A working command right after: the connection kept working. */
static bool expect_echo(RawConn *rc, int n)
{
    g_autofree char *req = g_strdup_printf(
        "{\"execute\": \"echo\", \"arguments\": {\"value\": %d}, \"id\": %d}",
        n, n);
    raw_send_str(rc, req);
    JsonObject *r = raw_recv(rc, 5000);
    bool good = r && json_object_has_member(r, "return") &&
                json_object_get_int_member(r, "return") == n &&
                json_object_get_int_member(r, "id") == n;
    if (r) {
        json_object_unref(r);
    }
    return good;
}

static void test_greeting_and_negotiation(TestServer *ts)
{
    RawConn *rc = raw_connect(ts->path, false);
    JsonObject *g = raw_recv(rc, 5000);
    JsonObject *qmp = g && json_object_has_member(g, "QMP")
                      ? json_object_get_object_member(g, "QMP") : NULL;
    JsonObject *ver = qmp ? json_object_get_object_member(qmp, "version")
                          : NULL;
    JsonObject *qemu = ver ? json_object_get_object_member(ver, "qemu")
                           : NULL;
    ok(qemu && json_object_get_int_member(qemu, "major") == 1 &&
       json_object_get_int_member(qemu, "minor") == 2 &&
       json_object_get_int_member(qemu, "micro") == 3 &&
       !strcmp(json_object_get_string_member(ver, "package"), "test-pkg"),
       "greeting carries the version triple and package (CRLF-terminated)");
    ok(qmp && json_array_get_length(json_object_get_array_member(
                  qmp, "capabilities")) == 0,
       "greeting offers no capabilities (no oob)");
    if (g) {
        json_object_unref(g);
    }

    expect_error(rc, "command before negotiation",
                 "{\"execute\": \"echo\", \"id\": \"a\"}", 0,
                 "CommandNotFound",
                 "Expecting capabilities negotiation with 'qmp_capabilities'",
                 "\"a\"");
    expect_error(rc, "unknown capability",
                 "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                 "{\"enable\": [\"oob\"]}, \"id\": 1}", 0, "GenericError",
                 "enable[0]", "1");
    expect_error(rc, "still in negotiation after the refused capability",
                 "{\"execute\": \"query-commands\"}", 0, "CommandNotFound",
                 "Expecting capabilities negotiation", NULL);

    raw_send_str(rc, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                     "{\"enable\": []}, \"id\": {\"x\": [1, \"y\"]}}");
    JsonObject *r = raw_recv(rc, 5000);
    g_autofree char *id = node_text(r ? json_object_get_member(r, "id")
                                      : NULL);
    ok(r && json_object_has_member(r, "return") &&
       !strcmp(id, "{\"x\":[1,\"y\"]}"),
       "qmp_capabilities returns, an object id is echoed (%s)", id);
    if (r) {
        json_object_unref(r);
    }
    expect_error(rc, "qmp_capabilities in command mode",
                 "{\"execute\": \"qmp_capabilities\", \"id\": 2}", 0,
                 "CommandNotFound", "already complete", "2");

    static const char *const ids[] = {
        "\"str\"", "42", "-1.5", "[1, 2]", "null", "true",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *req = g_strdup_printf(
            "{\"execute\": \"echo\", \"id\": %s}", ids[i]);
        raw_send_str(rc, req);
        r = raw_recv(rc, 5000);
        JsonNode *got = r ? json_object_get_member(r, "id") : NULL;
        g_autoptr(JsonNode) want = json_from_string(ids[i], NULL);
        ok(got && json_node_equal(got, want), "id %s echoed", ids[i]);
        if (r) {
            json_object_unref(r);
        }
    }

    raw_send_str(rc, "{\"execute\": \"query-commands\"}");
    r = raw_recv(rc, 5000);
    JsonArray *cmds = r ? json_object_get_array_member(r, "return") : NULL;
    ok(cmds && json_array_get_length(cmds) == 7,
       "query-commands lists the 7 handled commands");
    if (r) {
        json_object_unref(r);
    }
    raw_close(rc);
}

static void test_malformed(TestServer *ts)
{
    RawConn *rc = raw_connect(ts->path, true);
    static const struct {
        const char *what, *req;
        size_t len;
        const char *cls, *desc, *id;
    } cases[] = {
        { "control char mid-message", "{\"execute\": \x01", 0,
          "GenericError", "control character", NULL },
        { "byte 0xFF mid-message", "{\"execute\": \"ec\xff", 0,
          "GenericError", "0xff", NULL },
        { "NUL byte", "\0", 1, "GenericError", "control character", NULL },
        { "invalid UTF-8", "{\"execute\": \"echo\", \"arguments\": "
          "{\"value\": \"\xc3\x28\"}}", 0, "GenericError", "UTF-8", NULL },
        { "syntax error", "{\"execute\" \"echo\"}", 0, "GenericError",
          "JSON parse error", NULL },
        { "stray closing brace", "}", 0, "GenericError", "expecting value",
          NULL },
        { "array instead of object", "[1, 2]", 0, "GenericError",
          "must be a JSON object", NULL },
        { "top-level string", "\"echo\"", 0, "GenericError",
          "must be a JSON object", NULL },
        { "missing execute", "{\"arguments\": {}, \"id\": 3}", 0,
          "GenericError", "lacks member 'execute'", "3" },
        { "execute not a string", "{\"execute\": 1, \"id\": 4}", 0,
          "GenericError", "'execute' must be a string", "4" },
        { "arguments not an object",
          "{\"execute\": \"echo\", \"arguments\": [], \"id\": 5}", 0,
          "GenericError", "'arguments' must be an object", "5" },
        { "extra top-level key",
          "{\"execute\": \"echo\", \"exec-oob\": 1, \"id\": 6}", 0,
          "GenericError", "'exec-oob' is unexpected", "6" },
        { "unknown command", "{\"execute\": \"nope\", \"id\": 7}", 0,
          "CommandNotFound", "The command nope has not been found", "7" },
        { "argument of the wrong type",
          "{\"execute\": \"echo\", \"arguments\": {\"n\": \"x\"}, \"id\": 8}",
          0, "GenericError",
          "Invalid parameter type for 'n', expected: integer", "8" },
        { "argument out of range",
          "{\"execute\": \"echo\", \"arguments\": {\"n\": 11}, \"id\": 9}", 0,
          "GenericError", "Parameter 'n' expects an integer in the range",
          "9" },
        { "unexpected argument",
          "{\"execute\": \"echo\", \"arguments\": {\"zz\": 1}, \"id\": 10}", 0,
          "GenericError", "Parameter 'zz' is unexpected", "10" },
        { "missing argument", "{\"execute\": \"emit\", \"id\": 11}", 0,
          "GenericError", "Parameter 'tag' is missing", "11" },
        { "integer beyond int64",
          "{\"execute\": \"echo\", \"arguments\": {\"n\": "
          "18446744073709551617}}", 0, "GenericError", "64-bit range", NULL },
        { "handler error class", "{\"execute\": \"fail\", \"id\": 12}", 0,
          "DeviceNotFound", "not found", "12" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        expect_error(rc, cases[i].what, cases[i].req, cases[i].len,
                     cases[i].cls, cases[i].desc, cases[i].id);
        ok(expect_echo(rc, (int)i), "a command works after: %s",
           cases[i].what);
    }

    /* Over the size bound: one error, then back in sync. */
    GString *big = g_string_new("{\"execute\": \"echo\", \"arguments\": "
                                "{\"value\": \"");
    while (big->len < QMP_MAX_MESSAGE_BYTES + 1000) {
        g_string_append(big, "0123456789abcdef");
    }
    g_string_append(big, "\"}}");
    expect_error(rc, "message over QMP_MAX_MESSAGE_BYTES", big->str,
                 big->len, "GenericError", "JSON token size limit exceeded",
                 NULL);
    ok(expect_echo(rc, 100), "a command works after an oversized message");
    g_string_free(big, TRUE);

    GString *deep = g_string_new("{\"execute\": \"echo\", \"arguments\": "
                                 "{\"value\": ");
    for (int i = 0; i < QMP_MAX_NESTING + 10; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < QMP_MAX_NESTING + 10; i++) {
        g_string_append_c(deep, ']');
    }
    g_string_append(deep, "}}");
    expect_error(rc, "nesting over QMP_MAX_NESTING", deep->str, deep->len,
                 "GenericError", "JSON nesting depth limit exceeded", NULL);
    ok(expect_echo(rc, 101), "a command works after too deep nesting");
    g_string_free(deep, TRUE);
    raw_close(rc);
}

static void test_framing(TestServer *ts)
{
    RawConn *rc = raw_connect(ts->path, true);

    GString *batch = g_string_new("");
    for (int i = 0; i < 100; i++) {
        g_string_append_printf(batch, "{\"execute\": \"echo\", \"arguments\": "
                               "{\"value\": %d}, \"id\": %d}", i * 3, i);
    }
    raw_send(rc, batch->str, batch->len);
    g_string_free(batch, TRUE);
    int in_order = 0;
    for (int i = 0; i < 100; i++) {
        JsonObject *r = raw_recv(rc, 5000);
        if (r && json_object_get_int_member(r, "id") == i &&
            json_object_get_int_member(r, "return") == i * 3) {
            in_order++;
        }
        if (r) {
            json_object_unref(r);
        }
    }
    is_int(in_order, 100, "100 pipelined commands in one write: 100 replies "
           "in order");

    const char *req = "{\"execute\": \"echo\", \"arguments\": {\"value\": "
                      "\"}{\\\"\"}, \"id\": \"split\"}";
    for (const char *p = req; *p; p++) {
        raw_send(rc, p, 1);
        g_usleep(500);
    }
    JsonObject *r = raw_recv(rc, 5000);
    ok(r && !g_strcmp0(json_object_get_string_member_with_default(
                           r, "return", NULL), "}{\""),
       "a command sent one byte at a time (braces in a string) answered");
    if (r) {
        json_object_unref(r);
    }
    raw_close(rc);
}

static int count_clients(RawConn *rc)
{
    raw_send_str(rc, "{\"execute\": \"count-clients\"}");
    JsonObject *r = raw_recv(rc, 5000);
    int n = r && json_object_has_member(r, "return")
            ? (int)json_object_get_int_member(r, "return") : -1;
    if (r) {
        json_object_unref(r);
    }
    return n;
}

/* Clients go away asynchronously: poll the count for a while. */
static int wait_clients(RawConn *rc, int want)
{
    int n = -1;
    for (int i = 0; i < 500 && n != want; i++) {
        n = count_clients(rc);
        if (n != want) {
            g_usleep(10000);
        }
    }
    return n;
}

static void test_bad_clients(TestServer *ts)
{
    RawConn *watcher = raw_connect(ts->path, true);
    is_int(count_clients(watcher), 1, "one client connected");

    RawConn *quitter = raw_connect(ts->path, true);
    raw_send_str(quitter, "{\"execute\": \"echo\", \"argum");
    is_int(count_clients(watcher), 2, "a second client, half a message sent");
    raw_close(quitter);
    is_int(wait_clients(watcher, 1), 1,
           "a client that disconnects mid-message is dropped");
    ok(expect_echo(watcher, 5), "others are unaffected");

    /* A client that sends commands with big answers and never reads. */
    RawConn *deaf = raw_connect(ts->path, true);
    GString *req = g_string_new("{\"execute\": \"echo\", \"arguments\": "
                                "{\"value\": \"");
    while (req->len < 512 * 1024) {
        g_string_append(req, "xxxxxxxxxxxxxxxx");
    }
    g_string_append(req, "\"}}");
    int sent = 0;
    for (int i = 0; i < 40; i++) {
        raw_send(deaf, req->str, req->len);
        sent++;
        if (i == 10) {
            ok(expect_echo(watcher, 6), "others are served while a client "
               "does not read");
        }
    }
    g_string_free(req, TRUE);
    is_int(wait_clients(watcher, 1), 1,
           "a client whose unread output passes QMP_MAX_OUTPUT_BACKLOG is "
           "disconnected (%d x 512 KiB requested)", sent);
    raw_close(deaf);
    ok(expect_echo(watcher, 7), "the server still works");
    raw_close(watcher);
}

static void test_events(TestServer *ts)
{
    RawConn *a = raw_connect(ts->path, true);
    RawConn *b = raw_connect(ts->path, true);
    RawConn *unneg = raw_connect(ts->path, false);
    JsonObject *g = raw_recv(unneg, 5000);
    if (g) {
        json_object_unref(g);
    }

    raw_send_str(a, "{\"execute\": \"emit\", \"arguments\": {\"tag\": \"t1\"},"
                    " \"id\": 1}");
    int events = 0, replies = 0;
    for (int i = 0; i < 2; i++) {
        JsonObject *r = raw_recv(a, 5000);
        if (r && json_object_has_member(r, "event")) {
            events++;
        } else if (r && json_object_has_member(r, "return")) {
            replies++;
        }
        if (r) {
            json_object_unref(r);
        }
    }
    ok(events == 1 && replies == 1, "the emitting client gets the event and "
       "its reply");
    JsonObject *e = raw_recv(b, 5000);
    JsonObject *ts_obj = e && json_object_has_member(e, "timestamp")
                         ? json_object_get_object_member(e, "timestamp")
                         : NULL;
    ok(e && !strcmp(json_object_get_string_member(e, "event"), "TEST_EVENT")
       && !strcmp(json_object_get_string_member(
                      json_object_get_object_member(e, "data"), "tag"), "t1"),
       "another client gets the event with its data");
    ok(ts_obj && json_object_get_int_member(ts_obj, "seconds") > 1600000000 &&
       json_object_get_int_member(ts_obj, "microseconds") >= 0 &&
       json_object_get_int_member(ts_obj, "microseconds") < 1000000,
       "the event has a timestamp {seconds, microseconds}");
    if (e) {
        json_object_unref(e);
    }
    /* The negotiation-mode client must see nothing: ask it something that
     * answers, and check that the answer is the first thing it reads. */
    raw_send_str(unneg, "{\"execute\": \"echo\", \"id\": \"probe\"}");
    JsonObject *r = raw_recv(unneg, 5000);
    ok(r && !json_object_has_member(r, "event") &&
       !g_strcmp0(json_object_get_string_member_with_default(r, "id", NULL),
                  "probe"),
       "a client still in negotiation gets no event");
    if (r) {
        json_object_unref(r);
    }
    raw_close(a);
    raw_close(b);
    raw_close(unneg);
}

static void test_socket_rules(TestServer *ts)
{
    struct stat st;
    ok(stat(ts->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
       (st.st_mode & 0777) == 0600, "the unix socket is mode 0600");

    g_autoptr(GError) err = NULL;
    AioContext *ctx = aio_context_new(NULL);
    QmpServer *other = qmp_server_new(ctx, ts->schema, 0, 0, 1, "");
    ok(!qmp_server_listen(other, ts->address, &err) && err &&
       strstr(err->message, "in use"),
       "a socket something listens on is not replaced (%s)",
       err ? err->message : "");
    g_clear_error(&err);

    /* A stale socket file: bound, never listened, closed. */
    g_autofree char *stale = g_build_filename(ts->dir, "stale.sock", NULL);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, stale, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    g_autofree char *addr = g_strconcat("unix:", stale, NULL);
    ok(qmp_server_listen(other, addr, &err), "a stale socket file is "
       "replaced");
    g_clear_error(&err);

    g_autofree char *notsock = g_build_filename(ts->dir, "plain", NULL);
    g_file_set_contents(notsock, "x", 1, NULL);
    g_autofree char *addr2 = g_strconcat("unix:", notsock, NULL);
    ok(!qmp_server_listen(other, addr2, &err), "a regular file is not "
       "replaced (%s)", err ? err->message : "");
    g_clear_error(&err);
    unlink(notsock);

    ok(!qmp_server_listen(other, "tcp:0.0.0.0:0", &err), "tcp on a "
       "non-loopback address is refused (%s)", err ? err->message : "");
    g_clear_error(&err);
    ok(!qmp_server_listen(other, "bogus", &err), "an unknown address form is "
       "refused");
    g_clear_error(&err);
    ok(qmp_server_tcp_port(ts->server) > 0, "tcp:127.0.0.1:0 picked a port");

    qmp_server_free(other);
    ok(access(stale, F_OK) != 0, "freeing a server removes its socket file");
    while (aio_poll(ctx, false)) {
    }
    aio_context_unref(ctx);
}

/* The socket-lifetime tests below run servers in the main thread, after
 * the loop-thread server stopped (two threads logging through GLib's
 * default writer race on localtime()'s static buffer). */
typedef struct {
    QmpSchema *schema;
    char *dir;
} SocketEnv;

/* A daemon killed a moment ago leaves its listener accepting for a few
 * milliseconds; a server started at once on its path must take it over,
 * not call it in use. */
static void *close_after_10ms(void *opaque)
{
    g_usleep(10 * 1000);
    close((int)(intptr_t)opaque);
    return NULL;
}

static void test_listener_closing_at_start_is_replaced(SocketEnv *ts)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = g_build_filename(ts->dir, "dying.sock", NULL);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool listening = fd >= 0 &&
                     bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                     listen(fd, 8) == 0;
    ok(listening, "a listener on %s", path);
    pthread_t closer;
    pthread_create(&closer, NULL, close_after_10ms, (void *)(intptr_t)fd);

    AioContext *ctx = aio_context_new(NULL);
    QmpServer *next = qmp_server_new(ctx, ts->schema, 0, 0, 1, "");
    g_autofree char *addr = g_strconcat("unix:", path, NULL);
    ok(qmp_server_listen(next, addr, &err), "a listener that stops "
       "accepting 10 ms later is replaced, not called in use (%s)",
       err ? err->message : "");
    pthread_join(closer, NULL);
    qmp_server_free(next);
    while (aio_poll(ctx, false)) {
    }
    aio_context_unref(ctx);
}

/* A freed server refuses connections at once, also on TCP (no path to
 * remove) and also while the loop's fdmon still holds the listening file
 * (io_uring keeps a polled file alive a few ms after close()). */
static void test_freed_listener_refuses_at_once(SocketEnv *ts)
{
    g_autoptr(GError) err = NULL;
    AioContext *ctx = aio_context_new(NULL);
    QmpServer *server = qmp_server_new(ctx, ts->schema, 0, 0, 1, "");
    bool listening = qmp_server_listen(server, "tcp:127.0.0.1:0", &err);
    int port = qmp_server_tcp_port(server);
    /* Let the fdmon arm its poll of the listening socket. */
    for (int i = 0; i < 3; i++) {
        aio_poll(ctx, false);
    }
    qmp_server_free(server);

    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
    int e = errno;
    close(fd);
    ok(listening && port > 0 && r < 0 && e == ECONNREFUSED,
       "a connect right after qmp_server_free() is refused (%s, backend %s)",
       r == 0 ? "accepted" : g_strerror(e), aio_context_fdmon_name(ctx));
    while (aio_poll(ctx, false)) {
    }
    aio_context_unref(ctx);
}

/* A client of a freed server reads EOF at once, not once the fdmon lets
 * go of the connection's file (io_uring keeps a polled file alive a few ms
 * after close(): a client would send its next command into it and get a
 * reset instead of reconnecting first). */
static void test_freed_connection_reads_eof_at_once(SocketEnv *ts)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = g_build_filename(ts->dir, "eof.sock", NULL);
    g_autofree char *addr = g_strconcat("unix:", path, NULL);
    AioContext *ctx = aio_context_new(NULL);
    QmpServer *server = qmp_server_new(ctx, ts->schema, 0, 0, 1, "");
    bool listening = qmp_server_listen(server, addr, &err);

    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool connected = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    /* Run the server until its greeting arrives, then a little more so
     * the fdmon watches the connection. */
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (connected && poll(&pfd, 1, 0) == 0 &&
           g_get_monotonic_time() < end) {
        aio_poll(ctx, false);
    }
    char buf[512];
    bool greeted = recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0;
    for (int i = 0; i < 3; i++) {
        aio_poll(ctx, false);
    }
    qmp_server_free(server);

    pfd.revents = 0;
    bool readable = poll(&pfd, 1, 0) == 1;
    ssize_t n = readable ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT) : -1;
    ok(listening && greeted && readable && n == 0,
       "a client reads EOF right after qmp_server_free() (%s, backend %s)",
       readable ? (n == 0 ? "EOF" : "data") : "nothing yet",
       aio_context_fdmon_name(ctx));
    close(fd);
    while (aio_poll(ctx, false)) {
    }
    aio_context_unref(ctx);
}

static void test_embedded_handlers(void)
{
    TestServer *ts = test_server_start(true);
    char **unhandled = qmp_server_unhandled_commands(ts->server);
    g_autofree char *list = g_strjoinv(",", unhandled);
    /* Every schema command but the server's own three. */
    guint daemon_commands =
        g_strv_length((char **)qmp_schema_command_names(
            ts->schema)) - 3;
    ok(g_strv_length(unhandled) == daemon_commands &&
       !g_strv_contains((const char *const *)unhandled, "qmp_capabilities") &&
       !g_strv_contains((const char *const *)unhandled, "query-qmp-schema") &&
       !g_strv_contains((const char *const *)unhandled, "query-commands"),
       "with the embedded schema only the daemon's %u commands lack a "
       "handler (%s)", daemon_commands, list);
    g_strfreev(unhandled);

    RawConn *rc = raw_connect(ts->path, true);
    raw_send_str(rc, "{\"execute\": \"query-qmp-schema\"}");
    JsonObject *r = raw_recv(rc, 5000);
    ok(r && json_object_has_member(r, "return") &&
       json_array_get_length(json_object_get_array_member(r, "return")) > 20,
       "query-qmp-schema answers the SchemaInfo array");
    if (r) {
        json_object_unref(r);
    }
    expect_error(rc, "a schema command without a handler",
                 "{\"execute\": \"query-iothreads\"}", 0, "CommandNotFound",
                 "query-iothreads", NULL);
    raw_close(rc);
    test_server_stop(ts);
}

/* query-iothreads must return an array; this handler answers an object. */
static JsonNode *cmd_wrong_shape(QmpServer *server, JsonObject *args,
                                 void *opaque, GError **error)
{
    return json_from_string("{\"id\": \"io0\"}", NULL);
}

/* Execute query-iothreads on a server made with IOTHREADD_CHECK_SCHEMA
 * set to @mode; return the error message or NULL (reply passed). */
static char *execute_wrong_shape(const char *mode)
{
    g_autoptr(GError) err = NULL;
    AioContext *ctx = aio_context_new(&err);
    QmpSchema *schema = qmp_schema_load_embedded(&err);
    const char *old = g_getenv("IOTHREADD_CHECK_SCHEMA");
    g_autofree char *saved = g_strdup(old);
    char *message = NULL;

    g_setenv("IOTHREADD_CHECK_SCHEMA", mode, TRUE);
    QmpServer *server = qmp_server_new(ctx, schema, 1, 2, 3, "");
    if (saved) {
        g_setenv("IOTHREADD_CHECK_SCHEMA", saved, TRUE);
    } else {
        g_unsetenv("IOTHREADD_CHECK_SCHEMA");
    }
    qmp_server_register(server, "query-iothreads", cmd_wrong_shape, NULL);
    JsonNode *ret = qmp_server_execute(server, "query-iothreads", NULL, &err);
    if (ret) {
        json_node_unref(ret);
    } else {
        message = g_strdup(err->message);
    }
    qmp_server_free(server);
    qmp_schema_free(schema);
    aio_context_unref(ctx);
    return message;
}

static void test_reply_checked_against_schema(void)
{
    g_autofree char *checked = execute_wrong_shape("1");
    g_autofree char *unchecked = execute_wrong_shape("0");

    if (!ok(checked && !strcmp(checked, "reply to 'query-iothreads' does "
                               "not match the schema: Invalid parameter type "
                               "for 'return', expected: array"),
            "check mode: a reply of the wrong shape becomes an error naming "
            "it")) {
        diag("got: %s", checked ? checked : "(passed)");
    }
    ok(!unchecked, "without check mode the reply passes as the handler "
       "made it");
}

/* Send @req and check the reply's bytes (CRLF stripped) are @want. */
static void expect_bytes(RawConn *rc, const char *what, const char *req,
                         const char *want)
{
    raw_send_str(rc, req);
    g_autofree char *got = raw_recv_line(rc, 5000);
    if (!ok(got && !strcmp(got, want), "%s", what)) {
        diag("got  %s", got ? got : "(nothing)");
        diag("want %s", want);
    }
}

/* On a fresh connection: send @req, check the reply is exactly @want. */
static void check_reply_bytes(TestServer *ts, const char *what,
                              const char *req, const char *want)
{
    RawConn *rc = raw_connect(ts->path, true);
    expect_bytes(rc, what, req, want);
    raw_close(rc);
}

static void test_output_is_ascii(TestServer *ts)
{
    /* U+00E9 raw UTF-8, U+1F600 raw UTF-8, U+007F, U+001F escaped, "\/" */
    check_reply_bytes(ts, "non-ASCII id echoed as \\uXXXX and a surrogate pair",
                      "{\"execute\": \"nope\", \"id\": \"\xc3\xa9\xf0\x9f\x98"
                      "\x80\\u007f\\u001f\\/\"}",
                      "{\"id\": \"\\u00E9\\uD83D\\uDE00\\u007F\\u001F/\", "
                      "\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                      "\"The command nope has not been found\"}}");
}

static void test_member_order_as_qemu(TestServer *ts)
{
    check_reply_bytes(ts, "return before id, id before error (QEMU's QDict "
                      "order)",
                      "{\"execute\": \"echo\", \"arguments\": {\"value\": "
                      "{\"major\": 1, \"minor\": 2, \"micro\": 3}}, "
                      "\"id\": 9}",
                      "{\"return\": {\"micro\": 3, \"minor\": 2, "
                      "\"major\": 1}, \"id\": 9}");
}

static void test_duplicate_keys_refused(TestServer *ts)
{
    RawConn *rc = raw_connect(ts->path, true);
    expect_bytes(rc, "a duplicate key refused with QEMU's text",
                 "{\"execute\": \"echo\", \"arguments\": {\"value\": 1, "
                 "\"v\\u0061lue\": 2}, \"id\": 1}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"JSON parse error, duplicate key\"}}");
    ok(expect_echo(rc, 102), "a command works after a duplicate key");
    raw_close(rc);
}

static void test_unclosed_nesting_answered_at_once(TestServer *ts)
{
    RawConn *rc = raw_connect(ts->path, true);
    GString *open = g_string_new(NULL);
    for (int i = 0; i < 100000; i++) {
        g_string_append_c(open, '[');
    }
    raw_send(rc, open->str, open->len);
    g_string_free(open, TRUE);
    JsonObject *r = raw_recv(rc, 5000);
    ok(r && !g_strcmp0(reply_error_desc(r),
                       "JSON nesting depth limit exceeded"),
       "100000 unclosed '[' answered before the value closes");
    if (r) {
        json_object_unref(r);
    }
    raw_close(rc);
}

int main(void)
{
    TestServer *ts = test_server_start(false);
    test_greeting_and_negotiation(ts);
    test_malformed(ts);
    test_framing(ts);
    test_bad_clients(ts);
    test_events(ts);
    test_socket_rules(ts);
    test_output_is_ascii(ts);
    test_member_order_as_qemu(ts);
    test_duplicate_keys_refused(ts);
    test_unclosed_nesting_answered_at_once(ts);
    test_server_stop(ts);

    SocketEnv env = { qmp_schema_load_embedded(NULL),
                      g_dir_make_tmp("qmp-socket-XXXXXX", NULL) };
    test_listener_closing_at_start_is_replaced(&env);
    test_freed_listener_refuses_at_once(&env);
    test_freed_connection_reads_eof_at_once(&env);
    g_autofree char *dying = g_build_filename(env.dir, "dying.sock", NULL);
    unlink(dying);
    rmdir(env.dir);
    g_free(env.dir);
    qmp_schema_free(env.schema);

    test_embedded_handlers();
    test_reply_checked_against_schema();
    return done_testing();
}
