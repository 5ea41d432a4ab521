/*
 * The daemon's QMP command handlers (see commands.h).  Arguments arrive
 * validated against schema/qmp-schema.json (types, ranges, required and
 * unknown members), so handlers only check what the schema cannot express:
 * object ids, combined property rules, paths, the type of qom-set's "any".
 */
#include "commands.h"
#include "commands-stats.h"
#include "commands-tune.h"
#include "commands-workload.h"
#include "config.h"
#include "cpu-affinity.h"
#include "hmp.h"

#include <stddef.h>
#include <string.h>

#ifndef IOTHREADD_VERSION_MAJOR
#define IOTHREADD_VERSION_MAJOR 0
#define IOTHREADD_VERSION_MINOR 0
#define IOTHREADD_VERSION_MICRO 0
#define IOTHREADD_VERSION "0.0.0"
#endif

struct DaemonCommands {
    QmpServer *server;
    ObjectRegistry *reg;
    DaemonQuitFunc *quit;
    void *quit_opaque;
    /* config-save and --auto-save (daemon_commands_set_config; until
     * then one without a path or auto-save). */
    DaemonConfigSaver *saver;
    /* workload-*: an iothread a workload uses is not deleted. */
    DaemonWorkloads *workloads;
    /* iothread-tune and friends: they set values through set_properties. */
    DaemonTunes *tunes;
    /* query-iothread-stats and its reset baselines. */
    DaemonStats *stats;
};

/* A change of an object's properties: the tunables and, for an iothread,
 * cpu-affinity (NULL: not given). */
typedef struct ObjectChange {
    AioParams params;
    const char *cpu_affinity;
} ObjectChange;

/* Every failure of the layers below is a GenericError for the client. */
static void *fail_generic(GError **error, GError *cause)
{
    g_set_error_literal(error, QMP_ERROR, QMP_ERROR_GENERIC, cause->message);
    g_error_free(cause);
    return NULL;
}

static void *fail_path(GError **error, const char *path)
{
    /* Client text as it is: the server writes replies as ASCII JSON. */
    g_set_error(error, QMP_ERROR, QMP_ERROR_DEVICE_NOT_FOUND,
                "Device '%s' not found", path);
    return NULL;
}

void *fail_no_iothread(GError **error, const char *id)
{
    g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                "Cannot find iothread '%s'", id);
    return NULL;
}

static JsonNode *node_from_object(JsonObject *obj)
{
    JsonNode *node = json_node_alloc();
    json_node_init_object(node, obj);
    json_object_unref(obj);
    return node;
}

static JsonNode *node_from_array(JsonArray *arr)
{
    JsonNode *node = json_node_alloc();
    json_node_init_array(node, arr);
    json_array_unref(arr);
    return node;
}

/* A parameter's value on the wire: the value's name for an enum-valued
 * parameter, else the integer. */
static JsonNode *param_to_node(const AioParamInfo *info, int64_t value)
{
    JsonNode *node = json_node_alloc();

    if (info->values) {
        return json_node_init_string(node, aio_param_value_name(info, value));
    }
    return json_node_init_int(node, value);
}

void param_set_member(JsonObject *o, const AioParamInfo *info, int64_t value)
{
    json_object_set_member(o, info->name, param_to_node(info, value));
}

/* The event of a property change: the id and each changed property. */
static void emit_property_changed(DaemonCommands *cmds, const char *id,
                                  const AioParams *now, unsigned changed,
                                  const char *cpu_affinity)
{
    if (!changed && !cpu_affinity) {
        return;
    }
    JsonObject *data = json_object_new();
    json_object_set_string_member(data, "id", id);
    for (int pid = 0; pid < AIO_PARAM_COUNT; pid++) {
        if (changed & AIO_PARAM_BIT(pid)) {
            param_set_member(data, aio_param_info(pid),
                             aio_params_get(now, pid));
        }
    }
    if (cpu_affinity) {
        json_object_set_string_member(data, CPU_AFFINITY_PROPERTY,
                                      cpu_affinity);
    }
    qmp_server_emit_event(cmds->server, "IOTHREAD_PROPERTY_CHANGED", data);
}

/* The iothread part of set_properties: the cpulist judged before the
 * tunables are applied, so a refusal of either changes nothing. */
