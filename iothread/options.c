/*
 * iothreadd's command line (see options.h).
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

const char *const daemon_default_iothreads[] = { "io0", "io1", NULL };

static const char usage_text[] =
"Usage: iothreadd [OPTION]...\n"
"Run named I/O threads (iothreads) and manage them over QMP.\n"
"\n"
"  --qmp unix:PATH | tcp:127.0.0.1:PORT\n"
"                 listen for QMP clients there (repeatable).  Default:\n"
"                 unix:$XDG_RUNTIME_DIR/iothreadd/qmp.sock, else\n"
"                 unix:/tmp/iothreadd-$UID/qmp.sock (directory made 0700).\n"
"  --object iothread,id=ID[,PROP=VALUE]...\n"
"                 create an iothread (repeatable).  PROP: poll-max-ns\n"
"                 (default 32768), poll-grow, poll-shrink, aio-max-batch,\n"
"                 thread-pool-min (default 0), thread-pool-max (default 64).\n"
"  --object main-loop[,id=main-loop][,PROP=VALUE]...\n"
"                 settings of the daemon's own loop: aio-max-batch,\n"
"                 thread-pool-min, thread-pool-max.\n"
"  --nodefaults   do not create the default iothreads.\n"
"  --pidfile FILE write the daemon's pid to FILE (removed at exit).\n"
"  --foreground   stay in the foreground.  iothreadd never forks: it runs\n"
"                 in the foreground with or without this option (use a\n"
"                 service manager or '&' to put it in the background).\n"
"  --version      print the version and exit.\n"
"  --help         print this help and exit.\n"
"\n"
"Without any --object iothread,... (and without --nodefaults) the daemon\n"
"creates the iothreads io0 and io1 with default properties; with no option\n"
"at all it serves that embedded default on the default socket.\n"
"SIGINT, SIGTERM or the QMP command 'quit' stop every iothread, remove the\n"
"sockets and exit with status 0.  A bad command line exits with status 2.\n";

const char *daemon_options_usage(void)
{
    return usage_text;
}

static void object_option_free(gpointer p)
{
    DaemonObjectOption *o = p;
    g_free(o->id);
    g_free(o);
}

static bool parse_int64(const char *text, int64_t *out)
{
    char *end;

    if (!*text || g_ascii_isspace(*text)) {
        return false;
    }
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (errno || *end) {
        return false;
    }
    *out = v;
    return true;
}

static bool check_address(const char *addr, GError **error)
{
    if ((g_str_has_prefix(addr, "unix:") && addr[5]) ||
        (g_str_has_prefix(addr, "tcp:") && strchr(addr + 4, ':'))) {
        return true;
    }
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--qmp '%s': expected unix:PATH or tcp:127.0.0.1:PORT", addr);
    return false;
}

/* "iothread,id=io0,poll-max-ns=100" or "main-loop,thread-pool-max=4". */
static DaemonObjectOption *parse_object(const char *spec, GError **error)
{
    char **parts = g_strsplit(spec, ",", -1);
    DaemonObjectOption *o = g_new0(DaemonObjectOption, 1);
    const char *type = parts[0];
    unsigned allowed;
    GError *cause = NULL;

    if (g_str_has_prefix(type, "qom-type=")) {
        type += strlen("qom-type=");
    }
    if (strcmp(type, REGISTRY_TYPE_IOTHREAD) == 0) {
        allowed = IOTHREAD_PROP_ALL;
    } else if (strcmp(type, REGISTRY_TYPE_MAIN_LOOP) == 0) {
        o->main_loop = true;
        allowed = IOTHREAD_PROP_MAIN_LOOP;
    } else {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': unknown type '%s' (expected iothread or "
                    "main-loop)", spec, type);
        goto fail;
    }
    for (int i = 1; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        int64_t value;
        if (!eq) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object '%s': '%s' is not PROP=VALUE", spec,
                        parts[i]);
            goto fail;
        }
        *eq = '\0';
        const char *key = parts[i], *val = eq + 1;
        if (strcmp(key, "id") == 0) {
            g_free(o->id);
            o->id = g_strdup(val);
            continue;
        }
        if (!parse_int64(val, &value)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object '%s': %s expects an integer, got '%s'",
                        spec, key, val);
            goto fail;
        }
        if (!iothread_change_add(&o->change, allowed, key, value, &cause)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object '%s': %s of %s", spec, cause->message,
                        type);
            g_error_free(cause);
            goto fail;
        }
    }
    if (o->main_loop) {
        if (o->id && strcmp(o->id, REGISTRY_MAIN_LOOP_ID) != 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object '%s': the main-loop object's id is '%s'",
                        spec, REGISTRY_MAIN_LOOP_ID);
            goto fail;
        }
        g_free(o->id);
        o->id = g_strdup(REGISTRY_MAIN_LOOP_ID);
        /* The main context starts with the defaults too, so the combination
         * can be judged here (again, whole, when main.c applies it). */
        iothread_params_init_default(&o->params);
        o->params = iothread_params_merge(&o->params, &o->change);
        if (!iothread_params_validate(&o->params, &cause)) {
            goto fail_cause;
        }
    } else {
        if (!o->id) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object '%s': iothread needs id=ID", spec);
            goto fail;
        }
        if (!object_id_validate(o->id, &cause)) {
            goto fail_cause;
        }
        iothread_params_init_default(&o->params);
        o->params = iothread_params_merge(&o->params, &o->change);
        if (!iothread_params_validate(&o->params, &cause)) {
            goto fail_cause;
        }
    }
    g_strfreev(parts);
    return o;

