/*
 * The disk workload's file handling (disk-file.c), used by its driver
 * (disk.c).  Owner thread.
 */
#ifndef WORKLOAD_DISK_H
#define WORKLOAD_DISK_H

#include "workload-internal.h"

/* Whether @rw writes. */
bool workload_rw_writes(WorkloadRw rw);

/* Apply the write rules of workload.h to @cfg's file, create it if asked,
 * open it and check the region (cfg->size 0 becomes the file's size).
 * The fd, or -1 + @error naming the file with nothing left behind. */
int workload_disk_open(WorkloadConfig *cfg, GError **error);

/* A buffer of @bs bytes aligned for O_DIRECT, filled with non-zero data;
 * free() it. */
void *workload_disk_buffer(uint64_t bs);

#endif /* WORKLOAD_DISK_H */
