/*
 * Helpers of the workload tests (on the real daemon, see daemon-util.h):
 * a workload's query-workloads entry and waiting for its counters.
 *
 * Thread rules: single-threaded test programs.
 */
#ifndef TESTS_WORKLOAD_UTIL_H
#define TESTS_WORKLOAD_UTIL_H

#include "daemon-util.h"

/* Deadline of every wait: only guards against a hang. */
#define WORKLOAD_WAIT_MS 10000

/* query-workloads' entry of @id (new reference), or NULL. */
JsonObject *find_workload(QmpClient *c, const char *id);
/* @id's "ops", or -1 when it is not listed. */
gint64 workload_ops(QmpClient *c, const char *id);
/* Wait until @id's ops exceed @above; its ops then, or -1 on timeout. */
gint64 wait_ops_above(QmpClient *c, const char *id, gint64 above);
/* How many of @pid's open fds point to @path. */
int open_fds_to(pid_t pid, const char *path);

#endif /* TESTS_WORKLOAD_UTIL_H */
