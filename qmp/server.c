/*
 * The QMP server: the command table, request checking and dispatch
 * (qmp-spec: negotiation mode, id echo, error classes, read-only
 * sockets), the built-in commands and event broadcast.  Listening lives
 * in server-listen.c, connection I/O in server-conn.c.
 */
#include "server-internal.h"
#include "json-writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

G_DEFINE_QUARK(qmp-error-quark, qmp_error)

const char *qmp_error_class_name(QmpErrorClass cls)
{
    switch (cls) {
    case QMP_ERROR_COMMAND_NOT_FOUND:
        return "CommandNotFound";
    case QMP_ERROR_DEVICE_NOT_FOUND:
        return "DeviceNotFound";
    case QMP_ERROR_GENERIC:
    default:
        return "GenericError";
    }
}

/* ---------------------------------------------------------------------- */
/* Replies                                                                 */

/* Send the reply object { @key: @value, "id": @id } (no "id" when @id is
 * NULL), members in QEMU's order (json-writer.h). */
static void send_object(QmpConn *conn, const char *key, JsonNode *value,
                        JsonNode *id)
{
    const char *names[] = { key, "id" };
    JsonNode *values[] = { value, id };
    GString *s = g_string_sized_new(128);
    qmp_json_write_members(s, id ? 2 : 1, names, values);
    qmp_conn_send(conn, s->str, s->len);
    g_string_free(s, TRUE);
}

static void send_reply(QmpConn *conn, JsonNode *ret, JsonNode *id)
{
    g_autoptr(JsonNode) empty = NULL;
    if (!ret) {
        empty = json_node_init_object(json_node_alloc(), NULL);
        json_node_take_object(empty, json_object_new());
        ret = empty;
    }
    send_object(conn, "return", ret, id);
}

static void send_error(QmpConn *conn, QmpErrorClass cls, const char *desc,
                       JsonNode *id)
{
    /* Descs quote client text (member and command names, json-glib's parse
     * errors), which may be invalid UTF-8: the writer makes it U+FFFD. */
    g_autoptr(JsonObject) err = json_object_new();
    json_object_set_string_member(err, "class", qmp_error_class_name(cls));
    json_object_set_string_member(err, "desc", desc);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), err);
    send_object(conn, "error", node, id);
}

static void send_gerror(QmpConn *conn, const GError *err, JsonNode *id)
{
    QmpErrorClass cls = err->domain == QMP_ERROR ? (QmpErrorClass)err->code
                                                 : QMP_ERROR_GENERIC;
    send_error(conn, cls, err->message, id);
}

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                */

/* qmp-spec: a command message has "execute" (a string), optional
 * "arguments" (an object) and optional "id" (any value), nothing else.
 * Returns QEMU's text for the first violation, or NULL. */
static char *command_shape_error(JsonObject *req)
{
    JsonObjectIter iter;
    const char *key;
    JsonNode *member;

    json_object_iter_init(&iter, req);
    while (json_object_iter_next(&iter, &key, &member)) {
        if (strcmp(key, "execute") && strcmp(key, "arguments") &&
            strcmp(key, "id")) {
            return g_strdup_printf("QMP input member '%s' is unexpected", key);
        }
    }
    JsonNode *exec = json_object_get_member(req, "execute");
    if (!exec) {
        return g_strdup("QMP input lacks member 'execute'");
    }
    if (json_node_get_value_type(exec) != G_TYPE_STRING) {
        return g_strdup("QMP input member 'execute' must be a string");
    }
    JsonNode *args_node = json_object_get_member(req, "arguments");
    if (args_node && !JSON_NODE_HOLDS_OBJECT(args_node)) {
        return g_strdup("QMP input member 'arguments' must be an object");
    }
    return NULL;
}

/* Capabilities negotiation comes first and once: QEMU's refusals. */
static bool negotiation_allows(QmpConn *conn, bool is_caps, JsonNode *id)
{
    if (!conn->negotiated && !is_caps) {
        send_error(conn, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Expecting capabilities negotiation with "
                   "'qmp_capabilities'", id);
        return false;
    }
    if (conn->negotiated && is_caps) {
        send_error(conn, QMP_ERROR_COMMAND_NOT_FOUND,
                   "Capabilities negotiation is already complete, command "
                   "ignored", id);
        return false;
    }
    return true;
}

