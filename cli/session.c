/*
 * iothreadctl's session: connection with lazy reconnect, schema index,
 * id cache, and the shared output helpers (see session.h).
 */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void stats_prev_free(gpointer p)
{
    StatsPrev *prev = p;

    json_object_unref(prev->stats);
    g_free(prev);
}

Session *session_new(const char *address, bool json, bool verbose)
{
    Session *s = g_new0(Session, 1);

    s->address = g_strdup(address);
    s->json = json;
    s->verbose = verbose;
    s->iothread_ids = g_new0(char *, 1);
    s->prev_stats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          stats_prev_free);
    return s;
}

void session_free(Session *s)
{
    if (!s) {
        return;
    }
    session_disconnect(s);
    schema_info_free(s->schema);
    g_strfreev(s->iothread_ids);
    g_hash_table_destroy(s->prev_stats);
    g_free(s->address);
    g_free(s);
}

void session_disconnect(Session *s)
{
    if (s->client) {
        qmp_client_free(s->client);
        s->client = NULL;
    }
}

char *json_text(JsonNode *node, bool pretty)
{
    JsonGenerator *gen = json_generator_new();

    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, pretty);
    json_generator_set_indent(gen, 2);
    char *text = json_generator_to_data(gen, NULL);
    g_object_unref(gen);
    return text;
}

static bool fetch_schema(Session *s, GError **error)
{
    JsonNode *answer = qmp_client_execute(s->client, "query-qmp-schema",
                                          NULL, error);
    if (!answer) {
        return false;
    }
    SchemaInfo *si = schema_info_new(answer, error);
    json_node_unref(answer);
    if (!si) {
        return false;
    }
    schema_info_free(s->schema);
    s->schema = si;
    return true;
}

bool session_ensure_connected(Session *s, GError **error)
{
    static bool connected_before;

    if (s->client) {
        return true;
    }
    s->client = qmp_client_connect(s->address, error);
    if (!s->client) {
        return false;
    }
    /* The schema may differ after a restart (another daemon version). */
    if (!fetch_schema(s, error)) {
        session_disconnect(s);
        return false;
    }
    session_invalidate_ids(s);
    if (connected_before && !s->json) {
        fprintf(stderr, "reconnected to %s\n", s->address);
    }
    connected_before = true;
    return true;
}

void session_print_error(Session *s, const char *klass, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *desc = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (s->json) {
        JsonObject *err = json_object_new();
        json_object_set_string_member(err, "class",
                                      klass ? klass : "GenericError");
        json_object_set_string_member(err, "desc", desc);
        JsonObject *top = json_object_new();
        json_object_set_object_member(top, "error", err);
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, top);
        char *text = json_text(node, false);
        printf("%s\n", text);
        fflush(stdout);
        g_free(text);
        json_node_unref(node);
    } else {
        fflush(stdout);
        fprintf(stderr, "error: %s\n", desc);
    }
    g_free(desc);
}

void session_print_result(Session *s, JsonNode *result)
{
    if (!s->json && JSON_NODE_HOLDS_OBJECT(result) &&
        json_object_get_size(json_node_get_object(result)) == 0) {
        return;
    }
    char *text = json_text(result, !s->json);
    printf("%s\n", text);
    fflush(stdout);
    g_free(text);
}

void session_print_human(Session *s, const char *text)
{
    if (!s->json) {
        fputs(text, stdout);
        fflush(stdout);
    }
}

/* Report a transport error and drop the connection so that the next
 * command reconnects. */
static void connection_lost(Session *s, GError *err)
{
    session_print_error(s, "ConnectionLost",
                        "connection to %s lost: %s", s->address,
                        err->message);
    session_disconnect(s);
}

void session_print_connect_error(Session *s, const GError *err)
{
    /* The client's message usually names the address already. */
    if (strstr(err->message, s->address)) {
        session_print_error(s, "ConnectionFailed", "%s", err->message);
    } else {
        session_print_error(s, "ConnectionFailed", "cannot connect to %s: %s",
                            s->address, err->message);
    }
}

static bool connect_or_report(Session *s)
{
    GError *err = NULL;

    /* Notice a connection the daemon closed while we were idle (restart)
     * now, so this command reconnects instead of failing on it. */
    session_drain_events(s);

    if (session_ensure_connected(s, &err)) {
        return true;
    }
    session_print_connect_error(s, err);
    g_error_free(err);
    return false;
}

