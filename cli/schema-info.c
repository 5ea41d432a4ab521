/*
 * Index over query-qmp-schema's SchemaInfo array (see schema-info.h).
 */
#include "schema-info.h"

#include <string.h>

/* The arguments of one command, flattened (completion) and as declared
 * (help renders a flat union by variant). */
typedef struct {
    GPtrArray *all;       /* SchemaMember *: base, then every variant's */
    GPtrArray *base;      /* SchemaMember *: the arg-type's own members */
    char *tag;            /* discriminator member of a flat union, or NULL */
    GPtrArray *cases;     /* char *: tag values in schema order, NULL-ended */
    GHashTable *variants; /* tag value -> GPtrArray of SchemaMember * */
} CommandArgs;

struct SchemaInfo {
    JsonNode *root;               /* keeps the entries alive */
    GHashTable *entries;          /* name -> JsonObject * (borrowed) */
    GPtrArray *commands;          /* char * (borrowed), NULL-terminated */
    GHashTable *arguments;        /* command -> CommandArgs * */
    GHashTable *enum_values;      /* type -> char ** */
};

/* An enum described by its values only while the list stays this short;
 * longer ones (QEMU's ObjectType has dozens) would widen help's type
 * column to hundreds of characters. */
#define ENUM_LIST_MAX_CHARS 40

static void member_free(gpointer p)
{
    SchemaMember *m = p;

    g_free(m->name);
    g_free(m->type);
    g_free(m->doc);
    g_strfreev(m->features);
    g_free(m);
}

static const char *entry_string(JsonObject *entry, const char *member)
{
    JsonNode *node = json_object_get_member(entry, member);

    if (!node || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING) {
        return NULL;
    }
    return json_node_get_string(node);
}

static JsonArray *entry_array(JsonObject *entry, const char *member)
{
    JsonNode *node = json_object_get_member(entry, member);

    return node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node)
                                               : NULL;
}

/* A member's "features": its strings (anything else is ignored). */
static char **features_of(JsonObject *m)
{
    JsonArray *arr = entry_array(m, "features");
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (JSON_NODE_HOLDS_VALUE(n) &&
            json_node_get_value_type(n) == G_TYPE_STRING) {
            g_ptr_array_add(out, g_strdup(json_node_get_string(n)));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static JsonObject *lookup(const SchemaInfo *si, const char *name)
{
    return name ? g_hash_table_lookup(si->entries, name) : NULL;
}

/* The object entry named @type, or NULL if it is not an object. */
static JsonObject *object_entry(const SchemaInfo *si, const char *type)
{
    JsonObject *entry = lookup(si, type);
    const char *meta = entry ? entry_string(entry, "meta-type") : NULL;

    return meta && !strcmp(meta, "object") ? entry : NULL;
}

/* Append the members of object type @type (and of its variants when
 * @with_variants) to @out, skipping names already present.  @depth guards
 * against cycles in a malformed answer. */
static void collect_members(SchemaInfo *si, const char *type, GPtrArray *out,
                            GHashTable *seen, bool with_variants, int depth)
{
    JsonObject *entry = object_entry(si, type);

    if (!entry || depth > 8) {
        return;
    }
    JsonArray *members = entry_array(entry, "members");
    for (guint i = 0; members && i < json_array_get_length(members); i++) {
        JsonNode *mn = json_array_get_element(members, i);
        if (!JSON_NODE_HOLDS_OBJECT(mn)) {
            continue;
        }
        JsonObject *m = json_node_get_object(mn);
        const char *name = entry_string(m, "name");
        if (!name || g_hash_table_contains(seen, name)) {
            continue;
        }
        SchemaMember *sm = g_new0(SchemaMember, 1);
        sm->name = g_strdup(name);
        sm->type = g_strdup(entry_string(m, "type"));
        sm->optional = json_object_has_member(m, "default");
        sm->doc = g_strdup(entry_string(m, "doc"));
        sm->features = features_of(m);
        g_hash_table_add(seen, sm->name);
        g_ptr_array_add(out, sm);
    }
    if (!with_variants) {
        return;
    }
    JsonArray *variants = entry_array(entry, "variants");
    for (guint i = 0; variants && i < json_array_get_length(variants); i++) {
        JsonNode *vn = json_array_get_element(variants, i);
        if (JSON_NODE_HOLDS_OBJECT(vn)) {
            collect_members(si, entry_string(json_node_get_object(vn), "type"),
                            out, seen, true, depth + 1);
        }
    }
}

static char **enum_values_of(JsonObject *entry)
{
    GPtrArray *values = g_ptr_array_new();
    JsonArray *arr = entry_array(entry, "members");
    bool use_members = arr != NULL;

    if (!arr) {
        arr = entry_array(entry, "values");  /* QEMU < 6.2 shape */
    }
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        const char *v = NULL;
        if (use_members && JSON_NODE_HOLDS_OBJECT(n)) {
            v = entry_string(json_node_get_object(n), "name");
        } else if (!use_members && JSON_NODE_HOLDS_VALUE(n) &&
                   json_node_get_value_type(n) == G_TYPE_STRING) {
            v = json_node_get_string(n);
        }
        if (v) {
            g_ptr_array_add(values, g_strdup(v));
        }
    }
    g_ptr_array_add(values, NULL);
    return (char **)g_ptr_array_free(values, FALSE);
}

/* The members of @type (with its variants) as a new array. */
static GPtrArray *members_of(SchemaInfo *si, const char *type,
                             bool with_variants)
{
    GPtrArray *members = g_ptr_array_new_with_free_func(member_free);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

    collect_members(si, type, members, seen, with_variants, 0);
    g_hash_table_destroy(seen);
    return members;
}

static void command_args_free(gpointer p)
{
    CommandArgs *ca = p;

    g_ptr_array_unref(ca->all);
    g_ptr_array_unref(ca->base);
    g_free(ca->tag);
    g_ptr_array_free(ca->cases, TRUE);
    g_hash_table_destroy(ca->variants);
    g_free(ca);
}

/* Index the variants of the flat union @entry (the arg-type) by tag value;
 * a case named twice keeps its first type. */
static void index_variants(SchemaInfo *si, JsonObject *entry, CommandArgs *ca)
{
    JsonArray *variants = entry_array(entry, "variants");

    for (guint i = 0; variants && i < json_array_get_length(variants); i++) {
        JsonNode *vn = json_array_get_element(variants, i);
        JsonObject *v = JSON_NODE_HOLDS_OBJECT(vn) ? json_node_get_object(vn)
                                                   : NULL;
        const char *value = v ? entry_string(v, "case") : NULL;
        if (!value || g_hash_table_contains(ca->variants, value)) {
            continue;
        }
        char *key = g_strdup(value);
        g_ptr_array_add(ca->cases, key);
        g_hash_table_insert(ca->variants, key,
                            members_of(si, entry_string(v, "type"), true));
    }
}

static CommandArgs *command_args_new(SchemaInfo *si, const char *command)
{
    const char *type = entry_string(lookup(si, command), "arg-type");
    JsonObject *entry = object_entry(si, type);
    CommandArgs *ca = g_new0(CommandArgs, 1);

    ca->all = members_of(si, type, true);
    ca->base = members_of(si, type, false);
    ca->cases = g_ptr_array_new_with_free_func(g_free);
    ca->variants = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify)g_ptr_array_unref);
    if (entry && entry_string(entry, "tag")) {
        ca->tag = g_strdup(entry_string(entry, "tag"));
        index_variants(si, entry, ca);
    }
    g_ptr_array_add(ca->cases, NULL);
    return ca;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

