/*
 * Incremental JSON stream splitter (see json-splitter.h for the rules).
 * A byte-at-a-time state machine: it tracks only string/escape state and
 * bracket depth for framing; each complete message then goes through
 * json_check (json-check.h) before it is handed out, so the JSON parser
 * behind the emit callback only ever sees well-formed JSON.
 */
#include "json-splitter.h"
#include "json-check.h"

#include <stdio.h>

typedef enum {
    TOP_NONE,       /* between messages */
    TOP_CONTAINER,  /* inside a top-level object or array */
    TOP_STRING,     /* inside a top-level string */
    TOP_SCALAR,     /* inside a top-level number or literal */
} TopKind;

struct JsonSplitter {
    GString *buf;
    size_t max_bytes;
    unsigned max_depth;
    size_t depth;          /* may exceed max_depth while skipping */
    TopKind top;
    bool in_string;
    bool escape;
    /* Non-NULL while the current message is being skipped (too large, too
     * deep, an integer beyond 64 bits): its error, emitted as soon as it
     * is set (skip_reported), not when the message closes. */
    const char *skip_error;
    bool skip_reported;
    /* After a bad byte: input is discarded up to the next whitespace or
     * bracket, where QEMU's lexer resumes too, so the rest of a broken
     * message is not read as a string of new ones. */
    bool recovering;
    char errbuf[JSON_CHECK_ERROR_SIZE];
    /* The number being read outside strings: json-glib silently wraps
     * integers beyond 64 bits, so the splitter refuses them itself. */
    bool in_number;
    bool number_is_float;
    unsigned number_len;
    char number[24];
};

/* Buffers larger than this are freed after a message so an idle client
 * does not keep a megabyte around. */
#define SPLITTER_KEEP_BYTES 65536

JsonSplitter *json_splitter_new(size_t max_bytes, unsigned max_depth)
{
    JsonSplitter *s = g_new0(JsonSplitter, 1);
    s->buf = g_string_sized_new(256);
    s->max_bytes = max_bytes;
    s->max_depth = max_depth;
    return s;
}

void json_splitter_free(JsonSplitter *s)
{
    if (!s) {
        return;
    }
    g_string_free(s->buf, TRUE);
    g_free(s);
}

void json_splitter_reset(JsonSplitter *s)
{
    if (s->buf->allocated_len > SPLITTER_KEEP_BYTES) {
        g_string_free(s->buf, TRUE);
        s->buf = g_string_sized_new(256);
    } else {
        g_string_truncate(s->buf, 0);
    }
    s->depth = 0;
    s->top = TOP_NONE;
    s->in_string = false;
    s->escape = false;
    s->skip_error = NULL;
    s->skip_reported = false;
    s->recovering = false;
    s->in_number = false;
}

bool json_splitter_pending(const JsonSplitter *s)
{
    return s->top != TOP_NONE;
}

static void splitter_append(JsonSplitter *s, char c)
{
    if (s->skip_error) {
        return;
    }
    if (s->buf->len + 1 > s->max_bytes) {
        /* QEMU's text; our limit is s->max_bytes. */
        snprintf(s->errbuf, sizeof(s->errbuf),
                 "JSON token size limit exceeded");
        s->skip_error = s->errbuf;
        g_string_truncate(s->buf, 0);
        return;
    }
    g_string_append_c(s->buf, c);
}

/* A limit was crossed by the byte just read: answer now, so a client that
 * never closes its value still hears why nothing else is answered. */
static bool splitter_report_skip(JsonSplitter *s, JsonSplitterEmit *emit,
                                 void *opaque)
{
    if (!s->skip_error || s->skip_reported) {
        return true;
    }
    s->skip_reported = true;
    return emit(opaque, NULL, 0, s->skip_error);
}

