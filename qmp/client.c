/* Placeholder, replaced by the real client shortly. */
#include "client.h"
G_DEFINE_QUARK(qmp-client-error-quark, qmp_client_error)
