/*
 * Strict JSON syntax check (RFC 8259), run on every text before json-glib
 * parses it.
 *
 * Why: json-glib 1.6 accepts some texts that are not JSON and leaks memory
 * on some that it refuses (a scanner GString per bad string escape, the
 * root node when tokens follow a scalar root, ...).  A peer that sends such
 * text on purpose could grow a long-running daemon without bound.  Texts
 * that pass this check are well-formed JSON, which json-glib parses
 * without leaking (tests/fuzz proves it under LeakSanitizer).
 *
 * What passes: exactly one JSON value with optional surrounding whitespace
 * (space, TAB, LF, CR):
 *  - objects with string member names, ':' and ',' (no trailing comma),
 *    arrays, the literals true / false / null;
 *  - numbers per the grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 *    (the range is not checked here: the splitter refuses integers beyond
 *    64 bits, the server numbers beyond double range);
 *  - strings of valid UTF-8 (no overlong forms, no encoded surrogates,
 *    nothing above U+10FFFF) without raw control characters (< 0x20),
 *    with the escapes \" \\ \/ \b \f \n \r \t \uXXXX, where a high
 *    surrogate escape must be followed at once by a low surrogate escape
 *    and a low surrogate escape must follow a high one (a lone surrogate
 *    cannot be decoded to UTF-8, so it could never be echoed as JSON);
 *  - nesting up to JSON_CHECK_MAX_DEPTH.
 * Everything else fails, with a message naming the problem and its byte
 * offset.  The check is one pass over the text, allocates nothing and
 * keeps its container stack in a fixed bit array on the C stack.
 *
 * Thread rules: pure function, callable from any thread.
 */
#ifndef QMP_JSON_CHECK_H
#define QMP_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of objects/arrays the check accepts (the QMP server and
 * client bound nesting far lower in their splitters). */
#define JSON_CHECK_MAX_DEPTH 1024

/* Size of an error buffer that never truncates a json_check message. */
#define JSON_CHECK_ERROR_SIZE 128

/* Check that @text (@len bytes; NUL bytes inside count as control
 * characters, no terminator is needed) is exactly one well-formed JSON
 * value as described above.  Returns true if so.  Otherwise returns false
 * and, when @error is not NULL, writes a NUL-terminated ASCII message of at
 * most @error_size bytes starting "JSON parse error, " (for a peer: it
 * never quotes bytes of @text other than printable ASCII). */
bool json_check(const char *text, size_t len, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* QMP_JSON_CHECK_H */
