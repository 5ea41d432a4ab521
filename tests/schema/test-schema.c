/*
 * Unit tests of schema/: the embedded schema loads and documents every
 * entry, argument validation names the member for each kind of error,
 * introspection has QEMU's SchemaInfo shape with every reference resolved,
 * and a type's member is found by name.
 */
#include <string.h>

#include "schema.h"
#include "tap.h"

static const char *const expected_commands[] = {
    "qmp_capabilities", "query-version", "query-commands", "query-qmp-schema",
    "quit", "object-add", "object-del", "qom-list", "qom-get", "qom-set",
    "query-iothreads", "iothread-set", "query-iothread-stats",
    "human-monitor-command", "workload-add", "workload-del",
    "query-workloads", "iothread-tune", "query-tune",
    "iothread-tune-cancel", "config-save", "x-debug-stall",
    "x-debug-stall-release", NULL
};

static JsonObject *parse_object(const char *json)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, json, -1, NULL)) {
        return NULL;
    }
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

/* Validate @args (JSON text) for @cmd; expect success when @want_error is
 * NULL, else an error whose message equals @want_error. */
static void check(const QmpSchema *s, const char *cmd, const char *args,
                  const char *want_error)
{
    g_autoptr(JsonObject) obj = args ? parse_object(args) : NULL;
    g_autoptr(GError) err = NULL;
    bool r = qmp_schema_validate_args(s, cmd, obj, &err);
    if (!want_error) {
        if (!ok(r, "%s %s accepted", cmd, args ? args : "(none)")) {
            diag("error: %s", err->message);
        }
    } else if (!ok(!r && !strcmp(err->message, want_error), "%s %s -> %s",
                   cmd, args ? args : "(none)", want_error)) {
        diag("got: %s", r ? "(accepted)" : err->message);
    }
}

static void test_validation(const QmpSchema *s)
{
    check(s, "query-version", NULL, NULL);
    check(s, "query-version", "{}", NULL);
    check(s, "query-version", "{\"foo\": 1}", "Parameter 'foo' is unexpected");
    check(s, "object-add", "{\"qom-type\": \"iothread\", \"id\": \"io1\"}",
          NULL);
    check(s, "object-add",
          "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": 0,"
          " \"poll-grow\": 4294967296, \"poll-shrink\": 2,"
          " \"aio-max-batch\": 0, \"thread-pool-min\": 0,"
          " \"thread-pool-max\": 1}", NULL);
    check(s, "object-add", "{\"qom-type\": \"iothread\"}",
          "Parameter 'id' is missing");
    check(s, "object-add", "{\"id\": \"io1\"}",
          "Parameter 'qom-type' is missing");
    check(s, "object-add", "{\"qom-type\": \"memory\", \"id\": \"io1\"}",
          "Parameter 'qom-type' does not accept value 'memory'");
    check(s, "object-add", "{\"qom-type\": 7, \"id\": \"io1\"}",
          "Invalid parameter type for 'qom-type', expected: string");
    check(s, "object-add",
          "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": \"1\"}",
          "Invalid parameter type for 'poll-max-ns', expected: integer");
    check(s, "object-add",
          "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": 1.5}",
          "Invalid parameter type for 'poll-max-ns', expected: integer");
    check(s, "object-add",
          "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": null}",
          "Invalid parameter type for 'poll-max-ns', expected: integer");
    /* The tunables' ranges are the daemon's parameter table's (QEMU's
     * texts, combinations judged whole), not the schema's. */
    check(s, "object-add",
          "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max-ns\": -1,"
          " \"thread-pool-max\": 0}", NULL);
    check(s, "object-add",
          "{\"qom-type\": \"iothread\", \"id\": \"io1\", \"poll-max\": 5}",
          "Parameter 'poll-max' is unexpected");
    check(s, "object-add", "{\"qom-type\": \"iothread\", \"id\": true}",
          "Invalid parameter type for 'id', expected: string");
    check(s, "iothread-set", "{\"id\": \"io1\", \"thread-pool-min\": 4,"
          " \"thread-pool-max\": 8}", NULL);
    check(s, "iothread-set", "{\"thread-pool-min\": 4}",
          "Parameter 'id' is missing");
    check(s, "iothread-set", "{\"id\": \"io1\", \"aio-max-batch\": -3}",
          NULL);
    check(s, "qom-set", "{\"path\": \"/objects/io1\", \"property\": \"x\","
          " \"value\": {\"a\": [1, null]}}", NULL);
    check(s, "qom-set", "{\"path\": \"/objects/io1\", \"property\": \"x\"}",
          "Parameter 'value' is missing");
    check(s, "query-iothread-stats", "{\"reset\": 1}",
          "Invalid parameter type for 'reset', expected: boolean");
    check(s, "query-iothread-stats", "{\"id\": \"io0\", \"reset\": true}",
          NULL);
    check(s, "qmp_capabilities", "{\"enable\": []}", NULL);
    check(s, "qmp_capabilities", "{\"enable\": \"oob\"}",
          "Invalid parameter type for 'enable', expected: array");
    check(s, "qmp_capabilities", "{\"enable\": [\"oob\"]}",
          "Parameter 'enable[0]' does not accept value 'oob'");
    check(s, "qmp_capabilities", "{\"enable\": [1]}",
          "Invalid parameter type for 'enable[0]', expected: string");

    g_autoptr(GError) err = NULL;
    ok(!qmp_schema_validate_args(s, "no-such-command", NULL, &err) && err,
       "validating an unknown command fails");
}

