/* SPDX-License-Identifier: MIT */
/* codnsd/core/fwdcache.h: forwarded DNS answers, cached and coalesced. */
#ifndef CODNSD_FWDCACHE_H
#define CODNSD_FWDCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct conf;
struct dnsmsg_query;
struct fwdcache;
struct fwdcache_fwd;
struct upstream;

#define FWDCACHE_BYTES_MAX (8u << 20) /* all cached answers together */
#define FWDCACHE_STALE_TTL 30         /* RFC 8767 section 4 */

/*
 * The DNS stub's questions of other types than A, AAAA and PTR go to the
 * nameservers as they are (upstream_send_raw()). Their answers are kept
 * here, flattened (dnsmsg_response_flatten()), by name and type, at most
 * cache-size entries and FWDCACHE_BYTES_MAX bytes, LRU; and identical
 * questions that come while one is in flight wait for its answer instead
 * of being sent again.
 */

/* An answer to build a response from; flat stays valid until the next
 * call into this module. */
struct fwdcache_answer {
	uint8_t rcode;
	const uint8_t *flat;
	size_t len;
	uint32_t age_s;   /* since it was received: taken off each TTL */
	uint32_t max_ttl; /* no record lives longer (all of them, if stale) */
	int stale;
};

/* The answer to a question asked, or NULL when none came. */
typedef void fwdcache_cb(void *arg, const struct fwdcache_answer *);

/* One query waiting for a forwarded question: the caller's memory. */
struct fwdcache_wait {
	struct fwdcache_fwd *f; /* NULL when not waiting */
	fwdcache_cb *cb;
	void *arg;
	LIST_ENTRY(fwdcache_wait) entry;
};

enum fwdcache_asked { FWDCACHE_SENT, FWDCACHE_JOINED };

/* now_ms(clock) is the time in ms (the loop's, clock_loop_ms()); conf
 * (cache-size, TTL clamps, serve-stale) is read at each use. */
struct fwdcache *fwdcache_new(uint64_t (*now_ms)(void *clock), void *clock,
    const struct conf *, struct upstream *);
/* Questions in flight are cancelled; their waiters hear nothing. */
void fwdcache_free(struct fwdcache *);
/* A cached answer to m's question: fresh (stale 0), or expired less
 * than serve-stale ago (stale 1). 0, or -1 when there is none. */
int fwdcache_get(struct fwdcache *, const struct dnsmsg_query *, int stale,
    struct fwdcache_answer *);
/* Ask the nameservers m's question, lowercased and without EDNS, or join
 * the same question in flight: enum fwdcache_asked, or -1 when it cannot
 * be sent (then cb never comes). cb comes from the loop, once. */
int fwdcache_ask(struct fwdcache *, const struct dnsmsg_query *,
    struct fwdcache_wait *, fwdcache_cb *, void *arg);
/* Keep a response the lookup path received (upstream_on_response()):
 * name (text) and qtype are its question, flat its records. Its TTL, or
 * 0 when it is not kept (upstream_keep_cb's arguments). */
uint32_t fwdcache_store(struct fwdcache *, const char *name, uint16_t qtype,
    uint8_t rcode, const uint8_t *flat, size_t len);
/* Stop waiting (the client went away); NULL-safe for one not waiting. */
void fwdcache_leave(struct fwdcache_wait *);
size_t fwdcache_count(const struct fwdcache *);
/* Drop cached answers (codnsctl flush): all, or one name's. */
size_t fwdcache_flush(struct fwdcache *, const char *name);

#endif
