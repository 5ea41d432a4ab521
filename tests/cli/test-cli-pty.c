/*
 * iothreadctl through a pseudo-terminal (forkpty), as a person uses it:
 * the prompt, a table, tab completion of a command, an iothread id, an
 * argument, an enum value, a union variant's argument and a property,
 * Ctrl-C cancelling the line, events printed at the idle prompt, the live
 * top view left with q, a sort key switching top's order, Ctrl-D leaving, history surviving a restart.
 * SKIPs only when the daemon binary is not built.
 */
#include "tap.h"
#include "cli-harness.h"

#include <pty.h>
#include <termios.h>

#define PLAN 35

static Daemon daemon_;
static char *state_dir;

typedef struct {
    pid_t pid;
    int master;
    GString *seen;   /* everything read so far */
    gsize mark;      /* expect() searches from here */
} Pty;

static bool pty_start(Pty *p)
{
    struct winsize ws = { .ws_row = 40, .ws_col = 160 };

    p->seen = g_string_new(NULL);
    p->mark = 0;
    p->pid = forkpty(&p->master, NULL, NULL, &ws);
    if (p->pid < 0) {
        return false;
    }
    if (p->pid == 0) {
        setenv("XDG_STATE_HOME", state_dir, 1);
        setenv("TERM", "xterm", 1);
        setenv("INPUTRC", "/dev/null", 1);
        execl(harness_cli_path(), "iothreadctl", "-s", daemon_.sock,
              (char *)NULL);
        _exit(127);
    }
    return true;
}

/* Read until @needle appears after the mark (10 s at most); on success the
 * mark moves past it. */
static bool expect(Pty *p, const char *needle)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    for (;;) {
        const char *hit = strstr(p->seen->str + p->mark, needle);
        if (hit) {
            p->mark = hit - p->seen->str + strlen(needle);
            return true;
        }
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        if (left <= 0) {
            diag("timed out waiting for '%s'; recent output: '%s'", needle,
                 p->seen->str + p->mark);
            return false;
        }
        struct pollfd pfd = { p->master, POLLIN, 0 };
        if (poll(&pfd, 1, left) > 0) {
            char buf[4096];
            ssize_t n = read(p->master, buf, sizeof(buf));
            if (n <= 0) {
                diag("pty closed waiting for '%s'", needle);
                return false;
            }
            g_string_append_len(p->seen, buf, n);
        }
    }
}

static void type(Pty *p, const char *text)
{
    if (write(p->master, text, strlen(text)) < 0) {
        diag("write to pty failed: %s", strerror(errno));
    }
}

/* Wait for the child to exit (10 s); its exit status or -1. */
static int pty_wait(Pty *p)
{
    for (int i = 0; i < 1000; i++) {
        int status;
        char buf[4096];
        /* Keep draining so the child never blocks on a full pty. */
        struct pollfd pfd = { p->master, POLLIN, 0 };
        if (poll(&pfd, 1, 0) > 0 && read(p->master, buf, sizeof(buf)) > 0) {
            continue;
        }
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        g_usleep(10000);
    }
    return -1;
}

static void pty_close(Pty *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    close(p->master);
    g_string_free(p->seen, TRUE);
}

static bool alive(Pty *p)
{
    return waitpid(p->pid, NULL, WNOHANG) == 0;
}

/* The banner names the server, the prompt appears; a typed command shows
 * its table. */
static void test_prompt_and_table_appear(Pty *p)
{
    ok(expect(p, "Connected to iothreadd "), "the banner names iothreadd "
       "(its greeting's package), not QEMU");
    ok(expect(p, "iothreadctl ") && expect(p, "> "), "the prompt appears");

    type(p, "info iothreads\r");
    ok(expect(p, "POLL-MAX") && expect(p, "solo7") && expect(p, "> "),
       "typing info iothreads shows the table");
}

/* Tab completes a command name and a live iothread id; the completed lines run. */
static void test_tab_completes_commands_and_ids(Pty *p)
{
    type(p, "query-iot\t");
    ok(expect(p, "hread"), "Tab completes query-iot to query-iothread");
    type(p, "s\r");
    ok(expect(p, "\"thread-id\"") && expect(p, "> "),
       "the completed command runs");

    type(p, "iothread del so\t");
    ok(expect(p, "lo7"), "Tab completes a live iothread id");
    type(p, "\r");
    ok(expect(p, "iothread solo7 deleted") && expect(p, "> "),
       "the completed line deletes solo7");
}

/* Tab completes argument names, enum values, a union variant's arguments, iothread set properties and the properties qom-list names; the completed lines run. */
static void test_tab_completes_arguments_values_properties(Pty *p)
{
    type(p, "object-add qom-t\t");
    ok(expect(p, "ype="), "Tab completes an argument name with its '='");
    type(p, "io\t");
    ok(expect(p, "thread"), "Tab completes an enum value (qom-type)");
    type(p, " id=cpl1 poll-ma\t");
    ok(expect(p, "x-ns="), "Tab completes an argument of the chosen "
       "union variant");
    type(p, "7\r");
    ok(expect(p, "> "), "the completed object-add runs");

    type(p, "iothread set cpl1 thread-pool-mi\t");
    ok(expect(p, "n="), "Tab completes an iothread property of "
       "iothread set");
    type(p, "3\r");
    ok(expect(p, "iothread cpl1 updated") && expect(p, "> "),
       "the completed iothread set runs");

    type(p, "qom-get path=/objects/cpl1 property=poll-max\t");
    ok(expect(p, "-ns"), "Tab completes a property the path's object "
       "lists (qom-list)");
    type(p, "\r");
    ok(expect(p, "7\r\n") && expect(p, "> "),
       "the completed qom-get reads the value set through completion");
}

