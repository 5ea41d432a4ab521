/*
 * Integration test of the tunables on the real iothreadd (argv[1]):
 *  - a refused iothread-set, object-add or qom-set, for every pair of a
 *    valid and an invalid property, leaves every value as it was and sends
 *    no event (the next event is the one of a later accepted change);
 *  - what is set reads back identically through qom-get, query-iothreads
 *    and the event, at each bound; 0 reads back 0 and the value in effect
 *    is in query-iothreads' "effective";
 *  - thread-pool-min workers exist right after the set;
 *  - --object values read back the same way, and a refused --object exits 2;
 *  - where qemu-system-x86_64 is installed, the same transcript gives the
 *    same values, error classes and texts on both.
 * Bad values and their texts are derived from the parameter table (whose
 * texts are QEMU's): below min, or above max where max < INT64_MAX; for an
 * enum-valued parameter (on the wire: its values' names) a name it lacks.
 */
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aioctx/aio.h"
#include "daemon-util.h"
#include "tap.h"

static const char pool_error[] = "bad thread-pool-min/thread-pool-max values";

typedef struct Bad {
    AioParamId id;
    int64_t value;      /* enum-valued: out of range, sent as UNKNOWN_NAME */
} Bad;

#define UNKNOWN_NAME "sometimes"

/* @value of @id as JSON text: the value's name for an enum-valued
 * parameter (UNKNOWN_NAME for one out of range), else the integer. */
static char *wire_value(AioParamId id, int64_t value)
{
    const AioParamInfo *info = aio_param_info(id);

    if (info->values) {
        const char *name = aio_param_value_name(info, value);
        return g_strdup_printf("\"%s\"", name ? name : UNKNOWN_NAME);
    }
    return g_strdup_printf("%" G_GINT64_FORMAT, value);
}

/* A parameter's value from JSON (-1 when it is not one). */
static int64_t value_of_node(AioParamId id, JsonNode *node)
{
    const AioParamInfo *info = aio_param_info(id);
    int64_t v = -1;

    if (!node || !JSON_NODE_HOLDS_VALUE(node)) {
        return -1;
    }
    if (info->values) {
        const char *name = json_node_get_string(node);
        return name && aio_param_value_parse(info, name, &v) ? v : -1;
    }
    return json_node_get_value_type(node) == G_TYPE_INT64
           ? json_node_get_int(node) : -1;
}

/* qom-get of parameter @id of @path (-1 on failure). */
static int64_t qom_get_param(QmpClient *c, const char *path, AioParamId id)
{
    g_autofree char *args = g_strdup_printf(
        "{\"path\": \"%s\", \"property\": \"%s\"}", path,
        aio_param_info(id)->name);
    JsonNode *ret = qx(c, "qom-get", args, NULL, NULL);
    int64_t v = value_of_node(id, ret);

    if (ret) {
        json_node_unref(ret);
    }
    return v;
}

/* Every refused single value of the table: min - 1, and max + 1 where the
 * JSON int64 can hold it. */
static GArray *bad_values(void)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(Bad));

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        Bad below = { id, info->min - 1 };
        if (info->values) {
            g_array_append_val(out, below);     /* one unknown name */
            continue;
        }
        g_array_append_val(out, below);
        if (info->max < INT64_MAX) {
            Bad above = { id, info->max + 1 };
            g_array_append_val(out, above);
        }
    }
    return out;
}

/* The text for a refused single value: QEMU's for a negative value or a
 * pool size, the table's bounds for the others (QEMU has none of those). */
