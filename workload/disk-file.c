/*
 * The disk workload's file: the write rules of workload.h, creating,
 * opening and checking it before anything starts.  Owner thread; every
 * refusal is a message naming the file and leaves nothing behind (a file
 * created here is removed again when a later check fails).
 */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK_SECTOR 512

static bool fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(GError **error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, msg);
    g_free(msg);
    return false;
}

bool workload_rw_writes(WorkloadRw rw)
{
    return rw == WORKLOAD_RW_RANDWRITE || rw == WORKLOAD_RW_RANDRW ||
           rw == WORKLOAD_RW_WRITE;
}

/* The options that need no file. */
static bool check_options(const WorkloadConfig *cfg, GError **error)
{
    if (!cfg->filename || !*cfg->filename) {
        return fail(error, "a disk workload needs a filename");
    }
    if (cfg->bs == 0 || (cfg->direct && cfg->bs % DISK_SECTOR)) {
        return fail(error, "bs %" G_GUINT64_FORMAT " is not a multiple of "
                    "%d (direct I/O needs whole sectors)", cfg->bs,
                    DISK_SECTOR);
    }
    if (cfg->iodepth < 1 || cfg->iodepth > WORKLOAD_MAX_IODEPTH) {
        return fail(error, "iodepth must be in range [1, %d]",
                    WORKLOAD_MAX_IODEPTH);
    }
    if (cfg->create && cfg->size == 0) {
        return fail(error, "create: true needs size (the new file's size) "
                    "for '%s'", cfg->filename);
    }
    return true;
}

/* create: a new file of cfg->size bytes; refused if the path exists. */
static bool create_file(const WorkloadConfig *cfg, GError **error)
{
    int fd = open(cfg->filename, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int err;

    if (fd < 0 && errno == EEXIST) {
        return fail(error, "'%s' exists: create: true only makes a new file "
                    "(allow-overwrite: true writes to an existing one)",
                    cfg->filename);
    }
    if (fd < 0) {
        return fail(error, "cannot create '%s': %s", cfg->filename,
                    g_strerror(errno));
    }
    err = posix_fallocate(fd, 0, (off_t)cfg->size);
    if (err == EOPNOTSUPP || err == EINVAL) {
        err = ftruncate(fd, (off_t)cfg->size) < 0 ? errno : 0;
    }
    close(fd);
    if (err) {
        unlink(cfg->filename);
        return fail(error, "cannot allocate %" G_GUINT64_FORMAT " bytes for "
                    "'%s': %s", cfg->size, cfg->filename, g_strerror(err));
    }
    return true;
}

/* An existing path: a regular file or block device, written only with
 * allow-overwrite. */
static bool check_existing(const WorkloadConfig *cfg, GError **error)
{
    struct stat st;

    if (stat(cfg->filename, &st) < 0) {
        return fail(error, "cannot open '%s': %s%s", cfg->filename,
                    g_strerror(errno),
                    errno == ENOENT ? " (create: true makes a new file)" : "");
    }
    if (S_ISDIR(st.st_mode)) {
        return fail(error, "'%s' is a directory", cfg->filename);
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        return fail(error, "'%s' is not a regular file or a block device",
                    cfg->filename);
    }
    if (workload_rw_writes(cfg->rw) && !cfg->allow_overwrite) {
        return fail(error, "rw %s would write to the existing %s '%s': pass "
                    "allow-overwrite: true to overwrite it, or create: true "
                    "with a new path", workload_rw_name(cfg->rw),
                    S_ISBLK(st.st_mode) ? "block device" : "file",
                    cfg->filename);
    }
    return true;
}

static bool file_size(int fd, const char *name, uint64_t *size,
                      GError **error)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return fail(error, "cannot stat '%s': %s", name, g_strerror(errno));
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, size) < 0) {
            return fail(error, "cannot read the size of '%s': %s", name,
                        g_strerror(errno));
        }
        return true;
    }
    *size = (uint64_t)st.st_size;
    return true;
}

