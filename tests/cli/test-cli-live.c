/*
 * iothreadctl against a live iothreadd through pipes and -c: every human
 * command with its table checked, qmp-shell and raw JSON, --json output,
 * errors and exit statuses, script mode, reconnect, top --count.
 * SKIPs only when the daemon binary is not built.
 */
#include "tap.h"
#include "cli-harness.h"

#include <json-glib/json-glib.h>

#define PLAN 84

static Daemon daemon_;

/* Run `iothreadctl -s SOCK ARGS...`; frees the previous outputs. */
static char *out, *err;
static int run(const char *const *args, const char *in)
{
    g_free(out);
    g_free(err);
    return cli_run(daemon_.sock, args, in, &out, &err);
}
#define RUN(in, ...) run((const char *const[]){ __VA_ARGS__, NULL }, in)

static bool cell_is(const char *row, const char *col, const char *want)
{
    char *got = table_lookup(out, row, col);
    bool same = g_strcmp0(got, want) == 0;
    if (!same) {
        diag("cell %s/%s: got %s, want %s", row, col, got ? got : "(none)",
             want ? want : "(none)");
    }
    g_free(got);
    return same;
}

static JsonNode *parse_json(const char *text)
{
    JsonParser *p = json_parser_new();
    JsonNode *root = NULL;
    if (json_parser_load_from_data(p, text, -1, NULL) &&
        json_parser_get_root(p)) {
        root = json_node_copy(json_parser_get_root(p));
    }
    g_object_unref(p);
    return root;
}

static void test_info_and_iothread(void)
{
    int rc = RUN(NULL, "-c", "info iothreads");
    is_int(rc, 0, "info iothreads exits 0");
    ok(g_str_has_prefix(out, "ID ") && strstr(out, " THREAD-ID ") &&
       strstr(out, " BACKEND ") && strstr(out, " POLL-MAX-NS ") &&
       strstr(out, " THREAD-POOL-MAX"),
       "info iothreads has a column per query-iothreads member");
    ok(cell_is("io0", "POLL-MAX-NS", "32768") &&
       cell_is("io1", "THREAD-POOL-MAX", "64"),
       "default iothreads io0/io1 with default values");
    char *tid = table_lookup(out, "io0", "THREAD-ID");
    ok(tid && atoi(tid) > 0, "io0 has a thread id (%s)", tid ? tid : "-");
    g_free(tid);
    char *backend = table_lookup(out, "io0", "BACKEND");
    ok(backend && (!strcmp(backend, "poll") || !strcmp(backend, "epoll") ||
                   !strcmp(backend, "io_uring")), "backend is a known name");
    g_free(backend);

    rc = RUN(NULL, "-c", "iothread add io2 poll-max-ns=0 aio-max-batch=16",
             "-c", "info iothreads");
    is_int(rc, 0, "iothread add exits 0");
    ok(strstr(out, "iothread io2 added"), "add is confirmed");
    ok(cell_is("io2", "POLL-MAX-NS", "0") &&
       cell_is("io2", "AIO-MAX-BATCH", "16"),
       "io2 appears with its properties");

    rc = RUN(NULL, "-c", "iothread set io2 thread-pool-min=2 thread-pool-max=4 "
             "poll-max-ns=1000", "-c", "info iothreads");
    is_int(rc, 0, "iothread set exits 0");
    ok(cell_is("io2", "THREAD-POOL-MIN", "2") &&
       cell_is("io2", "THREAD-POOL-MAX", "4") &&
       cell_is("io2", "POLL-MAX-NS", "1000"),
       "iothread set applied all three");

    rc = RUN(NULL, "-c", "iothread set io2 thread-pool-min=9 "
             "thread-pool-max=5", "-c", "info iothreads");
    is_int(rc, 1, "invalid iothread set exits 1");
    ok(g_str_has_prefix(err, "error: "), "reported as error: ... (%s)",
       g_strchomp(err));
    ok(!strstr(out, "THREAD-POOL-MIN"), "stops at the first failing -c");
    RUN(NULL, "-c", "info iothreads");
    ok(cell_is("io2", "THREAD-POOL-MIN", "2") &&
       cell_is("io2", "THREAD-POOL-MAX", "4"),
       "nothing changed after the refusal");

    rc = RUN(NULL, "-c", "iothread del io2", "-c", "info iothreads");
    is_int(rc, 0, "iothread del exits 0");
    ok(strstr(out, "iothread io2 deleted") && !strstr(out, "\nio2 "),
       "io2 is gone");
    rc = RUN(NULL, "-c", "iothread del io2");
    ok(rc == 1 && strstr(err, "error: "), "deleting it again fails (1)");
    rc = RUN(NULL, "-c", "iothread frob io2");
    ok(rc == 1 && strstr(err, "usage: iothread"), "bad subcommand: usage");
    rc = RUN(NULL, "-c", "iothread add io9 novalue");
    ok(rc == 1 && strstr(err, "KEY=VALUE"), "bad property syntax refused");
}