static bool set_iothread_properties(IOThread *t, const ObjectChange *change,
                                    unsigned *changed_mask,
                                    bool *affinity_changed, GError **error)
{
    *affinity_changed = false;
    if (change->cpu_affinity &&
        !cpu_affinity_check(change->cpu_affinity, NULL, NULL, NULL, error)) {
        return false;
    }
    if (!iothread_set_params(t, &change->params, changed_mask, error)) {
        return false;
    }
    return !change->cpu_affinity ||
           iothread_set_cpu_affinity(t, change->cpu_affinity,
                                     affinity_changed, error);
}

/*
 * Apply @change to the object @id (an iothread or main-loop), all or
 * nothing, and emit the event.  The one path behind qom-set and
 * iothread-set.
 */
static bool set_properties(DaemonCommands *cmds, const char *id,
                           const ObjectChange *change, GError **error)
{
    GError *cause = NULL;
    AioParams now;
    unsigned changed_mask;
    bool affinity_changed = false;
    IOThread *t = NULL;

    if (strcmp(id, REGISTRY_MAIN_LOOP_ID) == 0) {
        if (!object_registry_main_loop_set(cmds->reg, &change->params,
                                           &changed_mask, &cause)) {
            fail_generic(error, cause);
            return false;
        }
        object_registry_main_loop_params(cmds->reg, &now);
    } else {
        t = object_registry_find_iothread(cmds->reg, id);
        if (!t) {
            fail_no_iothread(error, id);
            return false;
        }
        if (!set_iothread_properties(t, change, &changed_mask,
                                     &affinity_changed, &cause)) {
            fail_generic(error, cause);
            return false;
        }
        iothread_get_params(t, &now);
    }
    emit_property_changed(cmds, id, &now, changed_mask,
                          affinity_changed ? iothread_get_cpu_affinity(t)
                                           : NULL);
    daemon_config_auto_save(cmds->saver);
    return true;
}

bool daemon_commands_set_properties(DaemonCommands *cmds, const char *id,
                                    const AioParams *change, GError **error)
{
    ObjectChange object_change = { .params = *change };

    return set_properties(cmds, id, &object_change, error);
}

static void *fail_property(GError **error, const char *type,
                           const char *property)
{
    /* QEMU's wording. */
    g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                "Property '%s.%s' not found", type, property);
    return NULL;
}

static void *fail_int_type(GError **error, const char *property)
{
    /* QEMU's wording. */
    g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                "Invalid parameter type for '%s', expected: integer",
                property);
    return NULL;
}

/* A parameter's value from the wire (QEMU's texts): an integer, or the
 * name of one of an enum-valued parameter's values. */
static bool param_from_node(const AioParamInfo *info, JsonNode *value,
                            int64_t *out, GError **error)
{
    GType type = JSON_NODE_HOLDS_VALUE(value)
                 ? json_node_get_value_type(value) : G_TYPE_INVALID;

    if (!info->values) {
        if (type != G_TYPE_INT64) {
            fail_int_type(error, info->name);
            return false;
        }
        *out = json_node_get_int(value);
        return true;
    }
    if (type != G_TYPE_STRING) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Invalid parameter type for '%s', expected: string",
                    info->name);
        return false;
    }
    if (!aio_param_value_parse(info, json_node_get_string(value), out)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Parameter '%s' does not accept value '%s'", info->name,
                    json_node_get_string(value));
        return false;
    }
    return true;
}

/* Property @name = @value of an object of QOM type @type into @change:
 * @info is the tunable of that name (NULL: the object has no property
 * @name, refused with QEMU's text).  The one step behind object-add,
 * iothread-set and qom-set. */
static bool change_set_param(ObjectChange *change, const char *type,
                             const char *name, const AioParamInfo *info,
                             JsonNode *value, GError **error)
{
    int64_t v;

    if (!info) {
        fail_property(error, type, name);
        return false;
    }
    if (!param_from_node(info, value, &v, error)) {
        return false;
    }
    aio_params_set(&change->params, info->id, v);
    return true;
}

/* Collect the tunable members of @args (everything but @skip_a/@skip_b)
 * into @change, refusing names that are not properties of the object
 * (@main_loop: the main-loop object; else an iothread). */
