/*
 * The QMP server's listening sockets: unix sockets with their mode and
 * group, tcp on loopback unless allow-remote=on, the max-clients limit and
 * the log line naming each client's peer.  Options are parsed by
 * qmp_address_parse (server-address.c); read-only sockets are enforced at
 * dispatch (server.c).
 */
#include "server-internal.h"
#include "json-writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Stop accepting at once: the path goes first (a client looking for a
 * server must not find this one), then shutdown() makes connects refused
 * even while the io_uring fdmon still holds the file after close(). */
void qmp_listener_free(QmpListener *l)
{
    if (l->unix_path) {
        unlink(l->unix_path);
        g_free(l->unix_path);
    }
    shutdown(l->fd, SHUT_RDWR);
    aio_set_fd_handler(l->server->ctx, l->fd, NULL, NULL, NULL, NULL, NULL);
    close(l->fd);
    qmp_address_clear(&l->addr);
    g_free(l->name);
    g_free(l);
}

/* The log line of a new client: who it is (SO_PEERCRED on unix). */
static void log_peer(QmpListener *l, int fd)
{
    if (!l->tcp) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            g_message("qmp: client on %s: pid %d uid %u gid %u", l->name,
                      (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
        }
        return;
    }
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    char host[INET_ADDRSTRLEN] = "?";
    if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0) {
        inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host));
    }
    g_message("qmp: client on tcp %s: from %s:%u", l->name, host,
              (unsigned)ntohs(peer.sin_port));
}

static unsigned clients_of(QmpListener *l)
{
    unsigned n = 0;

    for (guint i = 0; i < l->server->conns->len; i++) {
        QmpConn *conn = g_ptr_array_index(l->server->conns, i);
        n += conn->listener == l;
    }
    return n;
}

/* One client over max-clients: told why, then closed (best effort: the
 * message is small enough for any socket buffer). */
static void refuse_client(QmpListener *l, int fd)
{
    g_autofree char *desc = g_strdup_printf(
        "too many clients on %s (max-clients=%u); try again later", l->name,
        l->addr.max_clients);
    g_autoptr(JsonObject) err = json_object_new();
    json_object_set_string_member(err, "class",
                                  qmp_error_class_name(QMP_ERROR_GENERIC));
    json_object_set_string_member(err, "desc", desc);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), err);
    const char *names[] = { "error" };
    JsonNode *values[] = { node };
    GString *s = g_string_new(NULL);
    qmp_json_write_members(s, 1, names, values);
    g_string_append(s, "\r\n");
    if (send(fd, s->str, s->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        g_info("qmp: refusing a client: %s", g_strerror(errno));
    }
    g_string_free(s, TRUE);
    g_message("qmp: refused a client on %s: max-clients=%u reached", l->name,
              l->addr.max_clients);
    close(fd);
}

static void accept_one(QmpListener *l, int fd)
{
    log_peer(l, fd);
    if (l->addr.max_clients && clients_of(l) >= l->addr.max_clients) {
        refuse_client(l, fd);
        return;
    }
    if (l->tcp) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    qmp_conn_start_from(l->server, l, fd);
}

static void listener_accept(void *opaque)
{
    QmpListener *l = opaque;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                g_warning("qmp: accept: %s", g_strerror(errno));
            }
            return;
        }
        accept_one(l, fd);
    }
}

/* Listen on @fd; the listener takes @addr (cleared here on failure). */
static bool listen_fd(QmpServer *server, int fd, QmpAddress *addr,
                      const char *name, GError **error)
{
    if (listen(fd, 128) < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "listen on %s: %s", name, g_strerror(errno));
        close(fd);
        qmp_address_clear(addr);
        return false;
    }
    QmpListener *l = g_new0(QmpListener, 1);
    l->server = server;
    l->fd = fd;
    l->addr = *addr;
    memset(addr, 0, sizeof(*addr));
    l->name = g_strdup(name);
    l->unix_path = g_strdup(l->addr.is_unix ? l->addr.path : NULL);
    l->tcp = !l->addr.is_unix;
    g_ptr_array_add(server->listeners, l);
    aio_set_fd_handler(server->ctx, fd, listener_accept, NULL, NULL, NULL, l);
    return true;
}
/* How long a socket file may keep accepting before it counts as in use.
 * A daemon killed a moment ago leaves its listener accepting for a few
 * milliseconds after its exit (the kernel releases files an io_uring ring
 * still holds asynchronously: 4-10 ms measured here), so a supervisor that
 * restarts at once must not be refused; a live server keeps accepting.
 * Probes back off from 1 ms, doubling: a live daemon sees about nine
 * connections (each closed unused) before it is declared in use. */
#define IN_USE_GRACE_US (250 * 1000)

/* Probe @sa once: 0 if nothing accepts on it (ECONNREFUSED), else the
 * errno that says why it counts as in use (0 from connect means EISCONN
 * here: a server accepted).  -1 if no probe socket could be made. */
static int socket_in_use(const struct sockaddr_un *sa)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        return -1;
    }
    int r = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
    int err = errno;
    close(probe);
    if (r == 0) {
        return EISCONN;
    }
    return err == ECONNREFUSED ? 0 : err;
}

/* A socket file at @path: refuse if something keeps accepting on it
 * (another daemon), remove it if it is stale. */
