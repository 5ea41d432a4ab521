/*
 * iothreadctl's commands (see commands.h): dispatch, the human commands
 * info / iothread / events / hmp, and raw QMP in qmp-shell syntax.
 * `help` lives in help.c, `stats` and `top` in stats.c and top.c.
 *
 * Nothing here names a tunable or a statistic: property names, table
 * columns and counters are learnt from the server's schema and replies,
 * so the same CLI drives iothreadd and QEMU.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "help.h"
#include "shell-parse.h"
#include "stats.h"
#include "suggest.h"
#include "table.h"
#include "workload-cmd.h"
#include "tune-command.h"

volatile int cli_interrupted;

static CmdStatus cmd_info(Session *s, char **argv);
static CmdStatus cmd_iothread(Session *s, char **argv);
static CmdStatus cmd_events(Session *s, char **argv);
static CmdStatus cmd_hmp(Session *s, const char *line);
static CmdStatus cmd_quit(Session *s, char **argv);

static const HumanCommand human_commands[] = {
    { "info", "info [iothreads]",
      "table of the iothreads and the values in effect",
      "One row per iothread, one column per member of query-iothreads'\n"
      "answer (headers are the member names; `help query-iothreads` and the\n"
      "server's schema say what each means).  A value the server does not\n"
      "report for an iothread shows as '-'.\n", false, cmd_info, NULL },
    { "iothread", "iothread add|del|set ID [PROP=VALUE...]",
      "create, delete or tune an iothread",
      "iothread add ID [PROP=VALUE...]   create (object-add qom-type=iothread)\n"
      "iothread del ID                   drain and delete (object-del)\n"
      "iothread set ID PROP=VALUE...     change several properties at once,\n"
      "                                  validated together (iothread-set);\n"
      "                                  a server without iothread-set (QEMU)\n"
      "                                  gets one qom-set per property,\n"
      "                                  applied one at a time (not atomic)\n"
      "Example: iothread add io2 PROP=VALUE; Tab completes the properties.\n",
      false, cmd_iothread, NULL },
    { "stats", "stats [ID]",
      "per-context counters, with rates since the previous `stats`",
      "One row per counter, as the server names them; per context its value\n"
      "and the rate per second since the previous `stats` call in this\n"
      "session (levels, which go up and down, get no rate).  A server\n"
      "without query-iothread-stats (QEMU) is told apart, not an error.\n",
      false, cmd_stats, NULL },
    { "top", "top [--interval S] [--count N] [--sort KEY]",
      "live view of the iothreads sorted by busy time (or another key)",
      "Refreshes in place every S seconds (default 1); q, Ctrl-C or Ctrl-D\n"
      "leaves.  --count N prints N frames and returns (also without a\n"
      "terminal).  BUSY%/POLL%/BLKD%/CPU% are the shares of wall time the\n"
      "loop spent running handlers, busy-polling, blocked in the kernel,\n"
      "and the thread's CPU time; WAKE/s, BH/s, FD/s are notifier wake-ups,\n"
      "bottom halves and fd callbacks per second; P99WAKE the p99 wake\n"
      "latency, STALLS the stalls counted, IOPS/P99IO the running\n"
      "workloads' figures.  A column the server does not report is left\n"
      "out.  Sort keys (live, or --sort KEY): b busy, c cpu, w wake-ups,\n"
      "l p99 wake, s stalls, i iops.\n",
      false, cmd_top, NULL },
    { "workload", "workload add|del|list ...",
      "run load on an iothread: disk I/O, BH/fd ping-pong, timer",
      "workload add ID IOTHREAD TYPE [KEY=VALUE...]   workload-add (TYPE disk,\n"
      "                                  bh-pingpong, fd-pingpong or timer;\n"
      "                                  `help workload-add disk` lists KEYs)\n"
      "workload del ID                   stop and forget it (workload-del)\n"
      "workload list                     one row per workload over the last\n"
      "                                  second: ops, IOPS, p50/p99 latency in\n"
      "                                  us, the iothread's CPU share\n"
      "Example: workload add w1 io0 disk filename=/tmp/w1 create=true\n"
      "         size=268435456 engine=io_uring iodepth=32\n"
      "A writing workload (rw=randwrite|randrw|write) writes only to a file\n"
      "it creates (create=true size=N) unless allow-overwrite=true.\n",
      false, cmd_workload, NULL },
    { "tune", "tune ID WORKLOAD [--parameter P] [--values a,b,c] [--step S] "
      "[--objective O] [--apply]",
      "measure a workload under each value of a tunable, recommend one",
      "Runs iothread-tune on iothread ID with the running workload WORKLOAD:\n"
      "each value is set in turn, settles, and is measured for S seconds\n"
      "(IOPS, p50/p99 latency, iothread CPU and polling).  A progress bar\n"
      "follows the steps; then the result table, plots of p99 latency and\n"
      "CPU against the value (▲ marks the lowest), and the recommendation\n"
      "with its reason.  The original value is restored unless --apply.\n"
      "Ctrl-C cancels (the original value is restored).  `help\n"
      "iothread-tune` lists the parameters, objectives and defaults.\n",
      false, cmd_tune, NULL },
    { "events", "events on|off",
      "print QMP events as they arrive",
      "With events on, every event the server sends (object added or\n"
      "deleted, properties changed...) is printed as it arrives.\n",
      false, cmd_events, NULL },
    { "hmp", "hmp LINE",
      "run a human monitor (HMP) command line, print its text",
      "Sends human-monitor-command {\"command-line\": LINE} and prints the\n"
      "text it returns, e.g. `hmp info iothreads` or `hmp help`.  LINE is\n"
      "passed on as typed (HMP syntax, not qmp-shell's).\n",
      true, NULL, cmd_hmp },
    { "help", "help [COMMAND [VARIANT]]",
      "this list, or the documentation of COMMAND",
      "help COMMAND shows a human command's usage, or a QMP command's\n"
      "documentation and arguments from the server's schema; arguments that\n"
      "are a union (object-add) are listed per variant, and help COMMAND\n"
      "VARIANT shows one (help object-add iothread).\n", false, cmd_help,
      NULL },
    { "quit", "quit", "leave iothreadctl (also exit, Ctrl-D)",
      "Leaves the CLI; the server keeps running.  To stop iothreadd, send\n"
      "the QMP command as raw JSON: {\"execute\": \"quit\"}\n", false,
      cmd_quit, NULL },
    { "exit", "exit", "leave iothreadctl", "Same as quit.\n", false,
      cmd_quit, NULL },
};

static const char *const human_names[] = {
    "info", "iothread", "stats", "top", "workload", "tune", "events", "hmp",
    "help",
    "quit", "exit", NULL
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
    static const char *const workload_sub[] = { "add", "del", "list", NULL };
    static const char *const tune_sub[] = {
        "--parameter", "--values", "--step", "--objective", "--apply", NULL,
    };

    if (!strcmp(human, "info")) {
        return info_sub;
    } else if (!strcmp(human, "iothread")) {
        return iothread_sub;
    } else if (!strcmp(human, "events")) {
        return events_sub;
    } else if (!strcmp(human, "top")) {
        return top_sub;
    } else if (!strcmp(human, "workload")) {
        return workload_sub;
    } else if (!strcmp(human, "tune")) {
        return tune_sub;
    }
    return NULL;
}

const HumanCommand *commands_human_table(guint *n)
{
    *n = G_N_ELEMENTS(human_commands);
    return human_commands;
}

const HumanCommand *commands_find_human(const char *name)
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
    GPtrArray *out = g_ptr_array_new();
    GPtrArray *members = s->schema
        ? schema_info_variant_arguments(s->schema, "object-add", "iothread")
        : NULL;

    for (guint i = 0; members && i < members->len; i++) {
        SchemaMember *m = members->pdata[i];
        g_ptr_array_add(out, g_strdup(m->name));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static CmdStatus usage_error(Session *s, const char *name)
{
    const HumanCommand *hc = commands_find_human(name);

    session_print_error(s, "GenericError", "usage: %s", hc->usage);
    return CMD_FAILED;
}

/* ---- info iothreads ---------------------------------------------------- */