/* The current message is complete: hand it (or its error) out. */
static bool splitter_finish(JsonSplitter *s, JsonSplitterEmit *emit,
                            void *opaque)
{
    bool go_on;

    if (s->skip_error) {
        /* answered when the error arose, unless that was this very byte */
        go_on = splitter_report_skip(s, emit, opaque);
    } else if (!json_check(s->buf->str, s->buf->len, s->errbuf,
                           sizeof(s->errbuf))) {
        go_on = emit(opaque, NULL, 0, s->errbuf);
    } else {
        go_on = emit(opaque, s->buf->str, s->buf->len, NULL);
    }
    json_splitter_reset(s);
    return go_on;
}

/* Bad byte: drop the half-read message and report. */
static bool splitter_fail(JsonSplitter *s, JsonSplitterEmit *emit,
                          void *opaque, const char *error)
{
    json_splitter_reset(s);
    s->recovering = true;
    return emit(opaque, NULL, 0, error);
}

static bool is_bracket(unsigned char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']';
}

static bool is_number_char(unsigned char c)
{
    return g_ascii_isdigit(c) || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E';
}

static void number_add(JsonSplitter *s, unsigned char c)
{
    if (!s->in_number) {
        s->in_number = true;
        s->number_is_float = false;
        s->number_len = 0;
    }
    if (c == '.' || c == 'e' || c == 'E') {
        s->number_is_float = true;
    }
    if (s->number_len < sizeof(s->number) - 1) {
        s->number[s->number_len] = (char)c;
    }
    s->number_len++;
}

/* The number just ended: an integer that does not fit int64 spoils the
 * message (reported when it closes). */