/* qmp_capabilities: validation refuses any capability (none is offered). */
static void negotiate(QmpConn *conn, JsonObject *args, JsonNode *id)
{
    g_autoptr(GError) err = NULL;

    if (!qmp_schema_validate_args(conn->server->schema, "qmp_capabilities",
                                  args, &err)) {
        send_gerror(conn, err, id);
        return;
    }
    conn->negotiated = true;
    send_reply(conn, NULL, id);
}

/* A read-only socket refuses every known command that may change
 * something (unknown ones stay CommandNotFound). */
static bool readonly_allows(QmpConn *conn, const char *name, JsonNode *id)
{
    QmpListener *l = conn->listener;

    if (!l || !l->addr.readonly || qmp_address_readonly_allows(name) ||
        !qmp_schema_has_command(conn->server->schema, name)) {
        return true;
    }
    g_autofree char *desc = g_strdup_printf("command '%s' is not allowed on "
                                            "read-only socket %s", name,
                                            l->name);
    send_error(conn, QMP_ERROR_GENERIC, desc, id);
    return false;
}

static void dispatch(QmpConn *conn, JsonObject *req, JsonNode *id)
{
    g_autofree char *shape_error = command_shape_error(req);
    if (shape_error) {
        send_error(conn, QMP_ERROR_GENERIC, shape_error, id);
        return;
    }
    const char *name = json_object_get_string_member(req, "execute");
    bool is_caps = !strcmp(name, "qmp_capabilities");
    if (!negotiation_allows(conn, is_caps, id)) {
        return;
    }
    JsonNode *args_node = json_object_get_member(req, "arguments");
    g_autoptr(JsonObject) empty = args_node ? NULL : json_object_new();
    JsonObject *args = args_node ? json_node_get_object(args_node) : empty;
    if (is_caps) {
        negotiate(conn, args, id);
        return;
    }
    if (!readonly_allows(conn, name, id)) {
        return;
    }
    g_autoptr(GError) err = NULL;
    JsonNode *ret = qmp_server_execute(conn->server, name, args, &err);
    if (err) {
        send_gerror(conn, err, id);
    } else {
        send_reply(conn, ret, id);
    }
    if (ret) {
        json_node_unref(ret);
    }
}

/* Schema-check mode: a reply that is not what the schema promises becomes
 * an error naming the mismatch, so the test that provoked it fails. */
static JsonNode *check_return(QmpServer *server, const char *name,
                              JsonNode *ret, GError **error)
{
    g_autoptr(GError) mismatch = NULL;

    if (qmp_schema_validate_return(server->schema, name, ret, &mismatch)) {
        return ret;
    }
    g_warning("qmp: reply to '%s' does not match the schema: %s", name,
              mismatch->message);
    g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                "reply to '%s' does not match the schema: %s", name,
                mismatch->message);
    if (ret) {
        json_node_unref(ret);
    }
    return NULL;
}

JsonNode *qmp_server_execute(QmpServer *server, const char *name,
                             JsonObject *args, GError **error)
{
    QmpCommand *cmd = g_hash_table_lookup(server->commands, name);
    if (!cmd || !qmp_schema_has_command(server->schema, name)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND,
                    "The command %s has not been found", name);
        return NULL;
    }
    if (!qmp_schema_validate_args(server->schema, name, args, error)) {
        return NULL;
    }
    JsonNode *ret = cmd->handler(server, args, cmd->opaque, error);
    if (server->check_schema && !(error && *error)) {
        ret = check_return(server, name, ret, error);
    }
    return ret;
}

/* What json-glib accepts but no reply could echo as JSON: numbers beyond
 * double range (1e400 parses as inf and would be written back as "inf.0")
 * and strings that are not UTF-8 (raw bytes or lone surrogate escapes;
 * json_check refuses both before parsing, checked again here because a
 * reply built from such a string would not be JSON).
 * Returns a desc for the error, or NULL when @node is clean. */
