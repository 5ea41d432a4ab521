/*
 * The tune plot (cli/tune-plot.h), rendered for known tables: the ▲ of
 * the minimum sits in the column of that value's label and bar, the
 * highest bar reaches the top row, every line fits the width, an
 * unmeasured value gets an × and no bar, and a sweep too long for its
 * labels still fits.
 */
#include <string.h>

#include "tap.h"
#include "tune-plot.h"

static const char *const labels[] = { "0", "1024", "4096", "16384",
                                      "32768" };
/* The minimum is 4096 (index 2), the maximum 0 (index 0). */
static const double p99_us[] = { 90, 40, 12, 20, 35 };
static const bool all_measured[] = { true, true, true, true, true };

static char *render(const double *y, const bool *measured, size_t n,
                    const char *const *lab, guint width)
{
    TunePlot p = {
        .title = "p99 latency (us)", .n = n, .labels = lab, .y = y,
        .measured = measured, .scale = 1, .axis_format = "%.1f",
    };
    return tune_plot_render(&p, width);
}

/* The display column (UTF-8 characters) of the first @needle in @line,
 * or -1. */
static glong column_of(const char *line, const char *needle)
{
    const char *at = strstr(line, needle);
    return at ? g_utf8_pointer_to_offset(line, at) : -1;
}

/* The line of @lines holding @needle, or NULL. */
static const char *line_with(char **lines, const char *needle)
{
    for (guint i = 0; lines[i]; i++) {
        if (strstr(lines[i], needle)) {
            return lines[i];
        }
    }
    return NULL;
}

/* The labels line: the one after the x axis. */
static const char *labels_line(char **lines)
{
    for (guint i = 0; lines[i]; i++) {
        if (strstr(lines[i], "└")) {
            return lines[i + 1];
        }
    }
    return NULL;
}

/* Whether the first @mark on the line holding it lies within @label on
 * the labels line; *@mcol gets the mark's column. */
static bool mark_under_label(char **lines, const char *mark,
                             const char *label, glong *mcol)
{
    const char *mark_line = line_with(lines, mark);
    const char *lab = labels_line(lines);
    glong lcol = lab ? column_of(lab, label) : -1;

    *mcol = mark_line ? column_of(mark_line, mark) : -1;
    if (lcol < 0 || *mcol < lcol || *mcol >= lcol + (glong)strlen(label)) {
        diag("%s at column %ld, label %s at %ld", mark, *mcol, label, lcol);
        return false;
    }
    return true;
}

static void test_min_marker_under_min_label_and_bar(void)
{
    char *text = render(p99_us, all_measured, 5, labels, 80);
    char **lines = g_strsplit(text, "\n", -1);
    glong mcol;

    ok(mark_under_label(lines, "▲", "4096", &mcol),
       "▲ under the label of the minimum, 4096");
    /* The bottom bar row holds a block in the marker's column. */
    const char *bottom = lines[8];
    gchar *at = bottom && g_utf8_strlen(bottom, -1) > mcol
        ? g_utf8_offset_to_pointer(bottom, mcol) : NULL;
    ok(at && *at != ' ',
       "the minimum's bar stands in that column: '%s'", bottom);
    g_strfreev(lines);
    g_free(text);
}

static void test_highest_bar_reaches_top_row_only_there(void)
{
    char *text = render(p99_us, all_measured, 5, labels, 80);
    char **lines = g_strsplit(text, "\n", -1);
    const char *top = lines[1];
    const char *lab = labels_line(lines);
    glong first_full = column_of(top, "█");
    glong label0 = lab ? column_of(lab, "0") : -1;
    glong label1 = lab ? column_of(lab, "1024") : -1;

    ok(first_full >= 0 && first_full <= label0 + 2 &&
       first_full < label1 && g_strrstr(top, "█") &&
       g_utf8_pointer_to_offset(top, g_strrstr(top, "█")) < label1,
       "the top row is full only over 0 (the maximum): '%s'", top);
    ok(strstr(top, "90.0") != NULL, "the axis shows the maximum, 90.0");
    g_strfreev(lines);
    g_free(text);
}

static void test_every_line_fits_the_width(void)
{
    static const char *const many[12] = {
        "1", "2", "4", "8", "16", "32", "64", "128", "256", "512",
        "1048576", "4194304",
    };
    double y[12];
    bool m[12];
    bool fits = true;

    for (int i = 0; i < 12; i++) {
        y[i] = 12 - i;
        m[i] = true;
    }
    char *text = render(y, m, 12, many, 60);
    char **lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        fits &= g_utf8_strlen(lines[i], -1) <= 60;
    }
    ok(fits, "12 values in 60 columns: every line fits");
    ok(line_with(lines, "▲") &&
       column_of(line_with(lines, "▲"), "▲") > 40,
       "the minimum (the last value) is marked at the right");
    g_strfreev(lines);
    g_free(text);
}

static void test_unmeasured_value_gets_cross_and_no_bar(void)
{
    static const double y[] = { 90, 0, 12 };
    static const bool m[] = { true, false, true };
    char *text = render(y, m, 3, labels, 80);
    char **lines = g_strsplit(text, "\n", -1);
    glong col;

    ok(mark_under_label(lines, "×", "1024", &col),
       "× on the axis under the unmeasured 1024");
    ok(mark_under_label(lines, "▲", "4096", &col),
       "the unmeasured value is not taken for the minimum: ▲ under 4096");
    g_strfreev(lines);
    g_free(text);
}

int main(void)
{
    test_min_marker_under_min_label_and_bar();
    test_highest_bar_reaches_top_row_only_there();
    test_every_line_fits_the_width();
    test_unmeasured_value_gets_cross_and_no_bar();
    return done_testing();
}
