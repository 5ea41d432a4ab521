/*
 * [CallbackStats] of a context (see callstats-json.h).
 */
#include "callstats-json.h"

static JsonObject *callback_to_json(const AioCallStats *c)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "kind", aio_call_kind_name(c->kind));
    json_object_set_string_member(o, "name", c->name);
    json_object_set_int_member(o, "calls", (gint64)c->calls);
    json_object_set_int_member(o, "total-ns", (gint64)c->total_ns);
    json_object_set_int_member(o, "max-ns", (gint64)c->max_ns);
    json_object_set_int_member(o, "timed-calls", (gint64)c->timed_calls);
    return o;
}

JsonArray *callstats_to_json(AioContext *ctx)
{
    AioCallStats *all;
    guint n = aio_context_get_call_stats(ctx, &all);
    JsonArray *arr = json_array_new();

    for (guint i = 0; i < n && i < CALLBACKS_REPLY_MAX; i++) {
        json_array_add_object_element(arr, callback_to_json(&all[i]));
    }
    g_free(all);
    return arr;
}