static bool change_from_args(JsonObject *args, bool main_loop,
                             const char *skip_a, const char *skip_b,
                             ObjectChange *change, GError **error)
{
    const char *type = main_loop ? REGISTRY_TYPE_MAIN_LOOP
                                 : REGISTRY_TYPE_IOTHREAD;
    JsonObjectIter iter;
    const char *name;
    JsonNode *value;

    memset(change, 0, sizeof(*change));
    json_object_iter_init(&iter, args);
    while (json_object_iter_next(&iter, &name, &value)) {
        if (strcmp(name, skip_a) == 0 || (skip_b && strcmp(name, skip_b) == 0)) {
            continue;
        }
        if (!main_loop && strcmp(name, CPU_AFFINITY_PROPERTY) == 0) {
            /* The schema made it a string. */
            change->cpu_affinity = json_node_get_string(value);
            continue;
        }
        if (!change_set_param(change, type, name,
                              iothread_param_find(name, main_loop), value,
                              error)) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------- */

static JsonNode *cmd_query_version(QmpServer *server, JsonObject *args,
                                   void *opaque, GError **error)
{
    JsonObject *triple = json_object_new();
    json_object_set_int_member(triple, "major", IOTHREADD_VERSION_MAJOR);
    json_object_set_int_member(triple, "minor", IOTHREADD_VERSION_MINOR);
    json_object_set_int_member(triple, "micro", IOTHREADD_VERSION_MICRO);
    JsonObject *info = json_object_new();
    json_object_set_object_member(info, "qemu", triple);
    json_object_set_string_member(info, "package",
                                  "iothreadd " IOTHREADD_VERSION);
    return node_from_object(info);
}

static void quit_bh(void *opaque)
{
    DaemonCommands *cmds = opaque;
    cmds->quit(cmds->quit_opaque);
}

static JsonNode *cmd_quit(QmpServer *server, JsonObject *args, void *opaque,
                          GError **error)
{
    DaemonCommands *cmds = opaque;

    /* From a BH, so the reply is written before the loop is left. */
    aio_bh_schedule_oneshot(object_registry_main_context(cmds->reg),
                            quit_bh, cmds);
    return NULL;
}

/* object-add's own checks after the schema's: the type, the properties,
 * the id's syntax, the values judged whole against the defaults and the
 * cpulist.  No side effect (the config check runs it too); the registry
 * adds its own (a duplicate id) when it creates the object. */
static bool check_object_add(JsonObject *args, ObjectChange *change,
                             GError **error)
{
    const char *type = json_object_get_string_member(args, "qom-type");
    const char *id = json_object_get_string_member(args, "id");
    GError *cause = NULL;
    AioParams wanted;

    if (strcmp(type, REGISTRY_TYPE_IOTHREAD) != 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Invalid parameter 'qom-type': object type '%s' is "
                    "unknown or cannot be created (supported: iothread)",
                    type);
        return false;
    }
    if (!change_from_args(args, false, "qom-type", "id", change, error)) {
        return false;
    }
    aio_params_init_default(&wanted);
    aio_params_merge(&wanted, &change->params);
    if (!object_id_validate(id, &cause) ||
        !aio_params_check(&wanted, &cause) ||
        (change->cpu_affinity && !cpu_affinity_check(change->cpu_affinity,
                                                     NULL, NULL, NULL,
                                                     &cause))) {
        fail_generic(error, cause);
        return false;
    }
    return true;
}

static JsonNode *cmd_object_add(QmpServer *server, JsonObject *args,
                                void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    const char *id = json_object_get_string_member(args, "id");
    ObjectChange change;
    GError *cause = NULL;
    IOThread *t;

    if (!check_object_add(args, &change, error)) {
        return NULL;
    }
    t = object_registry_add_iothread(cmds->reg, id, &change.params, &cause);
    if (!t) {
        return fail_generic(error, cause);
    }
    if (change.cpu_affinity &&
        !iothread_set_cpu_affinity(t, change.cpu_affinity, NULL, &cause)) {
        /* Checked above: only the kernel refusing the move gets here. */
        object_registry_del(cmds->reg, id, NULL, NULL);
        return fail_generic(error, cause);
    }
    daemon_commands_object_added(cmds, id, REGISTRY_TYPE_IOTHREAD);
    daemon_config_auto_save(cmds->saver);
    return NULL;
}

static JsonNode *cmd_object_del(QmpServer *server, JsonObject *args,
                                void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    char *id = g_strdup(json_object_get_string_member(args, "id"));
    GError *cause = NULL;
    const char *user = daemon_workloads_using(cmds->workloads, id);

    if (user) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "iothread '%s' is in use by workload '%s' (workload-del "
                    "it first)", id, user);
        g_free(id);
        return NULL;
    }
    if (!object_registry_del(cmds->reg, id, NULL, &cause)) {
        g_free(id);
        return fail_generic(error, cause);
    }
    daemon_stats_forget(cmds->stats, id);
    JsonObject *data = json_object_new();
    json_object_set_string_member(data, "id", id);
    qmp_server_emit_event(cmds->server, "OBJECT_DELETED", data);
    g_free(id);
    daemon_config_auto_save(cmds->saver);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* QOM paths                                                               */

