/*
 * iothreadctl against qemu-system-x86_64: the same human commands an
 * operator uses on iothreadd work on QEMU, which lacks iothreadd's
 * extensions (iothread-set, query-iothread-stats): `iothread set` falls
 * back to one qom-set per property, `stats` and `top` say what is missing
 * instead of failing, `help` renders QEMU's flattened object-add union by
 * variant, and `hmp` passes HMP lines through human-monitor-command.
 * SKIPs (counted as skipped, with the reason) when QEMU is not installed;
 * $QEMU_SYSTEM overrides the binary looked up in $PATH.
 */
#include "tap.h"
#include "cli-harness.h"

#define PLAN 24

static Daemon qemu;   /* the harness's Daemon: pid, temp dir, socket */
static char *out, *err;

static char *qemu_binary(void)
{
    const char *env = getenv("QEMU_SYSTEM");

    if (env && *env) {
        return g_file_test(env, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup(env)
                                                           : NULL;
    }
    return g_find_program_in_path("qemu-system-x86_64");
}

/* QEMU as a QMP server with one iothread io0; false if its socket does
 * not come up in 10 s. */
static bool qemu_start(const char *binary)
{
    qemu.dir = g_dir_make_tmp("iothreadctl-qemu-XXXXXX", NULL);
    qemu.sock = g_build_filename(qemu.dir, "qmp.sock", NULL);
    char *qmp = g_strdup_printf("unix:%s,server=on,wait=off", qemu.sock);
    qemu.pid = fork();
    if (qemu.pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        execl(binary, binary, "-machine", "none", "-nodefaults", "-display",
              "none", "-object", "iothread,id=io0", "-qmp", qmp,
              (char *)NULL);
        _exit(127);
    }
    g_free(qmp);
    for (int i = 0; i < 1000; i++) {
        if (harness_socket_ready(qemu.sock)) {
            return true;
        }
        if (waitpid(qemu.pid, NULL, WNOHANG) == qemu.pid) {
            qemu.pid = 0;
            return false;
        }
        g_usleep(10000);
    }
    return false;
}

static int run(const char *const *args)
{
    g_free(out);
    g_free(err);
    return cli_run(qemu.sock, args, NULL, &out, &err);
}
#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL })

static bool cell_is(const char *row, const char *col, const char *want)
{
    char *got = table_lookup(out, row, col);
    bool same = g_strcmp0(got, want) == 0;

    if (!same) {
        diag("cell %s/%s: got %s, want %s", row, col, got ? got : "(none)",
             want);
    }
    g_free(got);
    return same;
}

/* The longest line of @text, in bytes. */
static size_t longest_line(const char *text)
{
    size_t longest = 0;

    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        longest = MAX(longest, len);
        p += len + (p[len] == '\n');
    }
    return longest;
}

/* The lines of `help object-add` from "with qom-type=VALUE:" up to the
 * next section (caller frees). */
static char *variant_section(const char *help, const char *value)
{
    char *title = g_strdup_printf("with qom-type=%s:\n", value);
    const char *start = strstr(help, title);
    const char *end = start ? strstr(start + strlen(title), "with qom-type=")
                            : NULL;

    g_free(title);
    if (!start) {
        return g_strdup("");
    }
    return end ? g_strndup(start, end - start) : g_strdup(start);
}

static void test_info_shows_qemu_members(void)
{
    int rc = RUN("-c", "info iothreads");

    is_int(rc, 0, "info iothreads against QEMU exits 0");
    ok(cell_is("io0", "POLL-MAX-NS", "32768") &&
       cell_is("io0", "AIO-MAX-BATCH", "0"),
       "the table shows QEMU's query-iothreads members for io0");
}

static void test_set_falls_back_to_qom_set(void)
{
    int rc = RUN("-c", "iothread set io0 poll-max-ns=1000 poll-grow=2",
                 "-c", "info iothreads");

    is_int(rc, 0, "iothread set without iothread-set exits 0");
    ok(strstr(out, "no iothread-set") &&
       strstr(out, "one at a time (not atomic)"),
       "it says the properties are applied one at a time");
    ok(cell_is("io0", "POLL-MAX-NS", "1000") &&
       cell_is("io0", "POLL-GROW", "2"), "both properties took effect");
}

static void test_set_fallback_stops_at_refusal(void)
{
    RUN("-c", "iothread set io0 poll-max-ns=1000 poll-grow=0");
    int rc = RUN("-c", "iothread set io0 poll-grow=3 poll-max-ns=-1");

    is_int(rc, 1, "a refused property makes iothread set exit 1");
    ok(strstr(err, "poll-max-ns") && strstr(err, "already applied: "
                                                 "poll-grow"),
       "the error names QEMU's refusal and what was already applied");
    RUN("-c", "info iothreads");
    ok(cell_is("io0", "POLL-GROW", "3") &&
       cell_is("io0", "POLL-MAX-NS", "1000"),
       "the property before the refusal changed, the refused one did not");
}

