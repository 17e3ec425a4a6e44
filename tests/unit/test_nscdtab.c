/* SPDX-License-Identifier: MIT */
/* tests/unit/test_nscdtab.c: the nscd-format hosts table, read the way
 * glibc's client reads it (nscd_helper.c __nscd_cache_search). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nscdtab.h"
#include "proto.h"

/* A client's view: map the descriptor read-only, as glibc does. */
struct view {
	const uint8_t *map;
	size_t size;
	const struct nscd_head *head;
	const uint8_t *data;
	size_t datasize;
};

static void
view_open(const struct nscdtab *t, struct view *v)
{
	struct stat st;
	size_t arr;

	assert_int_equal(fstat(nscdtab_fd(t), &st), 0);
	v->size = (size_t)st.st_size;
	v->map = mmap(NULL, v->size, PROT_READ, MAP_SHARED, nscdtab_fd(t), 0);
	assert_true(v->map != MAP_FAILED);
	v->head = (const struct nscd_head *)v->map;
	assert_int_equal(v->head->version, NSCD_DB_VERSION);
	assert_int_equal(v->head->header_size, 120);
	assert_true(v->head->module > 0);
	arr = ((size_t)v->head->module * 4 + 15) / 16 * 16;
	v->data = v->map + v->head->header_size + arr;
	v->datasize = (size_t)v->head->data_size;
	/* glibc refuses a mapping smaller than this. */
	assert_true(v->size >= 120 + arr + v->datasize);
}

static void
view_close(struct view *v)
{
	munmap((void *)v->map, v->size);
}

/* __nscd_cache_search, restated: the first usable entry of the key. */
static const struct nscd_datahead *
view_find(const struct view *v, int type, const void *key, size_t keylen)
{
	uint32_t work = v->head->array[nscdtab_hash(key, keylen) %
	    (uint32_t)v->head->module];
	size_t loops = 0;

	while (work != NSCD_ENDREF && work + 28 <= v->datasize &&
	    loops++ < 100000) {
		const struct nscd_hashentry *he =
		    (const struct nscd_hashentry *)(v->data + work);

		if (he->type == type && (size_t)he->len == keylen &&
		    he->key + keylen <= v->datasize &&
		    memcmp(key, v->data + he->key, keylen) == 0 &&
		    he->packet + sizeof(struct nscd_datahead) <= v->datasize) {
			const struct nscd_datahead *dh =
			    (const struct nscd_datahead *)(v->data + he->packet);

			if (dh->usable &&
			    he->packet + (size_t)dh->allocsize <= v->datasize)
				return dh;
		}
		work = he->next;
	}
	return NULL;
}

static size_t
put_ai(struct nscdtab *t, const char *name, uint8_t last, uint32_t ttl,
    time_t now)
{
	struct proto_answer a;
	uint8_t rec[4096];
	size_t len;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.naddrs = 2;
	a.addrs[0].family = CODNS_AF_INET;
	memcpy(a.addrs[0].a, (uint8_t[]){ 192, 0, 2, last }, 4);
	a.addrs[1].family = CODNS_AF_INET6;
	a.addrs[1].a[0] = 0x20;
	a.addrs[1].a[15] = last;
	len = nscdrec_ai(rec, sizeof(rec), &a, name);
	assert_true(len > 0);
	assert_int_equal(nscdtab_put(t, NSCD_GETAI, name, strlen(name) + 1,
	    rec, len, 0, ttl, now), 0);
	return len;
}

/* The IPv4 address's last byte of a GETAI record found for name; -1
 * when there is none. */
static int
ai_last(const struct view *v, const char *name)
{
	const struct nscd_datahead *dh = view_find(v, NSCD_GETAI, name,
	    strlen(name) + 1);
	const struct nscd_ai_hdr *h;
	const uint8_t *p;

	if (dh == NULL)
		return -1;
	h = (const struct nscd_ai_hdr *)(dh + 1);
	assert_int_equal(h->found, 1);
	assert_int_equal(h->naddrs, 2);
	assert_int_equal(h->addrslen, 20);
	assert_int_equal(h->canonlen, (int)strlen(name) + 1);
	assert_int_equal(dh->recsize, (int)sizeof(*h) + 20 + 2 + h->canonlen);
	p = (const uint8_t *)(h + 1);
	assert_int_equal(p[20], AF_INET);
	assert_int_equal(p[21], AF_INET6);
	assert_string_equal((const char *)p + 22, name);
	return p[3];
}

