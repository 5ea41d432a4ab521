/*
 * QEMU's JSON output format (see json-writer.h for the rules).
 */
#include "json-writer.h"

#include <string.h>

/* QDict's bucket for a member name: QEMU hashes names with TDB's hash
 * function into 512 buckets and iterates buckets in ascending order. */
#define QDICT_BUCKETS 512

static unsigned qdict_bucket(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    unsigned value = 0x238F13AFu * (unsigned)strlen(name);

    for (unsigned i = 0; p[i]; i++) {
        value += (unsigned)p[i] << (i * 5 % 24);
    }
    return (1103515243u * value + 12345u) % QDICT_BUCKETS;
}

static void write_escaped_char(GString *out, gunichar c)
{
    switch (c) {
    case '"':  g_string_append(out, "\\\""); return;
    case '\\': g_string_append(out, "\\\\"); return;
    case '\b': g_string_append(out, "\\b");  return;
    case '\f': g_string_append(out, "\\f");  return;
    case '\n': g_string_append(out, "\\n");  return;
    case '\r': g_string_append(out, "\\r");  return;
    case '\t': g_string_append(out, "\\t");  return;
    default:
        break;
    }
    if (c >= 0x20 && c < 0x7f) {
        g_string_append_c(out, (char)c);
    } else if (c < 0x10000) {
        g_string_append_printf(out, "\\u%04X", c);
    } else {
        c -= 0x10000;
        g_string_append_printf(out, "\\u%04X\\u%04X", 0xD800 + (c >> 10),
                               0xDC00 + (c & 0x3FF));
    }
}

void qmp_json_write_string(GString *out, const char *str)
{
    const char *p = str;

    g_string_append_c(out, '"');
    while (*p) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            write_escaped_char(out, 0xFFFD);
            p++;
            continue;
        }
        write_escaped_char(out, c);
        p = g_utf8_next_char(p);
    }
    g_string_append_c(out, '"');
}

static void write_value(GString *out, JsonNode *node)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    switch (json_node_get_value_type(node)) {
    case G_TYPE_INT64:
        g_string_append_printf(out, "%" G_GINT64_FORMAT,
                               json_node_get_int(node));
        break;
    case G_TYPE_DOUBLE:
        g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.17g",
                                             json_node_get_double(node)));
        break;
    case G_TYPE_BOOLEAN:
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
        break;
    case G_TYPE_STRING:
        qmp_json_write_string(out, json_node_get_string(node));
        break;
    default:
        g_string_append(out, "null");
        break;
    }
}

typedef struct {
    const char *name;
    JsonNode *value;
    unsigned bucket;
    size_t inserted;
} Member;

/* Ascending bucket; inside a bucket the newest member first (QDict
 * prepends to a bucket's list). */
static int member_cmp(const void *a, const void *b)
{
    const Member *x = a, *y = b;
    if (x->bucket != y->bucket) {
        return x->bucket < y->bucket ? -1 : 1;
    }
    return x->inserted > y->inserted ? -1 : (x->inserted < y->inserted);
}

void qmp_json_write_members(GString *out, size_t n, const char *const *names,
                            JsonNode *const *values)
{
    g_autofree Member *m = g_new(Member, n ? n : 1);

    for (size_t i = 0; i < n; i++) {
        m[i] = (Member){ names[i], values[i], qdict_bucket(names[i]), i };
    }
    qsort(m, n, sizeof(*m), member_cmp);
    g_string_append_c(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) {
            g_string_append(out, ", ");
        }
        qmp_json_write_string(out, m[i].name);
        g_string_append(out, ": ");
        qmp_json_write(out, m[i].value);
    }
    g_string_append_c(out, '}');
}

static void write_object(GString *out, JsonObject *obj)
{
    GList *members = json_object_get_members(obj);   /* insertion order */
    size_t n = g_list_length(members);
    g_autofree const char **names = g_new(const char *, n ? n : 1);
    g_autofree JsonNode **values = g_new(JsonNode *, n ? n : 1);
    size_t i = 0;

    for (GList *l = members; l; l = l->next, i++) {
        names[i] = l->data;
        values[i] = json_object_get_member(obj, l->data);
    }
    g_list_free(members);
    qmp_json_write_members(out, n, names, values);
}

static void write_array(GString *out, JsonArray *arr)
{
    guint n = json_array_get_length(arr);

    g_string_append_c(out, '[');
    for (guint i = 0; i < n; i++) {
        if (i) {
            g_string_append(out, ", ");
        }
        qmp_json_write(out, json_array_get_element(arr, i));
    }
    g_string_append_c(out, ']');
}

void qmp_json_write(GString *out, JsonNode *node)
{
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT:
        write_object(out, json_node_get_object(node));
        break;
    case JSON_NODE_ARRAY:
        write_array(out, json_node_get_array(node));
        break;
    case JSON_NODE_VALUE:
        write_value(out, node);
        break;
    case JSON_NODE_NULL:
    default:
        g_string_append(out, "null");
        break;
    }
}
