/*
 * A small synchronous QMP client (see client.h): blocking writes, reads
 * with poll() timeouts, the shared JSON stream splitter for framing, and a
 * queue for events that arrive while a reply is awaited.
 */
#include "client.h"
#include "json-check.h"
#include "json-splitter.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

G_DEFINE_QUARK(qmp-client-error-quark, qmp_client_error)

/* The client accepts the same bounds the server enforces, larger for
 * output (query-qmp-schema is tens of kilobytes). */
#define CLIENT_MAX_MESSAGE (16 * 1024 * 1024)
#define CLIENT_MAX_NESTING 128

struct QmpClient {
    int fd;
    JsonSplitter *splitter;
    GQueue incoming;        /* JsonNode*: parsed messages not yet consumed */
    GQueue events;          /* JsonNode*: events for qmp_client_pop_event */
    JsonNode *greeting;
    char *last_error_class;
    char *protocol_error;   /* set by the splitter callback */
    int timeout_ms;
    gint64 next_id;
};

static bool client_emit(void *opaque, const char *text, size_t len,
                        const char *error)
{
    QmpClient *c = opaque;
    if (error) {
        g_free(c->protocol_error);
        c->protocol_error = g_strdup(error);
        return true;
    }
    JsonParser *p = json_parser_new_immutable();
    GError *err = NULL;
    if (!json_parser_load_from_data(p, text, (gssize)len, &err) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        g_free(c->protocol_error);
        c->protocol_error = g_strdup_printf("the peer sent %s: %s",
                                            err ? "invalid JSON"
                                                : "a non-object",
                                            err ? err->message : text);
        g_clear_error(&err);
    } else {
        g_queue_push_tail(&c->incoming, json_node_ref(json_parser_get_root(p)));
    }
    g_object_unref(p);
    return true;
}

/* Wait until a parsed message is queued in c->incoming.  @deadline: a
 * g_get_monotonic_time() value, or -1 for none. */
static bool client_fill(QmpClient *c, gint64 deadline, GError **error)
{
    char buf[65536];

    while (g_queue_is_empty(&c->incoming)) {
        int wait_ms = -1;
        if (deadline >= 0) {
            gint64 left = deadline - g_get_monotonic_time();
            wait_ms = left <= 0 ? 0 : (int)((left + 999) / 1000);
        }
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                        "poll: %s", g_strerror(errno));
            return false;
        }
        if (r == 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_TIMEOUT,
                        "no answer from the daemon within %d ms",
                        c->timeout_ms);
            return false;
        }
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                        "the daemon closed the connection%s%s",
                        n < 0 ? ": " : "", n < 0 ? g_strerror(errno) : "");
            return false;
        }
        json_splitter_feed(c->splitter, buf, (size_t)n, client_emit, c);
        if (c->protocol_error) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                        "%s", c->protocol_error);
            g_clear_pointer(&c->protocol_error, g_free);
            return false;
        }
    }
    return true;
}

static gint64 deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1
                          : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
}

/* The next message that is not an event (events are queued). */
static JsonNode *client_next_reply(QmpClient *c, GError **error)
{
    gint64 deadline = deadline_after(c->timeout_ms);
    for (;;) {
        if (!client_fill(c, deadline, error)) {
            return NULL;
        }
        JsonNode *msg = g_queue_pop_head(&c->incoming);
        if (json_object_has_member(json_node_get_object(msg), "event")) {
            g_queue_push_tail(&c->events, msg);
            continue;
        }
        return msg;
    }
}

static bool client_send(QmpClient *c, const char *text, size_t len,
                        GError **error)
{
    while (len) {
        ssize_t n = send(c->fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                        "sending to the daemon: %s", g_strerror(errno));
            return false;
        }
        text += n;
        len -= (size_t)n;
    }
    return true;
}

static int connect_unix(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                    "'%s': the socket path must be 1 to %zu bytes long", path,
                    sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                    "cannot connect to %s: %s", path, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *hostport, GError **error)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1]) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                    "'tcp:%s': expected tcp:HOST:PORT", hostport);
        return -1;
    }
    g_autofree char *host = g_strndup(hostport, colon - hostport);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int r = getaddrinfo(host, colon + 1, &hints, &res);
    if (r != 0) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                    "tcp:%s: %s", hostport, gai_strerror(r));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                    "cannot connect to tcp:%s: %s", hostport,
                    g_strerror(err ? err : errno));
    }
    return fd;
}

