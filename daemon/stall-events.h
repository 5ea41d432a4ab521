/*
 * The stall watchdog: a timer on the daemon's main loop that samples every
 * iothread's heartbeat (iothread_check_stall, rules in
 * iothread/stall-watch.h) and emits IOTHREAD_STALL events.  It samples at
 * the shortest period any iothread's stall-threshold-ns asks for (an
 * eighth of it, 1 ms .. 1 s), and once a second when none has one, so a
 * threshold set later is picked up within a second.
 *
 * Thread rules: main loop thread only (it owns the registry, the iothreads
 * and the server).
 */
#ifndef DAEMON_STALL_EVENTS_H
#define DAEMON_STALL_EVENTS_H

#include "registry.h"
#include "server.h"

typedef struct StallWatchdog StallWatchdog;

/* Starts sampling at once.  @ctx (the main loop's), @reg and @server must
 * outlive it. */
StallWatchdog *stall_watchdog_new(AioContext *ctx, ObjectRegistry *reg,
                                  QmpServer *server);
void stall_watchdog_free(StallWatchdog *w);

#endif /* DAEMON_STALL_EVENTS_H */
