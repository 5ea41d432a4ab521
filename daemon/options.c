/*
 * iothreadd's command line (see options.h).
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cpu-affinity.h"
#include "metrics.h"
#include "registry.h"
#include "server.h"

const char *const daemon_default_iothreads[] = { "io0", "io1", NULL };

/* The text around the property lists, which come from the table. */
static const char usage_head[] =
"Usage: iothreadd [OPTION]...\n"
"Run named I/O threads (iothreads) and manage them over QMP.\n"
"\n"
"  --qmp unix:PATH | tcp:127.0.0.1:PORT [,OPT=VALUE]...\n"
"                 listen for QMP clients there (repeatable).  Default:\n"
"                 unix:$XDG_RUNTIME_DIR/iothreadd/qmp.sock, else\n"
"                 unix:/tmp/iothreadd-$UID/qmp.sock (directory made 0700).\n"
"                 OPT: mode=0660 and group=NAME (unix), readonly=on\n"
"                 (queries only), max-clients=N, allow-remote=on (tcp on\n"
"                 a non-loopback address: no authentication!).\n"
"  --object iothread,id=ID[,PROP=VALUE]...\n"
"                 create an iothread (repeatable).  PROP (default):\n"
"%s"
"                   cpu-affinity (\"\": inherit), a cpulist: 0-3,,8\n"
"                   (',,' is a comma inside a value)\n"
"  --object main-loop[,id=main-loop][,PROP=VALUE]...\n"
"                 settings of the daemon's own loop.  PROP (default):\n"
"%s"
"  --config FILE  read sockets, pidfile, iothreads and main-loop settings\n"
"                 from the JSON file FILE (see README); the command line's\n"
"                 --qmp and --pidfile win, --object adds.  config-save\n"
"                 writes the current state back to FILE.\n"
"  --auto-save    with --config: save to FILE after every change (a\n"
"                 missing FILE is then created at the first save).\n"
"  --metrics tcp:127.0.0.1:PORT\n"
"                 serve GET /metrics (Prometheus text format) there; PORT 0\n"
"                 picks one and logs it.  Loopback only, unless\n"
"  --metrics-remote is given too (any IP address, e.g. tcp:0.0.0.0:9100).\n"
"  --nodefaults   do not create the default iothreads.\n"
"  --pidfile FILE write the daemon's pid to FILE (removed at exit).\n"
"  --foreground   stay in the foreground.  iothreadd never forks: it runs\n"
"                 in the foreground with or without this option (use a\n"
"                 service manager or '&' to put it in the background).\n"
"  --log-level " DAEMON_LOG_LEVEL_NAMES "\n"
"                 log messages of this level and more severe (default:\n"
"                 info).  One line per event on stderr, starting with a UTC\n"
"                 timestamp, or with a <priority> prefix when stderr is\n"
"                 the journal (JOURNAL_STREAM).\n"
"  --enable-debug-commands\n"
"                 register the x-debug-* QMP commands (tests: make an\n"
"                 iothread stall on purpose).  Never for production.\n"
"  --version      print the version and exit.\n"
"  --help         print this help and exit.\n"
"\n"
"Without any --object iothread,... (and without --nodefaults) the daemon\n"
"creates the iothreads io0 and io1 with default properties; with no option\n"
"at all it serves that embedded default on the default socket.\n"
"SIGINT, SIGTERM or the QMP command 'quit' stop every iothread, remove the\n"
"sockets and exit with status 0.  A bad command line exits with status 2.\n"
"Under a service manager: sockets passed by socket activation (LISTEN_FDS)\n"
"are served instead of the default socket, and READY=1 is sent to\n"
"NOTIFY_SOCKET once every socket serves.\n";

/* "                 poll-max-ns (32768)\n" per property of the object. */
static char *usage_props(bool main_loop)
{
    GString *out = g_string_new(NULL);

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        if (!iothread_param_find(info->name, main_loop)) {
            continue;
        }
        if (info->values) {
            g_autofree char *names = g_strjoinv("|", (char **)info->values);
            g_string_append_printf(out, "                   %s=%s (%s)\n",
                                   info->name, names,
                                   aio_param_value_name(info,
                                                        info->default_value));
        } else {
            g_string_append_printf(out, "                   %s (%" G_GINT64_FORMAT
                                   ")\n", info->name, info->default_value);
        }
    }
    return g_string_free(out, FALSE);
}

const char *daemon_options_usage(void)
{
    static char *text;

    if (!text) {
        g_autofree char *iothread = usage_props(false);
        g_autofree char *main_loop = usage_props(true);
        text = g_strdup_printf(usage_head, iothread, main_loop);
    }
    return text;
}