static char *bad_text(const Bad *b)
{
    const AioParamInfo *info = aio_param_info(b->id);

    if (info->values) {
        return g_strdup_printf("Parameter '%s' does not accept value '%s'",
                               info->name, UNKNOWN_NAME);
    }
    if (b->value < 0) {
        return g_strdup_printf("%s value must be in range [0, %"
                               G_GINT64_FORMAT "]", info->name, INT64_MAX);
    }
    if (b->id == AIO_PARAM_THREAD_POOL_MIN ||
        b->id == AIO_PARAM_THREAD_POOL_MAX) {
        return g_strdup(pool_error);
    }
    return g_strdup_printf("%s value must be in range [%" G_GINT64_FORMAT
                           ", %" G_GINT64_FORMAT "]", info->name, info->min,
                           info->max);
}

/* A valid value other than the default. */
static int64_t valid_value(AioParamId id)
{
    return id == AIO_PARAM_THREAD_POOL_MIN ? 1 :
           id == AIO_PARAM_THREAD_POOL_MAX ? 5 :
           id == AIO_PARAM_POLL_MODE ? AIO_POLL_MODE_AUTO :
           id == AIO_PARAM_STATS_DETAIL ? 1 : 1000;
}

/* The parameters of iothread @id from query-iothreads. */
static bool snapshot(QmpClient *c, const char *id, int64_t out[AIO_PARAM_COUNT])
{
    JsonObject *info = find_iothread(c, id);

    if (!info) {
        return false;
    }
    for (int p = 0; p < AIO_PARAM_COUNT; p++) {
        out[p] = value_of_node(p, json_object_get_member(
                                      info, aio_param_info(p)->name));
    }
    json_object_unref(info);
    return true;
}

static void drain_events(QmpClient *c)
{
    JsonNode *ev;

    while ((ev = qmp_client_pop_event(c, 0, NULL))) {
        json_node_unref(ev);
    }
}

/* The next @name event is for @id (and so no refused command before the
 * accepted one that caused it sent one). */
static bool next_event_is_for(QmpClient *c, const char *name, const char *id)
{
    JsonNode *ev = wait_event(c, name, 10000);
    bool match = false;

    if (ev) {
        JsonObject *data = json_object_get_object_member(
            json_node_get_object(ev), "data");
        match = !g_strcmp0(json_object_get_string_member(data, "id"), id);
        json_node_unref(ev);
    }
    return match;
}

static char *pair_args(const char *prefix, AioParamId a, int64_t va,
                       AioParamId b, int64_t vb)
{
    g_autofree char *wa = wire_value(a, va), *wb = wire_value(b, vb);

    return g_strdup_printf("{%s\"%s\": %s, \"%s\": %s}", prefix,
                           aio_param_info(a)->name, wa,
                           aio_param_info(b)->name, wb);
}

/* Run @command on every (valid, invalid) pair; count the ones that were
 * accepted or changed a value of io0. */
static int refused_pairs_change_nothing(QmpClient *c, const char *command,
                                        const char *prefix, int *pairs)
{
    g_autoptr(GArray) bad = bad_values();
    int64_t before[AIO_PARAM_COUNT], now[AIO_PARAM_COUNT];
    int failures = 0;

    snapshot(c, "io0", before);
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        for (guint i = 0; i < bad->len; i++) {
            const Bad *b = &g_array_index(bad, Bad, i);
            if (b->id == (AioParamId)id) {
                continue;
            }
            g_autofree char *args = pair_args(prefix, id, valid_value(id),
                                              b->id, b->value);
            failures += !qx_fails(c, command, args, "GenericError", NULL);
            failures += !snapshot(c, "io0", now) ||
                        memcmp(before, now, sizeof(now)) != 0;
            (*pairs)++;
        }
    }
    return failures;
}

static void test_iothread_set_refused_pairs(QmpClient *c)
{
    int pairs = 0;

    drain_events(c);
    int failures = refused_pairs_change_nothing(c, "iothread-set",
                                                "\"id\": \"io0\", ", &pairs);
    ok(pairs > 0 && failures == 0,
       "iothread-set: %d refused (valid, invalid) pairs changed nothing", pairs);
    qx_ok(c, "qom-set", "{\"path\": \"/objects/io1\", \"property\": "
          "\"poll-grow\", \"value\": 3}");
    ok(next_event_is_for(c, "IOTHREAD_PROPERTY_CHANGED", "io1"),
       "iothread-set: no event for any refused pair");
}

