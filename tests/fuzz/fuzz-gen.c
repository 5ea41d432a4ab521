/*
 * Deterministic input generator for the fuzz tests (see fuzz-gen.h).
 */
#include "fuzz-gen.h"

#include <stdlib.h>
#include <string.h>

uint64_t fuzz_seed_from_env(uint64_t fallback)
{
    const char *s = g_getenv("FUZZ_SEED");
    if (s && *s) {
        return g_ascii_strtoull(s, NULL, 0);
    }
    return fallback;
}

unsigned fuzz_scale_from_env(void)
{
    const char *s = g_getenv("FUZZ_SCALE");
    guint64 v = s ? g_ascii_strtoull(s, NULL, 10) : 1;
    return v < 1 ? 1 : v > 10000 ? 10000 : (unsigned)v;
}

/* splitmix64: tiny, full period, and identical on every platform, so a
 * seed reproduces the same inputs everywhere. */
void fuzz_rng_init(FuzzRng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t fuzz_next(FuzzRng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t fuzz_below(FuzzRng *r, uint32_t n)
{
    return (uint32_t)(fuzz_next(r) % n);
}

bool fuzz_one_in(FuzzRng *r, uint32_t n)
{
    return fuzz_below(r, n) == 0;
}

static const char *const corpus[] = {
    "{\"execute\": \"qmp_capabilities\"}",
    "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}",
    "{\"execute\": \"query-version\", \"id\": 1}",
    "{\"execute\":\"query-commands\",\"id\":\"q\"}",
    "{\"execute\": \"query-iothreads\", \"id\": {\"a\": [1, 2.5, null]}}",
    "{\"execute\": \"query-iothread-stats\", \"arguments\": {\"id\": \"io0\","
    " \"reset\": false}}",
    "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"iothread\","
    " \"id\": \"fz1\", \"poll-max-ns\": 32768, \"poll-grow\": 2}, \"id\": 7}",
    "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"fz1\"}}",
    "{\"execute\": \"iothread-set\", \"arguments\": {\"id\": \"io0\", "
    "\"poll-max-ns\": 1000, \"poll-shrink\": 0, \"aio-max-batch\": 16}}",
    "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/objects\"}}",
    "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/objects/io0\", "
    "\"property\": \"poll-max-ns\"}}",
    "{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"/objects/io1\", "
    "\"property\": \"poll-grow\", \"value\": 3}}",
    "{\"execute\": \"query-version\", \"id\": "
    "\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\n\\t\\/\"}",
    "{\"execute\": \"query-version\", \"id\": -9223372036854775808}",
    "{\"execute\": \"query-version\", \"id\": [1e300, -0.0, 12E-3, true, "
    "false]}",
    "{ \"id\" : 9223372036854775807 , \"execute\" : \"query-commands\" }",
    "[\"execute\", \"query-version\"]",
    "\"query-version\"",
    "42",
    "null",
    "{\"execute\": \"no-such-command\", \"id\": null}",
    "{\"execute\": \"query-version\", \"arguments\": {\"unexpected\": 1}}",
    "{\"execute\": \"query-qmp-schema\"}",
    "{\"execute\": \"quit\"}",
    NULL,
};

const char *const *fuzz_qmp_corpus(void)
{
    return corpus;
}

static const char *const edge_numbers[] = {
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "99999999999999999999999999999999999999", "-0", "0", "-1", "4294967296",
    "4294967297", "2147483647", "2147483648", "1e400", "-1e400", "1e-400",
    "1.7976931348623157e308", "0.1e1", "1E+2", "00", "-", "--1", "1.2.3",
    "1e", ".5", "+1", "0x10", "NaN", "Infinity",
};

const char *fuzz_edge_number(FuzzRng *r)
{
    return edge_numbers[fuzz_below(r, G_N_ELEMENTS(edge_numbers))];
}

static const char *const bad_utf8[] = {
    "\xc0\x80", "\xed\xa0\x80", "\x80", "\xf8\x88\x80\x80\x80", "\xc3",
    "\xe2\x82", "\xf4\x90\x80\x80", "\xef\xbf\xbf", "\xfe", "\xff",
    "\\ud800", "\\udc00\\ud800", "\\u0000", "\\x41", "\\u12", "\\",
};

static const char *const tokens[] = {
    "{", "}", "[", "]", "\"", "\\", ",", ":", "null", "true", "fals",
    "\"execute\"", "\"arguments\"", "\"id\"", "{}", "[]", "\"\"", " ",
    "\r\n", "/*", "//", "'",
};

static size_t pos(FuzzRng *r, GString *m)
{
    return fuzz_below(r, (uint32_t)m->len + 1);
}

static void mutate_once(FuzzRng *r, const FuzzLimits *lim, GString *m,
                        const char *other)
{
    size_t p = pos(r, m);

    switch (fuzz_below(r, 14)) {
    case 0:     /* byte flip */
        if (m->len) {
            m->str[p % m->len] ^= (char)(1u << fuzz_below(r, 8));
        }
        break;
    case 1:     /* random byte */
        if (m->len) {
            m->str[p % m->len] = (char)fuzz_below(r, 256);
        }
        break;
    case 2:     /* truncation */
        g_string_truncate(m, p);
        break;
    case 3: {   /* duplicate a slice */
        size_t q = pos(r, m), a = MIN(p, q), b = MAX(p, q);
        g_autofree char *slice = g_strndup(m->str + a, b - a);
        g_string_insert_len(m, (gssize)pos(r, m), slice, (gssize)(b - a));
        break;
    }
    case 4: {   /* splice: our prefix + another text's suffix */
        size_t olen = strlen(other);
        g_string_truncate(m, p);
        g_string_append(m, other + fuzz_below(r, (uint32_t)olen + 1));
        break;
    }
    case 5: {   /* control character */
        char c = (char)fuzz_below(r, 0x20);
        g_string_insert_len(m, (gssize)p, &c, 1);
        break;
    }
    case 6:     /* 0xFE / 0xFF / invalid UTF-8 / bad escapes */
        g_string_insert(m, (gssize)p,
                        bad_utf8[fuzz_below(r, G_N_ELEMENTS(bad_utf8))]);
        break;
    case 7: {   /* deep nesting, balanced or not */
        unsigned n = 1 + fuzz_below(r, lim->deep_max);
        bool arrays = fuzz_one_in(r, 2);
        GString *deep = g_string_new(NULL);
        for (unsigned i = 0; i < n; i++) {
            g_string_append(deep, arrays ? "[" : "{\"k\":");
        }
        g_string_append(deep, "1");
        unsigned close = fuzz_one_in(r, 3) ? fuzz_below(r, n + 1) : n;
        for (unsigned i = 0; i < close; i++) {
            g_string_append_c(deep, arrays ? ']' : '}');
        }
        g_string_insert_len(m, (gssize)p, deep->str, (gssize)deep->len);
        g_string_free(deep, TRUE);
        break;
    }
    case 8: {   /* a long string, sometimes huge */
        size_t n = fuzz_below(r, 300);
        if (fuzz_one_in(r, lim->huge_rarity)) {
            n = lim->huge_max / 2 + fuzz_below(r, (uint32_t)lim->huge_max / 2);
        }
        GString *s = g_string_sized_new(n + 2);
        g_string_append_c(s, '"');
        for (size_t i = 0; i < n; i++) {
            g_string_append_c(s, (char)('a' + i % 26));
        }
        if (!fuzz_one_in(r, 4)) {
            g_string_append_c(s, '"');
        }
        g_string_insert_len(m, (gssize)p, s->str, (gssize)s->len);
        g_string_free(s, TRUE);
        break;
    }
    case 9: {   /* an edge number, replacing a digit run if there is one */
        const char *num = fuzz_edge_number(r);
        const char *d = strpbrk(m->str + p % (m->len + 1), "0123456789");
        if (d) {
            size_t a = (size_t)(d - m->str), b = a;
            while (b < m->len && g_ascii_isdigit(m->str[b])) {
                b++;
            }
            g_string_erase(m, (gssize)a, (gssize)(b - a));
            g_string_insert(m, (gssize)a, num);
        } else {
            g_string_insert(m, (gssize)p, num);
        }
        break;
    }
    case 10: {  /* delete a range */
        size_t n = fuzz_below(r, 16);
        g_string_erase(m, (gssize)p, (gssize)MIN(n, m->len - p));
        break;
    }
    case 11:    /* a JSON token out of place */
        g_string_insert(m, (gssize)p,
                        tokens[fuzz_below(r, G_N_ELEMENTS(tokens))]);
        break;
    case 12: {  /* a NUL byte */
        g_string_insert_len(m, (gssize)p, "\0", 1);
        break;
    }
    default: {  /* a valid UTF-8 multibyte sequence or a big int member */
        static const char *const extra[] = {
            "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
            ", \"poll-max-ns\": 18446744073709551616",
            ", \"id\": {\"x\": {\"y\": [[[]]]}}",
        };
        g_string_insert(m, (gssize)p,
                        extra[fuzz_below(r, G_N_ELEMENTS(extra))]);
        break;
    }
    }
}

void fuzz_mutate(FuzzRng *r, const FuzzLimits *lim, GString *out,
                 const char *seed_text, const char *other)
{
    GString *m = g_string_new(seed_text);
    unsigned n = 1 + fuzz_below(r, 4);
    for (unsigned i = 0; i < n; i++) {
        mutate_once(r, lim, m, other);
    }
    g_string_append_len(out, m->str, (gssize)m->len);
    g_string_free(m, TRUE);
}