static void test_stats_and_top(void)
{
    int rc = RUN(NULL, "-c", "stats io0", "-c", "stats io0");
    is_int(rc, 0, "stats exits 0");
    is_int(count_substr(out, "COUNTER"), 2, "two stats tables");
    ok(strstr(out, "iterations") && strstr(out, "busy-ns") &&
       strstr(out, "io0/s"), "counters and rate column");
    /* Rows follow the schema's declaration of AioContextStats (iterations
     * first, the backend last), not the order of the reply's members. */
    const char *it = strstr(out, "\niterations "), *be = strstr(out, "\nbackend ");
    const char *hd = strstr(out, "COUNTER");
    ok(hd && it && be && it < be &&
       it == strchr(hd, '\n'), "rows in schema order: iterations right "
       "under the header, backend after it");
    /* The second table's rate cells are numbers. */
    const char *first = strstr(out, "COUNTER");
    const char *second = first ? strstr(first + 1, "COUNTER") : NULL;
    char *rate = second ? table_lookup(second, "iterations", "io0/s") : NULL;
    ok(rate && g_ascii_isdigit(rate[0]), "iterations rate on the second call "
       "(%s)", rate ? rate : "-");
    g_free(rate);

    rc = RUN(NULL, "-c", "stats");
    ok(rc == 0 && strstr(out, "io0/s") && strstr(out, "io1/s"),
       "stats without id covers every iothread");
    rc = RUN(NULL, "-c", "stats nosuch");
    ok(rc == 1 && strstr(err, "error: "), "stats of an unknown id fails");

    rc = RUN(NULL, "-c", "top --count 2 --interval 0.2");
    is_int(rc, 0, "top --count 2 exits 0");
    is_int(count_substr(out, "iothreadctl top"), 2, "two frames");
    is_int(count_substr(out, "BUSY%"), 2, "each frame has its header");
    ok(count_substr(out, "\nio0 ") == 2 && count_substr(out, "\nio1 ") == 2,
       "each frame lists io0 and io1");
    char *busy = table_lookup(out, "io0", "BUSY%");
    ok(busy && g_str_has_suffix(busy, "%"), "busy share as a percentage (%s)",
       busy ? busy : "-");
    g_free(busy);
    ok(!strchr(out, '\033'), "no terminal escapes without a terminal");
    rc = RUN(NULL, "-c", "top --count 0");
    ok(rc == 1 && strstr(err, "usage: top"), "top --count 0 is refused");
}

/* Distributions (HistogramSummary members) show as NAME.MEMBER rows in
 * the schema's order, with numbers and no rate. */
static void test_stats_shows_distribution_rows(void)
{
    /* iothread-set runs inside io0: a cross-thread wake-up to record.  Its
     * sample lands when io0's busy pass ends (aio.h), which may be after
     * the reply: the first stats may miss it, so they are read again for
     * up to 2 s (the check below stays the same). */
    int rc = RUN(NULL, "-c", "iothread set io0 poll-grow=2", "-c", "stats io0");
    for (int i = 0; i < 200 && rc == 0; i++) {
        char *c = table_lookup(out, "wake-latency-ns.count", "io0");
        bool counted = c && g_ascii_strtoll(c, NULL, 10) >= 1;
        g_free(c);
        if (counted) {
            break;
        }
        g_usleep(10 * 1000);
        rc = RUN(NULL, "-c", "stats io0");
    }
    const char *count = strstr(out, "\nwake-latency-ns.count ");
    const char *p50 = strstr(out, "\nwake-latency-ns.p50 ");
    const char *p99 = strstr(out, "\nwake-latency-ns.p99 ");
    char *n = table_lookup(out, "wake-latency-ns.count", "io0");
    char *it99 = table_lookup(out, "iteration-ns.p99", "io0");
    char *rate = table_lookup(out, "wake-latency-ns.p99", "io0/s");

    is_int(rc, 0, "iothread set + stats exit 0");
    ok(count && p50 && p99 && count < p50 && p50 < p99,
       "wake-latency-ns rows count, p50, p99 in HistogramSummary's order");
    ok(n && g_ascii_strtoll(n, NULL, 10) >= 1,
       "the wake-up is counted (wake-latency-ns.count %s)", n ? n : "-");
    ok(it99 && g_ascii_isdigit(it99[0]), "iteration-ns.p99 row: %s",
       it99 ? it99 : "-");
    ok(!g_strcmp0(rate, "-"), "no rate for a percentile (%s)",
       rate ? rate : "(none)");
    g_free(n);
    g_free(it99);
    g_free(rate);
}

