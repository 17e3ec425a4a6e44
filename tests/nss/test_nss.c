/* SPDX-License-Identifier: MIT */
/* tests/nss/test_nss.c: dlopen()s libnss_codns.so.2 and calls every entry. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fake_zone.h"

/*
 * Run by run_nss.sh: NSS_CODNS_MODULE is the built module,
 * CODNS_LOOKUP_ADDRESS a fakesrv, CODNS_HANG_ADDRESS a fakesrv -H.
 */

enum kind { N4, N3, N2, N1, A2, A1 };

struct query {
	enum kind kind;
	const char *name;
	int af;
	uint8_t addr[16];
	socklen_t alen;
};

struct reply {
	enum nss_status st;
	int err;
	int herr;
	int32_t ttl;
	char *canon;
	struct hostent he;
	struct gaih_addrtuple *pat;
};

static struct {
	void *dl;
	nss_gethostbyname4_r *n4;
	nss_gethostbyname3_r *n3;
	nss_gethostbyname2_r *n2;
	nss_gethostbyname_r *n1;
	nss_gethostbyaddr2_r *a2;
	nss_gethostbyaddr_r *a1;
	char addr[128];
	const char *hang;
} m;

#define SENTINEL_ERRNO EDOM
#define BIGBUF 65536
#define GUARD 64
#define PAD 8

static const enum kind forward_kinds[] = { N4, N3, N2, N1 };

static struct query
fwd(enum kind k, const char *name, int af)
{
	struct query q = { .kind = k, .name = name, .af = af };

	return q;
}

static struct query
rev(enum kind k, int af, const char *text)
{
	struct query q = { .kind = k, .af = af };

	q.alen = af == AF_INET ? 4 : 16;
	assert_int_equal(inet_pton(af, text, q.addr), 1);
	return q;
}

/* Calls the entry point; errno is the sentinel before and is checked by
 * the callers. errnop is a separate int unless via_errno. */
static void
call(const struct query *q, char *buf, size_t len, struct reply *r,
    int via_errno)
{
	int *errnop = via_errno ? &errno : &r->err;

	memset(r, 0, sizeof(*r));
	r->ttl = -1;
	r->err = -1;
	r->herr = -1;
	errno = SENTINEL_ERRNO;
	switch (q->kind) {
	case N4:
		r->st = m.n4(q->name, &r->pat, buf, len, errnop, &r->herr,
		    &r->ttl);
		break;
	case N3:
		r->st = m.n3(q->name, q->af, &r->he, buf, len, errnop,
		    &r->herr, &r->ttl, &r->canon);
		break;
	case N2:
		r->st = m.n2(q->name, q->af, &r->he, buf, len, errnop,
		    &r->herr);
		break;
	case N1:
		r->st = m.n1(q->name, &r->he, buf, len, errnop, &r->herr);
		break;
	case A2:
		r->st = m.a2(q->addr, q->alen, q->af, &r->he, buf, len, errnop,
		    &r->herr, &r->ttl);
		break;
	case A1:
		r->st = m.a1(q->addr, q->alen, q->af, &r->he, buf, len, errnop,
		    &r->herr);
		break;
	}
	if (via_errno)
		r->err = errno;
}

static void
call_big(const struct query *q, struct reply *r)
{
	static __thread char buf[BIGBUF];

	call(q, buf, sizeof(buf), r, 0);
}

static void
expect_fail(const struct query *q, enum nss_status st, int herr, int err)
{
	struct reply r;

	call_big(q, &r);
	assert_int_equal(r.st, st);
	assert_int_equal(r.herr, herr);
	if (err != 0)
		assert_int_equal(r.err, err);
	assert_int_equal(errno, SENTINEL_ERRNO);
}

static void
expect_fail_all_forward(const char *name, enum nss_status st, int herr,
    int err)
{
	struct query q;
	size_t i;

	for (i = 0; i < sizeof(forward_kinds) / sizeof(forward_kinds[0]);
	    i++) {
		q = fwd(forward_kinds[i], name, AF_INET);
		expect_fail(&q, st, herr, err);
	}
	q = fwd(N3, name, AF_INET6);
	expect_fail(&q, st, herr, err);
}

static void
assert_addr(const void *got, int af, const char *text)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(af, text, want), 1);
	assert_memory_equal(got, want, af == AF_INET ? 4 : 16);
}

