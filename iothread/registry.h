/*
 * The object registry: the daemon's iothreads by id (QEMU id rules), their
 * QOM-like paths /objects/<id>, and the main-loop object that stands for
 * the daemon's own AioContext.  Plain C API, no JSON.
 *
 * Thread rules: a registry belongs to the thread that runs the main
 * AioContext (its home thread); every function here runs there.
 */
#ifndef IOTHREAD_REGISTRY_H
#define IOTHREAD_REGISTRY_H

#include <glib.h>

#include "aioctx/aio.h"
#include "iothread.h"

G_BEGIN_DECLS

#define REGISTRY_ERROR (registry_error_quark())
GQuark registry_error_quark(void);
typedef enum {
    REGISTRY_ERROR_INVALID_ID,  /* id does not follow the rules */
    REGISTRY_ERROR_DUPLICATE,   /* id already used */
    REGISTRY_ERROR_NOT_FOUND,   /* no object with that id */
    REGISTRY_ERROR_PERMISSION,  /* the object cannot be deleted */
} RegistryErrorCode;

/* The main-loop object's fixed id and QOM type names. */
#define REGISTRY_MAIN_LOOP_ID   "main-loop"
#define REGISTRY_TYPE_IOTHREAD  "iothread"
#define REGISTRY_TYPE_MAIN_LOOP "main-loop"
#define REGISTRY_OBJECTS_PATH   "/objects"
/* Longest id accepted (QEMU has no limit; a bound keeps paths sane). */
#define REGISTRY_ID_MAX_LEN     128

typedef enum {
    REGISTRY_PATH_NONE,         /* no such path */
    REGISTRY_PATH_ROOT,         /* "/" */
    REGISTRY_PATH_CONTAINER,    /* "/objects" */
    REGISTRY_PATH_IOTHREAD,     /* "/objects/<iothread id>" */
    REGISTRY_PATH_MAIN_LOOP,    /* "/objects/main-loop" */
} RegistryPathKind;

typedef struct ObjectRegistry ObjectRegistry;

/* @main_ctx: the daemon's own context (a reference is taken). */
ObjectRegistry *object_registry_new(AioContext *main_ctx);
/* Stops and frees every iothread (in creation order), then the registry. */
void object_registry_free(ObjectRegistry *reg);

/* QEMU's rules: a letter first, then letters, digits, '-', '.', '_', at
 * most REGISTRY_ID_MAX_LEN characters.  false + @error stating the rules. */
bool object_id_validate(const char *id, GError **error);

/* Create an iothread @id: defaults overridden by the given members of
 * @params (NULL: none).  Errors: invalid
 * id, duplicate id (also "main-loop"), invalid parameters, resources. */
IOThread *object_registry_add_iothread(ObjectRegistry *reg, const char *id,
                                       const AioParams *params,
                                       GError **error);
/* Stop (draining it, see iothread_free) and forget iothread @id.  On
 * return *@qom_type (may be NULL) points to a static string naming the
 * deleted object's type.  Errors: not found, main-loop. */
bool object_registry_del(ObjectRegistry *reg, const char *id,
                         const char **qom_type, GError **error);

IOThread *object_registry_find_iothread(ObjectRegistry *reg, const char *id);
/* The iothreads in creation order (borrowed; valid until the next add or
 * delete). */
IOThread *const *object_registry_iothreads(ObjectRegistry *reg, guint *n);

/* The main-loop object: its context, the values set (complete; only the
 * members in iothread_param_mask(true) are its properties) and a change
 * restricted to those members, applied all or nothing
 * (aio_context_set_params).  *@changed_mask (may be NULL) receives the
 * members whose value changed. */
AioContext *object_registry_main_context(ObjectRegistry *reg);
void object_registry_main_loop_params(ObjectRegistry *reg, AioParams *out);
bool object_registry_main_loop_set(ObjectRegistry *reg,
                                   const AioParams *change,
                                   unsigned *changed_mask, GError **error);

/* What @path names; for an object, *@id (may be NULL) is set to its id
 * (borrowed).  Accepts a trailing '/' like QOM. */
RegistryPathKind object_registry_resolve(ObjectRegistry *reg,
                                         const char *path, const char **id);

G_END_DECLS

#endif /* IOTHREAD_REGISTRY_H */
