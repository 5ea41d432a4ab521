/*
 * The QMP schema: loads qmp-schema.json (the schema language is described
 * in the file's top-level "doc") and answers questions about it;
 * schema-validate.c checks arguments, replies and events against it,
 * schema-introspect.c renders it as QEMU SchemaInfo.
 *
 * Type names (as introspection shows them): builtins keep QEMU's names ("str", "int",
 * "bool", "number", "any", "null"), declared types keep their own, arrays
 * are "[ELEM]", and the anonymous argument types of commands and events
 * are numbered ("0" is the empty object), as QEMU does.
 */
#include "schema-internal.h"

#include <string.h>

extern const char qmp_schema_json[];
extern const size_t qmp_schema_json_len;

G_DEFINE_QUARK(qmp-schema-error-quark, schema_error)


static void member_free(gpointer p)
{
    SchemaMember *m = p;
    g_free(m->name);
    g_free(m->doc);
    g_strfreev(m->features);
    g_free(m);
}

static void type_free(gpointer p)
{
    SchemaType *t = p;
    g_free(t->name);
    if (t->values) {
        g_ptr_array_unref(t->values);
    }
    if (t->members) {
        g_ptr_array_unref(t->members);
    }
    g_free(t->tag);
    if (t->variant_cases) {
        g_ptr_array_unref(t->variant_cases);
        g_ptr_array_unref(t->variant_types);
    }
    g_free(t);
}

static void entity_free(gpointer p)
{
    SchemaEntity *e = p;
    g_free(e->name);
    g_free(e);
}

void qmp_schema_free(QmpSchema *schema)
{
    if (!schema) {
        return;
    }
    g_hash_table_unref(schema->types);
    g_ptr_array_unref(schema->type_order);
    g_hash_table_unref(schema->entities);
    g_ptr_array_unref(schema->entity_order);
    g_hash_table_unref(schema->docs);
    g_ptr_array_unref(schema->command_names);
    g_free(schema);
}

static SchemaType *type_add(QmpSchema *schema, SchemaKind kind,
                            const char *name)
{
    SchemaType *t = g_new0(SchemaType, 1);
    t->kind = kind;
    t->name = g_strdup(name);
    if (kind == ST_OBJECT) {
        t->members = g_ptr_array_new_with_free_func(member_free);
    } else if (kind == ST_ENUM) {
        t->values = g_ptr_array_new_with_free_func(g_free);
    }
    g_hash_table_insert(schema->types, t->name, t);
    g_ptr_array_add(schema->type_order, t);
    return t;
}

static SchemaType *type_add_implicit_object(QmpSchema *schema)
{
    char name[16];
    g_snprintf(name, sizeof(name), "%u", schema->next_implicit++);
    SchemaType *t = type_add(schema, ST_OBJECT, name);
    return t;
}

/* A type reference: "name" or ["elem"]. */
static SchemaType *resolve_type(QmpSchema *schema, JsonNode *spec,
                                const char *where, GError **error)
{
    if (JSON_NODE_HOLDS_ARRAY(spec)) {
        JsonArray *arr = json_node_get_array(spec);
        if (json_array_get_length(arr) != 1) {
            g_set_error(error, SCHEMA_ERROR, 0,
                        "%s: an array type has exactly one element type",
                        where);
            return NULL;
        }
        SchemaType *elem = resolve_type(schema, json_array_get_element(arr, 0),
                                        where, error);
        if (!elem) {
            return NULL;
        }
        g_autofree char *name = g_strdup_printf("[%s]", elem->name);
        SchemaType *t = g_hash_table_lookup(schema->types, name);
        if (!t) {
            t = type_add(schema, ST_ARRAY, name);
            t->element = elem;
        }
        return t;
    }
    if (json_node_get_value_type(spec) != G_TYPE_STRING) {
        g_set_error(error, SCHEMA_ERROR, 0,
                    "%s: a type is a name or [name]", where);
        return NULL;
    }
    const char *name = json_node_get_string(spec);
    SchemaType *t = g_hash_table_lookup(schema->types, name);
    if (!t) {
        g_set_error(error, SCHEMA_ERROR, 0, "%s: unknown type '%s'", where,
                    name);
    }
    return t;
}