static void object_option_free(gpointer p)
{
    DaemonObjectOption *o = p;
    g_free(o->id);
    g_free(o->cpu_affinity);
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

/* The server's own parser, so --qmp, the config and listening agree. */
static bool check_address(const char *addr, GError **error)
{
    GError *cause = NULL;
    QmpAddress a;

    if (!qmp_address_parse(addr, &a, &cause)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--qmp %s", cause->message);
        g_error_free(cause);
        return false;
    }
    qmp_address_clear(&a);
    return true;
}

/* One "KEY=VALUE" of --object @spec (an object of @type) into @o. */
static bool parse_property(DaemonObjectOption *o, const char *spec,
                           const char *type, char *part, GError **error)
{
    char *eq = strchr(part, '=');
    int64_t value;

    if (!eq) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': '%s' is not PROP=VALUE", spec, part);
        return false;
    }
    *eq = '\0';
    const char *key = part, *val = eq + 1;
    if (strcmp(key, "id") == 0) {
        g_free(o->id);
        o->id = g_strdup(val);
        return true;
    }
    if (!o->main_loop && strcmp(key, CPU_AFFINITY_PROPERTY) == 0) {
        g_free(o->cpu_affinity);
        o->cpu_affinity = g_strdup(val);
        return true;
    }
    const AioParamInfo *info = iothread_param_find(key, o->main_loop);
    if (!info) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': Property '%s.%s' not found", spec, type,
                    key);
        return false;
    }
    if (info->values && !aio_param_value_parse(info, val, &value)) {
        /* QEMU's text for a value an enum does not have. */
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': Parameter '%s' does not accept value "
                    "'%s'", spec, key, val);
        return false;
    }
    if (!info->values && !parse_int64(val, &value)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': %s expects an integer, got '%s'", spec,
                    key, val);
        return false;
    }
    aio_params_set(&o->change, info->id, value);
    return true;
}

/* The values judged whole against the defaults (the object starts from
 * them; so does the main context), and the id. */
static bool check_object(DaemonObjectOption *o, const char *spec,
                         GError **error)
{
    GError *cause = NULL;
    AioParams wanted;

    aio_params_init_default(&wanted);
    aio_params_merge(&wanted, &o->change);
    if (!aio_params_check(&wanted, &cause) ||
        (!o->main_loop && o->id && !object_id_validate(o->id, &cause)) ||
        (o->cpu_affinity && !cpu_affinity_check(o->cpu_affinity, NULL,
                                                NULL, NULL, &cause))) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': %s", spec, cause->message);
        g_error_free(cause);
        return false;
    }
    if (o->main_loop) {
        if (o->id && strcmp(o->id, REGISTRY_MAIN_LOOP_ID) != 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object '%s': the main-loop object's id is '%s'",
                        spec, REGISTRY_MAIN_LOOP_ID);
            return false;
        }
        g_free(o->id);
        o->id = g_strdup(REGISTRY_MAIN_LOOP_ID);
    } else if (!o->id) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': iothread needs id=ID", spec);
        return false;
    }
    return true;
}

/* @spec split at single commas; ",," is a comma inside a part. */
static char **split_option(const char *spec)
{
    GPtrArray *parts = g_ptr_array_new();
    GString *part = g_string_new(NULL);

    for (const char *c = spec; *c; c++) {
        if (*c == ',' && c[1] == ',') {
            g_string_append_c(part, ',');
            c++;
        } else if (*c == ',') {
            g_ptr_array_add(parts, g_string_free(part, FALSE));
            part = g_string_new(NULL);
        } else {
            g_string_append_c(part, *c);
        }
    }
    g_ptr_array_add(parts, g_string_free(part, FALSE));
    g_ptr_array_add(parts, NULL);
    return (char **)g_ptr_array_free(parts, FALSE);
}

/* "iothread,id=io0,poll-max-ns=100" or "main-loop,thread-pool-max=4". */
static DaemonObjectOption *parse_object(const char *spec, GError **error)
{
    char **parts = split_option(spec);
    DaemonObjectOption *o = g_new0(DaemonObjectOption, 1);
    const char *type = parts[0];
    bool ok = true;

    if (g_str_has_prefix(type, "qom-type=")) {
        type += strlen("qom-type=");
    }
    if (strcmp(type, REGISTRY_TYPE_MAIN_LOOP) == 0) {
        o->main_loop = true;
    } else if (strcmp(type, REGISTRY_TYPE_IOTHREAD) != 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': unknown type '%s' (expected iothread or "
                    "main-loop)", spec, type);
        ok = false;
    }
    for (int i = 1; ok && parts[i]; i++) {
        ok = parse_property(o, spec, type, parts[i], error);
    }
    ok = ok && check_object(o, spec, error);
    g_strfreev(parts);
    if (!ok) {
        object_option_free(o);
        return NULL;
    }
    return o;
}

