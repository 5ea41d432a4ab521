/*
 * test-commands-stats: query-iothread-stats' counters and gauges.  The
 * schema (argv[1] is its file) marks each level among AioContextStats' int
 * members with the feature "gauge"; the reply must show such a member as
 * it is and every other one relative to the reset baseline, for the
 * schema as shipped and for one whose marks are moved (the reply reads
 * them, it keeps no list of its own).
 */
#include "commands-stats.h"
#include "tap.h"

#include <string.h>

/* Every value in the @now snapshot: 1000; in the baseline: 1.  A counter
 * therefore reads 999, a gauge 1000. */
#define NOW_VALUE  1000
#define BASE_VALUE 1

static const char *schema_path;

/* @s with every field @v.  Each field of AioStats is a 64-bit integer
 * but fdmon (a pointer, set after), so the struct is filled word by word:
 * a field added later is filled too. */
static void fill_stats(AioStats *s, uint64_t v)
{
    G_STATIC_ASSERT(sizeof(AioStats) % sizeof(uint64_t) == 0);
    for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++) {
        memcpy((char *)s + i * sizeof(uint64_t), &v, sizeof(v));
    }
    s->fdmon = "epoll";
}

/* Whether @m carries "gauge", read from the schema here, independently of
 * the code under test. */
static bool marked_gauge(const QmpSchemaMemberInfo *m)
{
    return g_strv_contains((const char *const *)m->features, "gauge");
}

/* Check each int member of the stats type that the reply holds against
 * @schema's mark: counts the gauges and counters seen, returns the
 * members that disagree (comma-separated, "" if none; g_free it). */
static char *disagreeing_members(const QmpSchema *schema, int *gauges,
                                 int *counters)
{
    AioStats now, base;
    GString *wrong = g_string_new("");
    QmpSchemaMemberInfo m;

    fill_stats(&now, NOW_VALUE);
    fill_stats(&base, BASE_VALUE);
    JsonObject *o = stats_to_json(schema, &now, &base);
    *gauges = *counters = 0;
    for (guint i = 0; qmp_schema_type_member(schema, STATS_SCHEMA_TYPE, i, &m);
         i++) {
        if (strcmp(m.type, "int") != 0 || !json_object_has_member(o, m.name)) {
            continue;
        }
        bool gauge = marked_gauge(&m);
        gint64 want = gauge ? NOW_VALUE : NOW_VALUE - BASE_VALUE;
        *(gauge ? gauges : counters) += 1;
        if (json_object_get_int_member(o, m.name) != want) {
            g_string_append_printf(wrong, "%s%s", wrong->len ? "," : "",
                                   m.name);
        }
    }
    json_object_unref(o);
    return g_string_free(wrong, FALSE);
}

static void test_gauges_as_they_are_counters_since_the_reset(void)
{
    GError *error = NULL;
    QmpSchema *schema = qmp_schema_load_embedded(&error);
    int gauges = 0, counters = 0;
    char *wrong = schema ? disagreeing_members(schema, &gauges, &counters)
                         : g_strdup("(no schema)");

    ok(schema && !*wrong && gauges > 0 && counters > 0,
       "the shipped schema: %d gauges as they are, %d counters since the "
       "baseline (disagreeing: '%s')", gauges, counters, wrong);
    g_free(wrong);
    qmp_schema_free(schema);
    g_clear_error(&error);
}

/* The schema file with every "gauge" mark removed and "iterations" marked
 * instead, or NULL. */
static char *schema_with_marks_moved(void)
{
    char *text = NULL;
    GRegex *mark = g_regex_new(",\\s*\"features\":\\s*\\[\"gauge\"\\]", 0, 0,
                               NULL);
    const char *iterations = "\"iterations\": { \"type\": \"int\",";

    if (!g_file_get_contents(schema_path, &text, NULL, NULL)) {
        g_regex_unref(mark);
        return NULL;
    }
    char *unmarked = g_regex_replace_literal(mark, text, -1, 0, "", 0, NULL);
    char **halves = g_strsplit(unmarked, iterations, 2);
    char *moved = g_strv_length(halves) == 2
                  ? g_strconcat(halves[0], iterations,
                                " \"features\": [\"gauge\"],", halves[1], NULL)
                  : NULL;
    g_strfreev(halves);
    g_free(unmarked);
    g_free(text);
    g_regex_unref(mark);
    return moved;
}

static void test_reply_follows_the_schemas_marks(void)
{
    char *text = schema_with_marks_moved();
    GError *error = NULL;
    QmpSchema *schema = text ? qmp_schema_load_from_data(text, -1, &error)
                             : NULL;
    int gauges = 0, counters = 0;
    char *wrong = schema ? disagreeing_members(schema, &gauges, &counters)
                         : g_strdup(error ? error->message : "(no schema)");

    ok(schema && !*wrong && gauges == 1 && counters > 0,
       "with only 'iterations' marked: %d gauge, %d counters follow the "
       "marks (disagreeing: '%s')", gauges, counters, wrong);
    g_free(wrong);
    qmp_schema_free(schema);
    g_clear_error(&error);
    g_free(text);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCHEMA.json\n", argv[0]);
        return 2;
    }
    schema_path = argv[1];
    plan(2);
    test_gauges_as_they_are_counters_since_the_reset();
    test_reply_follows_the_schemas_marks();
    return done_testing();
}
