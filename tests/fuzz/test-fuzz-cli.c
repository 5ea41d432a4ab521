/*
 * Fuzz test of iothreadctl's input handling:
 * 1. the qmp-shell parser (cli/shell-parse.h) on tens of thousands of
 *    mutated lines: every line either parses (and then its request is a
 *    JSON object naming the command) or fails with an error and leaves the
 *    outputs untouched;
 * 2. the real iothreadctl in script mode (stdin a pipe, --keep-going)
 *    against a live iothreadd: a few hundred garbage lines and then a
 *    valid `info iothreads`; it must exit 1 (some commands failed), not be
 *    killed by a signal, run the last line, and leave the daemon answering.
 * FUZZ_SEED=N reproduces a run, FUZZ_SCALE=K runs K times as many lines.
 */
#include "shell-parse.h"
#include "fuzz-gen.h"
#include "cli/cli-harness.h"
#include "tap.h"

static const char *const cli_corpus[] = {
    "info iothreads",
    "info",
    "iothread add fz1 poll-max-ns=0 poll-grow=2",
    "iothread set io1 poll-grow=2 poll-shrink=0 aio-max-batch=8",
    "iothread del fz1",
    "stats io0",
    "stats",
    "help",
    "help iothread-set",
    "query-iothreads",
    "query-version",
    "qom-list path=/objects",
    "qom-get path=/objects/io0 property=poll-max-ns",
    "qom-set path=/objects/io1 property=poll-max-ns value=1000",
    "object-add qom-type=iothread id=fz2 thread-pool-max=4",
    "object-del id=fz2",
    "iothread-set id=io1 aio-max-batch=8 thread-pool-min=0",
    "query-iothread-stats id=io0 reset=true",
    "{\"execute\": \"query-version\"}",
    "{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/\"}, \"id\": 1}",
    "# a comment",
    "query-version a.b.c=1 x='quoted str' y=[1,{\"k\":\"v\"}] z=\"s\\\"q\"",
    "events off",
    NULL,
};

static unsigned parse_failures, parse_errors_without_message,
                outputs_touched, bad_requests, value_null, split_mismatch;

static void check_line(const char *line)
{
    GError *err = NULL;
    char **words = shell_split_words(line, &err);
    if (!words != !!err) {
        split_mismatch++;
    }
    g_clear_error(&err);
    for (char **w = words; w && *w; w++) {
        JsonNode *v = shell_parse_value(*w);
        if (!v) {
            value_null++;
        } else {
            json_node_unref(v);
        }
    }
    g_strfreev(words);

    char *command = (char *)"untouched";
    JsonObject *args = (JsonObject *)&command;     /* a sentinel */
    if (shell_parse_line(line, &command, &args, &err)) {
        if (command) {
            g_autofree char *req = shell_request_json(command, args);
            g_autoptr(JsonParser) p = json_parser_new();
            JsonNode *root = json_parser_load_from_data(p, req, -1, NULL)
                             ? json_parser_get_root(p) : NULL;
            JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root)
                            ? json_node_get_object(root) : NULL;
            /* A line that is not UTF-8 cannot give JSON (the daemon
             * refuses it with a parse error); only no crash is asked. */
            const char *exec = o ? json_object_get_string_member_with_default(
                                       o, "execute", NULL) : NULL;
            if (g_utf8_validate(line, -1, NULL) &&
                g_strcmp0(exec, command)) {
                if (bad_requests++ < 5) {
                    g_autofree char *shown = g_strescape(req, NULL);
                    diag("request not JSON: %s", shown);
                }
            }
            g_free(command);
        }
        if (args && args != (JsonObject *)&command) {
            json_object_unref(args);
        }
    } else {
        parse_failures++;
        if (!err || !err->message[0]) {
            parse_errors_without_message++;
        }
        if (strcmp(command, "untouched") || args != (JsonObject *)&command) {
            outputs_touched++;
        }
    }
    g_clear_error(&err);
}

/* One mutated CLI line without a newline inside (a newline would start
 * another line) and never one that ends the script or the daemon. */
static char *garbage_line(FuzzRng *r)
{
    guint n = g_strv_length((char **)cli_corpus);
    FuzzLimits lim = { .huge_max = 4096, .deep_max = 40, .huge_rarity = 50 };
    for (;;) {
        GString *s = g_string_new(NULL);
        fuzz_mutate(r, &lim, s, cli_corpus[fuzz_below(r, n)],
                    cli_corpus[fuzz_below(r, n)]);
        for (size_t i = 0; i < s->len; i++) {
            if (s->str[i] == '\n' || s->str[i] == '\0') {
                s->str[i] = ' ';
            }
        }
        g_autofree char *lower = g_ascii_strdown(s->str, -1);
        char *first = g_strstrip(g_strdup(lower));
        bool dangerous = strstr(lower, "quit") || strstr(lower, "exit") ||
                         g_str_has_prefix(first, "top") ||
                         g_str_has_prefix(first, "q ") || !strcmp(first, "q");
        g_free(first);
        if (!dangerous) {
            return g_string_free(s, FALSE);
        }
        g_string_free(s, TRUE);
    }
}