static void test_object_add_refused_pairs(QmpClient *c)
{
    int pairs = 0;

    drain_events(c);
    int failures = refused_pairs_change_nothing(
        c, "object-add", "\"qom-type\": \"iothread\", \"id\": \"nx\", ",
        &pairs);
    JsonObject *nx = find_iothread(c, "nx");
    ok(pairs > 0 && failures == 0 && !nx,
       "object-add: %d refused pairs created nothing", pairs);
    if (nx) {
        json_object_unref(nx);
    }
    qx_ok(c, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"marker\"}");
    ok(next_event_is_for(c, "OBJECT_ADDED", "marker"),
       "object-add: no OBJECT_ADDED for any refused pair");
    qx_ok(c, "object-del", "{\"id\": \"marker\"}");
}

static void test_qom_set_refused_values(QmpClient *c)
{
    g_autoptr(GArray) bad = bad_values();
    int64_t before[AIO_PARAM_COUNT], now[AIO_PARAM_COUNT];

    drain_events(c);
    snapshot(c, "io0", before);
    for (guint i = 0; i < bad->len; i++) {
        const Bad *b = &g_array_index(bad, Bad, i);
        g_autofree char *text = bad_text(b);
        g_autofree char *value = wire_value(b->id, b->value);
        g_autofree char *args = g_strdup_printf(
            "{\"path\": \"/objects/io0\", \"property\": \"%s\", \"value\": %s}",
            aio_param_info(b->id)->name, value);
        g_autofree char *cls = NULL, *desc = NULL;
        JsonNode *ret = qx(c, "qom-set", args, &cls, &desc);
        ok(!ret && !g_strcmp0(cls, "GenericError") && !g_strcmp0(desc, text),
           "qom-set %s = %s: %s", aio_param_info(b->id)->name, value,
           desc ? desc : "(accepted)");
        if (ret) {
            json_node_unref(ret);
        }
    }
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/io0\", \"property\": "
                "\"poll-max-ns\", \"value\": \"x\"}", "GenericError",
                "Invalid parameter type for 'poll-max-ns', expected: integer"),
       "qom-set with a string: QEMU's type error");
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/io0\", \"property\": "
                "\"poll-mode\", \"value\": 1}", "GenericError",
                "Invalid parameter type for 'poll-mode', expected: string"),
       "qom-set of poll-mode with an integer: QEMU's type error");
    ok(qx_fails(c, "qom-set", "{\"path\": \"/objects/io0\", \"property\": "
                "\"nope\", \"value\": 1}", "GenericError",
                "Property 'iothread.nope' not found"),
       "qom-set of an unknown property: QEMU's text");
    ok(snapshot(c, "io0", now) && memcmp(before, now, sizeof(now)) == 0,
       "qom-set: nothing changed");
    qx_ok(c, "qom-set", "{\"path\": \"/objects/io1\", \"property\": "
          "\"poll-grow\", \"value\": 4}");
    ok(next_event_is_for(c, "IOTHREAD_PROPERTY_CHANGED", "io1"),
       "qom-set: no event for any refused value");
}

/* The case of the report: a QEMU-valid pool size with a poll change. */
static void test_large_pool_max_accepted_with_poll(QmpClient *c)
{
    int64_t now[AIO_PARAM_COUNT];

    ok(qx_ok(c, "iothread-set", "{\"id\": \"io0\", \"poll-max-ns\": 1000, "
             "\"thread-pool-max\": 5000000}"),
       "poll-max-ns 1000 + thread-pool-max 5000000 accepted");
    ok(snapshot(c, "io0", now) && now[AIO_PARAM_POLL_MAX_NS] == 1000 &&
       now[AIO_PARAM_THREAD_POOL_MAX] == 5000000, "both read back");
    ok(qx_fails(c, "iothread-set", "{\"id\": \"io0\", \"poll-max-ns\": 7, "
                "\"thread-pool-max\": 2147483648}", "GenericError",
                pool_error), "with thread-pool-max beyond INT_MAX: refused");
    ok(snapshot(c, "io0", now) && now[AIO_PARAM_POLL_MAX_NS] == 1000,
       "poll-max-ns was not stored");
    qx_ok(c, "iothread-set", "{\"id\": \"io0\", \"poll-max-ns\": 32768, "
          "\"thread-pool-max\": 64}");
}

