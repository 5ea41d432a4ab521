/*
 * The metrics endpoint (see metrics.h): the exposition text, then the
 * HTTP side (libsoup 3 in the metrics thread).
 */
#include "metrics.h"
#include "commands-stats.h"
#include "histogram-json.h"

#include <glib-unix.h>
#include <inttypes.h>
#include <libsoup/soup.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The bucket bounds 2^k - 1 for k = 0..METRICS_TOP_BIT: 1 ns up to about
 * 18 minutes (or sizes up to 2^40). */
#define METRICS_TOP_BIT 40

/* ---------------------------------------------------------------------- */
/* Names and values                                                        */

/* "wake-latency-ns" -> "iothreadd_wake_latency_seconds": '-' becomes '_'
 * and a word "ns" becomes "seconds"; *@seconds tells whether it did (the
 * values are ns, to be written as seconds). */
static char *metric_name(const char *name, bool *seconds)
{
    g_auto(GStrv) words = g_strsplit_set(name, "-_", -1);
    GString *s = g_string_new("iothreadd");

    *seconds = false;
    for (char **w = words; *w; w++) {
        bool ns = strcmp(*w, "ns") == 0;
        *seconds |= ns;
        g_string_append_printf(s, "_%s", ns ? "seconds" : *w);
    }
    return g_string_free(s, FALSE);
}

/* @v ns as an exact decimal number of seconds ("0.000001023"). */
static void append_seconds(GString *out, uint64_t v)
{
    char frac[16];
    int n = snprintf(frac, sizeof(frac), "%09" PRIu64, v % 1000000000u);

    while (n > 0 && frac[n - 1] == '0') {
        frac[--n] = '\0';
    }
    g_string_append_printf(out, "%" PRIu64 "%s%s", v / 1000000000u,
                           n ? "." : "", frac);
}

static void append_value(GString *out, uint64_t v, bool seconds)
{
    if (seconds) {
        append_seconds(out, v);
    } else {
        g_string_append_printf(out, "%" PRIu64, v);
    }
}

/* HELP text and label values: backslash, newline (and '"' in labels)
 * escaped as the format asks. */
static void append_escaped(GString *out, const char *text, bool label)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\\') {
            g_string_append(out, "\\\\");
        } else if (*p == '\n') {
            g_string_append(out, "\\n");
        } else if (*p == '"' && label) {
            g_string_append(out, "\\\"");
        } else {
            g_string_append_c(out, *p);
        }
    }
}

void metrics_write_family(GString *out, const char *name, const char *type,
                          const char *help)
{
    bool seconds;
    g_autofree char *full = metric_name(name, &seconds);

    g_string_append_printf(out, "# HELP %s ", full);
    append_escaped(out, help ? help : name, false);
    if (seconds) {
        g_string_append(out, " Exported in seconds.");
    }
    g_string_append_printf(out, "\n# TYPE %s %s\n", full, type);
}

/* NAME{LABELS[,EXTRA]} VALUE */
static void append_sample(GString *out, const char *name, const char *labels,
                          const char *extra, uint64_t v, bool seconds)
{
    bool comma = *labels && extra && *extra;

    g_string_append_printf(out, "%s{%s%s%s} ", name, labels, comma ? "," : "",
                           extra ? extra : "");
    append_value(out, v, seconds);
    g_string_append_c(out, '\n');
}

void metrics_write_histogram(GString *out, const char *name,
                             const char *labels, const AioHistogram *h)
{
    bool seconds;
    g_autofree char *full = metric_name(name, &seconds);
    g_autofree char *bucket = g_strconcat(full, "_bucket", NULL);
    g_autofree char *sum = g_strconcat(full, "_sum", NULL);
    g_autofree char *count = g_strconcat(full, "_count", NULL);
    GString *le = g_string_new(NULL);

    for (int k = 0; k <= METRICS_TOP_BIT; k++) {
        uint64_t bound = (UINT64_C(1) << k) - 1;
        g_string_assign(le, "le=\"");
        append_value(le, bound, seconds);
        g_string_append_c(le, '"');
        append_sample(out, bucket, labels, le->str,
                      aio_histogram_count_at_most(h, bound), false);
    }
    append_sample(out, bucket, labels, "le=\"+Inf\"", h->count, false);
    append_sample(out, sum, labels, NULL, h->sum, seconds);
    append_sample(out, count, labels, NULL, h->count, false);
    g_string_free(le, TRUE);
}

