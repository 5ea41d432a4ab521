/*
 * Validation against the loaded schema (schema.h): command arguments,
 * replies and events, member by member in declaration order, with QEMU's
 * error texts wherever QEMU refuses the same input.
 */
#include "schema-internal.h"

#include <string.h>

static bool validate_object(const SchemaType *type, JsonObject *obj,
                            const char *prefix, GError **error);

static bool type_error(const char *path, const char *expected,
                       GError **error)
{
    g_set_error(error, SCHEMA_ERROR, 0,
                "Invalid parameter type for '%s', expected: %s", path,
                expected);
    return false;
}

static bool validate_value(const SchemaType *type, const SchemaMember *m,
                           JsonNode *node, const char *path, GError **error);

/* An integer within the member's range, with QEMU's texts. */
static bool validate_int_range(const SchemaMember *m, JsonNode *node,
                               const char *path, GError **error)
{
    gint64 v = json_node_get_int(node);

    if (!m || !m->has_range || (v >= m->min && v <= m->max)) {
        return true;
    }
    if (m->min == 0 && m->max == G_MAXINT64) {
        g_set_error(error, SCHEMA_ERROR, 0,
                    "Parameter '%s' expects a non-negative integer", path);
    } else {
        g_set_error(error, SCHEMA_ERROR, 0,
                    "Parameter '%s' expects an integer in the range [%"
                    G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", path, m->min,
                    m->max);
    }
    return false;
}

static bool validate_builtin(const SchemaType *type, const SchemaMember *m,
                             JsonNode *node, GType vt, const char *path,
                             GError **error)
{
    switch (type->builtin) {
    case B_ANY:
        return true;
    case B_NULL:
        return JSON_NODE_HOLDS_NULL(node) || type_error(path, "null", error);
    case B_STR:
        return vt == G_TYPE_STRING || type_error(path, "string", error);
    case B_BOOL:
        return vt == G_TYPE_BOOLEAN || type_error(path, "boolean", error);
    case B_NUMBER:
        return vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE ||
               type_error(path, "number", error);
    case B_INT:
        if (vt != G_TYPE_INT64) {
            return type_error(path, "integer", error);
        }
        return validate_int_range(m, node, path, error);
    }
    return false;
}

static bool validate_enum(const SchemaType *type, JsonNode *node, GType vt,
                          const char *path, GError **error)
{
    if (vt != G_TYPE_STRING) {
        return type_error(path, "string", error);
    }
    for (guint i = 0; i < type->values->len; i++) {
        if (!strcmp(g_ptr_array_index(type->values, i),
                    json_node_get_string(node))) {
            return true;
        }
    }
    g_set_error(error, SCHEMA_ERROR, 0,
                "Parameter '%s' does not accept value '%s'", path,
                json_node_get_string(node));
    return false;
}

static bool validate_array(const SchemaType *type, JsonNode *node,
                           const char *path, GError **error)
{
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        return type_error(path, "array", error);
    }
    JsonArray *arr = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        g_autofree char *sub = g_strdup_printf("%s[%u]", path, i);
        if (!validate_value(type->element, NULL,
                            json_array_get_element(arr, i), sub, error)) {
            return false;
        }
    }
    return true;
}

static bool validate_value(const SchemaType *type, const SchemaMember *m,
                           JsonNode *node, const char *path, GError **error)
{
    GType vt = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node)
                                           : G_TYPE_INVALID;
    switch (type->kind) {
    case ST_BUILTIN:
        return validate_builtin(type, m, node, vt, path, error);
    case ST_ENUM:
        return validate_enum(type, node, vt, path, error);
    case ST_ARRAY:
        return validate_array(type, node, path, error);
    case ST_OBJECT: {
        if (!JSON_NODE_HOLDS_OBJECT(node)) {
            return type_error(path, "object", error);
        }
        g_autofree char *prefix = g_strdup_printf("%s.", path);
        return validate_object(type, json_node_get_object(node), prefix,
                               error);
    }
    }
    return false;
}