static size_t
count(char **v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static int
setup(void **state)
{
	const char *path = getenv("NSS_CODNS_MODULE");
	const char *a = getenv("CODNS_LOOKUP_ADDRESS");

	(void)state;
	if (path == NULL || a == NULL || strlen(a) >= sizeof(m.addr))
		return -1;
	snprintf(m.addr, sizeof(m.addr), "%s", a);
	m.hang = getenv("CODNS_HANG_ADDRESS");
	if ((m.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return -1;
	}
	m.n4 = (nss_gethostbyname4_r *)dlsym(m.dl,
	    "_nss_codns_gethostbyname4_r");
	m.n3 = (nss_gethostbyname3_r *)dlsym(m.dl,
	    "_nss_codns_gethostbyname3_r");
	m.n2 = (nss_gethostbyname2_r *)dlsym(m.dl,
	    "_nss_codns_gethostbyname2_r");
	m.n1 = (nss_gethostbyname_r *)dlsym(m.dl,
	    "_nss_codns_gethostbyname_r");
	m.a2 = (nss_gethostbyaddr2_r *)dlsym(m.dl,
	    "_nss_codns_gethostbyaddr2_r");
	m.a1 = (nss_gethostbyaddr_r *)dlsym(m.dl,
	    "_nss_codns_gethostbyaddr_r");
	if (!m.n4 || !m.n3 || !m.n2 || !m.n1 || !m.a2 || !m.a1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (m.dl != NULL)
		dlclose(m.dl);
	return 0;
}

/* Only the six entry points leave the module (version script). */
static void
test_exports(void **state)
{
	(void)state;
	assert_null(dlsym(m.dl, "codns_client_open"));
	assert_null(dlsym(m.dl, "proto_request_encode"));
	assert_null(dlsym(m.dl, "_nss_codns_gethostent_r"));
}

static void
test_name4_found4(void **state)
{
	struct query q = fwd(N4, "found4.test", AF_UNSPEC);
	struct reply r;
	struct gaih_addrtuple *t;

	(void)state;
	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(errno, SENTINEL_ERRNO);
	assert_int_equal(r.err, -1);
	assert_int_equal(r.ttl, FAKE_TTL4);
	t = r.pat;
	assert_non_null(t);
	assert_string_equal(t->name, "canon4.test");
	assert_int_equal(t->family, AF_INET);
	assert_int_equal(t->scopeid, 0);
	assert_addr(t->addr, AF_INET, "192.0.2.10");
	t = t->next;
	assert_non_null(t);
	assert_null(t->name);
	assert_int_equal(t->family, AF_INET);
	assert_addr(t->addr, AF_INET, "192.0.2.11");
	assert_null(t->next);
}

static void
test_name4_unspec_both(void **state)
{
	struct query q = fwd(N4, "both.test", AF_UNSPEC);
	struct reply r;
	struct gaih_addrtuple *t;

	(void)state;
	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(r.ttl, FAKE_TTLBOTH);
	t = r.pat;
	assert_string_equal(t->name, "both.test");
	assert_int_equal(t->family, AF_INET);
	assert_addr(t->addr, AF_INET, "192.0.2.20");
	t = t->next;
	assert_non_null(t);
	assert_int_equal(t->family, AF_INET6);
	assert_addr(t->addr, AF_INET6, "2001:db8::20");
	assert_null(t->next);
}

/* A caller-supplied first tuple (older glibc) is filled in place. */
static void
test_name4_preset_tuple(void **state)
{
	static char buf[4096];
	struct gaih_addrtuple mine, *pat = &mine;
	enum nss_status st;
	int err = 0, herr = 0;

	(void)state;
	memset(&mine, 0, sizeof(mine));
	st = m.n4("found6.test", &pat, buf, sizeof(buf), &err, &herr, NULL);
	assert_int_equal(st, NSS_STATUS_SUCCESS);
	assert_ptr_equal(pat, &mine);
	assert_string_equal(mine.name, "found6.test");
	assert_int_equal(mine.family, AF_INET6);
	assert_addr(mine.addr, AF_INET6, "2001:db8::10");
	assert_non_null(mine.next);
	assert_addr(mine.next->addr, AF_INET6, "2001:db8::11");
	assert_null(mine.next->next);
}

static void
check_found4_hostent(const struct reply *r)
{
	const struct hostent *he = &r->he;

	assert_int_equal(r->st, NSS_STATUS_SUCCESS);
	assert_int_equal(errno, SENTINEL_ERRNO);
	assert_string_equal(he->h_name, "canon4.test");
	assert_int_equal(he->h_addrtype, AF_INET);
	assert_int_equal(he->h_length, 4);
	assert_int_equal(count(he->h_aliases), 2);
	assert_string_equal(he->h_aliases[0], "alias4.test");
	assert_string_equal(he->h_aliases[1], "found4.test");
	assert_int_equal(count(he->h_addr_list), 2);
	assert_addr(he->h_addr_list[0], AF_INET, "192.0.2.10");
	assert_addr(he->h_addr_list[1], AF_INET, "192.0.2.11");
}

static void
test_name3_found4(void **state)
{
	struct query q = fwd(N3, "found4.test", AF_INET);
	struct reply r;

	(void)state;
	call_big(&q, &r);
	check_found4_hostent(&r);
	assert_int_equal(r.ttl, FAKE_TTL4);
	assert_ptr_equal(r.canon, r.he.h_name);
}

static void
test_name2_name1_found4(void **state)
{
	struct query q2 = fwd(N2, "found4.test", AF_INET);
	struct query q1 = fwd(N1, "found4.test", AF_INET);
	struct reply r;

	(void)state;
	call_big(&q2, &r);
	check_found4_hostent(&r);
	call_big(&q1, &r);
	check_found4_hostent(&r);
}

static void
test_name3_found6(void **state)
{
	struct query q = fwd(N3, "found6.test", AF_INET6);
	struct reply r;

	(void)state;
	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(r.ttl, FAKE_TTL6);
	assert_string_equal(r.he.h_name, "found6.test");
	assert_int_equal(count(r.he.h_aliases), 0);
	assert_int_equal(r.he.h_addrtype, AF_INET6);
	assert_int_equal(r.he.h_length, 16);
	assert_int_equal(count(r.he.h_addr_list), 2);
	assert_addr(r.he.h_addr_list[0], AF_INET6, "2001:db8::10");
	assert_addr(r.he.h_addr_list[1], AF_INET6, "2001:db8::11");
	q = fwd(N2, "both.test", AF_INET6);
	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_string_equal(r.he.h_name, "both.test");
	assert_int_equal(count(r.he.h_aliases), 0);
	assert_int_equal(count(r.he.h_addr_list), 1);
	assert_addr(r.he.h_addr_list[0], AF_INET6, "2001:db8::20");
}

static void
test_notfound(void **state)
{
	(void)state;
	expect_fail_all_forward("nx.test", NSS_STATUS_NOTFOUND,
	    HOST_NOT_FOUND, ENOENT);
}

static void
test_nodata(void **state)
{
	struct query q;
	struct reply r;

	(void)state;
	expect_fail_all_forward("nodata.test", NSS_STATUS_NOTFOUND, NO_DATA,
	    ENOENT);
	/* fakesrv says NODATA for the missing family... */
	q = fwd(N3, "found6.test", AF_INET);
	expect_fail(&q, NSS_STATUS_NOTFOUND, NO_DATA, ENOENT);
	/* ...and when a server says FOUND without one, the module does. */
	q = fwd(N2, "mismatch.test", AF_INET6);
	expect_fail(&q, NSS_STATUS_NOTFOUND, NO_DATA, ENOENT);
	q = fwd(N2, "mismatch.test", AF_INET);
	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(count(r.he.h_addr_list), 1);
	assert_addr(r.he.h_addr_list[0], AF_INET, "192.0.2.30");
}

static void
test_tryagain(void **state)
{
	(void)state;
	expect_fail_all_forward("again.test", NSS_STATUS_TRYAGAIN, TRY_AGAIN,
	    EAGAIN);
}

static void
test_unavail_answer(void **state)
{
	(void)state;
	expect_fail_all_forward("unavail.test", NSS_STATUS_UNAVAIL,
	    NO_RECOVERY, 0);
	expect_fail_all_forward("garbage.test", NSS_STATUS_UNAVAIL,
	    NO_RECOVERY, 0);
}

static void
test_bad_input(void **state)
{
	struct query q;
	char longname[300];

	(void)state;
	expect_fail_all_forward("bad name.test", NSS_STATUS_NOTFOUND,
	    HOST_NOT_FOUND, ENOENT);
	expect_fail_all_forward("", NSS_STATUS_NOTFOUND, HOST_NOT_FOUND,
	    ENOENT);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_fail_all_forward(longname, NSS_STATUS_NOTFOUND, HOST_NOT_FOUND,
	    ENOENT);
	q = fwd(N3, "found4.test", AF_UNIX);
	expect_fail(&q, NSS_STATUS_UNAVAIL, NETDB_INTERNAL, EAFNOSUPPORT);
	q = rev(A2, AF_INET, "192.0.2.1");
	q.af = AF_UNIX;
	expect_fail(&q, NSS_STATUS_UNAVAIL, NETDB_INTERNAL, EAFNOSUPPORT);
	q = rev(A1, AF_INET6, "2001:db8::1");
	q.alen = 4;
	expect_fail(&q, NSS_STATUS_UNAVAIL, NETDB_INTERNAL, EAFNOSUPPORT);
}

static void
check_reverse(enum kind k, int af, const char *text, const char *name,
    const char *alias)
{
	struct query q = rev(k, af, text);
	struct reply r;

	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(errno, SENTINEL_ERRNO);
	assert_string_equal(r.he.h_name, name);
	assert_int_equal(r.he.h_addrtype, af);
	assert_int_equal(r.he.h_length, af == AF_INET ? 4 : 16);
	assert_int_equal(count(r.he.h_addr_list), 1);
	assert_addr(r.he.h_addr_list[0], af, text);
	if (alias != NULL) {
		assert_int_equal(count(r.he.h_aliases), 1);
		assert_string_equal(r.he.h_aliases[0], alias);
	} else
		assert_int_equal(count(r.he.h_aliases), 0);
	if (k == A2)
		assert_int_equal(r.ttl, 3600);
}

static void
test_reverse(void **state)
{
	struct query q;

	(void)state;
	check_reverse(A2, AF_INET, "192.0.2.1", "host1.test",
	    "host1-alias.test");
	check_reverse(A1, AF_INET, "192.0.2.1", "host1.test",
	    "host1-alias.test");
	check_reverse(A2, AF_INET6, "2001:db8::1", "host6.test", NULL);
	check_reverse(A1, AF_INET6, "2001:db8::1", "host6.test", NULL);
	/* A v4-mapped address is asked as IPv4 and answered as given. */
	check_reverse(A2, AF_INET6, "::ffff:192.0.2.1", "host1.test",
	    "host1-alias.test");
	q = rev(A2, AF_INET, "192.0.2.99");
	expect_fail(&q, NSS_STATUS_NOTFOUND, HOST_NOT_FOUND, ENOENT);
	q = rev(A1, AF_INET6, "2001:db8::99");
	expect_fail(&q, NSS_STATUS_NOTFOUND, HOST_NOT_FOUND, ENOENT);
}

static void
check_big(const struct reply *r, int af)
{
	char want[256];
	unsigned char a[16];
	size_t i;

	assert_int_equal(r->st, NSS_STATUS_SUCCESS);
	fake_big_cname(want);
	assert_string_equal(r->he.h_name, want);
	assert_int_equal(count(r->he.h_aliases), FAKE_BIG_NALIASES + 1);
	for (i = 0; i < FAKE_BIG_NALIASES; i++) {
		fake_big_alias((unsigned)i, want);
		assert_string_equal(r->he.h_aliases[i], want);
	}
	assert_string_equal(r->he.h_aliases[i], "big.test");
	assert_int_equal(count(r->he.h_addr_list), FAKE_BIG_NADDRS);
	for (i = 0; i < FAKE_BIG_NADDRS; i++) {
		if (af == AF_INET)
			fake_big_addr4((unsigned)i, a);
		else
			fake_big_addr6((unsigned)i, a);
		assert_memory_equal(r->he.h_addr_list[i], a,
		    af == AF_INET ? 4 : 16);
	}
}

static void
test_big(void **state)
{
	struct query q;
	struct reply r;
	struct gaih_addrtuple *t;
	unsigned char a[16];
	unsigned i;

	(void)state;
	q = fwd(N3, "big.test", AF_INET);
	call_big(&q, &r);
	check_big(&r, AF_INET);
	assert_int_equal(r.ttl, FAKE_TTLBIG);
	q = fwd(N2, "big.test", AF_INET6);
	call_big(&q, &r);
	check_big(&r, AF_INET6);
	q = fwd(N4, "big.test", AF_UNSPEC);
	call_big(&q, &r);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	for (i = 0, t = r.pat; t != NULL; t = t->next, i++) {
		if (i < FAKE_BIG_NADDRS / 2) {
			assert_int_equal(t->family, AF_INET);
			fake_big_addr4(i, a);
		} else {
			assert_int_equal(t->family, AF_INET6);
			fake_big_addr6(i - FAKE_BIG_NADDRS / 2, a);
		}
		assert_memory_equal(t->addr, a, t->family == AF_INET ? 4 : 16);
	}
	assert_int_equal(i, FAKE_BIG_NADDRS);
}

/* The least a correct layout needs, from the expected answer alone. */
static size_t
min_hostent(const char *name, const char **aliases, size_t naliases,
    size_t naddrs, size_t alen)
{
	size_t n = strlen(name) + 1, i;

	for (i = 0; i < naliases; i++)
		n += strlen(aliases[i]) + 1;
	return n + naddrs * alen + (naliases + naddrs + 2) * sizeof(char *);
}

static void
check_guard(const unsigned char *area, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < off; i++)
		assert_int_equal(area[i], 0xa5);
	for (i = off + len; i < off + len + GUARD; i++)
		assert_int_equal(area[i], 0xa5);
}

/*
 * Every size below the needed one gives ERANGE + TRYAGAIN and writes
 * nothing past the buffer; the needed one succeeds. From size 0 for an
 * aligned and a misaligned start; for the other misalignments from just
 * under the least possible size (each call is a connection to fakesrv).
 * Returns the needed size at offset 0.
 */
static size_t
sweep(const struct query *q, size_t least, struct reply *ok)
{
	static unsigned char area[PAD + BIGBUF + GUARD];
	size_t off, len, need0 = 0;
	struct reply r;
	int via;

	for (off = 0; off < PAD; off++) {
		len = off < 2 || least < 2 * PAD ? 0 : least - 2 * PAD;
		for (; len < BIGBUF; len++) {
			via = (int)(len % 2);
			memset(area, 0xa5, sizeof(area));
			call(q, (char *)area + off, len, &r, via);
			check_guard(area, off, len);
			if (r.st == NSS_STATUS_SUCCESS)
				break;
			assert_int_equal(r.st, NSS_STATUS_TRYAGAIN);
			assert_int_equal(r.err, ERANGE);
			assert_int_equal(r.herr, NETDB_INTERNAL);
			if (!via)
				assert_int_equal(errno, SENTINEL_ERRNO);
		}
		assert_true(len < BIGBUF);
		/* Alignment padding is all a layout may add to the data. */
		assert_true(len >= least);
		assert_true(len <= least + 2 * sizeof(void *));
		if (off == 0)
			need0 = len;
		if (q->kind != N4) {
			assert_int_equal(
			    (uintptr_t)r.he.h_aliases % _Alignof(char *), 0);
			assert_int_equal(
			    (uintptr_t)r.he.h_addr_list % _Alignof(char *), 0);
		} else
			assert_int_equal((uintptr_t)r.pat %
				_Alignof(struct gaih_addrtuple),
			    0);
	}
	/* The result lives in the static area: compare before reuse. */
	if (ok != NULL)
		*ok = r;
	return need0;
}

static void
test_erange_found4(void **state)
{
	const char *aliases[] = { "alias4.test", "found4.test" };
	struct query q = fwd(N3, "found4.test", AF_INET);
	struct reply r;

	(void)state;
	sweep(&q, min_hostent("canon4.test", aliases, 2, 2, 4), &r);
	check_found4_hostent(&r);
}

static void
test_erange_big(void **state)
{
	const char *aliases[FAKE_BIG_NALIASES + 1];
	char names[FAKE_BIG_NALIASES][256], cname[256];
	struct query q;
	struct reply r;
	size_t i, least4, least6;

	(void)state;
	for (i = 0; i < FAKE_BIG_NALIASES; i++) {
		fake_big_alias((unsigned)i, names[i]);
		aliases[i] = names[i];
	}
	aliases[i] = "big.test";
	fake_big_cname(cname);
	least4 = min_hostent(cname, aliases, FAKE_BIG_NALIASES + 1,
	    FAKE_BIG_NADDRS, 4);
	least6 = min_hostent(cname, aliases, FAKE_BIG_NALIASES + 1,
	    FAKE_BIG_NADDRS, 16);
	q = fwd(N3, "big.test", AF_INET);
	sweep(&q, least4, &r);
	check_big(&r, AF_INET);
	q = fwd(N2, "big.test", AF_INET6);
	sweep(&q, least6, &r);
	check_big(&r, AF_INET6);
	q = fwd(N1, "big.test", AF_INET);
	sweep(&q, least4, &r);
	check_big(&r, AF_INET);
}

static void
test_erange_tuples(void **state)
{
	struct query q = fwd(N4, "big.test", AF_UNSPEC);
	struct reply r;
	char cname[256];
	size_t least;

	(void)state;
	fake_big_cname(cname);
	least = strlen(cname) + 1 +
	    FAKE_BIG_NADDRS * sizeof(struct gaih_addrtuple);
	sweep(&q, least, &r);
	assert_string_equal(r.pat->name, cname);
	q = fwd(N4, "found4.test", AF_UNSPEC);
	sweep(&q, strlen("canon4.test") + 1 + 2 * sizeof(struct gaih_addrtuple),
	    &r);
	assert_addr(r.pat->next->addr, AF_INET, "192.0.2.11");
}

static void
test_erange_reverse(void **state)
{
	const char *aliases[] = { "host1-alias.test" };
	struct query q = rev(A2, AF_INET, "192.0.2.1");
	struct reply r;

	(void)state;
	sweep(&q, min_hostent("host1.test", aliases, 1, 1, 4), &r);
	assert_string_equal(r.he.h_name, "host1.test");
	q = rev(A1, AF_INET6, "2001:db8::1");
	sweep(&q, min_hostent("host6.test", aliases, 0, 1, 16), &r);
	assert_string_equal(r.he.h_name, "host6.test");
}

/* With errnop == &errno, as glibc calls it, errno carries the error;
 * on success it is left as the caller had it. */
static void
test_errno(void **state)
{
	static char buf[4096];
	struct query q = fwd(N3, "found4.test", AF_INET);
	struct reply r;

	(void)state;
	call(&q, buf, sizeof(buf), &r, 1);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(r.err, SENTINEL_ERRNO);
	call(&q, buf, 3, &r, 1);
	assert_int_equal(r.st, NSS_STATUS_TRYAGAIN);
	assert_int_equal(r.err, ERANGE);
	q = fwd(N4, "again.test", AF_UNSPEC);
	call(&q, buf, sizeof(buf), &r, 1);
	assert_int_equal(r.st, NSS_STATUS_TRYAGAIN);
	assert_int_equal(r.err, EAGAIN);
	q = fwd(N2, "nx.test", AF_INET6);
	call(&q, buf, sizeof(buf), &r, 1);
	assert_int_equal(r.st, NSS_STATUS_NOTFOUND);
	assert_int_equal(r.err, ENOENT);
	q = rev(A1, AF_INET6, "2001:db8::1");
	call(&q, buf, sizeof(buf), &r, 1);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	assert_int_equal(r.err, SENTINEL_ERRNO);
}

static void
all_unavail(int err)
{
	struct query q;

	expect_fail_all_forward("found4.test", NSS_STATUS_UNAVAIL,
	    NO_RECOVERY, err);
	q = fwd(N4, "found4.test", AF_UNSPEC);
	expect_fail(&q, NSS_STATUS_UNAVAIL, NO_RECOVERY, err);
	q = rev(A2, AF_INET, "192.0.2.1");
	expect_fail(&q, NSS_STATUS_UNAVAIL, NO_RECOVERY, err);
	q = rev(A1, AF_INET6, "2001:db8::1");
	expect_fail(&q, NSS_STATUS_UNAVAIL, NO_RECOVERY, err);
}

/* A bound port nobody listens on: connect() is refused at once. */
static void
test_daemon_down(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char addr[64];
	int fd;

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_not_equal(fd, -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	setenv("CODNS_LOOKUP_ADDRESS", addr, 1);
	all_unavail(ECONNREFUSED);
	setenv("CODNS_LOOKUP_ADDRESS", m.addr, 1);
	close(fd);
}

/* The kernel accepts for a stopped daemon: only the answer times out. */
static void
test_daemon_hung(void **state)
{
	struct query q = fwd(N3, "hang.test", AF_INET);

	(void)state;
	if (m.hang == NULL)
		skip();
	/* Every entry point waits: no hung-daemon memory here (see
	 * test_hung_remembered). */
	setenv("CODNS_HUNG_MS", "0", 1);
	setenv("CODNS_TIMEOUT_MS", "150", 1);
	expect_fail(&q, NSS_STATUS_UNAVAIL, NO_RECOVERY, ETIMEDOUT);
	setenv("CODNS_LOOKUP_ADDRESS", m.hang, 1);
	all_unavail(ETIMEDOUT);
	setenv("CODNS_LOOKUP_ADDRESS", m.addr, 1);
	unsetenv("CODNS_TIMEOUT_MS");
	unsetenv("CODNS_HUNG_MS");
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* n calls of q; how many waited longer than half of the 200 ms timeout. */
static int
calls_that_waited(const struct query *q, int n)
{
	char buf[BIGBUF];
	struct reply r;
	double t0;
	int i, waited = 0;

	for (i = 0; i < n; i++) {
		t0 = now_ms();
		call(q, buf, sizeof(buf), &r, 0);
		assert_int_equal(r.st, NSS_STATUS_UNAVAIL);
		assert_int_equal(r.err, ETIMEDOUT);
		if (now_ms() - t0 > 100)
			waited++;
	}
	return waited;
}

/*
 * A daemon that did not answer is remembered for a while, per process:
 * five calls cost one timeout, not five; another daemon is not affected;
 * a child after fork() remembers too; with CODNS_HUNG_MS=0 every call
 * waits. Counts, not times, are asserted: a call "waited" when it took
 * more than half the timeout.
 */
static void
test_hung_remembered(void **state)
{
	struct query q = fwd(N4, "found4.test", AF_UNSPEC);
	char buf[BIGBUF];
	struct reply r;
	pid_t pid;
	int st;

	(void)state;
	if (m.hang == NULL)
		skip();
	setenv("CODNS_TIMEOUT_MS", "200", 1);
	setenv("CODNS_LOOKUP_ADDRESS", m.hang, 1);
	unsetenv("CODNS_HUNG_MS");
	assert_int_equal(calls_that_waited(&q, 5), 1);
	/* The live daemon is asked as usual meanwhile. */
	setenv("CODNS_LOOKUP_ADDRESS", m.addr, 1);
	call(&q, buf, sizeof(buf), &r, 0);
	assert_int_equal(r.st, NSS_STATUS_SUCCESS);
	/* The hung one again, from a child: still remembered. */
	setenv("CODNS_LOOKUP_ADDRESS", m.hang, 1);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0)
		_exit(calls_that_waited(&q, 3) == 0 ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* No memory: each call waits. */
	setenv("CODNS_HUNG_MS", "0", 1);
	assert_int_equal(calls_that_waited(&q, 3), 3);
	unsetenv("CODNS_HUNG_MS");
	unsetenv("CODNS_TIMEOUT_MS");
	setenv("CODNS_LOOKUP_ADDRESS", m.addr, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exports),
		cmocka_unit_test(test_name4_found4),
		cmocka_unit_test(test_name4_unspec_both),
		cmocka_unit_test(test_name4_preset_tuple),
		cmocka_unit_test(test_name3_found4),
		cmocka_unit_test(test_name2_name1_found4),
		cmocka_unit_test(test_name3_found6),
		cmocka_unit_test(test_notfound),
		cmocka_unit_test(test_nodata),
		cmocka_unit_test(test_tryagain),
		cmocka_unit_test(test_unavail_answer),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_erange_found4),
		cmocka_unit_test(test_erange_big),
		cmocka_unit_test(test_erange_tuples),
		cmocka_unit_test(test_erange_reverse),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_daemon_down),
		cmocka_unit_test(test_daemon_hung),
		cmocka_unit_test(test_hung_remembered),
	};

	/* Run outside run_nss.sh: nothing to talk to, so skip. */
	if (getenv("NSS_CODNS_MODULE") == NULL ||
	    getenv("CODNS_LOOKUP_ADDRESS") == NULL)
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
