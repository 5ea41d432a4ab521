/* Placeholder, replaced by the real server shortly. */
#include "server.h"
G_DEFINE_QUARK(qmp-error-quark, qmp_error)
