/*
 * daemon/log.c: the line format (timestamp or journal priority, level,
 * domain, one line per message), the --log-level names, and how a
 * JOURNAL_STREAM value is matched against stderr.  The daemon's own use of
 * it is checked by test-service-manager.py and test-logging.py.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

/* 2025-12-07T00:16:36.443057Z, in µs since the epoch. */
#define SOME_TIME_US INT64_C(1765066596443057)

static bool line_is(GLogLevelFlags level, const char *domain,
                    const char *message, bool journal, const char *want)
{
    g_autofree char *got = daemon_log_format_line(level, domain, message,
                                                  journal, SOME_TIME_US);
    if (strcmp(got, want) != 0) {
        diag("got  '%s'", got);
        diag("want '%s'", want);
        return false;
    }
    return true;
}

static void test_level_names_parse(void)
{
    static const char *const names[] = { "error", "warning", "info",
                                         "debug" };
    static const DaemonLogLevel levels[] = { DAEMON_LOG_ERROR,
        DAEMON_LOG_WARNING, DAEMON_LOG_INFO, DAEMON_LOG_DEBUG };
    bool all = true;

    for (int i = 0; i < 4; i++) {
        DaemonLogLevel got = -1;
        all &= daemon_log_level_parse(names[i], &got) && got == levels[i];
    }
    ok(all, "error, warning, info and debug name their levels");
}

static void test_unknown_level_refused(void)
{
    static const char *const bad[] = { "", "warn", "INFO", "debug ", "7" };
    bool none = true;

    for (int i = 0; i < 5; i++) {
        DaemonLogLevel got = DAEMON_LOG_WARNING;
        none &= !daemon_log_level_parse(bad[i], &got) &&
                got == DAEMON_LOG_WARNING;
    }
    ok(none, "other names are refused and store nothing");
}

static void test_line_starts_with_utc_timestamp(void)
{
    ok(line_is(G_LOG_LEVEL_INFO, NULL, "listening", false,
               "2025-12-07T00:16:36.443057Z info iothreadd: listening\n"),
       "a line: UTC timestamp with microseconds, level, domain, message");
}

static void test_levels_named_in_line(void)
{
    ok(line_is(G_LOG_LEVEL_CRITICAL, NULL, "m", false,
               "2025-12-07T00:16:36.443057Z error iothreadd: m\n") &&
       line_is(G_LOG_LEVEL_WARNING, NULL, "m", false,
               "2025-12-07T00:16:36.443057Z warning iothreadd: m\n") &&
       line_is(G_LOG_LEVEL_MESSAGE, NULL, "m", false,
               "2025-12-07T00:16:36.443057Z info iothreadd: m\n") &&
       line_is(G_LOG_LEVEL_DEBUG, NULL, "m", false,
               "2025-12-07T00:16:36.443057Z debug iothreadd: m\n"),
       "critical reads error, message reads info, the others their name");
}

static void test_journal_lines_have_priority_prefix(void)
{
    ok(line_is(G_LOG_LEVEL_CRITICAL, NULL, "m", true, "<3>iothreadd: m\n") &&
       line_is(G_LOG_LEVEL_WARNING, NULL, "m", true, "<4>iothreadd: m\n") &&
       line_is(G_LOG_LEVEL_INFO, NULL, "m", true, "<6>iothreadd: m\n") &&
       line_is(G_LOG_LEVEL_DEBUG, NULL, "m", true, "<7>iothreadd: m\n"),
       "journal lines start with the syslog priority, no timestamp");
}

static void test_domain_named(void)
{
    ok(line_is(G_LOG_LEVEL_WARNING, "GLib", "m", false,
               "2025-12-07T00:16:36.443057Z warning GLib: m\n"),
       "a message's GLib domain replaces the default one");
}

static void test_message_kept_on_one_line(void)
{
    ok(line_is(G_LOG_LEVEL_WARNING, NULL, "first\nsecond\r\tthird\n", true,
               "<4>iothreadd: first second  third \n"),
       "newlines and other control characters become spaces: one line");
}

/* "DEV:INODE" of the file open on @fd. */
static char *identity(int fd)
{
    struct stat st;
    fstat(fd, &st);
    return g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
                           (unsigned long long)st.st_ino);
}

static void test_journal_stream_matches_its_file(void)
{
    int fd = open("/dev/null", O_WRONLY);
    g_autofree char *id = identity(fd);

    ok(daemon_log_stream_is_journal(id, fd),
       "JOURNAL_STREAM naming the fd's device and inode is the journal");
    close(fd);
}

static void test_journal_stream_of_other_file_ignored(void)
{
    int fd = open("/dev/null", O_WRONLY);
    int other = open("/dev/zero", O_RDONLY);
    g_autofree char *id = identity(other);

    ok(!daemon_log_stream_is_journal(id, fd),
       "JOURNAL_STREAM naming another file (stderr redirected) is not");
    close(fd);
    close(other);
}

static void test_malformed_journal_stream_ignored(void)
{
    int fd = open("/dev/null", O_WRONLY);
    g_autofree char *id = identity(fd);
    g_autofree char *trailing = g_strconcat(id, "x", NULL);

    ok(!daemon_log_stream_is_journal(NULL, fd) &&
       !daemon_log_stream_is_journal("", fd) &&
       !daemon_log_stream_is_journal("12", fd) &&
       !daemon_log_stream_is_journal(trailing, fd),
       "an absent, empty or malformed JOURNAL_STREAM is not the journal");
    close(fd);
}

int main(void)
{
    test_level_names_parse();
    test_unknown_level_refused();
    test_line_starts_with_utc_timestamp();
    test_levels_named_in_line();
    test_journal_lines_have_priority_prefix();
    test_domain_named();
    test_message_kept_on_one_line();
    test_journal_stream_matches_its_file();
    test_journal_stream_of_other_file_ignored();
    test_malformed_journal_stream_ignored();
    return done_testing();
}
