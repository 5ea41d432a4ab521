/*
 * Incremental JSON stream splitter: cuts a byte stream (QMP input, or a
 * server's output on the client side) into complete top-level JSON texts
 * and checks each against the JSON grammar (json-check.h), so json-glib
 * only ever sees whole, bounded, well-formed messages (it leaks memory on
 * some malformed ones, which a peer could repeat without end).
 *
 * Rules (QEMU's json-streamer behaviour, qmp-spec 2.6):
 *  - A message ends where its top-level value closes: the bracket matching
 *    the first '{' or '[', the closing quote of a top-level string, or the
 *    whitespace / bracket after a top-level literal or number.  No newline
 *    is needed; whitespace between messages is skipped.
 *  - Brackets inside strings (with any escapes) do not count.
 *  - A byte 0xFE/0xFF anywhere, or an ASCII control character (< 0x20)
 *    outside a string other than TAB/LF/CR, or any control character
 *    inside a string (JSON forbids them there), is an error: the half-read
 *    message is discarded and an error is emitted (the caller answers it),
 *    so a client can force a known-good state.  As in QEMU's lexer, input
 *    is then discarded up to the next whitespace or bracket, so the tail
 *    of the broken message does not read as a run of new messages.
 *  - A closing bracket with nothing open is an error ("JSON parse error,
 *    expecting value", QEMU's text).
 *  - A message longer than @max_bytes or nested deeper than @max_depth, or
 *    holding an integer beyond 64 bits, is not buffered: one error is
 *    emitted as soon as the byte that crosses the limit is read (QEMU's
 *    texts "JSON token size limit exceeded" / "JSON nesting depth limit
 *    exceeded"), then the rest of that value is skipped silently until it
 *    closes.  Memory stays bounded by @max_bytes.
 *  - A complete message that is not exactly one well-formed JSON value
 *    (json_check: grammar, escapes, paired surrogates, UTF-8) is emitted
 *    as an error with json_check's message instead of as text.  Framing is
 *    unchanged: the message still ends where its brackets close.
 *
 * Thread rules: a splitter belongs to one thread at a time.
 */
#ifndef QMP_JSON_SPLITTER_H
#define QMP_JSON_SPLITTER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

G_BEGIN_DECLS

typedef struct JsonSplitter JsonSplitter;

/* Called once per complete message (@text, @len: not NUL-terminated inside
 * the stream, but text[len] is a NUL the splitter keeps for convenience;
 * @error NULL) or per error (@text NULL, @error a message for the peer).
 * Return false to stop feeding: json_splitter_feed then returns early and
 * the unread rest of its buffer is left unconsumed. */
typedef bool JsonSplitterEmit(void *opaque, const char *text, size_t len,
                              const char *error);

JsonSplitter *json_splitter_new(size_t max_bytes, unsigned max_depth);
void json_splitter_free(JsonSplitter *s);

/* Feed @len bytes.  Returns how many were consumed (== @len unless @emit
 * returned false). */
size_t json_splitter_feed(JsonSplitter *s, const char *buf, size_t len,
                          JsonSplitterEmit *emit, void *opaque);

/* Whether a message is partly read (bytes buffered or being skipped). */
bool json_splitter_pending(const JsonSplitter *s);

/* Forget any half-read message. */
void json_splitter_reset(JsonSplitter *s);

G_END_DECLS

#endif /* QMP_JSON_SPLITTER_H */
