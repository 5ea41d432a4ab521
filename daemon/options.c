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

/* The text around the property lists, which come from the table. */
static const char usage_head[] =
"Usage: iothreadd [OPTION]...\n"
"Run named I/O threads (iothreads) and manage them over QMP.\n"
"\n"
"  --qmp unix:PATH | tcp:127.0.0.1:PORT\n"
"                 listen for QMP clients there (repeatable).  Default:\n"
"                 unix:$XDG_RUNTIME_DIR/iothreadd/qmp.sock, else\n"
"                 unix:/tmp/iothreadd-$UID/qmp.sock (directory made 0700).\n"
"  --object iothread,id=ID[,PROP=VALUE]...\n"
"                 create an iothread (repeatable).  PROP (default):\n"
"%s"
"  --object main-loop[,id=main-loop][,PROP=VALUE]...\n"
"                 settings of the daemon's own loop.  PROP (default):\n"
"%s"
"  --nodefaults   do not create the default iothreads.\n"
"  --pidfile FILE write the daemon's pid to FILE (removed at exit).\n"
"  --foreground   stay in the foreground.  iothreadd never forks: it runs\n"
"                 in the foreground with or without this option (use a\n"
"                 service manager or '&' to put it in the background).\n"
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
"sockets and exit with status 0.  A bad command line exits with status 2.\n";

/* "                 poll-max-ns (32768)\n" per property of the object. */
static char *usage_props(bool main_loop)
{
    GString *out = g_string_new(NULL);

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        if (iothread_param_find(info->name, main_loop)) {
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
    const AioParamInfo *info = iothread_param_find(key, o->main_loop);
    if (!info) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--object '%s': Property '%s.%s' not found", spec, type,
                    key);
        return false;
    }
    if (!parse_int64(val, &value)) {
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
        (!o->main_loop && o->id && !object_id_validate(o->id, &cause))) {
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

/* "iothread,id=io0,poll-max-ns=100" or "main-loop,thread-pool-max=4". */
static DaemonObjectOption *parse_object(const char *spec, GError **error)
{
    char **parts = g_strsplit(spec, ",", -1);
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
       OPT_NODEFAULTS, OPT_HELP, OPT_VERSION, OPT_DEBUG_COMMANDS };
static const struct option longopts[] = {
    { "qmp", required_argument, NULL, OPT_QMP },
    { "object", required_argument, NULL, OPT_OBJECT },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "foreground", no_argument, NULL, OPT_FOREGROUND },
    { "nodefaults", no_argument, NULL, OPT_NODEFAULTS },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
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
