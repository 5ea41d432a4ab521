/*
 * Raw QMP peers for the server fuzz test, driven together with an
 * in-process QmpServer from ONE thread: each pump round sends what the
 * sockets take (in random chunk sizes), reads what arrived, and runs the
 * server's AioContext without blocking.  No thread, so nothing to race and
 * the server's order of events depends only on the kernel.
 *
 * Thread rules: single-threaded; the AioContext must be the caller's.
 */
#ifndef TESTS_FUZZ_PEERS_H
#define TESTS_FUZZ_PEERS_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "aioctx/aio.h"
#include "fuzz-gen.h"

typedef struct {
    int fd;
    GString *out;           /* everything this peer will send */
    size_t off;             /* sent so far */
    size_t cut;             /* close after sending this much (SIZE_MAX: no) */
    bool closed;            /* we closed it (cut reached) or it hit EOF */
    bool eof;               /* the server closed it */
    GString *in;            /* received, not yet split into lines */
    JsonObject *greeting;
    GPtrArray *replies;     /* JsonObject*: every non-event message */
    unsigned events;
    unsigned unparsable;    /* lines that are not a JSON object */
} FuzzPeer;

/* Connect to a unix @path, or to 127.0.0.1:@tcp_port when @path is NULL. */
FuzzPeer *fuzz_peer_connect(const char *path, int tcp_port);
void fuzz_peer_free(FuzzPeer *p);

/* Pump @peers and @ctx until every peer is closed or has sent everything
 * and received at least @want_replies[i] replies (NULL: none wanted), or
 * until @timeout_ms.  Returns false on timeout. */
bool fuzz_pump(AioContext *ctx, FuzzRng *r, FuzzPeer **peers, unsigned n,
               const unsigned *want_replies, int timeout_ms);

/* Send @json on @p and pump until its reply; returns it (borrowed from
 * p->replies) or NULL on timeout / EOF. */
JsonObject *fuzz_rpc(AioContext *ctx, FuzzRng *r, FuzzPeer *p,
                     const char *json);

/* Error class of a reply, or NULL for a return. */
const char *fuzz_reply_class(JsonObject *reply);
const char *fuzz_reply_desc(JsonObject *reply);

#endif /* TESTS_FUZZ_PEERS_H */
