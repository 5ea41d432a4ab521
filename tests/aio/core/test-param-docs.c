/*
 * test-param-docs: the documents that restate the parameter table agree
 * with it.  argv[1] is schema/qmp-schema.json, argv[2] README.md.
 *  - The schema's IothreadProperties member of each parameter is an
 *    optional int without schema bounds (the table judges them), whose doc
 *    is the table's doc followed by "Range [min, max]; default D."; an
 *    enum-valued parameter's member is a schema enum with the table's
 *    values, doc followed by "Values: a, b; default a.".
 *  - iothread-set and IOTHREAD_PROPERTY_CHANGED have one optional member
 *    of that type per parameter; IOThreadInfo one required.
 *  - README's table has each parameter's row, formatted from the table
 *    (an enum-valued one: "-" for min and max, its default's name).
 */
#include "aioctx/aio.h"
#include "tap.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* The schema entry whose "struct"/"command"/"event" is @name. */
static JsonObject *schema_entry(JsonObject *root, const char *name)
{
    JsonArray *entries = json_object_get_array_member(root, "entries");

    for (guint i = 0; i < json_array_get_length(entries); i++) {
        JsonObject *e = json_array_get_object_element(entries, i);
        static const char *const kinds[] = { "struct", "command", "event" };
        for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
            if (!g_strcmp0(json_object_get_string_member_with_default(
                               e, kinds[k], NULL), name)) {
                return json_object_get_object_member(e, "data");
            }
        }
    }
    return NULL;
}

/* The spec of member @name ("*name" when @optional) of @data, or NULL. */
static JsonNode *member_spec(JsonObject *data, const char *name,
                             bool optional)
{
    g_autofree char *key = g_strdup_printf("%s%s", optional ? "*" : "", name);
    return data ? json_object_get_member(data, key) : NULL;
}

/* The schema enum named @name has exactly @values, in order. */
static bool enum_has_values(JsonObject *root, const char *name,
                            const char *const *values)
{
    JsonArray *entries = json_object_get_array_member(root, "entries");

    for (guint i = 0; i < json_array_get_length(entries); i++) {
        JsonObject *e = json_array_get_object_element(entries, i);
        if (g_strcmp0(json_object_get_string_member_with_default(e, "enum",
                                                                 NULL), name)) {
            continue;
        }
        JsonArray *data = json_object_get_array_member(e, "data");
        guint n = json_array_get_length(data);
        if (n != g_strv_length((char **)values)) {
            return false;
        }
        for (guint v = 0; v < n; v++) {
            if (g_strcmp0(json_array_get_string_element(data, v), values[v])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* @spec is the parameter's type: a plain int (no schema bounds), or for
 * an enum-valued parameter an enum with the table's values. */
static bool spec_is_param_type(JsonObject *root, JsonNode *spec,
                               const AioParamInfo *info)
{
    const char *type;

    if (!spec) {
        return false;
    }
    if (JSON_NODE_HOLDS_VALUE(spec)) {
        type = json_node_get_string(spec);
    } else {
        JsonObject *o = json_node_get_object(spec);
        if (json_object_has_member(o, "min") ||
            json_object_has_member(o, "max")) {
            return false;
        }
        type = json_object_get_string_member_with_default(o, "type", NULL);
    }
    return info->values ? enum_has_values(root, type, info->values)
                        : !g_strcmp0(type, "int");
}

static char *expected_doc(const AioParamInfo *info)
{
    if (info->values) {
        g_autofree char *names = g_strjoinv(", ", (char **)info->values);
        return g_strdup_printf("%s Values: %s; default %s.", info->doc, names,
                               aio_param_value_name(info,
                                                    info->default_value));
    }
    return g_strdup_printf("%s Range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                           "]; default %" G_GINT64_FORMAT ".", info->doc,
                           info->min, info->max, info->default_value);
}

static char *expected_readme_row(const AioParamInfo *info)
{
    g_autofree char *zero = info->zero_means
        ? g_strdup_printf("%" G_GINT64_FORMAT, info->zero_means)
        : g_strdup("-");
    if (info->values) {
        return g_strdup_printf("| `%s` | - | - | %s | %s | %s | %s |",
                               info->name,
                               aio_param_value_name(info, info->default_value),
                               info->main_loop ? "yes" : "no", zero,
                               info->doc);
    }
    return g_strdup_printf("| `%s` | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT
                           " | %" G_GINT64_FORMAT " | %s | %s | %s |",
                           info->name, info->min, info->max,
                           info->default_value, info->main_loop ? "yes" : "no",
                           zero, info->doc);
}

static void test_schema_property_docs(JsonObject *root)
{
    JsonObject *props = schema_entry(root, "IothreadProperties");

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        JsonNode *spec = member_spec(props, info->name, true);
        g_autofree char *want = expected_doc(info);
        const char *doc = spec && JSON_NODE_HOLDS_OBJECT(spec)
            ? json_object_get_string_member_with_default(
                  json_node_get_object(spec), "doc", NULL) : NULL;
        ok(spec_is_param_type(root, spec, info) && !g_strcmp0(doc, want),
           "IothreadProperties.%s: optional, its type and doc from the table",
           info->name);
        if (g_strcmp0(doc, want)) {
            diag("want doc: %s", want);
        }
    }
}

static void test_schema_members(JsonObject *root)
{
    static const struct { const char *entry; bool optional; } users[] = {
        { "iothread-set", true },
        { "IOTHREAD_PROPERTY_CHANGED", true },
        { "IOThreadInfo", false },
    };

    for (size_t u = 0; u < G_N_ELEMENTS(users); u++) {
        JsonObject *data = schema_entry(root, users[u].entry);
        int bad = 0;
        for (int id = 0; id < AIO_PARAM_COUNT; id++) {
            const AioParamInfo *info = aio_param_info(id);
            bad += !spec_is_param_type(root, member_spec(data, info->name,
                                                         users[u].optional),
                                       info);
        }
        is_int(bad, 0, "%s has a member of the table's type per parameter, "
               "no schema bounds", users[u].entry);
    }
}

static void test_readme_rows(const char *readme)
{
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        g_autofree char *row = expected_readme_row(aio_param_info(id));
        if (!ok(strstr(readme, row) != NULL, "README row of %s",
                aio_param_info(id)->name)) {
            diag("want: %s", row);
        }
    }
}

int main(int argc, char **argv)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *readme = NULL;
    g_autoptr(GError) err = NULL;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SCHEMA README\n", argv[0]);
        return 2;
    }
    if (!ok(json_parser_load_from_file(parser, argv[1], &err),
            "the schema parses") ||
        !ok(g_file_get_contents(argv[2], &readme, NULL, &err),
            "README is readable")) {
        diag("%s", err->message);
        return done_testing();
    }
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    test_schema_property_docs(root);
    test_schema_members(root);
    test_readme_rows(readme);
    return done_testing();
}
