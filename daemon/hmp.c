/*
 * human-monitor-command (see hmp.h): a command line parsed into words,
 * looked up in a table of HMP commands, each turned into one QMP command
 * whose result is printed in QEMU's HMP layout.
 */
#include "hmp.h"
#include "properties.h"
#include "json-check.h"
#include "json-writer.h"

#include <string.h>

typedef struct {
    QmpServer *server;
    GString *out;               /* the reply text */
    const char *name;           /* the command word as typed */
} Hmp;

/* @argv: the words after the command name (NULL-terminated). */
typedef void HmpRun(Hmp *hmp, char **argv);

typedef struct {
    const char *names;          /* "help|?": the name and its aliases */
    const char *params;         /* as `help` shows them */
    const char *help;
    unsigned min_args, max_args;
    HmpRun *run;
} HmpCommand;

static HmpRun run_help, run_info, run_object_add, run_object_del,
    run_qom_get, run_qom_list, run_qom_set, info_iothread_stats,
    info_iothreads, info_version;

/* In QEMU's order (alphabetical), as `help` lists them. */
static const HmpCommand main_commands[] = {
    { "help|?", "[cmd]", "show the help", 0, 2, run_help },
    /* info's own words are checked by the subcommand */
    { "info", "[subcommand]",
      "show various information about the system state", 0, G_MAXUINT,
      run_info },
    { "object_add", "[qom-type=]type,id=str[,prop=value][,...]",
      "create QOM object", 1, 1, run_object_add },
    { "object_del", "id", "destroy QOM object", 1, 1, run_object_del },
    { "qom-get", "path property", "print QOM property", 2, 2, run_qom_get },
    { "qom-list", "path", "list QOM properties", 0, 1, run_qom_list },
    { "qom-set", "[-j] path property value",
      "set QOM property.\r\n\t\t\t-j: the value is specified in json format.",
      3, 4, run_qom_set },
};
static const size_t n_main_commands = G_N_ELEMENTS(main_commands);

static const HmpCommand info_commands[] = {
    { "iothread-stats", "", "show the statistics of each iothread's loop",
      0, 0, info_iothread_stats },
    { "iothreads", "", "show iothreads", 0, 0, info_iothreads },
    { "version", "", "show the version of QEMU", 0, 0, info_version },
};

static void run_words(Hmp *hmp, const HmpCommand *table, size_t n,
                      char **words, const char *prefix);
static const HmpCommand *find_command(const HmpCommand *table, size_t n,
                                      const char *name);

/* ---------------------------------------------------------------------- */
/* Output helpers                                                          */

static void print_error(Hmp *hmp, const GError *err)
{
    g_string_append_printf(hmp->out, "Error: %s\r\n", err->message);
}

/* Run QMP @command with @args (transfer full); on failure print it as
 * HMP does and return NULL.  A command that returns nothing gives an
 * empty object. */
static JsonNode *run_qmp(Hmp *hmp, const char *command, JsonObject *args)
{
    g_autoptr(GError) err = NULL;
    JsonNode *ret = qmp_server_execute(hmp->server, command, args, &err);
    json_object_unref(args);
    if (err) {
        print_error(hmp, err);
        g_clear_pointer(&ret, json_node_unref);
        return NULL;
    }
    if (!ret) {
        ret = json_node_init_object(json_node_alloc(), NULL);
        json_node_take_object(ret, json_object_new());
    }
    return ret;
}

/* QEMU's two lines for a command given too few (@missing) or too many
 * words. */
static void print_usage(Hmp *hmp, const char *prefix, const char *name,
                        bool missing)
{
    g_string_append_printf(hmp->out, "%s: %s\r\nTry \"help %s%s\" for more "
                           "information\r\n", name,
                           missing ? "string expected"
                                   : "extraneous characters at the end of line",
                           prefix, name);
}

static void print_command_line(GString *out, const char *prefix,
                               const HmpCommand *cmd)
{
    g_string_append_printf(out, "%s%s %s -- %s\r\n", prefix, cmd->names,
                           cmd->params, cmd->help);
}

