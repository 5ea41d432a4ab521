/*
 * `top [--interval S] [--count N] [--sort KEY]`: a live view of the
 * iothreads built from two successive query-iothread-stats samples (and
 * query-workloads, when the server has it).  On a terminal it redraws in
 * place and reads single keys: a sort key (the legend lists them) re-sorts
 * at once, q leaves; elsewhere (pipes, tests) it prints frames one after
 * the other.
 *
 * Columns are a fixed set (the table below), each read from a member of
 * the reply by the member's name; a column whose member no reply has is
 * left out, so the view works against servers with fewer statistics.
 * Rows are laid out in fixed widths, one blank apart, so a frame fits 80
 * columns; on a narrower terminal the rightmost columns are dropped and
 * the title lines cut, so no line is wider than the terminal.
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

/* How a column's value is read from the samples. */
typedef enum {
    TOP_SHARE,      /* counter delta (ns) over the wall time, shown in % */
    TOP_RATE,       /* counter delta per second (a gauge: its value) */
    TOP_TOTAL,      /* the value in the current sample */
    TOP_P99,        /* member "p99" of a HistogramSummary member (ns) */
    TOP_WORKLOAD_IOPS,  /* sum over the iothread's running workloads */
    TOP_WORKLOAD_P99,   /* their largest p99 latency (ns) */
} TopKind;

typedef struct {
    const char *header;
    int width;
    const char *member;     /* of the stats object; NULL: workloads */
    TopKind kind;
    char key;               /* sort key, or 0 */
    const char *key_name;   /* in the legend */
    const char *json_name;  /* with --json */
} TopColumn;

static const TopColumn top_columns[] = {
    { "BUSY%", 5, "busy-ns", TOP_SHARE, 'b', "busy", "busy-fraction" },
    { "POLL%", 5, "polling-ns", TOP_SHARE, 0, NULL, "polling-fraction" },
    { "BLKD%", 5, "blocked-ns", TOP_SHARE, 0, NULL, "blocked-fraction" },
    { "CPU%", 5, "thread-cpu-ns", TOP_SHARE, 'c', "cpu", "cpu-fraction" },
    { "WAKE/s", 6, "notify-wakeups", TOP_RATE, 'w', "wake-ups",
      "notify-wakeups-per-second" },
    { "BH/s", 5, "bh-calls", TOP_RATE, 0, NULL, "bh-calls-per-second" },
    { "FD/s", 5, "fd-dispatches", TOP_RATE, 0, NULL,
      "fd-dispatches-per-second" },
    { "P99WAKE", 7, "wake-latency-ns", TOP_P99, 'l', "p99 wake",
      "wake-latency-p99-ns" },
    { "STALLS", 6, "stalls", TOP_TOTAL, 's', "stalls", "stalls" },
    { "IOPS", 5, NULL, TOP_WORKLOAD_IOPS, 'i', "iops", "workload-iops" },
    { "P99IO", 5, NULL, TOP_WORKLOAD_P99, 0, NULL, "workload-p99-ns" },
};
#define TOP_NCOLS G_N_ELEMENTS(top_columns)
#define TOP_ID_WIDTH 9      /* "main-loop"; longer ids are cut, ending in '~' */

typedef struct {
    char *id;
    double value[TOP_NCOLS];    /* NAN: not known */
} TopRow;

/* What one frame shows: rows with every column's value, which columns
 * any reply had, the interval the rates cover. */
typedef struct {
    GArray *rows;               /* TopRow */
    bool present[TOP_NCOLS];
    double seconds;
} TopFrame;

/* The view's settings. */
typedef struct {
    double interval;
    guint count;                /* 0: until the user leaves */
    char sort;                  /* a column's key */
    bool live;                  /* redraw in place */
    bool keys;                  /* single keys are read */
} TopView;

/* ---------------------------------------------------------------------- */
/* Values                                                                  */

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

static double delta(JsonObject *cur, JsonObject *prev, const char *name)
{
    double a, b;

    if (!prev || !stats_value(cur, name, &a) || !stats_value(prev, name, &b)) {
        return NAN;
    }
    return a - b;
}

