/*
 * The x-debug-* commands (see debug-commands.h).
 */
#include "debug-commands.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

struct DebugCommands {
    ObjectRegistry *reg;
    GHashTable *pending;        /* iothread id -> write end of its pipe */
};

/* In the iothread: block until the byte arrives (or the pipe closes). */
static void stall_bh(void *opaque)
{
    int rfd = GPOINTER_TO_INT(opaque);
    char byte;

    while (read(rfd, &byte, 1) < 0 && errno == EINTR) {
    }
    close(rfd);
}

static JsonNode *cmd_stall(QmpServer *server, JsonObject *args, void *opaque,
                           GError **error)
{
    DebugCommands *dc = opaque;
    const char *id = json_object_get_string_member(args, "id");
    IOThread *t = object_registry_find_iothread(dc->reg, id);
    int fds[2];

    if (!t) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Cannot find iothread '%s'", id);
        return NULL;
    }
    if (g_hash_table_contains(dc->pending, id)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "iothread '%s' already has a pending x-debug-stall", id);
        return NULL;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "x-debug-stall: pipe: %s", g_strerror(errno));
        return NULL;
    }
    g_hash_table_insert(dc->pending, g_strdup(id), GINT_TO_POINTER(fds[1]));
    aio_bh_schedule_oneshot_full(iothread_get_aio_context(t), stall_bh,
                                 GINT_TO_POINTER(fds[0]), "x-debug-stall");
    return NULL;
}

/* Let the BH return: one byte, then our end closes. */
static void release_fd(gpointer fd)
{
    if (write(GPOINTER_TO_INT(fd), "x", 1) < 0) {
        /* The BH also returns when our end closes (read gives 0). */
    }
    close(GPOINTER_TO_INT(fd));
}

static JsonNode *cmd_stall_release(QmpServer *server, JsonObject *args,
                                   void *opaque, GError **error)
{
    DebugCommands *dc = opaque;
    const char *id = json_object_get_string_member(args, "id");

    if (!g_hash_table_remove(dc->pending, id)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "iothread '%s' has no pending x-debug-stall", id);
    }
    return NULL;
}

DebugCommands *debug_commands_new(QmpServer *server, ObjectRegistry *reg)
{
    DebugCommands *dc = g_new0(DebugCommands, 1);

    dc->reg = reg;
    dc->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        release_fd);
    qmp_server_register(server, "x-debug-stall", cmd_stall, dc);
    qmp_server_register(server, "x-debug-stall-release", cmd_stall_release,
                        dc);
    return dc;
}

void debug_commands_free(DebugCommands *dc)
{
    if (dc) {
        g_hash_table_destroy(dc->pending);
        g_free(dc);
    }
}
