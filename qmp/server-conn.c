/*
 * One QMP client connection: non-blocking reads fed to the JSON stream
 * splitter, buffered non-blocking writes (io_write is registered only while
 * output is pending), the output backlog bound, and a lifetime that
 * survives being closed from inside its own callbacks.
 */
#include "server-internal.h"
#include "json-writer.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One read() per wake-up, so many busy clients share the loop fairly. */
#define QMP_READ_CHUNK 65536

static void conn_read(void *opaque);
static void conn_write(void *opaque);

static void conn_ref(QmpConn *conn)
{
    conn->refs++;
}

static void conn_unref(QmpConn *conn)
{
    g_assert(conn->refs > 0);
    if (--conn->refs == 0) {
        g_assert(conn->closed);
        json_splitter_free(conn->splitter);
        g_byte_array_unref(conn->out);
        g_free(conn);
    }
}

static void conn_update_handlers(QmpConn *conn)
{
    if (conn->closed) {
        return;
    }
    aio_set_fd_handler(conn->server->ctx, conn->fd,
                       conn->read_paused ? NULL : conn_read,
                       conn->write_armed ? conn_write : NULL,
                       NULL, NULL, conn);
}

/* The peer reads EOF at once: shutdown() first, since after close() the
 * io_uring fdmon may hold the socket's file a few ms longer, and a client
 * that sees the connection still open would send its next command into it
 * (and get a reset) instead of reconnecting first. */
void qmp_conn_close(QmpConn *conn)
{
    if (conn->closed) {
        return;
    }
    shutdown(conn->fd, SHUT_RDWR);
    aio_set_fd_handler(conn->server->ctx, conn->fd, NULL, NULL, NULL, NULL,
                       NULL);
    close(conn->fd);
    conn->fd = -1;
    conn->closed = true;
    g_ptr_array_remove(conn->server->conns, conn);
    conn_unref(conn);       /* the connection's own reference */
}

/* Write what the socket takes.  Returns false if the connection closed. */
static bool conn_flush(QmpConn *conn)
{
    while (conn->out_off < conn->out->len) {
        ssize_t n = send(conn->fd, conn->out->data + conn->out_off,
                         conn->out->len - conn->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            qmp_conn_close(conn);       /* EPIPE, ECONNRESET: peer gone */
            return false;
        }
        conn->out_off += (size_t)n;
    }
    if (conn->out_off == conn->out->len) {
        g_byte_array_set_size(conn->out, 0);
        conn->out_off = 0;
    } else if (conn->out_off > conn->out->len / 2) {
        g_byte_array_remove_range(conn->out, 0, (guint)conn->out_off);
        conn->out_off = 0;
    }
    bool want_write = conn->out->len > 0;
    if (want_write != conn->write_armed) {
        conn->write_armed = want_write;
        conn_update_handlers(conn);
    }
    return true;
}

static void conn_write(void *opaque)
{
    conn_flush(opaque);
}

void qmp_conn_send(QmpConn *conn, const char *text, size_t len)
{
    if (conn->closed) {
        return;
    }
    if (conn->out->len - conn->out_off + len + 2 > QMP_MAX_OUTPUT_BACKLOG) {
        /* It stopped reading: dropping messages silently would desync it,
         * keeping them would grow without bound. */
        g_info("qmp: closing a client with more than %d bytes of unread "
               "output", QMP_MAX_OUTPUT_BACKLOG);
        qmp_conn_close(conn);
        return;
    }
    bool was_empty = conn->out->len == conn->out_off;
    g_byte_array_append(conn->out, (const guint8 *)text, (guint)len);
    g_byte_array_append(conn->out, (const guint8 *)"\r\n", 2);
    if (was_empty) {
        conn_flush(conn);
    }
}

static bool conn_emit(void *opaque, const char *text, size_t len,
                      const char *error)
{
    QmpConn *conn = opaque;
    qmp_server_handle_message(conn, text, len, error);
    return !conn->closed;
}

static void conn_read(void *opaque)
{
    QmpConn *conn = opaque;
    char buf[QMP_READ_CHUNK];

    if (conn->in_read) {
        /* A handler runs a nested loop: do not interleave this client's
         * next message with the one being dispatched; stop watching until
         * the outer read returns. */
        conn->read_paused = true;
        conn_update_handlers(conn);
        return;
    }
    ssize_t n = recv(conn->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        qmp_conn_close(conn);   /* EOF (maybe mid-message) or error */
        return;
    }
    conn_ref(conn);
    conn->in_read = true;
    json_splitter_feed(conn->splitter, buf, (size_t)n, conn_emit, conn);
    conn->in_read = false;
    if (conn->read_paused) {
        conn->read_paused = false;
        conn_update_handlers(conn);
    }
    conn_unref(conn);
}

void qmp_conn_start(QmpServer *server, int fd)
{
    qmp_conn_start_from(server, NULL, fd);
}

void qmp_conn_start_from(QmpServer *server, QmpListener *listener, int fd)
{
    QmpConn *conn = g_new0(QmpConn, 1);
    conn->server = server;
    conn->listener = listener;
    conn->fd = fd;
    conn->refs = 1;
    conn->splitter = json_splitter_new(QMP_MAX_MESSAGE_BYTES, QMP_MAX_NESTING);
    conn->out = g_byte_array_new();
    g_ptr_array_add(server->conns, conn);

    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "QMP");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "qemu");
    json_builder_begin_object(b);
    static const char *const parts[] = { "major", "minor", "micro" };
    for (int i = 0; i < 3; i++) {
        json_builder_set_member_name(b, parts[i]);
        json_builder_add_int_value(b, server->version[i]);
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "package");
    json_builder_add_string_value(b, server->package);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "capabilities");
    json_builder_begin_array(b);    /* no "oob": we do not offer exec-oob */
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    GString *text = g_string_sized_new(160);
    qmp_json_write(text, root);
    json_node_unref(root);
    g_object_unref(b);

    conn_update_handlers(conn);
    qmp_conn_send(conn, text->str, text->len);
    g_string_free(text, TRUE);
}