/* qom-set @value on io1; qom-get, query-iothreads and the event (sent
 * exactly when the value changed) all show it. */
static bool reads_back(QmpClient *c, AioParamId id, int64_t value)
{
    const char *name = aio_param_info(id)->name;
    g_autofree char *wire = wire_value(id, value);
    g_autofree char *args = g_strdup_printf(
        "{\"path\": \"/objects/io1\", \"property\": \"%s\", \"value\": %s}",
        name, wire);
    int64_t before[AIO_PARAM_COUNT], now[AIO_PARAM_COUNT];
    bool event_ok;

    drain_events(c);
    if (!snapshot(c, "io1", before) || !qx_ok(c, "qom-set", args) ||
        !snapshot(c, "io1", now)) {
        return false;
    }
    /* The event is queued before the reply that carried the snapshot. */
    JsonNode *ev = qmp_client_pop_event(c, 0, NULL);
    if (before[id] == value) {
        event_ok = ev == NULL;
    } else {
        JsonObject *data = ev ? json_object_get_object_member(
                                    json_node_get_object(ev), "data") : NULL;
        event_ok = data && value_of_node(id, json_object_get_member(
                                                 data, name)) == value;
    }
    if (ev) {
        json_node_unref(ev);
    }
    return event_ok && now[id] == value &&
           qom_get_param(c, "/objects/io1", id) == value;
}

static void test_bounds_read_back(QmpClient *c)
{
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        /* thread-pool-min INT_MAX would start INT_MAX workers. */
        int64_t top = id == AIO_PARAM_THREAD_POOL_MIN ? 2 : info->max;
        ok(reads_back(c, id, info->min) && reads_back(c, id, top) &&
           reads_back(c, id, info->default_value),
           "%s: %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " and the default "
           "read back the same three ways", info->name, info->min, top);
    }
}

static void test_zero_batch_and_effective(QmpClient *c)
{
    ok(qx_ok(c, "iothread-set", "{\"id\": \"io1\", \"aio-max-batch\": 0}"),
       "aio-max-batch 0 set");
    JsonObject *info = find_iothread(c, "io1");
    JsonObject *eff = info && json_object_has_member(info, "effective")
        ? json_object_get_object_member(info, "effective") : NULL;
    ok(info && json_object_get_int_member(info, "aio-max-batch") == 0 &&
       qom_get_int(c, "/objects/io1", "aio-max-batch") == 0,
       "query-iothreads and qom-get both answer 0");
    ok(eff && json_object_get_int_member(eff, "aio-max-batch") ==
              aio_param_info(AIO_PARAM_AIO_MAX_BATCH)->zero_means,
       "effective.aio-max-batch is the engine default");
    if (info) {
        json_object_unref(info);
    }
}

static void test_pool_min_workers_exist(QmpClient *c)
{
    ok(qx_ok(c, "iothread-set", "{\"id\": \"io1\", \"thread-pool-min\": 4, "
             "\"thread-pool-max\": 8}"), "thread-pool-min 4 set");
    JsonObject *info = find_iothread(c, "io1");
    JsonObject *eff = info && json_object_has_member(info, "effective")
        ? json_object_get_object_member(info, "effective") : NULL;
    JsonObject *stats = get_stats(c, "io1", false);
    ok(eff && json_object_get_int_member(eff, "pool-threads") == 4,
       "effective.pool-threads is 4 right after the set");
    ok(stats && json_object_get_int_member(stats, "pool-threads") == 4,
       "query-iothread-stats pool-threads is 4");
    if (info) {
        json_object_unref(info);
    }
    if (stats) {
        json_object_unref(stats);
    }
    qx_ok(c, "iothread-set", "{\"id\": \"io1\", \"thread-pool-min\": 0, "
          "\"thread-pool-max\": 64}");
}

