/*
 * Schema-shaped wrong arguments (see fuzz-schema-args.h).
 */
#include "fuzz-schema-args.h"

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <string.h>

typedef struct {
    char *name;
    bool optional;
    JsonNode *type;         /* a type name (string) or [element] (array) */
    bool has_min, has_max;
    gint64 min, max;
} Member;

typedef struct {
    GHashTable *entries;    /* type name -> JsonObject* (borrowed) */
} Schema;

static void member_free(gpointer p)
{
    Member *m = p;
    g_free(m->name);
    g_free(m);
}

/* The members of a "data" object {"name": TYPE, "*opt": {...}}. */
static void add_members(GPtrArray *out, JsonObject *data)
{
    JsonObjectIter it;
    const char *key;
    JsonNode *spec;

    json_object_iter_init(&it, data);
    while (json_object_iter_next(&it, &key, &spec)) {
        Member *m = g_new0(Member, 1);
        m->optional = key[0] == '*';
        m->name = g_strdup(key + m->optional);
        m->type = spec;
        if (JSON_NODE_HOLDS_OBJECT(spec)) {
            JsonObject *o = json_node_get_object(spec);
            m->type = json_object_get_member(o, "type");
            if ((m->has_min = json_object_has_member(o, "min"))) {
                m->min = json_object_get_int_member(o, "min");
            }
            if ((m->has_max = json_object_has_member(o, "max"))) {
                m->max = json_object_get_int_member(o, "max");
            }
        }
        g_ptr_array_add(out, m);
    }
}

/* The tag value valid_value() gives a union's discriminator: the first
 * value of its enum (so the members sent are that variant's). */
static const char *union_valid_tag(Schema *s, JsonObject *u)
{
    JsonObject *base = json_object_get_object_member(u, "base");
    const char *tag = json_object_get_string_member(u, "discriminator");
    JsonNode *type = json_object_get_member(base, tag);
    JsonObject *en = g_hash_table_lookup(s->entries,
                                         json_node_get_string(type));
    JsonArray *vals = en ? json_object_get_array_member(en, "data") : NULL;

    return vals && json_array_get_length(vals)
           ? json_array_get_string_element(vals, 0) : "";
}

/* Members of a command's "data": inline, a struct, or a flat union (base
 * + the variant of the discriminator's valid value). */
static void command_members(Schema *s, JsonNode *data, GPtrArray *out)
{
    if (!data) {
        return;
    }
    if (JSON_NODE_HOLDS_OBJECT(data)) {
        add_members(out, json_node_get_object(data));
        return;
    }
    JsonObject *e = g_hash_table_lookup(s->entries,
                                        json_node_get_string(data));
    if (!e) {
        return;
    }
    if (json_object_has_member(e, "struct")) {
        add_members(out, json_object_get_object_member(e, "data"));
    } else if (json_object_has_member(e, "union")) {
        add_members(out, json_object_get_object_member(e, "base"));
        JsonNode *vtype = json_object_get_member(
            json_object_get_object_member(e, "data"),
            union_valid_tag(s, e));
        if (vtype) {
            command_members(s, vtype, out);
        }
    }
}

typedef enum { K_INT, K_NUMBER, K_STR, K_BOOL, K_ANY, K_ENUM, K_STRUCT,
               K_ARRAY, K_UNKNOWN } Kind;

static Kind kind_of(Schema *s, JsonNode *type, JsonObject **entry)
{
    *entry = NULL;
    if (JSON_NODE_HOLDS_ARRAY(type)) {
        return K_ARRAY;
    }
    const char *t = json_node_get_string(type);
    if (!t) {
        return K_UNKNOWN;
    }
    if (!strcmp(t, "int")) {
        return K_INT;
    }
    if (!strcmp(t, "number")) {
        return K_NUMBER;
    }
    if (!strcmp(t, "str")) {
        return K_STR;
    }
    if (!strcmp(t, "bool")) {
        return K_BOOL;
    }
    if (!strcmp(t, "any")) {
        return K_ANY;
    }
    *entry = g_hash_table_lookup(s->entries, t);
    if (*entry && json_object_has_member(*entry, "enum")) {
        return K_ENUM;
    }
    return *entry ? K_STRUCT : K_UNKNOWN;
}

