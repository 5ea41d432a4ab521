/*
 * `workload add|del|list`: workloads on the daemon's iothreads
 * (workload-add, workload-del, query-workloads).
 *
 * Thread rules: single-threaded (the Session's thread).
 */
#ifndef CLI_WORKLOAD_CMD_H
#define CLI_WORKLOAD_CMD_H

#include "session.h"

G_BEGIN_DECLS

/* workload add ID IOTHREAD TYPE [KEY=VALUE...] | del ID | list */
CmdStatus cmd_workload(Session *s, char **argv);

G_END_DECLS

#endif /* CLI_WORKLOAD_CMD_H */
