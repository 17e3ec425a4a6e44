/* codnsd/lookup.h: one lookup from cache, local nameserver and peers. */
#ifndef CODNSD_LOOKUP_H
#define CODNSD_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct codnsd;
struct lookup;
struct lookup_waiter;

#define LOOKUP_F_PEER 0x1 /* asked by a peer: never escalate to peers */

typedef void lookup_cb(void *arg, const struct proto_answer *);

struct lookup *lookup_new(struct codnsd *);
void lookup_free(struct lookup *);

/*
 * Resolve req. The answer goes to cb exactly once, unless the waiter is
 * cancelled first. A cache hit (or an immediate failure) calls cb before
 * returning and returns NULL; otherwise the returned waiter stays valid
 * until cb is called or lookup_cancel() is.
 */
struct lookup_waiter *lookup_start(struct lookup *,
    const struct proto_request *, int flags, lookup_cb *, void *arg);
void lookup_cancel(struct lookup_waiter *);
size_t lookup_inflight(const struct lookup *);
/* Answer every waiter with try-again (shutdown). */
void lookup_fail_all(struct lookup *);

#endif