/* `info iothreads` shows p50/p99 of each distribution, the same numbers
 * `stats` shows, and the poll windows in use. */
static void test_info_shows_percentiles(void)
{
    int rc = RUN(NULL, "-c", "iothread set io0 poll-grow=2", "-c",
                 "info iothreads", "-c", "stats io0");
    char *stats = out ? strstr(out, "COUNTER") : NULL;
    char *info_p99 = NULL, *stats_p99 = NULL, *median = NULL, *idle = NULL;

    if (stats) {
        stats_p99 = table_lookup(stats, "wake-latency-ns.p99", "io0");
        *stats = '\0';     /* the info table is what comes before */
        info_p99 = table_lookup(out, "io0", "WAKE-LATENCY-NS.P99");
        median = table_lookup(out, "io0", "POLL-WINDOW-NS.MEDIAN");
        idle = table_lookup(out, "io0", "EFFECTIVE.POOL-IDLE");
    }
    is_int(rc, 0, "info iothreads + stats exit 0");
    ok(info_p99 && g_ascii_isdigit(info_p99[0]) &&
       !g_strcmp0(info_p99, stats_p99),
       "WAKE-LATENCY-NS.P99 column, the value stats reports (%s, %s)",
       info_p99 ? info_p99 : "-", stats_p99 ? stats_p99 : "-");
    ok(out && strstr(out, "WAKE-LATENCY-NS.P50") &&
       strstr(out, "ITERATION-NS.P99") && !strstr(out, "WAKE-LATENCY-NS.P90"),
       "p50 and p99 columns only");
    ok(median && g_ascii_isdigit(median[0]) && idle && g_ascii_isdigit(idle[0]),
       "POLL-WINDOW-NS.MEDIAN %s, EFFECTIVE.POOL-IDLE %s",
       median ? median : "-", idle ? idle : "-");
    g_free(info_p99);
    g_free(stats_p99);
    g_free(median);
    g_free(idle);
}

static void test_json(void)
{
    int rc = RUN(NULL, "--json", "-c", "info iothreads");
    is_int(rc, 0, "--json info exits 0");
    JsonNode *n = parse_json(out);
    ok(n && JSON_NODE_HOLDS_ARRAY(n) &&
       json_array_get_length(json_node_get_array(n)) >= 2,
       "--json info iothreads is a JSON array");
    if (n && JSON_NODE_HOLDS_ARRAY(n)) {
        JsonObject *first = json_array_get_object_element(
            json_node_get_array(n), 0);
        ok(json_object_has_member(first, "id") &&
           json_object_has_member(first, "thread-id"),
           "entries carry id and thread-id");
    } else {
        skip(1, "no array");
    }
    if (n) {
        json_node_unref(n);
    }

    rc = RUN(NULL, "--json", "-c", "iothread del nosuch");
    is_int(rc, 1, "--json error exits 1");
    n = parse_json(out);
    JsonObject *e = n && JSON_NODE_HOLDS_OBJECT(n)
                    ? json_object_get_object_member(json_node_get_object(n),
                                                    "error") : NULL;
    ok(e && !g_strcmp0(json_object_get_string_member_with_default(
                           e, "class", NULL), "GenericError") &&
       json_object_has_member(e, "desc"),
       "--json error carries class and desc");
    if (n) {
        json_node_unref(n);
    }

    rc = RUN(NULL, "--json", "-c", "stats io0");
    n = parse_json(out);
    ok(rc == 0 && n && JSON_NODE_HOLDS_ARRAY(n), "--json stats is an array");
    if (n) {
        json_node_unref(n);
    }
}