/* ---------------------------------------------------------------------- */
/* The page                                                                */

/* One context of the stats reply: its label set and its AioContext. */
typedef struct {
    char *labels;           /* iothread="ID" */
    JsonObject *stats;      /* the reply's "stats" member (borrowed) */
    AioContext *ctx;
} MetricsContext;

static void metrics_context_clear(gpointer p)
{
    g_free(((MetricsContext *)p)->labels);
}

static AioContext *context_of(ObjectRegistry *reg, const char *id)
{
    if (strcmp(id, REGISTRY_MAIN_LOOP_ID) == 0) {
        return object_registry_main_context(reg);
    }
    IOThread *t = object_registry_find_iothread(reg, id);
    return t ? iothread_get_aio_context(t) : NULL;
}

/* The contexts of query-iothread-stats' reply @reply, in reply order. */
static GArray *reply_contexts(JsonNode *reply, ObjectRegistry *reg)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(MetricsContext));
    JsonArray *arr = json_node_get_array(reply);

    g_array_set_clear_func(out, metrics_context_clear);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *id = json_object_get_string_member(o, "id");
        GString *labels = g_string_new("iothread=\"");
        append_escaped(labels, id, true);
        g_string_append_c(labels, '"');
        MetricsContext c = { g_string_free(labels, FALSE),
                             json_object_get_object_member(o, "stats"),
                             context_of(reg, id) };
        g_array_append_val(out, c);
    }
    return out;
}

/* An int member: a counter (NAME_total) or, marked "gauge", a gauge. */
static void write_int_member(GString *out, const QmpSchemaMemberInfo *m,
                             GArray *contexts)
{
    bool gauge = stats_member_is_gauge(m), seconds;
    g_autofree char *family = g_strconcat(m->name, gauge ? "" : "-total",
                                          NULL);
    g_autofree char *full = metric_name(family, &seconds);

    metrics_write_family(out, family, gauge ? "gauge" : "counter", m->doc);
    for (guint i = 0; i < contexts->len; i++) {
        MetricsContext *c = &g_array_index(contexts, MetricsContext, i);
        if (json_object_has_member(c->stats, m->name)) {
            gint64 v = json_object_get_int_member(c->stats, m->name);
            append_sample(out, full, c->labels, NULL, v < 0 ? 0 : (uint64_t)v,
                          seconds);
        }
    }
}

/* A str member: NAME_info{iothread, MEMBER="value"} 1. */
static void write_str_member(GString *out, const QmpSchemaMemberInfo *m,
                             GArray *contexts)
{
    bool seconds;
    g_autofree char *family = g_strconcat(m->name, "-info", NULL);
    g_autofree char *full = metric_name(family, &seconds);
    g_autofree char *label = g_strdelimit(g_strdup(m->name), "-", '_');

    metrics_write_family(out, family, "gauge", m->doc);
    for (guint i = 0; i < contexts->len; i++) {
        MetricsContext *c = &g_array_index(contexts, MetricsContext, i);
        if (json_object_has_member(c->stats, m->name)) {
            GString *extra = g_string_new(NULL);
            g_string_append_printf(extra, "%s=\"", label);
            append_escaped(extra, json_object_get_string_member(c->stats,
                                                                m->name),
                           true);
            g_string_append_c(extra, '"');
            append_sample(out, full, c->labels, extra->str, 1, false);
            g_string_free(extra, TRUE);
        }
    }
}

/*
 * THE SINGLE CALL SITE of the contexts' histograms.  A stats member of
 * type HistogramSummary (a distribution: "wake-latency-ns", "iteration-ns",
 * "io-batch") is exported as a Prometheus histogram of the same name from
 * the context's AioHistogram, taken here (histogram-json.h maps the
 * member to its field).
 */
static bool context_histogram(AioContext *ctx, const char *member,
                              AioHistogram *out)
{
    AioContextHistograms *all;
    const AioHistogram *h;

    if (!ctx || !g_strv_contains(context_histogram_names, member)) {
        return false;
    }
    all = g_new(AioContextHistograms, 1);
    aio_context_get_histograms(ctx, all);
    h = context_histogram_by_name(all, member);
    memcpy(out, h, sizeof(*out));
    g_free(all);
    return true;
}