static bool validate_members(const GPtrArray *members, JsonObject *obj,
                             const char *prefix, GError **error)
{
    for (guint i = 0; i < members->len; i++) {
        const SchemaMember *m = g_ptr_array_index(members, i);
        g_autofree char *path = g_strconcat(prefix, m->name, NULL);
        JsonNode *v = json_object_get_member(obj, m->name);
        if (!v) {
            if (!m->optional) {
                g_set_error(error, SCHEMA_ERROR, 0,
                            "Parameter '%s' is missing", path);
                return false;
            }
            continue;
        }
        if (!validate_value(m->type, m, v, path, error)) {
            return false;
        }
    }
    return true;
}

static bool members_have(const GPtrArray *members, const char *name)
{
    for (guint i = 0; members && i < members->len; i++) {
        const SchemaMember *m = g_ptr_array_index(members, i);
        if (!strcmp(m->name, name)) {
            return true;
        }
    }
    return false;
}

/* Members in declaration order (missing, then wrong type or range), the
 * union's variant after the base, then unexpected members, like QEMU's
 * input visitor. */
static bool validate_object(const SchemaType *type, JsonObject *obj,
                            const char *prefix, GError **error)
{
    const SchemaType *variant = NULL;

    if (!validate_members(type->members, obj, prefix, error)) {
        return false;
    }
    if (type->tag) {
        const char *tag = json_object_get_string_member(obj, type->tag);
        for (guint i = 0; i < type->variant_cases->len; i++) {
            if (!strcmp(g_ptr_array_index(type->variant_cases, i), tag)) {
                variant = g_ptr_array_index(type->variant_types, i);
            }
        }
        /* An enum value without a variant has no extra members. */
        if (variant && !validate_members(variant->members, obj, prefix,
                                         error)) {
            return false;
        }
    }
    JsonObjectIter iter;
    const char *key;
    JsonNode *node;
    json_object_iter_init(&iter, obj);
    while (json_object_iter_next(&iter, &key, &node)) {
        if (!members_have(type->members, key) &&
            !(variant && members_have(variant->members, key))) {
            g_set_error(error, SCHEMA_ERROR, 0, "Parameter '%s%s' is "
                        "unexpected", prefix, key);
            return false;
        }
    }
    return true;
}

/* The command @command, or NULL + @error with QEMU's text. */
static const SchemaEntity *command_or_error(const QmpSchema *schema,
                                            const char *command,
                                            GError **error)
{
    const SchemaEntity *e = schema_find_command(schema, command);

    if (!e) {
        g_set_error(error, SCHEMA_ERROR, 0, "The command %s has not been "
                    "found", command);
    }
    return e;
}

bool qmp_schema_validate_args(const QmpSchema *schema, const char *command,
                              JsonObject *args, GError **error)
{
    const SchemaEntity *e = command_or_error(schema, command, error);
    if (!e) {
        return false;
    }
    g_autoptr(JsonObject) empty = args ? NULL : json_object_new();
    return validate_object(e->args, args ? args : empty, "", error);
}

/* Replies and events are checked with the same rules as arguments: what
 * the daemon sends must be what the schema (and so introspection and the
 * CLI) promises. */
bool qmp_schema_validate_return(const QmpSchema *schema, const char *command,
                                JsonNode *ret, GError **error)
{
    const SchemaEntity *e = command_or_error(schema, command, error);
    g_autoptr(JsonNode) empty = NULL;

    if (!e) {
        return false;
    }
    if (!ret) {
        empty = json_node_init_object(json_node_alloc(), NULL);
        json_node_take_object(empty, json_object_new());
        ret = empty;
    }
    return validate_value(e->ret, NULL, ret, "return", error);
}

bool qmp_schema_validate_event(const QmpSchema *schema, const char *event,
                               JsonObject *data, GError **error)
{
    const SchemaEntity *e = g_hash_table_lookup(schema->entities, event);
    g_autoptr(JsonObject) empty = data ? NULL : json_object_new();

    if (!e || !e->is_event) {
        g_set_error(error, SCHEMA_ERROR, 0, "The event %s is not declared",
                    event);
        return false;
    }
    return validate_object(e->args, data ? data : empty, "data.", error);
}
