/*
 * `workload add|del|list` (see workload-cmd.h).  The arguments of `add` go to
 * workload-add as typed (KEY=VALUE in qmp-shell syntax; the server's
 * schema checks them and `help workload-add` documents them); `list` is
 * a table of query-workloads' answer over its last interval, with '-'
 * for what a server does not report.
 */
#include "workload-cmd.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "shell-parse.h"
#include "table.h"

#define USAGE "usage: workload add ID IOTHREAD TYPE [KEY=VALUE...] | " \
              "workload del ID | workload list"

static CmdStatus usage(Session *s)
{
    session_print_error(s, "GenericError", USAGE);
    return CMD_FAILED;
}

/* Whether @args say create=true: the server then lays the new file out
 * before the measured run, and the user should know why IOPS stay 0. */
static bool args_create(JsonObject *args)
{
    JsonNode *n = json_object_get_member(args, "create");
    return n && JSON_NODE_HOLDS_VALUE(n) &&
           json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
           json_node_get_boolean(n);
}

/* add ID IOTHREAD TYPE [KEY=VALUE...] */
static CmdStatus workload_add(Session *s, char **argv)
{
    GError *err = NULL;

    if (!argv[0] || !argv[1] || !argv[2] || strchr(argv[0], '=') ||
        strchr(argv[1], '=') || strchr(argv[2], '=')) {
        return usage(s);
    }
    JsonObject *args = shell_parse_arguments(argv + 3, &err);
    if (!args) {
        session_print_error(s, "GenericError", "%s", err->message);
        g_error_free(err);
        return CMD_FAILED;
    }
    static const char *const given[] = { "id", "iothread", "type", NULL };
    for (int i = 0; given[i]; i++) {
        if (json_object_has_member(args, given[i])) {
            session_print_error(s, "GenericError", "'%s' is given by the "
                                "command itself", given[i]);
            json_object_unref(args);
            return CMD_FAILED;
        }
        json_object_set_string_member(args, given[i], argv[i]);
    }
    char *done = g_strdup_printf("workload %s started on %s%s\n", argv[0],
                                 argv[1], args_create(args)
                                 ? " (state preparing while it writes the "
                                   "new file once, then running)" : "");
    CmdStatus st = commands_run_and_report(s, "workload-add", args, done);
    g_free(done);
    json_object_unref(args);
    return st;
}

static CmdStatus workload_del(Session *s, char **argv)
{
    if (!argv[0] || argv[1]) {
        return usage(s);
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", argv[0]);
    char *done = g_strdup_printf("workload %s deleted\n", argv[0]);
    CmdStatus st = commands_run_and_report(s, "workload-del", args, done);
    g_free(done);
    json_object_unref(args);
    return st;
}

/* ---- list ---------------------------------------------------------------- */

static const char *const list_headers[] = {
    "ID", "IOTHREAD", "TYPE", "STATE", "OPS", "IOPS", "P50-US", "P99-US",
    "CPU", NULL
};

static char *int_cell(JsonObject *o, const char *member)
{
    return json_object_has_member(o, member)
        ? table_fmt_u64((uint64_t)json_object_get_int_member(o, member))
        : NULL;
}

/* A latency percentile of the last interval, in µs. */
static char *latency_cell(JsonObject *o, const char *percentile)
{
    JsonObject *h = json_object_get_object_member(o, "latency-interval-ns");
    if (!h || !json_object_has_member(h, percentile) ||
        json_object_get_int_member(h, "count") == 0) {
        return NULL;
    }
    return g_strdup_printf("%.1f", json_object_get_int_member(h, percentile)
                                   / 1000.0);
}

static char *double_cell(JsonObject *o, const char *member,
                         char *(*fmt)(double))
{
    return json_object_has_member(o, member)
        ? fmt(json_object_get_double_member(o, member)) : NULL;
}

static void add_row(Table *t, JsonObject *o)
{
    char *cells[] = {
        g_strdup(json_object_get_string_member_with_default(o, "id", NULL)),
        g_strdup(json_object_get_string_member_with_default(o, "iothread",
                                                            NULL)),
        g_strdup(json_object_get_string_member_with_default(o, "type", NULL)),
        g_strdup(json_object_get_string_member_with_default(o, "state",
                                                            NULL)),
        int_cell(o, "ops"),
        double_cell(o, "iops-interval", table_fmt_rate),
        latency_cell(o, "p50"),
        latency_cell(o, "p99"),
        double_cell(o, "cpu-interval", table_fmt_percent),
    };
    table_add_row(t, (const char *const *)cells);
    for (size_t i = 0; i < G_N_ELEMENTS(cells); i++) {
        g_free(cells[i]);
    }
}

static CmdStatus workload_list(Session *s, char **argv)
{
    CmdStatus status;

    if (argv[0]) {
        return usage(s);
    }
    JsonNode *ret = session_execute(s, "query-workloads", NULL, &status);
    if (!ret) {
        return status;
    }
    if (s->json || !JSON_NODE_HOLDS_ARRAY(ret)) {
        session_print_result(s, ret);
        json_node_unref(ret);
        return CMD_OK;
    }
    JsonArray *arr = json_node_get_array(ret);
    Table *t = table_new(list_headers);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        add_row(t, json_array_get_object_element(arr, i));
    }
    char *text = json_array_get_length(arr)
        ? table_render_fit(t, session_width(s)) : g_strdup("no workloads\n");
    session_print_human(s, text);
    g_free(text);
    table_free(t);
    json_node_unref(ret);
    return CMD_OK;
}

CmdStatus cmd_workload(Session *s, char **argv)
{
    const char *sub = argv[1];

    if (!sub) {
        return usage(s);
    }
    if (!strcmp(sub, "add")) {
        return workload_add(s, argv + 2);
    }
    if (!strcmp(sub, "del")) {
        return workload_del(s, argv + 2);
    }
    if (!strcmp(sub, "list")) {
        return workload_list(s, argv + 2);
    }
    return usage(s);
}