/* A distribution member: a histogram family, for the contexts whose
 * histogram is known (none: no family at all). */
static void write_histogram_member(GString *out, const QmpSchemaMemberInfo *m,
                                   GArray *contexts)
{
    AioHistogram *h = g_new(AioHistogram, 1);
    bool header = false;

    for (guint i = 0; i < contexts->len; i++) {
        MetricsContext *c = &g_array_index(contexts, MetricsContext, i);
        if (!context_histogram(c->ctx, m->name, h)) {
            continue;
        }
        if (!header) {
            metrics_write_family(out, m->name, "histogram", m->doc);
            header = true;
        }
        metrics_write_histogram(out, m->name, c->labels, h);
    }
    g_free(h);
}

/* Every member of the stats type (STATS_SCHEMA_TYPE, what /metrics
 * exports), in schema order, by its type. */
static void write_members(GString *out, const QmpSchema *schema,
                          GArray *contexts)
{
    QmpSchemaMemberInfo m;

    for (guint i = 0; qmp_schema_type_member(schema, STATS_SCHEMA_TYPE, i,
                                             &m); i++) {
        if (strcmp(m.type, "int") == 0) {
            write_int_member(out, &m, contexts);
        } else if (strcmp(m.type, "str") == 0) {
            write_str_member(out, &m, contexts);
        } else if (strcmp(m.type, "HistogramSummary") == 0) {
            write_histogram_member(out, &m, contexts);
        }
        /* Other types (lists of named callbacks) are no time series. */
    }
}

char *metrics_render(QmpServer *qmp, const QmpSchema *schema,
                     ObjectRegistry *reg)
{
    GError *error = NULL;
    JsonObject *args = json_object_new();
    JsonNode *reply = qmp_server_execute(qmp, "query-iothread-stats", args,
                                         &error);
    GString *out = g_string_new(NULL);

    json_object_unref(args);
    if (!reply || !JSON_NODE_HOLDS_ARRAY(reply)) {
        /* Not expected: the command takes no required argument. */
        g_string_append_printf(out, "# query-iothread-stats failed: %s\n",
                               error ? error->message : "no array");
        g_clear_error(&error);
    } else {
        GArray *contexts = reply_contexts(reply, reg);
        write_members(out, schema, contexts);
        g_array_free(contexts, TRUE);
    }
    if (reply) {
        json_node_unref(reply);
    }
    return g_string_free(out, FALSE);
}

/* ---------------------------------------------------------------------- */
/* The address                                                             */

/* Split "tcp:HOST:PORT" (HOST may be "[v6]"); false on any other shape. */
static bool split_address(const char *address, char **host, int *port)
{
    const char *colon = strrchr(address, ':');
    char *end;

    if (!g_str_has_prefix(address, "tcp:") || colon < address + 4 ||
        !g_ascii_isdigit(colon[1])) {
        return false;
    }
    guint64 p = g_ascii_strtoull(colon + 1, &end, 10);
    if (*end || p > 65535) {
        return false;
    }
    const char *h = address + 4;
    size_t len = (size_t)(colon - h);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    *host = g_strndup(h, len);
    *port = (int)p;
    return true;
}

/* The address to bind: an IP address or "localhost" (127.0.0.1). */
static GInetAddress *host_address(const char *host)
{
    return g_inet_address_new_from_string(
        strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
}

bool metrics_address_check(const char *address, bool allow_remote,
                           GError **error)
{
    g_autofree char *host = NULL;
    int port;

    if (!split_address(address, &host, &port)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--metrics '%s': expected tcp:127.0.0.1:PORT (PORT "
                    "0..65535)", address);
        return false;
    }
    GInetAddress *ip = host_address(host);
    bool ok = ip && (allow_remote || g_inet_address_get_is_loopback(ip));
    if (!ip) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--metrics '%s': '%s' is not an IP address", address,
                    host);
    } else if (!ok) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--metrics '%s': only loopback is allowed unless "
                    "--metrics-remote is given", address);
    }
    g_clear_object(&ip);
    return ok;
}