static void test_raw_and_errors(void)
{
    int rc = RUN(NULL, "-v", "-c",
                 "object-add qom-type=iothread id=raw1 poll-max-ns=0",
                 "-c", "query-iothreads");
    is_int(rc, 0, "qmp-shell object-add exits 0");
    ok(strstr(err, "-> {\"execute\":\"object-add\",\"arguments\":"
                   "{\"qom-type\":\"iothread\",\"id\":\"raw1\","
                   "\"poll-max-ns\":0}}"), "-v echoes the JSON sent");
    ok(strstr(out, "\"raw1\""), "query-iothreads shows raw1");

    rc = RUN(NULL, "-c", "{\"execute\": \"object-del\", \"arguments\": "
             "{\"id\": \"raw1\"}}", "-c", "{\"execute\":\"query-version\"}");
    ok(rc == 0 && strstr(out, "package"), "raw JSON lines are sent as is");

    rc = RUN(NULL, "-c", "qom-get path=/objects/io0 property=poll-max-ns");
    ok(rc == 0 && !strcmp(g_strstrip(out), "32768"),
       "qom-get through qmp-shell syntax");

    rc = RUN(NULL, "-c", "qurey-iothreads");
    is_int(rc, 1, "unknown command exits 1");
    ok(strstr(err, "did you mean 'query-iothreads'"),
       "unknown command suggests the nearest name");
    rc = RUN(NULL, "--json", "-c", "qurey-iothreads");
    ok(strstr(out, "\"CommandNotFound\""), "class CommandNotFound in --json");
    rc = RUN(NULL, "-c", "qom-get path=/objects/nosuch property=x");
    ok(rc == 1 && strstr(err, "error: "), "daemon error shown as error:");
    rc = RUN(NULL, "--keep-going", "-c", "{\"execute\": ", "-c",
             "query-version");
    ok(rc == 1 && strstr(err, "not valid JSON") && !strstr(err, "lost") &&
       strstr(out, "package"),
       "a broken raw JSON line is refused locally; the connection stays");
    rc = RUN(NULL, "-c", "object-add id=\"unterminated");
    ok(rc == 1 && strstr(err, "unterminated"), "parse error reported");

    rc = RUN(NULL, "--bogus-option");
    is_int(rc, 2, "unknown option exits 2");
    rc = RUN(NULL, "stray-argument");
    is_int(rc, 2, "stray argument exits 2");
    const char *const nowhere[] = { "-c", "info iothreads", NULL };
    g_free(out);
    g_free(err);
    rc = cli_run("/nonexistent/dir/qmp.sock", nowhere, NULL, &out, &err);
    is_int(rc, 3, "unreachable socket exits 3");
    ok(strstr(err, "error: ") && strstr(err, "/nonexistent/dir/qmp.sock"),
       "the socket is named in the message");

    rc = RUN(NULL, "-c", "help object-add");
    ok(rc == 0 && strstr(out, "poll-max-ns") && strstr(out, "qom-type") &&
       strstr(out, "required"), "help object-add lists its arguments");
    ok(strstr(out, "Create an object") && strstr(out, "Longest busy-poll"),
       "help shows the schema docs (command and members)");
    rc = RUN(NULL, "-c", "help iothread-set");
    ok(rc == 0 && strstr(out, "Largest batch") && !strstr(out, "See "),
       "help resolves 'See TYPE.' member docs");
    rc = RUN(NULL, "-c", "help");
    ok(rc == 0 && strstr(out, "info [iothreads]") &&
       strstr(out, "query-iothread-stats"), "help lists human and QMP "
       "commands");
    rc = RUN(NULL, "-c", "help nosuch");
    is_int(rc, 1, "help of an unknown command exits 1");
}

static void test_help_lists_properties_from_schema(void)
{
    int rc = RUN(NULL, "-c", "help iothread");
    const char *props = strstr(out, "Properties (from the server's schema):");

    ok(rc == 0 && props && strstr(props, "poll-max-ns") &&
       strstr(props, "thread-pool-max"),
       "help iothread lists the properties the daemon's schema declares");
}

