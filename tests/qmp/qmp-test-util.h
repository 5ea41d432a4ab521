/*
 * Helpers for the QMP server tests: a QmpServer on a real AioContext whose
 * loop runs in its own thread, a test schema with test-only commands, and a
 * raw socket client that sends arbitrary bytes and reads CRLF-framed
 * replies.
 *
 * Thread rules: the server and its handlers live in the loop thread; the
 * test thread only talks to it through sockets (and creates/frees it while
 * the loop is not running).
 */
#ifndef TESTS_QMP_TEST_UTIL_H
#define TESTS_QMP_TEST_UTIL_H

#include <pthread.h>
#include <stdatomic.h>

#include "server.h"

typedef struct {
    AioContext *ctx;
    QmpSchema *schema;
    QmpServer *server;
    pthread_t thread;
    atomic_bool stop;
    char *dir;              /* temp dir holding the socket */
    char *path;             /* unix socket path */
    char *address;          /* "unix:PATH" */
} TestServer;

/* Start a server with the test schema (or the embedded one) listening on
 * a fresh unix socket and on tcp:127.0.0.1:0. */
TestServer *test_server_start(bool embedded_schema);
/* Stop the loop thread, free the server, remove the temp dir. */
void test_server_stop(TestServer *ts);

typedef struct {
    int fd;
    GString *buf;           /* bytes read, not yet returned */
} RawConn;

/* Connect and (optionally) read the greeting and negotiate. */
RawConn *raw_connect(const char *path, bool negotiate);
void raw_close(RawConn *rc);
/* Send bytes as they are. */
void raw_send(RawConn *rc, const char *data, size_t len);
void raw_send_str(RawConn *rc, const char *text);
/* Next CRLF-terminated message parsed as an object (caller unrefs), or
 * NULL after @timeout_ms or on EOF.  *crlf (optional): whether it ended in
 * CRLF. */
JsonObject *raw_recv(RawConn *rc, int timeout_ms);
/* Next CRLF-terminated message as its bytes (without the CRLF; caller
 * frees), or NULL after @timeout_ms or on EOF. */
char *raw_recv_line(RawConn *rc, int timeout_ms);

/* Reply helpers: "class" of an error reply or NULL. */
const char *reply_error_class(JsonObject *reply);
const char *reply_error_desc(JsonObject *reply);

#endif /* TESTS_QMP_TEST_UTIL_H */
