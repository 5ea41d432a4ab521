/*
 * Fuzz test of the QMP JSON stream splitter (qmp/json-splitter.c):
 * tens of thousands of mutated QMP streams, fed whole, in random chunk
 * sizes and with early stops.  Asserted for every input:
 *  - the emissions do not depend on how the stream was chunked, nor on
 *    the emit callback stopping the feed and the caller resuming it;
 *  - every emitted message is within the size and depth limits, is
 *    NUL-terminated, and holds no 0xFE/0xFF or stray control byte;
 *  - every emitted message is strict JSON (json_check) that json-glib
 *    parses (under ASan, LeakSanitizer then proves json-glib leaked
 *    nothing on any of them: the splitter lets through no leak trigger);
 *  - the splitter's buffer never exceeds its bound (white box: this file
 *    includes json-splitter.c to see the struct);
 *  - after any garbage, 0xFF followed by a valid message delivers that
 *    message intact (resynchronisation), and a valid message after a
 *    stream that left nothing pending is delivered intact too.
 * FUZZ_SEED=N reproduces a run, FUZZ_SCALE=K runs K times as many inputs.
 */
#include "json-splitter.c"

#include <string.h>
#include <json-glib/json-glib.h>

#include "fuzz-gen.h"
#include "tap.h"

typedef struct {
    GPtrArray *items;       /* char*: "M:" + text or "E:" + error */
    int stop_after;         /* return false after this many (-1: never) */
    int seen;
} Emissions;

static bool record(void *opaque, const char *text, size_t len,
                   const char *error)
{
    Emissions *e = opaque;
    GString *s = g_string_new(error ? "E:" : "M:");
    if (error) {
        g_string_append(s, error);
    } else {
        g_string_append_len(s, text, (gssize)len);
        /* the contract: text[len] is a NUL */
        if (text[len] != '\0') {
            g_string_prepend(s, "BAD-NUL:");
        }
    }
    g_ptr_array_add(e->items, g_string_free(s, FALSE));
    e->seen++;
    return e->stop_after < 0 || e->seen != e->stop_after;
}

static void emissions_init(Emissions *e)
{
    e->items = g_ptr_array_new_with_free_func(g_free);
    e->stop_after = -1;
    e->seen = 0;
}

static bool same_emissions(const Emissions *a, const Emissions *b)
{
    if (a->items->len != b->items->len) {
        return false;
    }
    for (guint i = 0; i < a->items->len; i++) {
        if (strcmp(a->items->pdata[i], b->items->pdata[i])) {
            return false;
        }
    }
    return true;
}

/* Failures are counted per property; the first one is described. */
static unsigned fail_bound, fail_chunks, fail_stop, fail_msg, fail_resync,
                fail_clean, fail_nul, fail_json;
static unsigned long total_msgs, total_errors, total_bytes;
static char *first_failure;

static void note_failure(unsigned *counter, uint64_t seed, unsigned iter,
                         const char *what)
{
    (*counter)++;
    if (!first_failure) {
        first_failure = g_strdup_printf("seed %" PRIu64 " iteration %u: %s",
                                        seed, iter, what);
    }
}

static bool buffer_within_bound(const JsonSplitter *s)
{
    return s->buf->len <= s->max_bytes &&
           s->buf->allocated_len <= 2 * (s->max_bytes + 1) + 256;
}

static bool json_glib_parses(const char *text)
{
    JsonParser *p = json_parser_new_immutable();
    bool parsed = json_parser_load_from_data(p, text, -1, NULL);
    g_object_unref(p);
    return parsed;
}

/* A message the splitter emitted: within limits, no forbidden byte. */
static bool message_ok(const char *m, size_t max_bytes, unsigned max_depth)
{
    size_t len = strlen(m);
    unsigned depth = 0, deepest = 0;
    bool in_str = false, esc = false;

    if (len == 0 || len > max_bytes) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)m[i];
        if (c >= 0xfe) {
            return false;
        }
        if (c < 0x20 && (in_str || (c != '\t' && c != '\n' && c != '\r'))) {
            return false;
        }
        if (in_str) {
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = true;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
            deepest = MAX(deepest, depth);
        } else if (c == '}' || c == ']') {
            if (depth == 0) {
                return false;
            }
            depth--;
        }
    }
    return deepest <= max_depth;
}

