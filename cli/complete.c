/*
 * Readline tab completion (see complete.h).
 */
#include "complete.h"

#include <stdio.h>
#include <string.h>

#include <readline/readline.h>

#include "commands.h"

static Session *completion_session;

static void add_matching(GPtrArray *out, const char *word, const char *prefix,
                         const char *candidate, const char *suffix)
{
    char *full = g_strconcat(prefix, candidate, suffix, NULL);

    if (g_str_has_prefix(full, word)) {
        for (guint i = 0; i < out->len; i++) {
            if (!strcmp(out->pdata[i], full)) {
                g_free(full);
                return;
            }
        }
        g_ptr_array_add(out, full);
    } else {
        g_free(full);
    }
}

static void add_all(GPtrArray *out, const char *word, const char *prefix,
                    const char *const *candidates, const char *suffix)
{
    for (guint i = 0; candidates && candidates[i]; i++) {
        add_matching(out, word, prefix, candidates[i], suffix);
    }
}

static char *const *live_ids(Session *s)
{
    /* A second old at most: ids change under us (other clients). */
    return session_iothread_ids(s, 1000);
}


/* The value of KEY=VALUE among the words after the command, or NULL. */
static const char *given_value(char **words, guint nwords, const char *key)
{
    size_t len = strlen(key);

    for (guint i = 1; i < nwords; i++) {
        if (!strncmp(words[i], key, len) && words[i][len] == '=') {
            return words[i] + len + 1;
        }
    }
    return NULL;
}

static bool already_given(char **words, guint nwords, const char *name)
{
    return given_value(words, nwords, name) != NULL;
}

/* The property names of the object at QOM @path, asked of the server
 * (qom-list) so they are the server's own; quietly empty on any error. */
static char **object_properties(Session *s, const char *path)
{
    GPtrArray *names = g_ptr_array_new();
    JsonObject *args = json_object_new();
    JsonNode *ret = NULL;

    json_object_set_string_member(args, "path", path);
    if (s->client) {
        ret = qmp_client_execute(s->client, "qom-list", args, NULL);
    }
    JsonArray *arr = ret && JSON_NODE_HOLDS_ARRAY(ret)
                     ? json_node_get_array(ret) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        const char *name = JSON_NODE_HOLDS_OBJECT(n)
            ? json_object_get_string_member_with_default(
                  json_node_get_object(n), "name", NULL) : NULL;
        if (name) {
            g_ptr_array_add(names, g_strdup(name));
        }
    }
    g_ptr_array_add(names, NULL);
    if (ret) {
        json_node_unref(ret);
    }
    json_object_unref(args);
    return (char **)g_ptr_array_free(names, FALSE);
}

/* Values for KEY= of a QMP command's argument @m; @path is the path=
 * already given on the line, if any. */
static void complete_value(Session *s, GPtrArray *out, const char *word,
                           const char *key_eq, const SchemaMember *m,
                           const char *path)
{
    static const char *const bools[] = { "true", "false", NULL };
    const char *const *values = schema_info_enum_values(s->schema, m->type);

    if (values) {
        add_all(out, word, key_eq, values, "");
    } else if (!g_strcmp0(m->type, "bool")) {
        add_all(out, word, key_eq, bools, "");
    } else if (!strcmp(m->name, "id")) {
        add_all(out, word, key_eq, (const char *const *)live_ids(s), "");
    } else if (!strcmp(m->name, "path")) {
        char *const *ids = live_ids(s);
        add_matching(out, word, key_eq, "/objects", "");
        for (guint i = 0; ids[i]; i++) {
            add_matching(out, word, key_eq, "/objects/", ids[i]);
        }
    } else if (!strcmp(m->name, "property")) {
        char **props = path ? object_properties(s, path)
                            : commands_iothread_properties(s);
        add_all(out, word, key_eq, (const char *const *)props, "");
        g_strfreev(props);
    }
}

/* The arguments @command takes given the words typed so far: for a flat
 * union whose tag value is given (object-add qom-type=iothread), the
 * base members and that variant's, in a new array; else every member of
 * every variant (a borrowed array: *@owned is false). */
static GPtrArray *candidate_members(Session *s, char **words, guint nwords,
                                    bool *owned)
{
    const char *tag = schema_info_union_tag(s->schema, words[0]);
    const char *value = tag ? given_value(words, nwords, tag) : NULL;
    GPtrArray *variant = schema_info_variant_arguments(s->schema, words[0],
                                                       value);

    *owned = variant != NULL;
    if (!variant) {
        return schema_info_arguments(s->schema, words[0]);
    }
    GPtrArray *members = g_ptr_array_new();
    GPtrArray *base = schema_info_base_arguments(s->schema, words[0]);
    for (guint i = 0; i < base->len; i++) {
        g_ptr_array_add(members, base->pdata[i]);
    }
    for (guint i = 0; i < variant->len; i++) {
        g_ptr_array_add(members, variant->pdata[i]);
    }
    return members;
}

