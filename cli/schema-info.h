/*
 * What iothreadctl knows about the daemon's protocol: an index over the
 * answer of query-qmp-schema (QEMU SchemaInfo shape: meta-type command /
 * event / object / enum / array / builtin / alternate, arg-type, ret-type,
 * members, variants).  Feeds completion, help and unknown-command
 * suggestions.  Pure (no I/O): built from a JsonNode.
 *
 * Docs: QEMU's SchemaInfo carries no documentation.  iothreadd adds an
 * optional "doc" string member to entries (and to object members); clients
 * that do not know it ignore it.  When absent, help shows only the
 * signature.
 *
 * Thread rules: immutable once built; any thread may read it.
 */
#ifndef CLI_SCHEMA_INFO_H
#define CLI_SCHEMA_INFO_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct SchemaInfo SchemaInfo;

typedef struct {
    char *name;
    char *type;        /* the SchemaInfo type name of the member */
    bool optional;
    char *doc;         /* NULL if the daemon sent none */
    char **features;   /* QEMU's member "features" (NULL-terminated, never
                        * NULL); iothreadd marks levels among counters
                        * with "gauge" */
} SchemaMember;

/* Index @introspection (an array of SchemaInfo objects; not consumed).
 * Entries that are not objects or lack a name are skipped; NULL + @error
 * only if @introspection is not an array. */
SchemaInfo *schema_info_new(JsonNode *introspection, GError **error);
void schema_info_free(SchemaInfo *si);

/* Sorted, NULL-terminated command names (owned by @si). */
const char *const *schema_info_commands(const SchemaInfo *si);
bool schema_info_has_command(const SchemaInfo *si, const char *command);

/* The "doc" text of an entry (command, event, type), or NULL. */
const char *schema_info_doc(const SchemaInfo *si, const char *name);

/* The argument members of @command, including the members of every variant
 * of a flat union (object-add's qom-type variants), first occurrence of
 * each name kept.  Array of SchemaMember * owned by @si; empty if the
 * command takes no arguments or is unknown. */
GPtrArray *schema_info_arguments(const SchemaInfo *si, const char *command);

/* The arguments of @command as declared: its arg-type's own members
 * (without any variant's).  Owned by @si; empty if none or unknown. */
GPtrArray *schema_info_base_arguments(const SchemaInfo *si,
                                      const char *command);

/* The discriminator member ("tag") when @command's arguments are a flat
 * union (QEMU's object-add: "qom-type"), else NULL. */
const char *schema_info_union_tag(const SchemaInfo *si, const char *command);

/* The tag values that have a variant, in schema order (NULL-terminated,
 * owned by @si; empty when @command's arguments are no union). */
const char *const *schema_info_union_cases(const SchemaInfo *si,
                                           const char *command);

/* The members the variant for tag value @value adds (each with its own
 * optional flag: required only within that variant), owned by @si; NULL
 * if @value has no variant. */
GPtrArray *schema_info_variant_arguments(const SchemaInfo *si,
                                         const char *command,
                                         const char *value);

/* The enum values of type @type (NULL-terminated, owned by @si), or NULL
 * if @type is not an enum. */
const char *const *schema_info_enum_values(const SchemaInfo *si,
                                           const char *type);

/* A short human description of type @type: "int", "string", "bool",
 * "array of int", "one of: a, b, c" ("one of N values" when the list
 * would be long), "object" ...  Caller frees. */
char *schema_info_describe_type(const SchemaInfo *si, const char *type);

/* The "doc" of member @member of object type @type, or NULL (used to
 * resolve "See TYPE." member docs). */
const char *schema_info_member_doc(const SchemaInfo *si, const char *type,
                                   const char *member);

/* The members of the object @command returns (of its elements when it
 * returns an array), in schema order; empty when it returns no object.
 * Caller frees (g_ptr_array_unref). */
GPtrArray *schema_info_return_members(SchemaInfo *si, const char *command);

/* The members of object type @type in schema order (empty for an unknown
 * or non-object type).  Caller frees (g_ptr_array_unref). */
GPtrArray *schema_info_type_members(SchemaInfo *si, const char *type);

/* The return type name of @command, or NULL. */
const char *schema_info_ret_type(const SchemaInfo *si, const char *command);

G_END_DECLS

#endif /* CLI_SCHEMA_INFO_H */
