/*
 * Aligned text tables for the human commands: a header row, then data rows,
 * columns separated by two spaces, no trailing blanks.  Numeric columns are
 * right-aligned, text columns left-aligned.  Pure (no I/O).
 *
 * Thread rules: a Table belongs to one thread.
 */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct Table Table;

typedef enum {
    TABLE_ALIGN_AUTO,   /* right if every data cell is numeric or "-" */
    TABLE_ALIGN_LEFT,
    TABLE_ALIGN_RIGHT,
} TableAlign;

/* A table whose columns are named by @headers (NULL-terminated, copied;
 * at least one). */
Table *table_new(const char *const *headers);
void table_free(Table *t);

guint table_columns(const Table *t);
guint table_rows(const Table *t);

void table_set_align(Table *t, guint column, TableAlign align);

/* Append a row of table_columns() cells (copied; a NULL cell prints "-"). */
void table_add_row(Table *t, const char *const *cells);
/* The same with the cells as varargs, exactly table_columns() of them. */
void table_add_row_va(Table *t, ...);

/* The cell of a data row (0-based, header excluded), for tests and sorting. */
const char *table_cell(const Table *t, guint row, guint column);

/* Sort the data rows by @column, numerically when both cells are numbers
 * (else by string), descending when @descending.  Stable. */
void table_sort(Table *t, guint column, bool descending);

/* The table as text, each line ending in '\n'.  Width counts UTF-8
 * characters.  Caller frees. */
char *table_render(const Table *t);

/* The same, no wider than @max_width characters where it can be (0: no
 * limit): the widest columns are narrowed in turn by wrapping their cells
 * onto continuation lines, at blanks or after a '-' between two word
 * characters ("POLL-MAX-NS" -> "POLL-" / "MAX-NS"; "-5" stays whole).  No
 * column gets narrower than its longest unbreakable piece; a table that
 * cannot fit even so is rendered whole (as table_render), since wrapping
 * would split names without making it fit.  Caller frees. */
char *table_render_fit(const Table *t, guint max_width);

/* The width of table_render()'s widest line. */
guint table_natural_width(const Table *t);

/* One block per data row, for tables too wide for the terminal (psql's
 * expanded display): the row's first cell alone on a line, then one
 * indented "HEADER  value" line per other column, labels aligned; blocks
 * separated by an empty line.  Caller frees. */
char *table_render_expanded(const Table *t);

/* True if @s is a decimal number, optionally signed, with an optional
 * fraction and an optional unit suffix of '%' or "/s" (how the tables
 * print rates). */
bool table_is_numeric(const char *s);

/* Formatting helpers shared by the tables (caller frees). */
char *table_fmt_u64(uint64_t v);
char *table_fmt_rate(double per_second);     /* "12.5" / "1234" */
char *table_fmt_percent(double fraction);    /* 0.125 -> "12.5%" */

G_END_DECLS

#endif /* CLI_TABLE_H */
