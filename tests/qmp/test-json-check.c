/*
 * Unit tests of the strict JSON check (qmp/json-check.c): a corpus of
 * well-formed texts (every escape, surrogate pairs, UTF-8 at each range
 * edge, number forms, nesting at the limit) that must pass and that
 * json-glib must parse, and a corpus of malformed texts that must fail
 * with a message naming the problem, among them every input found to make
 * json-glib 1.6 leak memory and forms json-glib accepts although they are
 * not JSON.  Under ASan, LeakSanitizer checks at exit that json-glib
 * leaked nothing on the well-formed corpus (the malformed one is never
 * given to json-glib).
 */
#include <string.h>
#include <json-glib/json-glib.h>

#include "json-check.h"
#include "tap.h"

static const char *const valid[] = {
    "{}", "[]", "{\"execute\": \"query-version\"}",
    "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/objects/io0\","
      "\"property\":\"poll-max-ns\"},\"id\":[1,\"x\",null,true,false]}",
    /* top-level scalars (RFC 8259 allows them; the server refuses them
     * later as "must be a JSON object") */
    "0", "-0", "\"\"", "true", "false", "null",
    /* whitespace wherever the grammar allows it */
    " \t\r\n{ \"a\" :\t[ 1 , 2 ]\n, \"b\"\r:{ } } \n",
    "[ ]", "{ }",
    /* numbers */
    "[0, -0, 1, -1, 10, 1234567890, 0.5, -0.0, 1.25e3, 1E+5, 1e-5, 0e0, "
      "2.5E-300, 1e400, -1e400, 9223372036854775807, "
      "-9223372036854775808, 99999999999999999999999]",
    /* every escape, \u0000 included, and surrogate pairs in both cases */
    "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000 \\u0041 \\u00e9 \\uFFFF\"",
    "[\"\\ud83d\\ude00\", \"\\uD800\\uDC00\", \"\\uDBFF\\uDFFF\"]",
    /* UTF-8 at the edges of each range of RFC 3629, and DEL */
    "\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf "
      "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf \x7f\"",
    "{\"\xc3\xa9t\xc3\xa9\": \"\xe2\x82\xac\"}",
    /* duplicate and empty member names are JSON (the last one wins) */
    "{\"a\": 1, \"a\": 2, \"\": 3}",
    /* brackets inside strings */
    "[\"]\", \"}\", \"[{\", \"\\\"]\"]",
};

typedef struct {
    const char *text;
    size_t len;             /* 0: strlen(text) */
    const char *needle;     /* expected in the error message */
    const char *why;
} Invalid;

