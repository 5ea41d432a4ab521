/*
 * Fuzz test of the QMP server with the daemon's real command handlers, in
 * process (schema embedded, iothreads io0 and io1, unix + tcp sockets):
 *
 * 1. Batches of several raw clients at once, each sending a stream of
 *    mutated QMP messages in random chunk sizes; some disconnect
 *    mid-stream.  Each surviving client ends its stream with 0xFF and a
 *    sync query; it must get exactly one reply per message or framing
 *    error of its stream (counted by a model of the framing rules written
 *    here, independent of the server's splitter), each a return or an
 *    error of a qmp-spec class, all valid JSON.  The first client of each
 *    batch is never cut, so every batch has a survivor to check.  After each batch a fresh client's query-version succeeds and
 *    no connection is left behind.
 * 2. For every command of the schema (argv[1], the source JSON): wrong
 *    argument objects (wrong JSON types, nested objects for ints, out of
 *    range and int64-edge ints, unknown members, missing required ones).
 *    Each must fail with a GenericError naming the member, and
 *    query-iothreads / qom-list are identical before and after.
 * FUZZ_SEED=N reproduces a run, FUZZ_SCALE=K sends K times as much.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "commands.h"
#include "debug-commands.h"
#include "fuzz-peers.h"
#include "fuzz-schema-args.h"
#include "tap.h"

static AioContext *ctx;
static QmpServer *server;
static ObjectRegistry *reg;
static char *sock_path;
static unsigned quit_calls;

static void count_quit(void *opaque)
{
    quit_calls++;
}

/* ---------------------------------------------------------------------- */
/* 1. mutated streams                                                      */

/*
 * How many replies the server owes for @stream: one per message and one per
 * framing error, counted by a model written from QMP's framing rules
 * (json-splitter.h: QEMU's json-streamer behaviour), deliberately not with
 * the server's own splitter, so a framing bug cannot agree with itself:
 *  - a message ends where its top-level value closes: the bracket matching
 *    the first '{' or '[', the closing quote of a top-level string, or the
 *    byte after a top-level literal/number that cannot belong to it
 *    (whitespace, a control byte, a bracket, '"', ',' or ':');
 *  - errors (each answered once, discarding the half-read message): a byte
 *    0xFE/0xFF, a control byte inside a string, a control byte other than
 *    TAB/LF/CR between or inside values, a closing bracket with nothing
 *    open.  After an error, input up to the next whitespace or bracket is
 *    dropped unread (QEMU's lexer resumes there);
 *  - a message that grows past QMP_MAX_MESSAGE_BYTES, nests deeper than
 *    QMP_MAX_NESTING or holds an integer beyond 64 bits is answered once,
 *    before the next byte is read; the rest of it is skipped until it
 *    closes, without a second answer.
 */
typedef enum { FRAME_NONE, FRAME_CONTAINER, FRAME_STRING, FRAME_SCALAR } Frame;

typedef struct {
    Frame top;
    bool in_string, escape;
    size_t depth, len;
    /* A bound was crossed: the message is skipped.  The answer goes out
     * before the next byte is read, so an error on the very byte that
     * crossed it (a control byte ending a too long integer) answers for
     * the message instead. */
    enum { LIMIT_NONE, LIMIT_PENDING, LIMIT_ANSWERED } limit;
    bool recovering;            /* dropping bytes after an error */
    bool in_number, number_is_float;
    char number[24];
    size_t number_len;
    unsigned answers;
} FrameModel;

static void frame_reset(FrameModel *m)
{
    unsigned answers = m->answers;
    *m = (FrameModel){ .top = FRAME_NONE, .answers = answers };
}

static void frame_message_ends(FrameModel *m)
{
    if (m->limit != LIMIT_ANSWERED) {
        m->answers++;
    }
    frame_reset(m);
}

static void frame_error(FrameModel *m)
{
    m->answers++;
    frame_reset(m);
    m->recovering = true;
}

static void frame_limit(FrameModel *m)
{
    if (m->limit == LIMIT_NONE) {
        m->limit = LIMIT_PENDING;
    }
}

