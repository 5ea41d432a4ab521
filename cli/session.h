/*
 * iothreadctl's connection to the daemon and everything that outlives one
 * command: the QMP client (reconnected lazily after a loss), the schema
 * index, cached iothread ids for completion, the previous stats sample for
 * rates, output options, and the common output helpers (results, errors,
 * events) so every command prints the same way.
 *
 * Thread rules: single-threaded; one Session per process.
 */
#ifndef CLI_SESSION_H
#define CLI_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "client.h"
#include "schema-info.h"

G_BEGIN_DECLS

/* How a command ended; main() maps these to the exit status. */
typedef enum {
    CMD_OK = 0,
    CMD_FAILED = 1,      /* the command (or its parsing) failed */
    CMD_NO_CONNECTION,   /* could not (re)connect to the daemon */
    CMD_QUIT,            /* the user asked to leave */
} CmdStatus;

/* The previous `stats` sample of one context, for rates. */
typedef struct {
    JsonObject *stats;
    gint64 taken_us;       /* monotonic */
} StatsPrev;

typedef struct Session {
    char *address;         /* as given to -s, or the default socket */
    QmpClient *client;     /* NULL while disconnected */
    SchemaInfo *schema;    /* NULL until fetched */
    bool json;             /* --json: machine-readable output */
    bool verbose;          /* -v: echo the JSON sent */
    bool events;           /* `events on`: print events as they arrive */
    bool interactive;      /* stdin is a terminal (readline active) */
    char **iothread_ids;   /* cache for completion, NULL-terminated */
    gint64 ids_fetched_us; /* monotonic time of that cache */
    GHashTable *prev_stats;/* id -> StatsPrev* of the last `stats` */
} Session;

Session *session_new(const char *address, bool json, bool verbose);
void session_free(Session *s);

/* Connect if not connected (greeting, negotiation, then query-qmp-schema).
 * Prints "reconnected to ..." on stderr when this is not the first
 * connection.  false + @error when the daemon cannot be reached. */
bool session_ensure_connected(Session *s, GError **error);

/* Drop the connection (after a transport error). */
void session_disconnect(Session *s);

/* Execute @command with @arguments (may be NULL) on the daemon, connecting
 * first if needed; echoes the request with -v.  Returns the "return" value
 * (json_node_unref) or NULL with an error already printed; *@status tells
 * CMD_FAILED (the daemon refused) from CMD_NO_CONNECTION. A transport error
 * prints "connection to ... lost" and disconnects, so the next command
 * reconnects. */
JsonNode *session_execute(Session *s, const char *command,
                          JsonObject *arguments, CmdStatus *status);

/* Send a raw JSON line as is (after connecting); prints the reply (or the
 * error).  Returns the status. */
CmdStatus session_execute_raw(Session *s, const char *json);

/* Print "error: DESC" (stderr) or, with --json, {"error": {"class", "desc"}}
 * (stdout).  @klass may be NULL ("GenericError"). */
void session_print_error(Session *s, const char *klass, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Print why connecting failed ("error: cannot connect to ..."), class
 * ConnectionFailed. */
void session_print_connect_error(Session *s, const GError *err);

/* Print a command's successful result: compact JSON with --json, else
 * pretty JSON (nothing for an empty object). */
void session_print_result(Session *s, JsonNode *result);

/* Print @text (a human message such as a table) unless --json. */
void session_print_human(Session *s, const char *text);

/* Print the events queued in the client (if `events on`), without
 * waiting.  Detects a connection the daemon closed while we were idle. */
void session_drain_events(Session *s);

/* The cached iothread ids (refetched when older than @max_age_ms or after
 * session_invalidate_ids); never NULL, owned by @s. */
char *const *session_iothread_ids(Session *s, int max_age_ms);
void session_invalidate_ids(Session *s);

/* A short label of the connection for the prompt: the socket path with
 * $HOME shown as ~, shortened to its last components when long. Caller
 * frees. */
char *session_label(const Session *s);

/* The width tables must fit: the terminal's columns when stdout is a
 * terminal, else $COLUMNS when it is a number, else 0 (no limit: pipes
 * and files get whole lines). */
guint session_width(const Session *s);

/* True if the server offers @command (false until the schema is known). */
bool session_has_command(const Session *s, const char *command);

/* True when the server is known not to offer @command (connecting first
 * if needed; false when not connected, so the command itself reports
 * that).  session_lacks() also prints a note naming the missing command:
 * "note: the server has no COMMAND" (with --json: {"missing-command":
 * COMMAND} on stdout), so human commands show what the server has
 * instead of failing on QEMU, which lacks iothreadd's extensions. */
bool session_lacks(Session *s, const char *command);
bool session_lacks_quietly(Session *s, const char *command);

/* Compact / pretty JSON text of @node (caller frees). */
char *json_text(JsonNode *node, bool pretty);

G_END_DECLS

#endif /* CLI_SESSION_H */