static const Invalid invalid[] = {
    /* json-glib 1.6 leaks memory on these (found by tests/fuzz): */
    { "\"\\uD800\\u0041\"", 0, "high surrogate",
      "high surrogate escape + a \\u escape that is not a low one (leaks)" },
    { "{\"execute\": \"x\", \"id\": \"\\ud800\\u\"}", 0, "high surrogate",
      "high surrogate escape + a short \\u escape (leaks)" },
    { "\"\\udc00\\ud800\"", 0, "low surrogate",
      "low surrogate escape before a high one (leaks)" },
    { "\"id\"[]a", 0, "after the value at byte 4",
      "tokens after a string root (leaks, the CLI trigger)" },
    { "[1] [2]", 0, "after the value at byte 4",
      "a second value after an array root (json-glib accepts it, leaks)" },
    { "4294967297{\"execute\": \"quit\"}", 0, "after the value",
      "an object after a number root (json-glib accepts it, leaks)" },
    /* lone surrogates: no UTF-8 for them */
    { "\"\\ud800\"", 0, "high surrogate", "lone high surrogate escape" },
    { "\"\\ud800x\"", 0, "not valid UTF-8", "high surrogate + a character" },
    { "\"\\udc00\"", 0, "low surrogate", "lone low surrogate escape" },
    { "\"\\ud800\\n\"", 0, "high surrogate", "high surrogate + \\n" },
    /* forms json-glib 1.6 accepts although they are not JSON */
    { "'x'", 0, "unexpected '''", "single-quoted string" },
    { "[01]", 0, "leading zero", "number with a leading zero" },
    { "[1.]", 0, "decimal point", "no digit after the decimal point" },
    { "\"\\x\"", 0, "invalid escape", "unknown escape" },
    { "\"\\u12x\"", 0, "4 hex digits", "short \\u escape" },
    { "\"a\tb\"", 0, "control character 0x09", "raw TAB in a string" },
    { "var a = 1", 0, "unexpected 'v'", "assignment" },
    /* numbers */
    { ".5", 0, "unexpected '.'", "no integer part" },
    { "-", 0, "'-' not followed by a digit", "lone minus" },
    { "-a", 0, "'-' not followed by a digit", "minus + letter" },
    { "+1", 0, "unexpected '+'", "plus sign" },
    { "1e", 0, "exponent", "empty exponent" },
    { "1e+", 0, "exponent", "exponent sign only" },
    { "0x10", 0, "unexpected 'x' after the value", "hex" },
    { "NaN", 0, "unexpected 'N'", "NaN" },
    { "[Infinity]", 0, "unexpected 'I'", "Infinity" },
    { "1 2", 0, "after the value", "two numbers" },
    /* literals */
    { "tru", 0, "unexpected 't'", "truncated true" },
    { "nul", 0, "unexpected 'n'", "truncated null" },
    { "True", 0, "unexpected 'T'", "capitalised literal" },
    { "truex", 0, "unexpected 'x' after the value", "literal + letter" },
    { "[nullx]", 0, "after an array element", "literal + letter in array" },
    /* objects */
    { "{a:1}", 0, "where a member name should start", "bare member name" },
    { "{1:1}", 0, "where a member name should start", "number as name" },
    { "{\"a\" 1}", 0, "expected ':'", "missing colon" },
    { "{\"a\":}", 0, "where a value should start", "missing value" },
    { "{\"a\":1,}", 0, "where a member name should start", "trailing comma" },
    { "{,}", 0, "where a member name should start", "lone comma" },
    { "{\"a\":1 \"b\":2}", 0, "expected ',' or '}'", "missing comma" },
    { "{\"a\":1]", 0, "expected ',' or '}'", "wrong closing bracket" },
    { "{\"a\"", 0, "end of input after a member name", "truncated" },
    { "{\"a\":", 0, "end of input where a value", "truncated" },
    { "{", 0, "end of input where a member name", "open brace only" },
    /* arrays */
    { "[1,]", 0, "where a value should start", "trailing comma" },
    { "[,]", 0, "where a value should start", "lone comma" },
    { "[1,,2]", 0, "where a value should start", "double comma" },
    { "[true false]", 0, "expected ',' or ']'", "missing comma" },
    { "[1}", 0, "expected ',' or ']'", "wrong closing bracket" },
    { "[", 0, "end of input where a value", "open bracket only" },
    { "[1", 0, "end of input after an array element", "truncated" },
    { "]", 0, "unexpected ']'", "closing bracket only" },
    { "{\"a\":1}}", 0, "after the value", "extra closing brace" },
    /* strings */
    { "\"abc", 0, "unterminated string", "unterminated" },
    { "\"\\", 0, "unterminated string", "backslash at the end" },
    { "\"\\u12\"", 0, "4 hex digits", "\\u with 2 digits" },
    { "\"\\U0041\"", 0, "invalid escape", "capital U" },
    { "\"a\nb\"", 0, "control character 0x0a", "raw LF in a string" },
    { "\"a\0b\"", 5, "control character 0x00", "NUL in a string" },
    /* invalid UTF-8 */
    { "\"\xc3\x28\"", 0, "not valid UTF-8", "bad continuation byte" },
    { "\"\xc0\x80\"", 0, "not valid UTF-8", "overlong NUL" },
    { "\"\xc1\xbf\"", 0, "not valid UTF-8", "overlong 2-byte" },
    { "\"\xe0\x80\xaf\"", 0, "not valid UTF-8", "overlong 3-byte" },
    { "\"\xf0\x80\x80\xaf\"", 0, "not valid UTF-8", "overlong 4-byte" },
    { "\"\xed\xa0\x80\"", 0, "not valid UTF-8", "encoded surrogate" },
    { "\"\xf4\x90\x80\x80\"", 0, "not valid UTF-8", "above U+10FFFF" },
    { "\"\xf5\x80\x80\x80\"", 0, "not valid UTF-8", "lead byte 0xF5" },
    { "\"\x80\"", 0, "not valid UTF-8", "lone continuation byte" },
    { "\"\xe2\x82\"", 0, "not valid UTF-8", "truncated sequence" },
    { "\"\xff\"", 0, "not valid UTF-8", "byte 0xFF" },
    { "\xc3\xa9", 0, "unexpected byte 0xc3", "UTF-8 outside a string" },
    /* the whole text must be one value */
    { "", 0, "end of input where a value", "empty" },
    { " \n\t", 0, "end of input where a value", "whitespace only" },
    { "{}\0", 3, "unexpected byte 0x00 after the value", "NUL after it" },
    { "{}\f", 0, "unexpected byte 0x0c after the value", "form feed" },
    { "/* c */ 1", 0, "unexpected '/'", "comment" },
};