static void frame_answer_limit(FrameModel *m)
{
    if (m->limit == LIMIT_PENDING) {
        m->answers++;
        m->limit = LIMIT_ANSWERED;
    }
}

static bool frame_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool frame_is_bracket(unsigned char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']';
}

static bool frame_ends_scalar(unsigned char c)
{
    return c <= ' ' || strchr("{}[]\",:", c) != NULL;
}

/* One more byte of the message (the size bound). */
static void frame_take(FrameModel *m)
{
    if (m->limit == LIMIT_NONE && ++m->len > QMP_MAX_MESSAGE_BYTES) {
        frame_limit(m);
    }
}

/* Numbers outside strings: an integer must fit 64 bits. */
static void frame_number(FrameModel *m, unsigned char c)
{
    bool part = g_ascii_isdigit(c) || strchr("-+.eE", c) != NULL;

    if (part && (m->in_number || c == '-' || g_ascii_isdigit(c))) {
        if (!m->in_number) {
            m->in_number = true;
            m->number_is_float = false;
            m->number_len = 0;
        }
        m->number_is_float |= c == '.' || c == 'e' || c == 'E';
        if (m->number_len < sizeof(m->number) - 1) {
            m->number[m->number_len] = (char)c;
        }
        m->number_len++;
        return;
    }
    if (m->in_number) {
        m->in_number = false;
        if (!m->number_is_float) {
            bool fits = m->number_len < sizeof(m->number);
            if (fits) {
                m->number[m->number_len] = '\0';
                fits = g_ascii_string_to_signed(m->number, 10, G_MININT64,
                                                G_MAXINT64, NULL, NULL);
            }
            if (!fits) {
                frame_limit(m);
            }
        }
    }
}

static void frame_in_string(FrameModel *m, unsigned char c)
{
    if (c < 0x20) {
        frame_error(m);
        return;
    }
    frame_take(m);
    if (m->escape) {
        m->escape = false;
    } else if (c == '\\') {
        m->escape = true;
    } else if (c == '"') {
        m->in_string = false;
        if (m->top == FRAME_STRING) {
            frame_message_ends(m);
        }
    }
}

/* One byte outside strings and top-level scalars. */
static void frame_structural(FrameModel *m, unsigned char c)
{
    if (frame_is_ws(c)) {
        if (m->top != FRAME_NONE) {
            frame_take(m);
        }
    } else if (c < 0x20) {
        frame_error(m);
    } else if (c == '"') {
        m->in_string = true;
        m->top = m->top == FRAME_NONE ? FRAME_STRING : m->top;
        frame_take(m);
    } else if (c == '{' || c == '[') {
        m->top = m->top == FRAME_NONE ? FRAME_CONTAINER : m->top;
        if (++m->depth > QMP_MAX_NESTING) {
            frame_limit(m);
        }
        frame_take(m);
    } else if (c == '}' || c == ']') {
        if (m->top == FRAME_NONE) {
            frame_error(m);             /* a closer with nothing open */
            return;
        }
        frame_take(m);
        if (--m->depth == 0) {
            frame_message_ends(m);
        }
    } else {
        m->top = m->top == FRAME_NONE ? FRAME_SCALAR : m->top;
        frame_take(m);
    }
}

static void frame_byte(FrameModel *m, unsigned char c)
{
    frame_answer_limit(m);
    if (m->recovering) {
        if (!frame_is_ws(c) && !frame_is_bracket(c)) {
            return;
        }
        m->recovering = false;
    }
    if (c >= 0xfe) {
        frame_error(m);
        return;
    }
    if (!m->in_string) {
        frame_number(m, c);
    }
    if (m->in_string) {
        frame_in_string(m, c);
        return;
    }
    if (m->top == FRAME_SCALAR) {
        if (!frame_ends_scalar(c)) {
            frame_take(m);
            return;
        }
        frame_message_ends(m);          /* the scalar ended before @c */
    }
    frame_structural(m, c);
}

