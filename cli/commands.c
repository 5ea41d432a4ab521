/*
 * iothreadctl's commands (see commands.h): dispatch, the human commands
 * info / iothread / events / help, and raw QMP in qmp-shell syntax.
 * `stats` and `top` live in stats.c and top.c.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "shell-parse.h"
#include "stats.h"
#include "suggest.h"
#include "table.h"

volatile int cli_interrupted;

typedef CmdStatus (*HumanHandler)(Session *s, char **argv);

typedef struct {
    const char *name;
    const char *usage;
    const char *summary;
    const char *details;   /* for `help NAME` */
    HumanHandler handler;
} HumanCommand;

static CmdStatus cmd_info(Session *s, char **argv);
static CmdStatus cmd_iothread(Session *s, char **argv);
static CmdStatus cmd_events(Session *s, char **argv);
static CmdStatus cmd_help(Session *s, char **argv);
static CmdStatus cmd_quit(Session *s, char **argv);

static const HumanCommand human_commands[] = {
    { "info", "info [iothreads]",
      "table of the iothreads and the values in effect",
      "Columns: ID, TID (Linux thread id), BACKEND (fd monitoring: poll,\n"
      "epoll or io_uring), POLL-MAX (poll-max-ns), GROW, SHRINK, POLL-NS (the\n"
      "current adaptive poll time), MAX-BATCH (aio-max-batch), POOL-MIN and\n"
      "POOL-MAX (thread pool bounds).\n", cmd_info },
    { "iothread", "iothread add|del|set ID [PROP=VALUE...]",
      "create, delete or tune an iothread",
      "iothread add ID [PROP=VALUE...]   create (object-add qom-type=iothread)\n"
      "iothread del ID                   drain and delete (object-del)\n"
      "iothread set ID PROP=VALUE...     change several properties at once,\n"
      "                                  validated together (iothread-set)\n"
      "Properties: poll-max-ns, poll-grow, poll-shrink, aio-max-batch,\n"
      "thread-pool-min, thread-pool-max.  Example:\n"
      "  iothread add io2 poll-max-ns=0\n"
      "  iothread set io2 thread-pool-min=4 thread-pool-max=8\n", cmd_iothread },
    { "stats", "stats [ID]",
      "per-context counters, with rates since the previous `stats`",
      "One row per counter; per context its value and the rate per second\n"
      "since the previous `stats` call in this session (levels such as\n"
      "poll-ns-current or io-in-flight get no rate).\n", cmd_stats },
    { "top", "top [--interval S] [--count N]",
      "live view of the iothreads sorted by busy time",
      "Refreshes in place every S seconds (default 1); q, Ctrl-C or Ctrl-D\n"
      "leaves.  --count N prints N frames and returns (also without a\n"
      "terminal).  BUSY%/POLL%/BLOCK% are the shares of wall time the loop\n"
      "spent running handlers, busy-polling and blocked in the kernel.\n",
      cmd_top },
    { "events", "events on|off",
      "print QMP events as they arrive",
      "With events on, OBJECT_ADDED, OBJECT_DELETED and\n"
      "IOTHREAD_PROPERTY_CHANGED are printed as the daemon sends them.\n",
      cmd_events },
    { "help", "help [COMMAND]", "this list, or the documentation of COMMAND",
      "help COMMAND shows a human command's usage, or a QMP command's\n"
      "documentation and arguments from the daemon's schema.\n", cmd_help },
    { "quit", "quit", "leave iothreadctl (also exit, Ctrl-D)",
      "Leaves the CLI; the daemon keeps running.  To stop the daemon, send\n"
      "the QMP command as raw JSON: {\"execute\": \"quit\"}\n", cmd_quit },
    { "exit", "exit", "leave iothreadctl", "Same as quit.\n", cmd_quit },
};

static const char *const human_names[] = {
    "info", "iothread", "stats", "top", "events", "help", "quit", "exit",
    NULL
};

const char *const *commands_human_names(void)
{
    return human_names;
}

