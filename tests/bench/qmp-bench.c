/*
 * qmp-bench: how fast iothreadd answers QMP, against references measured in
 * the same run.
 *
 *   qmp_rtt      sequential query-iothreads round trips/s over the unix
 *                socket, 1 client and 8 clients in parallel (aggregate);
 *                reference impl "echo": a trivial C server on the same kind
 *                of socket answering every read with the same reply bytes,
 *                without JSON work, on one poll() loop like the daemon's.
 *   qmp_add_del  object-add + object-del cycles/s (each creates, then drains
 *                and joins, an iothread), 1 and 8 clients.
 *   thread_create_join  bare pthread_create + pthread_join/s: the floor of
 *                any add/del cycle.
 *
 * Usage: qmp-bench [--quick] IOTHREADD
 * Prints one JSON object per line (README "Figures" gives them).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 8

static double seconds_per_run = 2.0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "qmp-bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---------------------------------------------------------------------- */
/* A minimal line-framed client: every server message ends with CRLF.      */

typedef struct Conn {
    int fd;
    char buf[65536];
    size_t len;
} Conn;

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        die("socket");
    }
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read one message (without its CRLF) into @out; false on EOF/error. */
static bool read_line(Conn *c, char *out, size_t out_size)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = nl - c->buf + 1;
            size_t copy = n < out_size ? n : out_size - 1;
            memcpy(out, c->buf, copy);
            out[copy] = '\0';
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            return true;
        }
        if (c->len == sizeof(c->buf)) {
            c->len = 0;         /* a message larger than we care about */
        }
        ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        c->len += r;
    }
}

static void send_all(int fd, const char *msg, size_t len)
{
    while (len) {
        ssize_t w = write(fd, msg, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            die("write");
        }
        msg += w;
        len -= w;
    }
}

/* Send @cmd and return whether its reply (events skipped) is a "return". */
static bool roundtrip(Conn *c, const char *cmd, size_t len, char *line,
                      size_t line_size)
{
    send_all(c->fd, cmd, len);
    for (;;) {
        if (!read_line(c, line, line_size)) {
            fprintf(stderr, "qmp-bench: connection closed\n");
            exit(1);
        }
        /* Events open with "timestamp" (QEMU's member order). */
        if (strncmp(line, "{\"timestamp\"", 12) != 0) {
            return strncmp(line, "{\"return\"", 9) == 0;
        }
    }
}

static Conn *qmp_open(const char *path)
{
    Conn *c = calloc(1, sizeof(*c));
    char line[4096];
    static const char caps[] = "{\"execute\": \"qmp_capabilities\"}";

    c->fd = connect_unix(path);
    if (c->fd < 0 || !read_line(c, line, sizeof(line)) ||
        !roundtrip(c, caps, strlen(caps), line, sizeof(line))) {
        fprintf(stderr, "qmp-bench: cannot negotiate with %s\n", path);
        exit(1);
    }
    return c;
}

static void conn_close(Conn *c)
{
    close(c->fd);
    free(c);
}

/* ---------------------------------------------------------------------- */
/* Parallel runner                                                         */

/* WORK_LISTEN: a connected client that only reads (the events). */
typedef enum { WORK_QUERY, WORK_ADD_DEL, WORK_RAW, WORK_LISTEN } WorkKind;

typedef struct Worker {
    pthread_t thread;
    const char *path;
    WorkKind kind;
    int index;
    double deadline;
    _Atomic bool *go;
    unsigned long ops;
    unsigned long failures;
} Worker;

static void *worker_run(void *opaque)
{
    Worker *w = opaque;
    static const char query[] = "{\"execute\": \"query-iothreads\"}";
    char line[65536], add[256], del[256];
    Conn *c;

    if (w->kind == WORK_RAW) {
        c = calloc(1, sizeof(*c));
        c->fd = connect_unix(w->path);
        if (c->fd < 0) {
            die("connect echo");
        }
    } else {
        c = qmp_open(w->path);
    }
    int add_len = snprintf(add, sizeof(add), "{\"execute\": \"object-add\", "
                           "\"arguments\": {\"qom-type\": \"iothread\", "
                           "\"id\": \"bench%d\"}}", w->index);
    int del_len = snprintf(del, sizeof(del), "{\"execute\": \"object-del\", "
                           "\"arguments\": {\"id\": \"bench%d\"}}", w->index);
    while (!atomic_load(w->go)) {
        sched_yield();
    }
    while (w->kind == WORK_LISTEN && now_s() < w->deadline) {
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        if (poll(&pfd, 1, 10) > 0 && !read_line(c, line, sizeof(line))) {
            break;
        }
    }
    while (w->kind != WORK_LISTEN && now_s() < w->deadline) {
        /* Check the clock every 16 operations only. */
        for (int i = 0; i < 16; i++) {
            bool ok;
            if (w->kind == WORK_ADD_DEL) {
                ok = roundtrip(c, add, add_len, line, sizeof(line)) &&
                     roundtrip(c, del, del_len, line, sizeof(line));
            } else {
                ok = roundtrip(c, query, sizeof(query) - 1, line,
                               sizeof(line));
            }
            w->ops++;
            w->failures += !ok;
        }
    }
    conn_close(c);
    return NULL;
}