/* Integer ranges declared in a schema: both wordings. */
/* Check reply @ret (JSON text, NULL = none) of @cmd; as check(). */
static void check_return(const QmpSchema *s, const char *cmd, const char *ret,
                         const char *want_error)
{
    g_autoptr(JsonNode) node = ret ? json_from_string(ret, NULL) : NULL;
    g_autoptr(GError) err = NULL;
    bool r = qmp_schema_validate_return(s, cmd, node, &err);

    if (!want_error) {
        if (!ok(r, "reply of %s %s accepted", cmd, ret ? ret : "(none)")) {
            diag("error: %s", err->message);
        }
    } else if (!ok(!r && !strcmp(err->message, want_error),
                   "reply of %s %s -> %s", cmd, ret ? ret : "(none)",
                   want_error)) {
        diag("got: %s", r ? "(accepted)" : err->message);
    }
}

static void test_reply_validation(const QmpSchema *s)
{
    check_return(s, "query-version",
                 "{\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0},"
                 " \"package\": \"x\"}", NULL);
    check_return(s, "query-version", "{\"package\": \"x\"}",
                 "Parameter 'return.qemu' is missing");
    check_return(s, "query-version",
                 "{\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0},"
                 " \"package\": \"x\", \"extra\": 1}",
                 "Parameter 'return.extra' is unexpected");
    check_return(s, "query-iothreads", "[]", NULL);
    check_return(s, "query-iothreads", "{}",
                 "Invalid parameter type for 'return', expected: array");
    check_return(s, "quit", NULL, NULL);
    check_return(s, "qom-get", "42", NULL);
    check_return(s, "no-such-command", NULL,
                 "The command no-such-command has not been found");
}

static void test_event_validation(const QmpSchema *s)
{
    g_autoptr(JsonObject) good = parse_object("{\"id\": \"io0\"}");
    g_autoptr(JsonObject) bad = parse_object("{\"id\": 1}");
    g_autoptr(GError) err = NULL;

    ok(qmp_schema_validate_event(s, "OBJECT_DELETED", good, NULL),
       "OBJECT_DELETED {id: str} accepted");
    ok(!qmp_schema_validate_event(s, "OBJECT_DELETED", bad, &err) &&
       !strcmp(err->message,
               "Invalid parameter type for 'data.id', expected: string"),
       "OBJECT_DELETED {id: 1} refused naming data.id");
    g_clear_error(&err);
    ok(!qmp_schema_validate_event(s, "query-version", NULL, &err),
       "a command is not an event");
}