/* FUZZ_DEBUG=1: show the first input whose chunked feed differs. */
static void dump_difference(const GString *in, const Emissions *whole,
                            const Emissions *chunked)
{
    g_autofree char *esc = g_strescape(in->str, NULL);
    diag("input (%zu bytes, up to its first NUL): %s", in->len, esc);
    guint n = MAX(whole->items->len, chunked->items->len);
    for (guint i = 0; i < n; i++) {
        g_autofree char *a = g_strescape(
            i < whole->items->len ? whole->items->pdata[i] : "-", NULL);
        g_autofree char *b = g_strescape(
            i < chunked->items->len ? chunked->items->pdata[i] : "-", NULL);
        diag("whole  : %s", a);
        diag("chunked: %s", b);
    }
}

static void feed_chunked(JsonSplitter *s, FuzzRng *r, const GString *in,
                         Emissions *e, bool *bound_ok)
{
    size_t off = 0;
    unsigned max_chunk = fuzz_one_in(r, 3) ? 4096 : 64;
    while (off < in->len) {
        size_t want = 1 + fuzz_below(r, max_chunk);   /* MIN evaluates twice */
        size_t n = MIN(in->len - off, want);
        size_t used = json_splitter_feed(s, in->str + off, n, record, e);
        if (used != n) {
            *bound_ok = false;   /* nobody asked it to stop */
        }
        if (!buffer_within_bound(s)) {
            *bound_ok = false;
        }
        off += n;
    }
}

/* Feed with a callback that stops after @stop emissions, then resume from
 * what the splitter consumed, as a caller honouring the contract does. */
static void feed_with_stops(JsonSplitter *s, FuzzRng *r, const GString *in,
                            Emissions *e)
{
    size_t off = 0;
    while (off < in->len) {
        e->stop_after = e->seen + 1 + (int)fuzz_below(r, 3);
        off += json_splitter_feed(s, in->str + off, in->len - off, record, e);
    }
    e->stop_after = -1;
}

static void build_stream(FuzzRng *r, const FuzzLimits *lim, GString *in)
{
    const char *const *corpus = fuzz_qmp_corpus();
    guint ncorpus = g_strv_length((char **)corpus);
    unsigned items = 1 + fuzz_below(r, 5);

    for (unsigned i = 0; i < items; i++) {
        const char *a = corpus[fuzz_below(r, ncorpus)];
        const char *b = corpus[fuzz_below(r, ncorpus)];
        if (fuzz_one_in(r, 4)) {
            g_string_append(in, a);
        } else {
            fuzz_mutate(r, lim, in, a, b);
        }
        switch (fuzz_below(r, 4)) {
        case 0:
            break;
        case 1:
            g_string_append_c(in, ' ');
            break;
        case 2:
            g_string_append(in, "\r\n");
            break;
        default:
            g_string_append_c(in, '\n');
            break;
        }
    }
}

static const char *valid_object(FuzzRng *r)
{
    static const char *const v[] = {
        "{\"execute\": \"query-version\", \"id\": \"resync\"}",
        "{\"execute\":\"query-commands\"}",
        "[1, {\"a\": \"}]\\\"\"}]",
        "{\"s\": \"\\u00ff \xc3\xa9 \\\\\"}",
    };
    return v[fuzz_below(r, G_N_ELEMENTS(v))];
}

