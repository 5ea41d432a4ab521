/*
 * The x-debug-* QMP commands, registered only with --enable-debug-commands
 * (without it they are CommandNotFound and query-commands omits them):
 *  - x-debug-stall {id}: the iothread runs a BH named "x-debug-stall" that
 *    blocks in read(2) on a pipe, so the stall watchdog has a callback that
 *    never returns to report;
 *  - x-debug-stall-release {id}: write the byte that BH waits for.
 * At most one pending stall per iothread.  Freeing releases every pending
 * stall, so the iothreads can then be stopped.  Deleting a stalled
 * iothread (object-del) blocks until it is released: release first.
 *
 * Thread rules: main loop thread only; the BH runs in the iothread and
 * touches only its own pipe end.
 */
#ifndef DAEMON_DEBUG_COMMANDS_H
#define DAEMON_DEBUG_COMMANDS_H

#include "registry.h"
#include "server.h"

typedef struct DebugCommands DebugCommands;

DebugCommands *debug_commands_new(QmpServer *server, ObjectRegistry *reg);
void debug_commands_free(DebugCommands *dc);

#endif /* DAEMON_DEBUG_COMMANDS_H */