static void test_main_loop_rules(QmpClient *c)
{
    ok(qx_fails(c, "iothread-set", "{\"id\": \"main-loop\", "
                "\"thread-pool-min\": 5, \"thread-pool-max\": 4}",
                "GenericError", pool_error),
       "main-loop: min > max refused with QEMU's text");
    ok(qx_fails(c, "iothread-set", "{\"id\": \"main-loop\", "
                "\"thread-pool-max\": 9, \"poll-max-ns\": 1}", "GenericError",
                "Property 'main-loop.poll-max-ns' not found"),
       "main-loop has no poll-max-ns");
    is_int(qom_get_int(c, "/objects/main-loop", "thread-pool-max"), 64,
           "main-loop's thread-pool-max unchanged");
}

static void test_object_option_round_trip(void)
{
    static const char *const args[] = {
        "--nodefaults", "--object",
        "iothread,id=o1,poll-max-ns=9223372036854775807,poll-grow=0,"
        "poll-shrink=9223372036854775807,aio-max-batch=0,thread-pool-min=0,"
        "thread-pool-max=2147483647,poll-mode=auto,stall-threshold-ns=0,"
        "stats-detail=1", NULL
    };
    static const int64_t want[AIO_PARAM_COUNT] = {
        [AIO_PARAM_POLL_MAX_NS] = INT64_MAX, [AIO_PARAM_POLL_SHRINK] = INT64_MAX,
        [AIO_PARAM_THREAD_POOL_MAX] = INT_MAX, [AIO_PARAM_STATS_DETAIL] = 1,
        [AIO_PARAM_POLL_MODE] = AIO_POLL_MODE_AUTO,
    };
    TestDaemon *d = test_daemon_start(args);
    QmpClient *c = d ? test_connect(d) : NULL;
    int64_t now[AIO_PARAM_COUNT];
    bool same = c && snapshot(c, "o1", now) &&
                memcmp(now, want, sizeof(now)) == 0;

    for (int id = 0; c && id < AIO_PARAM_COUNT; id++) {
        same &= qom_get_param(c, "/objects/o1", id) == want[id];
    }
    ok(same, "--object values read back exactly (query-iothreads, qom-get)");
    if (c) {
        qmp_client_free(c);
    }
    test_daemon_free(d);
}

static void test_object_option_refused(void)
{
    static const char *const args[] = {
        "--nodefaults", "--object",
        "iothread,id=o1,poll-max-ns=5,thread-pool-min=9,thread-pool-max=8",
        NULL
    };
    g_autofree char *out = NULL, *err = NULL;
    int status = test_daemon_run_sync(args, &out, &err);

    ok(status == 2 && err && strstr(err, pool_error),
       "--object with min > max exits 2 naming the problem (%d)", status);
}

/* An enum value the parameter lacks: exit 2 with QEMU's text. */
static void test_object_option_unknown_poll_mode(void)
{
    static const char *const args[] = {
        "--nodefaults", "--object", "iothread,id=o1,poll-mode=sometimes", NULL
    };
    g_autofree char *out = NULL, *err = NULL;
    int status = test_daemon_run_sync(args, &out, &err);

    ok(status == 2 && err &&
       strstr(err, "Parameter 'poll-mode' does not accept value 'sometimes'"),
       "--object poll-mode=sometimes exits 2 naming the value (%d)", status);
}

/* ---------------------------------------------------------------------- */
/* The same transcript on QEMU                                             */

