/* SPDX-License-Identifier: MIT */
/* codnsd/front/nscdtab.c: the hosts table glibc's nscd client reads (see
 * nscdtab.h). One writer, this process; readers never lock or write.
 *
 * Readers walk a bucket's chain from head->array, compare type and key,
 * and take the first entry whose datahead says usable. So:
 *  - an entry is written whole, then linked at the head of its chain with
 *    a release store: a reader sees the old chain or the new one;
 *  - expiry and flush only clear a usable byte;
 *  - space is never reused under a reader: the data area is two halves.
 *    Entries go into one half; when it is full the table is emptied
 *    (gc_cycle odd, buckets cleared, gc_cycle even) and the other half
 *    taken. A reader that was in the old half finds its bytes unchanged
 *    and, seeing gc_cycle move, asks again (glibc's __nscd_drop_map_ref).
 *    That half is written again only after the whole other half fills.
 */
#include "nscdtab.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif

/* What glibc's client reads, where it reads it (nscd-client.h). */
_Static_assert(sizeof(struct nscd_head) == 120, "nscd head");
_Static_assert(offsetof(struct nscd_head, module) == 40, "module");
_Static_assert(offsetof(struct nscd_head, array) == 120, "array");
_Static_assert(offsetof(struct nscd_hashentry, len) == 4, "len");
_Static_assert(offsetof(struct nscd_hashentry, next) == 16, "next");
_Static_assert(offsetof(struct nscd_hashentry, packet) == 20, "packet");
_Static_assert(sizeof(struct nscd_datahead) == 24, "datahead");
_Static_assert(offsetof(struct nscd_datahead, usable) == 18, "usable");
_Static_assert(sizeof(struct nscd_ai_hdr) == 24, "ai header");
_Static_assert(sizeof(struct nscd_hst_hdr) == 32, "hst header");

#define NSCDTAB_ALIGN 16 /* glibc rounds the bucket array up to this */
#define NSCDTAB_REC_AVG 192 /* bytes per answer, entry and key included */
#define NSCDTAB_HALF_MIN (64 * 1024)
#define NSCDTAB_HALF_MAX (512 * 1024 * 1024)

struct nscdtab_ent {
	uint32_t off; /* of the hashentry in the data area */
	uint32_t timeout;
};

struct nscdtab {
	int fd;
	uint8_t *map;
	size_t size;
	struct nscd_head *head;
	uint8_t *data;
	uint32_t half;   /* bytes of each half */
	uint32_t base;   /* start of the half in use */
	uint32_t pos;    /* next free byte, base <= pos <= base + half */
	struct nscdtab_ent *ents; /* the current half's entries, in order */
	size_t nents, entcap;
	struct nscdtab_stats stats;
};

uint32_t
nscdtab_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint32_t h = 0;

	while (len-- > 0)
		h = *p++ + 65599u * h;
	return h;
}

static size_t
nscdtab_round(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

struct nscdtab *
nscdtab_new(size_t entries)
{
	struct nscdtab *t;
	size_t module, half, arr;

	if (entries < 16)
		entries = 16;
	if (entries > 4000000)
		entries = 4000000;
	/* About two entries per bucket at the end of a half. */
	module = entries / 2 + 1;
	if (module % 2 == 0)
		module++;
	half = entries * NSCDTAB_REC_AVG;
	if (half < NSCDTAB_HALF_MIN)
		half = NSCDTAB_HALF_MIN;
	if (half > NSCDTAB_HALF_MAX)
		half = NSCDTAB_HALF_MAX;
	half = nscdtab_round(half, 8);
	arr = nscdtab_round(module * sizeof(uint32_t), NSCDTAB_ALIGN);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->size = sizeof(struct nscd_head) + arr + 2 * half;
	t->half = (uint32_t)half;
	if ((t->fd = memfd_create("codnsd-nscd-hosts", MFD_CLOEXEC)) == -1)
		goto fail;
	/* Every page reserved now, as for the shared answer table: a client
	 * must never meet a page the kernel cannot supply (SIGBUS). */
	if (ftruncate(t->fd, (off_t)t->size) == -1 ||
	    (errno = posix_fallocate(t->fd, 0, (off_t)t->size)) != 0)
		goto fail;
	t->map = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd,
	    0);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		goto fail;
	}
	t->head = (struct nscd_head *)t->map;
	t->data = t->map + sizeof(struct nscd_head) + arr;
	t->head->version = NSCD_DB_VERSION;
	t->head->header_size = sizeof(struct nscd_head);
	t->head->module = (int32_t)module;
	t->head->data_size = (int32_t)(2 * half);
	/* 0 until the owner watches interface changes: clients then ask the
	 * kernel on every AI_ADDRCONFIG lookup, as they do without nscd. */
	t->head->extra_data[0] = 0;
	memset(t->head->array, 0xff, module * sizeof(uint32_t));
	t->pos = t->base = 0;
	return t;