static int open_file(const WorkloadConfig *cfg, GError **error)
{
    /* A created file is written by its layout (disk.c), whatever rw. */
    bool writes = workload_rw_writes(cfg->rw) || cfg->create;
    int flags = (writes ? O_RDWR : O_RDONLY) |
                O_CLOEXEC | (cfg->direct ? O_DIRECT : 0);
    int fd = open(cfg->filename, flags);

    if (fd < 0 && errno == EINVAL && cfg->direct) {
        fail(error, "cannot open '%s' with O_DIRECT: %s (the file system "
             "refuses direct I/O; direct: false uses the page cache)",
             cfg->filename, g_strerror(EINVAL));
    } else if (fd < 0) {
        fail(error, "cannot open '%s': %s", cfg->filename, g_strerror(errno));
    }
    return fd;
}

/* One read of the first block of @cfg's file through @fd (its O_DIRECT
 * and bs): -1 with errno when the device fails it.  Test hook: a probe of
 * the path that IOTHREADD_TEST_DISK_PROBE_EIO names fails with EIO, as a
 * failing device's would (a test cannot make one without root). */
static ssize_t probe_first_block(int fd, const WorkloadConfig *cfg)
{
    const char *eio_path = g_getenv("IOTHREADD_TEST_DISK_PROBE_EIO");
    void *buf;
    ssize_t got;
    int err;

    if (eio_path && strcmp(eio_path, cfg->filename) == 0) {
        errno = EIO;
        return -1;
    }
    buf = workload_disk_buffer(cfg->bs);
    got = pread(fd, buf, cfg->bs, 0);
    err = errno;
    free(buf);
    errno = err;
    return got;
}

/* The region fits the file and a first read works (a device that fails
 * with EIO is refused before anything starts). */
static bool check_region(int fd, WorkloadConfig *cfg, GError **error)
{
    uint64_t have;

    if (!file_size(fd, cfg->filename, &have, error)) {
        return false;
    }
    if (cfg->size == 0) {
        cfg->size = have;
    }
    if (cfg->size > have) {
        return fail(error, "'%s' is too small: %" G_GUINT64_FORMAT " bytes, "
                    "size is %" G_GUINT64_FORMAT, cfg->filename, have,
                    cfg->size);
    }
    if (cfg->size < cfg->bs) {
        return fail(error, "'%s' is too small: the region of %"
                    G_GUINT64_FORMAT " bytes holds no block of bs %"
                    G_GUINT64_FORMAT, cfg->filename, cfg->size, cfg->bs);
    }
    if (probe_first_block(fd, cfg) < 0) {
        int err = errno;
        return fail(error, "reading the first block of '%s' failed: %s%s",
                    cfg->filename, g_strerror(err), err == EINVAL &&
                    cfg->direct ? " (bs must be a multiple of the device's "
                    "logical block size for direct I/O)" : "");
    }
    return true;
}

int workload_disk_open(WorkloadConfig *cfg, GError **error)
{
    bool created = false;
    int fd;

    if (!check_options(cfg, error)) {
        return -1;
    }
    if (cfg->create) {
        if (!create_file(cfg, error)) {
            return -1;
        }
        created = true;
    } else if (!check_existing(cfg, error)) {
        return -1;
    }
    fd = open_file(cfg, error);
    if (fd >= 0 && !check_region(fd, cfg, error)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0 && created) {
        unlink(cfg->filename);
    }
    return fd;
}

void *workload_disk_buffer(uint64_t bs)
{
    void *buf;
    uint64_t x = 0x9e3779b97f4a7c15ull;

    if (posix_memalign(&buf, 4096, bs) != 0) {
        g_error("out of memory allocating a %" G_GUINT64_FORMAT
                "-byte I/O buffer", bs);
    }
    /* Not zeros, so a written block is not a hole to the file system. */
    for (uint64_t i = 0; i + 8 <= bs; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy((char *)buf + i, &x, 8);
    }
    return buf;
}
