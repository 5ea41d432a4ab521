/* Placeholder, replaced by the real per-client connection code shortly. */
#include "server.h"