fail:
	nscdtab_free(t);
	return NULL;
}

void
nscdtab_free(struct nscdtab *t)
{
	int e = errno;

	if (t == NULL)
		return;
	if (t->map != NULL) {
		/* Clients holding it: remap at their next lookup, and use
		 * nothing from it meanwhile (an odd cycle means "rebuilding"). */
		__atomic_store_n(&t->head->gc_cycle, t->head->gc_cycle | 1,
		    __ATOMIC_RELEASE);
		t->head->nscd_certainly_running = 0;
		__atomic_store_n(&t->head->timestamp, 0, __ATOMIC_RELEASE);
		munmap(t->map, t->size);
	}
	if (t->fd != -1)
		close(t->fd);
	free(t->ents);
	free(t);
	errno = e;
}

int
nscdtab_fd(const struct nscdtab *t)
{
	return t->fd;
}

size_t
nscdtab_size(const struct nscdtab *t)
{
	return t->size;
}

const void *
nscdtab_base(const struct nscdtab *t)
{
	return t->map;
}

size_t
nscdtab_entries(const struct nscdtab *t)
{
	return t->nents;
}

const struct nscdtab_stats *
nscdtab_stats(const struct nscdtab *t)
{
	return &t->stats;
}

/*
 * glibc's client keeps using a mapping while nscd_certainly_running is 0
 * and timestamp + 300 s (its MAPPING_TIMEOUT) is not yet in the past, by
 * its wall clock; after that it asks the socket for a new one, and a dead
 * daemon's table is dropped. So the published time lags by just under
 * 300 s: a table not touched for NSCDTAB_LIVE_S seconds is left by every
 * client, instead of 5 minutes after a crash.
 */
void
nscdtab_touch(struct nscdtab *t, time_t now)
{
	time_t ts = now - NSCDTAB_MAPPING_TIMEOUT + NSCDTAB_LIVE_S;

	__atomic_store_n(&t->head->timestamp, (uint64_t)(ts > 0 ? ts : 0),
	    __ATOMIC_RELEASE);
}

void
nscdtab_bump_interfaces(struct nscdtab *t)
{
	uint32_t v = t->head->extra_data[0] + 1;

	/* 0 means "no counter": clients would ask the kernel every time. */
	if (v == 0)
		v = 1;
	__atomic_store_n(&t->head->extra_data[0], v, __ATOMIC_RELEASE);
}

/* Empty the table and move to the other half (see the top comment). */
static void
nscdtab_rebuild(struct nscdtab *t)
{
	struct nscd_head *h = t->head;

	__atomic_store_n(&h->gc_cycle, h->gc_cycle + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memset(h->array, 0xff, (size_t)h->module * sizeof(uint32_t));
	t->base = t->base == 0 ? t->half : 0;
	t->pos = t->base;
	t->nents = 0;
	h->first_free = (int32_t)t->pos;
	h->nentries = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&h->gc_cycle, h->gc_cycle + 1, __ATOMIC_RELEASE);
	t->stats.cleared++;
}

void
nscdtab_clear(struct nscdtab *t)
{
	nscdtab_rebuild(t);
}

static struct nscd_hashentry *
nscdtab_he(const struct nscdtab *t, uint32_t off)
{
	return (struct nscd_hashentry *)(t->data + off);
}

static struct nscd_datahead *
nscdtab_dh(const struct nscdtab *t, const struct nscd_hashentry *he)
{
	return (struct nscd_datahead *)(t->data + he->packet);
}

static void
nscdtab_unusable(struct nscdtab *t, const struct nscd_hashentry *he)
{
	__atomic_store_n(&nscdtab_dh(t, he)->usable, 0, __ATOMIC_RELEASE);
}