/* A value of @property given as HMP text: the text of a text property;
 * else an integer when it reads as one (what the property's visitor would
 * make of it in QEMU), a string otherwise. */
static JsonNode *node_from_word(const char *property, const char *word)
{
    gint64 n;
    if (iothread_property_is_text(property)) {
        return json_node_init_string(json_node_alloc(), word);
    }
    if (g_ascii_string_to_signed(word, 10, G_MININT64, G_MAXINT64, &n,
                                 NULL)) {
        return json_node_init_int(json_node_alloc(), n);
    }
    if (!strcmp(word, "true") || !strcmp(word, "false")) {
        return json_node_init_boolean(json_node_alloc(), word[0] == 't');
    }
    return json_node_init_string(json_node_alloc(), word);
}

/* ---------------------------------------------------------------------- */
/* info subcommands                                                        */

static void info_iothreads(Hmp *hmp, char **argv)
{
    g_autoptr(JsonNode) ret = run_qmp(hmp, "query-iothreads",
                                      json_object_new());
    if (!ret) {
        return;
    }
    static const char *const props[] = { "poll-max-ns", "poll-grow",
                                         "poll-shrink", "aio-max-batch" };
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *t = json_array_get_object_element(arr, i);
        g_string_append_printf(hmp->out, "%s:\r\n  thread_id=%" G_GINT64_FORMAT
                               "\r\n", json_object_get_string_member(t, "id"),
                               json_object_get_int_member(t, "thread-id"));
        for (size_t p = 0; p < G_N_ELEMENTS(props); p++) {
            g_string_append_printf(hmp->out, "  %s=%" G_GINT64_FORMAT "\r\n",
                                   props[p],
                                   json_object_get_int_member(t, props[p]));
        }
    }
}

static void info_version(Hmp *hmp, char **argv)
{
    g_autoptr(JsonNode) ret = run_qmp(hmp, "query-version",
                                      json_object_new());
    if (!ret) {
        return;
    }
    JsonObject *v = json_node_get_object(ret);
    JsonObject *q = json_object_get_object_member(v, "qemu");
    /* QEMU prints the package right after the triple, without a space. */
    g_string_append_printf(hmp->out, "%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT
                           ".%" G_GINT64_FORMAT "%s\r\n",
                           json_object_get_int_member(q, "major"),
                           json_object_get_int_member(q, "minor"),
                           json_object_get_int_member(q, "micro"),
                           json_object_get_string_member(v, "package"));
}

/* Counters in the layout of `info iothreads`: "ID:" then "  name=value". */
static void info_iothread_stats(Hmp *hmp, char **argv)
{
    g_autoptr(JsonNode) ret = run_qmp(hmp, "query-iothread-stats",
                                      json_object_new());
    if (!ret) {
        return;
    }
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *t = json_array_get_object_element(arr, i);
        JsonObject *stats = json_object_get_object_member(t, "stats");
        GList *names = json_object_get_members(stats);
        g_string_append_printf(hmp->out, "%s:\r\n",
                               json_object_get_string_member(t, "id"));
        for (GList *l = names; l; l = l->next) {
            JsonNode *v = json_object_get_member(stats, l->data);
            g_string_append_printf(hmp->out, "  %s=", (char *)l->data);
            if (json_node_get_value_type(v) == G_TYPE_STRING) {
                g_string_append(hmp->out, json_node_get_string(v));
            } else {
                qmp_json_write(hmp->out, v);
            }
            g_string_append(hmp->out, "\r\n");
        }
        g_list_free(names);
    }
}

/* ---------------------------------------------------------------------- */
/* Commands                                                                */

static void list_commands(GString *out, const HmpCommand *table, size_t n,
                          const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        print_command_line(out, prefix, &table[i]);
    }
}

static void unknown_command(Hmp *hmp, const char *prefix, const char *name)
{
    g_string_append_printf(hmp->out, "unknown command: '%s%s'\r\n", prefix,
                           name);
}

