/*
 * iothreadd: parse the command line, build the objects, serve QMP on the
 * main AioContext until SIGINT/SIGTERM or the quit command, then stop every
 * iothread and remove the sockets.  Kept thin: the work is in options.c,
 * registry.c, iothread.c and commands.c; logging in log.c, the service
 * manager's protocols (readiness, socket activation) in service.c.
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
#include "config.h"
#include "debug-commands.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "registry.h"
#include "server.h"
#include "service.h"
#include "stall-events.h"

/* Everything main() builds, so each step takes one argument and the
 * teardown knows what exists.  Main context's home thread only. */
typedef struct Daemon {
    DaemonOptions opts;
    DaemonConfig *config;       /* --config's contents, or NULL */
    char **saved_qmp;           /* the addresses a saved config records */
    AioContext *ctx;
    bool quit;
    int signal_fd;
    QmpSchema *schema;
    QmpServer *server;
    ObjectRegistry *reg;
    DaemonCommands *cmds;
    DaemonMetrics *metrics;     /* --metrics, or NULL */
    StallWatchdog *watchdog;
    DebugCommands *debug;       /* with --enable-debug-commands only */
    guint listening;            /* addresses we created a socket for */
    int passed_fds;             /* sockets passed by socket activation */
} Daemon;

static void request_quit(void *opaque)
{
    Daemon *d = opaque;
    g_info("quit command: stopping");
    d->quit = true;
}

static void on_signal(void *opaque)
{
    Daemon *d = opaque;
    struct signalfd_siginfo si;

    while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
        g_info("%s received: stopping",
               si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
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
static bool create_objects(Daemon *d, GError **error)
{
    const DaemonOptions *opts = &d->opts;
    ObjectRegistry *reg = d->reg;
    DaemonCommands *cmds = d->cmds;

    for (guint i = 0; i < opts->objects->len; i++) {
        DaemonObjectOption *o = g_ptr_array_index(opts->objects, i);
        GError *cause = NULL;
        IOThread *t = NULL;
        bool ok = o->main_loop
            ? object_registry_main_loop_set(reg, &o->change, NULL, &cause)
            : (t = object_registry_add_iothread(reg, o->id, &o->change,
                                                &cause)) != NULL;
        if (ok && t && o->cpu_affinity) {
            ok = iothread_set_cpu_affinity(t, o->cpu_affinity, NULL, &cause);
        }
        if (!ok) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object %s: %s", o->id, cause->message);
            g_error_free(cause);
            return false;
        }
        if (!o->main_loop) {
            daemon_commands_object_added(cmds, o->id, REGISTRY_TYPE_IOTHREAD);
            g_info("iothread %s created", o->id);
        }
    }
    if (daemon_options_want_defaults(opts) &&
        !(d->config && d->config->objects)) {
        for (int i = 0; daemon_default_iothreads[i]; i++) {
            const char *id = daemon_default_iothreads[i];
            if (!object_registry_add_iothread(reg, id, NULL, error)) {
                return false;
            }
            daemon_commands_object_added(cmds, id, REGISTRY_TYPE_IOTHREAD);
            g_info("iothread %s created", id);
        }
    }
    return true;
}

/* The config's objects and main-loop settings, through the commands
 * themselves (object-add, iothread-set), in the file's order. */
static bool apply_config(Daemon *d, GError **error)
{
    DaemonConfig *config = d->config;
    GError *cause = NULL;

    for (guint i = 0; config && config->objects &&
                      i < json_array_get_length(config->objects); i++) {
        JsonObject *args = json_array_get_object_element(config->objects, i);
        qmp_server_execute(d->server, "object-add", args, &cause);
        if (cause) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: object '%s': %s", d->opts.config,
                        json_object_get_string_member(args, "id"),
                        cause->message);
            g_error_free(cause);
            return false;
        }
    }
    if (config && config->main_loop) {
        qmp_server_execute(d->server, "iothread-set", config->main_loop,
                           &cause);
        if (cause) {
            g_propagate_prefixed_error(error, cause, "%s: main-loop: ",
                                       d->opts.config);
            return false;
        }
    }
    return true;
}

/* An id both the config and --object create. */
static bool check_config_ids(Daemon *d, GError **error)
{
    JsonArray *objects = d->config->objects;

    for (guint i = 0; objects && i < json_array_get_length(objects); i++) {
        const char *id = json_object_get_string_member(
            json_array_get_object_element(objects, i), "id");
        for (guint k = 0; k < d->opts.objects->len; k++) {
            DaemonObjectOption *o = g_ptr_array_index(d->opts.objects, k);
            if (!o->main_loop && strcmp(o->id, id) == 0) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "%s: object '%s' is also given by --object",
                            d->opts.config, id);
                return false;
            }
        }
    }
    return true;
}

/* --config: read and checked whole before anything starts; its sockets
 * and pidfile unless the command line gives its own.  A missing file
 * with --auto-save starts empty (the first save creates it). */