/* ---------------------------------------------------------------------- */
/* HTTP                                                                    */

struct DaemonMetrics {
    /* Set by metrics_start(), read-only afterwards. */
    QmpServer *qmp;
    const QmpSchema *schema;
    ObjectRegistry *reg;
    AioContext *main_ctx;
    GMainContext *gctx;     /* the metrics thread's */
    SoupServer *soup;       /* used in the metrics thread only */
    GThread *thread;
    int port;
    /* The main thread hands built pages back through @built (a list under
     * @lock) and a write to @wake_fd, an eventfd the metrics thread's
     * @wake_source reads.  Neither thread calls GLib on the other's
     * objects: GLib's own locks are futexes ThreadSanitizer cannot see,
     * a pthread mutex and an fd it can. */
    pthread_mutex_t lock;
    struct Scrape *built;
    int wake_fd;
    GSource *wake_source;
    /* Atomics: scrapes between their pause and their completion; set when
     * metrics_stop() began (no new scrape goes to the main thread); set
     * when the metrics thread is to leave its loop. */
    int in_flight;
    int stopping;
    int quit;
};

/* One paused request on its way through the main thread. */
typedef struct Scrape {
    DaemonMetrics *m;
    SoupServerMessage *msg;     /* a reference; metrics thread only */
    char *body;                 /* built in the main thread */
    struct Scrape *next;        /* in m->built */
} Scrape;

static void wake_metrics_thread(DaemonMetrics *m)
{
    uint64_t one = 1;

    if (write(m->wake_fd, &one, sizeof(one)) != sizeof(one)) {
        /* Only if the counter is saturated: it is woken already. */
    }
}