static void
test_hash(void **state)
{
	(void)state;
	/* sdbm: h = c + 65599 h. */
	assert_int_equal(nscdtab_hash("", 0), 0);
	assert_int_equal(nscdtab_hash("a", 1), 97);
	assert_int_equal(nscdtab_hash("ab", 2), 97u * 65599u + 98u);
	assert_int_equal(nscdtab_hash("abc", 3),
	    (97u * 65599u + 98u) * 65599u + 99u);
}

static void
test_put_find_replace(void **state)
{
	struct nscdtab *t = nscdtab_new(100);
	struct view v;

	(void)state;
	assert_non_null(t);
	view_open(t, &v);
	assert_int_equal(ai_last(&v, "web.test"), -1);
	put_ai(t, "web.test", 10, 60, 1000);
	put_ai(t, "db.test", 20, 60, 1000);
	assert_int_equal(ai_last(&v, "web.test"), 10);
	assert_int_equal(ai_last(&v, "db.test"), 20);
	/* A new answer is found first; the old one is unusable. */
	put_ai(t, "web.test", 11, 60, 1000);
	assert_int_equal(ai_last(&v, "web.test"), 11);
	assert_int_equal(v.head->nentries, 3);
	/* The key is exact: glibc compares bytes. */
	assert_int_equal(ai_last(&v, "WEB.test"), -1);
	/* Another type is another key. */
	assert_null(view_find(&v, NSCD_GETHOSTBYNAME, "web.test", 9));
	view_close(&v);
	nscdtab_free(t);
}

static void
test_expire(void **state)
{
	struct nscdtab *t = nscdtab_new(100);
	struct view v;
	const struct nscd_datahead *dh;

	(void)state;
	view_open(t, &v);
	put_ai(t, "short.test", 1, 5, 1000);
	put_ai(t, "long.test", 2, 50, 1000);
	dh = view_find(&v, NSCD_GETAI, "short.test", 11);
	assert_non_null(dh);
	assert_int_equal(dh->timeout, 1005);
	assert_int_equal(dh->ttl, 5);
	assert_int_equal(nscdtab_expire(t, 1004), 1005);
	assert_int_equal(ai_last(&v, "short.test"), 1);
	assert_int_equal(nscdtab_expire(t, 1005), 1050);
	assert_int_equal(ai_last(&v, "short.test"), -1);
	assert_int_equal(ai_last(&v, "long.test"), 2);
	assert_int_equal(nscdtab_stats(t)->expired, 1);
	assert_int_equal(nscdtab_expire(t, 1050), 0);
	assert_int_equal(ai_last(&v, "long.test"), -1);
	view_close(&v);
	nscdtab_free(t);
}

static void
test_drop_and_clear(void **state)
{
	struct nscdtab *t = nscdtab_new(100);
	struct view v;
	int32_t cycle;

	(void)state;
	view_open(t, &v);
	put_ai(t, "a.test", 1, 60, 1000);
	put_ai(t, "b.test", 2, 60, 1000);
	nscdtab_drop_name(t, "A.TEST");
	assert_int_equal(ai_last(&v, "a.test"), -1);
	assert_int_equal(ai_last(&v, "b.test"), 2);
	cycle = v.head->gc_cycle;
	nscdtab_clear(t);
	/* Two steps: odd while rebuilding, even after. */
	assert_int_equal(v.head->gc_cycle, cycle + 2);
	assert_int_equal(ai_last(&v, "b.test"), -1);
	assert_int_equal(v.head->nentries, 0);
	put_ai(t, "b.test", 3, 60, 1000);
	assert_int_equal(ai_last(&v, "b.test"), 3);
	view_close(&v);
	nscdtab_free(t);
}