static void run_one(uint64_t seed, unsigned iter, FuzzRng *r)
{
    bool real_limits = fuzz_one_in(r, 8);
    size_t max_bytes = real_limits ? 1024 * 1024 : 256 + fuzz_below(r, 8192);
    unsigned max_depth = real_limits ? 64 : 2 + fuzz_below(r, 40);
    FuzzLimits lim = {
        .huge_max = real_limits ? 2 * max_bytes : 3 * max_bytes,
        .deep_max = 3 * max_depth,
        .huge_rarity = real_limits ? 200 : 20,
    };
    GString *in = g_string_new(NULL);
    Emissions whole, chunked, stopped;
    bool bound_ok = true;

    build_stream(r, &lim, in);
    total_bytes += in->len;

    JsonSplitter *s1 = json_splitter_new(max_bytes, max_depth);
    JsonSplitter *s2 = json_splitter_new(max_bytes, max_depth);
    JsonSplitter *s3 = json_splitter_new(max_bytes, max_depth);
    emissions_init(&whole);
    emissions_init(&chunked);
    emissions_init(&stopped);

    if (json_splitter_feed(s1, in->str, in->len, record, &whole) != in->len ||
        !buffer_within_bound(s1)) {
        bound_ok = false;
    }
    feed_chunked(s2, r, in, &chunked, &bound_ok);
    feed_with_stops(s3, r, in, &stopped);

    if (!bound_ok) {
        note_failure(&fail_bound, seed, iter, "buffer over its bound");
    }
    if (!same_emissions(&whole, &chunked)) {
        note_failure(&fail_chunks, seed, iter,
                     "chunked feed emitted something else");
        if (g_getenv("FUZZ_DEBUG") && fail_chunks == 1) {
            dump_difference(in, &whole, &chunked);
        }
    }
    if (!same_emissions(&whole, &stopped)) {
        note_failure(&fail_stop, seed, iter,
                     "stopping and resuming emitted something else");
    }
    for (guint i = 0; i < whole.items->len; i++) {
        const char *item = whole.items->pdata[i];
        if (g_str_has_prefix(item, "BAD-NUL:")) {
            note_failure(&fail_nul, seed, iter, "message not NUL-terminated");
        } else if (item[0] == 'M') {
            total_msgs++;
            if (!json_check(item + 2, strlen(item + 2), NULL, 0) ||
                !json_glib_parses(item + 2)) {
                note_failure(&fail_json, seed, iter,
                             "message not strict JSON or refused by json-glib");
            }
            if (!message_ok(item + 2, max_bytes, max_depth)) {
                note_failure(&fail_msg, seed, iter, "bad message emitted");
                if (g_getenv("FUZZ_DEBUG")) {
                    g_autofree char *esc = g_strescape(item, NULL);
                    diag("bad message (limits %zu/%u): %s", max_bytes,
                         max_depth, esc);
                }
            }
        } else {
            total_errors++;
        }
    }

    /* Resynchronisation: 0xFF drops whatever is half-read. */
    const char *valid = valid_object(r);
    GString *tail = g_string_new("\xff");
    g_string_append(tail, valid);
    guint before = whole.items->len;
    json_splitter_feed(s1, tail->str, tail->len, record, &whole);
    const char *last = whole.items->len > before
                       ? whole.items->pdata[whole.items->len - 1] : "";
    if (strncmp(last, "M:", 2) || strcmp(last + 2, valid) ||
        json_splitter_pending(s1)) {
        note_failure(&fail_resync, seed, iter,
                     "valid message after 0xFF not delivered intact");
    }
    /* Without 0xFF, when nothing is pending, the next message is whole. */
    if (!json_splitter_pending(s2)) {
        before = chunked.items->len;
        json_splitter_feed(s2, valid, strlen(valid), record, &chunked);
        if (chunked.items->len != before + 1 ||
            strcmp((char *)chunked.items->pdata[before] + 2, valid)) {
            note_failure(&fail_clean, seed, iter,
                         "valid message after a clean stream not intact");
        }
    }

    g_string_free(tail, TRUE);
    g_ptr_array_unref(whole.items);
    g_ptr_array_unref(chunked.items);
    g_ptr_array_unref(stopped.items);
    json_splitter_free(s1);
    json_splitter_free(s2);
    json_splitter_free(s3);
    g_string_free(in, TRUE);
}

