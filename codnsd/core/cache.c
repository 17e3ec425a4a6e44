/* SPDX-License-Identifier: MIT */
/* codnsd/core/cache.c: the answer cache: TTL-honouring, LRU-bounded. */
#include "cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "namehash.h"
#include "shm.h"

/*
 * One allocation per entry: the header, then the key bytes (lowercased name
 * or 4/16 address bytes), then the answer as encoded by proto_answer_put().
 * The encoded form is a few dozen bytes for a typical answer, where struct
 * proto_answer is over 2 KB, so a 10000-entry cache stays well under a
 * megabyte. Entries sit on a hash chain and on one LRU list whose head is
 * the most recently used.
 */
struct cache_entry {
	struct cache_entry *hnext;
	TAILQ_ENTRY(cache_entry) lru;
	uint64_t expire_ms;
	uint64_t hash;
	uint32_t ttl_s; /* as stored: prefetch's 10 % are of this */
	uint16_t bloblen;
	uint8_t kind;
	uint8_t family;
	uint8_t keylen;
	uint8_t data[]; /* key, then blob */
};

struct cache_key {
	uint8_t kind;
	uint8_t family;
	uint8_t len;
	uint8_t bytes[PROTO_NAME_MAX];
	uint64_t hash;
};

struct cache {
	struct cache_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t max_entries;
	TAILQ_HEAD(cache_lru, cache_entry) lru; /* most recently used first */
	struct cache_limits limits;
	struct cache_stats stats;
	/* Peers send us names, so chains must not be steerable. */
	struct namehash_key hkey;
	struct shm *shm; /* the NSS module's shared copy, or NULL */
	int dot_blind;   /* cache_set_dot_blind() */
	int hit_due;     /* cache_refresh_due() */
};

#define CACHE_BUCKETS_MIN 64

static uint64_t
cache_hash(const struct cache *c, const struct cache_key *k)
{
	uint8_t in[3 + PROTO_NAME_MAX];

	in[0] = k->kind;
	in[1] = k->family;
	in[2] = k->len;
	memcpy(in + 3, k->bytes, k->len);
	return namehash(&c->hkey, in, 3 + (size_t)k->len);
}

/* Build the lookup key; -1 for a request that can never be cached. */
static int
cache_key_make(const struct cache *c, const struct proto_request *r,
    struct cache_key *k)
{
	size_t len, i;

	memset(k, 0, sizeof(*k));
	k->kind = r->kind;
	k->family = r->family;
	switch (r->kind) {
	case PROTO_KIND_FORWARD:
		len = strnlen(r->name, sizeof(r->name));
		/* The key of "name." is the one of "name" (also in the
		 * shared table, where nss_codns looks names up as asked). */
		if (c->dot_blind && len > 1 && r->name[len - 1] == '.')
			len--;
		if (len == 0 || len > PROTO_NAME_MAX)
			return -1;
		/* RFC 4343: DNS names compare case-insensitively (ASCII). */
		for (i = 0; i < len; i++) {
			uint8_t ch = (uint8_t)r->name[i];

			k->bytes[i] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
		}
		break;
	case PROTO_KIND_REVERSE:
		if ((len = proto_addr_len(r->family)) == 0)
			return -1;
		memcpy(k->bytes, r->addr, len);
		break;
	default:
		return -1;
	}
	k->len = (uint8_t)len;
	k->hash = cache_hash(c, k);
	return 0;
}

static int
cache_entry_match(const struct cache_entry *e, const struct cache_key *k)
{
	return e->hash == k->hash && e->kind == k->kind &&
	    e->family == k->family && e->keylen == k->len &&
	    memcmp(e->data, k->bytes, k->len) == 0;
}

static struct cache_entry **
cache_slot(struct cache *c, const struct cache_key *k)
{
	struct cache_entry **pp;

	pp = &c->buckets[k->hash & (c->nbuckets - 1)];
	while (*pp != NULL && !cache_entry_match(*pp, k))
		pp = &(*pp)->hnext;
	return pp;
}

/* Unlink e from its chain and the LRU list and free it. */
static void
cache_drop(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp;

	pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->count--;
	free(e);
}

