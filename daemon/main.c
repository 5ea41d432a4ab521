/*
 * iothreadd: parse the command line, build the objects, serve QMP on the
 * main AioContext until SIGINT/SIGTERM or the quit command, then stop every
 * iothread and remove the sockets.  Kept thin: the work is in options.c,
 * registry.c, iothread.c and commands.c.
 *
 * Thread rules: main() is the main context's home thread; signals are
 * blocked in every thread and read from a signalfd on the main context.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "socket-path.h"
#include "commands.h"
#include "debug-commands.h"
#include "options.h"
#include "registry.h"
#include "server.h"
#include "stall-events.h"

/* Everything main() builds, so each step takes one argument and the
 * teardown knows what exists.  Main context's home thread only. */
typedef struct Daemon {
    DaemonOptions opts;
    AioContext *ctx;
    bool quit;
    int signal_fd;
    QmpSchema *schema;
    QmpServer *server;
    ObjectRegistry *reg;
    DaemonCommands *cmds;
    StallWatchdog *watchdog;
    DebugCommands *debug;       /* with --enable-debug-commands only */
    guint listening;            /* addresses we created a socket for */
} Daemon;

static void request_quit(void *opaque)
{
    Daemon *d = opaque;
    d->quit = true;
}

static void on_signal(void *opaque)
{
    Daemon *d = opaque;
    struct signalfd_siginfo si;

    while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
        d->quit = true;
    }
}

/* The path behind a "unix:PATH" address, or NULL. */
static const char *unix_path(const char *address)
{
    return g_str_has_prefix(address, "unix:") ? address + 5 : NULL;
}

static bool write_pidfile(const char *path, GError **error)
{
    char *text = g_strdup_printf("%d\n", (int)getpid());
    bool ok = g_file_set_contents(path, text, -1, error);
    g_free(text);
    return ok;
}

/* The default socket's directory: created 0700; an existing one must be
 * ours and is made private (under /tmp another user could have made it). */
static bool prepare_default_dir(const char *socket_path, GError **error)
{
    char *dir = g_path_get_dirname(socket_path);
    struct stat st;
    bool ok = false;

    if (g_mkdir_with_parents(dir, 0700) < 0 || stat(dir, &st) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot create %s: %s", dir, g_strerror(errno));
    } else if (st.st_uid != getuid() || !S_ISDIR(st.st_mode)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                    "refusing to use %s: not a directory owned by uid %u",
                    dir, (unsigned)getuid());
    } else if ((st.st_mode & 077) && chmod(dir, 0700) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot make %s private: %s", dir, g_strerror(errno));
    } else {
        ok = true;
    }
    g_free(dir);
    return ok;
}

/* Create the objects the options ask for (or the defaults); on failure
 * the error names the object. */
static bool create_objects(const DaemonOptions *opts, ObjectRegistry *reg,
                           DaemonCommands *cmds, GError **error)
{
    for (guint i = 0; i < opts->objects->len; i++) {
        DaemonObjectOption *o = g_ptr_array_index(opts->objects, i);
        GError *cause = NULL;
        bool ok = o->main_loop
            ? object_registry_main_loop_set(reg, &o->change, NULL, &cause)
            : object_registry_add_iothread(reg, o->id, &o->change,
                                           &cause) != NULL;
        if (!ok) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object %s: %s", o->id, cause->message);
            g_error_free(cause);
            return false;
        }
        if (!o->main_loop) {
            daemon_commands_object_added(cmds, o->id, REGISTRY_TYPE_IOTHREAD);
        }
    }
    if (daemon_options_want_defaults(opts)) {
        for (int i = 0; daemon_default_iothreads[i]; i++) {
            const char *id = daemon_default_iothreads[i];
            if (!object_registry_add_iothread(reg, id, NULL, error)) {
                return false;
            }
            daemon_commands_object_added(cmds, id, REGISTRY_TYPE_IOTHREAD);
        }
    }
    return true;
}

/* Parse the command line into d->opts.  Returns -1 to go on, else the
 * exit status (2: bad options; 0: --help or --version printed). */
static int parse_command_line(Daemon *d, int argc, char **argv)
{
    GError *error = NULL;

    if (!daemon_options_parse(argc, argv, &d->opts, &error)) {
        fprintf(stderr, "iothreadd: %s\nTry 'iothreadd --help'.\n",
                error->message);
        g_error_free(error);
        return 2;
    }
    if (d->opts.help || d->opts.version) {
        fputs(d->opts.help ? daemon_options_usage()
                           : "iothreadd " IOTHREADD_VERSION "\n", stdout);
        return 0;
    }
    return -1;
}