static const char *json_tree_problem(JsonNode *node)
{
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
        JsonObjectIter iter;
        const char *key;
        JsonNode *member;
        json_object_iter_init(&iter, json_node_get_object(node));
        while (json_object_iter_next(&iter, &key, &member)) {
            if (!g_utf8_validate(key, -1, NULL)) {
                return "JSON parse error, a member name is not valid UTF-8";
            }
            const char *problem = json_tree_problem(member);
            if (problem) {
                return problem;
            }
        }
        return NULL;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *arr = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            const char *problem =
                json_tree_problem(json_array_get_element(arr, i));
            if (problem) {
                return problem;
            }
        }
        return NULL;
    }
    case JSON_NODE_VALUE:
        if (json_node_get_value_type(node) == G_TYPE_STRING &&
            !g_utf8_validate(json_node_get_string(node), -1, NULL)) {
            return "JSON parse error, a string is not valid UTF-8";
        }
        if (json_node_get_value_type(node) == G_TYPE_DOUBLE &&
            !isfinite(json_node_get_double(node))) {
            return "JSON parse error, a number is out of range";
        }
        return NULL;
    default:
        return NULL;
    }
}

/* json-glib keeps the last of duplicate member names; QEMU refuses the
 * message.  Each "object-member" signal arrives after the member was
 * stored, so an object that has seen more members than it holds had a
 * duplicate.  @members_seen counts per object (pointer keys). */
typedef struct {
    GHashTable *members_seen;
    bool duplicate;
} DuplicateCheck;

static void on_object_member(JsonParser *parser, JsonObject *obj,
                             const char *name, gpointer opaque)
{
    DuplicateCheck *dc = opaque;
    guint seen = GPOINTER_TO_UINT(g_hash_table_lookup(dc->members_seen,
                                                      obj)) + 1;
    g_hash_table_insert(dc->members_seen, obj, GUINT_TO_POINTER(seen));
    if (seen > json_object_get_size(obj)) {
        dc->duplicate = true;
    }
}

void qmp_server_handle_message(QmpConn *conn, const char *text, size_t len,
                               const char *split_error)
{
    if (split_error) {
        send_error(conn, QMP_ERROR_GENERIC, split_error, NULL);
        return;
    }
    /* @text passed json_check in the splitter (json-splitter.h): it is
     * well-formed JSON, so json-glib neither refuses it nor leaks on it;
     * the error path stays for safety. */
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) err = NULL;
    DuplicateCheck dc = { g_hash_table_new(NULL, NULL), false };
    g_signal_connect(parser, "object-member", G_CALLBACK(on_object_member),
                     &dc);
    bool parsed = json_parser_load_from_data(parser, text, (gssize)len, &err);
    g_hash_table_unref(dc.members_seen);
    if (!parsed) {
        g_autofree char *msg = g_strdup_printf("JSON parse error, %s",
                                               err->message);
        send_error(conn, QMP_ERROR_GENERIC, msg, NULL);
        return;
    }
    if (dc.duplicate) {
        send_error(conn, QMP_ERROR_GENERIC, "JSON parse error, duplicate key",
                   NULL);
        return;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        send_error(conn, QMP_ERROR_GENERIC, "QMP input must be a JSON object",
                   NULL);
        return;
    }
    JsonObject *req = json_node_get_object(root);
    JsonNode *id = json_object_get_member(req, "id");
    const char *problem = json_tree_problem(root);
    if (problem) {
        send_error(conn, QMP_ERROR_GENERIC, problem,
                   id && !json_tree_problem(id) ? id : NULL);
        return;
    }
    dispatch(conn, req, id);
}

/* ---------------------------------------------------------------------- */
/* Built-in commands                                                       */

static JsonNode *cmd_qmp_capabilities(QmpServer *server, JsonObject *args,
                                      void *opaque, GError **error)
{
    /* Never called: dispatch() handles it, it needs the connection. */
    return NULL;
}

static JsonNode *cmd_query_commands(QmpServer *server, JsonObject *args,
                                    void *opaque, GError **error)
{
    JsonArray *arr = json_array_new();
    for (const char *const *n = qmp_schema_command_names(server->schema); *n;
         n++) {
        if (g_hash_table_contains(server->commands, *n)) {
            JsonObject *o = json_object_new();
            json_object_set_string_member(o, "name", *n);
            json_array_add_object_element(arr, o);
        }
    }
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(node, arr);
    return node;
}

static JsonNode *cmd_query_qmp_schema(QmpServer *server, JsonObject *args,
                                      void *opaque, GError **error)
{
    return qmp_schema_introspect(server->schema);
}

/* ---------------------------------------------------------------------- */
/* Server object                                                           */

