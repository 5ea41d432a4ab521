/*
 * Test harness for iothreadctl: start iothreadd on a temporary socket, run
 * iothreadctl with arguments and stdin text through pipes and collect its
 * output and exit status, and small text helpers for checking tables.
 * The binaries come from the environment (IOTHREADD, IOTHREADCTL; set by
 * tests/cli/meson.build).  Header-only: include it in one .c per program.
 *
 * Thread rules: single-threaded tests only.
 */
#ifndef TESTS_CLI_HARNESS_H
#define TESTS_CLI_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

typedef struct {
    pid_t pid;
    char *dir;     /* temp dir holding the socket */
    char *sock;
} Daemon;

static const char *harness_daemon_path(void)
{
    const char *p = getenv("IOTHREADD");
    return p && g_file_test(p, G_FILE_TEST_IS_EXECUTABLE) ? p : NULL;
}

static const char *harness_cli_path(void)
{
    const char *p = getenv("IOTHREADCTL");
    return p ? p : "iothreadctl";
}

static G_GNUC_UNUSED bool harness_socket_ready(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ready;

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    ready = fd >= 0 &&
            connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ready;
}

/* Start iothreadd (default iothreads io0 and io1) on @d->sock, creating
 * the temp dir on first use; false if it does not come up in 10 s. */
static G_GNUC_UNUSED bool daemon_start(Daemon *d)
{
    if (!d->dir) {
        d->dir = g_dir_make_tmp("iothreadctl-test-XXXXXX", NULL);
        d->sock = g_build_filename(d->dir, "qmp.sock", NULL);
    }
    char *listen = g_strconcat("unix:", d->sock, NULL);
    d->pid = fork();
    if (d->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        execl(harness_daemon_path(), "iothreadd", "--qmp", listen,
              "--foreground", (char *)NULL);
        _exit(127);
    }
    g_free(listen);
    for (int i = 0; i < 1000; i++) {
        if (harness_socket_ready(d->sock)) {
            return true;
        }
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
            d->pid = 0;
            return false;
        }
        g_usleep(10000);
    }
    return false;
}

static G_GNUC_UNUSED void daemon_stop(Daemon *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
}

static G_GNUC_UNUSED void daemon_cleanup(Daemon *d)
{
    daemon_stop(d);
    if (d->dir) {
        g_unlink(d->sock);
        g_rmdir(d->dir);
    }
    g_free(d->dir);
    g_free(d->sock);
}

/* A running iothreadctl with pipes. */
typedef struct {
    pid_t pid;
    int in, out, err;
} CliRun;

/* Start iothreadctl -s @sock followed by @args (NULL-terminated; @sock
 * NULL = no -s). */
static G_GNUC_UNUSED CliRun cli_start(const char *sock,
                                      const char *const *args)
{
    int pin[2], pout[2], perr[2];
    CliRun r = { 0 };

    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
        pipe2(perr, O_CLOEXEC)) {
        abort();   /* test harness: no fds left */
    }
    r.pid = fork();
    if (r.pid == 0) {
        GPtrArray *argv = g_ptr_array_new();
        g_ptr_array_add(argv, (gpointer)"iothreadctl");
        if (sock) {
            g_ptr_array_add(argv, (gpointer)"-s");
            g_ptr_array_add(argv, (gpointer)sock);
        }
        for (guint i = 0; args && args[i]; i++) {
            g_ptr_array_add(argv, (gpointer)args[i]);
        }
        g_ptr_array_add(argv, NULL);
        dup2(pin[0], STDIN_FILENO);
        dup2(pout[1], STDOUT_FILENO);
        dup2(perr[1], STDERR_FILENO);
        execv(harness_cli_path(), (char **)argv->pdata);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    r.in = pin[1];
    r.out = pout[0];
    r.err = perr[0];
    return r;
}

static G_GNUC_UNUSED void cli_write(CliRun *r, const char *text)
{
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(r->in, text + done, len - done);
        if (n <= 0) {
            break;
        }
        done += n;
    }
}

/* Close stdin, collect stdout/stderr until EOF (30 s at most, then kill),
 * reap.  Returns the exit status, or 128+signal. */
static G_GNUC_UNUSED int cli_finish(CliRun *r, char **out, char **err)
{
    GString *bufs[2] = { g_string_new(NULL), g_string_new(NULL) };
    int fds[2] = { r->out, r->err };
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    int status = 0;

    close(r->in);
    while (fds[0] >= 0 || fds[1] >= 0) {
        struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        if (left <= 0) {
            kill(r->pid, SIGKILL);
            break;
        }
        if (poll(p, 2, left) < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i] >= 0 && p[i].revents) {
                char buf[4096];
                ssize_t n = read(fds[i], buf, sizeof(buf));
                if (n <= 0) {
                    close(fds[i]);
                    fds[i] = -1;
                } else {
                    g_string_append_len(bufs[i], buf, n);
                }
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    waitpid(r->pid, &status, 0);
    *out = g_string_free(bufs[0], FALSE);
    *err = g_string_free(bufs[1], FALSE);
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : 128 + WTERMSIG(status);
}

/* Run iothreadctl to completion with @stdin_text (NULL = empty). */
static G_GNUC_UNUSED int cli_run(const char *sock, const char *const *args,
                                 const char *stdin_text, char **out,
                                 char **err)
{
    CliRun r = cli_start(sock, args);
    if (stdin_text) {
        cli_write(&r, stdin_text);
    }
    return cli_finish(&r, out, err);
}

/* Count occurrences of @needle in @hay. */
static G_GNUC_UNUSED int count_substr(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    return n;
}

/* In the aligned table @text, the cell of column @column (by header name)
 * in the row whose first cell is @row_key; NULL if absent (caller frees).
 * Cells are separated by blanks (tables hold no blanks inside cells). */
static G_GNUC_UNUSED char *table_lookup(const char *text, const char *row_key,
                                        const char *column)
{
    char **lines = g_strsplit(text, "\n", -1);
    char *result = NULL;
    int col = -1;

    for (guint i = 0; lines[i] && !result; i++) {
        char **cells = g_strsplit_set(g_strstrip(lines[i]), " ", -1);
        GPtrArray *c = g_ptr_array_new();
        for (guint j = 0; cells[j]; j++) {
            if (cells[j][0]) {
                g_ptr_array_add(c, cells[j]);
            }
        }
        if (col < 0) {
            for (guint j = 0; j < c->len; j++) {
                if (!strcmp(c->pdata[j], column)) {
                    col = j;
                }
            }
        } else if (c->len > (guint)col && !strcmp(c->pdata[0], row_key)) {
            result = g_strdup(c->pdata[col]);
        }
        g_ptr_array_free(c, TRUE);
        g_strfreev(cells);
    }
    g_strfreev(lines);
    return result;
}

#endif /* TESTS_CLI_HARNESS_H */