typedef struct Step {
    const char *command;
    const char *args;
} Step;

/* Only steps after which QEMU and we hold the same values (QEMU keeps a
 * refused pool size, so no pool value is read back after a refusal). */
static const Step transcript[] = {
    { "qom-get", "{\"path\": \"/objects/io0\", \"property\": \"aio-max-batch\"}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"poll-max-ns\", \"value\": -1}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"poll-max-ns\", \"value\": 9223372036854775807}" },
    { "qom-get", "{\"path\": \"/objects/io0\", \"property\": \"poll-max-ns\"}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"poll-grow\", \"value\": -5}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"poll-shrink\", \"value\": 9223372036854775807}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"aio-max-batch\", \"value\": -1}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"aio-max-batch\", \"value\": 0}" },
    { "qom-get", "{\"path\": \"/objects/io0\", \"property\": \"aio-max-batch\"}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"thread-pool-min\", \"value\": -1}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"thread-pool-max\", \"value\": 0}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"thread-pool-max\", \"value\": 2147483648}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"thread-pool-min\", \"value\": 2147483648}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"poll-max-ns\", \"value\": \"x\"}" },
    { "qom-set", "{\"path\": \"/objects/io0\", \"property\": \"nope\", \"value\": 1}" },
    { "qom-get", "{\"path\": \"/objects/io0\", \"property\": \"nope\"}" },
    { "object-add", "{\"qom-type\": \"iothread\", \"id\": \"q1\", \"poll-max-ns\": -1}" },
    { "object-add", "{\"qom-type\": \"iothread\", \"id\": \"q1\", \"thread-pool-min\": 5, \"thread-pool-max\": 4}" },
    { "object-add", "{\"qom-type\": \"iothread\", \"id\": \"q1\", \"thread-pool-max\": 2147483648}" },
    { "object-add", "{\"qom-type\": \"iothread\", \"id\": \"q1\", \"poll-max-ns\": 9223372036854775807, \"poll-grow\": 9223372036854775807, \"aio-max-batch\": 9223372036854775807, \"thread-pool-max\": 2147483647}" },
    { "qom-get", "{\"path\": \"/objects/q1\", \"property\": \"aio-max-batch\"}" },
    { "qom-get", "{\"path\": \"/objects/q1\", \"property\": \"thread-pool-max\"}" },
    { "query-iothreads", NULL },
};

/* g_ptr_array_sort passes pointers to the elements. */
static gint compare_lines(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "return <json>" or "<class>: <desc>"; query-iothreads reduced to QEMU's
 * members (no thread-id), sorted by id. */
static char *step_outcome(QmpClient *c, const Step *s)
{
    g_autofree char *cls = NULL, *desc = NULL;
    JsonNode *ret = qx(c, s->command, s->args, &cls, &desc);

    if (!ret) {
        return g_strdup_printf("%s: %s", cls ? cls : "?", desc ? desc : "?");
    }
    GString *text = g_string_new("return ");
    if (JSON_NODE_HOLDS_ARRAY(ret)) {
        JsonArray *arr = json_node_get_array(ret);
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            JsonObject *o = json_array_get_object_element(arr, i);
            GString *l = g_string_new(json_object_get_string_member(o, "id"));
            for (int id = 0; id < AIO_PARAM_AIO_MAX_BATCH + 1; id++) {
                const char *name = aio_param_info(id)->name;
                g_string_append_printf(l, " %s=%" G_GINT64_FORMAT, name,
                                       json_object_get_int_member(o, name));
            }
            g_ptr_array_add(lines, g_string_free(l, FALSE));
        }
        g_ptr_array_sort(lines, compare_lines);
        for (guint i = 0; i < lines->len; i++) {
            g_string_append_printf(text, "[%s]",
                                   (char *)g_ptr_array_index(lines, i));
        }
        g_ptr_array_free(lines, TRUE);
    } else {
        g_autofree char *json = json_to_string(ret, FALSE);
        g_string_append(text, json);
    }
    json_node_unref(ret);
    return g_string_free(text, FALSE);
}

