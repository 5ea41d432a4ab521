/*
 * The in-memory form of a loaded schema, shared by schema.c (loading),
 * schema-validate.c (validation) and schema-introspect.c (SchemaInfo
 * rendering).  Not a public header.
 *
 * Thread rules: immutable once loaded (see schema.h).
 */
#ifndef SCHEMA_SCHEMA_INTERNAL_H
#define SCHEMA_SCHEMA_INTERNAL_H

#include "schema.h"

typedef enum { ST_BUILTIN, ST_ENUM, ST_ARRAY, ST_OBJECT } SchemaKind;
typedef enum { B_STR, B_INT, B_BOOL, B_NUMBER, B_ANY, B_NULL } BuiltinKind;

typedef struct SchemaType SchemaType;

typedef struct {
    char *name;
    bool optional;
    SchemaType *type;
    bool has_range;
    gint64 min, max;
    char *doc;              /* the member's "doc", or NULL (introspection) */
    char **features;        /* its "features" (NULL-terminated, never NULL) */
} SchemaMember;

struct SchemaType {
    SchemaKind kind;
    char *name;
    BuiltinKind builtin;
    GPtrArray *values;      /* enum: char* */
    SchemaType *element;    /* array */
    GPtrArray *members;     /* object: SchemaMember* (base members) */
    char *tag;              /* object with variants: discriminator member */
    GPtrArray *variant_cases;   /* char* */
    GPtrArray *variant_types;   /* SchemaType* */
};

typedef struct {
    char *name;
    SchemaType *args;       /* an object type, never NULL */
    SchemaType *ret;        /* commands; never NULL */
    bool is_event;
} SchemaEntity;

struct QmpSchema {
    GHashTable *types;      /* name -> SchemaType* (owned) */
    GPtrArray *type_order;  /* SchemaType*, introspection order */
    GHashTable *entities;   /* name -> SchemaEntity* (owned) */
    GPtrArray *entity_order;
    GHashTable *docs;       /* entry name -> doc */
    GPtrArray *command_names;   /* char*, NULL-terminated */
    unsigned next_implicit;
    SchemaType *empty;
};

/* The error domain of every schema error (loading and validation). */
#define SCHEMA_ERROR (schema_error_quark())
GQuark schema_error_quark(void);

/* The command @name (not an event), or NULL. */
SchemaEntity *schema_find_command(const QmpSchema *schema, const char *name);

#endif /* SCHEMA_SCHEMA_INTERNAL_H */
