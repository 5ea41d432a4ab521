/*
 * Aligned text tables (see table.h).
 */
#include "table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct Table {
    guint ncols;
    char **headers;
    TableAlign *align;
    GPtrArray *rows;   /* of char ** (ncols strings) */
};

static void row_free(gpointer row)
{
    g_strfreev(row);
}

Table *table_new(const char *const *headers)
{
    Table *t = g_new0(Table, 1);

    t->ncols = g_strv_length((char **)headers);
    g_assert(t->ncols > 0);
    t->headers = g_strdupv((char **)headers);
    t->align = g_new0(TableAlign, t->ncols);
    t->rows = g_ptr_array_new_with_free_func(row_free);
    return t;
}

void table_free(Table *t)
{
    if (!t) {
        return;
    }
    g_strfreev(t->headers);
    g_free(t->align);
    g_ptr_array_free(t->rows, TRUE);
    g_free(t);
}

guint table_columns(const Table *t)
{
    return t->ncols;
}

guint table_rows(const Table *t)
{
    return t->rows->len;
}

void table_set_align(Table *t, guint column, TableAlign align)
{
    g_assert(column < t->ncols);
    t->align[column] = align;
}

void table_add_row(Table *t, const char *const *cells)
{
    char **row = g_new0(char *, t->ncols + 1);

    for (guint i = 0; i < t->ncols; i++) {
        row[i] = g_strdup(cells[i] ? cells[i] : "-");
    }
    g_ptr_array_add(t->rows, row);
}

void table_add_row_va(Table *t, ...)
{
    const char **cells = g_new0(const char *, t->ncols);
    va_list ap;

    va_start(ap, t);
    for (guint i = 0; i < t->ncols; i++) {
        cells[i] = va_arg(ap, const char *);
    }
    va_end(ap);
    table_add_row(t, cells);
    g_free(cells);
}

const char *table_cell(const Table *t, guint row, guint column)
{
    g_assert(row < t->rows->len && column < t->ncols);
    return ((char **)g_ptr_array_index(t->rows, row))[column];
}

bool table_is_numeric(const char *s)
{
    const char *p = s;
    bool digits = false;

    if (*p == '-' || *p == '+') {
        p++;
    }
    while (g_ascii_isdigit(*p)) {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (g_ascii_isdigit(*p)) {
            p++;
            digits = true;
        }
    }
    if (!digits) {
        return false;
    }
    return *p == '\0' || !strcmp(p, "%") || !strcmp(p, "/s");
}

static bool column_is_numeric(const Table *t, guint col)
{
    bool any = false;

    for (guint r = 0; r < t->rows->len; r++) {
        const char *cell = table_cell(t, r, col);
        if (!strcmp(cell, "-") || cell[0] == '\0') {
            continue;
        }
        if (!table_is_numeric(cell)) {
            return false;
        }
        any = true;
    }
    return any;
}

typedef struct {
    guint column;
    bool descending;
} SortSpec;

static int compare_rows(gconstpointer a, gconstpointer b, gpointer opaque)
{
    const SortSpec *spec = opaque;
    const char *x = (*(char ***)a)[spec->column];
    const char *y = (*(char ***)b)[spec->column];
    int cmp;

    if (table_is_numeric(x) && table_is_numeric(y)) {
        double dx = g_ascii_strtod(x, NULL), dy = g_ascii_strtod(y, NULL);
        cmp = (dx > dy) - (dx < dy);
    } else {
        cmp = strcmp(x, y);
    }
    return spec->descending ? -cmp : cmp;
}

void table_sort(Table *t, guint column, bool descending)
{
    SortSpec spec = { column, descending };

    g_assert(column < t->ncols);
    /* g_ptr_array_sort_with_data is a stable merge sort in GLib. */
    g_ptr_array_sort_with_data(t->rows, compare_rows, &spec);
}