int
nscdtab_put(struct nscdtab *t, int type, const void *key, size_t keylen,
    const void *rec, size_t reclen, int notfound, uint32_t ttl, time_t now)
{
	struct nscd_hashentry *he;
	struct nscd_datahead *dh;
	struct nscdtab_ent *ne;
	size_t need, keyoff, dhoff, i;
	uint32_t bucket, off, o, *slot;
	const uint8_t *k = key;

	if (keylen == 0 || keylen > NSCD_KEY_MAX)
		return -1;
	keyoff = sizeof(*he);
	dhoff = nscdtab_round(keyoff + keylen, 8);
	need = nscdtab_round(dhoff + sizeof(*dh) + reclen, 8);
	if (need > t->half / 4) {
		t->stats.too_big++;
		return -1;
	}
	if (t->nents == t->entcap) {
		size_t cap = t->entcap ? 2 * t->entcap : 256;

		if ((ne = realloc(t->ents, cap * sizeof(*ne))) == NULL)
			return -1;
		t->ents = ne;
		t->entcap = cap;
	}
	if (t->pos + need > t->base + t->half)
		nscdtab_rebuild(t); /* empties ents too */
	off = t->pos;
	he = nscdtab_he(t, off);
	dh = (struct nscd_datahead *)(t->data + off + dhoff);
	memset(he, 0, need);
	memcpy(t->data + off + keyoff, k, keylen);
	dh->allocsize = (int32_t)(need - dhoff);
	dh->recsize = (int32_t)reclen;
	dh->timeout = (uint64_t)now + ttl;
	dh->notfound = notfound != 0;
	dh->usable = 1;
	dh->ttl = ttl;
	memcpy(dh + 1, rec, reclen);
	he->type = (uint8_t)type;
	he->first = 1;
	he->len = (int32_t)keylen;
	he->key = off + (uint32_t)keyoff;
	he->owner = -1;
	he->packet = off + (uint32_t)dhoff;
	bucket = nscdtab_hash(k, keylen) % (uint32_t)t->head->module;
	slot = &t->head->array[bucket];
	he->next = *slot;
	/* Older entries of the key stay behind this one, unusable. The
	 * chain holds only this half's entries (a rebuild empties it). */
	for (o = he->next, i = 0; o != NSCD_ENDREF && i <= t->nents;
	     o = nscdtab_he(t, o)->next, i++) {
		const struct nscd_hashentry *oe = nscdtab_he(t, o);

		if (oe->type == type && (size_t)oe->len == keylen &&
		    memcmp(t->data + oe->key, k, keylen) == 0)
			nscdtab_unusable(t, oe);
	}
	__atomic_store_n(slot, off, __ATOMIC_RELEASE);
	t->pos += (uint32_t)need;
	t->head->first_free = (int32_t)t->pos;
	t->head->nentries = (int32_t)t->nents + 1;
	if (t->head->nentries > t->head->maxnentries)
		t->head->maxnentries = t->head->nentries;
	t->ents[t->nents].off = off;
	t->ents[t->nents].timeout = (uint32_t)dh->timeout;
	t->nents++;
	t->stats.published++;
	return 0;
}

time_t
nscdtab_expire(struct nscdtab *t, time_t now)
{
	time_t next = 0;
	size_t i;

	for (i = 0; i < t->nents; i++) {
		struct nscd_hashentry *he = nscdtab_he(t, t->ents[i].off);

		if (!nscdtab_dh(t, he)->usable)
			continue;
		if ((time_t)t->ents[i].timeout <= now) {
			nscdtab_unusable(t, he);
			t->stats.expired++;
		} else if (next == 0 || (time_t)t->ents[i].timeout < next)
			next = (time_t)t->ents[i].timeout;
	}
	return next;
}

void
nscdtab_drop_name(struct nscdtab *t, const char *name)
{
	size_t i, n;

	if (name == NULL) {
		nscdtab_clear(t);
		return;
	}
	n = strlen(name) + 1;
	for (i = 0; i < t->nents; i++) {
		struct nscd_hashentry *he = nscdtab_he(t, t->ents[i].off);

		if (he->type == NSCD_GETHOSTBYADDR ||
		    he->type == NSCD_GETHOSTBYADDRv6)
			continue;
		if ((size_t)he->len == n &&
		    strncasecmp((const char *)t->data + he->key, name, n) == 0)
			nscdtab_unusable(t, he);
	}
}

/* --- responses --- */

static int
nscdrec_family(uint8_t f)
{
	return f == CODNS_AF_INET ? AF_INET : AF_INET6;
}

