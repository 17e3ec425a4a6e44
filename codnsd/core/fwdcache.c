/* SPDX-License-Identifier: MIT */
/* codnsd/core/fwdcache.c: forwarded DNS answers, cached and coalesced. */
#include "fwdcache.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dnsmsg.h"
#include "namehash.h"
#include "upstream.h"

#define FWDCACHE_BUCKETS 4096
#define FWDCACHE_FWD_BUCKETS 256 /* questions in flight */
#define FWDCACHE_FLAT_MAX (128 * 1024) /* a flattened response */

/*
 * A cached answer: key (lowercased question name), then the records as
 * dnsmsg_response_flatten() writes them. TTLs are the ones received;
 * their age is taken off when the entry is served.
 */
struct fwdcache_entry {
	LIST_ENTRY(fwdcache_entry) hentry;
	TAILQ_ENTRY(fwdcache_entry) lru;
	uint64_t hash;
	uint64_t stored_ms, expire_ms;
	uint16_t qtype;
	uint8_t rcode;
	uint8_t keylen;
	size_t bloblen;
	uint8_t data[];
};

/* A question sent to the nameservers and not answered yet. */
struct fwdcache_fwd {
	struct fwdcache *fc;
	LIST_ENTRY(fwdcache_fwd) hentry;
	uint64_t hash;
	uint16_t qtype;
	struct dnsmsg_name key; /* lowercased name */
	struct upstream_query *uq;
	LIST_HEAD(, fwdcache_wait) waiters;
};

struct fwdcache {
	uint64_t (*now_ms)(void *clock);
	void *clock;
	const struct conf *conf;
	struct upstream *up;
	struct namehash_key hkey; /* clients choose the names */
	LIST_HEAD(, fwdcache_entry) buckets[FWDCACHE_BUCKETS];
	TAILQ_HEAD(fwdcache_lru, fwdcache_entry) lru; /* most recent first */
	size_t n, bytes;
	LIST_HEAD(, fwdcache_fwd) fwd[FWDCACHE_FWD_BUCKETS];
	uint8_t flat[FWDCACHE_FLAT_MAX];
};

static uint64_t
fwdcache_hash(const struct fwdcache *fc, const struct dnsmsg_name *key,
    uint16_t qtype)
{
	uint8_t in[2 + DNSMSG_NAME_MAX];

	in[0] = (uint8_t)(qtype >> 8);
	in[1] = (uint8_t)qtype;
	memcpy(in + 2, key->b, key->len);
	return namehash(&fc->hkey, in, 2 + (size_t)key->len);
}

static void
fwdcache_lower(const struct dnsmsg_name *n, struct dnsmsg_name *lc)
{
	size_t i;

	lc->len = n->len;
	for (i = 0; i < n->len; i++)
		lc->b[i] = n->b[i] >= 'A' && n->b[i] <= 'Z' ?
		    (uint8_t)(n->b[i] + 32) :
		    n->b[i];
}

static struct fwdcache_entry *
fwdcache_find(struct fwdcache *fc, const struct dnsmsg_name *key,
    uint16_t qtype, uint64_t hash)
{
	struct fwdcache_entry *e;

	LIST_FOREACH(e, &fc->buckets[hash % FWDCACHE_BUCKETS], hentry)
		if (e->hash == hash && e->qtype == qtype &&
		    e->keylen == key->len &&
		    memcmp(e->data, key->b, key->len) == 0)
			break;
	return e;
}

static void
fwdcache_drop(struct fwdcache *fc, struct fwdcache_entry *e)
{
	LIST_REMOVE(e, hentry);
	TAILQ_REMOVE(&fc->lru, e, lru);
	fc->n--;
	fc->bytes -= e->bloblen;
	free(e);
}

int
fwdcache_get(struct fwdcache *fc, const struct dnsmsg_query *m, int stale,
    struct fwdcache_answer *a)
{
	struct dnsmsg_name key;
	struct fwdcache_entry *e;
	uint64_t now = fc->now_ms(fc->clock);
	uint64_t window = (uint64_t)fc->conf->serve_stale_s * 1000;

	fwdcache_lower(&m->qname, &key);
	e = fwdcache_find(fc, &key, m->qtype, fwdcache_hash(fc, &key, m->qtype));
	if (e == NULL)
		return -1;
	if (now >= e->expire_ms && now - e->expire_ms >= window) {
		fwdcache_drop(fc, e);
		return -1;
	}
	if ((now < e->expire_ms) == (stale != 0))
		return -1;
	if (e != TAILQ_FIRST(&fc->lru)) {
		TAILQ_REMOVE(&fc->lru, e, lru);
		TAILQ_INSERT_HEAD(&fc->lru, e, lru);
	}
	a->rcode = e->rcode;
	a->flat = e->data + e->keylen;
	a->len = e->bloblen;
	a->age_s = (uint32_t)((now - e->stored_ms) / 1000);
	a->max_ttl = stale ? FWDCACHE_STALE_TTL :
	    (uint32_t)((e->expire_ms - now) / 1000);
	a->stale = stale;
	return 0;
}