/* Exact boundaries at the daemon's real limits. */
static void boundaries(void)
{
    const size_t max = 1024 * 1024;
    JsonSplitter *s = json_splitter_new(max, 64);
    Emissions e;
    emissions_init(&e);

    /* ["aaa...a"]: exactly max bytes, then one byte more */
    for (size_t total = max; total <= max + 1; total++) {
        GString *m = g_string_new("[\"");
        while (m->len < total - 2) {
            g_string_append_c(m, 'a');
        }
        g_string_append(m, "\"]");
        guint before = e.items->len;
        json_splitter_feed(s, m->str, m->len, record, &e);
        const char *got = e.items->len == before + 1
                          ? e.items->pdata[before] : "";
        if (total == max) {
            ok(got[0] == 'M' && strlen(got) == max + 2,
               "a message of exactly %zu bytes is delivered", max);
        } else {
            ok(g_str_has_prefix(got, "E:") && strstr(got, "size limit exceeded"),
               "one byte more is one 'size limit exceeded' error: %.60s", got);
        }
        ok(buffer_within_bound(s), "buffer within its bound after %zu bytes",
           total);
        g_string_free(m, TRUE);
    }
    for (unsigned depth = 64; depth <= 65; depth++) {
        GString *m = g_string_new(NULL);
        for (unsigned i = 0; i < depth; i++) {
            g_string_append_c(m, '[');
        }
        for (unsigned i = 0; i < depth; i++) {
            g_string_append_c(m, ']');
        }
        guint before = e.items->len;
        json_splitter_feed(s, m->str, m->len, record, &e);
        const char *got = e.items->len == before + 1
                          ? e.items->pdata[before] : "";
        ok(depth == 64 ? got[0] == 'M'
                       : (got[0] == 'E' && strstr(got, "nesting depth") != NULL),
           "nesting %u: %.50s", depth, got);
        g_string_free(m, TRUE);
    }
    /* Integers one past int64 spoil the message; the edges themselves do
     * not. */
    static const struct { const char *text; bool good; } nums[] = {
        { "[9223372036854775807]", true }, { "[-9223372036854775808]", true },
        { "[9223372036854775808]", false }, { "[-9223372036854775809]", false },
        { "[1e400]", true }, { "99999999999999999999999 ", false },
    };
    for (guint i = 0; i < G_N_ELEMENTS(nums); i++) {
        guint before = e.items->len;
        json_splitter_feed(s, nums[i].text, strlen(nums[i].text), record, &e);
        const char *got = e.items->len == before + 1
                          ? e.items->pdata[before] : "";
        ok(got[0] == (nums[i].good ? 'M' : 'E'), "%s -> %s", nums[i].text,
           got);
    }
    /* Regression (found by this fuzzer): a control byte right after a
     * backslash inside a string was taken as an escaped character and
     * buffered, against the rule that any control byte in a string is an
     * error that drops the half-read message. */
    static const char esc_lf[] = "{\"a\": \"x\\\n{\"b\": 1}";
    guint before = e.items->len;
    json_splitter_feed(s, esc_lf, strlen(esc_lf), record, &e);
    ok(e.items->len == before + 2 &&
       g_str_has_prefix(e.items->pdata[before],
                        "E:JSON parse error, control character 0x0a") &&
       !strcmp(e.items->pdata[before + 1], "M:{\"b\": 1}"),
       "backslash + LF in a string is an error, the next message is intact");
    g_ptr_array_unref(e.items);
    json_splitter_free(s);
}

int main(void)
{
    uint64_t seed = fuzz_seed_from_env(20240611);
    unsigned iterations = 20000 * fuzz_scale_from_env();
    FuzzRng r;

    diag("seed %" PRIu64 " (FUZZ_SEED=%" PRIu64 " reproduces), %u inputs",
         seed, seed, iterations);
    fuzz_rng_init(&r, seed);

    /* Every corpus text alone is delivered as is. */
    const char *const *corpus = fuzz_qmp_corpus();
    unsigned intact = 0, count = 0;
    for (; corpus[count]; count++) {
        JsonSplitter *s = json_splitter_new(1024, 16);
        Emissions e;
        emissions_init(&e);
        for (const char *p = corpus[count]; *p; p++) {
            json_splitter_feed(s, p, 1, record, &e);
        }
        json_splitter_feed(s, "\n", 1, record, &e);
        if (e.items->len == 1 &&
            !strcmp((char *)e.items->pdata[0] + 2, corpus[count])) {
            intact++;
        }
        g_ptr_array_unref(e.items);
        json_splitter_free(s);
    }
    is_int(intact, count, "each of the %u corpus texts fed byte by byte is "
           "delivered intact", count);

    for (unsigned i = 0; i < iterations; i++) {
        run_one(seed, i, &r);
    }
    diag("%lu bytes in, %lu messages and %lu errors out", total_bytes,
         total_msgs, total_errors);
    if (first_failure) {
        diag("first failure: %s", first_failure);
    }
    ok(total_msgs > iterations / 4 && total_errors > iterations / 4,
       "the inputs produced both messages and errors");
    is_int(fail_bound, 0, "buffer never over max_bytes (and memory bounded)");
    is_int(fail_nul, 0, "every message is NUL-terminated at text[len]");
    is_int(fail_msg, 0, "every message within size/depth, no 0xFE/0xFF or "
           "stray control byte");
    is_int(fail_json, 0, "every message is strict JSON and json-glib parses "
           "it");
    is_int(fail_chunks, 0, "random chunk sizes emit exactly what one feed "
           "emits");
    is_int(fail_stop, 0, "stopping from emit and resuming loses nothing");
    is_int(fail_resync, 0, "after any garbage, 0xFF + a valid message "
           "delivers it intact");
    is_int(fail_clean, 0, "a valid message after a stream with nothing "
           "pending is delivered intact");
    boundaries();
    g_free(first_failure);
    return done_testing();
}