/* A member of @o as table text: integers and strings as they are (the
 * empty string as "" so no cell is blank and columns stay countable),
 * absent as NULL ("-"). */
static char *member_text(JsonObject *o, const char *path)
{
    JsonNode *n = stats_member_at(o, path);

    if (!n || !JSON_NODE_HOLDS_VALUE(n)) {
        return NULL;
    }
    switch (json_node_get_value_type(n)) {
    case G_TYPE_INT64:
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    case G_TYPE_STRING:
        return g_strdup(*json_node_get_string(n) ? json_node_get_string(n)
                                                 : "\"\"");
    case G_TYPE_DOUBLE:
        return g_strdup_printf("%g", json_node_get_double(n));
    case G_TYPE_BOOLEAN:
        return g_strdup(json_node_get_boolean(n) ? "yes" : "no");
    default:
        return NULL;
    }
}

/* "thread-id" -> "THREAD-ID": headers are the member names. */
static char *column_header(const char *member)
{
    return g_ascii_strup(member, -1);
}

static void add_column(GPtrArray *columns, const char *member)
{
    if (!g_ptr_array_find_with_equal_func(columns, member, g_str_equal,
                                          NULL)) {
        g_ptr_array_add(columns, g_strdup(member));
    }
}

/* Column @name of the replies; an object-valued member becomes one column
 * per member of it ("effective.poll-ns"), in the order the first reply
 * that has it sends them. */
