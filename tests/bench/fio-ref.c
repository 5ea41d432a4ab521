/* fio as a benchmark reference (see fio-ref.h). */
#include "fio-ref.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fio_ref_prepare_file(const char *path, uint64_t size)
{
    struct stat st;
    enum { CHUNK = 1 << 20 };

    if (stat(path, &st) == 0 && (uint64_t)st.st_size == size) {
        return true;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        return false;
    }
    uint64_t *buf = g_malloc(CHUNK);
    uint64_t x = 88172645463325252ull;
    bool ok = true;
    for (uint64_t off = 0; ok && off < size; off += CHUNK) {
        for (size_t i = 0; i < CHUNK / 8; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = x;
        }
        size_t n = MIN((uint64_t)CHUNK, size - off);
        ok = write(fd, buf, n) == (ssize_t)n;
    }
    if (!ok) {
        fprintf(stderr, "writing %s failed\n", path);
    }
    fsync(fd);
    close(fd);
    g_free(buf);
    return ok;
}

char *fio_ref_find(void)
{
    return g_find_program_in_path("fio");
}

static double member(JsonObject *o, const char *name)
{
    return o && json_object_has_member(o, name)
           ? json_object_get_double_member(o, name) : 0;
}

/* A percentile of the total latency (lat_ns: submission + completion, as
 * ours is timed from before the submit), which fio reports only with
 * --lat_percentiles=1; its default percentiles are of clat_ns, without
 * the time spent in io_submit (~30 us a read in a VM). */
static double percentile(JsonObject *dir, const char *pct)
{
    JsonObject *lat = json_object_get_object_member(dir, "lat_ns");
    JsonObject *p = lat && json_object_has_member(lat, "percentile")
                    ? json_object_get_object_member(lat, "percentile")
                    : NULL;
    return member(p, pct);
}

/* The figures of fio's first job (reads and writes together). */
static void parse_job(JsonObject *job, FioResult *out)
{
    JsonObject *rd = json_object_get_object_member(job, "read");
    JsonObject *wr = json_object_get_object_member(job, "write");
    double r = member(rd, "total_ios"), w = member(wr, "total_ios");
    JsonObject *main_dir = r > 0 || w == 0 ? rd : wr;

    out->ios = (uint64_t)(r + w);
    out->runtime_s = MAX(member(rd, "runtime"), member(wr, "runtime")) / 1e3;
    out->cpu_s = (member(job, "usr_cpu") + member(job, "sys_cpu")) / 100 *
                 out->runtime_s;
    out->lat_mean_ns = r + w > 0
        ? (member(json_object_get_object_member(rd, "lat_ns"), "mean") * r +
           member(json_object_get_object_member(wr, "lat_ns"), "mean") * w) /
          (r + w)
        : 0;
    out->lat_p50_ns = percentile(main_dir, "50.000000");
    out->lat_p99_ns = percentile(main_dir, "99.000000");
}

static char **job_argv(const char *fio, const FioJob *job)
{
    GPtrArray *a = g_ptr_array_new();

    g_ptr_array_add(a, g_strdup(fio));
    g_ptr_array_add(a, g_strdup("--name=fio-ref"));
    g_ptr_array_add(a, g_strdup_printf("--filename=%s", job->filename));
    g_ptr_array_add(a, g_strdup_printf("--ioengine=%s", job->ioengine));
    g_ptr_array_add(a, g_strdup_printf("--direct=%d", job->direct));
    g_ptr_array_add(a, g_strdup_printf("--rw=%s", job->rw));
    g_ptr_array_add(a, g_strdup_printf("--rwmixread=%d", job->rwmixread));
    g_ptr_array_add(a, g_strdup_printf("--bs=%u", job->bs));
    g_ptr_array_add(a, g_strdup_printf("--iodepth=%u", job->iodepth));
    g_ptr_array_add(a, g_strdup_printf("--size=%" PRIu64, job->size));
    g_ptr_array_add(a, g_strdup_printf("--runtime=%g", job->seconds));
    g_ptr_array_add(a, g_strdup("--time_based=1"));
    g_ptr_array_add(a, g_strdup("--numjobs=1"));
    g_ptr_array_add(a, g_strdup("--lat_percentiles=1"));
    g_ptr_array_add(a, g_strdup("--output-format=json"));
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

bool fio_ref_run(const char *fio, const FioJob *job, FioResult *out,
                 GError **error)
{
    char **argv = job_argv(fio, job);
    char *text = NULL, *errtext = NULL;
    int status = 0;
    JsonParser *parser = json_parser_new();
    bool ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                           &text, &errtext, &status, error) &&
              g_spawn_check_wait_status(status, error);
    /* fio may print notes before the JSON document. */
    const char *json = ok && text ? strchr(text, '{') : NULL;

    if (ok && (!json || !json_parser_load_from_data(parser, json, -1,
                                                    error))) {
        if (error && !*error) {
            g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                        "fio printed no JSON: %s", errtext ? errtext : "");
        }
        ok = false;
    }
    if (ok) {
        JsonObject *root = json_node_get_object(json_parser_get_root(parser));
        parse_job(json_array_get_object_element(
            json_object_get_array_member(root, "jobs"), 0), out);
        ok = out->ios > 0 && out->runtime_s > 0;
        if (!ok) {
            g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                        "fio reported no I/O");
        }
    }
    g_object_unref(parser);
    g_free(text);
    g_free(errtext);
    g_strfreev(argv);
    return ok;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void fio_ref_spread(GArray *ratios, double *min, double *median, double *max)
{
    guint n = ratios->len;

    *min = *median = *max = 0;
    if (!n) {
        return;
    }
    g_array_sort(ratios, compare_doubles);
    *min = g_array_index(ratios, double, 0);
    *max = g_array_index(ratios, double, n - 1);
    *median = n % 2 ? g_array_index(ratios, double, n / 2)
                    : (g_array_index(ratios, double, n / 2 - 1) +
                       g_array_index(ratios, double, n / 2)) / 2;
}
