/*
 * Unit tests of the qmp-shell syntax parser (cli/shell-parse.c).
 */
#include "tap.h"
#include "shell-parse.h"

#include <string.h>

static char *args_json(JsonObject *args)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(n, args);
    char *s = json_to_string(n, FALSE);
    json_node_unref(n);
    return s;
}

/* Parse @line and compare the arguments' compact JSON with @expect. */
static void check_line(const char *line, const char *command,
                       const char *expect)
{
    char *cmd = NULL;
    JsonObject *args = NULL;
    GError *err = NULL;
    bool okay = shell_parse_line(line, &cmd, &args, &err);

    if (!ok(okay, "parses: %s", line)) {
        diag("error: %s", err->message);
        g_error_free(err);
        skip(2, "no result");
        return;
    }
    ok(g_strcmp0(cmd, command) == 0, "command of '%s' is %s", line, command);
    char *got = args_json(args);
    if (!ok(strcmp(got, expect) == 0, "arguments of '%s'", line)) {
        diag("got      %s", got);
        diag("expected %s", expect);
    }
    g_free(got);
    g_free(cmd);
    json_object_unref(args);
}

static void check_error(const char *line, const char *fragment)
{
    char *cmd = NULL;
    JsonObject *args = NULL;
    GError *err = NULL;
    bool okay = shell_parse_line(line, &cmd, &args, &err);

    ok(!okay && err && cmd == NULL && args == NULL, "refused: %s", line);
    if (err) {
        ok(strstr(err->message, fragment) != NULL,
           "message '%s' mentions '%s'", err->message, fragment);
        g_error_free(err);
    } else {
        skip(1, "no error");
        g_free(cmd);
        if (args) {
            json_object_unref(args);
        }
    }
}

static void check_value(const char *text, const char *expect_json)
{
    JsonNode *n = shell_parse_value(text);
    char *got = json_to_string(n, FALSE);
    if (!ok(strcmp(got, expect_json) == 0, "value %s -> %s", text,
            expect_json)) {
        diag("got %s", got);
    }
    g_free(got);
    json_node_unref(n);
}

/* Lines parse to a command name and its arguments as JSON: values typed as qmp-shell types them, nesting, quoting, dotted keys. */
static void test_lines_parse_to_command_and_arguments(void)
{
    check_line("object-add qom-type=iothread id=io2 poll-max-ns=0",
               "object-add",
               "{\"qom-type\":\"iothread\",\"id\":\"io2\",\"poll-max-ns\":0}");
    check_line("query-iothreads", "query-iothreads", "{}");
    check_line("  query-iothreads   ", "query-iothreads", "{}");
    check_line("cmd x=[1,2] y={\"a\":1}", "cmd",
               "{\"x\":[1,2],\"y\":{\"a\":1}}");
    check_line("cmd x=[1, 2] y={\"a\": \"b c\"}", "cmd",
               "{\"x\":[1,2],\"y\":{\"a\":\"b c\"}}");
    check_line("cmd s=\"hello world\" t='single quoted'", "cmd",
               "{\"s\":\"hello world\",\"t\":\"single quoted\"}");
    check_line("cmd b=true n=null f=1.5 neg=-3 e=", "cmd",
               "{\"b\":true,\"n\":null,\"f\":1.5,\"neg\":-3,\"e\":\"\"}");
    check_line("cmd s=io-2 t=1abc u=-x v=TRUE", "cmd",
               "{\"s\":\"io-2\",\"t\":\"1abc\",\"u\":\"-x\",\"v\":\"TRUE\"}");
    check_line("cmd a.b=1 a.c=x", "cmd", "{\"a\":{\"b\":1,\"c\":\"x\"}}");
    check_line("cmd eq=a=b", "cmd", "{\"eq\":\"a=b\"}");
    check_line("cmd q=\"esc \\\" quote\"", "cmd", "{\"q\":\"esc \\\" quote\"}");
}

/* A blank line gives no command and is not an error. */
static void test_blank_line_is_no_command(void)
{
    char *cmd = (char *)"x";
    JsonObject *args = NULL;
    ok(shell_parse_line("   ", &cmd, &args, NULL) && cmd == NULL,
       "blank line gives no command");
}

/* Malformed lines are refused with an error naming the problem. */
static void test_bad_lines_refused_naming_the_problem(void)
{
    check_error("cmd novalue", "KEY=VALUE");
    check_error("cmd a=1 a=2", "twice");
    check_error("cmd =1", "empty argument name");
    check_error("cmd a..b=1", "empty argument name");
    check_error("cmd a=1 a.b=2", "already");
    check_error("cmd s=\"open", "unterminated");
    check_error("cmd x=[1,2", "missing ']'");
    check_error("cmd x=1]", "unbalanced");
    check_error("cmd x={\"a\":[1}", "unbalanced");
    check_error("a=1 b=2", "command name first");
}

/* A value is JSON when it parses as JSON, else a string. */
static void test_values_typed_as_json_or_string(void)
{
    check_value("42", "42");
    check_value("\"42\"", "\"42\"");
    check_value("'42'", "\"42\"");
    check_value("io0", "\"io0\"");
    check_value("[\"a\",1]", "[\"a\",1]");
    check_value("{bad", "\"{bad\"");
    check_value("var x = 1", "\"var x = 1\"");
}

/* Words split at blanks outside brackets and quotes. */
static void test_words_split_at_blanks_outside_nesting(void)
{
    char **w = shell_split_words("a  b\t{\"x\": [1, 2]} 'c d'", NULL);
    ok(w && g_strv_length(w) == 4 && !strcmp(w[2], "{\"x\": [1, 2]}") &&
       !strcmp(w[3], "'c d'"), "words split at blanks outside nesting");
    g_strfreev(w);
}

/* The request JSON, with and without arguments. */
static void test_request_json_with_and_without_arguments(void)
{
    JsonObject *a = json_object_new();
    json_object_set_int_member(a, "x", 1);
    char *req = shell_request_json("cmd", a);
    ok(!strcmp(req, "{\"execute\":\"cmd\",\"arguments\":{\"x\":1}}"),
       "request JSON with arguments: %s", req);
    g_free(req);
    json_object_unref(a);
    req = shell_request_json("cmd", NULL);
    ok(!strcmp(req, "{\"execute\":\"cmd\"}"), "request JSON without: %s", req);
    g_free(req);
}

int main(void)
{
    test_lines_parse_to_command_and_arguments();
    test_blank_line_is_no_command();
    test_bad_lines_refused_naming_the_problem();
    test_values_typed_as_json_or_string();
    test_words_split_at_blanks_outside_nesting();
    test_request_json_with_and_without_arguments();
    return done_testing();
}
