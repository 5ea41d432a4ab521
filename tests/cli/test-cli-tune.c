/*
 * iothreadctl's `tune` against a live iothreadd (a bh-pingpong workload
 * on io0, a 3-value sweep of 0.1 s steps): the progress lines, the result
 * table, the plots and the recommendation; --apply leaves the recommended
 * value; --json prints query-tune's entry; a bad option is a usage error.
 * SKIPs only when the daemon binary is not built.
 */
#include "tap.h"
#include "cli-harness.h"

#include <json-glib/json-glib.h>



static Daemon daemon_;
static char *out, *err;

/* Run `iothreadctl -s SOCK ARGS...`; frees the previous outputs. */
static int run(const char *const *args)
{
    g_free(out);
    g_free(err);
    return cli_run(daemon_.sock, args, NULL, &out, &err);
}
#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL })

/* A fresh bh-pingpong workload "w0" on io0 (the previous one deleted). */
static bool add_workload(void)
{
    RUN("-c", "workload-del id=w0");
    return RUN("-c", "workload-add id=w0 iothread=io0 type=bh-pingpong") == 0;
}

/* The value the "recommendation: poll-max-ns N: ..." line names, or -1. */
static gint64 recommended(const char *text)
{
    const char *at = text ? strstr(text, "recommendation: poll-max-ns ")
                          : NULL;
    return at ? g_ascii_strtoll(at + strlen("recommendation: poll-max-ns "),
                                NULL, 10) : -1;
}

static void test_tune_prints_progress_table_plots_recommendation(void)
{
    int rc = add_workload() ? RUN("-c", "tune io0 w0 --values 0,4096,65536 "
                                  "--step 0.1") : -1;

    is_int(rc, 0, "tune exits 0");
    ok(out && strstr(out, "] 1/3 poll-max-ns 0: ") &&
       strstr(out, "] 2/3 poll-max-ns 4096: ") &&
       strstr(out, "] 3/3 poll-max-ns 65536: "),
       "a progress line per value (not a terminal: one line each)");
    ok(out && strstr(out, "VALUE") && strstr(out, "P99-US") &&
       strstr(out, "\n    0  ") && strstr(out, "\n 4096  ") &&
       strstr(out, "\n65536  "), "the result table, a row per value");
    ok(out && strstr(out, "p99 latency (us)") &&
       strstr(out, "iothread CPU (%)") && strstr(out, "▲ lowest"),
       "the p99 and CPU plots with their minimum marked");
    gint64 rec = recommended(out);
    ok(rec == 0 || rec == 4096 || rec == 65536,
       "the recommendation names a swept value (%" G_GINT64_FORMAT ")", rec);
    ok(out && strstr(out, "poll-max-ns is now 32768 (the original value)"),
       "without --apply the original value is back");
}

static void test_tune_apply_leaves_recommended_value(void)
{
    int rc = add_workload() ? RUN("-c", "tune io0 w0 --values 0,4096,65536 "
                                  "--step 0.1 --apply") : -1;
    gint64 rec = recommended(out);
    char *line = g_strdup_printf("poll-max-ns is now %" G_GINT64_FORMAT
                                 " (applied)", rec);

    ok(rc == 0 && rec >= 0 && strstr(out, line), "--apply: '%s'", line);
    g_free(line);
    RUN("-c", "qom-get path=/objects/io0 property=poll-max-ns");
    ok(rec >= 0 && out && g_ascii_strtoll(out, NULL, 10) == rec,
       "qom-get agrees: %s", out ? out : "(none)");
    RUN("-c", "qom-set path=/objects/io0 property=poll-max-ns value=32768");
}

static void test_tune_json_prints_query_tune_entry(void)
{
    int rc = add_workload() ? RUN("--json", "-c", "tune io0 w0 --values "
                                  "0,4096,65536 --step 0.1") : -1;
    JsonParser *p = json_parser_new();
    bool parsed = rc == 0 && json_parser_load_from_data(p, out, -1, NULL);
    JsonNode *root = parsed ? json_parser_get_root(p) : NULL;
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root)
        ? json_node_get_object(root) : NULL;

    ok(o && !g_strcmp0(json_object_get_string_member_with_default(
                           o, "state", ""), "done") &&
       json_array_get_length(json_object_get_array_member(o, "results")) == 3,
       "--json: one document, query-tune's entry with 3 results");
    g_object_unref(p);
}

static void test_tune_bad_option_is_usage_error(void)
{
    int rc = RUN("-c", "tune io0 w0 --step soon");

    ok(rc == 1 && err && strstr(err, "usage: tune ID WORKLOAD"),
       "a bad --step: status 1 and the usage (%d)", rc);
    rc = RUN("-c", "tune io0 nope");
    ok(rc == 1 && err && strstr(err, "workload 'nope' not found"),
       "an unknown workload: the server's error (%d)", rc);
}

int main(void)
{
    if (!harness_daemon_path()) {
        skip(1, "iothreadd is not built");
        return done_testing();
    }
    if (!ok(daemon_start(&daemon_), "daemon started on %s", daemon_.sock)) {
        daemon_cleanup(&daemon_);
        return done_testing();
    }
    test_tune_prints_progress_table_plots_recommendation();
    test_tune_apply_leaves_recommended_value();
    test_tune_json_prints_query_tune_entry();
    test_tune_bad_option_is_usage_error();
    daemon_cleanup(&daemon_);
    g_free(out);
    g_free(err);
    return done_testing();
}
