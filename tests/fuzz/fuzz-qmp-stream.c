/*
 * libFuzzer target: arbitrary bytes as one QMP client's input stream to a
 * real in-process QmpServer (embedded schema; every schema command has a
 * no-op handler, so argument validation runs but nothing changes).  The
 * input goes through a socketpair in chunks whose sizes come from the
 * input itself; the harness aborts (a libFuzzer "crash") if the server
 * answers anything that is not a CRLF-terminated JSON object, or sends no
 * greeting.
 *
 * Not part of the test suite: built only when the compiler is clang.
 * How to run (coverage needs the libraries instrumented too):
 *
 *   CC=clang meson setup build-libfuzzer -Db_lundef=false \
 *       -Dc_args=-fsanitize=fuzzer-no-link,address,undefined \
 *       -Dc_link_args=-fsanitize=address,undefined
 *   ninja -C build-libfuzzer tests/fuzz/fuzz-qmp-stream
 *   mkdir -p /tmp/qmp-corpus
 *   ./build-libfuzzer/tests/fuzz/fuzz-qmp-stream -max_len=4096 \
 *       -max_total_time=300 /tmp/qmp-corpus
 *
 * A crash input is written to ./crash-*; replay it with
 * `./build-libfuzzer/tests/fuzz/fuzz-qmp-stream crash-<hash>`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server-internal.h"

static AioContext *ctx;
static QmpServer *server;

static JsonNode *noop_handler(QmpServer *s, JsonObject *args, void *opaque,
                              GError **error)
{
    return NULL;
}

static void setup(void)
{
    GError *err = NULL;
    ctx = aio_context_new(&err);
    if (!ctx) {
        abort();
    }
    aio_set_current_context(ctx);
    QmpSchema *schema = qmp_schema_load_embedded(&err);
    if (!schema) {
        abort();
    }
    server = qmp_server_new(ctx, schema, 0, 1, 0, "libfuzzer");
    for (const char *const *n = qmp_schema_command_names(schema); *n; n++) {
        if (strcmp(*n, "qmp_capabilities") && strcmp(*n, "query-commands") &&
            strcmp(*n, "query-qmp-schema")) {
            qmp_server_register(server, *n, noop_handler, NULL);
        }
    }
}

/* Every complete line of @out must be a JSON object. */
static void check_output(GString *out, bool final)
{
    char *crlf;
    while ((crlf = strstr(out->str, "\r\n"))) {
        size_t len = (size_t)(crlf - out->str);
        JsonParser *p = json_parser_new_immutable();
        if (!json_parser_load_from_data(p, out->str, (gssize)len, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
            abort();
        }
        g_object_unref(p);
        g_string_erase(out, 0, (gssize)(len + 2));
    }
    if (final && out->len) {
        abort();        /* a message without its CRLF */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];

    if (!server) {
        setup();
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) < 0) {
        abort();
    }
    qmp_conn_start(server, fds[0]);
    GString *out = g_string_new(NULL);
    size_t off = 0;
    bool shut = false;
    unsigned idle = 0;

    while (qmp_server_client_count(server) > 0 && idle < 1000) {
        bool moved = false;
        if (off < size) {
            size_t chunk = 1 + data[off] % 64;
            ssize_t n = send(fds[1], data + off, MIN(chunk, size - off),
                             MSG_NOSIGNAL);
            if (n > 0) {
                off += (size_t)n;
                moved = true;
            }
        } else if (!shut) {
            shutdown(fds[1], SHUT_WR);      /* EOF: the server closes us */
            shut = true;
        }
        char buf[65536];
        ssize_t n = recv(fds[1], buf, sizeof(buf), 0);
        if (n > 0) {
            g_string_append_len(out, buf, n);
            moved = true;
        }
        while (aio_poll(ctx, false)) {
            moved = true;
        }
        idle = moved ? 0 : idle + 1;
    }
    ssize_t n;
    char buf[65536];
    while ((n = recv(fds[1], buf, sizeof(buf), 0)) > 0) {
        g_string_append_len(out, buf, n);
    }
    if (!g_str_has_prefix(out->str, "{\"QMP\"")) {
        abort();
    }
    check_output(out, qmp_server_client_count(server) == 0);
    /* Left open only if the server stalled; close it for the next run. */
    while (server->conns->len) {
        qmp_conn_close(g_ptr_array_index(server->conns, 0));
    }
    while (aio_poll(ctx, false)) {
    }
    close(fds[1]);
    g_string_free(out, TRUE);
    return 0;
}
