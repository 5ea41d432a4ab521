/*
 * `top [--interval S] [--count N]`: a live view of the iothreads built from
 * two successive query-iothread-stats samples, sorted by busy time.  On a
 * terminal it redraws in place and reads single keys (q leaves); elsewhere
 * (pipes, tests) it prints frames one after the other.
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "table.h"

typedef struct {
    const char *id;
    JsonObject *cur;
    JsonObject *prev;    /* NULL for a context new since the last frame */
    double busy_delta;   /* sort key */
} TopRow;

static JsonObject *find_sample(GPtrArray *samples, const char *id)
{
    for (guint i = 0; samples && i < samples->len; i++) {
        StatsSample *sm = samples->pdata[i];
        if (!strcmp(sm->id, id)) {
            return sm->stats;
        }
    }
    return NULL;
}

static bool delta(const TopRow *r, const char *name, double *out)
{
    double a, b;

    if (!r->prev || !stats_value(r->cur, name, &a) ||
        !stats_value(r->prev, name, &b)) {
        return false;
    }
    *out = a - b;
    return true;
}

static char *share_cell(const TopRow *r, const char *name, double wall_ns)
{
    double d;

    return delta(r, name, &d) ? table_fmt_percent(d / wall_ns) : NULL;
}

static char *rate_cell(const TopRow *r, const char *name, double seconds)
{
    double d;

    return delta(r, name, &d) ? table_fmt_rate(d / seconds) : NULL;
}

static char *level_cell(JsonObject *stats, const char *name)
{
    double v;

    return stats_value(stats, name, &v) ? g_strdup_printf("%.0f", v) : NULL;
}

static int compare_rows(gconstpointer a, gconstpointer b)
{
    const TopRow *x = a, *y = b;

    if (x->busy_delta != y->busy_delta) {
        return x->busy_delta > y->busy_delta ? -1 : 1;
    }
    return strcmp(x->id, y->id);
}

static GArray *build_rows(GPtrArray *prev, GPtrArray *cur)
{
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(TopRow));

    for (guint i = 0; i < cur->len; i++) {
        StatsSample *sm = cur->pdata[i];
        TopRow r = { sm->id, sm->stats, find_sample(prev, sm->id), -1 };
        double d;
        if (delta(&r, "busy-ns", &d)) {
            r.busy_delta = d;
        }
        g_array_append_val(rows, r);
    }
    g_array_sort(rows, compare_rows);
    return rows;
}

static char *render_frame(Session *s, GArray *rows, double seconds,
                          double interval, bool keys)
{
    static const char *const headers[] = {
        "ID", "BACKEND", "BUSY%", "POLL%", "BLOCK%", "CPU%", "LOOPS/s",
        "BH/s", "FD/s", "HIT%", "POLL-NS", "POOL", "QUEUED", "INFLIGHT",
        "IO/s", NULL
    };
    double wall_ns = seconds * 1e9;
    Table *t = table_new(headers);
    GString *out = g_string_new(NULL);
    GDateTime *now = g_date_time_new_now_local();
    char *clock = g_date_time_format(now, "%H:%M:%S");
    char *label = session_label(s);

    g_string_append_printf(out, "iothreadctl top - %s - %s - every %.1fs%s\n",
                            label, clock, interval, keys ? " - q quits" : "");
    for (guint i = 0; i < rows->len; i++) {
        const TopRow *r = &g_array_index(rows, TopRow, i);
        double hits, attempts;
        char *cells[15] = { 0 };
        cells[0] = g_strdup(r->id);
        cells[1] = g_strdup(json_object_get_string_member_with_default(
            r->cur, "backend", "-"));
        cells[2] = share_cell(r, "busy-ns", wall_ns);
        cells[3] = share_cell(r, "polling-ns", wall_ns);
        cells[4] = share_cell(r, "blocked-ns", wall_ns);
        cells[5] = share_cell(r, "thread-cpu-ns", wall_ns);
        cells[6] = rate_cell(r, "iterations", seconds);
        cells[7] = rate_cell(r, "bh-calls", seconds);
        cells[8] = rate_cell(r, "fd-dispatches", seconds);
        cells[9] = (delta(r, "poll-hits", &hits) &&
                    delta(r, "poll-attempts", &attempts) && attempts > 0)
                   ? table_fmt_percent(hits / attempts) : NULL;
        cells[10] = level_cell(r->cur, "poll-ns-current");
        cells[11] = level_cell(r->cur, "pool-threads");
        cells[12] = level_cell(r->cur, "pool-queued");
        cells[13] = level_cell(r->cur, "io-in-flight");
        cells[14] = rate_cell(r, "io-completed", seconds);
        table_add_row(t, (const char *const *)cells);
        for (guint c = 0; c < G_N_ELEMENTS(cells); c++) {
            g_free(cells[c]);
        }
    }
    char *table = table_render_fit(t, session_width(s));
    g_string_append(out, table);
    g_free(table);
    table_free(t);
    g_free(label);
    g_free(clock);
    g_date_time_unref(now);
    return g_string_free(out, FALSE);
}