static unsigned expected_replies(const GString *stream)
{
    FrameModel m = { .top = FRAME_NONE };

    for (size_t i = 0; i < stream->len; i++) {
        frame_byte(&m, (unsigned char)stream->str[i]);
    }
    frame_answer_limit(&m);
    return m.answers;
}

static bool class_is_qmp(const char *cls)
{
    return !strcmp(cls, "GenericError") || !strcmp(cls, "CommandNotFound") ||
           !strcmp(cls, "DeviceNotFound");
}

typedef struct {
    unsigned batches_ok, fresh_ok, leftovers_ok;
    unsigned long replies, returns, generic, not_found, device, events;
    unsigned survivors, cut_peers, mismatched, bad_class, unparsable, no_sync;
    unsigned dropped;       /* survivors the server closed */
} Totals;

static void build_peer_stream(FuzzRng *r, GString *out, unsigned messages,
                              bool big, const char *sync_id)
{
    const char *const *corpus = fuzz_qmp_corpus();
    guint ncorpus = g_strv_length((char **)corpus);
    FuzzLimits lim = {
        .huge_max = 2 * QMP_MAX_MESSAGE_BYTES,
        .deep_max = 3 * QMP_MAX_NESTING,
        .huge_rarity = 300,
    };

    if (!fuzz_one_in(r, 8)) {     /* most negotiate, a few stay unnegotiated */
        g_string_append(out, "{\"execute\": \"qmp_capabilities\"}");
    }
    for (unsigned i = 0; i < messages; i++) {
        const char *a = corpus[fuzz_below(r, ncorpus)];
        if (fuzz_one_in(r, 5)) {
            g_string_append(out, a);
        } else {
            fuzz_mutate(r, &lim, out, a, corpus[fuzz_below(r, ncorpus)]);
        }
        if (fuzz_one_in(r, 2)) {
            g_string_append(out, fuzz_one_in(r, 2) ? "\r\n" : " ");
        }
    }
    if (big) {
        /* Over the limits: skipped whole, answered once each. */
        g_string_append_c(out, '[');
        for (unsigned i = 0; i < 3 * QMP_MAX_NESTING; i++) {
            g_string_append(out, "{\"a\": [");
        }
        for (unsigned i = 0; i < 3 * QMP_MAX_NESTING; i++) {
            g_string_append(out, "]}");
        }
        g_string_append(out, "]{\"execute\": \"query-version\", \"id\": \"");
        for (size_t i = 0; i < QMP_MAX_MESSAGE_BYTES; i++) {
            g_string_append_c(out, 'x');
        }
        g_string_append(out, "\"}");
    }
    /* Back to a known state (qmp-spec), then a marker we wait for. */
    g_string_append_printf(out, "\xff{\"execute\": \"query-commands\", "
                           "\"id\": \"%s\"}", sync_id);
}

static bool fresh_query_version(FuzzRng *r)
{
    FuzzPeer *p = fuzz_peer_connect(sock_path, 0);
    JsonObject *caps = fuzz_rpc(ctx, r, p, "{\"execute\": "
                                "\"qmp_capabilities\"}");
    JsonObject *v = caps ? fuzz_rpc(ctx, r, p, "{\"execute\": "
                                    "\"query-version\"}") : NULL;
    bool good = p->greeting && v && json_object_has_member(v, "return") &&
                json_object_has_member(
                    json_object_get_object_member(v, "return"), "qemu");
    fuzz_peer_free(p);
    return good;
}

/* Wait until the server noticed every disconnect. */
static bool no_connections_left(void)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (qmp_server_client_count(server) != 0) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        aio_poll(ctx, false);
        g_usleep(1000);
    }
    return true;
}