size_t
nscdrec_ai(uint8_t *out, size_t cap, const struct proto_answer *a,
    const char *name)
{
	struct nscd_ai_hdr h;
	size_t i, len, n = 0, alen = 0, nlen = strlen(name) + 1;
	uint8_t *p;

	for (i = 0; i < a->naddrs; i++) {
		len = proto_addr_len(a->addrs[i].family);
		if (len == 0)
			continue;
		n++;
		alen += len;
	}
	if (n == 0 || sizeof(h) + alen + n + nlen > cap)
		return 0;
	memset(&h, 0, sizeof(h));
	h.version = NSCD_VERSION;
	h.found = 1;
	h.naddrs = (int32_t)n;
	h.addrslen = (int32_t)alen;
	h.canonlen = (int32_t)nlen;
	memcpy(out, &h, sizeof(h));
	p = out + sizeof(h);
	for (i = 0; i < a->naddrs; i++) {
		if ((len = proto_addr_len(a->addrs[i].family)) == 0)
			continue;
		memcpy(p, a->addrs[i].a, len);
		p += len;
	}
	for (i = 0; i < a->naddrs; i++)
		if (proto_addr_len(a->addrs[i].family) != 0)
			*p++ = (uint8_t)nscdrec_family(a->addrs[i].family);
	memcpy(p, name, nlen);
	return (size_t)(p + nlen - out);
}

size_t
nscdrec_hst(uint8_t *out, size_t cap, int type, const struct proto_answer *a,
    const char *name, const uint8_t *addr)
{
	struct nscd_hst_hdr h;
	int v6 = type == NSCD_GETHOSTBYNAMEv6 || type == NSCD_GETHOSTBYADDRv6;
	int byaddr = type == NSCD_GETHOSTBYADDR || type == NSCD_GETHOSTBYADDRv6;
	uint8_t want = v6 ? CODNS_AF_INET6 : CODNS_AF_INET;
	size_t i, n = 0, alen = v6 ? 16 : 4, nlen = strlen(name) + 1;
	size_t total;
	uint32_t l;
	uint8_t *p;

	if (byaddr)
		n = 1;
	else
		for (i = 0; i < a->naddrs; i++)
			n += a->addrs[i].family == want;
	if (n == 0)
		return 0;
	total = sizeof(h) + nlen + n * alen;
	for (i = 0; i < a->naliases; i++)
		total += sizeof(uint32_t) + strlen(a->aliases[i]) + 1;
	if (total > cap)
		return 0;
	memset(&h, 0, sizeof(h));
	h.version = NSCD_VERSION;
	h.found = 1;
	h.h_name_len = (int32_t)nlen;
	h.h_aliases_cnt = a->naliases;
	h.h_addrtype = v6 ? AF_INET6 : AF_INET;
	h.h_length = (int32_t)alen;
	h.h_addr_list_cnt = (int32_t)n;
	memcpy(out, &h, sizeof(h));
	p = out + sizeof(h);
	memcpy(p, name, nlen);
	p += nlen;
	for (i = 0; i < a->naliases; i++) {
		l = (uint32_t)strlen(a->aliases[i]) + 1;
		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
	}
	if (byaddr) {
		memcpy(p, addr, alen);
		p += alen;
	} else
		for (i = 0; i < a->naddrs; i++)
			if (a->addrs[i].family == want) {
				memcpy(p, a->addrs[i].a, alen);
				p += alen;
			}
	for (i = 0; i < a->naliases; i++) {
		l = (uint32_t)strlen(a->aliases[i]) + 1;
		memcpy(p, a->aliases[i], l);
		p += l;
	}
	return (size_t)(p - out);
}

size_t
nscdrec_neg(uint8_t *out, size_t cap, int type, int herr)
{
	struct nscd_ai_hdr ai;
	struct nscd_hst_hdr h;

	if (type == NSCD_GETAI) {
		if (cap < sizeof(ai))
			return 0;
		memset(&ai, 0, sizeof(ai));
		ai.version = NSCD_VERSION;
		ai.error = herr;
		memcpy(out, &ai, sizeof(ai));
		return sizeof(ai);
	}
	if (cap < sizeof(h))
		return 0;
	memset(&h, 0, sizeof(h));
	h.version = NSCD_VERSION;
	h.h_name_len = 0;
	h.error = herr;
	memcpy(out, &h, sizeof(h));
	return sizeof(h);
}
