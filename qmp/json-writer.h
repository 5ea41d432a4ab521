/*
 * JSON output exactly as QEMU writes it on a QMP socket, so a client that
 * compares bytes (or a differential test) sees no difference:
 *  - separators ", " and ": ", no newlines;
 *  - ASCII only (qmp-spec: the server's output is ASCII): every character
 *    outside 0x20..0x7E is written as \uXXXX with upper-case hex, one
 *    beyond the BMP as a surrogate pair; '"' and '\' and the short escapes
 *    \b \f \n \r \t as usual; '/' is not escaped; bytes that are not UTF-8
 *    (never expected: the server checks its input) become U+FFFD;
 *  - object members in QEMU's QDict order: by bucket of QDict's hash of
 *    the member name (512 buckets, ascending), members of one bucket
 *    newest first.  The object's own member order is taken as the order
 *    in which QEMU would have inserted them (the QAPI member order);
 *  - integers in decimal, doubles as "%.17g".
 *
 * Thread rules: pure functions, callable from any thread.
 */
#ifndef QMP_JSON_WRITER_H
#define QMP_JSON_WRITER_H

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Append @node as JSON text to @out. */
void qmp_json_write(GString *out, JsonNode *node);

/* Append an object of @n members (@names[i]: @values[i], given in
 * insertion order) to @out, ordered as qmp_json_write orders objects.
 * For replies the server assembles from parts it does not own. */
void qmp_json_write_members(GString *out, size_t n, const char *const *names,
                            JsonNode *const *values);

/* Append @str (UTF-8) as a JSON string literal to @out. */
void qmp_json_write_string(GString *out, const char *str);

G_END_DECLS

#endif /* QMP_JSON_WRITER_H */
