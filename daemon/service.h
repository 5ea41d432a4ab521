/*
 * What iothreadd does for a service manager (systemd): readiness
 * notification (sd_notify: "READY=1" once the QMP sockets serve) and
 * socket activation (sd_listen_fds: listening sockets passed as fds 3...).
 *
 * With the meson feature `systemd` (libsystemd found), the calls are
 * libsystemd's.  Without it, the service_protocol_* functions below speak
 * the same protocols themselves; they are small because the protocols
 * are: a datagram of "KEY=VALUE\n" lines sent to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), and
 * the environment LISTEN_PID=<our pid> LISTEN_FDS=<n> for fds 3..3+n-1.
 * They are compiled either way, so the tests check them in every build.
 *
 * Thread rules: main thread only (they read and change the environment).
 */
#ifndef DAEMON_SERVICE_H
#define DAEMON_SERVICE_H

#include <stdbool.h>

/* The first fd socket activation passes (SD_LISTEN_FDS_START). */
#define SERVICE_LISTEN_FDS_START 3

/* Send @state (e.g. "READY=1") to the service manager.  > 0 sent, 0 not
 * started by one (no NOTIFY_SOCKET), < 0 a negative errno. */
int service_notify(const char *state);

/* How many listening sockets the service manager passed (fds
 * SERVICE_LISTEN_FDS_START...): 0 when none or when they were meant for
 * another process (LISTEN_PID), < 0 a negative errno for a malformed
 * environment.  The LISTEN_* variables are removed so that children do not
 * inherit them, and the fds get FD_CLOEXEC. */
int service_listen_fds(void);

/* The protocol implementations used without libsystemd (same contracts). */
int service_protocol_notify(const char *state);
int service_protocol_listen_fds(void);

#endif /* DAEMON_SERVICE_H */