/* Member @field of the object member @name of @stats, or NAN. */
static double sub_value(JsonObject *stats, const char *name, const char *field)
{
    JsonNode *n = json_object_get_member(stats, name);
    double v;

    if (!n || !JSON_NODE_HOLDS_OBJECT(n) ||
        !stats_value(json_node_get_object(n), field, &v)) {
        return NAN;
    }
    return v;
}

/* The value of stats column @c for one iothread. */
static double stats_column_value(Session *s, const TopColumn *c,
                                 JsonObject *cur, JsonObject *prev,
                                 double seconds)
{
    double v;

    switch (c->kind) {
    case TOP_SHARE:
        return delta(cur, prev, c->member) / (seconds * 1e9);
    case TOP_RATE:
        if (stats_is_gauge(s, c->member)) {
            return stats_value(cur, c->member, &v) ? v : NAN;
        }
        return delta(cur, prev, c->member) / seconds;
    case TOP_TOTAL:
        return stats_value(cur, c->member, &v) ? v : NAN;
    case TOP_P99:
        return sub_value(cur, c->member, "p99");
    default:
        return NAN;
    }
}

/* ---------------------------------------------------------------------- */
/* Workloads (query-workloads: per workload its iothread, state, iops and
 * latency summaries; the last interval's figures when the reply has them,
 * else those since its start) */

typedef struct {
    double iops;
    double p99;
} TopLoad;

static double workload_figure(JsonObject *w, const char *interval,
                              const char *total, const char *field)
{
    const char *name = json_object_has_member(w, interval) ? interval : total;

    if (!field) {
        double v;
        return stats_value(w, name, &v) ? v : NAN;
    }
    return sub_value(w, name, field);
}

/* iothread id -> TopLoad * of its running workloads; NULL when the
 * server has no query-workloads or none runs. */
static GHashTable *fetch_workloads(Session *s)
{
    CmdStatus status;

    if (!session_has_command(s, "query-workloads")) {
        return NULL;
    }
    JsonNode *ret = session_execute(s, "query-workloads", NULL, &status);
    GHashTable *loads = NULL;
    JsonArray *arr = ret && JSON_NODE_HOLDS_ARRAY(ret)
                     ? json_node_get_array(ret) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        JsonObject *w = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                  : NULL;
        const char *thread = w ? json_object_get_string_member_with_default(
                                     w, "iothread", NULL) : NULL;
        const char *state = w ? json_object_get_string_member_with_default(
                                    w, "state", "running") : NULL;
        if (!thread || strcmp(state, "running") != 0) {
            continue;
        }
        if (!loads) {
            loads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          g_free);
        }
        TopLoad *l = g_hash_table_lookup(loads, thread);
        if (!l) {
            l = g_new0(TopLoad, 1);
            g_hash_table_insert(loads, g_strdup(thread), l);
        }
        double iops = workload_figure(w, "iops-interval", "iops", NULL);
        double p99 = workload_figure(w, "latency-interval-ns", "latency-ns",
                                     "p99");
        l->iops += isnan(iops) ? 0 : iops;
        l->p99 = isnan(p99) ? l->p99 : MAX(l->p99, p99);
    }
    if (ret) {
        json_node_unref(ret);
    }
    return loads;
}

/* ---------------------------------------------------------------------- */
/* Frames                                                                  */

static void top_row_clear(gpointer p)
{
    g_free(((TopRow *)p)->id);
}

static void fill_row(Session *s, TopFrame *f, TopRow *r, JsonObject *cur,
                     JsonObject *prev, GHashTable *loads)
{
    TopLoad *load = loads ? g_hash_table_lookup(loads, r->id) : NULL;

    for (guint c = 0; c < TOP_NCOLS; c++) {
        const TopColumn *col = &top_columns[c];
        if (col->member) {
            f->present[c] |= json_object_has_member(cur, col->member);
            r->value[c] = stats_column_value(s, col, cur, prev, f->seconds);
        } else {
            f->present[c] |= loads != NULL;
            r->value[c] = !load ? NAN : col->kind == TOP_WORKLOAD_IOPS
                          ? load->iops : load->p99;
        }
    }
}