/* Metrics thread: the response, then the request resumes. */
static void scrape_finish(Scrape *sc)
{
    size_t len = strlen(sc->body);

    soup_server_message_set_status(sc->msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(
        sc->msg, "text/plain; version=0.0.4; charset=utf-8",
        SOUP_MEMORY_TAKE, sc->body, len);
    soup_server_message_unpause(sc->msg);
    g_object_unref(sc->msg);
    g_atomic_int_dec_and_test(&sc->m->in_flight);
    g_free(sc);
}

/* Metrics thread, on @wake_fd: respond to every page built since. */
static gboolean on_wake(gint fd, GIOCondition cond, gpointer opaque)
{
    DaemonMetrics *m = opaque;
    uint64_t n;

    (void)cond;
    if (read(fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: a wake-up already consumed; the list says what is left. */
    }
    pthread_mutex_lock(&m->lock);
    Scrape *list = m->built;
    m->built = NULL;
    pthread_mutex_unlock(&m->lock);
    while (list) {
        Scrape *next = list->next;
        scrape_finish(list);
        list = next;
    }
    return G_SOURCE_CONTINUE;
}

/* Main thread: build the page, hand it back to the metrics thread. */
static void scrape_bh(void *opaque)
{
    Scrape *sc = opaque;
    DaemonMetrics *m = sc->m;

    sc->body = metrics_render(m->qmp, m->schema, m->reg);
    pthread_mutex_lock(&m->lock);
    sc->next = m->built;
    m->built = sc;
    pthread_mutex_unlock(&m->lock);
    wake_metrics_thread(m);
}

static void refuse(SoupServerMessage *msg, guint status, const char *text)
{
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, "text/plain; charset=utf-8",
                                     SOUP_MEMORY_COPY, text, strlen(text));
}

/* Metrics thread: GET (or HEAD) /metrics is paused until the main thread
 * built it; any other path is 404, any other method 405. */
static void handle_request(SoupServer *server, SoupServerMessage *msg,
                           const char *path, GHashTable *query, gpointer data)
{
    DaemonMetrics *m = data;
    const char *method = soup_server_message_get_method(msg);

    (void)server;
    (void)query;
    if (strcmp(path, "/metrics") != 0) {
        refuse(msg, SOUP_STATUS_NOT_FOUND, "not found: try /metrics\n");
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        soup_message_headers_append(
            soup_server_message_get_response_headers(msg), "Allow",
            "GET, HEAD");
        refuse(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "only GET /metrics\n");
        return;
    }
    /* Counted before stopping is read: metrics_stop() sets stopping, then
     * waits for in_flight to drain, so either it waits for this scrape or
     * this scrape sees stopping (both are sequentially consistent). */
    g_atomic_int_inc(&m->in_flight);
    if (g_atomic_int_get(&m->stopping)) {
        g_atomic_int_dec_and_test(&m->in_flight);
        refuse(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "stopping\n");
        return;
    }
    Scrape *sc = g_new0(Scrape, 1);
    sc->m = m;
    sc->msg = g_object_ref(msg);
    soup_server_message_pause(msg);
    aio_bh_schedule_oneshot(m->main_ctx, scrape_bh, sc);
}

static gpointer metrics_thread(gpointer opaque)
{
    DaemonMetrics *m = opaque;

    g_main_context_push_thread_default(m->gctx);
    while (!g_atomic_int_get(&m->quit)) {
        g_main_context_iteration(m->gctx, TRUE);
    }
    g_main_context_pop_thread_default(m->gctx);
    return NULL;
}

/* The SoupServer on @m->gctx (its listening sources attach to the thread
 * default context at listen time), listening on @address. */
static bool listen_soup(DaemonMetrics *m, const char *address, GError **error)
{
    g_autofree char *host = NULL;
    int port = 0;

    if (!split_address(address, &host, &port)) {
        return metrics_address_check(address, true, error);
    }
    GInetAddress *ip = host_address(host);
    GSocketAddress *sa = g_inet_socket_address_new(ip, (guint16)port);
    m->soup = soup_server_new("server-header", "iothreadd-metrics", NULL);
    soup_server_add_handler(m->soup, NULL, handle_request, m, NULL);
    bool ok = soup_server_listen(m->soup, sa, 0, error);
    g_object_unref(sa);
    g_object_unref(ip);
    if (ok) {
        GSList *uris = soup_server_get_uris(m->soup);
        m->port = uris ? g_uri_get_port(uris->data) : port;
        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    }
    return ok;
}

DaemonMetrics *metrics_start(const char *address, QmpServer *qmp,
                             const QmpSchema *schema, ObjectRegistry *reg,
                             GError **error)
{
    DaemonMetrics *m = g_new0(DaemonMetrics, 1);

    m->qmp = qmp;
    m->schema = schema;
    m->reg = reg;
    m->main_ctx = object_registry_main_context(reg);
    m->gctx = g_main_context_new();
    pthread_mutex_init(&m->lock, NULL);
    m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    m->wake_source = g_unix_fd_source_new(m->wake_fd, G_IO_IN);
    g_source_set_callback(m->wake_source, G_SOURCE_FUNC(on_wake), m, NULL);
    g_source_attach(m->wake_source, m->gctx);
    g_main_context_push_thread_default(m->gctx);
    bool ok = listen_soup(m, address, error);
    g_main_context_pop_thread_default(m->gctx);
    if (!ok) {
        g_prefix_error(error, "--metrics '%s': ", address);
        metrics_stop(m);
        return NULL;
    }
    m->thread = g_thread_new("metrics", metrics_thread, m);
    return m;
}

int metrics_port(const DaemonMetrics *m)
{
    return m->port;
}

void metrics_stop(DaemonMetrics *m)
{
    if (!m) {
        return;
    }
    g_atomic_int_set(&m->stopping, 1);
    /* Scrapes already sent here: run their BHs (this is their thread) and
     * let the metrics thread complete them. */
    while (g_atomic_int_get(&m->in_flight) > 0) {
        aio_poll(m->main_ctx, false);
        g_usleep(1000);
    }
    if (m->thread) {
        g_atomic_int_set(&m->quit, 1);
        wake_metrics_thread(m);
        g_thread_join(m->thread);
    }
    g_source_destroy(m->wake_source);
    g_source_unref(m->wake_source);
    close(m->wake_fd);
    pthread_mutex_destroy(&m->lock);
    if (m->soup) {
        g_main_context_push_thread_default(m->gctx);
        soup_server_disconnect(m->soup);
        g_object_unref(m->soup);
        g_main_context_pop_thread_default(m->gctx);
    }
    g_main_context_unref(m->gctx);
    g_free(m);
}
