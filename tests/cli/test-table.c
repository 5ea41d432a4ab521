/*
 * Unit tests of the aligned table formatter (cli/table.c).
 */
#include "tap.h"
#include "table.h"

#include <string.h>

/* A two-column table: a header with dashes, a number, a sentence. */
static Table *fit_table(void)
{
    const char *headers[] = { "POLL-MAX-NS", "DESCRIPTION", NULL };
    Table *t = table_new(headers);

    table_add_row_va(t, "-32768", "the longest busy-poll window");
    return t;
}

static void test_fit_zero_is_unlimited(void)
{
    Table *t = fit_table();
    char *whole = table_render(t), *fit = table_render_fit(t, 0);

    ok(strcmp(whole, fit) == 0 &&
       !strcmp(whole, "POLL-MAX-NS  DESCRIPTION\n"
                      "     -32768  the longest busy-poll window\n"),
       "width 0 renders whole lines, as table_render");
    g_free(whole);
    g_free(fit);
    table_free(t);
}

static void test_fit_wraps_at_blanks_and_dashes(void)
{
    Table *t = fit_table();
    char *s = table_render_fit(t, 30);
    const char *expect =
        "POLL-MAX-NS  DESCRIPTION\n"
        "     -32768  the longest busy-\n"
        "             poll window\n";

    if (!ok(strcmp(s, expect) == 0,
            "the widest column wraps at a blank or a dash to fit 30 columns")) {
        diag("got:\n%s", s);
    }
    g_free(s);
    table_free(t);
}

static void test_fit_splits_header_after_dash(void)
{
    Table *t = fit_table();
    char *s = table_render_fit(t, 19);
    const char *expect =
        " POLL-  DESCRIPTION\n"
        "MAX-NS\n"
        "-32768  the longest\n"
        "        busy-poll\n"
        "        window\n";

    if (!ok(strcmp(s, expect) == 0, "down to each column's longest piece: a header wraps after a dash")) {
        diag("got:\n%s", s);
    }
    g_free(s);
    table_free(t);
}

static void test_fit_impossible_renders_whole(void)
{
    Table *t = fit_table();
    char *whole = table_render(t), *s = table_render_fit(t, 18);

    ok(strcmp(s, whole) == 0, "a table narrower than its longest pieces "
       "allow (19) is rendered whole, not split");
    g_free(whole);
    g_free(s);
    table_free(t);
}

static void test_expanded_one_block_per_row(void)
{
    const char *headers[] = { "ID", "THREAD-ID", "POLL-MAX-NS", NULL };
    Table *t = table_new(headers);

    table_add_row_va(t, "io0", "1234", "32768");
    table_add_row_va(t, "io1", "5", NULL);
    is_int(table_natural_width(t), 27, "natural width: the widest line");
    char *s = table_render_expanded(t);
    const char *expect =
        "io0\n"
        "  THREAD-ID    1234\n"
        "  POLL-MAX-NS  32768\n"
        "\n"
        "io1\n"
        "  THREAD-ID    5\n"
        "  POLL-MAX-NS  -\n";
    if (!ok(strcmp(s, expect) == 0, "expanded: the key alone, then aligned "
            "label/value lines, NULL as -")) {
        diag("got:\n%s", s);
    }
    g_free(s);
    table_free(t);
}

static Table *two_row_table(void)
{
    const char *headers[] = { "ID", "TID", "BACKEND", NULL };
    Table *t = table_new(headers);

    table_add_row_va(t, "io0", "1234", "io_uring");
    table_add_row_va(t, "long-name", "5", NULL);
    return t;
}

/* Numbers align right, text left, a NULL cell prints as '-'. */
static void test_render_aligns_numbers_right_text_left(void)
{
    Table *t = two_row_table();
    char *s = table_render(t);
    const char *expect =
        "ID          TID  BACKEND\n"
        "io0        1234  io_uring\n"
        "long-name     5  -\n";
    if (!ok(strcmp(s, expect) == 0, "numbers right, text left, NULL as -")) {
        diag("got:\n%s", s);
    }
    g_free(s);
    is_int(table_rows(t), 2, "two rows");
    is_int(table_columns(t), 3, "three columns");

    table_free(t);
}

