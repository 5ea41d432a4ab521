/*
 * Internals shared by server.c (listening, dispatch, events) and
 * server-conn.c (one client connection: buffered non-blocking I/O and
 * stream splitting).  Not a public header.
 *
 * Thread rules: as server.h: everything runs in the home thread of the
 * server's AioContext.
 */
#ifndef QMP_SERVER_INTERNAL_H
#define QMP_SERVER_INTERNAL_H

#include "server.h"
#include "json-splitter.h"

typedef struct QmpConn QmpConn;

typedef struct {
    QmpServer *server;
    int fd;
    QmpAddress addr;        /* with its access options */
    char *name;             /* for messages: the path, or tcp HOST:PORT */
    char *unix_path;        /* unlinked on free; NULL for tcp and for a
                             * passed socket (not ours to remove) */
    bool tcp;               /* accepted connections get TCP_NODELAY */
} QmpListener;

typedef struct {
    QmpCommandHandler *handler;
    void *opaque;
} QmpCommand;

struct QmpServer {
    AioContext *ctx;
    const QmpSchema *schema;
    int version[3];
    char *package;
    GPtrArray *listeners;   /* QmpListener* */
    GHashTable *commands;   /* name -> QmpCommand* */
    GPtrArray *conns;       /* QmpConn*, connected clients */
    int tcp_port;
    bool check_schema;      /* IOTHREADD_CHECK_SCHEMA=1: see qmp_server_new */
};

struct QmpConn {
    QmpServer *server;
    int fd;
    JsonSplitter *splitter;
    QmpListener *listener;  /* accepted on (NULL: a test's own fd) */
    bool negotiated;        /* command mode */
    bool closed;            /* fd closed, waiting for the last reference */
    unsigned refs;          /* held while a callback may still use it */
    bool read_paused;       /* read handler removed while a dispatch nests */
    bool in_read;
    bool write_armed;       /* io_write registered */
    GByteArray *out;        /* unsent output from out_off on */
    size_t out_off;
};

/* server-conn.c */

/* Take ownership of a connected, non-blocking @fd accepted on @listener
 * (NULL: a test's own socket pair): send the greeting and start reading.
 * The connection is added to server->conns; it may be gone again on
 * return (a peer that already left). */
void qmp_conn_start_from(QmpServer *server, QmpListener *listener, int fd);
/* qmp_conn_start_from without a listener. */
void qmp_conn_start(QmpServer *server, int fd);
/* Queue one message (@text + CRLF) and try to write it at once.  A client
 * whose backlog exceeds QMP_MAX_OUTPUT_BACKLOG is disconnected. */
void qmp_conn_send(QmpConn *conn, const char *text, size_t len);
/* Disconnect now (fd closed, removed from server->conns); the memory goes
 * when the last callback using it returns. */
void qmp_conn_close(QmpConn *conn);

/* server-listen.c */

/* Stop listening: the fd closed, a unix socket file removed. */
void qmp_listener_free(QmpListener *l);

/* server.c */

/* Handle one complete message (or a splitter error) of @conn. */
void qmp_server_handle_message(QmpConn *conn, const char *text, size_t len,
                               const char *split_error);

#endif /* QMP_SERVER_INTERNAL_H */