static bool load_config(Daemon *d, GError **error)
{
    DaemonOptions *o = &d->opts;

    if (!o->config || (o->auto_save && !g_file_test(o->config,
                                                    G_FILE_TEST_EXISTS))) {
        return true;
    }
    d->schema = qmp_schema_load_embedded(error);
    d->config = d->schema ? daemon_config_load(o->config, d->schema, error)
                          : NULL;
    if (!d->config || !check_config_ids(d, error)) {
        return false;
    }
    for (char **a = d->config->qmp; a && *a && !o->qmp_addresses->len;
         a++) {
        g_ptr_array_add(o->qmp_addresses, g_strdup(*a));
    }
    if (!o->pidfile && d->config->pidfile) {
        o->pidfile = g_strdup(d->config->pidfile);
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
    if (!d->opts.help && !d->opts.version && !load_config(d, &error)) {
        fprintf(stderr, "iothreadd: %s\n", error->message);
        g_error_free(error);
        return 2;
    }
    if (d->opts.help || d->opts.version) {
        fputs(d->opts.help ? daemon_options_usage()
                           : "iothreadd " IOTHREADD_VERSION "\n", stdout);
        return 0;
    }
    daemon_log_init(d->opts.log_level);
    return -1;
}

/* Sockets the service manager passed (socket activation), served instead
 * of the default socket. */
static bool take_passed_sockets(Daemon *d, GError **error)
{
    d->passed_fds = service_listen_fds();
    if (d->passed_fds < 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "socket activation: bad LISTEN_PID/LISTEN_FDS: %s",
                    g_strerror(-d->passed_fds));
        return false;
    }
    return true;
}

/* Without --qmp: the default socket, in a private directory. */
static bool add_default_socket(Daemon *d, GError **error)
{
    char *path;
    bool ok;

    g_ptr_array_add(d->opts.qmp_addresses, NULL);
    d->saved_qmp = g_strdupv((char **)d->opts.qmp_addresses->pdata);
    g_ptr_array_remove_index(d->opts.qmp_addresses,
                             d->opts.qmp_addresses->len - 1);
    if (d->opts.qmp_addresses->len > 0 || d->passed_fds > 0) {
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
    g_debug("main loop: fdmon %s", aio_context_fdmon_name(d->ctx));
    return true;
}

/* The schema, the QMP server, the object registry and the handlers. */
static bool start_qmp(Daemon *d, GError **error)
{
    if (!d->schema) {
        d->schema = qmp_schema_load_embedded(error);
    }
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

/* "tcp:HOST:0[,OPT=V]...": the kernel picks the port. */
static bool asks_for_any_port(const char *address)
{
    QmpAddress a;
    bool any;

    if (!qmp_address_parse(address, &a, NULL)) {
        return false;
    }
    any = !a.is_unix && a.port == 0;
    qmp_address_clear(&a);
    return any;
}

/* Serve the passed sockets and every --qmp address; each is logged (a
 * TCP port the kernel picked, with its number: scripts read it there). */
static bool listen_all(Daemon *d, GError **error)
{
    GPtrArray *addresses = d->opts.qmp_addresses;

    for (int fd = SERVICE_LISTEN_FDS_START;
         fd < SERVICE_LISTEN_FDS_START + d->passed_fds; fd++) {
        if (!qmp_server_listen_fd(d->server, fd, error)) {
            return false;
        }
        g_info("listening on passed socket fd %d", fd);
    }
    for (guint i = 0; i < addresses->len; i++) {
        const char *address = addresses->pdata[i];

        if (!qmp_server_listen(d->server, address, error)) {
            return false;
        }
        d->listening++;
        if (asks_for_any_port(address)) {
            g_info("listening on %s: QMP on tcp port %d", address,
                   qmp_server_tcp_port(d->server));
        } else {
            g_info("listening on %s", address);
        }
    }
    return true;
}

/* The sockets serve (clients queue until the loop accepts them): tell the
 * log and the service manager. */
static void announce_ready(Daemon *d)
{
    int ret = service_notify("READY=1\nSTATUS=serving QMP");

    if (ret < 0) {
        g_warning("cannot notify the service manager (NOTIFY_SOCKET): %s",
                  g_strerror(-ret));
    }
    g_info("iothreadd " IOTHREADD_VERSION " ready (pid %d)", (int)getpid());
}

/* config-save's target and --auto-save, once the objects exist (so
 * starting saves nothing). */
static bool start_config_saving(Daemon *d)
{
    daemon_commands_set_config(d->cmds, daemon_config_saver_new(
        d->reg, d->opts.config, d->opts.auto_save,
        (const char *const *)d->saved_qmp, d->opts.pidfile));
    return true;
}

/* The metrics endpoint, when --metrics asks; a picked port is printed. */
static bool start_metrics(Daemon *d, GError **error)
{
    if (!d->opts.metrics_address) {
        return true;
    }
    d->metrics = metrics_start(d->opts.metrics_address, d->server, d->schema,
                               d->reg, error);
    if (d->metrics) {
        g_info("metrics on tcp port %d (GET /metrics)",
               metrics_port(d->metrics));
    }
    return d->metrics != NULL;
}

static bool start(Daemon *d, GError **error)
{
    return take_passed_sockets(d, error) &&
           add_default_socket(d, error) &&
           block_signals(d, error) &&
           start_main_context(d, error) &&
           start_qmp(d, error) &&
           create_objects(d, error) &&
           apply_config(d, error) &&
           start_config_saving(d) &&
           listen_all(d, error) &&
           start_metrics(d, error) &&
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
    service_notify("STOPPING=1");
    metrics_stop(d->metrics);   /* its scrapes run commands on the server */
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
        daemon_config_free(d.config);
        if (d.schema) {
            qmp_schema_free(d.schema);
        }
        daemon_options_clear(&d.opts);
        return status;
    }
    if (start(&d, &error)) {
        announce_ready(&d);
        serve_until_quit(&d);
        status = 0;
    } else {
        g_critical("%s", error->message);
        g_clear_error(&error);
        status = 1;
    }
    stop(&d, status == 0);
    daemon_config_free(d.config);
    g_strfreev(d.saved_qmp);
    g_info("stopped (exit status %d)", status);
    daemon_options_clear(&d.opts);
    return status;
}