/*
 * How long a forwarded answer may be cached: the smallest TTL of the
 * answer and authority records; for a negative answer the SOA's TTL or
 * MINIMUM, whichever is less (RFC 2308 section 5), and not at all
 * without a SOA. Clamped by cache-min-ttl, cache-max-ttl, negative-ttl.
 */
static uint32_t
fwdcache_ttl(const struct conf *c, uint8_t rcode, const uint8_t *flat,
    size_t len)
{
	struct buf b;
	struct dnsmsg_rr rr;
	uint32_t ttl = UINT32_MAX, neg = UINT32_MAX;
	int nanswers = 0, r;

	buf_init_read(&b, flat, len);
	while ((r = dnsmsg_flat_next(&b, &rr)) == 1) {
		if (rr.section == DNSMSG_AN)
			nanswers++;
		if (rr.section != DNSMSG_AR && rr.ttl < ttl)
			ttl = rr.ttl;
		if (rr.section == DNSMSG_NS && rr.type == DNSMSG_T_SOA)
			neg = dnsmsg_soa_negttl(&rr);
	}
	if (r == -1)
		return 0;
	if (rcode == DNSMSG_NXDOMAIN || nanswers == 0) {
		if (neg == UINT32_MAX)
			return 0;
		ttl = neg < c->negative_ttl_s ? neg : c->negative_ttl_s;
	}
	if (ttl < c->cache_min_ttl_s)
		ttl = c->cache_min_ttl_s;
	if (ttl > c->cache_max_ttl_s)
		ttl = c->cache_max_ttl_s;
	return ttl;
}

/* Store an answer to the question (key, qtype); returns its TTL (0: not
 * stored). */
static uint32_t
fwdcache_put(struct fwdcache *fc, const struct dnsmsg_name *key,
    uint16_t qtype, uint64_t hash, uint8_t rcode, const uint8_t *flat,
    size_t len)
{
	const struct conf *c = fc->conf;
	struct fwdcache_entry *e;
	uint64_t now = fc->now_ms(fc->clock);
	uint32_t ttl;

	if (c->cache_size == 0 || len > FWDCACHE_BYTES_MAX / 16 ||
	    (rcode != DNSMSG_NOERROR && rcode != DNSMSG_NXDOMAIN))
		return 0;
	if ((e = fwdcache_find(fc, key, qtype, hash)) != NULL)
		fwdcache_drop(fc, e);
	if ((ttl = fwdcache_ttl(c, rcode, flat, len)) == 0)
		return 0;
	while (!TAILQ_EMPTY(&fc->lru) && (fc->n >= c->cache_size ||
	    fc->bytes + len > FWDCACHE_BYTES_MAX))
		fwdcache_drop(fc, TAILQ_LAST(&fc->lru, fwdcache_lru));
	if ((e = malloc(sizeof(*e) + key->len + len)) == NULL)
		return 0;
	memset(e, 0, sizeof(*e));
	e->hash = hash;
	e->stored_ms = now;
	e->expire_ms = now + (uint64_t)ttl * 1000;
	e->qtype = qtype;
	e->rcode = rcode;
	e->keylen = key->len;
	e->bloblen = len;
	memcpy(e->data, key->b, key->len);
	memcpy(e->data + key->len, flat, len);
	LIST_INSERT_HEAD(&fc->buckets[hash % FWDCACHE_BUCKETS], e, hentry);
	TAILQ_INSERT_HEAD(&fc->lru, e, lru);
	fc->n++;
	fc->bytes += len;
	return ttl;
}

uint32_t
fwdcache_store(struct fwdcache *fc, const char *name, uint16_t qtype,
    uint8_t rcode, const uint8_t *flat, size_t len)
{
	struct dnsmsg_name n, key;

	if (dnsmsg_name_from_text(name, &n) == -1)
		return 0;
	fwdcache_lower(&n, &key);
	return fwdcache_put(fc, &key, qtype, fwdcache_hash(fc, &key, qtype),
	    rcode, flat, len);
}

size_t
fwdcache_count(const struct fwdcache *fc)
{
	return fc != NULL ? fc->n : 0;
}