static TopFrame *frame_new(Session *s, GPtrArray *prev, GPtrArray *cur,
                           double seconds)
{
    TopFrame *f = g_new0(TopFrame, 1);
    GHashTable *loads = fetch_workloads(s);

    f->seconds = seconds;
    f->rows = g_array_new(FALSE, TRUE, sizeof(TopRow));
    g_array_set_clear_func(f->rows, top_row_clear);
    for (guint i = 0; i < cur->len; i++) {
        StatsSample *sm = cur->pdata[i];
        TopRow r = { g_strdup(sm->id), { 0 } };
        fill_row(s, f, &r, sm->stats, find_sample(prev, sm->id), loads);
        g_array_append_val(f->rows, r);
    }
    if (loads) {
        g_hash_table_unref(loads);
    }
    return f;
}

static void frame_free(TopFrame *f)
{
    if (f) {
        g_array_free(f->rows, TRUE);
        g_free(f);
    }
}

/* The column sort key @key orders by, or -1. */
static int sort_column(char key)
{
    for (guint c = 0; key && c < TOP_NCOLS; c++) {
        if (top_columns[c].key == key) {
            return (int)c;
        }
    }
    return -1;
}

/* Descending by column *@column (unknown values last), then by id. */
static int compare_rows(gconstpointer a, gconstpointer b, gpointer column)
{
    const TopRow *x = a, *y = b;
    int c = *(const int *)column;
    double u = x->value[c], v = y->value[c];

    if (isnan(u) != isnan(v)) {
        return isnan(u) ? 1 : -1;
    }
    if (!isnan(u) && u != v) {
        return u > v ? -1 : 1;
    }
    return strcmp(x->id, y->id);
}

static void frame_sort(TopFrame *f, char key)
{
    int column = MAX(sort_column(key), 0);

    g_array_sort_with_data(f->rows, compare_rows, &column);
}

/* ---------------------------------------------------------------------- */
/* Rendering                                                               */

/* "950", "12.5k", "3.2M": at most 5 characters below 10^9. */
static char *fmt_count(double v)
{
    if (v < 1e3) {
        return g_strdup_printf(v < 10 && v != floor(v) ? "%.1f" : "%.0f", v);
    }
    if (v < 1e6) {
        return g_strdup_printf(v < 1e5 ? "%.1fk" : "%.0fk", v / 1e3);
    }
    return g_strdup_printf(v < 1e8 ? "%.1fM" : "%.0fM", v / 1e6);
}