/* QEMU on a socket in @dir; NULL (diag) if it did not come up. */
static QmpClient *qemu_start(const char *qemu, const char *dir, GPid *pid)
{
    g_autofree char *sock = g_build_filename(dir, "qemu.sock", NULL);
    g_autofree char *qmp = g_strdup_printf("unix:%s,server=on,wait=off", sock);
    g_autofree char *addr = g_strdup_printf("unix:%s", sock);
    const char *argv[] = {
        qemu, "-machine", "none", "-nodefaults", "-display", "none",
        "-object", "iothread,id=io0", "-qmp", qmp, NULL
    };
    g_autoptr(GError) err = NULL;

    /* Not reaped by GLib: we wait for it ourselves, so its pid stays ours
     * until then. */
    if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                       NULL, NULL, pid, &err)) {
        diag("cannot start %s: %s", qemu, err->message);
        return NULL;
    }
    /* A deadline against a hang only: QEMU needs well under a second. */
    for (int i = 0; i < 600; i++) {
        QmpClient *c = qmp_client_connect(addr, NULL);
        if (c) {
            return c;
        }
        g_usleep(50 * 1000);
    }
    diag("qemu did not open %s", sock);
    return NULL;
}

/* Wait for QEMU to leave after quit; kill it if it has not within 10 s
 * (a deadline against a hang only).  Reaps it either way. */
static void qemu_stop(GPid pid)
{
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            g_spawn_close_pid(pid);
            return;
        }
        g_usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
}

static void test_same_transcript_as_qemu(QmpClient *ours)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *dir = NULL;
    GPid pid = 0;

    if (!qemu) {
        skip(1, "qemu-system-x86_64 not installed");
        return;
    }
    dir = g_dir_make_tmp("tunables-qemu-XXXXXX", NULL);
    QmpClient *ref = dir ? qemu_start(qemu, dir, &pid) : NULL;
    int differ = 0;

    qx_ok(ours, "object-del", "{\"id\": \"io1\"}");
    for (size_t i = 0; ref && i < G_N_ELEMENTS(transcript); i++) {
        g_autofree char *want = step_outcome(ref, &transcript[i]);
        g_autofree char *got = step_outcome(ours, &transcript[i]);
        if (strcmp(want, got) != 0) {
            diag("%s %s\n#   qemu: %s\n#   ours: %s", transcript[i].command,
                 transcript[i].args ? transcript[i].args : "", want, got);
            differ++;
        }
    }
    ok(ref && differ == 0, "%zu steps give the same answers as QEMU",
       G_N_ELEMENTS(transcript));
    if (ref) {
        qx_ok(ref, "quit", NULL);
        qmp_client_free(ref);
    }
    if (pid) {
        qemu_stop(pid);
    }
    if (dir) {
        g_autofree char *sock = g_build_filename(dir, "qemu.sock", NULL);
        unlink(sock);
        rmdir(dir);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    TestDaemon *d = test_daemon_start(NULL);
    QmpClient *c = d ? test_connect(d) : NULL;

    if (!ok(c != NULL, "daemon up with io0 and io1")) {
        test_daemon_free(d);
        return done_testing();
    }
    test_iothread_set_refused_pairs(c);
    test_object_add_refused_pairs(c);
    test_qom_set_refused_values(c);
    test_large_pool_max_accepted_with_poll(c);
    test_bounds_read_back(c);
    test_zero_batch_and_effective(c);
    test_pool_min_workers_exist(c);
    test_main_loop_rules(c);
    test_same_transcript_as_qemu(c);
    qmp_client_free(c);
    test_daemon_free(d);
    test_object_option_round_trip();
    test_object_option_refused();
    test_object_option_unknown_poll_mode();
    return done_testing();
}