static void help_info(Hmp *hmp, const char *sub)
{
    if (!sub) {
        list_commands(hmp->out, info_commands, G_N_ELEMENTS(info_commands),
                      "info ");
        return;
    }
    const HmpCommand *cmd = find_command(info_commands,
                                         G_N_ELEMENTS(info_commands), sub);
    if (cmd) {
        print_command_line(hmp->out, "info ", cmd);
    } else {
        unknown_command(hmp, "info ", sub);
    }
}

static void run_info(Hmp *hmp, char **argv)
{
    if (!argv[0]) {
        help_info(hmp, NULL);
        return;
    }
    run_words(hmp, info_commands, G_N_ELEMENTS(info_commands), argv,
              "info ");
}

/* help [NAME [SUBCOMMAND]]: the lines of what exists. */
static void run_help(Hmp *hmp, char **argv)
{
    if (!argv[0]) {
        list_commands(hmp->out, main_commands, n_main_commands, "");
        return;
    }
    const HmpCommand *cmd = find_command(main_commands, n_main_commands,
                                         argv[0]);
    if (!cmd) {
        unknown_command(hmp, "", argv[0]);
    } else if (cmd->run == run_info) {
        help_info(hmp, argv[1]);
    } else {
        print_command_line(hmp->out, "", cmd);
    }
}

/* "[qom-type=]TYPE,id=ID,PROP=VALUE,...": QEMU's option syntax, where ",,"
 * stands for a comma inside a value.  Returns the object-add arguments. */
static JsonObject *object_options(const char *text)
{
    JsonObject *args = json_object_new();
    GString *item = g_string_new(NULL);
    bool first = true;

    for (const char *p = text;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(item, *p++);
            continue;
        }
        if (*p && *p != ',') {
            g_string_append_c(item, *p);
            continue;
        }
        char *eq = strchr(item->str, '=');
        if (!eq && first) {
            json_object_set_string_member(args, "qom-type", item->str);
        } else if (!eq) {
            json_object_set_string_member(args, item->str, "on");
        } else {
            *eq = '\0';
            bool is_name = !strcmp(item->str, "qom-type") ||
                           !strcmp(item->str, "id");
            json_object_set_member(args, item->str, is_name
                ? json_node_init_string(json_node_alloc(), eq + 1)
                : node_from_word(item->str, eq + 1));
        }
        first = false;
        g_string_truncate(item, 0);
        if (!*p) {
            break;
        }
    }
    g_string_free(item, TRUE);
    return args;
}

static void run_object_add(Hmp *hmp, char **argv)
{
    g_autoptr(JsonNode) ret = run_qmp(hmp, "object-add",
                                      object_options(argv[0]));
}

static void run_object_del(Hmp *hmp, char **argv)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", argv[0]);
    g_autoptr(JsonNode) ret = run_qmp(hmp, "object-del", args);
}

static JsonObject *path_args(const char *path, const char *property)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", path);
    if (property) {
        json_object_set_string_member(args, "property", property);
    }
    return args;
}

static void run_qom_list(Hmp *hmp, char **argv)
{
    if (!argv[0]) {
        /* QEMU prints the monitor's current path, which is always "/". */
        g_string_append(hmp->out, "/\r\n");
        return;
    }
    g_autoptr(JsonNode) ret = run_qmp(hmp, "qom-list",
                                      path_args(argv[0], NULL));
    if (!ret) {
        return;
    }
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *p = json_array_get_object_element(arr, i);
        g_string_append_printf(hmp->out, "%s (%s)\r\n",
                               json_object_get_string_member(p, "name"),
                               json_object_get_string_member(p, "type"));
    }
}

static void run_qom_get(Hmp *hmp, char **argv)
{
    g_autoptr(JsonNode) ret = run_qmp(hmp, "qom-get",
                                      path_args(argv[0], argv[1]));
    if (ret) {
        qmp_json_write(hmp->out, ret);
        g_string_append(hmp->out, "\r\n");
    }
}