static void number_end(JsonSplitter *s)
{
    s->in_number = false;
    if (s->number_is_float || s->skip_error) {
        return;
    }
    bool fits = s->number_len < sizeof(s->number);
    if (fits) {
        s->number[s->number_len] = '\0';
        fits = g_ascii_string_to_signed(s->number, 10, G_MININT64, G_MAXINT64,
                                        NULL, NULL);
    }
    if (!fits) {
        snprintf(s->errbuf, sizeof(s->errbuf),
                 "JSON parse error, integer %.22s%s is out of the 64-bit range",
                 s->number, s->number_len > 22 ? "..." : "");
        s->skip_error = s->errbuf;
        g_string_truncate(s->buf, 0);
    }
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ends_scalar(unsigned char c)
{
    return is_ws(c) || c < 0x20 || c == '{' || c == '}' || c == '[' ||
           c == ']' || c == '"' || c == ',' || c == ':' || c >= 0xfe;
}

/* What json_splitter_feed() does after one byte: go on, or stop before or
 * after it (the emit callback asked to stop). */
typedef enum {
    FEED_NEXT,
    FEED_STOP_BEFORE,
    FEED_STOP_AFTER,
} FeedStep;

/* Report @text for the current message; stop after this byte if the
 * callback asks to. */
static FeedStep feed_fail(JsonSplitter *s, JsonSplitterEmit *emit,
                          void *opaque, const char *text)
{
    return splitter_fail(s, emit, opaque, text) ? FEED_NEXT : FEED_STOP_AFTER;
}

/* A byte inside a string. */
static FeedStep feed_string_byte(JsonSplitter *s, unsigned char c,
                                 JsonSplitterEmit *emit, void *opaque)
{
    char msg[96];

    if (c < 0x20) {
        /* Checked before the escape state: "\<LF>" is not an escape, and
         * JSON forbids raw control bytes in strings. */
        snprintf(msg, sizeof(msg),
                 "JSON parse error, control character 0x%02x in a string", c);
        return feed_fail(s, emit, opaque, msg);
    }
    splitter_append(s, c);
    if (s->escape) {
        s->escape = false;
    } else if (c == '\\') {
        s->escape = true;
    } else if (c == '"') {
        s->in_string = false;
        if (s->top == TOP_STRING && !splitter_finish(s, emit, opaque)) {
            return FEED_STOP_AFTER;
        }
    }
    return FEED_NEXT;
}

/* An opening bracket: one level deeper, past the limit the message is
 * spoilt (reported when it closes). */
static void feed_open(JsonSplitter *s, unsigned char c)
{
    if (s->top == TOP_NONE) {
        s->top = TOP_CONTAINER;
    }
    s->depth++;
    if (s->depth > s->max_depth && !s->skip_error) {
        snprintf(s->errbuf, sizeof(s->errbuf),
                 "JSON nesting depth limit exceeded");
        s->skip_error = s->errbuf;
        g_string_truncate(s->buf, 0);
    }
    splitter_append(s, c);
}

/* A closing bracket: the message ends when the depth returns to 0. */
static FeedStep feed_close(JsonSplitter *s, unsigned char c,
                           JsonSplitterEmit *emit, void *opaque)
{
    if (s->top == TOP_NONE) {
        /* QEMU's text for a value that starts with a closer */
        return feed_fail(s, emit, opaque, "JSON parse error, expecting value");
    }
    splitter_append(s, c);
    if (--s->depth == 0 && !splitter_finish(s, emit, opaque)) {
        return FEED_STOP_AFTER;
    }
    return FEED_NEXT;
}

/* A byte outside strings that does not continue a top-level scalar. */
static FeedStep feed_structural_byte(JsonSplitter *s, unsigned char c,
                                     JsonSplitterEmit *emit, void *opaque)
{
    char msg[96];

    if (is_ws(c)) {
        if (s->top != TOP_NONE) {
            splitter_append(s, c);
        }
    } else if (c < 0x20) {
        snprintf(msg, sizeof(msg),
                 "JSON parse error, stray control character 0x%02x", c);
        return feed_fail(s, emit, opaque, msg);
    } else if (c == '"') {
        s->in_string = true;
        if (s->top == TOP_NONE) {
            s->top = TOP_STRING;
        }
        splitter_append(s, c);
    } else if (c == '{' || c == '[') {
        feed_open(s, c);
    } else if (c == '}' || c == ']') {
        return feed_close(s, c, emit, opaque);
    } else {
        if (s->top == TOP_NONE) {
            s->top = TOP_SCALAR;
        }
        splitter_append(s, c);
    }
    return FEED_NEXT;
}

/* Numbers are tracked outside strings to check integers against int64. */
static void feed_track_number(JsonSplitter *s, unsigned char c)
{
    if (is_number_char(c) && (s->in_number || c == '-' || g_ascii_isdigit(c))) {
        number_add(s, c);
    } else if (s->in_number) {
        number_end(s);
    }
}

static FeedStep feed_byte(JsonSplitter *s, unsigned char c,
                          JsonSplitterEmit *emit, void *opaque)
{
    char msg[96];

    if (!splitter_report_skip(s, emit, opaque)) {
        return FEED_STOP_BEFORE;
    }
    if (s->recovering) {
        if (!is_ws(c) && !is_bracket(c)) {
            return FEED_NEXT;
        }
        s->recovering = false;
    }
    if (c >= 0xfe) {
        snprintf(msg, sizeof(msg), "JSON parse error, stray byte 0x%02x", c);
        return feed_fail(s, emit, opaque, msg);
    }
    if (s->in_string) {
        return feed_string_byte(s, c, emit, opaque);
    }
    feed_track_number(s, c);
    if (s->top == TOP_SCALAR) {
        if (!ends_scalar(c)) {
            splitter_append(s, c);
            return FEED_NEXT;
        }
        /* The scalar ended just before @c; @c starts anew. */
        if (!splitter_finish(s, emit, opaque)) {
            return FEED_STOP_BEFORE;
        }
    }
    return feed_structural_byte(s, c, emit, opaque);
}

size_t json_splitter_feed(JsonSplitter *s, const char *data, size_t len,
                          JsonSplitterEmit *emit, void *opaque)
{
    const unsigned char *p = (const unsigned char *)data;

    for (size_t i = 0; i < len; i++) {
        switch (feed_byte(s, p[i], emit, opaque)) {
        case FEED_NEXT:
            break;
        case FEED_STOP_BEFORE:
            return i;
        case FEED_STOP_AFTER:
            return i + 1;
        }
    }
    splitter_report_skip(s, emit, opaque);
    return len;
}
