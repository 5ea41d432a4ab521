/*
 * Where the daemon's QMP socket is by default.  In the splitter library
 * (no server, no client) so iothreadd and iothreadctl both use this one
 * definition without the daemon linking the client library.  Any thread.
 */
#ifndef QMP_SOCKET_PATH_H
#define QMP_SOCKET_PATH_H

/* $XDG_RUNTIME_DIR/iothreadd/qmp.sock, else /tmp/iothreadd-$UID/qmp.sock.
 * Caller frees (g_free). */
char *qmp_default_socket_path(void);

#endif /* QMP_SOCKET_PATH_H */