/* ns as "850ns", "12us", "1.5ms", "2.0s": at most 5 characters. */
static char *fmt_ns(double ns)
{
    static const struct { double scale; const char *unit; } units[] = {
        { 1, "ns" }, { 1e3, "us" }, { 1e6, "ms" }, { 1e9, "s" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
        double v = ns / units[i].scale;
        if (v < 1000 || i + 1 == G_N_ELEMENTS(units)) {
            return g_strdup_printf(v < 10 && i ? "%.1f%s" : "%.0f%s", v,
                                   units[i].unit);
        }
    }
    return NULL;
}

/* "7.5%", "45%", "100%". */
static char *fmt_share(double fraction)
{
    double pct = fraction * 100;
    return g_strdup_printf(pct < 10 ? "%.1f%%" : "%.0f%%", pct);
}

static char *cell_text(const TopColumn *c, double v)
{
    if (isnan(v)) {
        return g_strdup("-");
    }
    switch (c->kind) {
    case TOP_SHARE:
        return fmt_share(v);
    case TOP_P99:
    case TOP_WORKLOAD_P99:
        return fmt_ns(v);
    default:
        return fmt_count(MAX(v, 0));
    }
}

/* Which columns are drawn: present, and as many as fit @width. */
static void visible_columns(const TopFrame *f, guint width, bool *shown)
{
    guint used = TOP_ID_WIDTH;

    for (guint c = 0; c < TOP_NCOLS; c++) {
        shown[c] = f->present[c] &&
                   (!width || used + 1 + top_columns[c].width <= width);
        used += shown[c] ? 1 + top_columns[c].width : 0;
    }
}

/* @text cut to @width characters (0: no limit), then a newline. */
static void append_line(GString *out, const char *text, guint width)
{
    size_t len = strlen(text);

    g_string_append_len(out, text, width && len > width ? width : len);
    g_string_append_c(out, '\n');
}

static void append_id(GString *out, const char *id)
{
    if (strlen(id) > TOP_ID_WIDTH) {
        g_string_append_printf(out, "%.*s~", TOP_ID_WIDTH - 1, id);
    } else {
        g_string_append_printf(out, "%-*s", TOP_ID_WIDTH, id);
    }
}

static void append_row(GString *out, const TopRow *r, const bool *shown)
{
    append_id(out, r->id);
    for (guint c = 0; c < TOP_NCOLS; c++) {
        if (shown[c]) {
            g_autofree char *cell = cell_text(&top_columns[c], r->value[c]);
            g_string_append_printf(out, " %*s", top_columns[c].width, cell);
        }
    }
    g_string_append_c(out, '\n');
}

/* "sort: b busy* c cpu ...; q quits" for the shown columns' keys. */
static char *legend(const bool *shown, const TopView *v)
{
    GString *s = g_string_new("sort:");

    for (guint c = 0; c < TOP_NCOLS; c++) {
        if (shown[c] && top_columns[c].key) {
            g_string_append_printf(s, " %c %s%s", top_columns[c].key,
                                   top_columns[c].key_name,
                                   top_columns[c].key == v->sort ? "*" : "");
        }
    }
    g_string_append(s, v->keys ? "; q quits" : " (--sort KEY)");
    return g_string_free(s, FALSE);
}

static char *render_frame(Session *s, const TopFrame *f, const TopView *v)
{
    guint width = session_width(s);
    bool shown[TOP_NCOLS];
    GString *out = g_string_new(NULL);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *clock = g_date_time_format(now, "%H:%M:%S");
    g_autofree char *label = session_label(s);

    visible_columns(f, width, shown);
    g_autofree char *title = g_strdup_printf(
        "iothreadctl top - %s - every %gs - %s", clock, v->interval, label);
    g_autofree char *keys = legend(shown, v);
    append_line(out, title, width);
    append_line(out, keys, width);
    g_string_append_printf(out, "%-*s", TOP_ID_WIDTH, "ID");
    for (guint c = 0; c < TOP_NCOLS; c++) {
        if (shown[c]) {
            g_string_append_printf(out, " %*s", top_columns[c].width,
                                   top_columns[c].header);
        }
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; i < f->rows->len; i++) {
        append_row(out, &g_array_index(f->rows, TopRow, i), shown);
    }
    return g_string_free(out, FALSE);
}

/* --json: per iothread, each known value by its column's json_name. */
static JsonNode *frame_json(const TopFrame *f)
{
    JsonArray *arr = json_array_new();

    for (guint i = 0; i < f->rows->len; i++) {
        const TopRow *r = &g_array_index(f->rows, TopRow, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "id", r->id);
        for (guint c = 0; c < TOP_NCOLS; c++) {
            if (f->present[c] && !isnan(r->value[c])) {
                json_object_set_double_member(o, top_columns[c].json_name,
                                              r->value[c]);
            }
        }
        json_array_add_object_element(arr, o);
    }
    JsonObject *frame = json_object_new();
    json_object_set_double_member(frame, "interval", f->seconds);
    json_object_set_array_member(frame, "iothreads", arr);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, frame);
    return n;
}

/* Print @f sorted by the view's key (@frame: its number, 0 first). */
static void print_frame(Session *s, TopFrame *f, const TopView *v,
                        guint frame)
{
    frame_sort(f, v->sort);
    if (s->json) {
        JsonNode *n = frame_json(f);
        session_print_result(s, n);
        json_node_unref(n);
        return;
    }
    g_autofree char *text = render_frame(s, f, v);
    if (v->live) {
        fputs("\033[H\033[2J", stdout);
    } else if (frame) {
        fputc('\n', stdout);
    }
    fputs(text, stdout);
    fflush(stdout);
}

/* ---------------------------------------------------------------------- */
/* Keys, arguments, the loop                                               */

typedef enum { TOP_TICK, TOP_QUIT, TOP_RESORT } TopEvent;

static bool is_sort_key(char ch)
{
    return sort_column(ch) >= 0;
}

/* Wait until @deadline (monotonic us) for a key on stdin (when keys are
 * read) or SIGINT: q, Ctrl-C/D, Escape or stdin gone leave; a sort key
 * sets v->sort and returns at once. */
