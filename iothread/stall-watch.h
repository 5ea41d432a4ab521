/*
 * Stall detection for one iothread: what the watchdog concludes from
 * successive samples of the loop's heartbeat (aio_context_get_heartbeat).
 * Pure state machine: the caller reads the heartbeat and the clock, so the
 * rules can be tested with made-up samples.
 *
 * Rules:
 *  - The watchdog times what it sees: a call is watched from the first
 *    sample that shows it (its call id) until a sample shows another call
 *    or none.  A call seen running for stall-threshold-ns is a stall: it
 *    is counted, and reported at once with ongoing=true unless rate
 *    limiting holds it back; when a reported call returns, a second report
 *    (ongoing=false) gives its duration.  Durations are known within one
 *    sampling period (stall_watch_period_ns), and calls shorter than the
 *    threshold are never reported.
 *  - A call that runs nested callbacks (an aio_poll inside it) is watched
 *    again from the sample after its last nested call returned.
 *  - Rate limit: at most one stall is reported per STALL_REPORT_INTERVAL_NS;
 *    the others are counted in `suppressed`, which the next report
 *    (ongoing or final) carries and clears.
 *
 * Thread rules: a StallWatch belongs to one thread (the daemon's main loop,
 * which owns the IOThread); no locking.
 */
#ifndef IOTHREAD_STALL_WATCH_H
#define IOTHREAD_STALL_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "aioctx/aio.h"

#define STALL_REPORT_INTERVAL_NS 1000000000LL

typedef struct StallReport {
    AioCallKind kind;
    const char *name;           /* the context's name string (static) */
    int64_t duration_ns;        /* so far (ongoing) or in total */
    bool ongoing;
    int64_t suppressed;         /* stalls not reported since the last one */
} StallReport;

typedef struct StallWatch {
    bool watching;              /* a call is being timed */
    uint64_t call_id;
    AioCallKind kind;
    const char *name;
    int64_t first_seen_ns;
    bool stalled;               /* passed the threshold: counted */
    bool reported;              /* its ongoing report was made */
    bool any_report;
    int64_t last_report_ns;
    int64_t suppressed;
    uint64_t stalls;            /* every stall, reported or not */
} StallWatch;

void stall_watch_init(StallWatch *w);

/* One sample, taken at @now_ns.  Returns true and fills *@out when a
 * report is due (at most one per sample).  @threshold_ns 0: nothing is a
 * stall (a call being watched is dropped). */
bool stall_watch_sample(StallWatch *w, const AioHeartbeat *hb,
                        int64_t threshold_ns, int64_t now_ns,
                        StallReport *out);

/* How often to sample for @threshold_ns (> 0): an eighth of it, between
 * 1 ms and 1 s. */
int64_t stall_watch_period_ns(int64_t threshold_ns);

#endif /* IOTHREAD_STALL_WATCH_H */