static void check_survivor(FuzzPeer *p, const char *sync_id, Totals *t)
{
    unsigned expected = expected_replies(p->out);
    JsonObject *last = p->replies->len
                       ? p->replies->pdata[p->replies->len - 1] : NULL;
    JsonNode *id = last ? json_object_get_member(last, "id") : NULL;

    t->survivors++;
    if (p->eof) {
        t->dropped++;
    }
    if (p->replies->len != expected) {
        t->mismatched++;
        diag("a client got %u replies for %u messages", p->replies->len,
             expected);
    }
    if (!id || json_node_get_value_type(id) != G_TYPE_STRING ||
        strcmp(json_node_get_string(id), sync_id)) {
        t->no_sync++;
    }
    t->unparsable += p->unparsable;
    t->events += p->events;
    for (guint i = 0; i < p->replies->len; i++) {
        JsonObject *o = p->replies->pdata[i];
        const char *cls = fuzz_reply_class(o);
        t->replies++;
        if (!cls) {
            t->returns += json_object_has_member(o, "return");
            t->bad_class += !json_object_has_member(o, "return");
        } else if (!class_is_qmp(cls)) {
            t->bad_class++;
        } else {
            t->generic += !strcmp(cls, "GenericError");
            t->not_found += !strcmp(cls, "CommandNotFound");
            t->device += !strcmp(cls, "DeviceNotFound");
        }
    }
}

static void run_batch(FuzzRng *r, unsigned batch, unsigned messages,
                      int tcp_port, Totals *t)
{
    enum { PEERS = 4 };
    FuzzPeer *peers[PEERS];
    unsigned want[PEERS];
    char *sync_ids[PEERS];

    for (unsigned i = 0; i < PEERS; i++) {
        peers[i] = fuzz_peer_connect(i == 3 ? NULL : sock_path, tcp_port);
        sync_ids[i] = g_strdup_printf("fuzz-sync-%u-%u-%016" PRIx64, batch, i,
                                      fuzz_next(r));
        build_peer_stream(r, peers[i]->out,
                          messages / 2 + fuzz_below(r, messages), i == 0,
                          sync_ids[i]);
        if (i != 0 && fuzz_one_in(r, 4)) {
            peers[i]->cut = fuzz_below(r, (uint32_t)peers[i]->out->len);
        }
        want[i] = expected_replies(peers[i]->out);
    }
    bool in_time = fuzz_pump(ctx, r, peers, PEERS, want, 30000);
    if (!in_time) {
        diag("batch %u: timed out", batch);
    }
    bool batch_ok = in_time;
    for (unsigned i = 0; i < PEERS; i++) {
        if (peers[i]->cut != SIZE_MAX) {
            t->cut_peers++;
        } else {
            unsigned before = t->mismatched + t->no_sync + t->dropped;
            check_survivor(peers[i], sync_ids[i], t);
            batch_ok &= before == t->mismatched + t->no_sync + t->dropped;
        }
        fuzz_peer_free(peers[i]);
        g_free(sync_ids[i]);
    }
    t->batches_ok += batch_ok;
    t->fresh_ok += fresh_query_version(r);
    t->leftovers_ok += no_connections_left();
}

/* Objects a batch created (mutated object-add): delete all but io0/io1. */
static void remove_extra_iothreads(FuzzRng *r)
{
    FuzzPeer *p = fuzz_peer_connect(sock_path, 0);
    fuzz_rpc(ctx, r, p, "{\"execute\": \"qmp_capabilities\"}");
    JsonObject *list = fuzz_rpc(ctx, r, p, "{\"execute\": "
                                "\"query-iothreads\"}");
    JsonArray *arr = list && json_object_has_member(list, "return")
                     ? json_object_get_array_member(list, "return") : NULL;
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        const char *id = json_object_get_string_member(
            json_array_get_object_element(arr, i), "id");
        if (strcmp(id, "io0") && strcmp(id, "io1")) {
            g_ptr_array_add(ids, g_strdup(id));
        }
    }
    for (guint i = 0; i < ids->len; i++) {
        g_autoptr(JsonNode) idn = json_node_init_string(json_node_alloc(),
                                                        ids->pdata[i]);
        g_autofree char *idj = json_to_string(idn, FALSE);
        g_autofree char *cmd = g_strdup_printf(
            "{\"execute\": \"object-del\", \"arguments\": {\"id\": %s}}", idj);
        fuzz_rpc(ctx, r, p, cmd);
    }
    g_ptr_array_unref(ids);
    fuzz_peer_free(p);
}