QmpClient *qmp_client_connect(const char *address, GError **error)
{
    int fd;
    if (g_str_has_prefix(address, "tcp:")) {
        fd = connect_tcp(address + 4, error);
    } else {
        fd = connect_unix(g_str_has_prefix(address, "unix:") ? address + 5
                                                              : address,
                          error);
    }
    if (fd < 0) {
        return NULL;
    }
    QmpClient *c = g_new0(QmpClient, 1);
    c->fd = fd;
    c->splitter = json_splitter_new(CLIENT_MAX_MESSAGE, CLIENT_MAX_NESTING);
    c->timeout_ms = QMP_CLIENT_DEFAULT_TIMEOUT_MS;
    g_queue_init(&c->incoming);
    g_queue_init(&c->events);

    JsonNode *greeting = client_next_reply(c, error);
    if (!greeting) {
        qmp_client_free(c);
        return NULL;
    }
    JsonObject *g = json_node_get_object(greeting);
    JsonNode *qmp = json_object_get_member(g, "QMP");
    if (!qmp || !JSON_NODE_HOLDS_OBJECT(qmp)) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "%s did not greet with {\"QMP\": ...}: not a QMP server",
                    address);
        json_node_unref(greeting);
        qmp_client_free(c);
        return NULL;
    }
    c->greeting = greeting;
    JsonNode *ret = qmp_client_execute(c, "qmp_capabilities", NULL, error);
    if (!ret) {
        g_prefix_error(error, "capabilities negotiation: ");
        qmp_client_free(c);
        return NULL;
    }
    json_node_unref(ret);
    return c;
}

void qmp_client_free(QmpClient *c)
{
    if (!c) {
        return;
    }
    close(c->fd);
    json_splitter_free(c->splitter);
    g_queue_clear_full(&c->incoming, (GDestroyNotify)json_node_unref);
    g_queue_clear_full(&c->events, (GDestroyNotify)json_node_unref);
    if (c->greeting) {
        json_node_unref(c->greeting);
    }
    g_free(c->last_error_class);
    g_free(c->protocol_error);
    g_free(c);
}

JsonObject *qmp_client_greeting(QmpClient *c)
{
    return json_object_get_object_member(json_node_get_object(c->greeting),
                                         "QMP");
}

void qmp_client_set_timeout(QmpClient *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

JsonNode *qmp_client_execute(QmpClient *c, const char *command,
                             JsonObject *arguments, GError **error)
{
    JsonObject *req = json_object_new();
    json_object_set_string_member(req, "execute", command);
    if (arguments) {
        json_object_set_object_member(req, "arguments",
                                      json_object_ref(arguments));
    }
    json_object_set_int_member(req, "id", ++c->next_id);
    JsonNode *node = json_node_init_object(json_node_alloc(), req);
    json_object_unref(req);
    g_autofree char *text = json_to_string(node, FALSE);
    json_node_unref(node);

    g_clear_pointer(&c->last_error_class, g_free);
    if (!client_send(c, text, strlen(text), error)) {
        return NULL;
    }
    JsonNode *reply = client_next_reply(c, error);
    if (!reply) {
        return NULL;
    }
    JsonObject *r = json_node_get_object(reply);
    JsonNode *ret = json_object_get_member(r, "return");
    JsonNode *err = json_object_get_member(r, "error");
    JsonNode *result = NULL;
    if (ret) {
        result = json_node_copy(ret);
    } else if (err && JSON_NODE_HOLDS_OBJECT(err)) {
        JsonObject *e = json_node_get_object(err);
        c->last_error_class = g_strdup(
            json_object_get_string_member_with_default(e, "class",
                                                       "GenericError"));
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_COMMAND, "%s",
                    json_object_get_string_member_with_default(
                        e, "desc", "(no description)"));
    } else {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "the daemon's answer to %s has neither 'return' nor "
                    "'error'", command);
    }
    json_node_unref(reply);
    return result;
}

JsonNode *qmp_client_execute_raw(QmpClient *c, const char *json,
                                 GError **error)
{
    /* Checked locally: an incomplete text would leave the server waiting
     * for its end and swallow the next command, a second value would get
     * a reply of its own.  json_check, not json-glib: json-glib accepts
     * trailing values and leaks on some malformed text. */
    char perr[JSON_CHECK_ERROR_SIZE];
    if (!json_check(json, strlen(json), perr, sizeof(perr))) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_INVALID,
                    "not valid JSON: %s", perr);
        return NULL;
    }
    g_clear_pointer(&c->last_error_class, g_free);
    if (!client_send(c, json, strlen(json), error)) {
        return NULL;
    }
    JsonNode *reply = client_next_reply(c, error);
    if (reply) {
        JsonNode *err = json_object_get_member(json_node_get_object(reply),
                                               "error");
        if (err && JSON_NODE_HOLDS_OBJECT(err)) {
            c->last_error_class = g_strdup(
                json_object_get_string_member_with_default(
                    json_node_get_object(err), "class", "GenericError"));
        }
    }
    return reply;
}

const char *qmp_client_last_error_class(QmpClient *c)
{
    return c->last_error_class;
}

JsonNode *qmp_client_pop_event(QmpClient *c, int timeout_ms, GError **error)
{
    gint64 deadline = deadline_after(timeout_ms);
    while (g_queue_is_empty(&c->events)) {
        g_autoptr(GError) err = NULL;
        if (!client_fill(c, deadline, &err)) {
            if (err->code != QMP_CLIENT_ERROR_TIMEOUT) {
                g_propagate_error(error, g_steal_pointer(&err));
            }
            return NULL;
        }
        JsonNode *msg = g_queue_pop_head(&c->incoming);
        if (json_object_has_member(json_node_get_object(msg), "event")) {
            g_queue_push_tail(&c->events, msg);
        } else {
            json_node_unref(msg);   /* a reply nobody waits for */
        }
    }
    return g_queue_pop_head(&c->events);
}

int qmp_client_fd(QmpClient *c)
{
    return c->fd;
}
