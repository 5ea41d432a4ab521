/*
 * daemon/service.c's own protocol implementations (the ones iothreadd uses
 * when built without libsystemd): readiness notification to
 * $NOTIFY_SOCKET and the LISTEN_PID/LISTEN_FDS hand-over.  The daemon's
 * use of them (or of libsystemd's) is checked by test-service-manager.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "service.h"
#include "tap.h"

/* A datagram socket bound at @name ("/path" or "@abstract"). */
static int bind_notify_socket(const char *name)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memcpy(sa.sun_path, name, n);
    if (name[0] == '@') {
        sa.sun_path[0] = '\0';
    }
    if (bind(fd, (struct sockaddr *)&sa,
             offsetof(struct sockaddr_un, sun_path) + n) < 0) {
        diag("bind %s: %s", name, g_strerror(errno));
    }
    return fd;
}

/* The datagram waiting on @fd (empty string if none). */
static char *receive(int fd)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    return g_strndup(buf, n > 0 ? n : 0);
}

static void test_notify_without_socket_does_nothing(void)
{
    unsetenv("NOTIFY_SOCKET");
    is_int(service_protocol_notify("READY=1"), 0,
           "without NOTIFY_SOCKET: 0, nothing sent");
}

static void test_notify_sends_state_to_path(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-service-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "notify", NULL);
    int fd = bind_notify_socket(path);

    setenv("NOTIFY_SOCKET", path, 1);
    int ret = service_protocol_notify("READY=1\nSTATUS=serving");
    g_autofree char *got = receive(fd);
    g_autofree char *shown = g_strescape(got, NULL);
    ok(ret == 1 && strcmp(got, "READY=1\nSTATUS=serving") == 0,
       "the state arrives as one datagram at the NOTIFY_SOCKET path "
       "(ret %d, '%s')", ret, shown);
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void test_notify_sends_to_abstract_socket(void)
{
    g_autofree char *name = g_strdup_printf("@iothreadd-test-%d", getpid());
    int fd = bind_notify_socket(name);

    setenv("NOTIFY_SOCKET", name, 1);
    int ret = service_protocol_notify("READY=1");
    g_autofree char *got = receive(fd);
    ok(ret == 1 && strcmp(got, "READY=1") == 0,
       "'@name' is an abstract socket (ret %d, '%s')", ret, got);
    close(fd);
}

static void test_notify_relative_address_refused(void)
{
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    is_int(service_protocol_notify("READY=1"), -EINVAL,
           "a NOTIFY_SOCKET neither absolute nor '@' is refused (-EINVAL)");
    unsetenv("NOTIFY_SOCKET");
}

static void test_no_listen_env_means_no_fds(void)
{
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    is_int(service_protocol_listen_fds(), 0, "without LISTEN_PID: 0 fds");
}

static void set_listen_env(const char *pid, const char *fds)
{
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", fds, 1);
}

static void test_fds_for_this_process_taken(void)
{
    g_autofree char *pid = g_strdup_printf("%d", getpid());
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    int saved = dup(SERVICE_LISTEN_FDS_START);  /* -1 when not open */

    dup2(sock, SERVICE_LISTEN_FDS_START);       /* no FD_CLOEXEC */
    set_listen_env(pid, "1");
    int n = service_protocol_listen_fds();
    int flags = fcntl(SERVICE_LISTEN_FDS_START, F_GETFD);
    ok(n == 1 && (flags & FD_CLOEXEC) && !getenv("LISTEN_PID") &&
       !getenv("LISTEN_FDS"), "LISTEN_PID = our pid: LISTEN_FDS fds, "
       "made close-on-exec, variables removed (n %d)", n);
    close(SERVICE_LISTEN_FDS_START);
    if (saved >= 0) {
        dup2(saved, SERVICE_LISTEN_FDS_START);
        close(saved);
    }
    close(sock);
}

static void test_fds_for_other_process_ignored(void)
{
    set_listen_env("1", "1");
    int n = service_protocol_listen_fds();
    ok(n == 0 && !getenv("LISTEN_PID"),
       "LISTEN_PID of another process: 0 fds, variables removed (n %d)", n);
}

static void test_malformed_listen_env_refused(void)
{
    g_autofree char *pid = g_strdup_printf("%d", getpid());
    bool all = true;

    set_listen_env(pid, "two");
    all &= service_protocol_listen_fds() == -EINVAL;
    set_listen_env(pid, "0");
    all &= service_protocol_listen_fds() == -EINVAL;
    set_listen_env("12x", "1");
    all &= service_protocol_listen_fds() == -EINVAL;
    ok(all && !getenv("LISTEN_PID"), "a LISTEN_FDS or LISTEN_PID that is not "
       "a positive number is refused (-EINVAL)");
}

int main(void)
{
    test_notify_without_socket_does_nothing();
    test_notify_sends_state_to_path();
    test_notify_sends_to_abstract_socket();
    test_notify_relative_address_refused();
    test_no_listen_env_means_no_fds();
    test_fds_for_this_process_taken();
    test_fds_for_other_process_ignored();
    test_malformed_listen_env_refused();
    return done_testing();
}