/* Sorting by a column: numeric ascending and descending, then by text;
 * a column forced left is rendered left. */
static void test_sort_and_forced_alignment(void)
{
    Table *t = two_row_table();
    char *s;

    table_sort(t, 1, false);
    ok(!strcmp(table_cell(t, 0, 0), "long-name"),
       "numeric ascending sort puts 5 before 1234");
    table_sort(t, 1, true);
    ok(!strcmp(table_cell(t, 0, 0), "io0"), "descending sort");
    table_sort(t, 0, false);
    ok(!strcmp(table_cell(t, 0, 0), "io0"), "string sort");

    table_set_align(t, 1, TABLE_ALIGN_LEFT);
    s = table_render(t);
    ok(strstr(s, "io0        1234  io_uring\n") != NULL &&
       strstr(s, "long-name  5     -\n") != NULL, "forced left alignment");
    g_free(s);
    table_free(t);
}

/* No trailing blanks even when the last column is padded. */
static void test_no_trailing_blanks(void)
{
    const char *h2[] = { "NAME", "X", NULL };
    Table *t = table_new(h2);
    char *s;

    table_add_row_va(t, "a", "b-long");
    table_add_row_va(t, "bb", "c");
    s = table_render(t);
    ok(strcmp(s, "NAME  X\na     b-long\nbb    c\n") == 0,
       "no trailing blanks in a left-aligned last column");
    g_free(s);
    table_free(t);
}

/* UTF-8 width counts characters, not bytes. */
static void test_utf8_width_counts_characters(void)
{
    const char *h3[] = { "µs", "V", NULL };
    Table *t = table_new(h3);
    char *s;

    table_add_row_va(t, "ab", "1");
    s = table_render(t);
    ok(strcmp(s, "µs  V\nab  1\n") == 0, "UTF-8 header width");
    g_free(s);
    table_free(t);
}

/* A table with no rows prints its header. */
static void test_empty_table_prints_header(void)
{
    const char *h2[] = { "NAME", "X", NULL };
    Table *t = table_new(h2);
    char *s;

    s = table_render(t);
    ok(strcmp(s, "NAME  X\n") == 0, "empty table prints the header");
    g_free(s);
    table_free(t);
}

/* Which cells count as numeric (they align right and sort as numbers). */
static void test_numeric_cells(void)
{
    ok(table_is_numeric("12") && table_is_numeric("-1.5") &&
       table_is_numeric("12.5%") && table_is_numeric("3/s") &&
       !table_is_numeric("") && !table_is_numeric("1a") &&
       !table_is_numeric("-") && !table_is_numeric("."), "numeric cells");
}

/* Rates, percentages and u64 values format as documented. */
static void test_value_formats(void)
{
    char *s;

    s = table_fmt_rate(12.345);
    ok(!strcmp(s, "12.3"), "rate below 1000 has one decimal: %s", s);
    g_free(s);
    s = table_fmt_rate(12345.6);
    ok(!strcmp(s, "12346"), "rate above 1000 has none: %s", s);
    g_free(s);
    s = table_fmt_percent(0.125);
    ok(!strcmp(s, "12.5%"), "percent: %s", s);
    g_free(s);
    s = table_fmt_u64(18446744073709551615ULL);
    ok(!strcmp(s, "18446744073709551615"), "u64 max: %s", s);
    g_free(s);
}

int main(void)
{
    test_fit_zero_is_unlimited();
    test_expanded_one_block_per_row();
    test_fit_wraps_at_blanks_and_dashes();
    test_fit_splits_header_after_dash();
    test_fit_impossible_renders_whole();
    test_render_aligns_numbers_right_text_left();
    test_sort_and_forced_alignment();
    test_no_trailing_blanks();
    test_utf8_width_counts_characters();
    test_empty_table_prints_header();
    test_numeric_cells();
    test_value_formats();
    return done_testing();
}