SchemaInfo *schema_info_new(JsonNode *introspection, GError **error)
{
    if (!introspection || !JSON_NODE_HOLDS_ARRAY(introspection)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "query-qmp-schema did not return an array");
        return NULL;
    }
    SchemaInfo *si = g_new0(SchemaInfo, 1);
    si->root = json_node_ref(introspection);
    si->entries = g_hash_table_new(g_str_hash, g_str_equal);
    si->commands = g_ptr_array_new();
    si->arguments = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                          command_args_free);
    si->enum_values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)g_strfreev);

    JsonArray *arr = json_node_get_array(introspection);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            continue;
        }
        JsonObject *entry = json_node_get_object(n);
        const char *name = entry_string(entry, "name");
        const char *meta = entry_string(entry, "meta-type");
        if (!name || !meta) {
            continue;
        }
        g_hash_table_insert(si->entries, (gpointer)name, entry);
        if (!strcmp(meta, "command")) {
            g_ptr_array_add(si->commands, (gpointer)name);
        } else if (!strcmp(meta, "enum")) {
            g_hash_table_insert(si->enum_values, (gpointer)name,
                                enum_values_of(entry));
        }
    }
    g_ptr_array_sort(si->commands, compare_names);
    g_ptr_array_add(si->commands, NULL);

    for (guint i = 0; si->commands->pdata[i]; i++) {
        const char *cmd = si->commands->pdata[i];
        g_hash_table_insert(si->arguments, (gpointer)cmd,
                            command_args_new(si, cmd));
    }
    return si;
}

void schema_info_free(SchemaInfo *si)
{
    if (!si) {
        return;
    }
    g_hash_table_destroy(si->arguments);
    g_hash_table_destroy(si->enum_values);
    g_hash_table_destroy(si->entries);
    g_ptr_array_free(si->commands, TRUE);
    json_node_unref(si->root);
    g_free(si);
}

const char *const *schema_info_commands(const SchemaInfo *si)
{
    return (const char *const *)si->commands->pdata;
}

