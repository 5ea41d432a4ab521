/*
 * iothreadctl's `workload add|del|list` against a live iothreadd: add
 * starts a workload with the KEY=VALUE options typed, list shows its row
 * with ops, IOPS, latency and CPU, a refusal is the server's error and
 * exit status 1, del removes it.
 */
#include "cli-harness.h"
#include "tap.h"

static Daemon d;

/* iothreadctl -s SOCK -c @cmd; its status, output in *@out (caller
 * frees). */
static int ctl(const char *cmd, char **out)
{
    const char *args[] = { "-c", cmd, NULL };
    char *err = NULL;
    int st = cli_run(d.sock, args, NULL, out, &err);
    if (st != 0) {
        diag("%s: exit %d: %s", cmd, st, err);
        char *both = g_strconcat(*out, err, NULL);
        g_free(*out);
        *out = both;
    }
    g_free(err);
    return st;
}

static void test_add_starts(void)
{
    char *out = NULL;
    char *cmd = g_strdup_printf("workload add w1 io0 disk filename=%s/w1 "
                                "create=true size=1048576 direct=false "
                                "iodepth=2", d.dir);
    ok(ctl(cmd, &out) == 0 && strstr(out, "workload w1 started on io0") &&
       strstr(out, "preparing"),
       "workload add starts a disk workload with the options typed, and says "
       "a created file is laid out first");
    g_free(out);
    g_free(cmd);
}

/* The row of w1 once a sampling interval holds ops (deadline: a hang). */
static char *wait_listed_ops(void)
{
    for (int i = 0; i < 500; i++) {
        char *out = NULL;
        ctl("workload list", &out);
        char *iops = table_lookup(out, "w1", "IOPS");
        if (iops && strcmp(iops, "-") && g_ascii_strtod(iops, NULL) > 0) {
            g_free(iops);
            return out;
        }
        g_free(iops);
        g_free(out);
        g_usleep(20 * 1000);
    }
    return NULL;
}

static void test_list_shows_figures(void)
{
    char *out = wait_listed_ops();
    char *state = out ? table_lookup(out, "w1", "STATE") : NULL;
    char *p99 = out ? table_lookup(out, "w1", "P99-US") : NULL;
    char *cpu = out ? table_lookup(out, "w1", "CPU") : NULL;

    if (!ok(out && !g_strcmp0(state, "running") && p99 &&
            g_ascii_strtod(p99, NULL) > 0 && cpu && g_str_has_suffix(cpu, "%"),
            "workload list: running, IOPS, p99 and CPU share")) {
        /* One diag per line: a newline inside a TAP line breaks TAP. */
        char **lines = g_strsplit(out ? out : "no IOPS", "\n", -1);
        for (char **l = lines; *l; l++) {
            diag("%s", *l);
        }
        g_strfreev(lines);
    }
    g_free(state);
    g_free(p99);
    g_free(cpu);
    g_free(out);
}

static void test_refusal_fails(void)
{
    char *out = NULL;
    char *cmd = g_strdup_printf("workload add w2 io0 disk filename=%s",
                                d.dir);
    ok(ctl(cmd, &out) == 1 && strstr(out, "is a directory"),
       "a refused workload add prints the server's error, exit status 1");
    g_free(out);
    g_free(cmd);
}

static void test_del_removes(void)
{
    char *out = NULL;
    ok(ctl("workload del w1", &out) == 0 &&
       strstr(out, "workload w1 deleted"), "workload del deletes it");
    g_free(out);
    ctl("workload list", &out);
    ok(strstr(out, "no workloads") != NULL, "and list shows none");
    g_free(out);
}

int main(void)
{
    if (!harness_daemon_path()) {
        skip(1, "iothreadd is not built");
        return done_testing();
    }
    if (!ok(daemon_start(&d), "daemon up")) {
        return done_testing();
    }
    test_add_starts();
    test_list_shows_figures();
    test_refusal_fails();
    test_del_removes();
    daemon_cleanup(&d);
    return done_testing();
}
