/* Helpers of the workload tests (see workload-util.h). */
#include "workload-util.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

JsonObject *find_workload(QmpClient *c, const char *id)
{
    return find_by_id(c, "query-workloads", id);
}

gint64 workload_ops(QmpClient *c, const char *id)
{
    JsonObject *o = find_workload(c, id);
    gint64 ops = o ? json_object_get_int_member(o, "ops") : -1;

    if (o) {
        json_object_unref(o);
    }
    return ops;
}

gint64 wait_ops_above(QmpClient *c, const char *id, gint64 above)
{
    gint64 deadline = g_get_monotonic_time() + WORKLOAD_WAIT_MS * 1000LL;

    while (g_get_monotonic_time() < deadline) {
        gint64 ops = workload_ops(c, id);
        if (ops < 0) {
            return -1;
        }
        if (ops > above) {
            return ops;
        }
        g_usleep(10 * 1000);
    }
    return -1;
}

int open_fds_to(pid_t pid, const char *path)
{
    char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    int n = 0;

    while (d && (name = g_dir_read_name(d))) {
        char *link = g_build_filename(dir, name, NULL);
        char target[PATH_MAX];
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strcmp(target, path) == 0;
        }
        g_free(link);
    }
    if (d) {
        g_dir_close(d);
    }
    g_free(dir);
    return n;
}
