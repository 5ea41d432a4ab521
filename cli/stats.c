/*
 * `stats [ID]` and the query-iothread-stats helpers shared with top.c
 * (see stats.h).
 */
#include "stats.h"

#include <math.h>
#include <string.h>

#include "table.h"

void stats_sample_free(gpointer p)
{
    StatsSample *sample = p;

    g_free(sample->id);
    json_object_unref(sample->stats);
    g_free(sample);
}

GPtrArray *stats_fetch(Session *s, const char *id, CmdStatus *status)
{
    JsonObject *args = NULL;

    if (id) {
        args = json_object_new();
        json_object_set_string_member(args, "id", id);
    }
    JsonNode *ret = session_execute(s, "query-iothread-stats", args, status);
    if (args) {
        json_object_unref(args);
    }
    if (!ret) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        session_print_error(s, "GenericError",
                            "query-iothread-stats did not return an array");
        json_node_unref(ret);
        *status = CMD_FAILED;
        return NULL;
    }
    GPtrArray *samples = g_ptr_array_new_with_free_func(stats_sample_free);
    JsonArray *arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            continue;
        }
        JsonObject *o = json_node_get_object(n);
        const char *sid = json_object_get_string_member_with_default(
            o, "id", NULL);
        JsonNode *st = json_object_get_member(o, "stats");
        if (!sid || !st || !JSON_NODE_HOLDS_OBJECT(st)) {
            continue;
        }
        StatsSample *sample = g_new0(StatsSample, 1);
        sample->id = g_strdup(sid);
        sample->stats = json_object_ref(json_node_get_object(st));
        g_ptr_array_add(samples, sample);
    }
    json_node_unref(ret);
    *status = CMD_OK;
    return samples;
}

bool stats_value(JsonObject *stats, const char *name, double *value)
{
    JsonNode *n = stats ? json_object_get_member(stats, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n)) {
        return false;
    }
    GType t = json_node_get_value_type(n);
    if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE) {
        return false;
    }
    *value = json_node_get_double(n);
    return true;
}

GPtrArray *stats_schema_members(Session *s)
{
    GPtrArray *outer = schema_info_return_members(s->schema,
                                                  "query-iothread-stats");
    GPtrArray *inner = NULL;

    for (guint i = 0; i < outer->len && !inner; i++) {
        SchemaMember *m = outer->pdata[i];
        if (strcmp(m->name, "stats") == 0) {
            inner = schema_info_type_members(s->schema, m->type);
        }
    }
    g_ptr_array_unref(outer);
    return inner ? inner : g_ptr_array_new();
}

bool stats_is_gauge(Session *s, const char *name)
{
    GPtrArray *members;
    bool gauge = false;

    /* "wake-latency-ns.p99": a member of a distribution, not a counter. */
    if (strchr(name, '.')) {
        return true;
    }
    members = stats_schema_members(s);
    for (guint i = 0; i < members->len; i++) {
        SchemaMember *m = members->pdata[i];
        if (strcmp(m->name, name) == 0) {
            gauge = m->features &&
                    g_strv_contains((const char *const *)m->features, "gauge");
        }
    }
    g_ptr_array_unref(members);
    return gauge;
}

JsonNode *stats_member_at(JsonObject *o, const char *path)
{
    const char *dot = strchr(path, '.');

    if (!dot) {
        return json_object_get_member(o, path);
    }
    char *outer = g_strndup(path, dot - path);
    JsonNode *n = json_object_get_member(o, outer);
    g_free(outer);
    return n && JSON_NODE_HOLDS_OBJECT(n)
           ? json_object_get_member(json_node_get_object(n), dot + 1) : NULL;
}

static char *value_text(JsonObject *stats, const char *name)
{
    JsonNode *n = stats_member_at(stats, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n)) {
        return NULL;
    }
    if (json_node_get_value_type(n) == G_TYPE_STRING) {
        return g_strdup(json_node_get_string(n));
    }
    if (json_node_get_value_type(n) == G_TYPE_INT64) {
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    }
    double v;
    return stats_value(stats, name, &v) ? g_strdup_printf("%g", v) : NULL;
}

/* The previous sample of @id and the seconds since, or NULL. */
static JsonObject *previous(Session *s, const char *id, gint64 now,
                            double *elapsed)
{
    StatsPrev *prev = g_hash_table_lookup(s->prev_stats, id);

    if (!prev || now <= prev->taken_us) {
        return NULL;
    }
    *elapsed = (now - prev->taken_us) / 1e6;
    return prev->stats;
}

/* The rate of counter @name since the previous sample (NULL: no previous
 * sample, a level, or not a number). */
static char *rate_text(Session *s, JsonObject *stats, JsonObject *prev,
                       double elapsed, const char *name)
{
    double a, b;

    if (!prev || elapsed <= 0 || stats_is_gauge(s, name) ||
        !stats_value(stats, name, &a) || !stats_value(prev, name, &b)) {
        return NULL;
    }
    return table_fmt_rate((a - b) / elapsed);
}