static void add_reply_column(GPtrArray *columns, JsonArray *iothreads,
                             const char *name)
{
    for (guint i = 0; i < json_array_get_length(iothreads); i++) {
        JsonNode *row = json_array_get_element(iothreads, i);
        JsonNode *n = JSON_NODE_HOLDS_OBJECT(row)
            ? json_object_get_member(json_node_get_object(row), name) : NULL;
        if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
            continue;
        }
        GList *subs = json_object_get_members(json_node_get_object(n));
        for (GList *l = subs; l; l = l->next) {
            char *path = g_strdup_printf("%s.%s", name, (char *)l->data);
            add_column(columns, path);
            g_free(path);
        }
        g_list_free(subs);
        return;
    }
    add_column(columns, name);
}

/* The columns of `info`: "id" (the row key) first, then the members the
 * schema declares for query-iothreads' elements, in declaration order (a
 * member no reply carried shows as '-': the server declares but does not
 * report it), then members of the replies the schema does not declare. */
static GPtrArray *info_columns(Session *s, JsonArray *iothreads)
{
    GPtrArray *columns = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *members = schema_info_return_members(s->schema,
                                                    "query-iothreads");

    add_column(columns, "id");
    for (guint i = 0; i < members->len; i++) {
        add_reply_column(columns, iothreads,
                         ((SchemaMember *)members->pdata[i])->name);
    }
    g_ptr_array_unref(members);
    for (guint i = 0; i < json_array_get_length(iothreads); i++) {
        JsonNode *n = json_array_get_element(iothreads, i);
        GList *names = JSON_NODE_HOLDS_OBJECT(n)
            ? json_object_get_members(json_node_get_object(n)) : NULL;
        for (GList *l = names; l; l = l->next) {
            add_reply_column(columns, iothreads, l->data);
        }
        g_list_free(names);
    }
    return columns;
}

static Table *info_table(Session *s, JsonArray *iothreads)
{
    GPtrArray *columns = info_columns(s, iothreads);
    char **headers = g_new0(char *, columns->len + 1);
    char **cells = g_new0(char *, columns->len + 1);

    for (guint c = 0; c < columns->len; c++) {
        headers[c] = column_header(columns->pdata[c]);
    }
    Table *t = table_new((const char *const *)headers);
    for (guint i = 0; i < json_array_get_length(iothreads); i++) {
        JsonNode *n = json_array_get_element(iothreads, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            continue;
        }
        for (guint c = 0; c < columns->len; c++) {
            cells[c] = member_text(json_node_get_object(n),
                                   columns->pdata[c]);
        }
        table_add_row(t, (const char *const *)cells);
        for (guint c = 0; c < columns->len; c++) {
            g_clear_pointer(&cells[c], g_free);
        }
    }
    g_free(cells);
    g_strfreev(headers);
    g_ptr_array_unref(columns);
    table_sort(t, 0, false);
    return t;
}

static CmdStatus cmd_info(Session *s, char **argv)
{
    CmdStatus status;

    /* Plain `info` means `info iothreads`: there is nothing else yet. */
    if (argv[1] && (strcmp(argv[1], "iothreads") || argv[2])) {
        return usage_error(s, "info");
    }
    if (session_lacks(s, "query-iothreads")) {
        return CMD_OK;
    }
    JsonNode *ret = session_execute(s, "query-iothreads", NULL, &status);
    if (!ret) {
        return status;
    }
    if (s->json) {
        session_print_result(s, ret);
    } else if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        session_print_error(s, "GenericError",
                            "query-iothreads did not return an array");
        status = CMD_FAILED;
    } else {
        stats_add_percentiles(s, json_node_get_array(ret));
        Table *t = info_table(s, json_node_get_array(ret));
        guint width = session_width(s);
        /* Wrapped headers of a dozen columns read badly: past the
         * terminal's width, one block per iothread instead. */
        char *text = width && table_natural_width(t) > width
            ? table_render_expanded(t) : table_render_fit(t, width);
        session_print_human(s, text);
        g_free(text);
        table_free(t);
    }
    json_node_unref(ret);
    return status;
}