static void append_padded(GString *out, const char *cell, guint width,
                          bool right, bool last)
{
    guint len = g_utf8_strlen(cell, -1);
    guint pad = width > len ? width - len : 0;

    if (right) {
        for (guint i = 0; i < pad; i++) {
            g_string_append_c(out, ' ');
        }
        g_string_append(out, cell);
    } else {
        g_string_append(out, cell);
        if (!last) {
            for (guint i = 0; i < pad; i++) {
                g_string_append_c(out, ' ');
            }
        }
    }
}

/* Where a cell may wrap: at a blank, or after a '-' joining two word
 * characters (so "-5" and "--x" stay whole).  The pieces of @text in
 * order; each piece records whether a blank preceded it. */
typedef struct {
    char *text;
    bool after_blank;
} Piece;

static GArray *cell_pieces(const char *text)
{
    GArray *pieces = g_array_new(FALSE, FALSE, sizeof(Piece));
    char **words = g_strsplit(text, " ", -1);

    for (guint w = 0; words[w]; w++) {
        const char *start = words[w];
        bool first = true;
        for (const char *p = start; *p; p++) {
            bool split = p[0] == '-' && p > start &&
                         g_ascii_isalnum(p[-1]) && g_ascii_isalnum(p[1]);
            if (split) {
                Piece pc = { g_strndup(start, p + 1 - start), first && w };
                g_array_append_val(pieces, pc);
                start = p + 1;
                first = false;
            }
        }
        if (*start || first) {
            Piece pc = { g_strdup(start), first && w };
            g_array_append_val(pieces, pc);
        }
    }
    g_strfreev(words);
    return pieces;
}

static void pieces_free(GArray *pieces)
{
    for (guint i = 0; i < pieces->len; i++) {
        g_free(g_array_index(pieces, Piece, i).text);
    }
    g_array_free(pieces, TRUE);
}

/* The longest piece of @text: the narrowest its column can get. */
static guint cell_min_width(const char *text)
{
    GArray *pieces = cell_pieces(text);
    guint min = 0;

    for (guint i = 0; i < pieces->len; i++) {
        min = MAX(min, (guint)g_utf8_strlen(
                           g_array_index(pieces, Piece, i).text, -1));
    }
    pieces_free(pieces);
    return min;
}

/* @text as lines of at most @width characters (a piece longer than that
 * gets a line of its own). */
static char **cell_lines(const char *text, guint width)
{
    GArray *pieces = cell_pieces(text);
    GPtrArray *lines = g_ptr_array_new();
    GString *line = g_string_new(NULL);
    guint len = 0;

    for (guint i = 0; i < pieces->len; i++) {
        const Piece *pc = &g_array_index(pieces, Piece, i);
        guint plen = g_utf8_strlen(pc->text, -1);
        guint sep = len && pc->after_blank ? 1 : 0;
        if (len && len + sep + plen > width) {
            g_ptr_array_add(lines, g_string_free(line, FALSE));
            line = g_string_new(NULL);
            len = sep = 0;
        }
        if (sep) {
            g_string_append_c(line, ' ');
        }
        g_string_append(line, pc->text);
        len += sep + plen;
    }
    g_ptr_array_add(lines, g_string_free(line, FALSE));
    g_ptr_array_add(lines, NULL);
    pieces_free(pieces);
    return (char **)g_ptr_array_free(lines, FALSE);
}

/* Every row, the header first (row 0). */
static char **row_cells(const Table *t, guint r)
{
    return r == 0 ? t->headers : g_ptr_array_index(t->rows, r - 1);
}

/* Natural widths, then the widest column that can still shrink loses a
 * character until the whole fits @max_width (0: no limit).  A table that
 * cannot fit even at its narrowest keeps its natural widths: wrapping
 * would split names without making it fit. */