static void test_ranges(void)
{
    static const char text[] =
        "{\"entries\": [{\"command\": \"c\", \"data\": {"
        "\"*n\": {\"type\": \"int\", \"min\": 0, \"max\": 9223372036854775807},"
        "\"*m\": {\"type\": \"int\", \"min\": 1, \"max\": 2147483647}},"
        " \"doc\": \"d\"}]}";
    g_autoptr(GError) err = NULL;
    QmpSchema *s = qmp_schema_load_from_data(text, -1, &err);

    if (!ok(s != NULL, "a schema with ranged members loads")) {
        diag("%s", err->message);
        return;
    }
    check(s, "c", "{\"n\": -1}", "Parameter 'n' expects a non-negative integer");
    check(s, "c", "{\"m\": 0}",
          "Parameter 'm' expects an integer in the range [1, 2147483647]");
    check(s, "c", "{\"n\": 0, \"m\": 2147483647}", NULL);
    qmp_schema_free(s);
}

static void test_load_errors(void)
{
    static const struct {
        const char *json;
        const char *what;
    } bad[] = {
        { "{", "not JSON" },
        { "[]", "no entries" },
        { "{\"entries\": [{\"command\": \"x\"}]}", "no doc" },
        { "{\"entries\": [{\"command\": \"x\", \"data\": {\"a\": \"nope\"},"
          " \"doc\": \"d\"}]}", "unknown type" },
        { "{\"entries\": [{\"command\": \"x\", \"doc\": \"d\"},"
          " {\"command\": \"x\", \"doc\": \"d\"}]}", "duplicate" },
        { "{\"entries\": [{\"command\": \"x\", \"data\": {\"a\": "
          "{\"type\": \"str\", \"min\": 0}}, \"doc\": \"d\"}]}",
          "range on a str" },
        { "{\"entries\": [{\"frobnicate\": \"x\", \"doc\": \"d\"}]}",
          "unknown entry kind" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        QmpSchema *s = qmp_schema_load_from_data(bad[i].json, -1, &err);
        ok(!s && err, "load refuses a schema with %s (%s)", bad[i].what,
           err ? err->message : "no error");
        qmp_schema_free(s);
    }
    const char *good = "{\"entries\": [{\"command\": \"later\", \"data\": "
                       "{\"t\": \"Fwd\"}, \"doc\": \"d\"}, {\"struct\": \"Fwd\","
                       " \"data\": {\"x\": \"int\"}, \"doc\": \"d\"}]}";
    g_autoptr(GError) err = NULL;
    QmpSchema *s = qmp_schema_load_from_data(good, -1, &err);
    ok(s != NULL, "forward references load");
    if (s) {
        check(s, "later", "{\"t\": {\"x\": 1, \"y\": 2}}",
              "Parameter 't.y' is unexpected");
        check(s, "later", "{\"t\": {}}", "Parameter 't.x' is missing");
    }
    qmp_schema_free(s);
}

static JsonObject *find_info(JsonArray *arr, const char *name)
{
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        if (!strcmp(json_object_get_string_member(o, "name"), name)) {
            return o;
        }
    }
    return NULL;
}

static bool has_member(JsonObject *info, const char *name, bool *optional)
{
    JsonArray *members = json_object_get_array_member(info, "members");
    for (guint i = 0; members && i < json_array_get_length(members); i++) {
        JsonObject *m = json_array_get_object_element(members, i);
        if (!strcmp(json_object_get_string_member(m, "name"), name)) {
            if (optional) {
                *optional = json_object_has_member(m, "default");
            }
            return true;
        }
    }
    return false;
}