/* ---- iothread add|del|set ---------------------------------------------- */

CmdStatus commands_run_and_report(Session *s, const char *command,
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

static CmdStatus iothread_del(Session *s, const char *id)
{
    JsonObject *args = json_object_new();
    char *msg = g_strdup_printf("iothread %s deleted\n", id);

    json_object_set_string_member(args, "id", id);
    CmdStatus st = commands_run_and_report(s, "object-del", args, msg);
    g_free(msg);
    json_object_unref(args);
    return st;
}

/* A value the words made a number where the schema declares a string
 * ("cpu-affinity=1") goes as the text typed, as QEMU's visitors read it. */
static void strings_where_declared(Session *s, JsonObject *props)
{
    GPtrArray *members = s->schema
        ? schema_info_variant_arguments(s->schema, "object-add", "iothread")
        : NULL;

    for (guint i = 0; members && i < members->len; i++) {
        SchemaMember *m = members->pdata[i];
        JsonNode *v = json_object_get_member(props, m->name);
        if (v && !strcmp(m->type, "str") && JSON_NODE_HOLDS_VALUE(v) &&
            json_node_get_value_type(v) == G_TYPE_INT64) {
            char *text = g_strdup_printf("%" G_GINT64_FORMAT,
                                         json_node_get_int(v));
            json_object_set_string_member(props, m->name, text);
            g_free(text);
        }
    }
}

/* The PROP=VALUE words as an object, or NULL with the error printed (bad
 * syntax, or a member the command itself gives). */
static JsonObject *iothread_properties(Session *s, char **words, bool add)
{
    GError *err = NULL;
    JsonObject *props = shell_parse_arguments(words, &err);

    if (!props) {
        session_print_error(s, "GenericError", "%s", err->message);
        g_error_free(err);
        return NULL;
    }
    const char *given = json_object_has_member(props, "id") ? "id"
        : add && json_object_has_member(props, "qom-type") ? "qom-type"
        : NULL;
    if (given) {
        session_print_error(s, "GenericError", "'%s' is given by the "
                            "command itself", given);
        json_object_unref(props);
        return NULL;
    }
    strings_where_declared(s, props);
    return props;
}

/* `iothread set` on a server without iothread-set (QEMU): one qom-set per
 * property, in the order given.  Stops at the first refusal and says
 * which properties were already applied. */
static CmdStatus iothread_set_one_by_one(Session *s, const char *id,
                                         JsonObject *props)
{
    GList *names = json_object_get_members(props);
    char *path = g_strconcat("/objects/", id, NULL);
    GString *applied = g_string_new(NULL);
    CmdStatus st = CMD_OK;

    session_print_human(s, "note: the server has no iothread-set; one "
                        "qom-set per property, applied one at a time (not "
                        "atomic)\n");
    for (GList *l = names; l && st == CMD_OK; l = l->next) {
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "path", path);
        json_object_set_string_member(args, "property", l->data);
        json_object_set_member(args, "value", json_node_copy(
            json_object_get_member(props, l->data)));
        JsonNode *ret = session_execute(s, "qom-set", args, &st);
        if (ret) {
            g_string_append_printf(applied, " %s", (char *)l->data);
            json_node_unref(ret);
        } else if (applied->len) {
            session_print_error(s, "GenericError", "already applied:%s",
                                applied->str);
        }
        json_object_unref(args);
    }
    session_invalidate_ids(s);
    if (st == CMD_OK && !s->json) {
        printf("iothread %s updated\n", id);
    } else if (st == CMD_OK) {
        JsonObject *none = json_object_new();
        JsonNode *empty = json_node_init_object(json_node_alloc(), none);
        session_print_result(s, empty);
        json_node_unref(empty);
        json_object_unref(none);
    }
    g_string_free(applied, TRUE);
    g_free(path);
    g_list_free(names);
    return st;
}