bool schema_info_has_command(const SchemaInfo *si, const char *command)
{
    return g_hash_table_contains(si->arguments, command);
}

const char *schema_info_doc(const SchemaInfo *si, const char *name)
{
    JsonObject *entry = lookup(si, name);

    return entry ? entry_string(entry, "doc") : NULL;
}

static GPtrArray *empty_members(void)
{
    static GPtrArray *empty;

    if (g_once_init_enter(&empty)) {
        g_once_init_leave(&empty, g_ptr_array_new());
    }
    return empty;
}

GPtrArray *schema_info_arguments(const SchemaInfo *si, const char *command)
{
    CommandArgs *ca = g_hash_table_lookup(si->arguments, command);

    return ca ? ca->all : empty_members();
}

GPtrArray *schema_info_base_arguments(const SchemaInfo *si,
                                      const char *command)
{
    CommandArgs *ca = g_hash_table_lookup(si->arguments, command);

    return ca ? ca->base : empty_members();
}

const char *schema_info_union_tag(const SchemaInfo *si, const char *command)
{
    CommandArgs *ca = g_hash_table_lookup(si->arguments, command);

    return ca ? ca->tag : NULL;
}

const char *const *schema_info_union_cases(const SchemaInfo *si,
                                           const char *command)
{
    static const char *const none[] = { NULL };
    CommandArgs *ca = g_hash_table_lookup(si->arguments, command);

    return ca ? (const char *const *)ca->cases->pdata : none;
}

GPtrArray *schema_info_variant_arguments(const SchemaInfo *si,
                                         const char *command,
                                         const char *value)
{
    CommandArgs *ca = g_hash_table_lookup(si->arguments, command);

    return ca && value ? g_hash_table_lookup(ca->variants, value) : NULL;
}

const char *const *schema_info_enum_values(const SchemaInfo *si,
                                           const char *type)
{
    return type ? g_hash_table_lookup(si->enum_values, type) : NULL;
}

const char *schema_info_ret_type(const SchemaInfo *si, const char *command)
{
    JsonObject *entry = lookup(si, command);

    return entry ? entry_string(entry, "ret-type") : NULL;
}

char *schema_info_describe_type(const SchemaInfo *si, const char *type)
{
    JsonObject *entry = lookup(si, type);
    const char *meta = entry ? entry_string(entry, "meta-type") : NULL;

    if (!meta) {
        return g_strdup(type ? type : "any");
    }
    if (!strcmp(meta, "builtin")) {
        const char *jt = entry_string(entry, "json-type");
        return g_strdup(jt ? jt : type);
    }
    if (!strcmp(meta, "enum")) {
        const char *const *values = schema_info_enum_values(si, type);
        char *list = g_strjoinv(", ", (char **)values);
        char *s = strlen(list) <= ENUM_LIST_MAX_CHARS
                  ? g_strdup_printf("one of: %s", list)
                  : g_strdup_printf("one of %u values",
                                    g_strv_length((char **)values));
        g_free(list);
        return s;
    }
    if (!strcmp(meta, "array")) {
        const char *elem = entry_string(entry, "element-type");
        /* Arrays of arrays are rare; one level of recursion keeps the
         * text short and bounds malformed input. */
        JsonObject *ee = lookup(si, elem);
        const char *emeta = ee ? entry_string(ee, "meta-type") : NULL;
        if (emeta && !strcmp(emeta, "builtin")) {
            const char *jt = entry_string(ee, "json-type");
            return g_strdup_printf("array of %s", jt ? jt : elem);
        }
        return g_strdup_printf("array of %s", emeta ? emeta : "any");
    }
    return g_strdup(meta);
}

GPtrArray *schema_info_return_members(SchemaInfo *si, const char *command)
{
    const char *type = schema_info_ret_type(si, command);
    JsonObject *entry = lookup(si, type);
    const char *meta = entry ? entry_string(entry, "meta-type") : NULL;

    if (meta && !strcmp(meta, "array")) {
        type = entry_string(entry, "element-type");
    }
    return members_of(si, type, true);
}

GPtrArray *schema_info_type_members(SchemaInfo *si, const char *type)
{
    return members_of(si, type, false);
}

const char *schema_info_member_doc(const SchemaInfo *si, const char *type,
                                   const char *member)
{
    JsonObject *entry = lookup(si, type);
    JsonArray *members = entry ? entry_array(entry, "members") : NULL;

    for (guint i = 0; members && i < json_array_get_length(members); i++) {
        JsonNode *n = json_array_get_element(members, i);
        if (JSON_NODE_HOLDS_OBJECT(n) &&
            !g_strcmp0(entry_string(json_node_get_object(n), "name"),
                       member)) {
            return entry_string(json_node_get_object(n), "doc");
        }
    }
    return NULL;
}