const char *const *commands_subcommands(const char *human)
{
    static const char *const info_sub[] = { "iothreads", NULL };
    static const char *const iothread_sub[] = { "add", "del", "set", NULL };
    static const char *const events_sub[] = { "on", "off", NULL };
    static const char *const top_sub[] = { "--interval", "--count", NULL };

    if (!strcmp(human, "info")) {
        return info_sub;
    } else if (!strcmp(human, "iothread")) {
        return iothread_sub;
    } else if (!strcmp(human, "events")) {
        return events_sub;
    } else if (!strcmp(human, "top")) {
        return top_sub;
    }
    return NULL;
}

static const HumanCommand *find_human(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(human_commands); i++) {
        if (!strcmp(human_commands[i].name, name)) {
            return &human_commands[i];
        }
    }
    return NULL;
}

char **commands_iothread_properties(Session *s)
{
    static const char *const builtin[] = {
        "poll-max-ns", "poll-grow", "poll-shrink", "aio-max-batch",
        "thread-pool-min", "thread-pool-max", NULL
    };
    GPtrArray *out = g_ptr_array_new();

    if (s->schema) {
        GPtrArray *members = schema_info_arguments(s->schema,
                                                   "iothread-set");
        for (guint i = 0; i < members->len; i++) {
            SchemaMember *m = members->pdata[i];
            if (strcmp(m->name, "id")) {
                g_ptr_array_add(out, g_strdup(m->name));
            }
        }
    }
    if (out->len == 0) {
        for (guint i = 0; builtin[i]; i++) {
            g_ptr_array_add(out, g_strdup(builtin[i]));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static CmdStatus usage_error(Session *s, const char *name)
{
    const HumanCommand *hc = find_human(name);

    session_print_error(s, "GenericError", "usage: %s", hc->usage);
    return CMD_FAILED;
}

/* ---- info iothreads ---------------------------------------------------- */

/* A member of @o as table text: integers and strings as they are, absent
 * as NULL ("-"). */
static char *member_text(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n)) {
        return NULL;
    }
    switch (json_node_get_value_type(n)) {
    case G_TYPE_INT64:
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    case G_TYPE_STRING:
        return g_strdup(json_node_get_string(n));
    case G_TYPE_DOUBLE:
        return g_strdup_printf("%g", json_node_get_double(n));
    case G_TYPE_BOOLEAN:
        return g_strdup(json_node_get_boolean(n) ? "yes" : "no");
    default:
        return NULL;
    }
}

static CmdStatus cmd_info(Session *s, char **argv)
{
    static const char *const headers[] = {
        "ID", "TID", "BACKEND", "POLL-MAX", "GROW", "SHRINK", "POLL-NS",
        "MAX-BATCH", "POOL-MIN", "POOL-MAX", NULL
    };
    static const char *const fields[] = {
        "id", "thread-id", "backend", "poll-max-ns", "poll-grow",
        "poll-shrink", "poll-ns", "aio-max-batch", "thread-pool-min",
        "thread-pool-max",
    };
    CmdStatus status;

    /* Plain `info` means `info iothreads`: there is nothing else yet. */
    if (argv[1] && (strcmp(argv[1], "iothreads") || argv[2])) {
        return usage_error(s, "info");
    }
    JsonNode *ret = session_execute(s, "query-iothreads", NULL, &status);
    if (!ret) {
        return status;
    }
    if (s->json) {
        session_print_result(s, ret);
        json_node_unref(ret);
        return CMD_OK;
    }
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        session_print_error(s, "GenericError",
                            "query-iothreads did not return an array");
        json_node_unref(ret);
        return CMD_FAILED;
    }
    Table *t = table_new(headers);
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            continue;
        }
        char *cells[G_N_ELEMENTS(fields)];
        for (guint f = 0; f < G_N_ELEMENTS(fields); f++) {
            cells[f] = member_text(json_node_get_object(n), fields[f]);
        }
        table_add_row(t, (const char *const *)cells);
        for (guint f = 0; f < G_N_ELEMENTS(fields); f++) {
            g_free(cells[f]);
        }
    }
    table_sort(t, 0, false);
    char *text = table_render(t);
    session_print_human(s, text);
    g_free(text);
    table_free(t);
    json_node_unref(ret);
    return CMD_OK;
}