/* The value of `qom-set -j`: JSON text, checked strictly first (see
 * json-check.h for why json-glib never sees unchecked text). */
static JsonNode *node_from_json(Hmp *hmp, const char *text)
{
    char why[JSON_CHECK_ERROR_SIZE];
    if (!json_check(text, strlen(text), why, sizeof(why))) {
        g_string_append_printf(hmp->out, "Error: %s\r\n", why);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, -1, NULL)) {
        g_string_append(hmp->out, "Error: JSON parse error\r\n");
        return NULL;
    }
    return json_node_copy(json_parser_get_root(parser));
}

static void run_qom_set(Hmp *hmp, char **argv)
{
    bool json = !strcmp(argv[0], "-j");
    char **words = json ? argv + 1 : argv;
    guint n = g_strv_length(words);
    if (n != 3) {
        print_usage(hmp, "", hmp->name, n < 3);
        return;
    }
    JsonNode *value = json ? node_from_json(hmp, words[2])
                           : node_from_word(words[1], words[2]);
    if (!value) {
        return;
    }
    JsonObject *args = path_args(words[0], words[1]);
    json_object_set_member(args, "value", value);
    g_autoptr(JsonNode) ret = run_qmp(hmp, "qom-set", args);
}

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                */

static bool names_match(const char *names, const char *name)
{
    g_auto(GStrv) aliases = g_strsplit(names, "|", -1);
    return g_strv_contains((const char *const *)aliases, name);
}

static const HmpCommand *find_command(const HmpCommand *table, size_t n,
                                      const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (names_match(table[i].names, name)) {
            return &table[i];
        }
    }
    return NULL;
}

/* @words: a command name and its arguments; @prefix: "info " for info's
 * subcommands (QEMU names them so in its messages). */
static void run_words(Hmp *hmp, const HmpCommand *table, size_t n,
                      char **words, const char *prefix)
{
    const HmpCommand *cmd = find_command(table, n, words[0]);
    if (!cmd) {
        unknown_command(hmp, prefix, words[0]);
        return;
    }
    unsigned argc = g_strv_length(words + 1);
    if (argc < cmd->min_args || argc > cmd->max_args) {
        print_usage(hmp, prefix, words[0], argc < cmd->min_args);
        return;
    }
    hmp->name = words[0];
    cmd->run(hmp, words + 1);
}

/* Split a command line into words at blanks; a word may be quoted with
 * double quotes, inside which \" and \\ stand for themselves. */
static char **split_words(const char *line)
{
    GPtrArray *words = g_ptr_array_new();
    const char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (!*p) {
            break;
        }
        GString *w = g_string_new(NULL);
        bool quoted = *p == '"';
        p += quoted;
        while (*p && (quoted ? *p != '"' : (*p != ' ' && *p != '\t'))) {
            if (quoted && *p == '\\' && p[1]) {
                p++;
            }
            g_string_append_c(w, *p++);
        }
        p += quoted && *p == '"';
        g_ptr_array_add(words, g_string_free(w, FALSE));
    }
    g_ptr_array_add(words, NULL);
    return (char **)g_ptr_array_free(words, FALSE);
}

static JsonNode *cmd_human_monitor_command(QmpServer *server,
                                           JsonObject *args, void *opaque,
                                           GError **error)
{
    if (json_object_has_member(args, "cpu-index") &&
        json_object_get_int_member(args, "cpu-index") != 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    g_auto(GStrv) words = split_words(
        json_object_get_string_member(args, "command-line"));
    Hmp hmp = { server, g_string_new(NULL), NULL };
    if (words[0]) {
        run_words(&hmp, main_commands, n_main_commands, words, "");
    }
    JsonNode *ret = json_node_init_string(json_node_alloc(), hmp.out->str);
    g_string_free(hmp.out, TRUE);
    return ret;
}

void hmp_register(QmpServer *server)
{
    qmp_server_register(server, "human-monitor-command",
                        cmd_human_monitor_command, NULL);
}
