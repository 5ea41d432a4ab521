/*
 * Interactive prompt and script mode (see repl.h).
 */
#include "repl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "commands.h"
#include "complete.h"

int repl_exit_status(CmdStatus status)
{
    switch (status) {
    case CMD_OK:
    case CMD_QUIT:
        return EXIT_OK;
    case CMD_NO_CONNECTION:
        return EXIT_NO_CONNECTION;
    case CMD_FAILED:
    default:
        return EXIT_COMMAND_FAILED;
    }
}

static void on_sigint(int sig)
{
    cli_interrupted = 1;
}

void repl_install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int repl_script(Session *s, FILE *in, bool keep_going)
{
    char *line = NULL;
    size_t cap = 0;
    int result = EXIT_OK;

    while (getline(&line, &cap, in) >= 0) {
        g_strchomp(line);
        CmdStatus st = commands_run_line(s, line);
        if (st == CMD_QUIT) {
            break;
        }
        if (st != CMD_OK) {
            if (result == EXIT_OK) {
                result = repl_exit_status(st);
            }
            if (!keep_going) {
                break;
            }
        }
    }
    free(line);
    return result;
}

/* ---- interactive --------------------------------------------------------- */

static char *history_path(void)
{
    const char *state = g_getenv("XDG_STATE_HOME");

    if (state && state[0] == '/') {
        g_mkdir_with_parents(state, 0700);
        return g_build_filename(state, "iothreadctl_history", NULL);
    }
    return g_build_filename(g_get_home_dir(), ".iothreadctl_history", NULL);
}

static char *make_prompt(Session *s)
{
    char *label = session_label(s);
    char *prompt = g_strdup_printf("iothreadctl %s%s> ", label,
                                   s->client ? "" : " (disconnected)");
    g_free(label);
    return prompt;
}

/* The line readline handed us (NULL = none yet); eof: Ctrl-D. */
static char *entered_line;
static bool entered;
static bool entered_eof;

static void on_line(char *line)
{
    entered = true;
    entered_eof = (line == NULL);
    entered_line = line;
    /* Leave readline's mode while the command runs: `top` wants the
     * terminal to itself, and the next prompt must show the new state. */
    rl_callback_handler_remove();
}

static JsonObject *object_member(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* "iothreadd 0.1.0" or "QEMU 7.2.0 (PACKAGE)", from the greeting: the
 * version triple is named "qemu" in both; iothreadd's package is its
 * name, QEMU's a free-form build description (empty upstream). */
static char *server_name(JsonObject *version, JsonObject *triple)
{
    const char *package = json_object_get_string_member_with_default(
        version, "package", "");
    char *number = g_strdup_printf(
        "%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
        json_object_get_int_member_with_default(triple, "major", 0),
        json_object_get_int_member_with_default(triple, "minor", 0),
        json_object_get_int_member_with_default(triple, "micro", 0));
    char *name;

    /* iothreadd's package is "iothreadd" or "iothreadd VERSION". */
    if (!strcmp(package, "iothreadd") ||
        g_str_has_prefix(package, "iothreadd ")) {
        name = g_strdup_printf("iothreadd %s", number);
    } else if (*package) {
        name = g_strdup_printf("QEMU %s (%s)", number, package);
    } else {
        name = g_strdup_printf("QEMU %s", number);
    }
    g_free(number);
    return name;
}

static void print_banner(Session *s)
{
    JsonObject *greeting = s->client ? qmp_client_greeting(s->client) : NULL;
    JsonObject *version = object_member(greeting, "version");
    JsonObject *triple = object_member(version, "qemu");

    if (triple) {
        char *name = server_name(version, triple);
        printf("Connected to %s at %s.\n", name, s->address);
        g_free(name);
    } else {
        printf("Connected to %s.\n", s->address);
    }
    printf("Type 'help' for commands; Tab completes; Ctrl-D leaves.\n");
    fflush(stdout);
}

/* Print pending events without garbling the line being edited. */
static void async_output(Session *s)
{
    bool had_client = s->client != NULL;

    rl_clear_visible_line();
    session_drain_events(s);
    if (had_client && !s->client) {
        char *prompt = make_prompt(s);
        rl_set_prompt(prompt);
        g_free(prompt);
    }
    rl_forced_update_display();
}

static void cancel_line(void)
{
    /* Ctrl-C: forget the line being edited, keep the program. */
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_replace_line("", 0);
    rl_point = rl_end = 0;
    rl_mark = 0;
    rl_done = 0;
    fputs("^C\n", stdout);
    fflush(stdout);
    rl_on_new_line();
    rl_forced_update_display();
}

/* Edit one line at the prompt, printing events as they arrive.  The line
 * (free()), or NULL at Ctrl-D or when stdin fails. */
static char *read_line(Session *s)
{
    char *prompt = make_prompt(s);

    entered = false;
    rl_callback_handler_install(prompt, on_line);
    g_free(prompt);
    while (!entered) {
        struct pollfd pfd[2] = {
            { STDIN_FILENO, POLLIN, 0 },
            { s->client ? qmp_client_fd(s->client) : -1, POLLIN, 0 },
        };
        int r = poll(pfd, 2, -1);
        if (cli_interrupted) {
            cli_interrupted = 0;
            cancel_line();
            continue;
        }
        if (r < 0 && errno != EINTR) {
            break;
        }
        if (r > 0 && pfd[1].revents) {
            async_output(s);
        }
        if (r > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            rl_callback_read_char();
        }
    }
    if (!entered || entered_eof) {
        rl_callback_handler_remove();
        fputc('\n', stdout);
        return NULL;
    }
    char *line = entered_line;
    entered_line = NULL;
    return line;
}

/* Add a non-blank @line to the history unless it repeats the last one;
 * appended to @hist at once so a crash or a kill loses nothing. */
static void remember_line(const char *line, const char *hist)
{
    const char *p = line + strspn(line, " \t");

    if (!*p) {
        return;
    }
    HIST_ENTRY *last = history_length > 0
                       ? history_get(history_base + history_length - 1)
                       : NULL;
    if (!last || strcmp(last->line, line)) {
        add_history(line);
        if (append_history(1, hist) != 0) {
            write_history(hist);
        }
    }
}

int repl_interactive(Session *s)
{
    char *hist = history_path();
    char *line;

    using_history();
    stifle_history(2000);
    read_history(hist);      /* a missing file is fine */
    rl_catch_signals = 0;    /* our handler; readline's would exit */
    rl_catch_sigwinch = 1;
    complete_install(s);
    print_banner(s);

    while ((line = read_line(s))) {
        remember_line(line, hist);
        CmdStatus st = commands_run_line(s, line);
        free(line);
        if (st == CMD_QUIT) {
            break;
        }
    }
    history_truncate_file(hist, 2000);
    g_free(hist);
    return EXIT_OK;
}