static void add_prop_info(JsonArray *arr, const char *name, const char *type,
                          const char *description)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "type", type);
    if (description) {
        json_object_set_string_member(o, "description", description);
    }
    json_array_add_object_element(arr, o);
}

/* The tunable property @name of an object of @kind, or NULL. */
static const AioParamInfo *param_of_kind(RegistryPathKind kind,
                                         const char *name)
{
    return kind == REGISTRY_PATH_IOTHREAD ? iothread_param_find(name, false) :
           kind == REGISTRY_PATH_MAIN_LOOP ? iothread_param_find(name, true) :
           NULL;
}

static JsonNode *cmd_qom_list(QmpServer *server, JsonObject *args,
                              void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    const char *path = json_object_get_string_member(args, "path");
    RegistryPathKind kind = object_registry_resolve(cmds->reg, path, NULL);
    JsonArray *arr;

    if (kind == REGISTRY_PATH_NONE) {
        return fail_path(error, path);
    }
    arr = json_array_new();
    add_prop_info(arr, "type", "string", NULL);
    if (kind == REGISTRY_PATH_ROOT) {
        add_prop_info(arr, "objects", "child<container>", NULL);
    } else if (kind == REGISTRY_PATH_CONTAINER) {
        guint n;
        IOThread *const *all = object_registry_iothreads(cmds->reg, &n);
        add_prop_info(arr, REGISTRY_MAIN_LOOP_ID, "child<main-loop>", NULL);
        for (guint i = 0; i < n; i++) {
            add_prop_info(arr, iothread_get_id(all[i]), "child<iothread>",
                          NULL);
        }
    } else {
        unsigned props = iothread_param_mask(kind == REGISTRY_PATH_MAIN_LOOP);
        for (int pid = 0; pid < AIO_PARAM_COUNT; pid++) {
            if (props & AIO_PARAM_BIT(pid)) {
                const AioParamInfo *info = aio_param_info(pid);
                add_prop_info(arr, info->name,
                              info->values ? "string" : "int", NULL);
            }
        }
        if (kind == REGISTRY_PATH_IOTHREAD) {
            add_prop_info(arr, CPU_AFFINITY_PROPERTY, "string", NULL);
            add_prop_info(arr, "thread-id", "int",
                          "Linux tid of the iothread (read-only)");
        }
    }
    return node_from_array(arr);
}

static const char *type_of_kind(RegistryPathKind kind)
{
    return kind == REGISTRY_PATH_IOTHREAD ? REGISTRY_TYPE_IOTHREAD :
           kind == REGISTRY_PATH_MAIN_LOOP ? REGISTRY_TYPE_MAIN_LOOP :
           "container";
}

static JsonNode *cmd_qom_get(QmpServer *server, JsonObject *args,
                             void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    const char *path = json_object_get_string_member(args, "path");
    const char *property = json_object_get_string_member(args, "property");
    const char *id;
    RegistryPathKind kind = object_registry_resolve(cmds->reg, path, &id);
    JsonNode *node;
    AioParams params;

    if (kind == REGISTRY_PATH_NONE) {
        return fail_path(error, path);
    }
    if (strcmp(property, "type") == 0) {
        node = json_node_new(JSON_NODE_VALUE);
        json_node_set_string(node, type_of_kind(kind));
        return node;
    }
    IOThread *t = kind == REGISTRY_PATH_IOTHREAD
                  ? object_registry_find_iothread(cmds->reg, id) : NULL;
    if (t && strcmp(property, "thread-id") == 0) {
        node = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(node, iothread_get_thread_id(t));
        return node;
    }
    if (t && strcmp(property, CPU_AFFINITY_PROPERTY) == 0) {
        node = json_node_new(JSON_NODE_VALUE);
        json_node_set_string(node, iothread_get_cpu_affinity(t));
        return node;
    }
    const AioParamInfo *info = param_of_kind(kind, property);
    if (!info) {
        return fail_property(error, type_of_kind(kind), property);
    }
    if (t) {
        iothread_get_params(t, &params);
    } else {
        object_registry_main_loop_params(cmds->reg, &params);
    }
    return param_to_node(info, aio_params_get(&params, info->id));
}

