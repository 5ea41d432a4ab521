/* The daemon's default socket path (see socket-path.h). */
#include "socket-path.h"

#include <glib.h>
#include <unistd.h>

char *qmp_default_socket_path(void)
{
    const char *xdg = g_getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg) {
        return g_build_filename(xdg, "iothreadd", "qmp.sock", NULL);
    }
    g_autofree char *dir = g_strdup_printf("iothreadd-%u", (unsigned)getuid());
    return g_build_filename("/tmp", dir, "qmp.sock", NULL);
}
