/*
 * test-histogram-json: the QMP form of a histogram.  Its members are
 * exactly schema struct HistogramSummary's (argv[1] is the schema), and
 * its values are the histogram's: exact count/min/max, percentiles within
 * the histogram's 0.8%; an empty histogram reads all zeros.
 */
#include "histogram-json.h"
#include "tap.h"

static const char *schema_path;

/* The member names of struct @name in the schema file, sorted. */
static GList *schema_struct_members(const char *name)
{
    JsonParser *parser = json_parser_new();
    GList *members = NULL;
    JsonArray *defs;
    guint i;

    if (!json_parser_load_from_file(parser, schema_path, NULL)) {
        g_object_unref(parser);
        return NULL;
    }
    defs = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(parser)), "entries");
    for (i = 0; defs && i < json_array_get_length(defs); i++) {
        JsonObject *d = json_array_get_object_element(defs, i);

        if (json_object_has_member(d, "struct") &&
            g_str_equal(json_object_get_string_member(d, "struct"), name)) {
            GList *l = json_object_get_members(
                json_object_get_object_member(d, "data"));

            for (GList *m = l; m; m = m->next) {
                members = g_list_prepend(members, g_strdup(m->data));
            }
            g_list_free(l);
        }
    }
    g_object_unref(parser);
    return g_list_sort(members, (GCompareFunc)g_strcmp0);
}

static gchar *joined(GList *names)
{
    GString *s = g_string_new("");

    for (GList *l = names; l; l = l->next) {
        g_string_append_printf(s, "%s%s", s->len ? "," : "", (char *)l->data);
    }
    return g_string_free(s, FALSE);
}

static void test_members_are_the_schema_struct(void)
{
    AioHistogram *h = g_new(AioHistogram, 1);
    JsonObject *o;
    GList *want = schema_struct_members("HistogramSummary"), *got;
    gchar *w, *g;

    aio_histogram_init(h);
    o = histogram_summary_to_json(h);
    got = g_list_sort(json_object_get_members(o), (GCompareFunc)g_strcmp0);
    w = joined(want);
    g = joined(got);
    ok(want && g_str_equal(w, g), "members %s equal the schema's %s", g, w);
    g_free(w);
    g_free(g);
    g_list_free(got);
    g_list_free_full(want, g_free);
    json_object_unref(o);
    g_free(h);
}

static bool within(gint64 got, gint64 want, double rel)
{
    return got >= want * (1 - rel) && got <= want * (1 + rel);
}

static void test_values_come_from_the_histogram(void)
{
    AioHistogram *h = g_new(AioHistogram, 1);
    JsonObject *o;
    int v;

    aio_histogram_init(h);
    for (v = 1; v <= 10000; v++) {
        aio_histogram_record(h, (uint64_t)v * 1000);
    }
    o = histogram_summary_to_json(h);
    is_int(json_object_get_int_member(o, "count"), 10000, "count");
    is_int(json_object_get_int_member(o, "min"), 1000, "min exact");
    is_int(json_object_get_int_member(o, "max"), 10000000, "max exact");
    ok(within(json_object_get_int_member(o, "p50"), 5000000, 0.008), "p50");
    ok(within(json_object_get_int_member(o, "p90"), 9000000, 0.008), "p90");
    ok(within(json_object_get_int_member(o, "p99"), 9900000, 0.008), "p99");
    ok(within(json_object_get_int_member(o, "p999"), 9990000, 0.008), "p999");
    json_object_unref(o);
    g_free(h);
}

static void test_empty_is_all_zero(void)
{
    AioHistogram *h = g_new(AioHistogram, 1);
    JsonObject *o;
    GList *names, *l;
    bool zero = true;

    aio_histogram_init(h);
    o = histogram_summary_to_json(h);
    names = json_object_get_members(o);
    for (l = names; l; l = l->next) {
        zero = zero && json_object_get_int_member(o, l->data) == 0;
    }
    ok(names && zero, "an empty histogram reads all zeros");
    g_list_free(names);
    json_object_unref(o);
    g_free(h);
}

int main(int argc, char **argv)
{
    schema_path = argc > 1 ? argv[1] : "schema/qmp-schema.json";
    test_members_are_the_schema_struct();
    test_values_come_from_the_histogram();
    test_empty_is_all_zero();
    return done_testing();
}