/* Ctrl-C cancels the typed line and gives a fresh prompt without ending the program. */
static void test_ctrl_c_cancels_the_line(Pty *p)
{
    type(p, "garbage-line");
    ok(expect(p, "garbage-line"), "typed text is echoed");
    g_usleep(100 * 1000);
    type(p, "\003");
    ok(expect(p, "^C") && expect(p, "> "), "Ctrl-C gives a fresh prompt");
    ok(alive(p), "Ctrl-C did not end the program");
    type(p, "info iothreads\r");
    ok(expect(p, "POLL-MAX") && expect(p, "> "),
       "the next command works after Ctrl-C");
    ok(!strstr(p->seen->str, "unknown command 'garbage-line"),
       "the cancelled line was not run");
}

/* With events on, an event caused by another client shows up at the idle prompt. */
static void test_event_shows_at_idle_prompt(Pty *p)
{
    char *out = NULL, *err = NULL;

    type(p, "events on\r");
    ok(expect(p, "events on") && expect(p, "> "), "events on");
    cli_run(daemon_.sock,
            (const char *const[]){ "-c", "iothread add evpty", NULL }, NULL,
            &out, &err);
    ok(expect(p, "OBJECT_ADDED") && expect(p, "evpty"),
       "an event from another client shows up at the idle prompt");
    g_free(out);
    g_free(err);
}

/* top draws in place on a terminal and q returns to the prompt. */
static void test_top_draws_in_place(Pty *p)
{
    type(p, "top --interval 0.2\r");
    ok(expect(p, "\033[H") && expect(p, "iothreadctl top") &&
       expect(p, "BUSY%"), "top draws in place on a terminal");
    type(p, "q");
    ok(expect(p, "> "), "q leaves top and returns to the prompt");
    type(p, "info iothreads\r");   /* the newest history line */
    ok(expect(p, "POLL-MAX") && expect(p, "> "), "a command after top");
}

/* In top a sort key switches the order (the legend marks the key in
 * use; the last frame is redrawn at once).  Ends with `info iothreads`,
 * the line the history test recalls. */
static void test_top_sort_key_switches(Pty *p)
{
    type(p, "top --interval 0.3\r");
    ok(expect(p, "b busy*"), "top starts sorted by busy, marked so");
    type(p, "c");
    ok(expect(p, "c cpu*"), "key c switches the sort to CPU");
    type(p, "q");
    expect(p, "> ");
    type(p, "info iothreads\r");
    ok(expect(p, "POLL-MAX") && expect(p, "> "),
       "the prompt is back after top");
}

/* History is written to $XDG_STATE_HOME and Up recalls the previous run's
 * last line after a restart. */
static void test_history_survives_restart(Pty *p)
{
    char *hist = g_build_filename(state_dir, "iothreadctl_history", NULL);
    char *contents = NULL;
    ok(g_file_get_contents(hist, &contents, NULL, NULL) &&
       strstr(contents, "info iothreads"),
       "history written to $XDG_STATE_HOME/iothreadctl_history");
    g_free(contents);
    g_free(hist);

    pty_start(p);
    expect(p, "> ");
    type(p, "\033[A");   /* Up */
    ok(expect(p, "info iothreads"), "Up recalls the last line of the "
       "previous run: history survives a restart");
    type(p, "\r");
    ok(expect(p, "POLL-MAX"), "the recalled command runs");
    type(p, "quit\r");
    is_int(pty_wait(p), 0, "quit leaves with status 0");
    pty_close(p);
}

int main(void)
{
    Pty p;
    char *out = NULL, *err = NULL;

    plan(PLAN);
    if (!harness_daemon_path()) {
        skip(PLAN, "iothreadd is not built");
        return done_testing();
    }
    if (!ok(daemon_start(&daemon_), "daemon started")) {
        daemon_cleanup(&daemon_);
        skip(PLAN - 1, "no daemon");
        return done_testing();
    }
    state_dir = g_build_filename(daemon_.dir, "state", NULL);
    cli_run(daemon_.sock,
            (const char *const[]){ "-c", "iothread add solo7", NULL }, NULL,
            &out, &err);

    ok(pty_start(&p), "iothreadctl started on a pty");
    /* One terminal session, in this order: each case leaves the prompt
     * ready for the next (ids solo7 and cpl1 are theirs). */
    test_prompt_and_table_appear(&p);
    test_tab_completes_commands_and_ids(&p);
    test_tab_completes_arguments_values_properties(&p);
    test_ctrl_c_cancels_the_line(&p);
    test_event_shows_at_idle_prompt(&p);
    test_top_draws_in_place(&p);
    test_top_sort_key_switches(&p);
    type(&p, "\004");
    is_int(pty_wait(&p), 0, "Ctrl-D leaves with status 0");
    pty_close(&p);
    test_history_survives_restart(&p);

    daemon_cleanup(&daemon_);
    g_free(state_dir);
    g_free(out);
    g_free(err);
    return done_testing();
}