static void echo_request(Session *s, const char *json)
{
    if (s->verbose) {
        /* stderr keeps --json's stdout one document per command. */
        fprintf(stderr, "-> %s\n", json);
    }
}

JsonNode *session_execute(Session *s, const char *command,
                          JsonObject *arguments, CmdStatus *status)
{
    GError *err = NULL;

    if (!connect_or_report(s)) {
        *status = CMD_NO_CONNECTION;
        return NULL;
    }
    if (s->verbose) {
        JsonObject *req = json_object_new();
        json_object_set_string_member(req, "execute", command);
        if (arguments) {
            json_object_set_object_member(req, "arguments",
                                          json_object_ref(arguments));
        }
        JsonNode *n = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(n, req);
        char *text = json_text(n, false);
        echo_request(s, text);
        g_free(text);
        json_node_unref(n);
    }
    JsonNode *ret = qmp_client_execute(s->client, command, arguments, &err);
    if (ret) {
        *status = CMD_OK;
        return ret;
    }
    if (g_error_matches(err, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_COMMAND)) {
        session_print_error(s, qmp_client_last_error_class(s->client), "%s",
                            err->message);
        *status = CMD_FAILED;
    } else {
        connection_lost(s, err);
        *status = CMD_FAILED;
    }
    g_error_free(err);
    return NULL;
}

CmdStatus session_execute_raw(Session *s, const char *json)
{
    GError *err = NULL;

    if (!connect_or_report(s)) {
        return CMD_NO_CONNECTION;
    }
    echo_request(s, json);
    JsonNode *reply = qmp_client_execute_raw(s->client, json, &err);
    if (!reply) {
        if (g_error_matches(err, QMP_CLIENT_ERROR,
                            QMP_CLIENT_ERROR_COMMAND)) {
            session_print_error(s, qmp_client_last_error_class(s->client),
                                "%s", err->message);
        } else if (g_error_matches(err, QMP_CLIENT_ERROR,
                                   QMP_CLIENT_ERROR_INVALID)) {
            /* Refused before sending: the connection is intact. */
            session_print_error(s, "GenericError", "%s", err->message);
        } else {
            connection_lost(s, err);
        }
        g_error_free(err);
        return CMD_FAILED;
    }
    CmdStatus status = CMD_OK;
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT(reply)
                      ? json_node_get_object(reply) : NULL;
    JsonNode *error = obj ? json_object_get_member(obj, "error") : NULL;
    if (error && JSON_NODE_HOLDS_OBJECT(error)) {
        JsonObject *e = json_node_get_object(error);
        session_print_error(
            s, json_object_get_string_member_with_default(e, "class", NULL),
            "%s", json_object_get_string_member_with_default(e, "desc",
                                                             "(no desc)"));
        status = CMD_FAILED;
    } else if (obj && json_object_has_member(obj, "return")) {
        session_print_result(s, json_object_get_member(obj, "return"));
    } else {
        session_print_result(s, reply);
    }
    json_node_unref(reply);
    return status;
}

static void print_event(Session *s, JsonNode *event)
{
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT(event)
                      ? json_node_get_object(event) : NULL;
    if (s->json || !obj) {
        char *text = json_text(event, false);
        printf("%s\n", text);
        g_free(text);
        return;
    }
    const char *name = json_object_get_string_member_with_default(
        obj, "event", "?");
    JsonNode *data = json_object_get_member(obj, "data");
    char *data_text = data ? json_text(data, false) : g_strdup("");
    gint64 sec = 0, usec = 0;
    JsonNode *ts = json_object_get_member(obj, "timestamp");
    if (ts && JSON_NODE_HOLDS_OBJECT(ts)) {
        JsonObject *t = json_node_get_object(ts);
        sec = json_object_get_int_member_with_default(t, "seconds", 0);
        usec = json_object_get_int_member_with_default(t, "microseconds", 0);
    }
    GDateTime *dt = g_date_time_new_from_unix_local(sec);
    char *when = dt ? g_date_time_format(dt, "%H:%M:%S") : g_strdup("?");
    printf("event %s.%06" G_GINT64_FORMAT " %s %s\n", when, usec, name,
           data_text);
    g_free(when);
    if (dt) {
        g_date_time_unref(dt);
    }
    g_free(data_text);
}