static void complete_qmp(Session *s, GPtrArray *out, char **words,
                         guint nwords, const char *word)
{
    bool owned;
    GPtrArray *members = candidate_members(s, words, nwords, &owned);
    const char *eq = strchr(word, '=');

    if (eq) {
        char *key = g_strndup(word, eq - word);
        char *key_eq = g_strconcat(key, "=", NULL);
        for (guint i = 0; i < members->len; i++) {
            SchemaMember *m = members->pdata[i];
            if (!strcmp(m->name, key)) {
                complete_value(s, out, word, key_eq, m,
                               given_value(words, nwords, "path"));
            }
        }
        g_free(key_eq);
        g_free(key);
    } else {
        for (guint i = 0; i < members->len; i++) {
            SchemaMember *m = members->pdata[i];
            if (!already_given(words, nwords, m->name)) {
                add_matching(out, word, "", m->name, "=");
            }
        }
    }
    if (owned) {
        g_ptr_array_unref(members);
    }
}

static void complete_human(Session *s, GPtrArray *out, char **words,
                           guint nwords, const char *word)
{
    const char *cmd = words[0];
    const char *const *sub = commands_subcommands(cmd);

    if (!strcmp(cmd, "iothread")) {
        if (nwords == 1) {
            add_all(out, word, "", sub, "");
        } else if (nwords == 2 && (!strcmp(words[1], "del") ||
                                   !strcmp(words[1], "set"))) {
            add_all(out, word, "", (const char *const *)live_ids(s), "");
        } else if (nwords >= 3 && strcmp(words[1], "del") && !strchr(word, '=')) {
            char **props = commands_iothread_properties(s);
            for (guint i = 0; props[i]; i++) {
                if (!already_given(words, nwords, props[i])) {
                    add_matching(out, word, "", props[i], "=");
                }
            }
            g_strfreev(props);
        }
    } else if (!strcmp(cmd, "stats")) {
        if (nwords == 1) {
            add_all(out, word, "", (const char *const *)live_ids(s), "");
            add_matching(out, word, "", "main-loop", "");
        }
    } else if (!strcmp(cmd, "help")) {
        if (nwords == 1) {
            add_all(out, word, "", commands_human_names(), "");
            if (s->schema) {
                add_all(out, word, "", schema_info_commands(s->schema), "");
            }
        }
    } else if (!strcmp(cmd, "top")) {
        if (!g_str_has_prefix(words[nwords - 1], "--") || nwords == 1) {
            add_all(out, word, "", sub, "");
        }
    } else if (sub && nwords == 1) {
        add_all(out, word, "", sub, "");
    }
}

char **complete_candidates(Session *s, const char *before, const char *word)
{
    GPtrArray *out = g_ptr_array_new();
    char **split = g_strsplit_set(before, " \t", -1);
    GPtrArray *words = g_ptr_array_new();

    for (guint i = 0; split[i]; i++) {
        if (split[i][0]) {
            g_ptr_array_add(words, split[i]);
        }
    }
    g_ptr_array_add(words, NULL);
    guint nwords = words->len - 1;
    char **w = (char **)words->pdata;

    if (nwords == 0) {
        if (word[0] != '{') {
            add_all(out, word, "", commands_human_names(), "");
            if (s->schema) {
                add_all(out, word, "", schema_info_commands(s->schema), "");
            }
        }
    } else if (w[0][0] == '{') {
        /* raw JSON: nothing sensible to offer */
    } else if (g_strv_contains(commands_human_names(), w[0])) {
        complete_human(s, out, w, nwords, word);
    } else if (s->schema && schema_info_has_command(s->schema, w[0])) {
        complete_qmp(s, out, w, nwords, word);
    }
    g_ptr_array_free(words, TRUE);
    g_strfreev(split);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* readline wants a generator; ours hands out a precomputed vector. */
static char **pending;
static guint pending_next;

static char *next_match(const char *text, int state)
{
    if (!pending || !pending[pending_next]) {
        return NULL;
    }
    /* readline frees what we return with free(): copy with malloc. */
    return strdup(pending[pending_next++]);
}

static char **attempt_completion(const char *text, int start, int end)
{
    char *before = g_strndup(rl_line_buffer, start);

    rl_attempted_completion_over = 1;   /* never fall back to file names */
    g_strfreev(pending);
    pending = complete_candidates(completion_session, before, text);
    pending_next = 0;
    g_free(before);

    bool all_keys = pending[0] != NULL;
    for (guint i = 0; pending[i]; i++) {
        all_keys &= g_str_has_suffix(pending[i], "=") ||
                    g_str_has_suffix(pending[i], "/objects");
    }
    /* "name=" is followed by its value, not by a blank. */
    rl_completion_append_character = all_keys ? '\0' : ' ';
    return rl_completion_matches(text, next_match);
}

void complete_install(Session *s)
{
    completion_session = s;
    rl_readline_name = "iothreadctl";
    rl_attempted_completion_function = attempt_completion;
    /* Only blanks split words: '=' and '-' belong to names and values. */
    rl_completer_word_break_characters = (char *)" \t";
    rl_completer_quote_characters = "\"'";
}