/* A valid value of @type (JSON text appended to @out). */
static void valid_value(Schema *s, JsonNode *type, const Member *m,
                        GString *out)
{
    JsonObject *e;
    switch (kind_of(s, type, &e)) {
    case K_INT:
        g_string_append_printf(out, "%" G_GINT64_FORMAT,
                               m && m->has_min ? m->min : 0);
        break;
    case K_STR:
        g_string_append(out, "\"fuzz-valid\"");
        break;
    case K_BOOL:
        g_string_append(out, "false");
        break;
    case K_ENUM: {
        JsonArray *vals = json_object_get_array_member(e, "data");
        g_string_append_printf(out, "\"%s\"",
                               json_array_get_length(vals)
                               ? json_array_get_string_element(vals, 0) : "");
        break;
    }
    case K_ARRAY:
        g_string_append(out, "[]");
        break;
    case K_STRUCT: {
        GPtrArray *sub = g_ptr_array_new_with_free_func(member_free);
        add_members(sub, json_object_get_object_member(e, "data"));
        g_string_append_c(out, '{');
        bool first = true;
        for (guint i = 0; i < sub->len; i++) {
            Member *sm = sub->pdata[i];
            if (!sm->optional) {
                g_string_append_printf(out, "%s\"%s\": ", first ? "" : ", ",
                                       sm->name);
                valid_value(s, sm->type, sm, out);
                first = false;
            }
        }
        g_string_append_c(out, '}');
        g_ptr_array_unref(sub);
        break;
    }
    default:
        g_string_append(out, "0");
        break;
    }
}

/* Wrong values for a member (NULL-terminated, caller frees). */
static char **wrong_values(Schema *s, const Member *m)
{
    GPtrArray *w = g_ptr_array_new();
    JsonObject *e;
    Kind k = kind_of(s, m->type, &e);
    static const char *const not_int[] = { "\"1\"", "true", "null", "1.5",
        "{}", "[]", "{\"n\": 1}", "[1]", "\"9223372036854775807\"", NULL };
    static const char *const not_str[] = { "1", "true", "null", "[]", "{}",
        "[\"a\"]", "{\"a\": \"b\"}", "-9223372036854775808", NULL };
    static const char *const not_bool[] = { "\"true\"", "1", "0", "null",
        "{}", "[]", NULL };
    static const char *const not_enum[] = { "\"no-such-value\"", "1", "null",
        "[]", "{}", "\"\"", NULL };
    static const char *const not_array[] = { "\"x\"", "{}", "1", "null",
        "[[[]]]", NULL };
    static const char *const not_struct[] = { "1", "\"x\"", "[]", "null",
        NULL };
    static const char *const not_number[] = { "\"1\"", "true", "null", "{}",
        "[]", NULL };
    const char *const *base = k == K_INT ? not_int : k == K_STR ? not_str :
                              k == K_BOOL ? not_bool : k == K_ENUM ? not_enum :
                              k == K_ARRAY ? not_array :
                              k == K_STRUCT ? not_struct :
                              k == K_NUMBER ? not_number : NULL;
    for (; base && *base; base++) {
        g_ptr_array_add(w, g_strdup(*base));
    }
    if (k == K_INT) {
        if (m->has_min && m->min > G_MININT64) {
            g_ptr_array_add(w, g_strdup_printf("%" G_GINT64_FORMAT,
                                               m->min - 1));
            g_ptr_array_add(w, g_strdup("-9223372036854775808"));
        }
        if (m->has_max && m->max < G_MAXINT64) {
            g_ptr_array_add(w, g_strdup_printf("%" G_GINT64_FORMAT,
                                               m->max + 1));
            g_ptr_array_add(w, g_strdup("9223372036854775807"));
        }
    }
    if (k == K_ARRAY) {
        /* a wrong element */
        JsonArray *a = json_node_get_array(m->type);
        JsonObject *ee;
        Kind ek = json_array_get_length(a)
                  ? kind_of(s, json_array_get_element(a, 0), &ee) : K_ANY;
        if (ek == K_ENUM) {
            g_ptr_array_add(w, g_strdup("[\"no-such-value\"]"));
        }
        if (ek != K_ANY) {
            g_ptr_array_add(w, g_strdup(ek == K_STR ? "[1]" : "[{}]"));
        }
    }
    g_ptr_array_add(w, NULL);
    return (char **)g_ptr_array_free(w, FALSE);
}

