/*
 * `tune ID WORKLOAD [--parameter P] [--values a,b,c] [--step S]
 * [--objective O] [--apply]`: start iothread-tune, show a progress bar
 * from IOTHREAD_TUNE_PROGRESS until IOTHREAD_TUNE_DONE, then the result
 * table (query-tune), the plots of p99 latency and CPU against the value,
 * and the recommendation.  Ctrl-C cancels the tune (iothread-tune-cancel).
 * Parameter names, defaults and rules are the server's: nothing here
 * restates them.
 */
#include "tune-command.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "tune-plot.h"

#define BAR_WIDTH 20
#define POLL_MS 200

static const char usage[] =
    "usage: tune ID WORKLOAD [--parameter P] [--values a,b,c] [--step S] "
    "[--objective O] [--apply]";

/* "0,4096,32768" -> [0, 4096, 32768]; NULL when a piece is no integer. */
static JsonArray *parse_values(const char *text)
{
    char **parts = g_strsplit(text, ",", -1);
    JsonArray *arr = json_array_new();

    for (guint i = 0; parts[i]; i++) {
        gint64 v;
        if (!g_ascii_string_to_signed(g_strstrip(parts[i]), 10, G_MININT64,
                                      G_MAXINT64, &v, NULL)) {
            json_array_unref(arr);
            arr = NULL;
            break;
        }
        json_array_add_int_element(arr, v);
    }
    g_strfreev(parts);
    return arr;
}

/* One --option VALUE into @args; false when the value is bad. */
static bool parse_option(JsonObject *args, const char *opt, const char *val)
{
    if (!strcmp(opt, "--parameter") || !strcmp(opt, "--objective")) {
        json_object_set_string_member(args, opt + 2, val);
        return true;
    }
    if (!strcmp(opt, "--values")) {
        JsonArray *arr = parse_values(val);
        if (arr) {
            json_object_set_array_member(args, "values", arr);
        }
        return arr != NULL;
    }
    if (!strcmp(opt, "--step")) {
        char *end;
        double step = g_ascii_strtod(val, &end);
        if (*val && !*end && step > 0) {
            json_object_set_double_member(args, "step-seconds", step);
            return true;
        }
    }
    return false;
}

/* iothread-tune's arguments from the words; NULL (usage printed) when
 * they are wrong.  The server checks the values themselves. */
static JsonObject *parse_tune_args(Session *s, char **argv)
{
    JsonObject *args = json_object_new();
    guint i;

    if (!argv[1] || !argv[2] || argv[1][0] == '-' || argv[2][0] == '-') {
        goto bad;
    }
    json_object_set_string_member(args, "id", argv[1]);
    json_object_set_string_member(args, "workload", argv[2]);
    for (i = 3; argv[i]; i++) {
        if (!strcmp(argv[i], "--apply")) {
            json_object_set_boolean_member(args, "apply", true);
        } else if (!argv[i + 1] || !parse_option(args, argv[i], argv[i + 1])) {
            goto bad;
        } else {
            i++;
        }
    }
    return args;
bad:
    json_object_unref(args);
    session_print_error(s, "GenericError", "%s", usage);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Progress                                                                */

static JsonObject *event_data(JsonNode *ev, const char *name, const char *id)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(ev) ? json_node_get_object(ev)
                                               : NULL;
    JsonObject *data = o && json_object_has_member(o, "data")
        ? json_object_get_object_member(o, "data") : NULL;

    if (!data || g_strcmp0(json_object_get_string_member_with_default(
                               o, "event", ""), name) ||
        g_strcmp0(json_object_get_string_member_with_default(
                      data, "id", ""), id)) {
        return NULL;
    }
    return data;
}

/* "[██████░░░░] 3/7 poll-max-ns 4096: 41728 IOPS, p99 33.0 us, CPU 20.0%";
 * redrawn in place on a terminal, one line per step elsewhere. */
