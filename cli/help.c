/*
 * `help` (see help.h): the overview, human command usage, and QMP command
 * documentation from the server's schema.
 */
#include "help.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "table.h"

/* Text width when the terminal's is unknown (pipes): the classic 80
 * columns less a margin. */
#define HELP_TEXT_WIDTH 76

static guint text_width(const Session *s)
{
    guint width = session_width(s);

    return width > 20 ? width - 4 : HELP_TEXT_WIDTH;
}

/* @text as lines of at most @width columns (words never split), each
 * starting with @indent. */
static void append_wrapped(GString *out, const char *text, const char *indent,
                           guint width)
{
    char **words = g_strsplit_set(text, " \n", -1);
    GString *line = g_string_new(indent);
    bool empty = true;

    for (guint i = 0; words[i]; i++) {
        if (!words[i][0]) {
            continue;
        }
        if (!empty && line->len + 1 + strlen(words[i]) > width) {
            g_string_append_printf(out, "%s\n", line->str);
            g_string_assign(line, indent);
            empty = true;
        }
        if (!empty) {
            g_string_append_c(line, ' ');
        }
        g_string_append(line, words[i]);
        empty = false;
    }
    if (!empty) {
        g_string_append_printf(out, "%s\n", line->str);
    }
    g_string_free(line, TRUE);
    g_strfreev(words);
}

static void help_overview(Session *s, GString *out)
{
    guint n;
    const HumanCommand *hc = commands_human_table(&n);

    g_string_append(out, "Commands:\n");
    for (guint i = 0; i < n; i++) {
        g_string_append_printf(out, "  %-40s %s\n", hc[i].usage,
                               hc[i].summary);
    }
    g_string_append(out,
        "\nQMP commands, in qmp-shell syntax (NAME KEY=VALUE ...; values are\n"
        "JSON where they parse, else strings), or a raw {\"execute\": ...} "
        "line:\n");
    if (!s->schema) {
        g_string_append(out, "  (not connected: the list comes from the "
                        "server)\n");
    } else {
        char *list = g_strjoinv(" ", (char **)schema_info_commands(s->schema));
        append_wrapped(out, list, "  ", text_width(s));
        g_free(list);
    }
    g_string_append(out, "\nhelp COMMAND shows one command; Tab completes "
                    "commands, arguments and ids.\n");
}

static void help_human(Session *s, const HumanCommand *hc, GString *out)
{
    g_string_append_printf(out, "usage: %s\n  %s\n%s", hc->usage,
                           hc->summary, hc->details);
    if (!strcmp(hc->name, "iothread")) {
        char **props = commands_iothread_properties(s);
        char *list = g_strjoinv(", ", props);
        g_string_append(out, "Properties (from the server's schema):\n");
        append_wrapped(out, props[0] ? list : "(unknown: not connected)",
                       "  ", text_width(s));
        g_free(list);
        g_strfreev(props);
    }
}

/* A member's doc, following one "See TYPE." reference to TYPE's member
 * of the same name. */
static const char *member_doc(const SchemaInfo *si, const SchemaMember *m)
{
    if (m->doc && g_str_has_prefix(m->doc, "See ")) {
        char *type = g_strdup(m->doc + 4);
        g_strchomp(type);
        if (g_str_has_suffix(type, ".")) {
            type[strlen(type) - 1] = '\0';
        }
        const char *doc = schema_info_member_doc(si, type, m->name);
        g_free(type);
        if (doc) {
            return doc;
        }
    }
    return m->doc ? m->doc : "";
}

/* @members as an aligned NAME TYPE required|optional DESCRIPTION table,
 * required ones first (each group in the server's order), each line
 * starting with @indent, fitted to the terminal. */
static void append_members(Session *s, GPtrArray *members,
                           const char *indent, GString *out)
{
    const char *h[] = { "NAME", "TYPE", "", "DESCRIPTION", NULL };
    Table *t = table_new(h);

    for (guint k = 0; k < 2 * members->len; k++) {
        SchemaMember *m = members->pdata[k % members->len];
        if (m->optional != (k >= members->len)) {
            continue;
        }
        char *type = schema_info_describe_type(s->schema, m->type);
        table_add_row_va(t, m->name, type,
                         m->optional ? "optional" : "required",
                         member_doc(s->schema, m));
        g_free(type);
    }
    table_set_align(t, 3, TABLE_ALIGN_LEFT);
    guint width = session_width(s);
    char *text = table_render_fit(t, width > strlen(indent)
                                     ? width - strlen(indent) : 0);
    /* Skip the header line: the section title says what follows. */
    char **lines = g_strsplit(strchr(text, '\n') + 1, "\n", -1);
    for (guint i = 0; lines[i] && lines[i][0]; i++) {
        g_string_append_printf(out, "%s%s\n", indent, lines[i]);
    }
    g_strfreev(lines);
    g_free(text);
    table_free(t);
}