static void test_help_shows_union_variant(void)
{
    int rc = RUN(NULL, "-c", "help object-add");
    const char *variant = strstr(out, "with qom-type=iothread:");

    ok(rc == 0 && variant && strstr(variant, "poll-max-ns") &&
       !strstr(variant, "required"),
       "help object-add lists the iothread variant's members as optional");
}

static void test_script_mode(void)
{
    const char *script = "# a comment\n\ninfo iothreads\nbogus-command\n"
                         "info iothreads\n";
    int rc = run(NULL, script);
    is_int(rc, 1, "script mode: a failing line gives 1");
    is_int(count_substr(out, "POLL-MAX"), 1, "script stops at the first error");
    rc = RUN(script, "--keep-going");
    is_int(rc, 1, "--keep-going still exits 1");
    is_int(count_substr(out, "POLL-MAX"), 2, "--keep-going runs the rest");
    rc = run(NULL, "# only comments\n   \ninfo iothreads\n");
    is_int(rc, 0, "clean script exits 0");

    rc = run(NULL, "events on\niothread add ev1\ninfo iothreads\n"
                   "iothread del ev1\ninfo iothreads\n");
    ok(rc == 0 && strstr(out, "OBJECT_ADDED") && strstr(out, "ev1"),
       "events on prints OBJECT_ADDED");
    ok(strstr(out, "OBJECT_DELETED") != NULL, "and OBJECT_DELETED");
}

/* Reads @r's stdout into @seen until it contains @needle, for 10 s at
 * most (a hang guard).  Whether it was seen. */
static bool cli_read_until(CliRun *r, GString *seen, const char *needle)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!strstr(seen->str, needle)) {
        int left = (int)((end - g_get_monotonic_time()) / 1000);
        struct pollfd p = { r->out, POLLIN, 0 };
        char buf[4096];
        ssize_t n;
        if (left <= 0 || poll(&p, 1, left) <= 0 ||
            (n = read(r->out, buf, sizeof(buf))) <= 0) {
            return strstr(seen->str, needle) != NULL;
        }
        g_string_append_len(seen, buf, n);
    }
    return true;
}

static void test_reconnect(void)
{
    CliRun r = cli_start(daemon_.sock, (const char *const[]){ "--keep-going",
                                                              NULL });
    GString *before_stop = g_string_new(NULL);
    cli_write(&r, "info iothreads\n");
    /* The daemon stops only once the first command was answered. */
    ok(cli_read_until(&r, before_stop, "POLL-MAX"),
       "the first command ran before the daemon stopped");
    daemon_stop(&daemon_);
    bool restarted = daemon_start(&daemon_);
    ok(restarted, "daemon restarted on the same socket");
    cli_write(&r, "iothread add after1\ninfo iothreads\n");
    g_free(out);
    g_free(err);
    int rc = cli_finish(&r, &out, &err);
    g_string_append(before_stop, out);
    g_free(out);
    out = g_string_free(before_stop, FALSE);
    ok(strstr(err, "connection to") && strstr(err, "lost"),
       "the lost connection is reported");
    ok(strstr(err, "reconnected to"), "and the CLI reconnected");
    bool ran = count_substr(out, "POLL-MAX") == 2 &&
               strstr(out, "iothread after1 added");
    ok(ran, "commands after the restart ran on the new daemon");
    if (!ok(rc == 0, "no command failed (status %d)", rc) || !ran) {
        /* On stderr: meson's error log shows a failed test's stderr, and
         * multi-line text on stdout would break the TAP stream. */
        fprintf(stderr, "the CLI's stdout:\n%s\nits stderr:\n%s\n", out, err);
    }
}

int main(void)
{
    plan(PLAN);
    if (!harness_daemon_path()) {
        skip(PLAN, "iothreadd is not built (IOTHREADD=%s)",
             getenv("IOTHREADD") ? getenv("IOTHREADD") : "unset");
        return done_testing();
    }
    if (!ok(daemon_start(&daemon_), "daemon started on %s", daemon_.sock)) {
        daemon_cleanup(&daemon_);
        return done_testing();
    }
    test_info_and_iothread();
    test_stats_and_top();
    test_stats_shows_distribution_rows();
    test_info_shows_percentiles();
    test_json();
    test_raw_and_errors();
    test_help_lists_properties_from_schema();
    test_help_shows_union_variant();
    test_script_mode();
    test_reconnect();
    daemon_cleanup(&daemon_);
    g_free(out);
    g_free(err);
    return done_testing();
}