static JsonNode *frame_json(GArray *rows, double seconds)
{
    JsonArray *arr = json_array_new();

    for (guint i = 0; i < rows->len; i++) {
        const TopRow *r = &g_array_index(rows, TopRow, i);
        JsonObject *o = json_object_new();
        double d;
        json_object_set_string_member(o, "id", r->id);
        json_object_set_string_member(
            o, "backend",
            json_object_get_string_member_with_default(r->cur, "backend",
                                                       ""));
        if (delta(r, "busy-ns", &d)) {
            json_object_set_double_member(o, "busy-fraction",
                                          d / (seconds * 1e9));
        }
        if (delta(r, "iterations", &d)) {
            json_object_set_double_member(o, "iterations-per-second",
                                          d / seconds);
        }
        json_array_add_object_element(arr, o);
    }
    JsonObject *frame = json_object_new();
    json_object_set_double_member(frame, "interval", seconds);
    json_object_set_array_member(frame, "iothreads", arr);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, frame);
    return n;
}

/* Wait @ms for a key on stdin (when @keys) or for SIGINT; true if the
 * user asked to leave. */
static bool wait_or_quit(int ms, bool keys)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

    for (;;) {
        if (cli_interrupted) {
            cli_interrupted = 0;
            return true;
        }
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            return false;
        }
        struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
        int r = poll(keys ? &pfd : NULL, keys ? 1 : 0,
                     (int)((left + 999) / 1000));
        if (r < 0 && errno != EINTR) {
            return false;
        }
        if (r > 0) {
            char ch;
            ssize_t n = read(STDIN_FILENO, &ch, 1);
            /* q, Q, Ctrl-C, Ctrl-D, Escape, or stdin gone: leave. */
            if (n <= 0 || ch == 'q' || ch == 'Q' || ch == 3 || ch == 4 ||
                ch == 27) {
                return true;
            }
        }
    }
}

static bool parse_number(const char *text, double min, double *out)
{
    char *end;
    double v = g_ascii_strtod(text, &end);

    if (!*text || *end || !isfinite(v) || v < min) {
        return false;
    }
    *out = v;
    return true;
}

/* --interval S and --count N (0: until the user leaves); false with the
 * usage printed on anything else. */
static bool parse_top_args(Session *s, char **argv, double *interval,
                           guint *count)
{
    double count_d = 0;

    *interval = 1.0;
    for (guint i = 1; argv[i]; i++) {
        if (!strcmp(argv[i], "--interval") && argv[i + 1] &&
            parse_number(argv[i + 1], 0.05, interval)) {
            i++;
        } else if (!strcmp(argv[i], "--count") && argv[i + 1] &&
                   parse_number(argv[i + 1], 1, &count_d) &&
                   count_d == floor(count_d) && count_d <= 1e6) {
            i++;
        } else {
            session_print_error(s, "GenericError", "usage: top [--interval "
                                "S] [--count N] (S >= 0.05, N >= 1)");
            return false;
        }
    }
    *count = (guint)count_d;
    return true;
}

/* Single keys without echo while top runs; false if stdin is no
 * terminal. */
static bool keys_on(struct termios *saved)
{
    if (tcgetattr(STDIN_FILENO, saved) != 0) {
        return false;
    }
    struct termios raw = *saved;
    raw.c_lflag &= ~(ICANON | ECHO | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    return true;
}

/* Print one frame from two samples @seconds apart. */
static void print_frame(Session *s, GPtrArray *prev, GPtrArray *cur,
                        double seconds, double interval, bool live, bool keys,
                        guint frame)
{
    GArray *rows = build_rows(prev, cur);

    if (s->json) {
        JsonNode *n = frame_json(rows, seconds);
        session_print_result(s, n);
        json_node_unref(n);
    } else {
        char *text = render_frame(s, rows, seconds, interval, keys);
        if (live) {
            fputs("\033[H\033[2J", stdout);
        } else if (frame) {
            fputc('\n', stdout);
        }
        fputs(text, stdout);
        fflush(stdout);
        g_free(text);
    }
    g_array_free(rows, TRUE);
}

/* Sample every @interval seconds and print a frame, @count times (0:
 * until q or Ctrl-C); takes @prev, the first sample. */
static CmdStatus run_frames(Session *s, GPtrArray *prev, double interval,
                            guint count, bool live, bool keys)
{
    gint64 prev_us = g_get_monotonic_time();
    CmdStatus status = CMD_OK;

    cli_interrupted = 0;
    for (guint frame = 0; !count || frame < count; frame++) {
        if (wait_or_quit((int)(interval * 1000), keys)) {
            break;
        }
        GPtrArray *cur = stats_fetch(s, NULL, &status);
        if (!cur) {
            break;
        }
        gint64 now_us = g_get_monotonic_time();
        print_frame(s, prev, cur, MAX(now_us - prev_us, 1) / 1e6, interval,
                    live, keys, frame);
        g_ptr_array_unref(prev);
        prev = cur;
        prev_us = now_us;
    }
    g_ptr_array_unref(prev);
    return status;
}

CmdStatus cmd_top(Session *s, char **argv)
{
    double interval;
    guint count;
    CmdStatus status;
    struct termios saved;

    if (!parse_top_args(s, argv, &interval, &count)) {
        return CMD_FAILED;
    }
    if (session_lacks(s, "query-iothread-stats")) {
        return CMD_OK;
    }
    GPtrArray *first = stats_fetch(s, NULL, &status);
    if (!first) {
        return status;
    }
    bool live = isatty(STDOUT_FILENO) && !s->json;
    bool keys = live && isatty(STDIN_FILENO) && keys_on(&saved);
    if (live) {
        fputs("\033[?25l", stdout);   /* hide the cursor while redrawing */
    }
    status = run_frames(s, first, interval, count, live, keys);
    if (keys) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    }
    if (live) {
        fputs("\033[?25h", stdout);
        fflush(stdout);
    }
    return status;
}