/* A member's "features": an array of strings (QEMU's member features,
 * e.g. "gauge"); absent is empty. */
static bool parse_features(SchemaMember *m, JsonObject *o, const char *at,
                           GError **error)
{
    JsonNode *f = json_object_get_member(o, "features");
    GPtrArray *names = g_ptr_array_new();
    JsonArray *arr = f && JSON_NODE_HOLDS_ARRAY(f) ? json_node_get_array(f)
                                                    : NULL;

    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_VALUE(n) ||
            json_node_get_value_type(n) != G_TYPE_STRING) {
            arr = NULL;
            break;
        }
        g_ptr_array_add(names, g_strdup(json_node_get_string(n)));
    }
    g_ptr_array_add(names, NULL);
    g_strfreev(m->features);
    m->features = (char **)g_ptr_array_free(names, FALSE);
    if (f && !arr) {
        g_set_error(error, SCHEMA_ERROR, 0,
                    "%s: \"features\" must be an array of strings", at);
        return false;
    }
    return true;
}

/* One member "name"/"*name": spec. */
static bool add_member(QmpSchema *schema, GPtrArray *members,
                       const char *key, JsonNode *spec, const char *where,
                       GError **error)
{
    g_autofree char *at = g_strdup_printf("%s, member '%s'", where, key);
    SchemaMember *m = g_new0(SchemaMember, 1);
    m->optional = key[0] == '*';
    m->name = g_strdup(key + (m->optional ? 1 : 0));
    m->min = G_MININT64;
    m->max = G_MAXINT64;
    m->features = g_new0(char *, 1);
    g_ptr_array_add(members, m);

    if (JSON_NODE_HOLDS_OBJECT(spec)) {
        JsonObject *o = json_node_get_object(spec);
        JsonNode *t = json_object_get_member(o, "type");
        if (!t) {
            g_set_error(error, SCHEMA_ERROR, 0, "%s: no \"type\"", at);
            return false;
        }
        m->type = resolve_type(schema, t, at, error);
        if (!m->type) {
            return false;
        }
        m->doc = g_strdup(json_object_get_string_member_with_default(
            o, "doc", NULL));
        if (!parse_features(m, o, at, error)) {
            return false;
        }
        for (int i = 0; i < 2; i++) {
            const char *bound = i ? "max" : "min";
            JsonNode *b = json_object_get_member(o, bound);
            if (!b) {
                continue;
            }
            if (m->type->kind != ST_BUILTIN || m->type->builtin != B_INT ||
                json_node_get_value_type(b) != G_TYPE_INT64) {
                g_set_error(error, SCHEMA_ERROR, 0,
                            "%s: \"%s\" needs an int member and an integer",
                            at, bound);
                return false;
            }
            m->has_range = true;
            *(i ? &m->max : &m->min) = json_node_get_int(b);
        }
        return true;
    }
    m->type = resolve_type(schema, spec, at, error);
    return m->type != NULL;
}

static bool add_members(QmpSchema *schema, GPtrArray *members,
                        JsonNode *data, const char *where, GError **error)
{
    if (!JSON_NODE_HOLDS_OBJECT(data)) {
        g_set_error(error, SCHEMA_ERROR, 0, "%s: \"data\" must be an object",
                    where);
        return false;
    }
    /* Declaration order, as QEMU's introspection keeps it (clients lay out
     * columns and help from it); json_object_iter walks a hash table. */
    JsonObject *obj = json_node_get_object(data);
    GList *keys = json_object_get_members(obj);
    bool ok = true;
    for (GList *l = keys; ok && l; l = l->next) {
        const char *key = l->data;
        ok = add_member(schema, members, key,
                        json_object_get_member(obj, key), where, error);
    }
    g_list_free(keys);
    return ok;
}