/* A full half moves to the other; what a reader was reading stays. */
static void
test_wrap(void **state)
{
	struct nscdtab *t = nscdtab_new(16);
	struct view v;
	const struct nscd_datahead *old;
	char name[32], copy[512];
	int32_t cycle;
	int i, n = 0;

	(void)state;
	view_open(t, &v);
	put_ai(t, "first.test", 7, 60, 1000);
	old = view_find(&v, NSCD_GETAI, "first.test", 11);
	assert_non_null(old);
	memcpy(copy, old, sizeof(*old) + (size_t)old->recsize);
	cycle = v.head->gc_cycle;
	/* 64 KiB halves: some hundreds of answers fill one. */
	for (i = 0; i < 5000 && v.head->gc_cycle == cycle; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		put_ai(t, name, (uint8_t)i, 60, 1000);
		n++;
	}
	assert_int_equal(v.head->gc_cycle, cycle + 2);
	assert_true(n > 100);
	assert_int_equal(nscdtab_stats(t)->cleared, 1);
	/* The entry a reader held is unchanged, and no longer linked. */
	assert_memory_equal(copy, old, sizeof(*old) + (size_t)old->recsize);
	assert_int_equal(ai_last(&v, "first.test"), -1);
	/* The answer that did not fit is in the new half. */
	snprintf(name, sizeof(name), "n%d.test", n - 1);
	assert_int_equal(ai_last(&v, name), (uint8_t)(n - 1));
	assert_int_equal(v.head->nentries, 1);
	/* Fill the second half too: the first half is reused. */
	for (i = 0; i < 5000 && v.head->gc_cycle == cycle + 2; i++) {
		snprintf(name, sizeof(name), "m%d.test", i);
		put_ai(t, name, (uint8_t)i, 60, 1000);
	}
	assert_int_equal(v.head->gc_cycle, cycle + 4);
	assert_true(v.head->first_free < v.head->data_size / 2);
	view_close(&v);
	nscdtab_free(t);
}

static void
test_too_big(void **state)
{
	struct nscdtab *t = nscdtab_new(16);
	static uint8_t rec[64 * 1024];

	(void)state;
	assert_int_equal(nscdtab_put(t, NSCD_GETAI, "x.test", 7, rec,
	    sizeof(rec), 0, 60, 1000), -1);
	assert_int_equal(nscdtab_stats(t)->too_big, 1);
	assert_int_equal(nscdtab_put(t, NSCD_GETAI, "", 0, rec, 10, 0, 60,
	    1000), -1);
	nscdtab_free(t);
}

/* glibc's client rule (nscd_helper.c): a mapping is used while
 * nscd_certainly_running is 0 and timestamp + 300 >= now. A table touched
 * at T must be used until T + NSCDTAB_LIVE_S and left after, not 300 s
 * later (issue 22). */
static int
glibc_keeps(const struct nscd_head *h, time_t now)
{
	return h->nscd_certainly_running != 0 ||
	    (int64_t)h->timestamp + 300 >= (int64_t)now;
}

static void
test_touch_lag(void **state)
{
	struct nscdtab *t = nscdtab_new(16);
	const struct nscd_head *h = nscdtab_base(t);

	(void)state;
	nscdtab_touch(t, 1000000);
	assert_true(glibc_keeps(h, 1000000));
	assert_true(glibc_keeps(h, 1000000 + NSCDTAB_LIVE_S));
	assert_false(glibc_keeps(h, 1000000 + NSCDTAB_LIVE_S + 1));
	assert_false(glibc_keeps(h, 1000000 + 10));
	nscdtab_free(t);
}

/* Freed (codnsd stops or replaces it): clients must stop using it. */
static void
test_retire(void **state)
{
	struct nscdtab *t = nscdtab_new(16);
	int fd = dup(nscdtab_fd(t));
	const struct nscd_head *h;
	size_t size = nscdtab_size(t);

	(void)state;
	nscdtab_touch(t, 5000);
	nscdtab_free(t);
	h = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(h != MAP_FAILED);
	/* glibc remaps when not running and stale, and skips odd cycles. */
	assert_int_equal(h->nscd_certainly_running, 0);
	assert_int_equal(h->timestamp, 0);
	assert_int_equal(h->gc_cycle & 1, 1);
	munmap((void *)h, size);
	close(fd);
}

