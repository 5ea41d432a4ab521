/*
 * The daemon's QMP commands: handlers that translate schema-validated JSON
 * arguments into calls of the registry / IOThread C API, and the events
 * (OBJECT_ADDED, OBJECT_DELETED, IOTHREAD_PROPERTY_CHANGED) they emit.
 *
 * Thread rules: everything here runs in the main loop's thread (the
 * QmpServer's and the registry's home thread).
 */
#ifndef IOTHREAD_COMMANDS_H
#define IOTHREAD_COMMANDS_H

#include <glib.h>

#include "registry.h"
#include "server.h"

G_BEGIN_DECLS

typedef struct DaemonCommands DaemonCommands;

/* Called by the quit command after its reply was queued: the daemon should
 * leave its main loop (scheduled as a BH, so the reply goes out first). */
typedef void DaemonQuitFunc(void *opaque);

/* Register every handler of the daemon on @server.  @server and @reg must
 * outlive the returned object. */
DaemonCommands *daemon_commands_new(QmpServer *server, ObjectRegistry *reg,
                                    DaemonQuitFunc *quit, void *quit_opaque);
void daemon_commands_free(DaemonCommands *cmds);

/* Announce an object created outside QMP (startup): OBJECT_ADDED. */
void daemon_commands_object_added(DaemonCommands *cmds, const char *id,
                                  const char *qom_type);

/* Change properties of iothread (or main-loop) @id, all or nothing, and
 * emit IOTHREAD_PROPERTY_CHANGED: the one path behind qom-set,
 * iothread-set and the tuner.  false + @error (GenericError) if refused. */
bool daemon_commands_set_properties(DaemonCommands *cmds, const char *id,
                                    const AioParams *change, GError **error);

G_END_DECLS

#endif /* IOTHREAD_COMMANDS_H */