static void test_introspection(const QmpSchema *s)
{
    g_autoptr(JsonNode) node = qmp_schema_introspect(s);
    ok(JSON_NODE_HOLDS_ARRAY(node), "introspection is an array");
    JsonArray *arr = json_node_get_array(node);

    /* Every reference names an entity that is in the answer. */
    int dangling = 0, bad_meta = 0;
    static const char *const metas[] = {
        "builtin", "enum", "array", "object", "command", "event", NULL
    };
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *meta = json_object_get_string_member(o, "meta-type");
        if (!meta || !g_strv_contains(metas, meta)) {
            bad_meta++;
        }
        static const char *const refs[] = {
            "arg-type", "ret-type", "element-type", NULL
        };
        for (int r = 0; refs[r]; r++) {
            const char *t = json_object_get_string_member_with_default(
                o, refs[r], NULL);
            if (t && !find_info(arr, t)) {
                diag("%s: %s '%s' dangles",
                     json_object_get_string_member(o, "name"), refs[r], t);
                dangling++;
            }
        }
        JsonArray *members = json_object_has_member(o, "members") &&
                             !strcmp(meta, "object")
                             ? json_object_get_array_member(o, "members")
                             : NULL;
        for (guint m = 0; members && m < json_array_get_length(members);
             m++) {
            const char *t = json_object_get_string_member(
                json_array_get_object_element(members, m), "type");
            if (!find_info(arr, t)) {
                dangling++;
            }
        }
    }
    is_int(bad_meta, 0, "every entity has a known meta-type");
    is_int(dangling, 0, "every type reference resolves");

    for (int i = 0; expected_commands[i]; i++) {
        JsonObject *c = find_info(arr, expected_commands[i]);
        ok(c && !strcmp(json_object_get_string_member(c, "meta-type"),
                        "command") &&
           json_object_has_member(c, "arg-type") &&
           json_object_has_member(c, "ret-type"),
           "command %s introspected with arg-type and ret-type",
           expected_commands[i]);
    }
    static const char *const events[] = {
        "OBJECT_ADDED", "OBJECT_DELETED", "IOTHREAD_PROPERTY_CHANGED", NULL
    };
    for (int i = 0; events[i]; i++) {
        JsonObject *e = find_info(arr, events[i]);
        ok(e && !strcmp(json_object_get_string_member(e, "meta-type"),
                        "event"), "event %s introspected", events[i]);
    }

    JsonObject *oa = find_info(arr, "object-add");
    JsonObject *opts = find_info(arr, json_object_get_string_member(oa,
                                                                    "arg-type"));
    ok(opts && !g_strcmp0(json_object_get_string_member_with_default(
                             opts, "tag", NULL), "qom-type") &&
       json_array_get_length(json_object_get_array_member(opts,
                                                          "variants")) == 1,
       "object-add's arguments: a union tagged by qom-type");
    JsonObject *variant = json_array_get_object_element(
        json_object_get_array_member(opts, "variants"), 0);
    JsonObject *props = find_info(arr, json_object_get_string_member(variant,
                                                                     "type"));
    bool optional = false;
    ok(!strcmp(json_object_get_string_member(variant, "case"), "iothread") &&
       props && has_member(props, "poll-max-ns", &optional) && optional &&
       has_member(props, "thread-pool-max", NULL),
       "the iothread variant has the optional properties");

    JsonObject *qi = find_info(arr, "query-iothreads");
    JsonObject *ret = find_info(arr, json_object_get_string_member(qi,
                                                                   "ret-type"));
    ok(ret && !strcmp(json_object_get_string_member(ret, "meta-type"), "array")
       && !strcmp(json_object_get_string_member(ret, "element-type"),
                  "IOThreadInfo"), "query-iothreads returns [IOThreadInfo]");
    JsonObject *info = find_info(arr, "IOThreadInfo");
    static const char *const info_members[] = {
        "id", "thread-id", "poll-max-ns", "poll-grow", "poll-shrink",
        "aio-max-batch", "backend", "thread-pool-min", "thread-pool-max",
        "poll-ns", NULL
    };
    int missing = 0;
    for (int i = 0; info_members[i]; i++) {
        missing += !has_member(info, info_members[i], &optional) || optional;
    }
    is_int(missing, 0, "IOThreadInfo has QEMU's members + backend, pool, "
           "poll-ns, all required");
    JsonObject *stats = find_info(arr, "AioContextStats");
    is_int(stats ? json_array_get_length(json_object_get_array_member(
                       stats, "members")) : 0, 31 + 3,
           "AioContextStats has one member per AioStats field reported "
           "(30), stalls, and per AioContextHistograms histogram (3)");

    JsonObject *i = find_info(arr, "int");
    ok(i && !strcmp(json_object_get_string_member(i, "meta-type"), "builtin")
       && !strcmp(json_object_get_string_member(i, "json-type"), "int"),
       "builtin int has json-type int");
    JsonObject *ot = find_info(arr, "ObjectType");
    ok(ot && json_array_get_length(json_object_get_array_member(ot, "values"))
       == 1, "enum ObjectType lists its values");
    JsonObject *qv = find_info(arr, "query-version");
    JsonObject *noargs = find_info(arr, json_object_get_string_member(
                                            qv, "arg-type"));
    ok(noargs && json_array_get_length(json_object_get_array_member(
                     noargs, "members")) == 0,
       "a command without arguments has an empty object arg-type");
}

