/*
 * Strict JSON syntax check (see json-check.h for what passes and why).
 * An iterative recursive-descent recogniser: the only state beyond the
 * read position is one bit per open container (object or array), so deep
 * nesting costs neither C stack frames nor allocations.
 */
#include "json-check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const unsigned char *start;
    const unsigned char *p;         /* next byte to read */
    const unsigned char *end;
    char *error;
    size_t error_size;
} Checker;

/* Where the recogniser is between two tokens. */
typedef enum {
    WANT_VALUE,         /* a value must start here */
    WANT_MEMBER,        /* a member name must start here (after '{' or ',') */
    AFTER_VALUE,        /* a value just ended */
} CheckState;

static bool fail_at(Checker *c, const unsigned char *at, const char *what)
{
    if (c->error && c->error_size) {
        snprintf(c->error, c->error_size, "JSON parse error, %s at byte %zu",
                 what, (size_t)(at - c->start));
    }
    return false;
}

/* "unexpected <the byte at c->p> <where>", quoting only printable ASCII so
 * the message stays valid UTF-8 whatever the input. */
static bool fail_unexpected(Checker *c, const char *where)
{
    char what[96];

    if (c->p == c->end) {
        snprintf(what, sizeof(what), "unexpected end of input %s", where);
    } else if (*c->p > 0x20 && *c->p < 0x7f) {
        snprintf(what, sizeof(what), "unexpected '%c' %s", *c->p, where);
    } else {
        snprintf(what, sizeof(what), "unexpected byte 0x%02x %s", *c->p,
                 where);
    }
    return fail_at(c, c->p, what);
}

static void skip_ws(Checker *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' ||
                             *c->p == '\r' || *c->p == '\t')) {
        c->p++;
    }
}

static bool is_digit(unsigned char b)
{
    return b >= '0' && b <= '9';
}

/* The value of the 4 hex digits at @p, or -1 if there are not 4. */
static int hex4(const unsigned char *p, const unsigned char *end)
{
    int v = 0;

    if (end - p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        unsigned char b = p[i];
        int d;
        if (is_digit(b)) {
            d = b - '0';
        } else if (b >= 'a' && b <= 'f') {
            d = b - 'a' + 10;
        } else if (b >= 'A' && b <= 'F') {
            d = b - 'A' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence of 2-4 bytes at @p (RFC 3629
 * table: no overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned char lead = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (lead >= 0xc2 && lead <= 0xdf) {
        n = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        n = 3;
        lo = lead == 0xe0 ? 0xa0 : 0x80;
        hi = lead == 0xed ? 0x9f : 0xbf;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        n = 4;
        lo = lead == 0xf0 ? 0x90 : 0x80;
        hi = lead == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* The escape at @p (a backslash) inside the string that starts at c->p.
 * Returns its length (a surrogate pair: 12), or 0 after fail_at(). */
static size_t check_escape(Checker *c, const unsigned char *p)
{
    const unsigned char *end = c->end;

    if (end - p < 2) {
        fail_at(c, c->p, "unterminated string starting");
        return 0;
    }
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
    case 't':
        return 2;
    case 'u':
        break;
    default:
        fail_at(c, p, "invalid escape in a string");
        return 0;
    }
    int unit = hex4(p + 2, end);
    if (unit < 0) {
        fail_at(c, p, "\\u escape without 4 hex digits");
        return 0;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
        fail_at(c, p, "low surrogate \\u escape without a high one (not "
                "valid UTF-8)");
        return 0;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
        int low = end - p >= 12 && p[6] == '\\' && p[7] == 'u'
                  ? hex4(p + 8, end) : -1;
        if (low < 0xdc00 || low > 0xdfff) {
            fail_at(c, p, "high surrogate \\u escape not followed by a low "
                    "one (not valid UTF-8)");
            return 0;
        }
        return 12;
    }
    return 6;
}

/* A string starting at the opening quote at c->p; on success c->p is just
 * past the closing quote. */
static bool check_string(Checker *c)
{
    const unsigned char *p = c->p + 1, *end = c->end;

    for (;;) {
        if (p == end) {
            return fail_at(c, c->p, "unterminated string starting");
        }
        unsigned char b = *p;
        size_t n;
        if (b == '"') {
            c->p = p + 1;
            return true;
        }
        if (b < 0x20) {
            char what[64];
            snprintf(what, sizeof(what), "control character 0x%02x in a "
                     "string", b);
            return fail_at(c, p, what);
        }
        if (b < 0x80 && b != '\\') {
            n = 1;
        } else if (b >= 0x80) {
            n = utf8_sequence(p, end);
            if (!n) {
                return fail_at(c, p, "a string is not valid UTF-8");
            }
        } else {
            n = check_escape(c, p);
            if (!n) {
                return false;
            }
        }
        p += n;
    }
}

/* A number starting at c->p ('-' or a digit); on success c->p is just past
 * it.  What follows is the caller's business ("1x" fails there). */
static bool check_number(Checker *c)
{
    const unsigned char *p = c->p, *end = c->end;

    if (*p == '-') {
        p++;
    }
    if (p == end || !is_digit(*p)) {
        return fail_at(c, p, "'-' not followed by a digit");
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            return fail_at(c, p - 1, "number with a leading zero");
        }
    } else {
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p)) {
            return fail_at(c, p, "no digit after a decimal point");
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p == end || !is_digit(*p)) {
            return fail_at(c, p, "no digit in an exponent");
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    c->p = p;
    return true;
}

static bool check_literal(Checker *c, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n)) {
        return fail_unexpected(c, "where a value should start");
    }
    c->p += n;
    return true;
}

/* One scalar or the opening of a container at c->p (whitespace skipped). */
static bool check_value_start(Checker *c, uint8_t *objects, size_t *depth,
                              CheckState *next)
{
    *next = AFTER_VALUE;
    if (c->p == c->end) {
        return fail_unexpected(c, "where a value should start");
    }
    switch (*c->p) {
    case '{':
    case '[': {
        if (*depth == JSON_CHECK_MAX_DEPTH) {
            return fail_at(c, c->p, "nesting deeper than the limit");
        }
        bool object = *c->p == '{';
        if (object) {
            objects[*depth / 8] |= (uint8_t)(1u << (*depth % 8));
        } else {
            objects[*depth / 8] &= (uint8_t)~(1u << (*depth % 8));
        }
        ++*depth;
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == (object ? '}' : ']')) {
            c->p++;
            --*depth;
        } else {
            *next = object ? WANT_MEMBER : WANT_VALUE;
        }
        return true;
    }
    case '"':
        return check_string(c);
    case 't':
        return check_literal(c, "true");
    case 'f':
        return check_literal(c, "false");
    case 'n':
        return check_literal(c, "null");
    default:
        if (*c->p == '-' || is_digit(*c->p)) {
            return check_number(c);
        }
        return fail_unexpected(c, "where a value should start");
    }
}

