/*
 * human-monitor-command: QEMU's HMP text interface over QMP, for the HMP
 * commands that make sense in a daemon without a VM, so `qmp-shell -H`
 * and `virsh qemu-monitor-command --hmp` work unchanged.
 *
 * Commands (QEMU's syntax and output layout, CRLF line ends):
 *   help|? [cmd]           the command list, or one command's line
 *   info [subcommand]      info iothreads, info version, info
 *                          iothread-stats (iothreadd's own); bare `info`
 *                          lists the subcommands
 *   object_add [qom-type=]type,id=str[,prop=value][,...]
 *   object_del id
 *   qom-list [path]        default path "/"
 *   qom-get path property  the value as JSON text
 *   qom-set [-j] path property value
 * Each runs the QMP command it stands for through qmp_server_execute, so
 * arguments are checked exactly as over QMP; a QMP error is printed as
 * "Error: <desc>" (HMP never fails at the QMP level).  An unknown command
 * prints "unknown command: 'NAME'"; a missing argument "NAME: string
 * expected", one too many "NAME: extraneous characters at the end of
 * line", each followed by the `Try "help NAME"` line.
 *
 * cpu-index: QEMU accepts only the index of an existing CPU; there are no
 * CPUs here, and qmp-shell -H sends "cpu-index": 0 at connect, so 0 is
 * accepted (and ignored) and any other index gets QEMU's error.
 *
 * Thread rules: runs in the QMP server's thread, like every handler.
 */
#ifndef IOTHREAD_HMP_H
#define IOTHREAD_HMP_H

#include "server.h"

G_BEGIN_DECLS

/* Register human-monitor-command on @server, which must have the commands
 * it stands for registered too (at the latest before the first call). */
void hmp_register(QmpServer *server);

G_END_DECLS

#endif /* IOTHREAD_HMP_H */
