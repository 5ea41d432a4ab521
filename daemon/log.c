/*
 * iothreadd's log (see log.h): a GLib log writer that prints one line per
 * message, timestamped, or with a syslog priority prefix for the journal.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set once by daemon_log_init() before other threads exist; read-only
 * afterwards. */
static DaemonLogLevel log_threshold = DAEMON_LOG_INFO;
static bool log_to_journal;

/* Indexed by DaemonLogLevel: the name (--log-level and the line) and the
 * syslog priority of the journal prefix. */
static const struct {
    const char *name;
    int priority;
} log_levels[] = {
    [DAEMON_LOG_ERROR] = { "error", 3 },
    [DAEMON_LOG_WARNING] = { "warning", 4 },
    [DAEMON_LOG_INFO] = { "info", 6 },
    [DAEMON_LOG_DEBUG] = { "debug", 7 },
};

bool daemon_log_level_parse(const char *name, DaemonLogLevel *out)
{
    for (int i = 0; i < (int)G_N_ELEMENTS(log_levels); i++) {
        if (strcmp(name, log_levels[i].name) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

static DaemonLogLevel level_of(GLogLevelFlags glib_level)
{
    if (glib_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        return DAEMON_LOG_ERROR;
    }
    if (glib_level & G_LOG_LEVEL_WARNING) {
        return DAEMON_LOG_WARNING;
    }
    if (glib_level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) {
        return DAEMON_LOG_INFO;
    }
    return DAEMON_LOG_DEBUG;
}

/* @message with every control character (newlines included) as a space,
 * so one event stays one line. */
static void append_one_line(GString *out, const char *message)
{
    for (const char *p = message; *p; p++) {
        g_string_append_c(out, (unsigned char)*p < 0x20 || *p == 0x7f
                               ? ' ' : *p);
    }
}

static void append_timestamp(GString *out, int64_t now_us)
{
    time_t secs = now_us / G_USEC_PER_SEC;
    struct tm tm;
    char text[32];

    gmtime_r(&secs, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    g_string_append_printf(out, "%s.%06dZ ", text,
                           (int)(now_us % G_USEC_PER_SEC));
}

char *daemon_log_format_line(GLogLevelFlags glib_level, const char *domain,
                             const char *message, bool journal,
                             int64_t now_us)
{
    DaemonLogLevel level = level_of(glib_level);
    GString *out = g_string_new(NULL);

    if (journal) {
        g_string_append_printf(out, "<%d>", log_levels[level].priority);
    } else {
        append_timestamp(out, now_us);
        g_string_append_printf(out, "%s ", log_levels[level].name);
    }
    g_string_append_printf(out, "%s: ", domain ? domain : DAEMON_LOG_DOMAIN);
    append_one_line(out, message ? message : "");
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}

bool daemon_log_stream_is_journal(const char *env, int fd)
{
    unsigned long long dev, ino;
    struct stat st;
    int used = 0;

    if (!env || sscanf(env, "%llu:%llu%n", &dev, &ino, &used) != 2 ||
        env[used] != '\0' || fstat(fd, &st) < 0) {
        return false;
    }
    return st.st_dev == dev && st.st_ino == ino;
}

/* The message and domain fields of a structured log call. */
static void find_fields(const GLogField *fields, gsize n_fields,
                        const char **message, const char **domain)
{
    *message = *domain = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (fields[i].length >= 0) {
            continue;           /* binary field: not text we print */
        }
        if (strcmp(fields[i].key, "MESSAGE") == 0) {
            *message = fields[i].value;
        } else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0) {
            *domain = fields[i].value;
        }
    }
}

static GLogWriterOutput write_line(GLogLevelFlags glib_level,
                                   const GLogField *fields, gsize n_fields,
                                   gpointer unused)
{
    const char *message, *domain;

    if (level_of(glib_level) > log_threshold) {
        return G_LOG_WRITER_HANDLED;
    }
    find_fields(fields, n_fields, &message, &domain);
    char *line = daemon_log_format_line(glib_level, domain, message,
                                        log_to_journal, g_get_real_time());
    /* One write per line: lines of concurrent threads never interleave;
     * a failed write has nowhere better to be reported. */
    ssize_t written = write(STDERR_FILENO, line, strlen(line));
    g_free(line);
    return written < 0 ? G_LOG_WRITER_UNHANDLED : G_LOG_WRITER_HANDLED;
}

void daemon_log_init(DaemonLogLevel level)
{
    log_threshold = level;
    log_to_journal = daemon_log_stream_is_journal(g_getenv("JOURNAL_STREAM"),
                                                  STDERR_FILENO);
    g_log_set_writer_func(write_line, NULL, NULL);
}