/* extra_data[0]: 0 while nobody counts interface changes, then never 0. */
static void
test_interfaces(void **state)
{
	struct nscdtab *t = nscdtab_new(16);
	struct view v;
	int i;

	(void)state;
	view_open(t, &v);
	assert_int_equal(v.head->extra_data[0], 0);
	nscdtab_bump_interfaces(t);
	assert_int_equal(v.head->extra_data[0], 1);
	nscdtab_bump_interfaces(t);
	assert_int_equal(v.head->extra_data[0], 2);
	((struct nscd_head *)nscdtab_base(t))->extra_data[0] = UINT32_MAX - 1;
	for (i = 0; i < 2; i++)
		nscdtab_bump_interfaces(t);
	assert_int_equal(v.head->extra_data[0], 1);
	view_close(&v);
	nscdtab_free(t);
}

static void
test_records(void **state)
{
	struct proto_answer a;
	uint8_t rec[4096];
	const struct nscd_hst_hdr *h = (const struct nscd_hst_hdr *)rec;
	const uint8_t *p;
	uint32_t l;
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.naliases = 1;
	strcpy(a.aliases[0], "www.test");
	a.naddrs = 3;
	a.addrs[0].family = CODNS_AF_INET6;
	a.addrs[0].a[15] = 1;
	a.addrs[1].family = CODNS_AF_INET;
	memcpy(a.addrs[1].a, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	a.addrs[2].family = CODNS_AF_INET;
	memcpy(a.addrs[2].a, (uint8_t[]){ 192, 0, 2, 2 }, 4);
	len = nscdrec_hst(rec, sizeof(rec), NSCD_GETHOSTBYNAME, &a, "web.test",
	    NULL);
	assert_int_equal(len, 32 + 9 + 4 + 8 + 9);
	assert_int_equal(h->version, 2);
	assert_int_equal(h->found, 1);
	assert_int_equal(h->h_name_len, 9);
	assert_int_equal(h->h_aliases_cnt, 1);
	assert_int_equal(h->h_addrtype, AF_INET);
	assert_int_equal(h->h_length, 4);
	assert_int_equal(h->h_addr_list_cnt, 2);
	p = rec + 32;
	assert_string_equal((const char *)p, "web.test");
	memcpy(&l, p + 9, 4);
	assert_int_equal(l, 9);
	assert_memory_equal(p + 13, ((uint8_t[]){ 192, 0, 2, 1, 192, 0, 2, 2 }),
	    8);
	assert_string_equal((const char *)p + 21, "www.test");
	/* v6: the one IPv6 address. */
	len = nscdrec_hst(rec, sizeof(rec), NSCD_GETHOSTBYNAMEv6, &a, "web.test",
	    NULL);
	assert_int_equal(h->h_length, 16);
	assert_int_equal(h->h_addrtype, AF_INET6);
	assert_int_equal(h->h_addr_list_cnt, 1);
	assert_int_equal(len, 32 + 9 + 4 + 16 + 9);
	/* No address of the family: 0 (the caller answers NO_DATA). */
	a.naddrs = 1;
	assert_int_equal(nscdrec_hst(rec, sizeof(rec), NSCD_GETHOSTBYNAME, &a,
	    "web.test", NULL), 0);
	/* Reverse: the address asked is the one listed. */
	len = nscdrec_hst(rec, sizeof(rec), NSCD_GETHOSTBYADDR, &a, "web.test",
	    (const uint8_t[]){ 192, 0, 2, 9 });
	assert_int_equal(h->h_addr_list_cnt, 1);
	assert_memory_equal(rec + 32 + 9 + 4, ((uint8_t[]){ 192, 0, 2, 9 }), 4);
	/* Too small a buffer: 0, nothing written past it. */
	assert_int_equal(nscdrec_hst(rec, 40, NSCD_GETHOSTBYNAMEv6, &a,
	    "web.test", NULL), 0);
	/* Negative. */
	assert_int_equal(nscdrec_neg(rec, sizeof(rec), NSCD_GETAI, 1), 24);
	assert_int_equal(((const struct nscd_ai_hdr *)rec)->found, 0);
	assert_int_equal(((const struct nscd_ai_hdr *)rec)->error, 1);
	assert_int_equal(nscdrec_neg(rec, sizeof(rec), NSCD_GETHOSTBYNAME, 4),
	    32);
	assert_int_equal(h->found, 0);
	assert_int_equal(h->error, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_put_find_replace),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_drop_and_clear),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_retire),
		cmocka_unit_test(test_touch_lag),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