size_t
fwdcache_flush(struct fwdcache *fc, const char *name)
{
	struct dnsmsg_name key, lc;
	struct fwdcache_entry *e, *next;
	size_t n = 0;

	if (fc == NULL)
		return 0;
	if (name != NULL && dnsmsg_name_from_text(name, &lc) == -1)
		return 0;
	if (name != NULL)
		fwdcache_lower(&lc, &key);
	for (e = TAILQ_FIRST(&fc->lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (name == NULL || (e->keylen == key.len &&
		    memcmp(e->data, key.b, key.len) == 0)) {
			fwdcache_drop(fc, e);
			n++;
		}
	}
	return n;
}

/* The nameservers' response, or NULL: cache it, then answer every
 * waiter, each taken off the list before its callback runs (a callback
 * may make another waiter leave). */
static void
fwdcache_done(void *arg, const uint8_t *msg, size_t len)
{
	struct fwdcache_fwd *f = arg;
	struct fwdcache *fc = f->fc;
	struct fwdcache_answer a;
	struct fwdcache_wait *w;
	struct buf flat;
	uint16_t flags;
	int ok;

	f->uq = NULL;
	LIST_REMOVE(f, hentry);
	memset(&a, 0, sizeof(a));
	buf_init_write(&flat, fc->flat, sizeof(fc->flat));
	ok = msg != NULL &&
	    dnsmsg_response_flatten(msg, len, &flat, &flags, &a.rcode) != -1;
	if (ok) {
		a.flat = fc->flat;
		a.len = flat.pos;
		a.max_ttl = fwdcache_put(fc, &f->key, f->qtype, f->hash,
		    a.rcode, fc->flat, flat.pos);
		if (a.max_ttl == 0)
			a.max_ttl = fc->conf->cache_max_ttl_s;
	}
	while ((w = LIST_FIRST(&f->waiters)) != NULL) {
		fwdcache_leave(w);
		w->cb(w->arg, ok ? &a : NULL);
	}
	free(f);
}

static struct fwdcache_fwd *
fwdcache_send(struct fwdcache *fc, const struct dnsmsg_query *m,
    const struct dnsmsg_name *lc, uint64_t hash)
{
	struct fwdcache_fwd *f;
	struct dnsmsg_writer w;
	uint8_t msg[DNSMSG_UDP_MIN];
	size_t len;

	dnsmsg_writer_init(&w, msg, sizeof(msg), sizeof(msg), 0);
	dnsmsg_put_header(&w, 0, DNSMSG_F_RD);
	dnsmsg_put_question(&w, lc, m->qtype, m->qclass);
	if ((len = dnsmsg_finish(&w, 0)) == 0 ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->fc = fc;
	f->hash = hash;
	f->qtype = m->qtype;
	f->key = *lc;
	LIST_INIT(&f->waiters);
	if ((f->uq = upstream_send_raw(fc->up, msg, len, fwdcache_done, f)) ==
	    NULL) {
		free(f);
		return NULL;
	}
	LIST_INSERT_HEAD(&fc->fwd[hash % FWDCACHE_FWD_BUCKETS], f, hentry);
	return f;
}

int
fwdcache_ask(struct fwdcache *fc, const struct dnsmsg_query *m,
    struct fwdcache_wait *w, fwdcache_cb *cb, void *arg)
{
	struct dnsmsg_name lc;
	struct fwdcache_fwd *f;
	uint64_t hash;
	int r = FWDCACHE_JOINED;

	fwdcache_lower(&m->qname, &lc);
	hash = fwdcache_hash(fc, &lc, m->qtype);
	LIST_FOREACH(f, &fc->fwd[hash % FWDCACHE_FWD_BUCKETS], hentry)
		if (f->hash == hash && f->qtype == m->qtype &&
		    dnsmsg_name_equal(&f->key, &lc))
			break;
	if (f == NULL) {
		r = FWDCACHE_SENT;
		if ((f = fwdcache_send(fc, m, &lc, hash)) == NULL)
			return -1;
	}
	w->f = f;
	w->cb = cb;
	w->arg = arg;
	LIST_INSERT_HEAD(&f->waiters, w, entry);
	return r;
}

void
fwdcache_leave(struct fwdcache_wait *w)
{
	if (w->f == NULL)
		return;
	LIST_REMOVE(w, entry);
	w->f = NULL;
}

struct fwdcache *
fwdcache_new(uint64_t (*now_ms)(void *clock), void *clock,
    const struct conf *conf, struct upstream *up)
{
	struct fwdcache *fc;

	if ((fc = calloc(1, sizeof(*fc))) == NULL)
		return NULL;
	if (namehash_keygen(&fc->hkey) == -1) {
		free(fc);
		return NULL;
	}
	fc->now_ms = now_ms;
	fc->clock = clock;
	fc->conf = conf;
	fc->up = up;
	TAILQ_INIT(&fc->lru);
	return fc;
}

void
fwdcache_free(struct fwdcache *fc)
{
	struct fwdcache_fwd *f;
	struct fwdcache_wait *w;
	size_t i;

	if (fc == NULL)
		return;
	for (i = 0; i < FWDCACHE_FWD_BUCKETS; i++)
		while ((f = LIST_FIRST(&fc->fwd[i])) != NULL) {
			LIST_REMOVE(f, hentry);
			while ((w = LIST_FIRST(&f->waiters)) != NULL)
				fwdcache_leave(w);
			upstream_cancel(f->uq);
			free(f);
		}
	while (!TAILQ_EMPTY(&fc->lru))
		fwdcache_drop(fc, TAILQ_FIRST(&fc->lru));
	free(fc);
}