static void fuzz_streams(FuzzRng *r, unsigned batches, unsigned messages)
{
    Totals t = { 0 };
    int tcp_port = qmp_server_tcp_port(server);

    for (unsigned b = 0; b < batches; b++) {
        run_batch(r, b, messages, tcp_port, &t);
        remove_extra_iothreads(r);
    }
    diag("%u surviving clients (%u cut mid-stream): %lu replies = %lu "
         "returns + %lu GenericError + %lu CommandNotFound + %lu "
         "DeviceNotFound; %lu events; quit handler called %u times",
         t.survivors, t.cut_peers, t.replies, t.returns, t.generic,
         t.not_found, t.device, t.events, quit_calls);
    ok(t.survivors >= batches && t.survivors > t.dropped,
       "at least one client per batch ran its whole stream (%u of %u)",
       t.survivors, 4 * batches);
    is_int(t.batches_ok, batches, "every batch finished in time with every "
           "surviving client fully answered");
    is_int(t.mismatched, 0, "each surviving client got exactly one reply per "
           "message (or splitter error) of its stream");
    is_int(t.no_sync, 0, "each surviving client's last reply is its sync "
           "query (nothing lost or reordered after 0xFF)");
    is_int(t.dropped, 0, "the server closed no surviving client");
    is_int(t.bad_class, 0, "every reply is a return or a qmp-spec error "
           "class");
    is_int(t.unparsable, 0, "every server message is a JSON object");
    ok(t.generic > t.replies / 4 && t.returns > 0,
       "the streams exercised both errors and successful commands");
    is_int(t.fresh_ok, batches, "after each batch a fresh client's "
           "query-version succeeds");
    is_int(t.leftovers_ok, batches, "after each batch no connection is left "
           "on the server");
}

/* Regressions found by this fuzzer: the server echoed client text that is
 * not JSON-safe (ids parsed as inf written back as "inf.0"; invalid UTF-8
 * from raw bytes or lone surrogate escapes in ids, member names, command
 * names and json-glib's parse errors), so the client could not parse the
 * reply and lost count. */
static void regressions(FuzzRng *r)
{
    static const struct { const char *req, *needle; bool with_id; } cases[] = {
        { "{\"execute\": \"query-version\", \"id\": 1e400}",
          "out of range", false },
        { "{\"execute\": \"query-version\", \"id\": [-1e999]}",
          "out of range", false },
        { "{\"execute\": \"query-version\", \"id\": \"\\ud800x\"}",
          "not valid UTF-8", false },
        { "{\"execute\": \"query-version\", \"id\": \"\xed\xa0\x80\"}",
          "parse error", false },
        { "{\"execute\": \"query-\xc0\x80version\", \"id\": 5}",
          "parse error", false },
        /* A lone surrogate escape is refused by json_check before parsing
         * (json-glib leaks on "\udc00\ud800"), so the id is not known. */
        { "{\"arg\\udc00uments\": {}, \"execute\": \"query-version\", "
          "\"id\": 6}", "not valid UTF-8", false },
        { "{\"execute\": \"query-version\", \"arguments\": {\"x\": 1e400}, "
          "\"id\": 7}", "out of range", true },
        { "{\"\\ud800\" 1}", "parse error", false },
        /* json-glib 1.6 leaks on these (the ASan build catches it if they
         * ever reach it again): a high surrogate escape followed by a \u
         * escape that is not a low one, a low one before a high one, a
         * high one followed by a short \u escape. */
        { "{\"execute\": \"query-version\", \"id\": \"\\uD800\\u0041\"}",
          "surrogate", false },
        { "{\"execute\": \"query-version\", \"id\": \"\\udc00\\ud800\"}",
          "surrogate", false },
        { "{\"execute\": \"query-version\", \"id\": [\"\\ud800\\u\"]}",
          "surrogate", false },
        { "{\"execute\": \"query-version\", \"id\": \"\\u12x\"}",
          "\\u escape", false },
        /* Not JSON, but json-glib 1.6 accepted them. */
        { "{\"execute\": \"query-version\", \"id\": 'x'}", "parse error",
          false },
        { "{\"execute\": \"query-version\", \"id\": [01, 1.]}",
          "leading zero", false },
        { "{\"execute\": \"query-version\", \"id\": \"\\x\"}",
          "invalid escape", false },
        { "{\"execute\": \"query-version\", \"id\": [1] [2]}",
          "expected ',' or '}'", false },
    };
    FuzzPeer *p = fuzz_peer_connect(sock_path, 0);
    fuzz_rpc(ctx, r, p, "{\"execute\": \"qmp_capabilities\"}");
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        unsigned bad = p->unparsable;
        JsonObject *reply = fuzz_rpc(ctx, r, p, cases[i].req);
        const char *cls = reply ? fuzz_reply_class(reply) : NULL;
        g_autofree char *shown = g_strescape(cases[i].req, NULL);
        if (!ok(p->unparsable == bad && cls && !strcmp(cls, "GenericError") &&
           strstr(fuzz_reply_desc(reply), cases[i].needle) &&
           json_object_has_member(reply, "id") == cases[i].with_id,
           "%s -> valid JSON GenericError '%s'%s", shown, cases[i].needle,
           cases[i].with_id ? " with the id" : "")) {
            diag("  got: %s", reply ? fuzz_reply_desc(reply) : "no reply");
        }
    }
    JsonObject *v = fuzz_rpc(ctx, r, p, "{\"execute\": \"query-version\"}");
    ok(v && json_object_has_member(v, "return"),
       "the same client is still served");
    fuzz_peer_free(p);
}

