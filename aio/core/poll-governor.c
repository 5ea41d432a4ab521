/*
 * The poll governor (poll-mode auto): whether a context's busy-polling
 * pays, decided from what polling does to the loop's own waits.
 *
 * An A/B measurement.  Each blocking iteration of a loop with a poll set
 * is one sample: its wait, from the moment the loop may wait to the
 * moment it has work (found by polling or woken), filed by whether the
 * governor let it poll or made it skip its window.  Polling pays when the
 * CPU it burns is no more than the waiting it takes off:
 *  - cost: the time of every window, except a window whose first pass
 *    found work (a blocking loop looks once at the fds anyway; that pass
 *    replaced the look, not a wait);
 *  - saving: over an epoch of GOVERNOR_EPOCH windows, the sum over its
 *    iterations of (blocked - wait), where blocked is the average wait of
 *    the iterations that skipped (1/16 weight per sample).  Measured, not
 *    assumed: where the polling CPU slows the device itself (a linux-aio
 *    disk on a 2-vCPU VM), waits with polling are longer than without,
 *    the saving is negative, and polling never pays although its windows
 *    do find the completions.  Waits are clamped at GOVERNOR_CLAMP_WINDOWS
 *    x poll-max-ns: a window cannot take much more than itself plus a
 *    wake-up off a wait, and an idle loop's long waits would drown it;
 *  - until a skipped iteration was measured, the saving is
 *    GOVERNOR_WAKE_DEFAULT_NS per window that found work.
 * At the end of each epoch it judges: if polling pays it goes on,
 * otherwise (and always when no window found work) it skips the windows
 * of a number of blocking iterations, GOVERNOR_SKIP_MIN doubling up to
 * GOVERNOR_SKIP_MAX while probes keep failing, then polls one epoch again
 * (the probe); a probe that pays resets the backoff.  While polling keeps
 * paying, it skips one epoch's worth of iterations now and then to
 * measure the blocked wait again (the device or the load may have
 * changed): after GOVERNOR_REFRESH_MIN epochs, then after twice as many
 * each time polling still pays, up to GOVERNOR_REFRESH_MAX (1 iteration
 * in 4097 does not poll); an epoch that does not pay starts it over.
 * Handlers' windows keep learning (grow/shrink) while skipped: a probe
 * polls with what the loop learnt meanwhile.  Deterministic where the
 * tests need it: an epoch without a find never pays, an epoch whose finds
 * all came on the first pass always does.
 *
 * Thread rules: everything here runs in the home thread, inside
 * aio_poll(); the state is AioContext.poll_governor (aio-internal.h).
 */
#include "core/aio-internal.h"

#define GOVERNOR_EPOCH 16
#define GOVERNOR_SKIP_MIN 16
#define GOVERNOR_SKIP_MAX 4096
#define GOVERNOR_REFRESH_MIN 64
#define GOVERNOR_REFRESH_MAX 4096
#define GOVERNOR_WAKE_DEFAULT_NS 4000
#define GOVERNOR_CLAMP_WINDOWS 4

static bool poll_mode_auto(AioContext *ctx)
{
    return ctx->params.poll_mode == AIO_POLL_MODE_AUTO;
}

void aio_poll_governor_reset(AioContext *ctx)
{
    AioPollGovernor *g = &ctx->poll_governor;
    AioPollGovernor fresh = {
        .blocked_wait_ns = g->blocked_wait_ns,
        .blocked_samples = g->blocked_samples,
    };

    *g = fresh;
}

bool aio_poll_governor_skips(AioContext *ctx)
{
    AioPollGovernor *g = &ctx->poll_governor;

    if (!poll_mode_auto(ctx)) {
        g->sample = AIO_GOVERNOR_SAMPLE_NONE;
        return false;
    }
    if (g->skip_left > 0) {
        g->skip_left--;
        g->sample = AIO_GOVERNOR_SAMPLE_SKIPPED;
        return true;
    }
    g->sample = AIO_GOVERNOR_SAMPLE_POLLED;
    return false;
}

void aio_poll_governor_account_window(AioContext *ctx, bool found,
                                      int64_t cost_ns)
{
    AioPollGovernor *g = &ctx->poll_governor;

    if (g->sample != AIO_GOVERNOR_SAMPLE_POLLED) {
        return;
    }
    g->windows++;
    g->hits += found;
    g->cost_ns += cost_ns;
}

/* What this epoch's polling took off its waits, ns (may be negative). */
static int64_t epoch_saving_ns(const AioPollGovernor *g)
{
    if (!g->blocked_samples) {
        return (int64_t)g->hits * GOVERNOR_WAKE_DEFAULT_NS;
    }
    return (int64_t)g->polled_samples * g->blocked_wait_ns -
           g->polled_wait_ns;
}

/* Skip the windows of the next @n blocking iterations. */
static void skip_iterations(AioPollGovernor *g, unsigned n)
{
    g->skip_left = n;
    g->paid_epochs = 0;
}

/* End of an epoch: keep polling, or skip for the next backoff. */
static void judge_epoch(AioPollGovernor *g)
{
    bool pays = g->hits > 0 &&
                (g->cost_ns == 0 || g->cost_ns <= epoch_saving_ns(g));

    g->windows = g->hits = 0;
    g->cost_ns = 0;
    g->polled_samples = 0;
    g->polled_wait_ns = 0;

    if (!pays) {
        unsigned n = g->backoff ? g->backoff : GOVERNOR_SKIP_MIN;

        skip_iterations(g, n);
        g->backoff = MIN(n * 2, GOVERNOR_SKIP_MAX);
        g->refresh_epochs = GOVERNOR_REFRESH_MIN;
        return;
    }
    g->backoff = 0;
    if (!g->refresh_epochs) {
        g->refresh_epochs = GOVERNOR_REFRESH_MIN;
    }
    if (++g->paid_epochs >= g->refresh_epochs) {
        skip_iterations(g, GOVERNOR_EPOCH);     /* re-measure */
        g->refresh_epochs = MIN(g->refresh_epochs * 2, GOVERNOR_REFRESH_MAX);
    }
}

void aio_poll_governor_note_wait(AioContext *ctx, int64_t wait_ns)
{
    AioPollGovernor *g = &ctx->poll_governor;
    int64_t max_ns = ctx->params.poll_max_ns;
    int64_t clamp = max_ns > INT64_MAX / GOVERNOR_CLAMP_WINDOWS
                    ? INT64_MAX : GOVERNOR_CLAMP_WINDOWS * max_ns;
    AioGovernorSample sample = g->sample;

    g->sample = AIO_GOVERNOR_SAMPLE_NONE;
    wait_ns = MAX(MIN(wait_ns, clamp), 0);
    if (sample == AIO_GOVERNOR_SAMPLE_SKIPPED) {
        g->blocked_wait_ns = g->blocked_samples++
            ? g->blocked_wait_ns + (wait_ns - g->blocked_wait_ns) / 16
            : wait_ns;
    } else if (sample == AIO_GOVERNOR_SAMPLE_POLLED) {
        g->polled_samples++;
        g->polled_wait_ns += wait_ns;
        if (g->windows >= GOVERNOR_EPOCH) {
            judge_epoch(g);
        }
    }
}