/* `iothread add|set ID PROP=VALUE...` as one object-add / iothread-set. */
static CmdStatus iothread_add_or_set(Session *s, const char *id,
                                     JsonObject *props, bool add)
{
    JsonObject *args = json_object_new();

    if (add) {
        json_object_set_string_member(args, "qom-type", "iothread");
    }
    json_object_set_string_member(args, "id", id);
    GList *names = json_object_get_members(props);
    for (GList *l = names; l; l = l->next) {
        json_object_set_member(args, l->data, json_node_copy(
            json_object_get_member(props, l->data)));
    }
    g_list_free(names);
    char *msg = g_strdup_printf(add ? "iothread %s added\n"
                                    : "iothread %s updated\n", id);
    CmdStatus st = commands_run_and_report(s, add ? "object-add" : "iothread-set",
                                  args, msg);
    g_free(msg);
    json_object_unref(args);
    return st;
}

static CmdStatus cmd_iothread(Session *s, char **argv)
{
    if (!argv[1] || !argv[2] || strchr(argv[2], '=')) {
        return usage_error(s, "iothread");
    }
    const char *sub = argv[1], *id = argv[2];
    bool add = !strcmp(sub, "add"), set = !strcmp(sub, "set");
    if (!strcmp(sub, "del")) {
        if (argv[3]) {
            return usage_error(s, "iothread");
        }
        return iothread_del(s, id);
    }
    if (!add && !set) {
        return usage_error(s, "iothread");
    }
    if (set && !argv[3]) {
        session_print_error(s, "GenericError", "iothread set %s: give at "
                            "least one PROP=VALUE", id);
        return CMD_FAILED;
    }
    JsonObject *props = iothread_properties(s, argv + 3, add);
    if (!props) {
        return CMD_FAILED;
    }
    CmdStatus st;
    if (set && session_lacks_quietly(s, "iothread-set")) {
        st = iothread_set_one_by_one(s, id, props);
    } else {
        st = iothread_add_or_set(s, id, props, add);
    }
    json_object_unref(props);
    return st;
}

/* ---- hmp ----------------------------------------------------------------- */

/* HMP answers with CRLF line ends (QEMU's monitor output); a terminal
 * wants LF. */
static char *lf_lines(const char *text)
{
    char **lines = g_strsplit(text, "\r\n", -1);
    char *joined = g_strjoinv("\n", lines);

    g_strfreev(lines);
    return joined;
}

static CmdStatus cmd_hmp(Session *s, const char *line)
{
    CmdStatus status;

    if (!*line) {
        return usage_error(s, "hmp");
    }
    if (session_lacks_quietly(s, "human-monitor-command")) {
        /* Nothing to show instead: unlike info or stats, a failure. */
        session_print_error(s, "CommandNotFound", "the server has no "
                            "human-monitor-command");
        return CMD_FAILED;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "command-line", line);
    JsonNode *ret = session_execute(s, "human-monitor-command", args,
                                    &status);
    json_object_unref(args);
    session_invalidate_ids(s);
    if (!ret) {
        return status;
    }
    if (s->json || !JSON_NODE_HOLDS_VALUE(ret) ||
        json_node_get_value_type(ret) != G_TYPE_STRING) {
        session_print_result(s, ret);
    } else {
        char *text = lf_lines(json_node_get_string(ret));
        fputs(text, stdout);
        fflush(stdout);
        g_free(text);
    }
    json_node_unref(ret);
    return CMD_OK;
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

/* The command word of @line if it names a human command that takes the
 * rest of the line as typed. */
static const HumanCommand *line_command(const char *line)
{
    size_t len = strcspn(line, " \t");
    char *word = g_strndup(line, len);
    const HumanCommand *hc = commands_find_human(word);

    g_free(word);
    return hc && hc->takes_line ? hc : NULL;
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
    const HumanCommand *hc = line_command(p);
    if (hc) {
        /* The text after the command word, blanks around it dropped. */
        char *rest = g_strstrip(g_strdup(p + strcspn(p, " \t")));
        status = hc->line_handler(s, rest);
        g_free(rest);
        session_drain_events(s);
        return status;
    }
    char **argv = shell_split_words(p, &err);
    if (!argv) {
        session_print_error(s, "GenericError", "%s", err->message);
        g_error_free(err);
        return CMD_FAILED;
    }
    hc = commands_find_human(argv[0]);
    if (hc) {
        status = hc->handler(s, argv);
    } else {
        status = run_qmp_shell(s, p);
    }
    g_strfreev(argv);
    session_drain_events(s);
    return status;
}