/* qmp_schema_type_member_find(): a member by its name (an optional one
 * without its '*'), with its type and features; false for a name the
 * type lacks and for a type that is no object. */
static void test_type_member_find(const QmpSchema *s)
{
    QmpSchemaMemberInfo m;

    ok(qmp_schema_type_member_find(s, "AioContextStats", "pool-threads", &m) &&
       !strcmp(m.name, "pool-threads") && !strcmp(m.type, "int") &&
       g_strv_contains(m.features, "gauge"),
       "pool-threads is found, an int marked gauge");
    ok(qmp_schema_type_member_find(s, "AioContextStats", "stalls", &m) &&
       !strcmp(m.name, "stalls") && !g_strv_contains(m.features, "gauge"),
       "the optional stalls is found by its bare name, unmarked");
    ok(!qmp_schema_type_member_find(s, "AioContextStats", "no-such", &m),
       "a name the type lacks is not found");
    ok(!qmp_schema_type_member_find(s, "int", "pool-threads", &m),
       "a builtin type has no members");
}

int main(void)
{
    g_autoptr(GError) err = NULL;
    QmpSchema *s = qmp_schema_load_embedded(&err);
    if (!ok(s != NULL, "the embedded schema loads")) {
        diag("%s", err->message);
        return done_testing();
    }

    const char *const *names = qmp_schema_command_names(s);
    is_int(g_strv_length((char **)names),
           g_strv_length((char **)expected_commands),
           "exactly the expected commands' number");
    for (int i = 0; expected_commands[i]; i++) {
        ok(qmp_schema_has_command(s, expected_commands[i]) &&
           qmp_schema_doc(s, expected_commands[i]),
           "command %s exists and is documented", expected_commands[i]);
    }
    ok(!qmp_schema_has_command(s, "OBJECT_ADDED"),
       "an event is not a command");
    ok(qmp_schema_doc(s, "IOThreadInfo") && qmp_schema_doc(s, "OBJECT_ADDED"),
       "types and events are documented");
    ok(qmp_schema_doc(s, "nonexistent") == NULL, "no doc for unknown names");

    test_validation(s);
    test_reply_validation(s);
    test_event_validation(s);
    test_ranges();
    test_load_errors();
    test_introspection(s);
    test_type_member_find(s);
    qmp_schema_free(s);
    return done_testing();
}