static guint *column_widths(const Table *t, guint max_width)
{
    guint *width = g_new0(guint, t->ncols);
    guint *min = g_new0(guint, t->ncols);
    guint total = 2 * (t->ncols - 1), narrowest = total;

    for (guint c = 0; c < t->ncols; c++) {
        for (guint r = 0; r <= t->rows->len; r++) {
            const char *cell = row_cells(t, r)[c];
            width[c] = MAX(width[c], (guint)g_utf8_strlen(cell, -1));
            min[c] = MAX(min[c], cell_min_width(cell));
        }
        total += width[c];
        narrowest += min[c];
    }
    while (max_width && total > max_width && narrowest <= max_width) {
        guint widest = 0;
        for (guint c = 0; c < t->ncols; c++) {
            if (width[c] > min[c] &&
                (width[widest] <= min[widest] || width[c] > width[widest])) {
                widest = c;
            }
        }
        width[widest]--;
        total--;
    }
    g_free(min);
    return width;
}

static void render_row(const Table *t, char **cells, const guint *width,
                       const bool *right, GString *out)
{
    char ***lines = g_new0(char **, t->ncols);
    guint height = 1;

    for (guint c = 0; c < t->ncols; c++) {
        lines[c] = cell_lines(cells[c], width[c]);
        height = MAX(height, g_strv_length(lines[c]));
    }
    for (guint l = 0; l < height; l++) {
        for (guint c = 0; c < t->ncols; c++) {
            const char *part = l < g_strv_length(lines[c]) ? lines[c][l] : "";
            if (c) {
                g_string_append(out, "  ");
            }
            append_padded(out, part, width[c], right[c], c + 1 == t->ncols);
        }
        /* Empty trailing cells would leave blanks at the end. */
        while (out->len && out->str[out->len - 1] == ' ') {
            g_string_truncate(out, out->len - 1);
        }
        g_string_append_c(out, '\n');
    }
    for (guint c = 0; c < t->ncols; c++) {
        g_strfreev(lines[c]);
    }
    g_free(lines);
}

char *table_render_fit(const Table *t, guint max_width)
{
    guint *width = column_widths(t, max_width);
    bool *right = g_new0(bool, t->ncols);
    GString *out = g_string_new(NULL);

    for (guint c = 0; c < t->ncols; c++) {
        right[c] = t->align[c] == TABLE_ALIGN_RIGHT ||
                   (t->align[c] == TABLE_ALIGN_AUTO &&
                    column_is_numeric(t, c));
    }
    for (guint r = 0; r <= t->rows->len; r++) {
        render_row(t, row_cells(t, r), width, right, out);
    }
    g_free(width);
    g_free(right);
    return g_string_free(out, FALSE);
}

char *table_render(const Table *t)
{
    return table_render_fit(t, 0);
}

guint table_natural_width(const Table *t)
{
    char *text = table_render(t);
    guint widest = 0;
    char **lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++) {
        widest = MAX(widest, (guint)g_utf8_strlen(*l, -1));
    }
    g_strfreev(lines);
    g_free(text);
    return widest;
}

char *table_render_expanded(const Table *t)
{
    GString *out = g_string_new(NULL);
    guint label = 0;

    for (guint c = 1; c < t->ncols; c++) {
        label = MAX(label, (guint)g_utf8_strlen(t->headers[c], -1));
    }
    for (guint r = 0; r < t->rows->len; r++) {
        char **cells = g_ptr_array_index(t->rows, r);
        g_string_append_printf(out, "%s%s\n", r ? "\n" : "",
                               cells[0] ? cells[0] : "-");
        for (guint c = 1; c < t->ncols; c++) {
            guint pad = label - (guint)g_utf8_strlen(t->headers[c], -1);
            g_string_append_printf(out, "  %s%*s  %s\n", t->headers[c],
                                   (int)pad, "", cells[c] ? cells[c] : "-");
        }
    }
    return g_string_free(out, FALSE);
}

char *table_fmt_u64(uint64_t v)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT, v);
}

char *table_fmt_rate(double per_second)
{
    if (per_second >= 1000 || per_second <= -1000) {
        return g_strdup_printf("%.0f", per_second);
    }
    return g_strdup_printf("%.1f", per_second);
}

char *table_fmt_percent(double fraction)
{
    return g_strdup_printf("%.1f%%", fraction * 100.0);
}
