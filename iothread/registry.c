/*
 * The object registry: iothreads by id, /objects paths, main-loop object.
 * See registry.h.
 */
#include "registry.h"

#include <string.h>

struct ObjectRegistry {
    AioContext *main_ctx;
    GPtrArray *iothreads;       /* IOThread *, creation order */
    GHashTable *by_id;          /* id (owned by the IOThread) -> IOThread */
};

G_DEFINE_QUARK(registry-error-quark, registry_error)

ObjectRegistry *object_registry_new(AioContext *main_ctx)
{
    ObjectRegistry *reg = g_new0(ObjectRegistry, 1);

    aio_context_ref(main_ctx);
    reg->main_ctx = main_ctx;
    reg->iothreads = g_ptr_array_new();
    reg->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    return reg;
}

void object_registry_free(ObjectRegistry *reg)
{
    if (!reg) {
        return;
    }
    for (guint i = 0; i < reg->iothreads->len; i++) {
        iothread_free(g_ptr_array_index(reg->iothreads, i));
    }
    g_ptr_array_free(reg->iothreads, TRUE);
    g_hash_table_destroy(reg->by_id);
    aio_context_unref(reg->main_ctx);
    g_free(reg);
}

bool object_id_validate(const char *id, GError **error)
{
    /* QEMU's wording for an empty or malformed id (the rule itself, a
     * letter first, then letters, digits, '-', '.', '_', is in the schema
     * doc of object-add). */
    static const char not_an_identifier[] =
        "Parameter 'id' expects an identifier";
    size_t len = strlen(id);

    if (len == 0) {
        g_set_error_literal(error, REGISTRY_ERROR, REGISTRY_ERROR_INVALID_ID,
                            not_an_identifier);
        return false;
    }
    if (len > REGISTRY_ID_MAX_LEN) {
        g_set_error(error, REGISTRY_ERROR, REGISTRY_ERROR_INVALID_ID,
                    "Parameter 'id' is longer than %d characters",
                    REGISTRY_ID_MAX_LEN);
        return false;
    }
    /* ASCII classes on purpose: g_ascii_* ignore the locale. */
    bool ok = g_ascii_isalpha(id[0]);
    for (size_t i = 1; ok && i < len; i++) {
        char c = id[i];
        ok = g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
    }
    if (!ok) {
        g_set_error_literal(error, REGISTRY_ERROR, REGISTRY_ERROR_INVALID_ID,
                            not_an_identifier);
        return false;
    }
    return true;
}

IOThread *object_registry_add_iothread(ObjectRegistry *reg, const char *id,
                                       const AioParams *params,
                                       GError **error)
{
    if (!object_id_validate(id, error)) {
        return NULL;
    }
    if (strcmp(id, REGISTRY_MAIN_LOOP_ID) == 0 ||
        g_hash_table_contains(reg->by_id, id)) {
        /* QEMU's wording, so existing tools recognise it. */
        g_set_error(error, REGISTRY_ERROR, REGISTRY_ERROR_DUPLICATE,
                    "attempt to add duplicate property '%s' to object "
                    "(type 'container')", id);
        return NULL;
    }
    IOThread *t = iothread_new(id, params, error);
    if (!t) {
        return NULL;
    }
    g_ptr_array_add(reg->iothreads, t);
    g_hash_table_insert(reg->by_id, (gpointer)iothread_get_id(t), t);
    return t;
}

bool object_registry_del(ObjectRegistry *reg, const char *id,
                         const char **qom_type, GError **error)
{
    if (strcmp(id, REGISTRY_MAIN_LOOP_ID) == 0) {
        g_set_error(error, REGISTRY_ERROR, REGISTRY_ERROR_PERMISSION,
                    "object '%s' is the daemon's main loop and cannot be "
                    "deleted", id);
        return false;
    }
    IOThread *t = g_hash_table_lookup(reg->by_id, id);
    if (!t) {
        char *shown = g_strescape(id, NULL);
        g_set_error(error, REGISTRY_ERROR, REGISTRY_ERROR_NOT_FOUND,
                    "object '%s' not found", shown);
        g_free(shown);
        return false;
    }
    g_hash_table_remove(reg->by_id, id);
    g_ptr_array_remove(reg->iothreads, t);
    iothread_free(t);
    if (qom_type) {
        *qom_type = REGISTRY_TYPE_IOTHREAD;
    }
    return true;
}

IOThread *object_registry_find_iothread(ObjectRegistry *reg, const char *id)
{
    return g_hash_table_lookup(reg->by_id, id);
}

IOThread *const *object_registry_iothreads(ObjectRegistry *reg, guint *n)
{
    *n = reg->iothreads->len;
    return (IOThread *const *)reg->iothreads->pdata;
}

AioContext *object_registry_main_context(ObjectRegistry *reg)
{
    return reg->main_ctx;
}

void object_registry_main_loop_params(ObjectRegistry *reg, AioParams *out)
{
    /* This is the main context's home thread: read it directly. */
    aio_context_get_params(reg->main_ctx, out);
}

bool object_registry_main_loop_set(ObjectRegistry *reg,
                                   const AioParams *change,
                                   unsigned *changed_mask, GError **error)
{
    AioParams before, after;

    g_assert(!(change->mask & ~iothread_param_mask(true)));
    if (changed_mask) {
        *changed_mask = 0;
    }
    aio_context_get_params(reg->main_ctx, &before);
    if (!aio_context_set_params(reg->main_ctx, change, error)) {
        return false;
    }
    aio_context_get_params(reg->main_ctx, &after);
    if (changed_mask) {
        *changed_mask = iothread_params_diff(&before, &after);
    }
    return true;
}

RegistryPathKind object_registry_resolve(ObjectRegistry *reg,
                                         const char *path, const char **id)
{
    const char *prefix = REGISTRY_OBJECTS_PATH;
    size_t plen = strlen(prefix);
    RegistryPathKind kind = REGISTRY_PATH_NONE;
    char *trimmed = g_strdup(path);
    size_t len = strlen(trimmed);

    if (id) {
        *id = NULL;
    }
    while (len > 1 && trimmed[len - 1] == '/') {
        trimmed[--len] = '\0';
    }
    if (strcmp(trimmed, "/") == 0) {
        kind = REGISTRY_PATH_ROOT;
    } else if (strcmp(trimmed, prefix) == 0) {
        kind = REGISTRY_PATH_CONTAINER;
    } else if (strncmp(trimmed, prefix, plen) == 0 && trimmed[plen] == '/') {
        const char *name = trimmed + plen + 1;
        IOThread *t = g_hash_table_lookup(reg->by_id, name);
        if (t) {
            kind = REGISTRY_PATH_IOTHREAD;
            if (id) {
                *id = iothread_get_id(t);
            }
        } else if (strcmp(name, REGISTRY_MAIN_LOOP_ID) == 0) {
            kind = REGISTRY_PATH_MAIN_LOOP;
            if (id) {
                *id = REGISTRY_MAIN_LOOP_ID;
            }
        }
    }
    g_free(trimmed);
    return kind;
}