static void print_progress(JsonObject *d, bool live)
{
    gint64 step = json_object_get_int_member(d, "step");
    gint64 steps = MAX(json_object_get_int_member(d, "steps"), 1);
    int filled = (int)(step * BAR_WIDTH / steps);
    GString *line = g_string_new(live ? "\r[" : "[");

    for (int i = 0; i < BAR_WIDTH; i++) {
        g_string_append(line, i < filled ? "█" : "░");
    }
    g_string_append_printf(line, "] %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                           " %s %" G_GINT64_FORMAT ": ", step, steps,
                           json_object_get_string_member(d, "parameter"),
                           json_object_get_int_member(d, "value"));
    if (json_object_has_member(d, "error")) {
        g_string_append(line, json_object_get_string_member(d, "error"));
    } else {
        g_string_append_printf(line, "%.0f IOPS, p99 %.1f us, CPU %.1f%%",
            json_object_get_double_member(d, "iops"),
            json_object_get_int_member(d, "p99-ns") / 1e3,
            json_object_get_double_member(d, "cpu") * 100);
    }
    g_string_append(line, live ? "\033[K" : "\n");
    fputs(line->str, stdout);
    fflush(stdout);
    g_string_free(line, TRUE);
}

/* Cancel the tune after Ctrl-C (its DONE event still ends the wait). */
static void cancel_tune(Session *s, const char *id)
{
    JsonObject *args = json_object_new();
    CmdStatus status;

    json_object_set_string_member(args, "id", id);
    JsonNode *r = session_execute(s, "iothread-tune-cancel", args, &status);
    json_object_unref(args);
    if (r) {
        json_node_unref(r);
    }
}

/* Show progress until the DONE event of @id; false on a lost
 * connection. */