static const char *const entry_kinds[] = {
    "command", "event", "struct", "enum", "union", NULL
};

static const char *entry_kind(JsonObject *entry, const char **name)
{
    for (int i = 0; entry_kinds[i]; i++) {
        if (json_object_has_member(entry, entry_kinds[i])) {
            *name = json_object_get_string_member_with_default(
                entry, entry_kinds[i], NULL);
            return entry_kinds[i];
        }
    }
    return NULL;
}

/* Object type of a command's or event's "data" (absent: the empty type). */
static SchemaType *entity_args(QmpSchema *schema, JsonObject *entry,
                               const char *where, GError **error)
{
    JsonNode *data = json_object_get_member(entry, "data");
    if (!data) {
        return schema->empty;
    }
    if (JSON_NODE_HOLDS_OBJECT(data)) {
        SchemaType *t = type_add_implicit_object(schema);
        return add_members(schema, t->members, data, where, error) ? t : NULL;
    }
    SchemaType *t = resolve_type(schema, data, where, error);
    if (t && t->kind != ST_OBJECT) {
        g_set_error(error, SCHEMA_ERROR, 0,
                    "%s: \"data\" must name a struct or union", where);
        return NULL;
    }
    return t;
}

/* A command or an event: its argument struct and its return type. */
static bool fill_entity(QmpSchema *schema, JsonObject *entry, const char *kind,
                        const char *name, const char *where, GError **error)
{
    SchemaEntity *e = g_new0(SchemaEntity, 1);
    e->name = g_strdup(name);
    e->is_event = kind[0] == 'e';
    g_hash_table_insert(schema->entities, e->name, e);
    g_ptr_array_add(schema->entity_order, e);
    e->args = entity_args(schema, entry, where, error);
    if (!e->args) {
        return false;
    }
    JsonNode *ret = json_object_get_member(entry, "returns");
    e->ret = ret ? resolve_type(schema, ret, where, error) : schema->empty;
    return e->ret != NULL;
}

/* An enum: "data" is an array of strings. */
static bool fill_enum(SchemaType *t, JsonNode *data, const char *where,
                      GError **error)
{
    if (!JSON_NODE_HOLDS_ARRAY(data)) {
        g_set_error(error, SCHEMA_ERROR, 0, "%s: \"data\" must be an "
                    "array of strings", where);
        return false;
    }
    JsonArray *arr = json_node_get_array(data);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *v = json_array_get_element(arr, i);
        if (json_node_get_value_type(v) != G_TYPE_STRING) {
            g_set_error(error, SCHEMA_ERROR, 0, "%s: values are strings",
                        where);
            return false;
        }
        g_ptr_array_add(t->values, g_strdup(json_node_get_string(v)));
    }
    return true;
}

/* A union's variants: one struct type per case of the "data" object. */
static bool fill_variants(QmpSchema *schema, SchemaType *t, JsonNode *data,
                          const char *where, GError **error)
{
    JsonObjectIter iter;
    const char *key;
    JsonNode *spec;

    t->variant_cases = g_ptr_array_new_with_free_func(g_free);
    t->variant_types = g_ptr_array_new();
    json_object_iter_init(&iter, json_node_get_object(data));
    while (json_object_iter_next(&iter, &key, &spec)) {
        SchemaType *vt = resolve_type(schema, spec, where, error);
        if (!vt) {
            return false;
        }
        if (vt->kind != ST_OBJECT) {
            g_set_error(error, SCHEMA_ERROR, 0, "%s: variant '%s' must be a "
                        "struct", where, key);
            return false;
        }
        g_ptr_array_add(t->variant_cases, g_strdup(key));
        g_ptr_array_add(t->variant_types, vt);
    }
    return true;
}

