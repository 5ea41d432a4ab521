/*
 * The daemon's handlers against the schema, in process: every command the
 * schema declares has a handler once the server (qmp_capabilities,
 * query-commands, query-qmp-schema) and the daemon (the rest) registered
 * theirs, the x-debug-* ones only once the debug commands are registered
 * (--enable-debug-commands), and no handler is registered for a command
 * the schema lacks (the server reports that with a g_critical, counted
 * here).
 */
#include <string.h>

#include "commands.h"
#include "debug-commands.h"
#include "tap.h"

static int criticals;

static void count_log(const gchar *domain, GLogLevelFlags level,
                      const gchar *message, gpointer opaque)
{
    if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
        criticals++;
        diag("log: %s", message);
    }
}

static void no_quit(void *opaque)
{
}

int main(void)
{
    GError *err = NULL;
    QmpSchema *schema = qmp_schema_load_embedded(&err);

    g_log_set_default_handler(count_log, NULL);
    if (!ok(schema != NULL, "embedded schema loads")) {
        diag("%s", err ? err->message : "?");
        return done_testing();
    }
    AioContext *ctx = aio_context_new(NULL);
    aio_set_current_context(ctx);
    QmpServer *server = qmp_server_new(ctx, schema, 0, 1, 0, "test");
    ObjectRegistry *reg = object_registry_new(ctx);
    DaemonCommands *cmds = daemon_commands_new(server, reg, no_quit, NULL);

    char **missing = qmp_server_unhandled_commands(server);
    char *joined = g_strjoinv(", ", missing);
    ok(g_strv_length(missing) == 2 &&
       g_strv_contains((const char *const *)missing, "x-debug-stall") &&
       g_strv_contains((const char *const *)missing, "x-debug-stall-release"),
       "without the debug commands only x-debug-* lack a handler (%s)",
       joined);
    g_free(joined);
    g_strfreev(missing);
    DebugCommands *debug = debug_commands_new(server, reg);
    missing = qmp_server_unhandled_commands(server);
    joined = g_strjoinv(", ", missing);
    ok(missing[0] == NULL, "every schema command has a handler (missing: %s)",
       joined);
    is_int(criticals, 0, "no handler for a command outside the schema");
    ok(qmp_schema_has_command(schema, "iothread-set") &&
       qmp_schema_has_command(schema, "query-iothread-stats"),
       "the daemon's own commands are in the schema");
    g_free(joined);
    g_strfreev(missing);

    debug_commands_free(debug);
    daemon_commands_free(cmds);
    object_registry_free(reg);
    qmp_server_free(server);
    aio_set_current_context(NULL);
    aio_context_unref(ctx);
    qmp_schema_free(schema);
    return done_testing();
}