static bool clear_stale_socket(const char *path, const struct sockaddr_un *sa,
                               GError **error)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        return true;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "%s exists and is not a socket", path);
        return false;
    }
    int64_t give_up = g_get_monotonic_time() + IN_USE_GRACE_US;
    gulong pause_us = 1000;
    int in_use;
    while ((in_use = socket_in_use(sa)) > 0 &&
           g_get_monotonic_time() < give_up) {
        g_usleep(pause_us);
        pause_us *= 2;
    }
    if (in_use < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "socket: %s", g_strerror(errno));
        return false;
    }
    if (in_use > 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "%s is in use (%s)", path,
                    in_use == EISCONN ? "a server accepts connections on it"
                                      : g_strerror(in_use));
        return false;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "removing stale socket %s: %s", path, g_strerror(errno));
        return false;
    }
    return true;
}

/* The socket file's mode and group: the umask made it 0600 from birth,
 * so it is never wider than asked, even for a moment. */
static bool set_socket_access(const QmpAddress *a, GError **error)
{
    if (chmod(a->path, (mode_t)a->mode) < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "chmod %s: %s", a->path, g_strerror(errno));
        return false;
    }
    if (a->has_group && chown(a->path, (uid_t)-1, (gid_t)a->gid) < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "chown %s to group %u: %s", a->path, a->gid,
                    g_strerror(errno));
        return false;
    }
    return true;
}

/* A bound unix socket at a->path, or -1. */
static int bind_unix(const QmpAddress *a, const struct sockaddr_un *sa,
                     GError **error)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "socket: %s", g_strerror(errno));
        return -1;
    }
    mode_t old = umask(0177);
    int r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int err = errno;
    umask(old);
    if (r < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "bind %s: %s", a->path, g_strerror(err));
        close(fd);
        return -1;
    }
    if (!set_socket_access(a, error)) {
        close(fd);
        unlink(a->path);
        return -1;
    }
    return fd;
}

static bool listen_unix(QmpServer *server, QmpAddress *a, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_autofree char *name = g_strdup(a->path);

    if (strlen(a->path) >= sizeof(sa.sun_path)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "unix:%s: the socket path must be 1 to %zu bytes long",
                    a->path, sizeof(sa.sun_path) - 1);
        return false;
    }
    strcpy(sa.sun_path, a->path);
    if (!clear_stale_socket(a->path, &sa, error)) {
        return false;
    }
    int fd = bind_unix(a, &sa, error);
    if (fd < 0) {
        return false;
    }
    if (!listen_fd(server, fd, a, name, error)) {
        unlink(name);
        return false;
    }
    return true;
}

static bool listen_tcp(QmpServer *server, QmpAddress *a, GError **error)
{
    g_autofree char *name = g_strdup_printf("%s:%d", a->host, a->port);
    struct sockaddr_in sa = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)a->port),
    };

    inet_pton(AF_INET, a->host, &sa.sin_addr);  /* parsed already */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "socket: %s", g_strerror(errno));
        return false;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "bind tcp:%s: %s", name, g_strerror(errno));
        close(fd);
        return false;
    }
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    if (a->allow_remote) {
        g_warning("qmp: tcp:%s accepts remote clients: QMP over TCP has no "
                  "authentication, anyone who reaches it controls iothreadd",
                  name);
    }
    if (!listen_fd(server, fd, a, name, error)) {
        return false;
    }
    server->tcp_port = ntohs(sa.sin_port);
    return true;
}

bool qmp_server_listen(QmpServer *server, const char *address, GError **error)
{
    QmpAddress a;
    bool ok;

    if (!qmp_address_parse(address, &a, error)) {
        return false;
    }
    ok = a.is_unix ? listen_unix(server, &a, error)
                   : listen_tcp(server, &a, error);
    qmp_address_clear(&a);      /* a no-op once a listener took it */
    return ok;
}

int qmp_server_tcp_port(QmpServer *server)
{
    return server->tcp_port;
}

/* Whether @fd is a socket qmp_server_listen could have made: a listening
 * stream socket, unix or TCP on 127.0.0.0/8. */
static bool check_passed_socket(int fd, struct sockaddr_storage *sa,
                                GError **error)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(type), len2 = sizeof(listening);
    socklen_t salen = sizeof(*sa);
    const char *problem = NULL;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len2) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &salen) < 0) {
        problem = g_strerror(errno);
    } else if (type != SOCK_STREAM || !listening) {
        problem = "not a listening stream socket";
    } else if (sa->ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        if ((ntohl(in->sin_addr.s_addr) >> 24) != 127) {
            problem = "TCP not on loopback (127.0.0.0/8); QMP has no "
                      "authentication";
        }
    } else if (sa->ss_family != AF_UNIX) {
        problem = "neither a unix nor a loopback TCP socket";
    }
    if (problem) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "passed socket fd %d: %s", fd, problem);
    }
    return !problem;
}

bool qmp_server_listen_fd(QmpServer *server, int fd, GError **error)
{
    g_autofree char *name = g_strdup_printf("passed socket fd %d", fd);
    struct sockaddr_storage sa;
    QmpAddress addr = { 0 };

    if (!check_passed_socket(fd, &sa, error)) {
        close(fd);
        return false;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "%s: %s", name, g_strerror(errno));
        close(fd);
        return false;
    }
    /* No path: the socket file belongs to whoever passed it. */
    addr.is_unix = sa.ss_family == AF_UNIX;
    return listen_fd(server, fd, &addr, name, error);
}