static size_t text_len(const char *text, size_t len)
{
    return len ? len : strlen(text);
}

static char *shown(const char *text, size_t len)
{
    g_autofree char *copy = g_strndup(text, len);
    char *esc = g_strescape(copy, NULL);
    if (strlen(esc) > 60) {
        strcpy(esc + 57, "...");
    }
    return esc;
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e) {
            return false;
        }
    }
    return true;
}

static void test_valid(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(valid); i++) {
        size_t len = strlen(valid[i]);
        char err[JSON_CHECK_ERROR_SIZE];
        g_autofree char *esc = shown(valid[i], len);
        if (!ok(json_check(valid[i], len, err, sizeof(err)) && !err[0],
                "passes: %s", esc)) {
            diag("  error: %s", err);
        }
        JsonParser *p = json_parser_new_immutable();
        ok(json_parser_load_from_data(p, valid[i], (gssize)len, NULL),
           "json-glib parses it too");
        g_object_unref(p);
    }
}

static void test_invalid(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
        size_t len = text_len(invalid[i].text, invalid[i].len);
        char err[JSON_CHECK_ERROR_SIZE];
        g_autofree char *esc = shown(invalid[i].text, len);
        bool passed = json_check(invalid[i].text, len, err, sizeof(err));
        if (!ok(!passed && g_str_has_prefix(err, "JSON parse error, ") &&
                strstr(err, invalid[i].needle) && printable_ascii(err),
                "fails (%s): %s", invalid[i].why, esc)) {
            diag("  error: %s", passed ? "(passed)" : err);
            diag("  want:  ...%s...", invalid[i].needle);
        }
    }
}

/* Exactly JSON_CHECK_MAX_DEPTH levels pass, one more fails; the stack is
 * a bit array, so mixed objects and arrays must be told apart at depth. */
static void test_depth(void)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < JSON_CHECK_MAX_DEPTH; i++) {
        g_string_append(s, i % 3 ? "[" : "{\"k\":");
    }
    g_string_append(s, "0");
    for (int i = JSON_CHECK_MAX_DEPTH - 1; i >= 0; i--) {
        g_string_append(s, i % 3 ? "]" : "}");
    }
    ok(json_check(s->str, s->len, NULL, 0), "nesting of exactly %d passes",
       JSON_CHECK_MAX_DEPTH);

    /* swap the closers of one array and one object deep inside */
    size_t mid = s->len - JSON_CHECK_MAX_DEPTH / 2;
    char saved = s->str[mid];
    s->str[mid] = saved == ']' ? '}' : ']';
    ok(!json_check(s->str, s->len, NULL, 0),
       "a wrong closer at depth %d fails", JSON_CHECK_MAX_DEPTH / 2);
    s->str[mid] = saved;

    g_string_prepend_c(s, '[');
    g_string_append_c(s, ']');
    char err[JSON_CHECK_ERROR_SIZE];
    ok(!json_check(s->str, s->len, err, sizeof(err)) &&
       strstr(err, "nesting deeper than the limit"),
       "nesting of %d fails: %s", JSON_CHECK_MAX_DEPTH + 1, err);
    g_string_free(s, TRUE);
}

static void test_error_buffer(void)
{
    char err[JSON_CHECK_ERROR_SIZE];
    ok(!json_check("{\"a\" 1}", 7, err, sizeof(err)) &&
       !strcmp(err, "JSON parse error, unexpected '1' after a member name "
               "(expected ':') at byte 5"), "message and offset: %s", err);

    /* the longest message at the largest offsets still fits */
    GString *big = g_string_new("[");
    while (big->len < 9999999) {
        g_string_append(big, "1,");
    }
    g_string_append(big, "1 \xff");
    ok(!json_check(big->str, big->len, err, sizeof(err)) &&
       strstr(err, "unexpected byte 0xff after an array element "
              "(expected ',' or ']') at byte 10000001"),
       "no truncation at a 10 MB offset: %s", err);
    g_string_free(big, TRUE);

    char small[12];
    memset(small, 'x', sizeof(small));
    ok(!json_check("[", 1, small, 10) && strlen(small) == 9 &&
       small[10] == 'x', "a short buffer is truncated, NUL-terminated and "
       "not overrun");
    ok(!json_check("[", 1, NULL, 0) && !json_check("[", 1, small, 0),
       "no buffer is fine");
    ok(json_check("[1]", 3, err, sizeof(err)) && err[0] == '\0',
       "success leaves an empty message");
    ok(json_check("[1]xyz", 3, NULL, 0), "only @len bytes are read");
}

int main(void)
{
    test_valid();
    test_invalid();
    test_depth();
    test_error_buffer();
    return done_testing();
}