/* Without --qmp: the default socket, in a private directory. */
static bool add_default_socket(Daemon *d, GError **error)
{
    char *path;
    bool ok;

    if (d->opts.qmp_addresses->len > 0) {
        return true;
    }
    path = qmp_default_socket_path();
    ok = prepare_default_dir(path, error);
    g_ptr_array_add(d->opts.qmp_addresses, g_strconcat("unix:", path, NULL));
    g_free(path);
    return ok;
}

/* Before any thread exists, so every thread inherits the mask and
 * SIGINT/SIGTERM reach only the signalfd. */
static bool block_signals(Daemon *d, GError **error)
{
    sigset_t sigs;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    d->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d->signal_fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "signalfd: %s", g_strerror(errno));
        return false;
    }
    return true;
}

/* The main context (this thread's), reading the signalfd. */
static bool start_main_context(Daemon *d, GError **error)
{
    d->ctx = aio_context_new(error);
    if (!d->ctx) {
        return false;
    }
    aio_set_current_context(d->ctx);
    aio_set_fd_handler(d->ctx, d->signal_fd, on_signal, NULL, NULL, NULL, d);
    return true;
}

/* The schema, the QMP server, the object registry and the handlers. */
static bool start_qmp(Daemon *d, GError **error)
{
    d->schema = qmp_schema_load_embedded(error);
    if (!d->schema) {
        return false;
    }
    d->server = qmp_server_new(d->ctx, d->schema, IOTHREADD_VERSION_MAJOR,
                               IOTHREADD_VERSION_MINOR,
                               IOTHREADD_VERSION_MICRO,
                               "iothreadd " IOTHREADD_VERSION);
    d->reg = object_registry_new(d->ctx);
    d->cmds = daemon_commands_new(d->server, d->reg, request_quit, d);
    d->watchdog = stall_watchdog_new(d->ctx, d->reg, d->server);
    if (d->opts.debug_commands) {
        d->debug = debug_commands_new(d->server, d->reg);
    }
    return true;
}

/* Listen on every --qmp address; a port the kernel picked is printed. */
static bool listen_all(Daemon *d, GError **error)
{
    GPtrArray *addresses = d->opts.qmp_addresses;

    for (guint i = 0; i < addresses->len; i++) {
        const char *address = addresses->pdata[i];

        if (!qmp_server_listen(d->server, address, error)) {
            return false;
        }
        d->listening++;
        if (g_str_has_prefix(address, "tcp:") &&
            g_str_has_suffix(address, ":0")) {
            fprintf(stderr, "iothreadd: QMP on tcp port %d\n",
                    qmp_server_tcp_port(d->server));
        }
    }
    return true;
}

static bool start(Daemon *d, GError **error)
{
    return add_default_socket(d, error) &&
           block_signals(d, error) &&
           start_main_context(d, error) &&
           start_qmp(d, error) &&
           create_objects(&d->opts, d->reg, d->cmds, error) &&
           listen_all(d, error) &&
           (!d->opts.pidfile || write_pidfile(d->opts.pidfile, error));
}

static void serve_until_quit(Daemon *d)
{
    while (!d->quit) {
        aio_poll(d->ctx, true);
    }
}

/* Undo what start() did, whatever it reached.  Clients first (no command
 * can run any more), then the iothreads, then the sockets and the loop. */
static void stop(Daemon *d, bool clean_exit)
{
    if (d->server) {
        qmp_server_free(d->server);
    }
    daemon_commands_free(d->cmds);
    stall_watchdog_free(d->watchdog);
    debug_commands_free(d->debug);      /* releases stalls: iothreads stop */
    object_registry_free(d->reg);
    for (guint i = 0; i < d->listening; i++) {
        const char *path = unix_path(d->opts.qmp_addresses->pdata[i]);
        if (path) {
            unlink(path);
        }
    }
    if (d->opts.pidfile && clean_exit) {
        unlink(d->opts.pidfile);
    }
    if (d->ctx) {
        aio_set_fd_handler(d->ctx, d->signal_fd, NULL, NULL, NULL, NULL, NULL);
        aio_set_current_context(NULL);
        aio_context_unref(d->ctx);
    }
    if (d->signal_fd >= 0) {
        close(d->signal_fd);
    }
    if (d->schema) {
        qmp_schema_free(d->schema);
    }
}

int main(int argc, char **argv)
{
    Daemon d = { .signal_fd = -1 };
    GError *error = NULL;
    int status = parse_command_line(&d, argc, argv);

    if (status >= 0) {
        daemon_options_clear(&d.opts);
        return status;
    }
    if (start(&d, &error)) {
        serve_until_quit(&d);
        status = 0;
    } else {
        fprintf(stderr, "iothreadd: %s\n", error->message);
        g_clear_error(&error);
        status = 1;
    }
    stop(&d, status == 0);
    daemon_options_clear(&d.opts);
    return status;
}
