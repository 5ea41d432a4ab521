/*
 * query-qmp-schema: renders a loaded schema as QEMU SchemaInfo objects
 * (meta-types builtin, enum, array, object, command, event).
 */
#include "schema-internal.h"

#include <string.h>

static const char *json_type_name(BuiltinKind k)
{
    static const char *const names[] = {
        [B_STR] = "string", [B_INT] = "int", [B_BOOL] = "boolean",
        [B_NUMBER] = "number", [B_ANY] = "value", [B_NULL] = "null",
    };
    return names[k];
}

static JsonArray *members_info(const GPtrArray *members)
{
    JsonArray *arr = json_array_new();
    for (guint i = 0; i < members->len; i++) {
        const SchemaMember *m = g_ptr_array_index(members, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", m->name);
        json_object_set_string_member(o, "type", m->type->name);
        if (m->optional) {
            json_object_set_null_member(o, "default");
        }
        /* Extension to QEMU's SchemaInfo (iothreadctl's help): clients
         * that do not know "doc" ignore it. */
        if (m->doc) {
            json_object_set_string_member(o, "doc", m->doc);
        }
        /* QEMU's SchemaInfoObjectMember "features", present when any. */
        if (m->features[0]) {
            JsonArray *features = json_array_new();
            for (char **f = m->features; *f; f++) {
                json_array_add_string_element(features, *f);
            }
            json_object_set_array_member(o, "features", features);
        }
        json_array_add_object_element(arr, o);
    }
    return arr;
}

static JsonObject *type_info(const SchemaType *t)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", t->name);
    switch (t->kind) {
    case ST_BUILTIN:
        json_object_set_string_member(o, "meta-type", "builtin");
        json_object_set_string_member(o, "json-type",
                                      json_type_name(t->builtin));
        break;
    case ST_ENUM: {
        json_object_set_string_member(o, "meta-type", "enum");
        JsonArray *values = json_array_new();
        JsonArray *members = json_array_new();
        for (guint i = 0; i < t->values->len; i++) {
            const char *v = g_ptr_array_index(t->values, i);
            JsonObject *m = json_object_new();
            json_object_set_string_member(m, "name", v);
            json_array_add_object_element(members, m);
            json_array_add_string_element(values, v);
        }
        json_object_set_array_member(o, "members", members);
        json_object_set_array_member(o, "values", values);
        break;
    }
    case ST_ARRAY:
        json_object_set_string_member(o, "meta-type", "array");
        json_object_set_string_member(o, "element-type", t->element->name);
        break;
    case ST_OBJECT:
        json_object_set_string_member(o, "meta-type", "object");
        json_object_set_array_member(o, "members", members_info(t->members));
        if (t->tag) {
            json_object_set_string_member(o, "tag", t->tag);
            JsonArray *variants = json_array_new();
            for (guint i = 0; i < t->variant_cases->len; i++) {
                const SchemaType *vt = g_ptr_array_index(t->variant_types, i);
                JsonObject *v = json_object_new();
                json_object_set_string_member(
                    v, "case", g_ptr_array_index(t->variant_cases, i));
                json_object_set_string_member(v, "type", vt->name);
                json_array_add_object_element(variants, v);
            }
            json_object_set_array_member(o, "variants", variants);
        }
        break;
    }
    return o;
}

JsonNode *qmp_schema_introspect(const QmpSchema *schema)
{
    JsonArray *arr = json_array_new();
    for (guint i = 0; i < schema->entity_order->len; i++) {
        const SchemaEntity *e = g_ptr_array_index(schema->entity_order, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", e->name);
        json_object_set_string_member(o, "meta-type",
                                      e->is_event ? "event" : "command");
        json_object_set_string_member(o, "arg-type", e->args->name);
        if (!e->is_event) {
            json_object_set_string_member(o, "ret-type", e->ret->name);
        }
        /* "doc": extension for iothreadctl's help (see members_info). */
        const char *doc = g_hash_table_lookup(schema->docs, e->name);
        if (doc) {
            json_object_set_string_member(o, "doc", doc);
        }
        json_array_add_object_element(arr, o);
    }
    for (guint i = 0; i < schema->type_order->len; i++) {
        const SchemaType *t = g_ptr_array_index(schema->type_order, i);
        JsonObject *o = type_info(t);
        const char *doc = g_hash_table_lookup(schema->docs, t->name);
        if (doc) {
            json_object_set_string_member(o, "doc", doc);
        }
        json_array_add_object_element(arr, o);
    }
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(node, arr);
    return node;
}
