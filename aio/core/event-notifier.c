/*
 * EventNotifier: a counter the kernel can wait on, here an eventfd.  Used for
 * the context's own wake-ups (aio_notify) and by disk engines for
 * completions.
 */
#include "aioctx/aio.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int event_notifier_init(EventNotifier *e, bool active)
{
    int fd = eventfd(active ? 1 : 0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        e->rfd = e->wfd = -1;
        return -errno;
    }
    e->rfd = e->wfd = fd;
    return 0;
}

void event_notifier_cleanup(EventNotifier *e)
{
    if (e->rfd >= 0) {
        close(e->rfd);
    }
    e->rfd = e->wfd = -1;
}

int event_notifier_set(EventNotifier *e)
{
    static const uint64_t one = 1;
    ssize_t n;

    do {
        n = write(e->wfd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the counter is saturated, so it is already signalled. */
    if (n < 0 && errno != EAGAIN) {
        return -errno;
    }
    return 0;
}

bool event_notifier_test_and_clear(EventNotifier *e)
{
    uint64_t value;
    ssize_t n;

    do {
        n = read(e->rfd, &value, sizeof(value));
    } while (n < 0 && errno == EINTR);
    return n == sizeof(value) && value > 0;
}

int event_notifier_get_fd(const EventNotifier *e)
{
    return e->rfd;
}
