/*
 * A small synchronous QMP client: connect, negotiate, execute, read events.
 * Used by iothreadctl and the tests.  Speaks only the wire protocol.
 *
 * Thread rules: a QmpClient belongs to one thread at a time.
 */
#ifndef QMP_CLIENT_H
#define QMP_CLIENT_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "socket-path.h"   /* qmp_default_socket_path(), for clients */

G_BEGIN_DECLS

/* Errors: domain QMP_CLIENT_ERROR.  A daemon's {"error": {...}} answer is
 * QMP_CLIENT_ERROR_COMMAND with the message = desc and the class kept (see
 * qmp_client_last_error_class).  Transport problems are _IO / _PROTOCOL. */
#define QMP_CLIENT_ERROR (qmp_client_error_quark())
GQuark qmp_client_error_quark(void);
typedef enum {
    QMP_CLIENT_ERROR_IO,        /* connect/read/write failed, peer closed */
    QMP_CLIENT_ERROR_PROTOCOL,  /* the peer sent something that is not QMP */
    QMP_CLIENT_ERROR_COMMAND,   /* the command answered an error */
    QMP_CLIENT_ERROR_TIMEOUT,
    QMP_CLIENT_ERROR_INVALID,   /* the caller's input was refused locally;
                                   nothing was sent, the connection is fine */
} QmpClientErrorCode;

typedef struct QmpClient QmpClient;

/* @address: "unix:PATH", "tcp:HOST:PORT" or a bare path.  Reads the
 * greeting and runs qmp_capabilities.  NULL + @error on failure. */
QmpClient *qmp_client_connect(const char *address, GError **error);
void qmp_client_free(QmpClient *c);

/* How long qmp_client_execute*() (and connecting) wait for an answer
 * before failing with QMP_CLIENT_ERROR_TIMEOUT; -1 waits forever.  The
 * default is QMP_CLIENT_DEFAULT_TIMEOUT_MS.  After a timeout the
 * connection's state is unknown: free the client. */
#define QMP_CLIENT_DEFAULT_TIMEOUT_MS 60000
void qmp_client_set_timeout(QmpClient *c, int timeout_ms);

/* The greeting's {"QMP": {...}} member (owned by the client). */
JsonObject *qmp_client_greeting(QmpClient *c);

/* Run @command with @arguments (NULL for none; not consumed).  Returns the
 * "return" value (caller frees with json_node_unref) or NULL + @error.
 * Events that arrive meanwhile are queued (qmp_client_pop_event). */
JsonNode *qmp_client_execute(QmpClient *c, const char *command,
                             JsonObject *arguments, GError **error);

/* Send one raw JSON text as is and return the whole reply object (return
 * or error member, caller frees).  For the CLI's raw `{...}` lines. */
JsonNode *qmp_client_execute_raw(QmpClient *c, const char *json,
                                 GError **error);

/* The "class" of the last QMP_CLIENT_ERROR_COMMAND (e.g. "GenericError"),
 * or NULL. Owned by the client. */
const char *qmp_client_last_error_class(QmpClient *c);

/* Wait up to @timeout_ms (-1 forever, 0 just check) for an event; returns
 * the event object (caller frees) or NULL (timeout / @error). */
JsonNode *qmp_client_pop_event(QmpClient *c, int timeout_ms, GError **error);

/* The socket, for callers that poll it together with other fds. */
int qmp_client_fd(QmpClient *c);

G_END_DECLS

#endif /* QMP_CLIENT_H */
