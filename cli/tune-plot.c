/* Terminal plots of a tune's results (see tune-plot.h). */
#include "tune-plot.h"

#include <string.h>

#define DEFAULT_WIDTH 80
#define MAX_SLOT 10
#define MAX_BAR 4

/* A row's share of a bar, in eighths. */
static const char *const eighths[9] = {
    " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█",
};

/* Where each value's slot, bar and centre lie, in columns after the
 * axis. */
typedef struct Geometry {
    guint slot;                 /* columns per value */
    guint bar;                  /* bar width */
    guint bar_offset;           /* first bar column within the slot */
} Geometry;

static Geometry geometry(size_t n, guint width)
{
    Geometry g;
    guint room = width > TUNE_PLOT_AXIS_WIDTH
        ? width - TUNE_PLOT_AXIS_WIDTH : 1;

    g.slot = CLAMP(room / MAX(n, 1), 1, MAX_SLOT);
    g.bar = g.slot >= 2 ? MIN(g.slot - 1, MAX_BAR) : 1;
    g.bar_offset = (g.slot - g.bar) / 2;
    return g;
}

/* The column (after the axis) of value @i's marker, label centre, ×. */
static guint centre(const Geometry *g, size_t i)
{
    return i * g->slot + g->bar_offset + g->bar / 2;
}

/* The height of each bar in eighths of a row. */
static guint *bar_heights(const TunePlot *p, double *top)
{
    guint *h = g_new0(guint, MAX(p->n, 1));
    double max = 0;

    for (size_t i = 0; i < p->n; i++) {
        if (p->measured[i] && p->y[i] > max) {
            max = p->y[i];
        }
    }
    *top = max;
    for (size_t i = 0; i < p->n && max > 0; i++) {
        if (p->measured[i] && p->y[i] > 0) {
            double eighths_f = p->y[i] / max * TUNE_PLOT_ROWS * 8;
            h[i] = MAX(1, (guint)(eighths_f + 0.5));
        }
    }
    return h;
}

/* "   86.5 │": the axis part of a row; @number may be NULL. */
static void append_axis(GString *s, const TunePlot *p, const double *number,
                        const char *tick)
{
    char *text = number ? g_strdup_printf(p->axis_format, *number * p->scale)
                        : g_strdup("");

    g_string_append_printf(s, "%*s %s", TUNE_PLOT_AXIS_WIDTH - 2, text,
                           tick);
    g_free(text);
}

static void trim_line(GString *s)
{
    while (s->len && s->str[s->len - 1] == ' ') {
        g_string_truncate(s, s->len - 1);
    }
    g_string_append_c(s, '\n');
}

/* Row @r of the bars (0: the top one). */
static void append_bar_row(GString *s, const TunePlot *p, const Geometry *g,
                           const guint *h, double top, guint r)
{
    double zero = 0;
    guint below = (TUNE_PLOT_ROWS - 1 - r) * 8;   /* eighths under it */

    append_axis(s, p, r == 0 ? &top : r == TUNE_PLOT_ROWS - 1 ? &zero : NULL,
                "│");
    for (size_t i = 0; i < p->n; i++) {
        for (guint col = 0; col < g->slot; col++) {
            bool in_bar = col >= g->bar_offset &&
                          col < g->bar_offset + g->bar;
            guint fill = h[i] > below ? MIN(h[i] - below, 8) : 0;
            g_string_append(s, eighths[in_bar ? fill : 0]);
        }
    }
    trim_line(s);
}

/* The x axis, an × under each unmeasured value. */
static void append_x_axis(GString *s, const TunePlot *p, const Geometry *g)
{
    append_axis(s, p, NULL, "└");
    for (size_t i = 0; i < p->n; i++) {
        for (guint col = 0; col < g->slot; col++) {
            bool mark = !p->measured[i] && i * g->slot + col == centre(g, i);
            g_string_append(s, mark ? "×" : "─");
        }
    }
    g_string_append_c(s, '\n');
}

/* The labels centred under their bars, each only where it fits. */
static void append_labels(GString *s, const TunePlot *p, const Geometry *g)
{
    guint used = 0;                 /* columns written after the axis */
    guint limit = p->n * g->slot;

    g_string_append_printf(s, "%*s", TUNE_PLOT_AXIS_WIDTH, "");
    for (size_t i = 0; i < p->n; i++) {
        guint len = strlen(p->labels[i]);
        guint c = centre(g, i);
        guint start = c >= len / 2 ? c - len / 2 : 0;
        if (start < used + (used ? 1 : 0) || start + len > limit) {
            continue;
        }
        g_string_append_printf(s, "%*s%s", start - used, "", p->labels[i]);
        used = start + len;
    }
    trim_line(s);
}

/* ▲ under the smallest measured figure (the first of equals). */
static void append_min_marker(GString *s, const TunePlot *p,
                              const Geometry *g, guint width)
{
    static const char word[] = " lowest";
    int min = -1;

    for (size_t i = 0; i < p->n; i++) {
        if (p->measured[i] && (min < 0 || p->y[i] < p->y[min])) {
            min = i;
        }
    }
    if (min < 0) {
        return;
    }
    guint col = TUNE_PLOT_AXIS_WIDTH + centre(g, min);
    bool room = col + 1 + strlen(word) <= width;
    g_string_append_printf(s, "%*s▲%s\n", col, "", room ? word : "");
}

char *tune_plot_render(const TunePlot *plot, guint width)
{
    guint w = width ? width : DEFAULT_WIDTH;
    Geometry g = geometry(plot->n, w);
    GString *s = g_string_new(NULL);
    double top;
    guint *h = bar_heights(plot, &top);

    g_string_append_printf(s, "%s\n", plot->title);
    for (guint r = 0; r < TUNE_PLOT_ROWS; r++) {
        append_bar_row(s, plot, &g, h, top, r);
    }
    append_x_axis(s, plot, &g);
    append_labels(s, plot, &g);
    append_min_marker(s, plot, &g, w);
    g_free(h);
    return g_string_free(s, FALSE);
}
