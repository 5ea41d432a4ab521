/*
 * A generic QMP server (QEMU qmp-spec wire protocol) running on an
 * AioContext.  It knows commands only as schema entries plus handler
 * pointers; it knows nothing of iothreads.
 *
 * Thread rules: a QmpServer and all its clients belong to the home thread of
 * the AioContext it was created on; every function here, and every command
 * handler, runs in that thread.
 */
#ifndef QMP_SERVER_H
#define QMP_SERVER_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "aioctx/aio.h"
#include "schema.h"

G_BEGIN_DECLS

/* Error classes of qmp-spec, as GError codes of QMP_ERROR.  A handler fails
 * with g_set_error(error, QMP_ERROR, QMP_ERROR_DEVICE_NOT_FOUND, ...) and
 * the client sees {"error": {"class": "DeviceNotFound", "desc": message}}. */
#define QMP_ERROR (qmp_error_quark())
GQuark qmp_error_quark(void);
typedef enum {
    QMP_ERROR_GENERIC,              /* "GenericError" */
    QMP_ERROR_COMMAND_NOT_FOUND,    /* "CommandNotFound" */
    QMP_ERROR_DEVICE_NOT_FOUND,     /* "DeviceNotFound" */
} QmpErrorClass;
const char *qmp_error_class_name(QmpErrorClass cls);

typedef struct QmpServer QmpServer;

/* A command handler.  @args has been validated against the schema (types,
 * required members, ranges) and is never NULL (an empty object when the
 * client sent none).  Return the "return" value (transfer full; NULL means
 * {}), or NULL with @error set.  A handler must not free the server (a
 * `quit` handler schedules that in a BH); it may run a nested aio_poll(),
 * during which the calling client's further input waits. */
typedef JsonNode *QmpCommandHandler(QmpServer *server, JsonObject *args,
                                    void *opaque, GError **error);

/* Limits, documented in README: a message larger than
 * QMP_MAX_MESSAGE_BYTES or nested deeper than QMP_MAX_NESTING is answered
 * with GenericError as soon as the limit is crossed, and the rest of it is
 * skipped; a client whose unsent output exceeds
 * QMP_MAX_OUTPUT_BACKLOG is disconnected (it stopped reading). */
#define QMP_MAX_MESSAGE_BYTES   (1024 * 1024)
#define QMP_MAX_NESTING         64
#define QMP_MAX_OUTPUT_BACKLOG  (8 * 1024 * 1024)

/* @ctx: the loop the server runs on (a reference is taken).  @schema: not
 * copied, must outlive the server.  @version_*: the greeting's qemu
 * version triple; @package: its "package" string.
 * With IOTHREADD_CHECK_SCHEMA=1 in the environment (the test suite sets it
 * for every test), every reply and event is checked against the schema: a
 * reply that does not match becomes a GenericError naming the mismatch
 * ("reply to 'X' does not match the schema: ..."), an event that does not
 * match is sent and logged as a warning with the same words. */
QmpServer *qmp_server_new(AioContext *ctx, const QmpSchema *schema,
                          int version_major, int version_minor,
                          int version_micro, const char *package);
void qmp_server_free(QmpServer *server);

/*
 * A listening address with its access options: "unix:PATH[,OPT]..." or
 * "tcp:HOST:PORT[,OPT]..." (the one syntax of --qmp, the config's "qmp"
 * list and qmp_server_listen).  Options:
 *   mode=OCTAL      unix: the socket file's permissions (default 0600;
 *                   at most 0777)
 *   group=NAME      unix: the socket file's group (an existing group)
 *   readonly=on|off only query-*, qom-get, qom-list and qmp_capabilities
 *                   are allowed; anything else gets GenericError
 *                   "command 'X' is not allowed on read-only socket ADDR"
 *   max-clients=N   at most N clients at once (1..65535); one more gets
 *                   a GenericError naming the limit, then is closed
 *   allow-remote=on|off  tcp: listen on a non-loopback HOST (warns: QMP
 *                   has no authentication); without it only loopback
 * No option may repeat; a unix PATH cannot contain ','.
 */
typedef struct QmpAddress {
    bool is_unix;
    char *path;             /* unix: the socket path */
    char *host;             /* tcp: an IPv4 address ("localhost" resolved) */
    int port;               /* tcp: 0..65535 (0 picks one) */
    int mode;               /* unix: permissions */
    bool has_group;
    unsigned gid;           /* unix: resolved group= */
    bool readonly;
    unsigned max_clients;   /* 0: no limit */
    bool allow_remote;
} QmpAddress;

/* Parse @text strictly; false + @error naming the problem (the unknown
 * option, the bad value, a group that does not exist, a non-loopback host
 * without allow-remote=on).  Clear @out with qmp_address_clear. */
bool qmp_address_parse(const char *text, QmpAddress *out, GError **error);
void qmp_address_clear(QmpAddress *addr);
/* Whether a socket with readonly=on lets @command through. */
bool qmp_address_readonly_allows(const char *command);

/* Listen on @address (qmp_address_parse's syntax): a unix socket is
 * created with its mode and group (a stale socket file is replaced only
 * if nothing accepts on it), a tcp one on HOST:PORT (port 0 picks one,
 * see qmp_server_tcp_port).  Every client's peer (SO_PEERCRED pid/uid/gid
 * on unix, the address on tcp) is logged with g_message.  May be called
 * several times. */
bool qmp_server_listen(QmpServer *server, const char *address, GError **error);
int qmp_server_tcp_port(QmpServer *server);
/* Serve on @fd, a socket someone else created and bound (socket
 * activation): it must be a listening stream socket, unix or loopback TCP
 * (the rule qmp_server_listen applies); the server owns it from then on,
 * even on failure (closed).  Its socket file is not the server's: nothing
 * unlinks it. */
bool qmp_server_listen_fd(QmpServer *server, int fd, GError **error);

/* The schema @server was created with (handlers read what it declares). */
const QmpSchema *qmp_server_schema(const QmpServer *server);

/* Register the handler of a command that the schema declares.  Commands
 * the server implements itself: qmp_capabilities, query-commands,
 * query-qmp-schema. */
void qmp_server_register(QmpServer *server, const char *command,
                         QmpCommandHandler *handler, void *opaque);
/* Run command @name as if a client sent it: CommandNotFound unless it is
 * registered, @args (not NULL) validated against the schema, then its
 * handler.  Returns what the handler returns (transfer full; NULL with
 * @error unset means {}).  For commands built on other commands (the
 * human monitor). */
JsonNode *qmp_server_execute(QmpServer *server, const char *name,
                             JsonObject *args, GError **error);
/* Names of schema commands that have no handler (for the 1:1 test);
 * free with g_strfreev. */
char **qmp_server_unhandled_commands(QmpServer *server);

/* Broadcast {"event", "data", "timestamp"} to every client in command mode.
 * @data: transfer full, may be NULL. */
void qmp_server_emit_event(QmpServer *server, const char *event,
                           JsonObject *data);

/* Number of connected clients. */
unsigned qmp_server_client_count(QmpServer *server);

G_END_DECLS

#endif /* QMP_SERVER_H */
