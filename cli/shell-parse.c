/*
 * qmp-shell syntax parser (see shell-parse.h): word splitting that respects
 * quotes and JSON nesting, KEY=VALUE arguments with JSON-or-string values.
 */
#include "shell-parse.h"
#include "json-check.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(iothreadctl-shell-parse-error-quark, shell_parse_error)

/* The state of shell_split_words between characters. */
typedef struct {
    GPtrArray *words;
    GString *cur;       /* the word being built, NULL between words */
    GString *nesting;   /* closing brackets awaited; bounded by the line */
    char quote;         /* the open quote character, or 0 */
} Splitter;

static void end_word(Splitter *sp)
{
    if (sp->cur) {
        g_ptr_array_add(sp->words, g_string_free(sp->cur, FALSE));
        sp->cur = NULL;
    }
}

/* A character outside quotes: opens a quote, opens or closes a bracket.
 * False + @error on a closing bracket that does not match. */
static bool split_structural(Splitter *sp, char ch, GError **error)
{
    switch (ch) {
    case '"':
    case '\'':
        sp->quote = ch;
        break;
    case '[':
        g_string_append_c(sp->nesting, ']');
        break;
    case '{':
        g_string_append_c(sp->nesting, '}');
        break;
    case ']':
    case '}':
        if (sp->nesting->len == 0 ||
            sp->nesting->str[sp->nesting->len - 1] != ch) {
            g_set_error(error, SHELL_PARSE_ERROR, 0,
                        "unbalanced '%c' in \"%s\"", ch, sp->cur->str);
            return false;
        }
        g_string_truncate(sp->nesting, sp->nesting->len - 1);
        break;
    default:
        break;
    }
    return true;
}

/* Take the character at *@p (and the one it escapes inside "..."),
 * advancing *@p past what it consumed beyond the first. */
static bool split_char(Splitter *sp, const char **p, GError **error)
{
    char ch = **p;
    bool blank = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';

    if (!sp->quote && sp->nesting->len == 0 && blank) {
        end_word(sp);
        return true;
    }
    if (!sp->cur) {
        sp->cur = g_string_new(NULL);
    }
    g_string_append_c(sp->cur, ch);
    if (!sp->quote) {
        return split_structural(sp, ch, error);
    }
    if (sp->quote == '"' && ch == '\\' && (*p)[1]) {
        g_string_append_c(sp->cur, *++*p);
    } else if (ch == sp->quote) {
        sp->quote = 0;
    }
    return true;
}

/* At the end of the line: false + @error if a quote or bracket is open. */
static bool split_finish(Splitter *sp, GError **error)
{
    if (sp->quote) {
        g_set_error(error, SHELL_PARSE_ERROR, 0,
                    "unterminated %c quote", sp->quote);
        return false;
    }
    if (sp->nesting->len) {
        g_set_error(error, SHELL_PARSE_ERROR, 0,
                    "missing '%c' before the end of the line",
                    sp->nesting->str[sp->nesting->len - 1]);
        return false;
    }
    end_word(sp);
    return true;
}

char **shell_split_words(const char *line, GError **error)
{
    Splitter sp = { g_ptr_array_new_with_free_func(g_free), NULL,
                    g_string_new(NULL), 0 };
    bool good = true;

    for (const char *p = line; *p && good; p++) {
        good = split_char(&sp, &p, error);
    }
    good = good && split_finish(&sp, error);
    if (sp.cur) {
        g_string_free(sp.cur, TRUE);
    }
    g_string_free(sp.nesting, TRUE);
    if (!good) {
        g_ptr_array_free(sp.words, TRUE);
        return NULL;
    }
    g_ptr_array_add(sp.words, NULL);
    return (char **)g_ptr_array_free(sp.words, FALSE);
}

/* Whether json-glib's @node can be written back as JSON: a number beyond
 * double range parses as inf (written "inf.0"); such texts stay strings.
 * (Strings are UTF-8 after json_check; checked anyway, it is cheap.) */
static bool json_writable(JsonNode *node)
{
    if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObjectIter iter;
        const char *key;
        JsonNode *member;
        json_object_iter_init(&iter, json_node_get_object(node));
        while (json_object_iter_next(&iter, &key, &member)) {
            if (!g_utf8_validate(key, -1, NULL) || !json_writable(member)) {
                return false;
            }
        }
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *arr = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            if (!json_writable(json_array_get_element(arr, i))) {
                return false;
            }
        }
    } else if (json_node_get_value_type(node) == G_TYPE_STRING) {
        return g_utf8_validate(json_node_get_string(node), -1, NULL);
    } else if (json_node_get_value_type(node) == G_TYPE_DOUBLE) {
        return isfinite(json_node_get_double(node));
    }
    return true;
}

