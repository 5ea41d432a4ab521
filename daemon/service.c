/*
 * Readiness notification and socket activation (see service.h).
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

int service_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
    return sd_notify(0, state);
#else
    return service_protocol_notify(state);
#endif
}

int service_listen_fds(void)
{
#ifdef HAVE_LIBSYSTEMD
    return sd_listen_fds(1);
#else
    return service_protocol_listen_fds();
#endif
}

/* $NOTIFY_SOCKET as an address: a path, or "@name" (abstract). */
static int notify_address(const char *name, struct sockaddr_un *sa,
                          socklen_t *len)
{
    size_t n = strlen(name);

    if ((name[0] != '/' && name[0] != '@') || n < 2 ||
        n >= sizeof(sa->sun_path)) {
        return -EINVAL;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@') {
        sa->sun_path[0] = '\0';
    }
    /* A path's address includes its NUL; an abstract name's does not. */
    *len = offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/');
    return 0;
}

int service_protocol_notify(const char *state)
{
    const char *name = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    socklen_t len;
    int ret;

    if (!name || !*name) {
        return 0;
    }
    ret = notify_address(name, &sa, &len);
    if (ret < 0) {
        return ret;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                          (struct sockaddr *)&sa, len);
    ret = sent < 0 ? -errno : (size_t)sent == strlen(state) ? 1 : -EMSGSIZE;
    close(fd);
    return ret;
}

/* A decimal environment variable in [1, @max]; -EINVAL otherwise. */
static int env_number(const char *name, long long max, long long *out)
{
    const char *text = getenv(name);
    guint64 value;

    if (!text || !g_ascii_string_to_unsigned(text, 10, 1, max, &value,
                                             NULL)) {
        return -EINVAL;
    }
    *out = value;
    return 0;
}

int service_protocol_listen_fds(void)
{
    long long pid, n;
    int ret;

    if (!getenv("LISTEN_PID")) {
        ret = 0;
    } else if (env_number("LISTEN_PID", G_MAXINT32, &pid) < 0 ||
               env_number("LISTEN_FDS", 1024, &n) < 0) {
        ret = -EINVAL;
    } else if (pid != getpid()) {
        ret = 0;                /* inherited: meant for our parent */
    } else {
        ret = n;
        for (int fd = SERVICE_LISTEN_FDS_START;
             fd < SERVICE_LISTEN_FDS_START + n; fd++) {
            if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                ret = -errno;
                break;
            }
        }
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return ret;
}