/* qom-set's value of cpu-affinity into @change. */
static bool affinity_from_value(JsonNode *value, ObjectChange *change,
                                GError **error)
{
    if (!JSON_NODE_HOLDS_VALUE(value) ||
        json_node_get_value_type(value) != G_TYPE_STRING) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Invalid parameter type for '%s', expected: string",
                    CPU_AFFINITY_PROPERTY);
        return false;
    }
    change->cpu_affinity = json_node_get_string(value);
    return true;
}

/* qom-set's @property = @value of an object of @kind into @change. */
static bool change_from_property(RegistryPathKind kind, const char *property,
                                 JsonNode *value, ObjectChange *change,
                                 GError **error)
{
    if (kind == REGISTRY_PATH_IOTHREAD &&
        strcmp(property, CPU_AFFINITY_PROPERTY) == 0) {
        return affinity_from_value(value, change, error);
    }
    return change_set_param(change, type_of_kind(kind), property,
                            param_of_kind(kind, property), value, error);
}

static JsonNode *cmd_qom_set(QmpServer *server, JsonObject *args,
                             void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    const char *path = json_object_get_string_member(args, "path");
    const char *property = json_object_get_string_member(args, "property");
    JsonNode *value = json_object_get_member(args, "value");
    const char *id;
    RegistryPathKind kind = object_registry_resolve(cmds->reg, path, &id);
    ObjectChange change = { 0 };

    if (kind == REGISTRY_PATH_NONE) {
        return fail_path(error, path);
    }
    if (strcmp(property, "type") == 0 ||
        (kind == REGISTRY_PATH_IOTHREAD &&
         strcmp(property, "thread-id") == 0)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Property '%s' is read-only", property);
        return NULL;
    }
    if (change_from_property(kind, property, value, &change, error)) {
        set_properties(cmds, id, &change, error);
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* iothreads                                                               */

/* What is in effect for @p: the values standing for something else
 * resolved, and the live state (named as such in the schema). */
static JsonObject *effective_to_json(const AioParams *p, const AioStats *s)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "aio-max-batch",
        aio_params_effective(p, AIO_PARAM_AIO_MAX_BATCH));
    json_object_set_int_member(o, "poll-grow",
        aio_params_effective(p, AIO_PARAM_POLL_GROW));
    json_object_set_int_member(o, "poll-ns", s->poll_ns_current);
    json_object_set_int_member(o, "pool-threads", (gint64)s->pool_threads);
    json_object_set_int_member(o, "pool-idle", (gint64)s->pool_idle);
    json_object_set_int_member(o, "pool-queued", (gint64)s->pool_queued);
    return o;
}

/* The polling times of the handlers in the poll set (PollWindowSummary). */
static JsonObject *poll_window_to_json(const AioStats *s)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "min", s->poll_window_min_ns);
    json_object_set_int_member(o, "median", s->poll_window_median_ns);
    json_object_set_int_member(o, "max", s->poll_window_max_ns);
    return o;
}

static JsonObject *iothread_info_to_json(IOThread *t)
{
    JsonObject *o = json_object_new();
    AioParams p;
    AioStats s;

    iothread_get_params(t, &p);
    iothread_get_stats(t, &s);
    json_object_set_string_member(o, "id", iothread_get_id(t));
    json_object_set_int_member(o, "thread-id", iothread_get_thread_id(t));
    /* Exactly the values set, as qom-get reads them. */
    for (int pid = 0; pid < AIO_PARAM_COUNT; pid++) {
        param_set_member(o, aio_param_info(pid), aio_params_get(&p, pid));
    }
    json_object_set_string_member(o, "backend",
                                  s.fdmon ? s.fdmon : "unknown");
    json_object_set_int_member(o, "poll-ns", s.poll_ns_current);
    json_object_set_string_member(o, CPU_AFFINITY_PROPERTY,
                                  iothread_get_cpu_affinity(t));
    json_object_set_object_member(o, "effective", effective_to_json(&p, &s));
    json_object_set_object_member(o, "poll-window-ns", poll_window_to_json(&s));
    return o;
}

static JsonNode *cmd_query_iothreads(QmpServer *server, JsonObject *args,
                                     void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    JsonArray *arr = json_array_new();
    guint n;
    IOThread *const *all = object_registry_iothreads(cmds->reg, &n);

    for (guint i = 0; i < n; i++) {
        json_array_add_object_element(arr, iothread_info_to_json(all[i]));
    }
    return node_from_array(arr);
}