/* Regressions (found by this fuzzer): values json-glib parses but cannot
 * write back (1e400 -> inf, written "inf.0"; a lone surrogate escape ->
 * invalid UTF-8) were sent to the daemon as broken JSON, and texts that
 * are not JSON made json-glib leak (tokens after the value, broken
 * surrogate pairs) or were accepted by it ('x', 01, 1., \x); all stay
 * the text itself, as a string. */
static void regressions(void)
{
    static const char *const texts[] = { "1e400", "[1, -1e999]",
                                         "\"a\\ud800x\"", "{\"\\udc00\": 1}",
                                         "[\"\\uD800\\u0041\"]",
                                         "\"\\udc00\\ud800\"", "\"id\"[]a",
                                         "[1][2]", "['x']", "[01]", "[1.]",
                                         "\"\\x\"", "{\"a\":1,}" };
    for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
        JsonNode *v = shell_parse_value(texts[i]);
        ok(v && json_node_get_value_type(v) == G_TYPE_STRING &&
           !strcmp(json_node_get_string(v), texts[i]),
           "value %s stays the string it is", texts[i]);
        json_node_unref(v);
    }
    JsonNode *v = shell_parse_value("-9223372036854775808");
    ok(json_node_get_value_type(v) == G_TYPE_INT64 &&
       json_node_get_int(v) == G_MININT64, "an int64 edge is still a number");
    json_node_unref(v);
}

static void fuzz_parser(FuzzRng *r, unsigned lines)
{
    unsigned parsed_some = 0;
    for (unsigned i = 0; i < lines; i++) {
        char *line = garbage_line(r);
        unsigned before = parse_failures;
        check_line(line);
        parsed_some += parse_failures == before;
        g_free(line);
    }
    diag("%u lines: %u parsed, %u refused", lines, parsed_some,
         parse_failures);
    ok(parsed_some > 0 && parse_failures > 0,
       "the lines exercised both outcomes");
    is_int(split_mismatch, 0, "shell_split_words: a vector xor an error");
    is_int(value_null, 0, "shell_parse_value never returns NULL");
    is_int(parse_errors_without_message, 0, "every refused line has an "
           "error message");
    is_int(outputs_touched, 0, "a refused line leaves the outputs untouched");
    is_int(bad_requests, 0, "every parsed UTF-8 line's request is a JSON "
           "object naming the command");
}

static void fuzz_script(FuzzRng *r, unsigned lines)
{
    Daemon d = { 0 };
    if (!harness_daemon_path()) {
        skip(5, "iothreadd not built (IOTHREADD unset)");
        return;
    }
    if (!ok(daemon_start(&d), "iothreadd starts")) {
        daemon_cleanup(&d);
        skip(4, "no daemon");
        return;
    }
    GString *script = g_string_new(NULL);
    for (unsigned i = 0; i < lines; i++) {
        char *line = garbage_line(r);
        g_string_append(script, line);
        g_string_append_c(script, '\n');
        g_free(line);
    }
    g_string_append(script, "info iothreads\n");

    char *out = NULL, *err = NULL;
    static const char *const keep_going[] = { "--keep-going", NULL };
    int status = cli_run(d.sock, keep_going, script->str, &out, &err);
    ok(status < 128, "iothreadctl was not killed (status %d)", status);
    is_int(status, 1, "exit status 1: some commands failed");
    /* The last line ran: its table lists the iothreads' ids (io1 unless
     * a garbage line deleted it, in which case the header still shows). */
    char *tail = strrchr(out, '\0') - MIN(strlen(out), 2000);
    ok(strstr(tail, "io1") || strstr(tail, "ID") || strstr(tail, "id"),
       "the final info iothreads printed its table");
    g_free(out);
    g_free(err);

    status = cli_run(d.sock, (const char *const[]){ "-c", "query-version",
                                                     NULL },
                     NULL, &out, &err);
    ok(status == 0 && waitpid(d.pid, NULL, WNOHANG) == 0,
       "the daemon is alive and still answers (status %d)", status);
    g_free(out);
    g_free(err);
    g_string_free(script, TRUE);
    daemon_cleanup(&d);
}

int main(void)
{
    uint64_t seed = fuzz_seed_from_env(20240613);
    unsigned scale = fuzz_scale_from_env();
    FuzzRng r;

    diag("seed %" PRIu64 " (FUZZ_SEED=%" PRIu64 " reproduces)", seed, seed);
    fuzz_rng_init(&r, seed);
    signal(SIGPIPE, SIG_IGN);
    regressions();
    fuzz_parser(&r, 20000 * scale);
    fuzz_script(&r, 300 * scale);
    return done_testing();
}