QmpServer *qmp_server_new(AioContext *ctx, const QmpSchema *schema,
                          int version_major, int version_minor,
                          int version_micro, const char *package)
{
    QmpServer *server = g_new0(QmpServer, 1);
    aio_context_ref(ctx);
    server->ctx = ctx;
    server->schema = schema;
    server->version[0] = version_major;
    server->version[1] = version_minor;
    server->version[2] = version_micro;
    server->package = g_strdup(package ? package : "");
    server->check_schema = g_strcmp0(g_getenv("IOTHREADD_CHECK_SCHEMA"), "1") == 0;
    server->listeners = g_ptr_array_new();
    server->commands = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             g_free);
    server->conns = g_ptr_array_new();
    qmp_server_register(server, "qmp_capabilities", cmd_qmp_capabilities,
                        NULL);
    qmp_server_register(server, "query-commands", cmd_query_commands, NULL);
    qmp_server_register(server, "query-qmp-schema", cmd_query_qmp_schema,
                        NULL);
    return server;
}

void qmp_server_free(QmpServer *server)
{
    if (!server) {
        return;
    }
    while (server->conns->len) {
        qmp_conn_close(g_ptr_array_index(server->conns, 0));
    }
    for (guint i = 0; i < server->listeners->len; i++) {
        qmp_listener_free(g_ptr_array_index(server->listeners, i));
    }
    g_ptr_array_unref(server->listeners);
    g_ptr_array_unref(server->conns);
    g_hash_table_unref(server->commands);
    g_free(server->package);
    aio_context_unref(server->ctx);
    g_free(server);
}

const QmpSchema *qmp_server_schema(const QmpServer *server)
{
    return server->schema;
}

void qmp_server_register(QmpServer *server, const char *command,
                         QmpCommandHandler *handler, void *opaque)
{
    if (!qmp_schema_has_command(server->schema, command)) {
        /* A programming error, but not worth a crash: the command simply
         * stays CommandNotFound. */
        g_critical("qmp: registering '%s', which the schema does not declare",
                   command);
    }
    QmpCommand *cmd = g_new0(QmpCommand, 1);
    cmd->handler = handler;
    cmd->opaque = opaque;
    g_hash_table_replace(server->commands, g_strdup(command), cmd);
}

char **qmp_server_unhandled_commands(QmpServer *server)
{
    GPtrArray *out = g_ptr_array_new();
    for (const char *const *n = qmp_schema_command_names(server->schema); *n;
         n++) {
        if (!g_hash_table_contains(server->commands, *n)) {
            g_ptr_array_add(out, g_strdup(*n));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

unsigned qmp_server_client_count(QmpServer *server)
{
    return server->conns->len;
}

void qmp_server_emit_event(QmpServer *server, const char *event,
                           JsonObject *data)
{
    gint64 now = g_get_real_time();
    g_autoptr(GError) mismatch = NULL;
    if (server->check_schema &&
        !qmp_schema_validate_event(server->schema, event, data, &mismatch)) {
        g_warning("qmp: event '%s' does not match the schema: %s", event,
                  mismatch->message);
    }
    g_autoptr(JsonObject) ts = json_object_new();
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    g_autoptr(JsonNode) ts_node = json_node_init_object(json_node_alloc(), ts);
    g_autoptr(JsonNode) name = json_node_init_string(json_node_alloc(), event);
    g_autoptr(JsonNode) d = data ? json_node_init_object(json_node_alloc(),
                                                         data) : NULL;
    /* QEMU inserts "event", "timestamp", then "data". */
    const char *names[] = { "event", "timestamp", "data" };
    JsonNode *values[] = { name, ts_node, d };
    GString *s = g_string_sized_new(128);
    qmp_json_write_members(s, data ? 3 : 2, names, values);
    if (data) {
        json_object_unref(data);
    }
    /* Sending may close a client (backlog): walk a copy. */
    g_autoptr(GPtrArray) conns = g_ptr_array_copy(server->conns, NULL, NULL);
    for (guint i = 0; i < conns->len; i++) {
        QmpConn *conn = g_ptr_array_index(conns, i);
        if (conn->negotiated && !conn->closed) {
            qmp_conn_send(conn, s->str, s->len);
        }
    }
    g_string_free(s, TRUE);
}