static bool wait_for_done(Session *s, const char *id, bool show, bool live)
{
    GError *err = NULL;

    cli_interrupted = 0;
    while (s->client) {
        if (cli_interrupted) {
            cli_interrupted = 0;
            cancel_tune(s, id);
            continue;
        }
        JsonNode *ev = qmp_client_pop_event(s->client, POLL_MS, &err);
        if (err) {
            session_print_error(s, "GenericError", "connection lost: %s",
                                err->message);
            g_error_free(err);
            session_disconnect(s);
            return false;
        }
        JsonObject *d = ev ? event_data(ev, "IOTHREAD_TUNE_PROGRESS", id)
                           : NULL;
        if (d && show) {
            print_progress(d, live);
        }
        bool done = ev && event_data(ev, "IOTHREAD_TUNE_DONE", id);
        if (ev) {
            json_node_unref(ev);
        }
        if (done) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------------- */
/* Result                                                                  */

static char *fmt_us(gint64 ns)
{
    return g_strdup_printf("%.1f", ns / 1e3);
}

/* One step's cells; an unmeasured value shows "-" and its error (the
 * seventh cell, read only by a table with a NOTE column). */
static void add_result_row(Table *t, JsonObject *r)
{
    bool bad = json_object_has_member(r, "error");
    char *cells[7] = {
        g_strdup_printf("%" G_GINT64_FORMAT,
                        json_object_get_int_member(r, "value")),
        bad ? NULL : table_fmt_rate(json_object_get_double_member(r, "iops")),
        bad ? NULL : fmt_us(json_object_get_int_member(r, "p50-ns")),
        bad ? NULL : fmt_us(json_object_get_int_member(r, "p99-ns")),
        bad ? NULL : table_fmt_percent(
            json_object_get_double_member(r, "cpu")),
        bad ? NULL : table_fmt_percent(
            json_object_get_double_member(r, "polling")),
        bad ? g_strdup(json_object_get_string_member(r, "error")) : NULL,
    };

    table_add_row(t, (const char *const *)cells);
    for (int c = 0; c < 7; c++) {
        g_free(cells[c]);
    }
}

/* Whether a row was not measured (it has an error). */
static bool any_error(JsonArray *results)
{
    for (guint i = 0; i < json_array_get_length(results); i++) {
        if (json_object_has_member(
                json_array_get_object_element(results, i), "error")) {
            return true;
        }
    }
    return false;
}

/* VALUE IOPS P50-US P99-US CPU POLLING [NOTE], a row per step; NOTE (the
 * error of an unmeasured value) only when there is one. */
static char *results_table(JsonArray *results, guint width)
{
    static const char *const headers[] = {
        "VALUE", "IOPS", "P50-US", "P99-US", "CPU", "POLLING", "NOTE", NULL,
    };
    char **h = g_strdupv((char **)headers);
    Table *t;

    if (!any_error(results)) {
        g_free(h[6]);
        h[6] = NULL;
    }
    t = table_new((const char *const *)h);
    g_strfreev(h);
    for (guint i = 0; i < json_array_get_length(results); i++) {
        add_result_row(t, json_array_get_object_element(results, i));
    }
    char *text = table_render_fit(t, width);
    table_free(t);
    return text;
}

/* The plot of member @member of every row. */
static char *plot_member(JsonArray *results, const char *title,
                         const char *member, double scale, guint width)
{
    guint n = json_array_get_length(results);
    char **labels = g_new0(char *, n + 1);
    double *y = g_new0(double, MAX(n, 1));
    bool *measured = g_new0(bool, MAX(n, 1));

    for (guint i = 0; i < n; i++) {
        JsonObject *r = json_array_get_object_element(results, i);
        labels[i] = g_strdup_printf("%" G_GINT64_FORMAT,
                                    json_object_get_int_member(r, "value"));
        measured[i] = !json_object_has_member(r, "error");
        y[i] = json_node_get_double(json_object_get_member(r, member));
    }
    TunePlot p = {
        .title = title, .n = n, .labels = (const char *const *)labels,
        .y = y, .measured = measured, .scale = scale, .axis_format = "%.1f",
    };
    char *text = tune_plot_render(&p, width);
    g_strfreev(labels);
    g_free(y);
    g_free(measured);
    return text;
}

/* "recommendation: ...", then what the parameter is now. */
static void print_outcome(JsonObject *info)
{
    const char *state = json_object_get_string_member(info, "state");

    if (json_object_has_member(info, "reason")) {
        printf("recommendation: %s\n",
               json_object_get_string_member(info, "reason"));
    }
    if (json_object_has_member(info, "error")) {
        printf("tune %s: %s\n", state,
               json_object_get_string_member(info, "error"));
    } else if (strcmp(state, "done") != 0) {
        printf("tune %s\n", state);
    }
    if (json_object_has_member(info, "value")) {
        printf("%s is now %" G_GINT64_FORMAT " (%s)\n",
               json_object_get_string_member(info, "parameter"),
               json_object_get_int_member(info, "value"),
               json_object_get_boolean_member(info, "applied")
                   ? "applied" : "the original value");
    }
}

static void print_human(Session *s, JsonObject *info)
{
    JsonArray *results = json_object_get_array_member(info, "results");
    guint width = session_width(s) ? MIN(session_width(s), 80) : 80;
    char *table = results_table(results, width);

    fputs(table, stdout);
    g_free(table);
    if (json_array_get_length(results)) {
        char *p99 = plot_member(results, "\np99 latency (us)", "p99-ns",
                                1e-3, width);
        char *cpu = plot_member(results, "\niothread CPU (%)", "cpu", 100,
                                width);
        fputs(p99, stdout);
        fputs(cpu, stdout);
        g_free(p99);
        g_free(cpu);
    }
    print_outcome(info);
}

/* query-tune {id}: print the table, the plots and the outcome (or the
 * JSON with --json). */
static CmdStatus print_result(Session *s, const char *id)
{
    JsonObject *args = json_object_new();
    CmdStatus status = CMD_OK;

    json_object_set_string_member(args, "id", id);
    JsonNode *r = session_execute(s, "query-tune", args, &status);
    json_object_unref(args);
    if (!r) {
        return status;
    }
    JsonArray *arr = JSON_NODE_HOLDS_ARRAY(r) ? json_node_get_array(r)
                                              : NULL;
    if (!arr || json_array_get_length(arr) != 1) {
        session_print_error(s, "GenericError", "query-tune: no tune of '%s'",
                            id);
        status = CMD_FAILED;
    } else if (s->json) {
        session_print_result(s, json_array_get_element(arr, 0));
    } else {
        JsonObject *info = json_array_get_object_element(arr, 0);
        print_human(s, info);
        status = strcmp(json_object_get_string_member(info, "state"),
                        "done") ? CMD_FAILED : CMD_OK;
    }
    json_node_unref(r);
    return status;
}

CmdStatus cmd_tune(Session *s, char **argv)
{
    JsonObject *args = parse_tune_args(s, argv);
    CmdStatus status;

    if (!args) {
        return CMD_FAILED;
    }
    if (session_lacks(s, "iothread-tune")) {
        json_object_unref(args);
        return CMD_OK;
    }
    JsonNode *r = session_execute(s, "iothread-tune", args, &status);
    json_object_unref(args);
    if (!r) {
        return status;
    }
    json_node_unref(r);
    bool live = isatty(STDOUT_FILENO) && !s->json;
    if (!wait_for_done(s, argv[1], !s->json, live)) {
        return CMD_NO_CONNECTION;
    }
    if (live) {
        fputc('\n', stdout);
    }
    return print_result(s, argv[1]);
}
