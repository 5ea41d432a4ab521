/*
 * Raw QMP peers pumped together with an in-process server (see
 * fuzz-peers.h).
 */
#include "fuzz-peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

FuzzPeer *fuzz_peer_connect(const char *path, int tcp_port)
{
    int fd;
    int r;

    if (path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    } else {
        struct sockaddr_in sa = {
            .sin_family = AF_INET,
            .sin_port = htons((uint16_t)tcp_port),
            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    }
    /* Loopback connects complete at once or report EINPROGRESS; the
     * listen backlog (128) holds us until the server accepts. */
    if (fd < 0 || (r < 0 && errno != EINPROGRESS && errno != EAGAIN)) {
        g_error("connect: %s", g_strerror(errno));
    }
    FuzzPeer *p = g_new0(FuzzPeer, 1);
    p->fd = fd;
    p->out = g_string_new(NULL);
    p->cut = SIZE_MAX;
    p->in = g_string_new(NULL);
    p->replies = g_ptr_array_new_with_free_func(
        (GDestroyNotify)json_object_unref);
    return p;
}

void fuzz_peer_free(FuzzPeer *p)
{
    if (!p) {
        return;
    }
    if (!p->closed) {
        close(p->fd);
    }
    g_string_free(p->out, TRUE);
    g_string_free(p->in, TRUE);
    if (p->greeting) {
        json_object_unref(p->greeting);
    }
    g_ptr_array_unref(p->replies);
    g_free(p);
}

static void peer_close(FuzzPeer *p)
{
    if (!p->closed) {
        close(p->fd);
        p->closed = true;
    }
}

/* Split what arrived into CRLF-terminated messages. */
static void peer_parse(FuzzPeer *p)
{
    char *crlf;
    while ((crlf = strstr(p->in->str, "\r\n"))) {
        size_t len = (size_t)(crlf - p->in->str);
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        JsonNode *root = NULL;
        if (json_parser_load_from_data(parser, p->in->str, (gssize)len,
                                       NULL)) {
            root = json_parser_get_root(parser);
        }
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
            /* Counted as a reply too, so waiting for replies ends. */
            if (p->unparsable++ < 3) {
                g_autofree char *raw = g_strndup(p->in->str, MIN(len, 300));
                g_autofree char *shown = g_strescape(raw, NULL);
                g_printerr("# unparsable server message: %s\n", shown);
            }
            g_ptr_array_add(p->replies, json_object_new());
        } else {
            JsonObject *o = json_node_get_object(root);
            if (!p->greeting && json_object_has_member(o, "QMP")) {
                p->greeting = json_object_ref(o);
            } else if (json_object_has_member(o, "event")) {
                p->events++;
            } else {
                g_ptr_array_add(p->replies, json_object_ref(o));
            }
        }
        g_string_erase(p->in, 0, (gssize)(len + 2));
    }
}

/* One non-blocking round for @p.  Returns whether anything moved. */
static bool peer_step(FuzzPeer *p, FuzzRng *r)
{
    bool moved = false;

    if (p->closed) {
        return false;
    }
    size_t limit = MIN(p->out->len, p->cut);
    if (p->off < limit) {
        size_t want = 1 + fuzz_below(r, fuzz_one_in(r, 4) ? 65536 : 512);
        size_t n = MIN(limit - p->off, want);
        ssize_t sent = send(p->fd, p->out->str + p->off, n,
                            MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            p->off += (size_t)sent;
            moved = true;
        } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                   errno != EINTR && errno != ENOTCONN) {
            p->eof = true;      /* EPIPE / ECONNRESET: server closed us */
        }
    }
    if (p->off == p->cut) {
        peer_close(p);          /* disconnect mid-stream, replies unread */
        return true;
    }
    char buf[65536];
    ssize_t got = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (got > 0) {
        g_string_append_len(p->in, buf, got);
        peer_parse(p);
        moved = true;
    } else if (got == 0) {
        p->eof = true;
        peer_close(p);
        moved = true;
    }
    return moved;
}

static bool peer_finished(const FuzzPeer *p, unsigned want)
{
    return p->closed || p->eof ||
           (p->off == p->out->len && p->replies->len >= want);
}

bool fuzz_pump(AioContext *ctx, FuzzRng *r, FuzzPeer **peers, unsigned n,
               const unsigned *want_replies, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        bool all_done = true, moved = false;
        for (unsigned i = 0; i < n; i++) {
            moved |= peer_step(peers[i], r);
            if (!peer_finished(peers[i], want_replies ? want_replies[i] : 0)) {
                all_done = false;
            }
        }
        for (int i = 0; i < 64 && aio_poll(ctx, false); i++) {
            moved = true;
        }
        if (all_done) {
            return true;
        }
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        if (!moved) {
            /* Nothing to do on either side right now: give the kernel and
             * the iothreads a moment instead of spinning. */
            struct pollfd pfd[64];
            unsigned np = 0;
            for (unsigned i = 0; i < n && np < G_N_ELEMENTS(pfd); i++) {
                if (!peers[i]->closed) {
                    pfd[np++] = (struct pollfd){ peers[i]->fd, POLLIN, 0 };
                }
            }
            poll(pfd, np, 1);
        }
    }
}

JsonObject *fuzz_rpc(AioContext *ctx, FuzzRng *r, FuzzPeer *p,
                     const char *json)
{
    unsigned want = p->replies->len + 1;
    g_string_append(p->out, json);
    if (!fuzz_pump(ctx, r, &p, 1, &want, 10000) || p->replies->len < want) {
        return NULL;
    }
    return p->replies->pdata[want - 1];
}

const char *fuzz_reply_class(JsonObject *reply)
{
    JsonNode *e = json_object_get_member(reply, "error");
    if (!e || !JSON_NODE_HOLDS_OBJECT(e)) {
        return NULL;
    }
    return json_object_get_string_member_with_default(
        json_node_get_object(e), "class", "(none)");
}

const char *fuzz_reply_desc(JsonObject *reply)
{
    JsonNode *e = json_object_get_member(reply, "error");
    if (!e || !JSON_NODE_HOLDS_OBJECT(e)) {
        return "";
    }
    return json_object_get_string_member_with_default(
        json_node_get_object(e), "desc", "");
}