fail_cause:
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--object '%s': %s", spec, cause->message);
    g_error_free(cause);
fail:
    g_strfreev(parts);
    object_option_free(o);
    return NULL;
}

bool daemon_options_parse(int argc, char **argv, DaemonOptions *opts,
                          GError **error)
{
    enum { OPT_QMP = 256, OPT_OBJECT, OPT_PIDFILE, OPT_FOREGROUND,
           OPT_NODEFAULTS, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        { "qmp", required_argument, NULL, OPT_QMP },
        { "object", required_argument, NULL, OPT_OBJECT },
        { "pidfile", required_argument, NULL, OPT_PIDFILE },
        { "foreground", no_argument, NULL, OPT_FOREGROUND },
        { "nodefaults", no_argument, NULL, OPT_NODEFAULTS },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(opts, 0, sizeof(*opts));
    opts->qmp_addresses = g_ptr_array_new_with_free_func(g_free);
    opts->objects = g_ptr_array_new_with_free_func(object_option_free);

    opterr = 0;         /* our own messages, not getopt's */
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_QMP:
            if (!check_address(optarg, error)) {
                return false;
            }
            g_ptr_array_add(opts->qmp_addresses, g_strdup(optarg));
            break;
        case OPT_OBJECT: {
            DaemonObjectOption *o = parse_object(optarg, error);
            if (!o) {
                return false;
            }
            for (guint i = 0; i < opts->objects->len; i++) {
                DaemonObjectOption *prev = g_ptr_array_index(opts->objects, i);
                if (!o->main_loop && strcmp(prev->id, o->id) == 0) {
                    g_set_error(error, G_OPTION_ERROR,
                                G_OPTION_ERROR_BAD_VALUE,
                                "--object: duplicate id '%s'", o->id);
                    object_option_free(o);
                    return false;
                }
            }
            g_ptr_array_add(opts->objects, o);
            break;
        }
        case OPT_PIDFILE:
            g_free(opts->pidfile);
            opts->pidfile = g_strdup(optarg);
            break;
        case OPT_FOREGROUND:
            opts->foreground = true;
            break;
        case OPT_NODEFAULTS:
            opts->nodefaults = true;
            break;
        case 'h':
        case OPT_HELP:
            opts->help = true;
            break;
        case OPT_VERSION:
            opts->version = true;
            break;
        case ':':
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "option '%s' needs an argument", argv[optind - 1]);
            return false;
        default:
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                        "unknown option '%s'",
                        argv[optind - 1]);
            return false;
        }
    }
    if (optind < argc) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "unexpected argument '%s'", argv[optind]);
        return false;
    }
    return true;
}

void daemon_options_clear(DaemonOptions *opts)
{
    if (opts->qmp_addresses) {
        g_ptr_array_free(opts->qmp_addresses, TRUE);
    }
    if (opts->objects) {
        g_ptr_array_free(opts->objects, TRUE);
    }
    g_free(opts->pidfile);
    memset(opts, 0, sizeof(*opts));
}

bool daemon_options_want_defaults(const DaemonOptions *opts)
{
    if (opts->nodefaults) {
        return false;
    }
    for (guint i = 0; i < opts->objects->len; i++) {
        DaemonObjectOption *o = g_ptr_array_index(opts->objects, i);
        if (!o->main_loop) {
            return false;
        }
    }
    return true;
}
