/*
 * workload-add's refusals on the real daemon: writes only to a file the
 * workload creates unless allow-overwrite; a missing file, a directory, a
 * device that is not a block device, a too-small file, O_DIRECT refused by
 * the file system, a first read that fails with EIO, bad ids and
 * iothreads: each a GenericError naming the problem, with nothing started
 * or written and the daemon still serving.
 * The EIO comes from the daemon's test hook: IOTHREADD_TEST_DISK_PROBE_EIO
 * (set before the daemon starts) names the file whose first read fails.
 * argv[1]: the daemon binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "workload-util.h"

static TestDaemon *d;
static QmpClient *c;

/* A disk workload-add on @path with extra members @extra ("" or ", ..."). */
static char *disk_args(const char *path, const char *extra)
{
    return g_strdup_printf("{\"id\": \"w\", \"iothread\": \"io0\", "
                           "\"type\": \"disk\", \"filename\": \"%s\"%s}",
                           path, extra);
}

static bool refused(const char *path, const char *extra, const char *needle)
{
    char *args = disk_args(path, extra);
    bool r = qx_fails(c, "workload-add", args, "GenericError", needle);
    g_free(args);
    return r;
}

static char *make_file(const char *name, gsize size)
{
    char *path = g_build_filename(d->dir, name, NULL);
    char *data = g_malloc(size);
    memset(data, 'x', size);
    g_file_set_contents(path, data, (gssize)size, NULL);
    g_free(data);
    return path;
}

static bool contents_are_x(const char *path, gsize size)
{
    gchar *got = NULL;
    gsize len = 0;
    bool same = g_file_get_contents(path, &got, &len, NULL) && len == size;
    for (gsize i = 0; same && i < len; i++) {
        same = got[i] == 'x';
    }
    g_free(got);
    return same;
}

static void test_write_to_existing_refused(void)
{
    char *path = make_file("existing", 65536);

    ok(refused(path, ", \"rw\": \"randwrite\", \"direct\": false",
               "allow-overwrite"),
       "randwrite to an existing file without allow-overwrite is refused");
    ok(refused(path, ", \"rw\": \"write\", \"direct\": false", path) &&
       refused(path, ", \"rw\": \"randrw\", \"direct\": false", path),
       "so are write and randrw, naming the file");
    ok(contents_are_x(path, 65536), "the file is unchanged");
    g_free(path);
}

static void test_create_existing_refused(void)
{
    char *path = make_file("there", 8192);

    ok(refused(path, ", \"create\": true, \"size\": 4096, \"direct\": false",
               "exists"),
       "create: true on an existing path is refused");
    ok(contents_are_x(path, 8192), "the existing file is unchanged");
    g_free(path);
}

static void test_create_needs_size(void)
{
    char *path = g_build_filename(d->dir, "nosize", NULL);

    ok(refused(path, ", \"create\": true", "needs size") &&
       !g_file_test(path, G_FILE_TEST_EXISTS),
       "create: true without size is refused, nothing created");
    g_free(path);
}

static void test_missing_file_refused(void)
{
    char *path = g_build_filename(d->dir, "missing", NULL);

    ok(refused(path, "", "create: true makes a new file") &&
       !g_file_test(path, G_FILE_TEST_EXISTS),
       "a missing file is refused, pointing at create");
    g_free(path);
}

static void test_directory_refused(void)
{
    ok(refused(d->dir, "", "is a directory"), "a directory is refused");
}

static void test_char_device_refused(void)
{
    ok(refused("/dev/null", "", "not a regular file or a block device"),
       "a character device is refused");
}

static void test_too_small_refused(void)
{
    char *path = make_file("small", 4096);

    ok(refused(path, ", \"size\": 1048576, \"direct\": false", "too small"),
       "a file smaller than size is refused");
    ok(refused(path, ", \"bs\": 8192, \"direct\": false", "too small"),
       "a file smaller than bs is refused");
    g_free(path);
}

static void test_refused_create_leaves_nothing(void)
{
    char *path = g_build_filename(d->dir, "tiny", NULL);

    ok(refused(path, ", \"create\": true, \"size\": 1024, \"direct\": false",
               "too small") && !g_file_test(path, G_FILE_TEST_EXISTS),
       "a create refused by a later check leaves no file behind");
    g_free(path);
}

static void test_unaligned_bs_refused(void)
{
    char *path = make_file("aligned", 65536);

    ok(refused(path, ", \"bs\": 1000", "multiple of 512"),
       "bs not a multiple of 512 with direct I/O is refused");
    g_free(path);
}

/* A regular file whose file system refuses O_DIRECT, or NULL.  tmpfs
 * refused it before Linux 6.6; procfs still does. */
static char *odirect_refusing_file(void)
{
    const char *candidates[] = { "/dev/shm", NULL };
    for (int i = 0; candidates[i]; i++) {
        char *path = g_strdup_printf("%s/wl-odirect-%d", candidates[i],
                                     (int)getpid());
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            close(fd);
            int dfd = open(path, O_RDONLY | O_DIRECT);
            if (dfd < 0 && errno == EINVAL) {
                return path;
            }
            if (dfd >= 0) {
                close(dfd);
            }
            unlink(path);
        }
        g_free(path);
    }
    int pfd = open("/proc/self/stat", O_RDONLY | O_DIRECT);
    if (pfd < 0 && errno == EINVAL) {
        return g_strdup("/proc/self/stat");
    }
    if (pfd >= 0) {
        close(pfd);
    }
    return NULL;
}