enum { OPT_QMP = 256, OPT_OBJECT, OPT_PIDFILE, OPT_FOREGROUND,
       OPT_NODEFAULTS, OPT_HELP, OPT_VERSION, OPT_LOG_LEVEL, OPT_CONFIG,
       OPT_AUTO_SAVE, OPT_METRICS, OPT_METRICS_REMOTE, OPT_DEBUG_COMMANDS };
static const struct option longopts[] = {
    { "qmp", required_argument, NULL, OPT_QMP },
    { "object", required_argument, NULL, OPT_OBJECT },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "foreground", no_argument, NULL, OPT_FOREGROUND },
    { "nodefaults", no_argument, NULL, OPT_NODEFAULTS },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "auto-save", no_argument, NULL, OPT_AUTO_SAVE },
    { "metrics", required_argument, NULL, OPT_METRICS },
    { "metrics-remote", no_argument, NULL, OPT_METRICS_REMOTE },
    { "enable-debug-commands", no_argument, NULL, OPT_DEBUG_COMMANDS },
    { NULL, 0, NULL, 0 },
};

/* --object @arg: parsed, and refused if an iothread id repeats. */
static bool add_object(DaemonOptions *opts, const char *arg, GError **error)
{
    DaemonObjectOption *o = parse_object(arg, error);
    if (!o) {
        return false;
    }
    for (guint i = 0; i < opts->objects->len; i++) {
        DaemonObjectOption *prev = g_ptr_array_index(opts->objects, i);
        if (!o->main_loop && strcmp(prev->id, o->id) == 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--object: duplicate id '%s'", o->id);
            object_option_free(o);
            return false;
        }
    }
    g_ptr_array_add(opts->objects, o);
    return true;
}

/* --metrics ADDRESS (once; checked once every option is known, since
 * --metrics-remote may follow) or --metrics-remote. */
static bool apply_metrics_option(DaemonOptions *opts, bool remote,
                                 GError **error)
{
    if (remote) {
        opts->metrics_remote = true;
        return true;
    }
    if (opts->metrics_address) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--metrics given twice ('%s', '%s'): one endpoint only",
                    opts->metrics_address, optarg);
        return false;
    }
    opts->metrics_address = g_strdup(optarg);
    return true;
}

/* One option getopt_long() returned (@c), with optarg/optind as it left
 * them. */
static bool apply_option(DaemonOptions *opts, int c, char **argv,
                         GError **error)
{
    switch (c) {
    case OPT_QMP:
        if (!check_address(optarg, error)) {
            return false;
        }
        g_ptr_array_add(opts->qmp_addresses, g_strdup(optarg));
        return true;
    case OPT_OBJECT:
        return add_object(opts, optarg, error);
    case OPT_PIDFILE:
        g_free(opts->pidfile);
        opts->pidfile = g_strdup(optarg);
        return true;
    case OPT_FOREGROUND:
        opts->foreground = true;
        return true;
    case OPT_CONFIG:
        g_free(opts->config);
        opts->config = g_strdup(optarg);
        return true;
    case OPT_AUTO_SAVE:
        opts->auto_save = true;
        return true;
    case OPT_NODEFAULTS:
        opts->nodefaults = true;
        return true;
    case 'h':
    case OPT_HELP:
        opts->help = true;
        return true;
    case OPT_VERSION:
        opts->version = true;
        return true;
    case OPT_LOG_LEVEL:
        if (!daemon_log_level_parse(optarg, &opts->log_level)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--log-level '%s': expected one of %s", optarg,
                        DAEMON_LOG_LEVEL_NAMES);
            return false;
        }
        return true;
    case OPT_METRICS:
    case OPT_METRICS_REMOTE:
        return apply_metrics_option(opts, c == OPT_METRICS_REMOTE, error);
    case OPT_DEBUG_COMMANDS:
        opts->debug_commands = true;
        return true;
    case ':':
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "option '%s' needs an argument", argv[optind - 1]);
        return false;
    default:
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                    "unknown option '%s'", argv[optind - 1]);
        return false;
    }
}

bool daemon_options_parse(int argc, char **argv, DaemonOptions *opts,
                          GError **error)
{
    int c;

    memset(opts, 0, sizeof(*opts));
    opts->log_level = DAEMON_LOG_INFO;
    opts->qmp_addresses = g_ptr_array_new_with_free_func(g_free);
    opts->objects = g_ptr_array_new_with_free_func(object_option_free);

    opterr = 0;         /* our own messages, not getopt's */
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (!apply_option(opts, c, argv, error)) {
            return false;
        }
    }
    if (optind < argc) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "unexpected argument '%s'", argv[optind]);
        return false;
    }
    if (opts->auto_save && !opts->config) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "--auto-save needs --config FILE (where to save)");
        return false;
    }
    if (opts->metrics_address &&
        !metrics_address_check(opts->metrics_address, opts->metrics_remote,
                               error)) {
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
    g_free(opts->config);
    g_free(opts->metrics_address);
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