/* ---------------------------------------------------------------------- */
/* 2. schema-shaped wrong arguments                                        */

static char *snapshot(FuzzRng *r, FuzzPeer *p)
{
    JsonObject *a = fuzz_rpc(ctx, r, p, "{\"execute\": \"query-iothreads\"}");
    JsonObject *b = fuzz_rpc(ctx, r, p, "{\"execute\": \"qom-list\", "
                             "\"arguments\": {\"path\": \"/objects\"}}");
    if (!a || !b) {
        return g_strdup("(no answer)");
    }
    g_autoptr(JsonNode) na = json_node_init_object(json_node_alloc(), a);
    g_autoptr(JsonNode) nb = json_node_init_object(json_node_alloc(), b);
    g_autofree char *ta = json_to_string(na, FALSE);
    g_autofree char *tb = json_to_string(nb, FALSE);
    return g_strconcat(ta, "\n", tb, NULL);
}

typedef struct {
    FuzzRng *r;
    FuzzPeer *cmd_peer;     /* negotiated */
    FuzzPeer *neg_peer;     /* stays in negotiation mode */
    unsigned cases, refused_naming, wrong;
} SweepState;

static void run_case(void *opaque, const char *command, const char *args_json,
                     const char *member)
{
    SweepState *st = opaque;
    bool caps = !strcmp(command, "qmp_capabilities");
    g_autofree char *req = g_strdup_printf(
        "{\"execute\": \"%s\", \"arguments\": %s, \"id\": \"case-%u\"}",
        command, args_json, st->cases);
    JsonObject *reply = fuzz_rpc(ctx, st->r,
                                 caps ? st->neg_peer : st->cmd_peer, req);
    const char *cls = reply ? fuzz_reply_class(reply) : NULL;
    const char *desc = reply ? fuzz_reply_desc(reply) : "";

    st->cases++;
    if (cls && !strcmp(cls, "GenericError") && strstr(desc, member)) {
        st->refused_naming++;
    } else if (st->wrong++ < 10) {
        diag("%s %s: %s %s (wanted a GenericError naming '%s')", command,
             args_json, cls ? cls : reply ? "return" : "no reply", desc,
             member);
    }
}