/* The argument object with member @skip left out and @replace_name set to
 * @replace_value (either may be NULL). */
static char *args_text(Schema *s, GPtrArray *members, const char *skip,
                       const char *replace_name, const char *replace_value)
{
    GString *out = g_string_new("{");
    bool first = true, replaced = false;
    for (guint i = 0; i < members->len; i++) {
        Member *m = members->pdata[i];
        bool is_replaced = replace_name && !strcmp(m->name, replace_name);
        if ((skip && !strcmp(m->name, skip)) ||
            (m->optional && !is_replaced)) {
            continue;
        }
        g_string_append_printf(out, "%s\"%s\": ", first ? "" : ", ", m->name);
        first = false;
        if (is_replaced) {
            g_string_append(out, replace_value);
            replaced = true;
        } else {
            valid_value(s, m->type, m, out);
        }
    }
    if (replace_name && !replaced) {
        g_string_append_printf(out, "%s\"%s\": %s", first ? "" : ", ",
                               replace_name, replace_value);
    }
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

int fuzz_schema_wrong_args(const char *schema_path, FuzzArgsCase *cb,
                           void *opaque, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_file(parser, schema_path, error)) {
        return -1;
    }
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonArray *entries = json_object_get_array_member(root, "entries");
    Schema s = { g_hash_table_new(g_str_hash, g_str_equal) };
    int commands = 0;

    for (guint i = 0; i < json_array_get_length(entries); i++) {
        JsonObject *e = json_array_get_object_element(entries, i);
        static const char *const kinds[] = { "struct", "enum", "union" };
        for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
            if (json_object_has_member(e, kinds[k])) {
                g_hash_table_insert(s.entries, (gpointer)
                    json_object_get_string_member(e, kinds[k]), e);
            }
        }
    }
    for (guint i = 0; i < json_array_get_length(entries); i++) {
        JsonObject *e = json_array_get_object_element(entries, i);
        if (!json_object_has_member(e, "command")) {
            continue;
        }
        const char *cmd = json_object_get_string_member(e, "command");
        GPtrArray *members = g_ptr_array_new_with_free_func(member_free);
        command_members(&s, json_object_get_member(e, "data"), members);
        commands++;

        char *text = args_text(&s, members, NULL, "fuzz-unknown-member",
                               "1");
        cb(opaque, cmd, text, "fuzz-unknown-member");
        g_free(text);
        for (guint j = 0; j < members->len; j++) {
            Member *m = members->pdata[j];
            if (!m->optional) {
                text = args_text(&s, members, m->name, NULL, NULL);
                cb(opaque, cmd, text, m->name);
                g_free(text);
            }
            char **wrong = wrong_values(&s, m);
            for (char **w = wrong; *w; w++) {
                text = args_text(&s, members, NULL, m->name, *w);
                cb(opaque, cmd, text, m->name);
                g_free(text);
            }
            g_strfreev(wrong);
        }
        g_ptr_array_unref(members);
    }
    g_hash_table_unref(s.entries);
    return commands;
}