/* Whether the union's tag is a required enum member of its base. */
static bool tag_is_base_enum(SchemaType *t, const char *where, GError **error)
{
    for (guint i = 0; i < t->members->len; i++) {
        SchemaMember *m = g_ptr_array_index(t->members, i);
        if (!strcmp(m->name, t->tag) && !m->optional &&
            m->type->kind == ST_ENUM) {
            return true;
        }
    }
    g_set_error(error, SCHEMA_ERROR, 0, "%s: discriminator '%s' must be a "
                "required enum member of the base", where, t->tag);
    return false;
}

/* A union: base members + discriminator (an enum base member) + one
 * object type per enum value. */
static bool fill_union(QmpSchema *schema, SchemaType *t, JsonObject *entry,
                       JsonNode *data, const char *where, GError **error)
{
    JsonNode *base = json_object_get_member(entry, "base");
    const char *tag = json_object_get_string_member_with_default(
        entry, "discriminator", NULL);
    if (!base || !tag || !JSON_NODE_HOLDS_OBJECT(data) ||
        !add_members(schema, t->members, base, where, error)) {
        if (error && !*error) {
            g_set_error(error, SCHEMA_ERROR, 0, "%s: needs \"base\", "
                        "\"discriminator\" and a \"data\" object", where);
        }
        return false;
    }
    t->tag = g_strdup(tag);
    return fill_variants(schema, t, data, where, error) &&
           tag_is_base_enum(t, where, error);
}

static bool fill_entry(QmpSchema *schema, JsonObject *entry, GError **error)
{
    const char *name = NULL;
    const char *kind = entry_kind(entry, &name);
    g_autofree char *where = g_strdup_printf("%s '%s'", kind, name);

    if (!strcmp(kind, "command") || !strcmp(kind, "event")) {
        return fill_entity(schema, entry, kind, name, where, error);
    }
    SchemaType *t = g_hash_table_lookup(schema->types, name);
    JsonNode *data = json_object_get_member(entry, "data");
    if (!data) {
        g_set_error(error, SCHEMA_ERROR, 0, "%s: no \"data\"", where);
        return false;
    }
    if (!strcmp(kind, "enum")) {
        return fill_enum(t, data, where, error);
    }
    if (!strcmp(kind, "struct")) {
        return add_members(schema, t->members, data, where, error);
    }
    return fill_union(schema, t, entry, data, where, error);
}

static const struct {
    const char *name;
    BuiltinKind kind;
} builtins[] = {
    { "str", B_STR }, { "int", B_INT }, { "bool", B_BOOL },
    { "number", B_NUMBER }, { "any", B_ANY }, { "null", B_NULL },
};

/* The "entries" array of the schema document, or NULL + @error. */
static JsonArray *schema_entries(JsonParser *parser, GError **error)
{
    JsonNode *root = json_parser_get_root(parser);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonNode *e = json_object_get_member(json_node_get_object(root),
                                             "entries");
        if (e && JSON_NODE_HOLDS_ARRAY(e)) {
            return json_node_get_array(e);
        }
    }
    g_set_error(error, SCHEMA_ERROR, 0,
                "schema: expected {\"entries\": [...]}");
    return NULL;
}

/* An empty schema holding the builtin types and the empty object. */
static QmpSchema *schema_new(void)
{
    QmpSchema *schema = g_new0(QmpSchema, 1);
    schema->types = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                          type_free);
    schema->type_order = g_ptr_array_new();
    schema->entities = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                             entity_free);
    schema->entity_order = g_ptr_array_new();
    schema->docs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         g_free);
    schema->command_names = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < G_N_ELEMENTS(builtins); i++) {
        SchemaType *t = type_add(schema, ST_BUILTIN, builtins[i].name);
        t->builtin = builtins[i].kind;
    }
    schema->empty = type_add_implicit_object(schema);
    return schema;
}

/* Pass 1 for entry @i: its name, doc and declared type (so references may
 * point forward). */
