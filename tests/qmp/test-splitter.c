/*
 * Unit tests of the JSON stream splitter (qmp/json-splitter.c): framing by
 * value closure, pipelining, partial input, strings with brackets and
 * escapes, resynchronisation on control bytes and 0xFF, the size, depth
 * and integer-range bounds, and refusal of malformed complete messages.  Every case is fed whole and byte by
 * byte; both must give the same messages.
 */
#include <string.h>

#include "json-splitter.h"
#include "tap.h"

typedef struct {
    GString *log;       /* "M<text>|" per message, "E|" per error */
    int stop_after;     /* emit returns false after this many (-1: never) */
    int count;
} Collect;

static bool collect(void *opaque, const char *text, size_t len,
                    const char *error)
{
    Collect *c = opaque;
    if (error) {
        g_string_append(c->log, "E|");
    } else {
        g_string_append_c(c->log, 'M');
        g_string_append_len(c->log, text, (gssize)len);
        g_string_append_c(c->log, '|');
    }
    c->count++;
    return c->stop_after < 0 || c->count < c->stop_after;
}

static char *split(const char *in, size_t len, bool bytewise, size_t max,
                   unsigned depth)
{
    JsonSplitter *s = json_splitter_new(max, depth);
    Collect c = { g_string_new(""), -1, 0 };
    if (bytewise) {
        for (size_t i = 0; i < len; i++) {
            json_splitter_feed(s, in + i, 1, collect, &c);
        }
    } else {
        json_splitter_feed(s, in, len, collect, &c);
    }
    json_splitter_free(s);
    return g_string_free(c.log, FALSE);
}

static void case_len(const char *name, const char *in, size_t len,
                     const char *want, size_t max, unsigned depth)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        g_autofree char *got = split(in, len, bytewise, max, depth);
        if (!ok(!strcmp(got, want), "%s (%s)", name,
                bytewise ? "byte by byte" : "one read")) {
            diag("got:  %s", got);
            diag("want: %s", want);
        }
    }
}

static void check(const char *name, const char *in, const char *want)
{
    case_len(name, in, strlen(in), want, 1024, 8);
}

/* Framing: messages end where their JSON value closes, whitespace between them skipped. */
static void test_messages_framed_where_values_close(void)
{
    check("one message, no newline", "{\"execute\": \"x\"}",
          "M{\"execute\": \"x\"}|");
    check("pipelined, with and without whitespace",
          "{\"a\":1}{\"b\":2}\r\n {\"c\":[1,{\"d\":2}]}",
          "M{\"a\":1}|M{\"b\":2}|M{\"c\":[1,{\"d\":2}]}|");
    check("brackets and escapes inside strings",
          "{\"s\":\"a}b{c]\\\"d\\\\\"}{\"t\":\"\\\\\\\"}\"}",
          "M{\"s\":\"a}b{c]\\\"d\\\\\"}|M{\"t\":\"\\\\\\\"}\"}|");
    check("half a message emits nothing", "{\"a\": [1, 2", "");
    check("leading whitespace skipped", "\r\n\t  {}", "M{}|");
}

/* Control characters, NUL and 0xFF outside or inside a string: one error, then the next message. */
static void test_bad_bytes_reset_to_next_message(void)
{
    check("control character outside a string resets",
          "{\"execute\": \x01{\"b\":1}", "E|M{\"b\":1}|");
    case_len("NUL between messages is an error, then resync",
             "{\"a\":1}\x00{\"b\":1}", 15, "M{\"a\":1}|E|M{\"b\":1}|", 1024, 8);
    check("control character inside a string resets",
          "{\"a\": \"x\x02{\"b\":1}", "E|M{\"b\":1}|");
    check("0xFF resets, outside a string", "{\"a\": \xff{\"b\":1}",
          "E|M{\"b\":1}|");
    check("0xFF resets, inside a string", "{\"a\": \"\xff{\"b\":1}",
          "E|M{\"b\":1}|");
}

/* A stray closing bracket is an error; top-level scalars end at whitespace or a bracket. */
static void test_stray_bracket_and_top_level_scalars(void)
{
    check("stray closing bracket", "}{}", "E|M{}|");
    check("top-level scalars end at whitespace or a bracket",
          "123 \"str\"true{}", "M123|M\"str\"|Mtrue|M{}|");
}

/* UTF-8 passes through; a message json_check refuses is one error, framing and the next message unaffected. */
static void test_refused_message_is_one_error(void)
{
    check("valid UTF-8 in strings passes through",
          "{\"s\":\"\xc3\xa9\xe2\x82\xac\"}", "M{\"s\":\"\xc3\xa9\xe2\x82\xac\"}|");
    /* Each complete message goes through json_check (test-json-check.c
     * covers its grammar); here: a refused message is one error, framing
     * and the next message are unaffected. */
    check("invalid UTF-8 in a string refused, then the next message",
          "{\"s\":\"\xc3\x28\"}{}", "E|M{}|");
    check("missing ':' refused at the closing brace",
          "{\"a\" 1}{\"b\":1}", "E|M{\"b\":1}|");
    check("lone and broken surrogate escapes refused",
          "[\"\\ud800x\"][\"\\uD800\\u0041\"][\"\\udc00\\ud800\"]"
          "[\"\\ud83d\\ude00\"]",
          "E|E|E|M[\"\\ud83d\\ude00\"]|");
    check("top-level scalars are checked one by one",
          "\"id\"[]a tru 01 -1.5e3 ", "M\"id\"|M[]|E|E|E|M-1.5e3|");
    check("trailing comma and bare word refused",
          "[1,]{\"a\":1,}{a:1}[1]", "E|E|E|M[1]|");
    check("int64 limits accepted",
          "{\"a\": -9223372036854775808, \"b\": 9223372036854775807}",
          "M{\"a\": -9223372036854775808, \"b\": 9223372036854775807}|");
    check("integer beyond int64 refused", "{\"a\": 9223372036854775808}{}",
          "E|M{}|");
    check("huge integer refused",
          "{\"a\": [99999999999999999999999999999999]}{}", "E|M{}|");
    check("floats are not integers", "{\"a\": 1e400, \"b\": -1.5}",
          "M{\"a\": 1e400, \"b\": -1.5}|");
}

