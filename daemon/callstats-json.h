/*
 * query-iothread-stats detail: a context's call statistics as the schema's
 * [CallbackStats], the CALLBACKS_REPLY_MAX names with the largest total-ns.
 *
 * Thread rules: any thread (aio_context_get_call_stats is thread-safe).
 */
#ifndef DAEMON_CALLSTATS_JSON_H
#define DAEMON_CALLSTATS_JSON_H

#include "aioctx/aio.h"

#include <json-glib/json-glib.h>

/* The cap the schema's IOThreadStatsInfo.callbacks doc states. */
#define CALLBACKS_REPLY_MAX 32

JsonArray *callstats_to_json(AioContext *ctx);

#endif /* DAEMON_CALLSTATS_JSON_H */