static bool declare_entry(QmpSchema *schema, JsonNode *node, guint i,
                          GError **error)
{
    JsonObject *entry = JSON_NODE_HOLDS_OBJECT(node)
                        ? json_node_get_object(node) : NULL;
    const char *name = NULL;
    const char *kind = entry ? entry_kind(entry, &name) : NULL;
    const char *doc = entry ? json_object_get_string_member_with_default(
                                  entry, "doc", NULL) : NULL;
    if (!kind || !name || !*name) {
        g_set_error(error, SCHEMA_ERROR, 0, "schema entry %u: expected "
                    "{\"command\"|\"event\"|\"struct\"|\"enum\"|"
                    "\"union\": NAME, ...}", i);
        return false;
    }
    if (!doc || !*doc) {
        g_set_error(error, SCHEMA_ERROR, 0, "%s '%s' has no \"doc\"",
                    kind, name);
        return false;
    }
    if (g_hash_table_contains(schema->docs, name) ||
        g_hash_table_contains(schema->types, name)) {
        g_set_error(error, SCHEMA_ERROR, 0, "%s '%s' defined twice", kind,
                    name);
        return false;
    }
    g_hash_table_insert(schema->docs, g_strdup(name), g_strdup(doc));
    if (!strcmp(kind, "command")) {
        g_ptr_array_add(schema->command_names, g_strdup(name));
    } else if (!strcmp(kind, "enum")) {
        type_add(schema, ST_ENUM, name);
    } else if (strcmp(kind, "event")) {
        type_add(schema, ST_OBJECT, name);
    }
    return true;
}

QmpSchema *qmp_schema_load_from_data(const char *json, gssize len,
                                     GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, json, len, error)) {
        return NULL;
    }
    JsonArray *entries = schema_entries(parser, error);
    if (!entries) {
        return NULL;
    }
    QmpSchema *schema = schema_new();
    guint n = json_array_get_length(entries);
    for (guint i = 0; i < n; i++) {
        if (!declare_entry(schema, json_array_get_element(entries, i), i,
                           error)) {
            goto fail;
        }
    }
    g_ptr_array_add(schema->command_names, NULL);

    /* Pass 2: members, arguments, returns. */
    for (guint i = 0; i < n; i++) {
        JsonObject *entry = json_array_get_object_element(entries, i);
        if (!fill_entry(schema, entry, error)) {
            goto fail;
        }
    }
    return schema;

fail:
    qmp_schema_free(schema);
    return NULL;
}

QmpSchema *qmp_schema_load_embedded(GError **error)
{
    return qmp_schema_load_from_data(qmp_schema_json,
                                     (gssize)qmp_schema_json_len, error);
}

SchemaEntity *schema_find_command(const QmpSchema *schema, const char *name)
{
    SchemaEntity *e = g_hash_table_lookup(schema->entities, name);
    return e && !e->is_event ? e : NULL;
}

bool qmp_schema_has_command(const QmpSchema *schema, const char *command)
{
    return schema_find_command(schema, command) != NULL;
}

const char *const *qmp_schema_command_names(const QmpSchema *schema)
{
    return (const char *const *)schema->command_names->pdata;
}

const char *qmp_schema_doc(const QmpSchema *schema, const char *name)
{
    return g_hash_table_lookup(schema->docs, name);
}

bool qmp_schema_type_member(const QmpSchema *schema, const char *type,
                            guint index, QmpSchemaMemberInfo *out)
{
    const SchemaType *t = g_hash_table_lookup(schema->types, type);

    if (!t || t->kind != ST_OBJECT || index >= t->members->len) {
        return false;
    }
    const SchemaMember *m = g_ptr_array_index(t->members, index);
    out->name = m->name;
    out->type = m->type->name;
    out->doc = m->doc;
    out->features = (const char *const *)m->features;
    return true;
}

bool qmp_schema_type_member_find(const QmpSchema *schema, const char *type,
                                 const char *name, QmpSchemaMemberInfo *out)
{
    for (guint i = 0; qmp_schema_type_member(schema, type, i, out); i++) {
        if (strcmp(out->name, name) == 0) {
            return true;
        }
    }
    return false;
}