/* An object member's name and its ':'; c->p is then at the value. */
static bool check_member_name(Checker *c)
{
    if (c->p == c->end || *c->p != '"') {
        return fail_unexpected(c, "where a member name should start");
    }
    if (!check_string(c)) {
        return false;
    }
    skip_ws(c);
    if (c->p == c->end || *c->p != ':') {
        return fail_unexpected(c, "after a member name (expected ':')");
    }
    c->p++;
    return true;
}

/* After a value inside a container (*depth > 0): a ',' or the closer. */
static bool check_after_value(Checker *c, const uint8_t *objects,
                              size_t *depth, CheckState *state)
{
    bool in_object = objects[(*depth - 1) / 8] & (1u << ((*depth - 1) % 8));

    if (c->p < c->end && *c->p == ',') {
        c->p++;
        *state = in_object ? WANT_MEMBER : WANT_VALUE;
    } else if (c->p < c->end && *c->p == (in_object ? '}' : ']')) {
        c->p++;
        (*depth)--;
    } else {
        return fail_unexpected(c, in_object
            ? "after an object member (expected ',' or '}')"
            : "after an array element (expected ',' or ']')");
    }
    return true;
}

bool json_check(const char *text, size_t len, char *error, size_t error_size)
{
    uint8_t objects[JSON_CHECK_MAX_DEPTH / 8];  /* bit set: an object */
    size_t depth = 0;
    CheckState state = WANT_VALUE;
    Checker c = {
        .start = (const unsigned char *)text,
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .error = error,
        .error_size = error_size,
    };

    if (error && error_size) {
        error[0] = '\0';
    }
    for (;;) {
        skip_ws(&c);
        switch (state) {
        case WANT_VALUE:
            if (!check_value_start(&c, objects, &depth, &state)) {
                return false;
            }
            break;
        case WANT_MEMBER:
            if (!check_member_name(&c)) {
                return false;
            }
            state = WANT_VALUE;
            break;
        case AFTER_VALUE:
            if (depth == 0) {
                return c.p == c.end ||
                       fail_unexpected(&c, "after the value");
            }
            if (!check_after_value(&c, objects, &depth, &state)) {
                return false;
            }
            break;
        }
    }
}
