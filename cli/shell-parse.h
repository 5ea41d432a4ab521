/*
 * qmp-shell syntax: turn a line such as
 *     object-add qom-type=iothread id=io2 x.y=[1,2]
 * into a command name and a JSON arguments object.  Pure (no I/O), so the
 * unit tests drive it directly.
 *
 * Thread rules: none (no shared state).
 */
#ifndef CLI_SHELL_PARSE_H
#define CLI_SHELL_PARSE_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SHELL_PARSE_ERROR (shell_parse_error_quark())
GQuark shell_parse_error_quark(void);

/* Split @line into words at blanks.  Blanks inside "..." or '...' or inside
 * [] / {} nesting do not split, so JSON values survive whole; quote
 * characters are kept in the word.  A backslash inside double quotes escapes
 * the next character.  Unterminated quotes or brackets -> NULL + @error.
 * An empty or blank line gives an empty vector (not NULL).  Caller frees
 * with g_strfreev. */
char **shell_split_words(const char *line, GError **error);

/* One KEY=VALUE value: JSON if the whole text parses as one JSON value
 * (numbers, true/false/null, "strings", [arrays], {objects}); text wrapped
 * in single quotes is the string between them; anything else is the text
 * itself as a string.  Never NULL (transfer full). */
JsonNode *shell_parse_value(const char *text);

/* Parse KEY=VALUE words (@words, NULL-terminated) into a new object.
 * Dotted keys nest: a.b=1 -> {"a": {"b": 1}}.  A word without '=', an empty
 * key or a key given twice -> NULL + @error naming the word. */
JsonObject *shell_parse_arguments(char *const *words, GError **error);

/* A whole qmp-shell line: first word = command, the rest KEY=VALUE.
 * On success *@command (g_free) and *@arguments (json_object_unref, never
 * NULL) are set; a blank line sets *@command = NULL and returns true.
 * Malformed input -> false + @error, outputs untouched. */
bool shell_parse_line(const char *line, char **command,
                      JsonObject **arguments, GError **error);

/* The QMP request a raw command sends, as compact JSON text (for -v and
 * tests): {"execute": CMD, "arguments": ARGS} (arguments left out when
 * @arguments is NULL or empty).  Caller frees. */
char *shell_request_json(const char *command, JsonObject *arguments);

G_END_DECLS

#endif /* CLI_SHELL_PARSE_H */