static void
cache_evict_to(struct cache *c, size_t limit)
{
	while (c->count > limit && !TAILQ_EMPTY(&c->lru)) {
		cache_drop(c, TAILQ_LAST(&c->lru, cache_lru));
		c->stats.evictions++;
	}
}

/*
 * Keep the load factor at most 1. Growing is best effort: when memory is
 * short the chains just get longer.
 */
static void
cache_grow(struct cache *c)
{
	struct cache_entry **nb, *e, *next;
	size_t n = c->nbuckets * 2, i;

	if (c->count < c->nbuckets || n < c->nbuckets)
		return;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

struct cache *
cache_new(size_t max_entries, const struct cache_limits *lim)
{
	struct cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	TAILQ_INIT(&c->lru);
	if (namehash_keygen(&c->hkey) == -1) {
		free(c);
		return NULL;
	}
	c->nbuckets = CACHE_BUCKETS_MIN;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
		free(c);
		return NULL;
	}
	c->max_entries = max_entries;
	c->limits = *lim;
	return c;
}

void
cache_free(struct cache *c)
{
	struct cache_entry *e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		free(e);
	}
	free(c->buckets);
	free(c);
}

/* The shared table keys answers as the cache does (shmtab.h). */
static void
cache_shm_key(const struct cache_key *k, struct shmtab_key *sk)
{
	sk->kind = k->kind;
	sk->family = k->family;
	sk->len = k->len;
	memcpy(sk->bytes, k->bytes, k->len);
}

/* A new table starts with what the cache holds, least recently used
 * first, so that the arena keeps the most used answers. */
void
cache_set_shm(struct cache *c, struct shm *s, uint64_t now_ms)
{
	struct cache_entry *e;
	struct shmtab_key sk;
	uint64_t left, cut;

	c->shm = s;
	if (s == NULL)
		return;
	TAILQ_FOREACH_REVERSE(e, &c->lru, cache_lru, lru) {
		/* With prefetch, not in the last 10 % (cache_refresh_due). */
		left = e->expire_ms - now_ms;
		cut = c->limits.prefetch ? (uint64_t)e->ttl_s * 100 : 0;
		if (e->expire_ms <= now_ms + 1000 || left <= cut + 1000)
			continue;
		sk.kind = e->kind;
		sk.family = e->family;
		sk.len = e->keylen;
		memcpy(sk.bytes, e->data, e->keylen);
		shm_publish(s, &sk, e->data + e->keylen, e->bloblen,
		    (uint32_t)((left - cut) / 1000));
	}
}

void
cache_configure(struct cache *c, size_t max_entries,
    const struct cache_limits *lim)
{
	c->max_entries = max_entries;
	c->limits = *lim;
	cache_evict_to(c, max_entries);
}

/*
 * Clamp an answer's TTL. Negative answers (RFC 2308 section 5) are capped
 * by negative-ttl as well as cache-max-ttl. The upper cap is applied last,
 * so a cap of 0 turns caching of that class off even with a minimum set.
 */
static uint32_t
cache_ttl_clamp(const struct cache_limits *l, const struct proto_answer *a)
{
	uint32_t t = a->ttl, hi = l->max_ttl_s;

	if (a->status != CODNS_FOUND && l->negative_ttl_s < hi)
		hi = l->negative_ttl_s;
	if (t < l->min_ttl_s)
		t = l->min_ttl_s;
	if (t > hi)
		t = hi;
	return t;
}

uint32_t
cache_ttl(const struct cache *c, const struct proto_answer *a)
{
	if (c->max_entries == 0 || (a->status != CODNS_FOUND &&
	    a->status != CODNS_NOTFOUND && a->status != CODNS_NODATA))
		return 0;
	return cache_ttl_clamp(&c->limits, a);
}

int
cache_get(struct cache *c, const struct proto_request *r, uint64_t now_ms,
    struct proto_answer *out)
{
	struct cache_key k;
	struct cache_entry *e;
	struct buf b;