void session_drain_events(Session *s)
{
    GError *err = NULL;
    JsonNode *event;

    if (!s->client) {
        return;
    }
    while ((event = qmp_client_pop_event(s->client, 0, &err))) {
        JsonObject *obj = JSON_NODE_HOLDS_OBJECT(event)
                          ? json_node_get_object(event) : NULL;
        const char *name = obj ? json_object_get_string_member_with_default(
                                     obj, "event", "") : "";
        if (g_str_has_prefix(name, "OBJECT_")) {
            session_invalidate_ids(s);
        }
        if (s->events) {
            print_event(s, event);
        }
        json_node_unref(event);
    }
    fflush(stdout);
    if (err) {
        connection_lost(s, err);
        g_error_free(err);
    }
}

void session_invalidate_ids(Session *s)
{
    s->ids_fetched_us = 0;
}

char *const *session_iothread_ids(Session *s, int max_age_ms)
{
    gint64 now = g_get_monotonic_time();

    if (s->ids_fetched_us &&
        now - s->ids_fetched_us <= (gint64)max_age_ms * 1000) {
        return s->iothread_ids;
    }
    if (!s->client) {
        return s->iothread_ids;
    }
    /* Completion must stay quiet: errors here are not printed. */
    JsonNode *ret = qmp_client_execute(s->client, "query-iothreads", NULL,
                                       NULL);
    if (!ret) {
        return s->iothread_ids;
    }
    GPtrArray *ids = g_ptr_array_new();
    if (JSON_NODE_HOLDS_ARRAY(ret)) {
        JsonArray *arr = json_node_get_array(ret);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            JsonNode *n = json_array_get_element(arr, i);
            if (JSON_NODE_HOLDS_OBJECT(n)) {
                const char *id = json_object_get_string_member_with_default(
                    json_node_get_object(n), "id", NULL);
                if (id) {
                    g_ptr_array_add(ids, g_strdup(id));
                }
            }
        }
    }
    g_ptr_array_add(ids, NULL);
    json_node_unref(ret);
    g_strfreev(s->iothread_ids);
    s->iothread_ids = (char **)g_ptr_array_free(ids, FALSE);
    s->ids_fetched_us = now;
    return s->iothread_ids;
}

guint session_width(const Session *s)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");
    guint64 columns;

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col > 0) {
        return ws.ws_col;
    }
    if (env && g_ascii_string_to_unsigned(env, 10, 1, 10000, &columns,
                                          NULL)) {
        return (guint)columns;
    }
    return 0;
}

bool session_has_command(const Session *s, const char *command)
{
    return s->schema && schema_info_has_command(s->schema, command);
}

bool session_lacks_quietly(Session *s, const char *command)
{
    return session_ensure_connected(s, NULL) &&
           !schema_info_has_command(s->schema, command);
}

bool session_lacks(Session *s, const char *command)
{
    if (!session_lacks_quietly(s, command)) {
        return false;
    }
    if (s->json) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "missing-command", command);
        JsonNode *n = json_node_init_object(json_node_alloc(), o);
        session_print_result(s, n);
        json_node_unref(n);
        json_object_unref(o);
    } else {
        printf("note: the server has no %s\n", command);
        fflush(stdout);
    }
    return true;
}

char *session_label(const Session *s)
{
    const char *path = s->address;
    const char *home = g_get_home_dir();
    char *shown;

    if (g_str_has_prefix(path, "unix:")) {
        path += 5;
    }
    if (home && home[1] && g_str_has_prefix(path, home) &&
        path[strlen(home)] == '/') {
        shown = g_strconcat("~", path + strlen(home), NULL);
    } else {
        shown = g_strdup(path);
    }
    if (g_utf8_strlen(shown, -1) > 32) {
        /* Keep the last two components: the daemon's dir and socket. */
        char *last = strrchr(shown, '/');
        char *prev = last;
        while (prev && prev > shown && *--prev != '/') {
        }
        if (prev && prev > shown) {
            char *shorter = g_strconcat("…", prev, NULL);
            g_free(shown);
            shown = shorter;
        }
    }
    return shown;
}