/* Run @clients workers for seconds_per_run, the first @active of them
 * doing @kind and the others only listening; returns the aggregate ops/s
 * of the active ones. */
static double run_mixed(const char *path, WorkKind kind, int clients,
                        int active)
{
    Worker w[MAX_CLIENTS];
    _Atomic bool go = false;
    double duration = kind == WORK_ADD_DEL ? seconds_per_run / 2
                                           : seconds_per_run;
    double start;
    unsigned long ops = 0, failures = 0;

    memset(w, 0, sizeof(w));
    for (int i = 0; i < clients; i++) {
        w[i] = (Worker) { .path = path, .index = i, .go = &go,
                          .kind = i < active ? kind : WORK_LISTEN,
                          .deadline = 1e300 };
    }
    for (int i = 0; i < clients; i++) {
        pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
    }
    usleep(50 * 1000);          /* let every client connect */
    start = now_s();
    for (int i = 0; i < clients; i++) {
        w[i].deadline = start + duration;
    }
    atomic_store(&go, true);
    for (int i = 0; i < clients; i++) {
        pthread_join(w[i].thread, NULL);
        ops += w[i].ops;
        failures += w[i].failures;
    }
    /* Every row must be a real figure: the --quick run is a test. */
    if (failures || ops == 0) {
        fprintf(stderr, "qmp-bench: FAILED: %lu of %lu operations failed\n",
                failures, ops);
        exit(1);
    }
    return ops / (now_s() - start);
}

static double run_clients(const char *path, WorkKind kind, int clients)
{
    return run_mixed(path, kind, clients, clients);
}

/* ---------------------------------------------------------------------- */
/* Reference: the echo server                                              */

typedef struct EchoServer {
    pthread_t thread;
    int listen_fd;
    int stop_pipe[2];
    char path[108];
    const char *reply;
    size_t reply_len;
} EchoServer;

static void *echo_run(void *opaque)
{
    EchoServer *e = opaque;
    struct pollfd fds[MAX_CLIENTS + 2];
    int n = 2;
    char buf[65536];

    fds[0] = (struct pollfd) { .fd = e->listen_fd, .events = POLLIN };
    fds[1] = (struct pollfd) { .fd = e->stop_pipe[0], .events = POLLIN };
    for (;;) {
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (fds[1].revents) {
            break;
        }
        if ((fds[0].revents & POLLIN) && n < MAX_CLIENTS + 2) {
            int fd = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                fds[n++] = (struct pollfd) { .fd = fd, .events = POLLIN };
            }
        }
        for (int i = 2; i < n; i++) {
            if (!fds[i].revents) {
                continue;
            }
            ssize_t r = read(fds[i].fd, buf, sizeof(buf));
            if (r <= 0) {
                close(fds[i].fd);
                fds[i--] = fds[--n];
                continue;
            }
            send_all(fds[i].fd, e->reply, e->reply_len);
        }
    }
    for (int i = 2; i < n; i++) {
        close(fds[i].fd);
    }
    return NULL;
}

static void echo_start(EchoServer *e, const char *dir, const char *reply)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    snprintf(e->path, sizeof(e->path), "%s/echo.sock", dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e->path);
    e->reply = reply;
    e->reply_len = strlen(reply);
    e->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (e->listen_fd < 0 ||
        bind(e->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(e->listen_fd, 16) < 0 || pipe(e->stop_pipe) < 0) {
        die("echo server");
    }
    pthread_create(&e->thread, NULL, echo_run, e);
}

static void echo_stop(EchoServer *e)
{
    if (write(e->stop_pipe[1], "x", 1) != 1) {
        die("echo stop");
    }
    pthread_join(e->thread, NULL);
    close(e->listen_fd);
    close(e->stop_pipe[0]);
    close(e->stop_pipe[1]);
    unlink(e->path);
}