static JsonNode *cmd_iothread_set(QmpServer *server, JsonObject *args,
                                  void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    const char *id = json_object_get_string_member(args, "id");
    bool main_loop = strcmp(id, REGISTRY_MAIN_LOOP_ID) == 0;
    ObjectChange change;

    if (!main_loop && !object_registry_find_iothread(cmds->reg, id)) {
        return fail_no_iothread(error, id);
    }
    if (!change_from_args(args, main_loop, "id", NULL, &change, error)) {
        return NULL;
    }
    set_properties(cmds, id, &change, error);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Config: the checks --config shares with the commands, config-save and  */
/* --auto-save (the file itself is config.c's)                             */

bool daemon_commands_check_object_add(const QmpSchema *schema,
                                      JsonObject *args, GError **error)
{
    ObjectChange change;

    return qmp_schema_validate_args(schema, "object-add", args, error) &&
           check_object_add(args, &change, error);
}

bool daemon_commands_check_main_loop(const QmpSchema *schema,
                                     JsonObject *args, GError **error)
{
    ObjectChange change;
    GError *cause = NULL;
    AioParams wanted;

    if (!qmp_schema_validate_args(schema, "iothread-set", args, error) ||
        !change_from_args(args, true, "id", NULL, &change, error)) {
        return false;
    }
    aio_params_init_default(&wanted);
    aio_params_merge(&wanted, &change.params);
    if (!aio_params_check(&wanted, &cause)) {
        fail_generic(error, cause);
        return false;
    }
    return true;
}

static JsonNode *cmd_config_save(QmpServer *server, JsonObject *args,
                                 void *opaque, GError **error)
{
    DaemonCommands *cmds = opaque;
    const char *path = json_object_has_member(args, "path")
                       ? json_object_get_string_member(args, "path") : NULL;
    GError *cause = NULL;

    if (!daemon_config_save(cmds->saver, path, &cause)) {
        fail_generic(error, cause);
    }
    return NULL;
}

void daemon_commands_set_config(DaemonCommands *cmds,
                                DaemonConfigSaver *saver)
{
    daemon_config_saver_free(cmds->saver);
    cmds->saver = saver;
}

/* ---------------------------------------------------------------------- */

DaemonCommands *daemon_commands_new(QmpServer *server, ObjectRegistry *reg,
                                    DaemonQuitFunc *quit, void *quit_opaque)
{
    DaemonCommands *cmds = g_new0(DaemonCommands, 1);
    static const struct {
        const char *name;
        QmpCommandHandler *handler;
    } table[] = {
        { "query-version", cmd_query_version },
        { "quit", cmd_quit },
        { "object-add", cmd_object_add },
        { "object-del", cmd_object_del },
        { "qom-list", cmd_qom_list },
        { "qom-get", cmd_qom_get },
        { "qom-set", cmd_qom_set },
        { "query-iothreads", cmd_query_iothreads },
        { "iothread-set", cmd_iothread_set },
        { "config-save", cmd_config_save },
    };

    cmds->server = server;
    cmds->reg = reg;
    cmds->saver = daemon_config_saver_new(reg, NULL, false, NULL, NULL);
    cmds->quit = quit;
    cmds->quit_opaque = quit_opaque;
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        qmp_server_register(server, table[i].name, table[i].handler, cmds);
    }
    cmds->workloads = daemon_workloads_new(server, reg);
    cmds->tunes = daemon_tunes_new(server, reg, cmds, cmds->workloads);
    cmds->stats = daemon_stats_new(server, reg);
    hmp_register(server);
    return cmds;
}

void daemon_commands_free(DaemonCommands *cmds)
{
    if (!cmds) {
        return;
    }
    daemon_tunes_free(cmds->tunes);
    daemon_workloads_free(cmds->workloads);
    daemon_stats_free(cmds->stats);
    daemon_config_saver_free(cmds->saver);
    g_free(cmds);
}

void daemon_commands_object_added(DaemonCommands *cmds, const char *id,
                                  const char *qom_type)
{
    JsonObject *data = json_object_new();
    json_object_set_string_member(data, "id", id);
    json_object_set_string_member(data, "qom-type", qom_type);
    qmp_server_emit_event(cmds->server, "OBJECT_ADDED", data);
}