static void test_odirect_refused(void)
{
    char *path = odirect_refusing_file();

    if (!path) {
        skip(1, "no file system here refuses O_DIRECT");
        return;
    }
    ok(refused(path, "", "O_DIRECT"), "O_DIRECT refused by the file system "
       "(%s) is refused with that reason", path);
    if (g_str_has_prefix(path, "/dev/shm/")) {
        unlink(path);
    }
    g_free(path);
}

/* Set in main() before the daemon starts: the daemon's first read of this
 * file fails with EIO. */
static char *eio_path;

static void test_eio_on_first_read_refused(void)
{
    char *err = g_strdup_printf("'%s' failed: %s", eio_path,
                                g_strerror(EIO));

    ok(refused(eio_path, ", \"direct\": false", err),
       "a file whose first read fails with EIO is refused, naming the file "
       "and the errno text");
    JsonObject *w = find_workload(c, "w");
    ok(w == NULL && open_fds_to(d->pid, eio_path) == 0,
       "nothing started and the file is closed");
    if (w) {
        json_object_unref(w);
    }
    g_free(err);
}

static void test_bad_ids_refused(void)
{
    ok(qx_fails(c, "workload-add", "{\"id\": \"w\", \"iothread\": \"nope\", "
                "\"type\": \"timer\"}", "GenericError", "'nope'"),
       "an unknown iothread is refused, named");
    ok(qx_fails(c, "workload-add", "{\"id\": \"1bad\", \"iothread\": \"io0\", "
                "\"type\": \"timer\"}", "GenericError", "workload id"),
       "an invalid workload id is refused");
    qx_ok(c, "workload-add", "{\"id\": \"dup\", \"iothread\": \"io0\", "
          "\"type\": \"timer\"}");
    ok(qx_fails(c, "workload-add", "{\"id\": \"dup\", \"iothread\": \"io1\", "
                "\"type\": \"timer\"}", "GenericError", "already exists"),
       "a duplicate workload id is refused");
    qx_ok(c, "workload-del", "{\"id\": \"dup\"}");
    ok(qx_fails(c, "workload-del", "{\"id\": \"dup\"}", "GenericError",
                "not found"), "workload-del of an unknown id is refused");
}

static void test_allow_overwrite_writes(void)
{
    char *path = make_file("overwrite", 65536);

    char *args = disk_args(path, ", \"rw\": \"randwrite\", "
                           "\"direct\": false, \"allow-overwrite\": true");
    ok(qx_ok(c, "workload-add", args),
       "allow-overwrite: true lets randwrite use an existing file");
    g_free(args);
    ok(wait_ops_above(c, "w", 0) > 0, "and it writes");
    qx_ok(c, "workload-del", "{\"id\": \"w\"}");
    ok(!contents_are_x(path, 65536), "the file was written");
    g_free(path);
}

static void test_create_makes_file(void)
{
    char *path = g_build_filename(d->dir, "created", NULL);
    char *args = disk_args(path, ", \"create\": true, \"size\": 1048576, "
                           "\"rw\": \"randwrite\", \"direct\": false");
    struct stat st;

    ok(qx_ok(c, "workload-add", args) && stat(path, &st) == 0 &&
       st.st_size == 1048576,
       "create: true with size makes a new file of that size");
    qx_ok(c, "workload-del", "{\"id\": \"w\"}");
    g_free(args);
    g_free(path);
}

static void test_daemon_still_serves(void)
{
    JsonNode *r = qx(c, "query-workloads", NULL, NULL, NULL);
    ok(r && JSON_NODE_HOLDS_ARRAY(r) &&
       json_array_get_length(json_node_get_array(r)) == 0,
       "after every refusal the daemon serves and runs no workload");
    if (r) {
        json_node_unref(r);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        test_daemon_set_binary(argv[1]);
    }
    eio_path = g_build_filename(g_get_tmp_dir(), "iothreadd-eio-XXXXXX",
                                NULL);
    int eio_fd = g_mkstemp(eio_path);
    if (eio_fd < 0 || ftruncate(eio_fd, 65536) < 0) {
        printf("Bail out! cannot make %s\n", eio_path);
        return 1;
    }
    close(eio_fd);
    g_setenv("IOTHREADD_TEST_DISK_PROBE_EIO", eio_path, TRUE);
    d = test_daemon_start(NULL);
    c = d ? test_connect(d) : NULL;
    if (!ok(c != NULL, "daemon up")) {
        test_daemon_free(d);
        return done_testing();
    }
    test_write_to_existing_refused();
    test_create_existing_refused();
    test_create_needs_size();
    test_missing_file_refused();
    test_directory_refused();
    test_char_device_refused();
    test_too_small_refused();
    test_refused_create_leaves_nothing();
    test_unaligned_bs_refused();
    test_odirect_refused();
    test_eio_on_first_read_refused();
    test_bad_ids_refused();
    test_daemon_still_serves();
    test_allow_overwrite_writes();
    test_create_makes_file();
    qmp_client_free(c);
    is_int(test_daemon_kill(d, SIGTERM), 0, "the daemon exits 0");
    test_daemon_free(d);
    unlink(eio_path);
    g_free(eio_path);
    return done_testing();
}