/* --json: the raw answer plus, per context, the rates since the previous
 * sample (same data as the table). */
static void print_stats_json(Session *s, GPtrArray *samples, gint64 now)
{
    JsonArray *out = json_array_new();

    for (guint i = 0; i < samples->len; i++) {
        StatsSample *sm = samples->pdata[i];
        double elapsed = 0, a, b;
        JsonObject *prev = previous(s, sm->id, now, &elapsed);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "id", sm->id);
        json_object_set_object_member(o, "stats", json_object_ref(sm->stats));
        if (prev && elapsed > 0) {
            JsonObject *rates = json_object_new();
            GList *names = json_object_get_members(sm->stats);
            for (GList *l = names; l; l = l->next) {
                if (!stats_is_gauge(s, l->data) &&
                    stats_value(sm->stats, l->data, &a) &&
                    stats_value(prev, l->data, &b)) {
                    json_object_set_double_member(rates, l->data,
                                                  (a - b) / elapsed);
                }
            }
            g_list_free(names);
            json_object_set_object_member(o, "rates", rates);
        }
        json_array_add_object_element(out, o);
    }
    JsonNode *n = json_node_init_array(json_node_alloc(), out);
    session_print_result(s, n);
    json_node_unref(n);
    json_array_unref(out);
}

/* COUNTER, then ID and ID/s per context. */
static Table *stats_table_new(GPtrArray *samples)
{
    GPtrArray *headers = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(headers, g_strdup("COUNTER"));
    for (guint i = 0; i < samples->len; i++) {
        StatsSample *sm = samples->pdata[i];
        g_ptr_array_add(headers, g_strdup(sm->id));
        g_ptr_array_add(headers, g_strdup_printf("%s/s", sm->id));
    }
    g_ptr_array_add(headers, NULL);
    Table *t = table_new((const char *const *)headers->pdata);
    g_ptr_array_free(headers, TRUE);
    /* Value columns also hold the backend's name: align them all. */
    for (guint c = 1; c < table_columns(t); c++) {
        table_set_align(t, c, TABLE_ALIGN_RIGHT);
    }
    return t;
}

/* The rows of member @name of @stats (whose schema type is @type, NULL
 * if undeclared) appended to @rows: "name", or for an object-valued
 * member (a HistogramSummary) one "name.sub" per member of it, in the
 * order its schema type declares them, then in reply order. */
static void add_rows(Session *s, GPtrArray *rows, JsonObject *stats,
                     const char *name, const char *type)
{
    JsonNode *n = json_object_get_member(stats, name);

    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
        g_ptr_array_add(rows, g_strdup(name));
        return;
    }
    GList *sent = json_object_get_members(json_node_get_object(n));
    GPtrArray *declared = type ? schema_info_type_members(s->schema, type)
                               : g_ptr_array_new();
    for (guint i = 0; i < declared->len; i++) {
        GList *l = g_list_find_custom(
            sent, ((SchemaMember *)declared->pdata[i])->name,
            (GCompareFunc)strcmp);
        if (l) {
            g_ptr_array_add(rows, g_strdup_printf("%s.%s", name,
                                                  (char *)l->data));
            sent = g_list_delete_link(sent, l);
        }
    }
    for (GList *l = sent; l; l = l->next) {
        g_ptr_array_add(rows, g_strdup_printf("%s.%s", name, (char *)l->data));
    }
    g_list_free(sent);
    g_ptr_array_unref(declared);
}

/* The rows of @stats in the order the schema declares them (the type of
 * query-iothread-stats' "stats" member), then any the schema does not
 * name, in reply order.  Caller frees (g_ptr_array_unref). */
static GPtrArray *stats_names(Session *s, JsonObject *stats)
{
    GPtrArray *declared = stats_schema_members(s);
    GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
    GList *sent = json_object_get_members(stats);

    for (guint i = 0; i < declared->len; i++) {
        SchemaMember *m = declared->pdata[i];
        GList *l = g_list_find_custom(sent, m->name, (GCompareFunc)strcmp);
        if (l) {
            add_rows(s, rows, stats, m->name, m->type);
            sent = g_list_delete_link(sent, l);
        }
    }
    g_ptr_array_unref(declared);
    for (GList *l = sent; l; l = l->next) {
        add_rows(s, rows, stats, l->data, NULL);
    }
    g_list_free(sent);
    return rows;
}

/* The table: a row per counter, in the schema's order.  Returns whether
 * any rate could be computed. */