/* One tag value's section of a union's help. */
static void append_variant(Session *s, const char *command, const char *tag,
                           const char *value, GString *out)
{
    GPtrArray *members = schema_info_variant_arguments(s->schema, command,
                                                       value);

    g_string_append_printf(out, "  with %s=%s:\n", tag, value);
    if (members && members->len) {
        append_members(s, members, "    ", out);
    } else {
        g_string_append(out, "    (no further arguments)\n");
    }
}

/* The variant sections of a flat union: all of them, or only @only's. */
static void append_variants(Session *s, const char *command,
                            const char *only, GString *out)
{
    const char *tag = schema_info_union_tag(s->schema, command);
    const char *const *cases = schema_info_union_cases(s->schema, command);

    if (only) {
        append_variant(s, command, tag, only, out);
        return;
    }
    g_string_append_printf(out, "Arguments each value of %s adds (help %s "
                           "VALUE shows one):\n", tag, command);
    for (guint i = 0; cases[i]; i++) {
        append_variant(s, command, tag, cases[i], out);
    }
}

static void append_signature(Session *s, const char *name, const char *only,
                             GString *out)
{
    GPtrArray *base = schema_info_base_arguments(s->schema, name);

    if (base->len) {
        g_string_append(out, "Arguments:\n");
        append_members(s, base, "  ", out);
    } else if (!schema_info_union_tag(s->schema, name)) {
        g_string_append(out, "Arguments: none\n");
    }
    if (schema_info_union_tag(s->schema, name)) {
        append_variants(s, name, only, out);
    }
    const char *ret = schema_info_ret_type(s->schema, name);
    if (ret && strcmp(ret, "0")) {
        char *desc = schema_info_describe_type(s->schema, ret);
        g_string_append_printf(out, "Returns: %s (%s)\n", desc, ret);
        g_free(desc);
    }
}

/* `help COMMAND [VALUE]`; VALUE (or TAG=VALUE) picks one variant of a
 * union.  False with the error printed when VALUE is no variant. */
static bool help_qmp_command(Session *s, const char *name, const char *value,
                             GString *out)
{
    const char *tag = schema_info_union_tag(s->schema, name);
    const char *doc = schema_info_doc(s->schema, name);

    if (value && tag && g_str_has_prefix(value, tag) &&
        value[strlen(tag)] == '=') {
        value += strlen(tag) + 1;
    }
    if (value && !schema_info_variant_arguments(s->schema, name, value)) {
        session_print_error(s, "GenericError", "%s has no variant '%s'",
                            name, value);
        return false;
    }
    g_string_append_printf(out, "%s\n", name);
    if (doc) {
        append_wrapped(out, doc, "  ", text_width(s));
    }
    append_signature(s, name, value, out);
    return true;
}

static void print_help_text(Session *s, const char *text)
{
    if (s->json) {
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_string(n, text);
        session_print_result(s, n);
        json_node_unref(n);
    } else {
        fputs(text, stdout);
        fflush(stdout);
    }
}

CmdStatus cmd_help(Session *s, char **argv)
{
    GString *out = g_string_new(NULL);
    const HumanCommand *hc = argv[1] ? commands_find_human(argv[1]) : NULL;
    bool shown = true;

    if (!s->schema) {
        /* Help should work while the server is away; ignore failures. */
        session_ensure_connected(s, NULL);
    }
    if (argv[1] && argv[2] && (hc || argv[3])) {
        session_print_error(s, "GenericError",
                            "usage: help [COMMAND [VARIANT]]");
        shown = false;
    } else if (!argv[1]) {
        help_overview(s, out);
    } else if (hc) {
        help_human(s, hc, out);
    } else if (session_has_command(s, argv[1])) {
        shown = help_qmp_command(s, argv[1], argv[2], out);
    } else {
        session_print_error(s, "CommandNotFound", "no command '%s'",
                            argv[1]);
        shown = false;
    }
    if (shown) {
        print_help_text(s, out->str);
    }
    g_string_free(out, TRUE);
    return shown ? CMD_OK : CMD_FAILED;
}
