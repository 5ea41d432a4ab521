/*
 * The metrics endpoint: `--metrics tcp:HOST:PORT` serves GET /metrics in
 * the Prometheus text exposition format 0.0.4, built from the daemon's own
 * query-iothread-stats reply and the contexts' histograms.
 *
 * What is exported is learnt, not listed: every member of the stats
 * reply's type (AioContextStats) in schema order, one sample per iothread
 * (label iothread="ID", the main loop as "main-loop").  An int member is a
 * counter (NAME_total) unless the schema marks it with the feature
 * "gauge"; a str member is an info gauge (NAME_info{MEMBER="value"} 1);
 * HELP is the member's schema doc.  Names: "iothreadd_" + the member name
 * with '-' as '_'; a name with the word "ns" is exported in seconds (the
 * base unit Prometheus asks for): "ns" becomes "seconds" and the value is
 * divided by 10^9, written as an exact decimal.
 *
 * Thread rules: metrics_start() and metrics_stop() run in the main loop's
 * thread (the QmpServer's and the registry's home thread).  HTTP is served
 * by libsoup in a thread of its own ("metrics"), on a GMainContext owned
 * by that thread; a scrape is paused there, built in the main thread by a
 * oneshot BH (so the stats are read where the registry lives) and handed
 * back through a list under a pthread mutex plus a write to an eventfd the
 * metrics thread watches; that thread completes the response.  Neither
 * thread calls GLib on the other's objects.  The text functions are pure
 * and run in any thread.
 */
#ifndef DAEMON_METRICS_H
#define DAEMON_METRICS_H

#include <glib.h>
#include <stdbool.h>

#include "aioctx/histogram.h"
#include "registry.h"
#include "server.h"

G_BEGIN_DECLS

/* Check a --metrics address: "tcp:HOST:PORT" with HOST an IP address (or
 * "localhost") and PORT 0..65535 (0: the kernel picks one).  HOST must be
 * a loopback address unless @allow_remote.  false + @error naming the
 * problem. */
bool metrics_address_check(const char *address, bool allow_remote,
                           GError **error);

typedef struct DaemonMetrics DaemonMetrics;

/* Listen on @address (already checked) and start the metrics thread.
 * @qmp, @schema and @reg must outlive the returned object.  NULL + @error
 * if the address cannot be bound. */
DaemonMetrics *metrics_start(const char *address, QmpServer *qmp,
                             const QmpSchema *schema, ObjectRegistry *reg,
                             GError **error);
/* The TCP port listened on (the picked one for port 0). */
int metrics_port(const DaemonMetrics *m);
/* Finish scrapes in progress, stop the thread, close the socket. */
void metrics_stop(DaemonMetrics *m);

/* The whole /metrics page (main thread: it runs query-iothread-stats).
 * Caller frees. */
char *metrics_render(QmpServer *qmp, const QmpSchema *schema,
                     ObjectRegistry *reg);

/* "# HELP NAME HELP" and "# TYPE NAME TYPE" of a metric family: @name
 * before the unit rule (see above); @help may be NULL. */
void metrics_write_family(GString *out, const char *name, const char *type,
                          const char *help);

/* The samples of histogram @h with labels @labels ('iothread="io0"', or
 * "" for none): cumulative NAME_bucket{le} at every power of two 2^k
 * (le = 2^k - 1, k = 0..40, where aio_histogram_count_at_most() is exact
 * for integer values), le="+Inf", NAME_sum and NAME_count.  @name before
 * the unit rule: a name with the word "ns" writes seconds. */
void metrics_write_histogram(GString *out, const char *name,
                             const char *labels, const AioHistogram *h);

G_END_DECLS

#endif /* DAEMON_METRICS_H */