JsonNode *shell_parse_value(const char *text)
{
    size_t len = strlen(text);

    if (len >= 2 && text[0] == '\'' && text[len - 1] == '\'') {
        JsonNode *node = json_node_new(JSON_NODE_VALUE);
        char *inner = g_strndup(text + 1, len - 2);
        json_node_set_string(node, inner);
        g_free(inner);
        return node;
    }
    /* json-glib accepts some texts that are not JSON (assignments, tokens
     * after the value, lone surrogate escapes) and leaks memory on some of
     * them and on some it refuses ("id"[]a, "\ud800\u0041"), so only
     * strict JSON (json-check.h) is offered to it; "io2" or "abc def"
     * always stay strings. */
    if (json_check(text, len, NULL, 0)) {
        JsonParser *parser = json_parser_new_immutable();
        if (json_parser_load_from_data(parser, text, -1, NULL) &&
            !json_parser_has_assignment(parser, NULL) &&
            json_parser_get_root(parser) &&
            json_writable(json_parser_get_root(parser))) {
            JsonNode *node = json_node_copy(json_parser_get_root(parser));
            g_object_unref(parser);
            return node;
        }
        g_object_unref(parser);
    }
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(node, text);
    return node;
}

/* Find or create the object for the dotted prefix of @key; returns the
 * object to hold the last component (not a new reference). */
static JsonObject *object_for_path(JsonObject *root, char **parts,
                                   const char *word, GError **error)
{
    JsonObject *obj = root;

    for (guint i = 0; parts[i + 1]; i++) {
        JsonNode *member = json_object_get_member(obj, parts[i]);
        if (!member) {
            JsonObject *child = json_object_new();
            json_object_set_object_member(obj, parts[i], child);
            obj = child;
        } else if (JSON_NODE_HOLDS_OBJECT(member)) {
            obj = json_node_get_object(member);
        } else {
            g_set_error(error, SHELL_PARSE_ERROR, 0,
                        "'%s': '%s' was already given a value", word,
                        parts[i]);
            return NULL;
        }
    }
    return obj;
}

JsonObject *shell_parse_arguments(char *const *words, GError **error)
{
    JsonObject *args = json_object_new();

    for (guint i = 0; words && words[i]; i++) {
        const char *word = words[i];
        const char *eq = strchr(word, '=');
        if (!eq) {
            g_set_error(error, SHELL_PARSE_ERROR, 0,
                        "expected KEY=VALUE, got '%s'", word);
            goto fail;
        }
        char *key = g_strndup(word, eq - word);
        char **parts = g_strsplit(key, ".", -1);
        bool bad_key = (key[0] == '\0');
        for (guint j = 0; parts[j]; j++) {
            bad_key |= (parts[j][0] == '\0');
        }
        g_free(key);
        if (bad_key) {
            g_set_error(error, SHELL_PARSE_ERROR, 0,
                        "'%s': empty argument name", word);
            g_strfreev(parts);
            goto fail;
        }
        JsonObject *obj = object_for_path(args, parts, word, error);
        if (!obj) {
            g_strfreev(parts);
            goto fail;
        }
        const char *last = parts[g_strv_length(parts) - 1];
        if (json_object_has_member(obj, last)) {
            g_set_error(error, SHELL_PARSE_ERROR, 0,
                        "'%s': argument given twice", word);
            g_strfreev(parts);
            goto fail;
        }
        json_object_set_member(obj, last, shell_parse_value(eq + 1));
        g_strfreev(parts);
    }
    return args;

fail:
    json_object_unref(args);
    return NULL;
}

bool shell_parse_line(const char *line, char **command,
                      JsonObject **arguments, GError **error)
{
    char **words = shell_split_words(line, error);

    if (!words) {
        return false;
    }
    if (!words[0]) {
        g_strfreev(words);
        *command = NULL;
        *arguments = NULL;
        return true;
    }
    if (strchr(words[0], '=')) {
        g_set_error(error, SHELL_PARSE_ERROR, 0,
                    "expected a command name first, got '%s'", words[0]);
        g_strfreev(words);
        return false;
    }
    JsonObject *args = shell_parse_arguments(words + 1, error);
    if (!args) {
        g_strfreev(words);
        return false;
    }
    *command = g_strdup(words[0]);
    *arguments = args;
    g_strfreev(words);
    return true;
}

char *shell_request_json(const char *command, JsonObject *arguments)
{
    JsonObject *req = json_object_new();
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(req, "execute", command);
    if (arguments && json_object_get_size(arguments) > 0) {
        json_object_set_object_member(req, "arguments",
                                      json_object_ref(arguments));
    }
    json_node_take_object(root, req);
    char *text = json_to_string(root, FALSE);
    json_node_unref(root);
    return text;
}
