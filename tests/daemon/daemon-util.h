/*
 * Helpers for the integration tests: start the real iothreadd binary on a
 * socket in a fresh temporary directory, talk to it through the QMP client
 * library, stop it and collect its exit status.
 *
 * Thread rules: single-threaded test programs.
 */
#ifndef TESTS_IOTHREAD_DAEMON_UTIL_H
#define TESTS_IOTHREAD_DAEMON_UTIL_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "client.h"

typedef struct TestDaemon {
    pid_t pid;
    char *dir;          /* temporary directory, removed by test_daemon_free */
    char *socket;       /* PATH of the unix socket */
    char *address;      /* "unix:PATH" */
} TestDaemon;

/* The daemon binary: argv[1] of the test, else $IOTHREADD. */
void test_daemon_set_binary(const char *path);

/* Start iothreadd --qmp unix:<tmp>/qmp.sock --foreground @extra_args...
 * (NULL-terminated, may be NULL) and wait until the socket accepts.
 * NULL (with a diag) if it did not come up within 10 s. */
TestDaemon *test_daemon_start(const char *const *extra_args);
/* Send @sig and wait; returns the exit status (or 128+signal). */
int test_daemon_kill(TestDaemon *d, int sig);
/* Wait for exit up to @timeout_ms; returns the status, -1 on timeout. */
int test_daemon_wait(TestDaemon *d, int timeout_ms);
/* Kill (if still running) and clean up. */
void test_daemon_free(TestDaemon *d);

/* Run the daemon binary with @args to completion; returns the exit status,
 * its stdout in *@out_text and its stderr in *@err_text (caller frees). */
int test_daemon_run_sync(const char *const *args, char **out_text,
                         char **err_text);

/* A connected, negotiated client (NULL + diag on failure). */
QmpClient *test_connect(TestDaemon *d);

/* Execute @command with arguments given as JSON text (NULL for none).
 * Returns the result (caller unrefs) or NULL; on NULL, *@cls and *@desc
 * (may be NULL; caller frees) get the error class and message. */
JsonNode *qx(QmpClient *c, const char *command, const char *args_json,
             char **cls, char **desc);
/* True when the command fails with @cls and a desc containing @needle
 * (NULL: any); prints a diag otherwise. */
bool qx_fails(QmpClient *c, const char *command, const char *args_json,
              const char *cls, const char *needle);
/* Execute and expect success; drops the result. */
bool qx_ok(QmpClient *c, const char *command, const char *args_json);

/* The element with "id" @id of the array @command (no arguments) returns
 * (new reference), or NULL. */
JsonObject *find_by_id(QmpClient *c, const char *command, const char *id);
/* The object of query-iothreads' element with "id" @id (new reference), or
 * NULL. */
JsonObject *find_iothread(QmpClient *c, const char *id);
/* Whether query-iothreads succeeded and does not list @id (false when the
 * query failed or @c is NULL, so a dead client never reads as "absent"). */
bool iothread_absent(QmpClient *c, const char *id);
/* query-iothread-stats id=@id, its "stats" object (new reference). */
JsonObject *get_stats(QmpClient *c, const char *id, bool reset);
/* qom-get as an integer (-1 on error). */
gint64 qom_get_int(QmpClient *c, const char *path, const char *property);

/* Wait up to @timeout_ms for the event @name, skipping others; returns it
 * (caller unrefs) or NULL. */
JsonNode *wait_event(QmpClient *c, const char *name, int timeout_ms);

#endif /* TESTS_IOTHREAD_DAEMON_UTIL_H */