	c->hit_due = 0;
	if (c->max_entries == 0 || cache_key_make(c, r, &k) == -1 ||
	    (e = *cache_slot(c, &k)) == NULL)
		goto miss;
	if (now_ms >= e->expire_ms) {
		/* Kept for serve-stale until the window passes (or the LRU
		 * end reaches it). */
		if (now_ms - e->expire_ms < (uint64_t)c->limits.stale_s * 1000)
			goto miss;
		cache_drop(c, e);
		c->stats.expired++;
		goto miss;
	}
	buf_init_read(&b, e->data + e->keylen, e->bloblen);
	if (proto_answer_get(&b, out) == -1) {
		/* Cannot happen for blobs we encoded; never serve junk. */
		cache_drop(c, e);
		goto miss;
	}
	/* Floor: a client must never keep the answer past our own expiry. */
	out->ttl = (uint32_t)((e->expire_ms - now_ms) / 1000);
	out->source = CODNS_SRC_CACHE;
	c->hit_due = c->limits.prefetch &&
	    (e->expire_ms - now_ms) * 10 <= (uint64_t)e->ttl_s * 1000;
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->stats.hits++;
	return 1;
miss:
	c->stats.misses++;
	return 0;
}

int
cache_refresh_due(const struct cache *c)
{
	return c->hit_due;
}

/* How long the shared table may keep an answer of ttl seconds: with
 * prefetch, its first 90 %, so that the last 10 % reach codnsd. */
static uint32_t
cache_shm_ttl(const struct cache *c, uint32_t ttl)
{
	if (!c->limits.prefetch)
		return ttl;
	return ttl - (ttl >= 10 ? ttl / 10 : ttl > 1);
}

int
cache_get_stale(struct cache *c, const struct proto_request *r,
    uint64_t now_ms, struct proto_answer *out)
{
	struct cache_key k;
	struct cache_entry *e;
	struct buf b;

	if (c->max_entries == 0 || cache_key_make(c, r, &k) == -1 ||
	    (e = *cache_slot(c, &k)) == NULL || now_ms < e->expire_ms ||
	    now_ms - e->expire_ms >= (uint64_t)c->limits.stale_s * 1000)
		return 0;
	buf_init_read(&b, e->data + e->keylen, e->bloblen);
	if (proto_answer_get(&b, out) == -1)
		return 0;
	out->ttl = 0;
	out->source = CODNS_SRC_STALE;
	return 1;
}

static void cache_insert(struct cache *, const struct cache_key *,
    const uint8_t *, size_t, uint64_t, uint32_t);

void
cache_put(struct cache *c, const struct proto_request *r,
    const struct proto_answer *a, uint64_t now_ms)
{
	uint8_t blob[PROTO_FRAME_MAX];
	struct cache_key k;
	struct shmtab_key sk;
	struct cache_entry *e;
	struct proto_answer tmp;
	struct buf b;
	uint32_t ttl;

	if (c->max_entries == 0 || cache_key_make(c, r, &k) == -1)
		return;
	/* Only definite answers are cacheable; failures are for retrying. */
	if (a->status != CODNS_FOUND && a->status != CODNS_NOTFOUND &&
	    a->status != CODNS_NODATA)
		return;
	ttl = cache_ttl_clamp(&c->limits, a);
	/* The newer answer supersedes the old one, even when it says
	 * "do not cache". */
	if ((e = *cache_slot(c, &k)) != NULL)
		cache_drop(c, e);
	cache_shm_key(&k, &sk);
	if (ttl == 0) {
		shm_remove(c->shm, &sk);
		return;
	}
	tmp = *a;
	tmp.ttl = ttl;
	buf_init_write(&b, blob, sizeof(blob));
	if (proto_answer_put(&b, &tmp) == -1)
		return;
	shm_publish(c->shm, &sk, blob, b.pos, cache_shm_ttl(c, ttl));
	cache_insert(c, &k, blob, b.pos, now_ms + (uint64_t)ttl * 1000, ttl);
}

/* A new entry at the head of the LRU list (its key is not cached). */
static void
cache_insert(struct cache *c, const struct cache_key *k, const uint8_t *blob,
    size_t bloblen, uint64_t expire_ms, uint32_t ttl_s)
{
	struct cache_entry *e, **pp;

	if ((e = malloc(sizeof(*e) + k->len + bloblen)) == NULL)
		return;
	memset(e, 0, sizeof(*e));
	e->expire_ms = expire_ms;
	e->ttl_s = ttl_s;
	e->hash = k->hash;
	e->bloblen = (uint16_t)bloblen;
	e->kind = k->kind;
	e->family = k->family;
	e->keylen = k->len;
	memcpy(e->data, k->bytes, k->len);
	memcpy(e->data + k->len, blob, bloblen);

	cache_evict_to(c, c->max_entries - 1);
	cache_grow(c);
	pp = &c->buckets[k->hash & (c->nbuckets - 1)];
	e->hnext = *pp;
	*pp = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->count++;
	c->stats.inserts++;
}