/* ---- iothread add|del|set ---------------------------------------------- */

static CmdStatus run_and_report(Session *s, const char *command,
                                JsonObject *args, const char *done_message)
{
    CmdStatus status;
    JsonNode *ret = session_execute(s, command, args, &status);

    session_invalidate_ids(s);
    if (!ret) {
        return status;
    }
    if (s->json) {
        session_print_result(s, ret);
    } else {
        session_print_human(s, done_message);
    }
    json_node_unref(ret);
    return CMD_OK;
}

static CmdStatus cmd_iothread(Session *s, char **argv)
{
    GError *err = NULL;

    if (!argv[1] || !argv[2] || strchr(argv[2], '=')) {
        return usage_error(s, "iothread");
    }
    const char *sub = argv[1], *id = argv[2];
    bool add = !strcmp(sub, "add"), set = !strcmp(sub, "set");
    if (!strcmp(sub, "del")) {
        if (argv[3]) {
            return usage_error(s, "iothread");
        }
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", id);
        char *msg = g_strdup_printf("iothread %s deleted\n", id);
        CmdStatus st = run_and_report(s, "object-del", args, msg);
        g_free(msg);
        json_object_unref(args);
        return st;
    }
    if (!add && !set) {
        return usage_error(s, "iothread");
    }
    if (set && !argv[3]) {
        session_print_error(s, "GenericError", "iothread set %s: give at "
                            "least one PROP=VALUE", id);
        return CMD_FAILED;
    }
    JsonObject *props = shell_parse_arguments(argv + 3, &err);
    if (!props) {
        session_print_error(s, "GenericError", "%s", err->message);
        g_error_free(err);
        return CMD_FAILED;
    }
    JsonObject *args = json_object_new();
    if (add) {
        json_object_set_string_member(args, "qom-type", "iothread");
    }
    json_object_set_string_member(args, "id", id);
    GList *names = json_object_get_members(props);
    for (GList *l = names; l; l = l->next) {
        if (!strcmp(l->data, "id") || (add && !strcmp(l->data, "qom-type"))) {
            session_print_error(s, "GenericError", "'%s' is given by the "
                                "command itself", (char *)l->data);
            g_list_free(names);
            json_object_unref(props);
            json_object_unref(args);
            return CMD_FAILED;
        }
        json_object_set_member(args, l->data,
                               json_node_copy(json_object_get_member(
                                   props, l->data)));
    }
    g_list_free(names);
    json_object_unref(props);
    char *msg = g_strdup_printf(add ? "iothread %s added\n"
                                    : "iothread %s updated\n", id);
    CmdStatus st = run_and_report(s, add ? "object-add" : "iothread-set",
                                  args, msg);
    g_free(msg);
    json_object_unref(args);
    return st;
}

/* ---- events, quit --------------------------------------------------------- */

