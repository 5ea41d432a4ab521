/*
 * The QMP schema (schema/qmp-schema.json, embedded at build time): loading,
 * argument validation and introspection.  Depends only on json-glib.
 *
 * Thread rules: a loaded QmpSchema is immutable; any thread may use it.
 */
#ifndef SCHEMA_SCHEMA_H
#define SCHEMA_SCHEMA_H

#include <glib.h>
#include <stdbool.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct QmpSchema QmpSchema;

/* The schema embedded into the binary.  NULL + @error only if the build
 * embedded a broken file (a test guards against that). */
QmpSchema *qmp_schema_load_embedded(GError **error);
/* From JSON text (tests). */
QmpSchema *qmp_schema_load_from_data(const char *json, gssize len,
                                     GError **error);
void qmp_schema_free(QmpSchema *schema);

bool qmp_schema_has_command(const QmpSchema *schema, const char *command);
/* NULL-terminated, owned by the schema. */
const char *const *qmp_schema_command_names(const QmpSchema *schema);
/* The entry's "doc" text, or NULL. */
const char *qmp_schema_doc(const QmpSchema *schema, const char *name);

/* Member @index (declaration order) of object type @type: its name, its
 * type's name as introspection shows it ("int", "[str]", "HistogramSummary"),
 * its "doc" (NULL if none) and its "features" (NULL-terminated, never
 * NULL; "gauge" marks a level among counters).  Owned by the schema.
 * false when @type is no object type or @index is past its last member. */
typedef struct QmpSchemaMemberInfo {
    const char *name;
    const char *type;
    const char *doc;
    const char *const *features;
} QmpSchemaMemberInfo;
bool qmp_schema_type_member(const QmpSchema *schema, const char *type,
                            guint index, QmpSchemaMemberInfo *out);
/* The same for the member named @name (without the '*' of an optional
 * one); false when @type is no object type or has no such member. */
bool qmp_schema_type_member_find(const QmpSchema *schema, const char *type,
                                 const char *name, QmpSchemaMemberInfo *out);

/* Check @args (may be NULL = {}) against the command's argument type:
 * unknown member, missing required member, wrong JSON type, integer out of
 * the declared range, value not in an enum -> false + @error (a message
 * naming the member, e.g. "Parameter 'poll-max-ns' expects a non-negative
 * integer").  For a union/flat type keyed by a discriminator (object-add's
 * qom-type) the variant's members are checked. */
bool qmp_schema_validate_args(const QmpSchema *schema, const char *command,
                              JsonObject *args, GError **error);

/* Check a command's "return" value (@ret; NULL stands for {}) against
 * the command's "returns" type, and an event's "data" (NULL = none)
 * against the event's declared data, with the rules of
 * qmp_schema_validate_args() (members, types, ranges, enums; a member the
 * schema does not declare is an error).  Paths in messages start with
 * "return" / "data.". */
bool qmp_schema_validate_return(const QmpSchema *schema, const char *command,
                                JsonNode *ret, GError **error);
bool qmp_schema_validate_event(const QmpSchema *schema, const char *event,
                               JsonObject *data, GError **error);

/* query-qmp-schema's answer: an array of QEMU SchemaInfo objects
 * (transfer full). */
JsonNode *qmp_schema_introspect(const QmpSchema *schema);

G_END_DECLS

#endif /* SCHEMA_SCHEMA_H */
