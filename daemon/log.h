/*
 * iothreadd's log: every GLib log message of the process (the daemon's own
 * and libaioctx's g_warning/g_info/...) becomes one line on stderr.
 *
 *   2026-12-07T00:16:36.443057Z info iothreadd: listening on unix:/run/x.sock
 *
 * a UTC timestamp with microseconds, the level, the GLib log domain
 * ("iothreadd" for the project's own messages, which set none) and the
 * message, its newlines
 * and other control characters replaced by spaces so one event is one
 * line.  When stderr is the journal (JOURNAL_STREAM names stderr's device
 * and inode, as systemd sets it for a service), a line is instead
 * "<N>domain: message" with N the syslog priority of the level (3 error,
 * 4 warning, 6 info, 7 debug): the journal adds its own timestamp and
 * reads the priority from the prefix.  Messages below the --log-level are
 * dropped; GLib's fatal levels still abort after their line is written.
 *
 * Thread rules: daemon_log_init() runs once in main() before any other
 * thread exists and is the only writer of the settings; afterwards any
 * thread may log (each line is one write(2), so lines of different
 * threads do not interleave).
 */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

#define DAEMON_LOG_DOMAIN "iothreadd"

typedef enum DaemonLogLevel {
    DAEMON_LOG_ERROR,           /* GLib error and critical */
    DAEMON_LOG_WARNING,         /* GLib warning */
    DAEMON_LOG_INFO,            /* GLib message and info */
    DAEMON_LOG_DEBUG,           /* GLib debug */
} DaemonLogLevel;

/* The names --log-level accepts, in level order. */
#define DAEMON_LOG_LEVEL_NAMES "error|warning|info|debug"

/* The level named @name; false (nothing stored) for any other text. */
bool daemon_log_level_parse(const char *name, DaemonLogLevel *out);

/* Route every GLib log message through the formatter at @level and
 * above; journal mode when JOURNAL_STREAM matches stderr. */
void daemon_log_init(DaemonLogLevel level);

/* Whether JOURNAL_STREAM=@env ("DEV:INODE") names the file open on
 * @fd. */
bool daemon_log_stream_is_journal(const char *env, int fd);

/* One formatted line, newline included (caller frees).  @glib_level is a
 * GLogLevelFlags level; @domain may be NULL; @now_us is wall-clock time in
 * microseconds since the epoch (ignored in journal mode). */
char *daemon_log_format_line(GLogLevelFlags glib_level, const char *domain,
                             const char *message, bool journal,
                             int64_t now_us);

G_END_DECLS

#endif /* DAEMON_LOG_H */