static bool print_stats_table(Session *s, GPtrArray *samples, gint64 now)
{
    Table *t = stats_table_new(samples);
    StatsSample *first = samples->pdata[0];
    GPtrArray *names = stats_names(s, first->stats);
    char **cells = g_new0(char *, table_columns(t) + 1);
    bool any_rate = false;

    for (guint r = 0; r < names->len; r++) {
        const char *name = names->pdata[r];
        cells[0] = g_strdup(name);
        for (guint i = 0; i < samples->len; i++) {
            StatsSample *sm = samples->pdata[i];
            double elapsed = 0;
            JsonObject *prev = previous(s, sm->id, now, &elapsed);
            any_rate |= prev != NULL;
            cells[1 + 2 * i] = value_text(sm->stats, name);
            cells[2 + 2 * i] = rate_text(s, sm->stats, prev, elapsed, name);
        }
        table_add_row(t, (const char *const *)cells);
        for (guint c = 0; c < table_columns(t); c++) {
            g_clear_pointer(&cells[c], g_free);
        }
    }
    g_free(cells);
    g_ptr_array_unref(names);
    char *text = table_render_fit(t, session_width(s));
    session_print_human(s, text);
    g_free(text);
    table_free(t);
    return any_rate;
}

/* Whether schema type @type has members p50 and p99 (a distribution:
 * HistogramSummary). */
static bool has_percentiles(Session *s, const char *type)
{
    GPtrArray *members = schema_info_type_members(s->schema, type);
    int found = 0;

    for (guint i = 0; i < members->len; i++) {
        const char *name = ((SchemaMember *)members->pdata[i])->name;
        found += !strcmp(name, "p50") || !strcmp(name, "p99");
    }
    g_ptr_array_unref(members);
    return found == 2;
}

/* The members of query-iothread-stats' "stats" that are distributions, in
 * schema order (names owned by the caller's array). */
static GPtrArray *distribution_members(Session *s)
{
    GPtrArray *declared = stats_schema_members(s);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < declared->len; i++) {
        SchemaMember *m = declared->pdata[i];
        if (has_percentiles(s, m->type)) {
            g_ptr_array_add(names, g_strdup(m->name));
        }
    }
    g_ptr_array_unref(declared);
    return names;
}

/* @stats' distribution @name cut to its p50 and p99, or NULL. */
static JsonObject *percentiles_of(JsonObject *stats, const char *name)
{
    JsonNode *n = json_object_get_member(stats, name);

    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
        return NULL;
    }
    JsonObject *h = json_node_get_object(n);
    JsonObject *cut = json_object_new();
    for (const char *const *p = (const char *const[]){ "p50", "p99", NULL };
         *p; p++) {
        if (json_object_has_member(h, *p)) {
            json_object_set_member(cut, *p,
                json_node_copy(json_object_get_member(h, *p)));
        }
    }
    return cut;
}

void stats_add_percentiles(Session *s, JsonArray *iothreads)
{
    CmdStatus status;

    if (!session_has_command(s, "query-iothread-stats")) {
        return;
    }
    GPtrArray *samples = stats_fetch(s, NULL, &status);
    if (!samples) {
        return;
    }
    GPtrArray *names = distribution_members(s);
    for (guint i = 0; i < json_array_get_length(iothreads); i++) {
        JsonNode *n = json_array_get_element(iothreads, i);
        JsonObject *row = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                    : NULL;
        const char *id = row ? json_object_get_string_member_with_default(
                                   row, "id", NULL) : NULL;
        for (guint j = 0; id && j < samples->len; j++) {
            StatsSample *sm = samples->pdata[j];
            if (strcmp(sm->id, id) != 0) {
                continue;
            }
            for (guint k = 0; k < names->len; k++) {
                JsonObject *cut = percentiles_of(sm->stats, names->pdata[k]);
                if (cut) {
                    json_object_set_object_member(row, names->pdata[k], cut);
                }
            }
        }
    }
    g_ptr_array_unref(names);
    g_ptr_array_unref(samples);
}

/* Keep this sample as the base of the next `stats`' rates. */
static void remember_samples(Session *s, GPtrArray *samples, gint64 now)
{
    for (guint i = 0; i < samples->len; i++) {
        StatsSample *sm = samples->pdata[i];
        StatsPrev *prev = g_new0(StatsPrev, 1);
        prev->stats = json_object_ref(sm->stats);
        prev->taken_us = now;
        g_hash_table_replace(s->prev_stats, g_strdup(sm->id), prev);
    }
}

CmdStatus cmd_stats(Session *s, char **argv)
{
    CmdStatus status;

    if (argv[1] && argv[2]) {
        session_print_error(s, "GenericError", "usage: stats [ID]");
        return CMD_FAILED;
    }
    if (session_lacks(s, "query-iothread-stats")) {
        return CMD_OK;
    }
    GPtrArray *samples = stats_fetch(s, argv[1], &status);
    if (!samples) {
        return status;
    }
    gint64 now = g_get_monotonic_time();
    if (s->json) {
        print_stats_json(s, samples, now);
    } else if (samples->len == 0) {
        session_print_human(s, "no iothreads\n");
    } else if (!print_stats_table(s, samples, now)) {
        session_print_human(s, "(rates appear from the next `stats`)\n");
    }
    remember_samples(s, samples, now);
    g_ptr_array_unref(samples);
    return CMD_OK;
}
