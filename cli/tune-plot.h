/*
 * Terminal plots of a tune's results: one bar per value of the sweep, in
 * sweep order (the default sweeps are log-spaced, so equal slots read as a
 * log axis), bar heights in eighths of a row with Unicode blocks
 * (▁▂▃▄▅▆▇█), the values' labels under the axis and a ▲ under the
 * smallest bar.  An unmeasured value gets no bar and an × on the axis.
 * Pure (no I/O).
 *
 * Layout, @width columns at most (0: 80): a left axis of
 * TUNE_PLOT_AXIS_WIDTH columns ("  86.5 │"), then one slot per value of
 * equal width; a label that does not fit its slot is left out.
 *
 * Thread rules: none (pure functions).
 */
#ifndef CLI_TUNE_PLOT_H
#define CLI_TUNE_PLOT_H

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

#define TUNE_PLOT_AXIS_WIDTH 9
#define TUNE_PLOT_ROWS 8

typedef struct TunePlot {
    const char *title;          /* first line, e.g. "p99 latency (us)" */
    size_t n;
    const char *const *labels;  /* n: the values as text */
    const double *y;            /* n: the figures, >= 0 */
    const bool *measured;       /* n: false: no bar, an × */
    double scale;               /* axis numbers are y * scale */
    const char *axis_format;    /* printf format of one axis number */
} TunePlot;

/* The plot as text, lines ending in '\n'.  Caller frees. */
char *tune_plot_render(const TunePlot *plot, guint width);

G_END_DECLS

#endif /* CLI_TUNE_PLOT_H */