static void sweep_wrong_arguments(FuzzRng *r, const char *schema_path)
{
    SweepState st = { .r = r };
    st.cmd_peer = fuzz_peer_connect(sock_path, 0);
    st.neg_peer = fuzz_peer_connect(sock_path, 0);
    fuzz_rpc(ctx, r, st.cmd_peer, "{\"execute\": \"qmp_capabilities\"}");

    JsonObject *cmds = fuzz_rpc(ctx, r, st.cmd_peer,
                                "{\"execute\": \"query-commands\"}");
    guint listed = cmds && json_object_has_member(cmds, "return")
                   ? json_array_get_length(
                         json_object_get_array_member(cmds, "return")) : 0;
    g_autofree char *before = snapshot(r, st.cmd_peer);

    GError *err = NULL;
    int commands = fuzz_schema_wrong_args(schema_path, run_case, &st, &err);
    if (!ok(commands > 0, "schema %s read: %d commands", schema_path,
            commands)) {
        diag("%s", err ? err->message : "?");
        g_clear_error(&err);
    }
    is_int(listed, commands, "query-commands lists every schema command");
    diag("%u wrong argument objects sent", st.cases);
    ok(st.cases > 100, "more than 100 wrong argument objects generated");
    is_int(st.refused_naming, st.cases, "each is refused with a GenericError "
           "naming the member");

    g_autofree char *after = snapshot(r, st.cmd_peer);
    ok(!strcmp(before, after), "query-iothreads and qom-list /objects are "
       "unchanged by the refused commands");
    if (strcmp(before, after)) {
        diag("before: %s", before);
        diag("after:  %s", after);
    }
    fuzz_peer_free(st.cmd_peer);
    fuzz_peer_free(st.neg_peer);
}

int main(int argc, char **argv)
{
    uint64_t seed = fuzz_seed_from_env(20240612);
    unsigned scale = fuzz_scale_from_env();
    const unsigned batches = 16 * scale, messages = 500;
    GError *err = NULL;
    FuzzRng r;

    if (argc < 2) {
        fprintf(stderr, "usage: %s SCHEMA.json\n", argv[0]);
        return 2;
    }
    diag("seed %" PRIu64 " (FUZZ_SEED=%" PRIu64 " reproduces), %u batches "
         "of 4 clients x ~%u messages", seed, seed, batches, messages);
    fuzz_rng_init(&r, seed);

    ctx = aio_context_new(&err);
    g_assert_no_error(err);
    aio_set_current_context(ctx);
    QmpSchema *schema = qmp_schema_load_embedded(&err);
    g_assert_no_error(err);
    server = qmp_server_new(ctx, schema, 0, 1, 0, "fuzz");
    reg = object_registry_new(ctx);
    DaemonCommands *cmds = daemon_commands_new(server, reg, count_quit, NULL);
    /* As iothreadd --enable-debug-commands: every schema command served. */
    DebugCommands *debug = debug_commands_new(server, reg);
    for (int i = 0; i < 2; i++) {
        g_autofree char *id = g_strdup_printf("io%d", i);
        if (!object_registry_add_iothread(reg, id, NULL, &err)) {
            g_error("%s: %s", id, err->message);
        }
    }
    char *dir = g_dir_make_tmp("fuzz-server-XXXXXX", &err);
    g_assert_no_error(err);
    sock_path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *addr = g_strconcat("unix:", sock_path, NULL);
    if (!qmp_server_listen(server, addr, &err) ||
        !qmp_server_listen(server, "tcp:127.0.0.1:0", &err)) {
        g_error("listen: %s", err->message);
    }

    regressions(&r);
    sweep_wrong_arguments(&r, argv[1]);
    fuzz_streams(&r, batches, messages);

    daemon_commands_free(cmds);
    debug_commands_free(debug);     /* releases any stall: iothreads stop */
    qmp_server_free(server);
    object_registry_free(reg);
    while (aio_poll(ctx, false)) {
    }
    aio_set_current_context(NULL);
    aio_context_unref(ctx);
    qmp_schema_free(schema);
    g_rmdir(dir);
    g_free(dir);
    g_free(sock_path);
    return done_testing();
}