static CmdStatus cmd_events(Session *s, char **argv)
{
    if (!argv[1] || argv[2] ||
        (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
        return usage_error(s, "events");
    }
    s->events = !strcmp(argv[1], "on");
    if (!s->json) {
        printf("events %s\n", s->events ? "on" : "off");
    }
    return CMD_OK;
}

static CmdStatus cmd_quit(Session *s, char **argv)
{
    return CMD_QUIT;
}

/* ---- help ---------------------------------------------------------------- */

static void help_overview(Session *s, GString *out)
{
    g_string_append(out, "Commands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(human_commands); i++) {
        const HumanCommand *hc = &human_commands[i];
        g_string_append_printf(out, "  %-40s %s\n", hc->usage, hc->summary);
    }
    g_string_append(out,
        "\nQMP commands, in qmp-shell syntax (NAME KEY=VALUE ...; values are\n"
        "JSON where they parse, else strings), or a raw {\"execute\": ...} "
        "line:\n");
    if (!s->schema) {
        g_string_append(out, "  (not connected: the list comes from the "
                        "daemon)\n");
    } else {
        const char *const *cmds = schema_info_commands(s->schema);
        GString *line = g_string_new("  ");
        for (guint i = 0; cmds[i]; i++) {
            if (line->len + strlen(cmds[i]) > 76) {
                g_strchomp(line->str);
                g_string_append_printf(out, "%s\n", line->str);
                g_string_assign(line, "  ");
            }
            g_string_append_printf(line, "%s  ", cmds[i]);
        }
        g_strchomp(line->str);
        g_string_append_printf(out, "%s\n", line->str);
        g_string_free(line, TRUE);
    }
    g_string_append(out, "\nhelp COMMAND shows one command; Tab completes "
                    "commands, arguments and ids.\n");
}

/* @text as lines of at most @width columns (words never split), each
 * starting with @indent. */
static void append_wrapped(GString *out, const char *text, const char *indent,
                           guint width)
{
    char **words = g_strsplit_set(text, " \n", -1);
    GString *line = g_string_new(indent);
    bool empty = true;

    for (guint i = 0; words[i]; i++) {
        if (!words[i][0]) {
            continue;
        }
        if (!empty && line->len + 1 + strlen(words[i]) > width) {
            g_string_append_printf(out, "%s\n", line->str);
            g_string_assign(line, indent);
            empty = true;
        }
        if (!empty) {
            g_string_append_c(line, ' ');
        }
        g_string_append(line, words[i]);
        empty = false;
    }
    if (!empty) {
        g_string_append_printf(out, "%s\n", line->str);
    }
    g_string_free(line, TRUE);
    g_strfreev(words);
}

/* A member's doc, following one "See TYPE." reference to TYPE's member
 * of the same name. */
static const char *member_doc(const SchemaInfo *si, const SchemaMember *m)
{
    if (m->doc && g_str_has_prefix(m->doc, "See ")) {
        char *type = g_strdup(m->doc + 4);
        g_strchomp(type);
        if (g_str_has_suffix(type, ".")) {
            type[strlen(type) - 1] = '\0';
        }
        const char *doc = schema_info_member_doc(si, type, m->name);
        g_free(type);
        if (doc) {
            return doc;
        }
    }
    return m->doc ? m->doc : "";
}

static void help_qmp_command(Session *s, const char *name, GString *out)
{
    const char *doc = schema_info_doc(s->schema, name);

    g_string_append_printf(out, "%s\n", name);
    if (doc) {
        append_wrapped(out, doc, "  ", 76);
    }
    GPtrArray *args = schema_info_arguments(s->schema, name);
    if (args->len) {
        g_string_append(out, "Arguments:\n");
        const char *h[] = { "  NAME", "TYPE", "", "DESCRIPTION", NULL };
        Table *t = table_new(h);
        /* Required arguments first, each group in the daemon's order. */
        for (guint k = 0; k < 2 * args->len; k++) {
            SchemaMember *m = args->pdata[k % args->len];
            if (m->optional != (k >= args->len)) {
                continue;
            }
            char *type = schema_info_describe_type(s->schema, m->type);
            char *nm = g_strconcat("  ", m->name, NULL);
            table_add_row_va(t, nm, type, m->optional ? "optional" : "required",
                             member_doc(s->schema, m));
            g_free(nm);
            g_free(type);
        }
        table_set_align(t, 3, TABLE_ALIGN_LEFT);
        char *text = table_render(t);
        /* Skip the header line: the section title says what follows. */
        const char *body = strchr(text, '\n');
        g_string_append(out, body ? body + 1 : text);
        g_free(text);
        table_free(t);
    } else {
        g_string_append(out, "Arguments: none\n");
    }
    const char *ret = schema_info_ret_type(s->schema, name);
    if (ret && strcmp(ret, "0")) {
        char *desc = schema_info_describe_type(s->schema, ret);
        g_string_append_printf(out, "Returns: %s (%s)\n", desc, ret);
        g_free(desc);
    }
}

static CmdStatus cmd_help(Session *s, char **argv)
{
    GString *out = g_string_new(NULL);
    CmdStatus status = CMD_OK;

    if (!s->schema) {
        /* Help should work while the daemon is away; ignore failures. */
        session_ensure_connected(s, NULL);
    }
    if (!argv[1]) {
        help_overview(s, out);
    } else if (find_human(argv[1])) {
        const HumanCommand *hc = find_human(argv[1]);
        g_string_append_printf(out, "usage: %s\n  %s\n%s", hc->usage,
                               hc->summary, hc->details);
    } else if (s->schema && schema_info_has_command(s->schema, argv[1])) {
        help_qmp_command(s, argv[1], out);
    } else {
        session_print_error(s, "CommandNotFound", "no command '%s'",
                            argv[1]);
        status = CMD_FAILED;
    }
    if (status == CMD_OK) {
        if (s->json) {
            JsonNode *n = json_node_new(JSON_NODE_VALUE);
            json_node_set_string(n, out->str);
            session_print_result(s, n);
            json_node_unref(n);
        } else {
            fputs(out->str, stdout);
            fflush(stdout);
        }
    }
    g_string_free(out, TRUE);
    return status;
}

/* ---- dispatch ------------------------------------------------------------ */

static CmdStatus unknown_command(Session *s, const char *name)
{
    GPtrArray *all = g_ptr_array_new();

    for (guint i = 0; human_names[i]; i++) {
        g_ptr_array_add(all, (gpointer)human_names[i]);
    }
    const char *const *cmds = schema_info_commands(s->schema);
    for (guint i = 0; cmds[i]; i++) {
        g_ptr_array_add(all, (gpointer)cmds[i]);
    }
    g_ptr_array_add(all, NULL);
    const char *near = suggest_nearest(name,
                                       (const char *const *)all->pdata);
    if (near) {
        session_print_error(s, "CommandNotFound",
                            "unknown command '%s'; did you mean '%s'?", name,
                            near);
    } else {
        session_print_error(s, "CommandNotFound",
                            "unknown command '%s' (try 'help')", name);
    }
    g_ptr_array_free(all, TRUE);
    return CMD_FAILED;
}

static CmdStatus run_qmp_shell(Session *s, const char *line)
{
    GError *err = NULL;
    char *command = NULL;
    JsonObject *args = NULL;
    CmdStatus status;

    if (!shell_parse_line(line, &command, &args, &err)) {
        session_print_error(s, "GenericError", "%s", err->message);
        g_error_free(err);
        return CMD_FAILED;
    }
    if (!session_ensure_connected(s, &err)) {
        session_print_connect_error(s, err);
        g_error_free(err);
        g_free(command);
        json_object_unref(args);
        return CMD_NO_CONNECTION;
    }
    if (!schema_info_has_command(s->schema, command)) {
        status = unknown_command(s, command);
    } else {
        JsonNode *ret = session_execute(s, command,
                                        json_object_get_size(args) ? args
                                                                   : NULL,
                                        &status);
        if (ret) {
            session_print_result(s, ret);
            json_node_unref(ret);
        }
        if (!g_str_has_prefix(command, "query-")) {
            session_invalidate_ids(s);
        }
    }
    g_free(command);
    json_object_unref(args);
    return status;
}

CmdStatus commands_run_line(Session *s, const char *line)
{
    GError *err = NULL;
    const char *p = line;

    while (g_ascii_isspace(*p)) {
        p++;
    }
    if (*p == '\0' || *p == '#') {
        return CMD_OK;
    }
    CmdStatus status;
    if (*p == '{') {
        status = session_execute_raw(s, p);
        session_invalidate_ids(s);
        session_drain_events(s);
        return status;
    }
    char **argv = shell_split_words(p, &err);
    if (!argv) {
        session_print_error(s, "GenericError", "%s", err->message);
        g_error_free(err);
        return CMD_FAILED;
    }
    const HumanCommand *hc = find_human(argv[0]);
    if (hc) {
        status = hc->handler(s, argv);
    } else {
        status = run_qmp_shell(s, p);
    }
    g_strfreev(argv);
    session_drain_events(s);
    return status;
}
