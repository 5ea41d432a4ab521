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

char *table_render(const Table *t)
{
    guint *width = g_new0(guint, t->ncols);
    bool *right = g_new0(bool, t->ncols);
    GString *out = g_string_new(NULL);

    for (guint c = 0; c < t->ncols; c++) {
        width[c] = g_utf8_strlen(t->headers[c], -1);
        for (guint r = 0; r < t->rows->len; r++) {
            width[c] = MAX(width[c], (guint)g_utf8_strlen(table_cell(t, r, c),
                                                          -1));
        }
        right[c] = t->align[c] == TABLE_ALIGN_RIGHT ||
                   (t->align[c] == TABLE_ALIGN_AUTO &&
                    column_is_numeric(t, c));
    }
    for (guint r = 0; r <= t->rows->len; r++) {
        char **cells = r == 0 ? t->headers
                              : g_ptr_array_index(t->rows, r - 1);
        for (guint c = 0; c < t->ncols; c++) {
            if (c) {
                g_string_append(out, "  ");
            }
            append_padded(out, cells[c], width[c], right[c],
                          c + 1 == t->ncols);
        }
        /* Empty trailing cells would leave blanks at the end. */
        while (out->len && out->str[out->len - 1] == ' ') {
            g_string_truncate(out, out->len - 1);
        }
        g_string_append_c(out, '\n');
    }
    g_free(width);
    g_free(right);
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
