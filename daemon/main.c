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
#include "options.h"
#include "registry.h"
#include "server.h"

typedef struct Daemon {
    AioContext *ctx;
    bool quit;
    int signal_fd;
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

int main(int argc, char **argv)
{
    DaemonOptions opts;
    GError *error = NULL;
    Daemon d = { .signal_fd = -1 };
    QmpSchema *schema = NULL;
    QmpServer *server = NULL;
    ObjectRegistry *reg = NULL;
    DaemonCommands *cmds = NULL;
    int status = 1;
    guint listening = 0;        /* addresses we created a socket for */
    sigset_t sigs;

    if (!daemon_options_parse(argc, argv, &opts, &error)) {
        fprintf(stderr, "iothreadd: %s\nTry 'iothreadd --help'.\n",
                error->message);
        g_error_free(error);
        daemon_options_clear(&opts);
        return 2;
    }
    if (opts.help || opts.version) {
        fputs(opts.help ? daemon_options_usage()
                        : "iothreadd " IOTHREADD_VERSION "\n", stdout);
        daemon_options_clear(&opts);
        return 0;
    }
    if (opts.qmp_addresses->len == 0) {
        char *path = qmp_default_socket_path();
        bool ok = prepare_default_dir(path, &error);
        g_ptr_array_add(opts.qmp_addresses, g_strconcat("unix:", path, NULL));
        g_free(path);
        if (!ok) {
            fprintf(stderr, "iothreadd: %s\n", error->message);
            g_error_free(error);
            daemon_options_clear(&opts);
            return 1;
        }
    }

    /* Before any thread exists, so every thread inherits the mask and the
     * signals reach only the signalfd. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    d.signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d.signal_fd < 0) {
        fprintf(stderr, "iothreadd: signalfd: %s\n", g_strerror(errno));
        goto out;
    }

    d.ctx = aio_context_new(&error);
    if (!d.ctx) {
        goto fail;
    }
    aio_set_current_context(d.ctx);
    aio_set_fd_handler(d.ctx, d.signal_fd, on_signal, NULL, NULL, NULL, &d);

    schema = qmp_schema_load_embedded(&error);
    if (!schema) {
        goto fail;
    }
    server = qmp_server_new(d.ctx, schema, IOTHREADD_VERSION_MAJOR,
                            IOTHREADD_VERSION_MINOR, IOTHREADD_VERSION_MICRO,
                            "iothreadd " IOTHREADD_VERSION);
    reg = object_registry_new(d.ctx);
    cmds = daemon_commands_new(server, reg, request_quit, &d);

    if (!create_objects(&opts, reg, cmds, &error)) {
        goto fail;
    }
    for (guint i = 0; i < opts.qmp_addresses->len; i++) {
        if (!qmp_server_listen(server, opts.qmp_addresses->pdata[i], &error)) {
            goto fail;
        }
        listening++;
        if (g_str_has_prefix(opts.qmp_addresses->pdata[i], "tcp:") &&
            g_str_has_suffix(opts.qmp_addresses->pdata[i], ":0")) {
            /* The kernel picked the port: the user needs to know it. */
            fprintf(stderr, "iothreadd: QMP on tcp port %d\n",
                    qmp_server_tcp_port(server));
        }
    }
    if (opts.pidfile && !write_pidfile(opts.pidfile, &error)) {
        goto fail;
    }

    while (!d.quit) {
        aio_poll(d.ctx, true);
    }
    status = 0;
    goto out;

fail:
    fprintf(stderr, "iothreadd: %s\n", error->message);
    g_clear_error(&error);
out:
    /* Clients first (no command can run any more), then the iothreads. */
    if (server) {
        qmp_server_free(server);
    }
    daemon_commands_free(cmds);
    object_registry_free(reg);
    for (guint i = 0; i < listening; i++) {
        const char *path = unix_path(opts.qmp_addresses->pdata[i]);
        if (path) {
            unlink(path);
        }
    }
    if (opts.pidfile && status == 0) {
        unlink(opts.pidfile);
    }
    if (d.ctx) {
        aio_set_fd_handler(d.ctx, d.signal_fd, NULL, NULL, NULL, NULL, NULL);
        aio_set_current_context(NULL);
        aio_context_unref(d.ctx);
    }
    if (d.signal_fd >= 0) {
        close(d.signal_fd);
    }
    if (schema) {
        qmp_schema_free(schema);
    }
    daemon_options_clear(&opts);
    return status;
}
