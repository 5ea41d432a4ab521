/*
 * The stall watchdog's state machine (see stall-watch.h).
 */
#include "stall-watch.h"

#include <string.h>

void stall_watch_init(StallWatch *w)
{
    memset(w, 0, sizeof(*w));
}

int64_t stall_watch_period_ns(int64_t threshold_ns)
{
    const int64_t min_ns = 1000000, max_ns = 1000000000;
    int64_t p = threshold_ns / 8;

    return p < min_ns ? min_ns : p > max_ns ? max_ns : p;
}

static void report_fill(StallWatch *w, int64_t now_ns, bool ongoing,
                        StallReport *out)
{
    out->kind = w->kind;
    out->name = w->name;
    out->duration_ns = now_ns - w->first_seen_ns;
    out->ongoing = ongoing;
    out->suppressed = w->suppressed;
    w->suppressed = 0;
}

/* The watched call is gone: a final report if its ongoing one was made. */
static bool watch_end(StallWatch *w, int64_t now_ns, StallReport *out)
{
    bool report = w->reported;

    if (report) {
        report_fill(w, now_ns, false, out);
    }
    w->watching = false;
    return report;
}

static void watch_start(StallWatch *w, const AioHeartbeat *hb, int64_t now_ns)
{
    w->watching = true;
    w->call_id = hb->call_id;
    w->kind = hb->kind;
    w->name = hb->name;
    w->first_seen_ns = now_ns;
    w->stalled = false;
    w->reported = false;
}

/* The watched call passed the threshold: count it, report it unless a
 * report was made less than an interval ago. */
static bool watch_stalled(StallWatch *w, int64_t now_ns, StallReport *out)
{
    w->stalled = true;
    w->stalls++;
    if (w->any_report && now_ns - w->last_report_ns < STALL_REPORT_INTERVAL_NS) {
        w->suppressed++;
        return false;
    }
    w->reported = true;
    w->any_report = true;
    w->last_report_ns = now_ns;
    report_fill(w, now_ns, true, out);
    return true;
}

bool stall_watch_sample(StallWatch *w, const AioHeartbeat *hb,
                        int64_t threshold_ns, int64_t now_ns,
                        StallReport *out)
{
    bool same = w->watching && hb->in_call && hb->call_id == w->call_id;

    if (w->watching && !same) {
        if (watch_end(w, now_ns, out)) {
            if (hb->in_call && threshold_ns > 0) {
                watch_start(w, hb, now_ns);
            }
            return true;
        }
    }
    if (threshold_ns <= 0) {
        w->watching = false;
        return false;
    }
    if (!w->watching && hb->in_call) {
        watch_start(w, hb, now_ns);
    }
    if (w->watching && !w->stalled &&
        now_ns - w->first_seen_ns >= threshold_ns) {
        return watch_stalled(w, now_ns, out);
    }
    return false;
}