static TopEvent wait_event(gint64 deadline, TopView *v)
{
    for (;;) {
        if (cli_interrupted) {
            cli_interrupted = 0;
            return TOP_QUIT;
        }
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            return TOP_TICK;
        }
        struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
        int r = poll(v->keys ? &pfd : NULL, v->keys ? 1 : 0,
                     (int)((left + 999) / 1000));
        if (r < 0 && errno != EINTR) {
            return TOP_TICK;
        }
        char ch = 0;
        if (r > 0 && read(STDIN_FILENO, &ch, 1) <= 0) {
            return TOP_QUIT;
        }
        if (r > 0 && strchr("qQ\003\004\033", ch)) {
            return TOP_QUIT;
        }
        if (r > 0 && is_sort_key(ch)) {
            v->sort = ch;
            return TOP_RESORT;
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

/* One option at argv[*i] (and its value); false if it is none. */
static bool parse_top_option(char **argv, guint *i, TopView *v)
{
    const char *opt = argv[*i], *val = argv[*i + 1];
    double count = 0;

    if (!val) {
        return false;
    }
    if (!strcmp(opt, "--interval") && parse_number(val, 0.05, &v->interval)) {
    } else if (!strcmp(opt, "--count") && parse_number(val, 1, &count) &&
               count == floor(count) && count <= 1e6) {
        v->count = (guint)count;
    } else if (!strcmp(opt, "--sort") && strlen(val) == 1 &&
               is_sort_key(val[0])) {
        v->sort = val[0];
    } else {
        return false;
    }
    (*i)++;
    return true;
}

/* --interval S, --count N (0: until the user leaves), --sort KEY; false
 * with the usage printed on anything else. */
static bool parse_top_args(Session *s, char **argv, TopView *v)
{
    v->interval = 1.0;
    v->count = 0;
    v->sort = top_columns[0].key;
    for (guint i = 1; argv[i]; i++) {
        if (!parse_top_option(argv, &i, v)) {
            session_print_error(s, "GenericError", "usage: top [--interval "
                                "S] [--count N] [--sort b|c|w|l|s|i] (S >= "
                                "0.05, N >= 1)");
            return false;
        }
    }
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

/* Sample every interval and print a frame, v->count times (0: until q or
 * Ctrl-C); a sort key redraws the last frame at once.  Takes @prev, the
 * first sample. */
static CmdStatus run_frames(Session *s, GPtrArray *prev, TopView *v)
{
    gint64 prev_us = g_get_monotonic_time();
    CmdStatus status = CMD_OK;
    TopFrame *last = NULL;
    guint frame = 0;

    cli_interrupted = 0;
    while (!v->count || frame < v->count) {
        TopEvent ev = wait_event(prev_us + (gint64)(v->interval * 1e6), v);
        if (ev == TOP_QUIT) {
            break;
        }
        if (ev == TOP_RESORT) {
            if (last) {
                print_frame(s, last, v, frame);
            }
            continue;
        }
        GPtrArray *cur = stats_fetch(s, NULL, &status);
        if (!cur) {
            break;
        }
        gint64 now_us = g_get_monotonic_time();
        frame_free(last);
        last = frame_new(s, prev, cur, MAX(now_us - prev_us, 1) / 1e6);
        print_frame(s, last, v, frame++);
        g_ptr_array_unref(prev);
        prev = cur;
        prev_us = now_us;
    }
    frame_free(last);
    g_ptr_array_unref(prev);
    return status;
}

CmdStatus cmd_top(Session *s, char **argv)
{
    TopView v;
    CmdStatus status;
    struct termios saved;

    if (!parse_top_args(s, argv, &v)) {
        return CMD_FAILED;
    }
    if (session_lacks(s, "query-iothread-stats")) {
        return CMD_OK;
    }
    GPtrArray *first = stats_fetch(s, NULL, &status);
    if (!first) {
        return status;
    }
    v.live = isatty(STDOUT_FILENO) && !s->json;
    v.keys = v.live && isatty(STDIN_FILENO) && keys_on(&saved);
    if (v.live) {
        fputs("\033[?25l", stdout);   /* hide the cursor while redrawing */
    }
    status = run_frames(s, first, &v);
    if (v.keys) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    }
    if (v.live) {
        fputs("\033[?25h", stdout);
        fflush(stdout);
    }
    return status;
}
