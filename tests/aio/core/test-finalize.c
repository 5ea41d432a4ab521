/*
 * test-finalize: finalising a context whose BHs were never deleted reports
 * each one by name (g_critical) and does not abort.
 *
 * The leak happens in a forked child, whose stderr the parent captures;
 * the child leaves with _exit() so the sanitizer's leak check (which would
 * rightly flag the deliberately leaked BHs) does not run there.  The
 * parent also checks the clean case: deleted BHs produce no report.
 */
#include "aio-test.h"

#include <sys/wait.h>
#include <unistd.h>

static void leaky_callback(void *opaque)
{
    (void)opaque;
}

/* Runs @body in a child with stderr captured.  Returns the child's stderr
 * text (caller frees) and its wait status in @status. */
static char *run_child(void (*body)(void), int *status)
{
    int p[2];
    if (pipe(p) < 0) {
        printf("Bail out! pipe\n");
        exit(1);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("Bail out! fork\n");
        exit(1);
    }
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        body();
        _exit(0);
    }
    close(p[1]);
    GString *out = g_string_new(NULL);
    char buf[512];
    ssize_t r;
    while ((r = read(p[0], buf, sizeof(buf))) > 0) {
        g_string_append_len(out, buf, r);
    }
    close(p[0]);
    waitpid(pid, status, 0);
    return g_string_free(out, FALSE);
}

static void leak_two_bhs(void)
{
    AioContext *ctx = aio_context_new(NULL);
    if (!ctx) {
        _exit(3);
    }
    aio_bh_new_full(ctx, leaky_callback, NULL, "leaky-named-bh");
    AioBH *bh = aio_bh_new(ctx, leaky_callback, NULL);
    aio_bh_schedule(bh);    /* pending, never run, never deleted */
    aio_context_unref(ctx);
}

static void delete_all_bhs(void)
{
    AioContext *ctx = aio_context_new(NULL);
    if (!ctx) {
        _exit(3);
    }
    aio_bh_delete(aio_bh_new_full(ctx, leaky_callback, NULL, "deleted-bh"));
    AioBH *bh = aio_bh_new(ctx, leaky_callback, NULL);
    aio_bh_schedule(bh);
    aio_bh_delete(bh);
    aio_context_unref(ctx);
}

/* A context finalized with BHs never deleted does not abort and names
 * each of them (its name, or its callback's). */
static void test_leaked_bhs_named_at_finalize(void)
{
    int status = 0;
    char *err = run_child(leak_two_bhs, &status);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "leaked BHs: finalize does not abort (status 0x%x)", status);
    ok(strstr(err, "leaky-named-bh") != NULL,
       "leaked BHs: report names the aio_bh_new_full BH");
    ok(strstr(err, "leaky_callback") != NULL,
       "leaked BHs: report names the aio_bh_new BH (its callback name)");
    if (!strstr(err, "leaky-named-bh")) {
        diag("child stderr: %s", err);
    }
    g_free(err);
}

/* A context whose BHs were all deleted finalizes without a report. */
static void test_deleted_bhs_not_reported(void)
{
    int status = 0;
    char *err;

    err = run_child(delete_all_bhs, &status);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "deleted BHs: clean finalize");
    ok(strstr(err, "deleted-bh") == NULL && strstr(err, "leaky_callback") == NULL,
       "deleted BHs: nothing reported");
    g_free(err);
}

int main(void)
{
    /* Only for the backend check and the TAP line; the children make
     * their own contexts (AIO_FDMON is inherited). */
    AioContext *ctx = test_context_new();
    aio_context_unref(ctx);

    test_leaked_bhs_named_at_finalize();
    test_deleted_bhs_not_reported();
    return done_testing();
}
