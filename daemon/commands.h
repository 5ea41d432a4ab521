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

#include "config.h"
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

/* Set member @info->name of @o to @value as the wire spells it: the
 * value's name for an enum-valued parameter (poll-mode), else the
 * integer.  Every reply, event and saved config goes through it. */
void param_set_member(JsonObject *o, const AioParamInfo *info, int64_t value);

/* Fail with QEMU's GenericError "Cannot find iothread '@id'" (the
 * commands' one text for an unknown iothread id); returns NULL. */
void *fail_no_iothread(GError **error, const char *id);

/* Announce an object created outside QMP (startup): OBJECT_ADDED. */
void daemon_commands_object_added(DaemonCommands *cmds, const char *id,
                                  const char *qom_type);

/* Config (config.h): the checks a config file shares with the commands,
 * and what config-save writes. */

/* Judge @args exactly as object-add would (the schema, the type, the
 * properties, the id's syntax, the values merged with the defaults, the
 * cpulist) without creating anything.  A duplicate id is the registry's
 * (and the config loader's) to find. */
bool daemon_commands_check_object_add(const QmpSchema *schema,
                                      JsonObject *args, GError **error);
/* Judge @args as iothread-set for "main-loop" (they include the "id")
 * against the defaults. */
bool daemon_commands_check_main_loop(const QmpSchema *schema,
                                     JsonObject *args, GError **error);

/* config-save's target and --auto-save (config.h; taken over, freed with
 * @cmds): after every successful object-add, object-del, qom-set and
 * iothread-set, through QMP or HMP, the saver's auto-save runs.  Until
 * then config-save needs its 'path' and records no settings. */
void daemon_commands_set_config(DaemonCommands *cmds,
                                DaemonConfigSaver *saver);

/* Change properties of iothread (or main-loop) @id, all or nothing, and
 * emit IOTHREAD_PROPERTY_CHANGED: the one path behind qom-set,
 * iothread-set and the tuner.  false + @error (GenericError) if refused. */
bool daemon_commands_set_properties(DaemonCommands *cmds, const char *id,
                                    const AioParams *change, GError **error);

G_END_DECLS

#endif /* IOTHREAD_COMMANDS_H */