static void test_add_and_del(void)
{
    int rc = RUN("-c", "iothread add io5 poll-max-ns=5", "-c",
                 "info iothreads");

    ok(rc == 0 && cell_is("io5", "POLL-MAX-NS", "5"),
       "iothread add creates an iothread with its property in QEMU");
    rc = RUN("-c", "iothread del io5", "-c", "info iothreads");
    ok(rc == 0 && strstr(out, "iothread io5 deleted") &&
       !strstr(out, "\nio5 "), "iothread del removes it");
}

static void test_stats_marks_missing_command(void)
{
    int rc = RUN("-c", "stats");

    ok(rc == 0 && strstr(out, "note: the server has no "
                              "query-iothread-stats"),
       "stats against QEMU exits 0 and names the missing command");
    rc = RUN("--json", "-c", "stats io0");
    ok(rc == 0 && strstr(out, "{\"missing-command\":"
                              "\"query-iothread-stats\"}"),
       "stats --json says the same as a JSON object");
    rc = RUN("-c", "top --count 1 --interval 0.05");
    ok(rc == 0 && strstr(out, "query-iothread-stats"),
       "top against QEMU exits 0 and names the missing command");
}

static void test_help_renders_union_by_variant(void)
{
    int rc = RUN("-c", "help object-add");
    char *iothread = variant_section(out, "iothread");
    char *filter = variant_section(out, "filter-buffer");

    is_int(rc, 0, "help object-add against QEMU exits 0");
    ok(strstr(iothread, "poll-max-ns") && strstr(iothread, "optional") &&
       !strstr(iothread, "required"),
       "the iothread variant lists its members, none required");
    ok(strstr(filter, "required") != NULL,
       "a variant with required members marks them required there");
    ok(longest_line(out) < 120, "no line is padded wide (longest %zu)",
       longest_line(out));
    g_free(iothread);
    g_free(filter);
}

static void test_help_one_variant(void)
{
    int rc = RUN("-c", "help object-add iothread");

    ok(rc == 0 && strstr(out, "with qom-type=iothread:") &&
       count_substr(out, "with qom-type=") == 1,
       "help object-add iothread shows that variant only");
    rc = RUN("-c", "help object-add no-such-type");
    ok(rc == 1 && strstr(err, "no variant 'no-such-type'"),
       "an unknown variant is refused by name");
}

static void test_tables_fit_terminal_width(void)
{
    setenv("COLUMNS", "50", 1);
    int rc = RUN("-c", "info iothreads", "-c", "help object-add iothread");
    unsetenv("COLUMNS");

    ok(rc == 0 && longest_line(out) <= 50,
       "with COLUMNS=50 no line of info or help is wider (longest %zu)",
       longest_line(out));
}

static void test_hmp_passes_lines_through(void)
{
    int rc = RUN("-c", "hmp info iothreads");

    ok(rc == 0 && strstr(out, "io0:\n") && strstr(out, "  thread_id="),
       "hmp info iothreads prints QEMU's text");
    ok(!strchr(out, '\r'), "CRLF line ends are printed as LF");
    rc = RUN("-c", "hmp no-such-command");
    ok(rc == 0 && strstr(out, "unknown command: 'no-such-command'"),
       "an unknown HMP command prints HMP's own error text");
}

int main(void)
{
    char *binary = qemu_binary();

    plan(PLAN);
    if (!binary) {
        skip(PLAN, "qemu-system-x86_64 is not installed (package "
             "qemu-system-x86; or set QEMU_SYSTEM)");
        return done_testing();
    }
    if (!ok(qemu_start(binary), "QEMU serves QMP on %s", qemu.sock)) {
        daemon_cleanup(&qemu);
        skip(PLAN - 1, "QEMU did not start");
        g_free(binary);
        return done_testing();
    }
    test_info_shows_qemu_members();
    test_set_falls_back_to_qom_set();
    test_set_fallback_stops_at_refusal();
    test_add_and_del();
    test_stats_marks_missing_command();
    test_help_renders_union_by_variant();
    test_help_one_variant();
    test_tables_fit_terminal_width();
    test_hmp_passes_lines_through();
    daemon_cleanup(&qemu);
    g_free(binary);
    g_free(out);
    g_free(err);
    return done_testing();
}