/* ---------------------------------------------------------------------- */

static void *empty_thread(void *opaque)
{
    return opaque;
}

static double thread_create_join_rate(void)
{
    double start = now_s(), deadline = start + seconds_per_run / 2;
    unsigned long n = 0;

    while (now_s() < deadline) {
        for (int i = 0; i < 16; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, empty_thread, NULL)) {
                die("pthread_create");
            }
            pthread_join(t, NULL);
            n++;
        }
    }
    return n / (now_s() - start);
}

static void emit(const char *bench, const char *impl, int clients,
                 const char *metric, double value)
{
    printf("{\"bench\": \"%s\", \"impl\": \"%s\", \"transport\": \"unix\", "
           "\"clients\": %d, \"metric\": \"%s\", \"value\": %.1f}\n",
           bench, impl, clients, metric, value);
    fflush(stdout);
}

static pid_t start_daemon(const char *binary, const char *address)
{
    pid_t pid = fork();

    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        execl(binary, binary, "--qmp", address, "--foreground", (char *)NULL);
        fprintf(stderr, "qmp-bench: exec %s: %s\n", binary, strerror(errno));
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv)
{
    const char *binary = NULL;
    char dir[] = "/tmp/qmp-bench-XXXXXX";
    char sock[128], address[160], reply[65536];
    static const int client_counts[] = { 1, MAX_CLIENTS };

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            seconds_per_run = 0.25;
        } else if (argv[i][0] != '-' && !binary) {
            binary = argv[i];
        } else {
            fprintf(stderr, "usage: qmp-bench [--quick] IOTHREADD\n");
            return 2;
        }
    }
    if (!binary) {
        fprintf(stderr, "usage: qmp-bench [--quick] IOTHREADD\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(dir)) {
        die("mkdtemp");
    }
    snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
    snprintf(address, sizeof(address), "unix:%s", sock);

    /* The daemon with its default config (io0, io1). */
    pid_t pid = start_daemon(binary, address);
    Conn *probe = NULL;
    for (int i = 0; i < 500 && !probe; i++) {
        int fd = connect_unix(sock);
        if (fd >= 0) {
            close(fd);
            probe = qmp_open(sock);
        } else {
            usleep(10 * 1000);
        }
    }
    if (!probe) {
        fprintf(stderr, "qmp-bench: daemon did not come up\n");
        kill(pid, SIGKILL);
        return 1;
    }
    /* The echo server answers with the very bytes the daemon sends. */
    static const char query[] = "{\"execute\": \"query-iothreads\"}";
    if (!roundtrip(probe, query, sizeof(query) - 1, reply,
                   sizeof(reply) - 2)) {
        fprintf(stderr, "qmp-bench: FAILED: query-iothreads: %s\n", reply);
        kill(pid, SIGKILL);
        return 1;
    }
    conn_close(probe);

    for (size_t i = 0; i < 2; i++) {
        int n = client_counts[i];
        emit("qmp_rtt", "iothreadd", n, "ops_per_s",
             run_clients(sock, WORK_QUERY, n));
    }
    for (size_t i = 0; i < 2; i++) {
        int n = client_counts[i];
        emit("qmp_add_del", "iothreadd", n, "cycles_per_s",
             run_clients(sock, WORK_ADD_DEL, n));
    }

    /* What the event broadcast costs: one client cycles while the seven
     * others only receive OBJECT_ADDED / OBJECT_DELETED. */
    printf("{\"bench\": \"qmp_add_del\", \"impl\": \"iothreadd\", "
           "\"transport\": \"unix\", \"clients\": %d, \"active\": 1, "
           "\"metric\": \"cycles_per_s\", \"value\": %.1f}\n", MAX_CLIENTS,
           run_mixed(sock, WORK_ADD_DEL, MAX_CLIENTS, 1));
    fflush(stdout);

    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "qmp-bench: daemon exit status 0x%x\n", status);
        return 1;
    }

    EchoServer echo;
    echo_start(&echo, dir, reply);
    for (size_t i = 0; i < 2; i++) {
        int n = client_counts[i];
        emit("qmp_rtt", "echo", n, "ops_per_s",
             run_clients(echo.path, WORK_RAW, n));
    }
    echo_stop(&echo);

    emit("thread_create_join", "pthread", 1, "ops_per_s",
         thread_create_join_rate());
    rmdir(dir);
    return 0;
}