/* Messages over the size or nesting bound are skipped, then input resyncs. */
static void test_size_and_nesting_bounds(void)
{
    case_len("message over the size bound skipped, then resync",
             "{\"a\":\"0123456789abcdef\"}{\"b\":1}", 31, "E|M{\"b\":1}|",
             16, 8);
    case_len("message at the size bound accepted", "{\"a\":\"0123456\"}", 15,
             "M{\"a\":\"0123456\"}|", 15, 8);
    /* QEMU's lexer resumes at the next blank or bracket after a bad
     * byte: the broken message's tail is one stray '}', not many values. */
    case_len("after a bad byte, input resumes at the next bracket",
             "{\"a\":\"\xff\"}{\"b\":1}", 16, "E|E|M{\"b\":1}|", 1024, 8);
    case_len("nesting over the bound skipped, then resync",
             "[[[[1]]]][[[1]]]", 16, "E|M[[[1]]]|", 1024, 3);
    case_len("brackets in strings do not count for depth",
             "[[[\"[[[[\"]]]", 12, "M[[[\"[[[[\"]]]|", 1024, 3);
}

/* A 10 MB message with a 1 MB bound: skipped without buffering. */
static void test_huge_string_skipped_without_buffering(void)
{
    JsonSplitter *s = json_splitter_new(1024 * 1024, 64);
    Collect c = { g_string_new(""), -1, 0 };
    char chunk[4096];
    memset(chunk, 'x', sizeof(chunk));
    json_splitter_feed(s, "{\"a\":\"", 6, collect, &c);
    for (int i = 0; i < 2560; i++) {
        json_splitter_feed(s, chunk, sizeof(chunk), collect, &c);
    }
    ok(json_splitter_pending(s) && !strcmp(c.log->str, "E|"),
       "a 10 MB string: one error once the bound is crossed, the rest "
       "still skipped (%s)", c.log->str);
    json_splitter_feed(s, "\"}{}", 4, collect, &c);
    ok(!strcmp(c.log->str, "E|M{}|"), "then one error and the next "
       "message (%s)", c.log->str);
    g_string_free(c.log, TRUE);
    json_splitter_free(s);
}

/* 100,000 '[' never closed: answered when nesting passes the bound, not when (if ever) the value closes. */
static void test_unclosed_brackets_answered_at_bound(void)
{
    JsonSplitter *s = json_splitter_new(1024 * 1024, 64);
    Collect c = { g_string_new(""), -1, 0 };
    GString *open = g_string_new(NULL);
    for (int i = 0; i < 100000; i++) {
        g_string_append_c(open, '[');
    }
    json_splitter_feed(s, open->str, open->len, collect, &c);
    ok(!strcmp(c.log->str, "E|") && json_splitter_pending(s),
       "100000 unclosed '[': one error at once, the value still "
       "skipped (%s)", c.log->str);
    g_string_free(open, TRUE);
    g_string_free(c.log, TRUE);
    json_splitter_free(s);
}

/* emit returning false stops the feed after that message; reset forgets a half message. */
static void test_emit_false_stops_feed_and_reset_forgets(void)
{
    JsonSplitter *s = json_splitter_new(1024, 8);
    Collect c = { g_string_new(""), 1, 0 };
    size_t used = json_splitter_feed(s, "{}{}{}", 6, collect, &c);
    is_int((int64_t)used, 2, "feed stops after the message whose emit "
           "returned false");
    json_splitter_feed(s, "{\"x\"", 4, collect, &c);
    ok(json_splitter_pending(s), "a half message is pending");
    json_splitter_reset(s);
    ok(!json_splitter_pending(s), "reset forgets it");
    c.stop_after = -1;
    json_splitter_feed(s, "{}", 2, collect, &c);
    ok(!strcmp(c.log->str, "M{}|M{}|"), "and the next message is whole");
    g_string_free(c.log, TRUE);
    json_splitter_free(s);
}

int main(void)
{
    test_messages_framed_where_values_close();
    test_bad_bytes_reset_to_next_message();
    test_stray_bracket_and_top_level_scalars();
    test_refused_message_is_one_error();
    test_size_and_nesting_bounds();
    test_huge_string_skipped_without_buffering();
    test_unclosed_brackets_answered_at_bound();
    test_emit_false_stops_feed_and_reset_forgets();
    return done_testing();
}
