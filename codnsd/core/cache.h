/* SPDX-License-Identifier: MIT */
/* codnsd/core/cache.h: the answer cache: TTL-honouring, LRU-bounded. */
#ifndef CODNSD_CACHE_H
#define CODNSD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct cache;

struct cache_limits {
	uint32_t min_ttl_s;      /* cache-min-ttl */
	uint32_t max_ttl_s;      /* cache-max-ttl */
	uint32_t negative_ttl_s; /* negative-ttl: cap for NOTFOUND/NODATA */
	uint32_t stale_s;        /* serve-stale: keep expired entries this
				  * long (0: drop them when found expired) */
	int prefetch;            /* prefetch: cache_refresh_due() */
};

struct cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t evictions; /* LRU evictions because the cache was full */
	uint64_t expired;   /* entries found expired and dropped */
};

/* max_entries == 0 disables caching (every get misses). */
struct cache *cache_new(size_t max_entries, const struct cache_limits *);
void cache_free(struct cache *);
/* Publish what the cache holds, and every answer put from now on, in this
 * shared table too (shm.h); NULL stops. The cache does not own it. */
struct shm;
void cache_set_shm(struct cache *, struct shm *, uint64_t now_ms);
/* For SIGHUP: new bound and clamps; evicts LRU entries above the bound. */
void cache_configure(struct cache *, size_t max_entries,
    const struct cache_limits *);

/*
 * Key: kind, family and the name (case-insensitive) or the address of the
 * request; id is ignored. On a hit, copies the answer into *out with ttl
 * set to the seconds left (at least 0), source CODNS_SRC_CACHE, and the
 * entry becomes most recently used: returns 1. A miss returns 0.
 */
int cache_get(struct cache *, const struct proto_request *key, uint64_t now_ms,
    struct proto_answer *out);

/*
 * Prefetch (as unbound's): 1 when the entry of the last cache_get() hit is
 * in the last 10 % of its TTL and prefetch is on, so the caller refreshes
 * it in the background. With prefetch on, the shared table (shm.h) keeps
 * an answer only for the first 90 % of its TTL: the NSS module's lookups
 * in the last 10 % come to codnsd, whose hit refreshes the entry.
 */
int cache_refresh_due(const struct cache *);

/*
 * Serve-stale (RFC 8767): an entry expired less than stale_s ago, copied
 * into *out with source CODNS_SRC_STALE and ttl 0 (the caller picks the
 * TTL to send). Fresh entries are not returned: 1 or 0.
 */
int cache_get_stale(struct cache *, const struct proto_request *key,
    uint64_t now_ms, struct proto_answer *out);

/*
 * Store an answer of status FOUND, NOTFOUND or NODATA (others are ignored),
 * TTL clamped: FOUND to [min, max], negatives to [min, min(max, negative)].
 * A clamped TTL of 0 is not stored. Replaces an entry with the same key and
 * evicts the least recently used entry when full.
 */
void cache_put(struct cache *, const struct proto_request *key,
    const struct proto_answer *, uint64_t now_ms);
/* How long cache_put() would keep the answer: its clamped TTL, or 0 when
 * it would not be stored (caching off, not a definite answer, TTL 0). */
uint32_t cache_ttl(const struct cache *, const struct proto_answer *);

/*
 * on: the resolver has no search list, so a relative name means the same
 * as that name with the root's dot (glibc tries it alone either way), and
 * "name" and "name." are one key: an NSS lookup and a DNS stub query of
 * one name share an entry. off (the default): they are kept apart, as a
 * relative name may end on a search domain. A change drops every entry.
 */
void cache_set_dot_blind(struct cache *, int on);

/* Drop every entry (name == NULL) or the forward entries of one name, any
 * family. Returns how many were dropped. */
size_t cache_flush(struct cache *, const char *name);

/*
 * An entry as the cache file (cachefile.h) keeps it: its key (lowercased
 * name, or address bytes), its absolute expiry in loop time (ms since the
 * epoch) and its encoded answer. Pointers are the cache's, valid during
 * the walk only.
 */
struct cache_record {
	uint8_t kind;
	uint8_t family;
	uint8_t keylen;
	uint16_t bloblen;
	uint64_t expire_ms;
	const uint8_t *key;
	const uint8_t *blob;
};
typedef int cache_walk_fn(void *arg, const struct cache_record *);
/* Every entry, least recently used first; stops at fn's -1 (returned). */
int cache_walk(const struct cache *, cache_walk_fn *fn, void *arg);
/* Put a record back with its expiry (as the most recently used entry);
 * -1 when it is malformed, caching is off, or it expired by now_ms (past
 * the serve-stale window). Its key must not be cached yet (the records
 * of one cache_walk() into an empty cache): it is not looked for. */
int cache_restore(struct cache *, const struct cache_record *,
    uint64_t now_ms);

size_t cache_count(const struct cache *);
size_t cache_capacity(const struct cache *);
const struct cache_stats *cache_stats(const struct cache *);

#endif