int
cache_walk(const struct cache *c, cache_walk_fn *fn, void *arg)
{
	const struct cache_entry *e;
	struct cache_record r;

	TAILQ_FOREACH_REVERSE(e, &c->lru, cache_lru, lru) {
		r.kind = e->kind;
		r.family = e->family;
		r.keylen = e->keylen;
		r.bloblen = e->bloblen;
		r.expire_ms = e->expire_ms;
		r.key = e->data;
		r.blob = e->data + e->keylen;
		if (fn(arg, &r) == -1)
			return -1;
	}
	return 0;
}

int
cache_restore(struct cache *c, const struct cache_record *r, uint64_t now_ms)
{
	struct shmtab_key sk;
	struct cache_key k;

	if (c->max_entries == 0 || r->keylen == 0 ||
	    r->keylen > PROTO_NAME_MAX || r->bloblen == 0 ||
	    r->bloblen > PROTO_FRAME_MAX ||
	    r->expire_ms + (uint64_t)c->limits.stale_s * 1000 <= now_ms)
		return -1;
	memset(&k, 0, sizeof(k));
	k.kind = r->kind;
	k.family = r->family;
	k.len = r->keylen;
	memcpy(k.bytes, r->key, r->keylen);
	k.hash = cache_hash(c, &k);
	/* No look for the key first: the records of one walk have distinct
	 * keys, and that look is most of the time of a large restore. The
	 * TTL it was stored with is not in the file: what is left. */
	cache_insert(c, &k, r->blob, r->bloblen, r->expire_ms,
	    r->expire_ms > now_ms ? (uint32_t)((r->expire_ms - now_ms) / 1000) :
				    0);
	if (r->expire_ms > now_ms) {
		cache_shm_key(&k, &sk);
		/* Rounded down: the shared copy never outlives the entry. */
		shm_publish(c->shm, &sk, r->blob, r->bloblen,
		    cache_shm_ttl(c, (uint32_t)((r->expire_ms - now_ms) /
					1000)));
	}
	return 0;
}

static size_t
cache_flush_all(struct cache *c)
{
	size_t n = c->count;

	while (!TAILQ_EMPTY(&c->lru))
		cache_drop(c, TAILQ_FIRST(&c->lru));
	return n;
}

void
cache_set_dot_blind(struct cache *c, int on)
{
	if (c->dot_blind == (on != 0))
		return;
	/* Entries were filed under the other rule. */
	shm_flush(c->shm, NULL);
	cache_flush_all(c);
	c->dot_blind = on != 0;
}

size_t
cache_flush(struct cache *c, const char *name)
{
	static const uint8_t families[] = { CODNS_AF_UNSPEC, CODNS_AF_INET,
		CODNS_AF_INET6 };
	struct proto_request r;
	struct cache_key k;
	struct cache_entry *e;
	size_t i, len, n = 0;

	shm_flush(c->shm, name);
	if (name == NULL)
		return cache_flush_all(c);
	if ((len = strlen(name)) > PROTO_NAME_MAX)
		return 0;
	memset(&r, 0, sizeof(r));
	r.kind = PROTO_KIND_FORWARD;
	memcpy(r.name, name, len + 1);
	for (i = 0; i < sizeof(families); i++) {
		r.family = families[i];
		if (cache_key_make(c, &r, &k) == -1)
			continue;
		if ((e = *cache_slot(c, &k)) != NULL) {
			cache_drop(c, e);
			n++;
		}
	}
	return n;
}

size_t
cache_count(const struct cache *c)
{
	return c->count;
}

size_t
cache_capacity(const struct cache *c)
{
	return c->max_entries;
}

const struct cache_stats *
cache_stats(const struct cache *c)
{
	return &c->stats;
}
