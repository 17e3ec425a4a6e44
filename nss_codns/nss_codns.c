/* SPDX-License-Identifier: MIT */
/* nss_codns/nss_codns.c: glibc NSS hosts module asking the local codnsd. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "codns.h"
#include "nss_fuzz.h"
#include "nss_shm.h"
#include "proto.h"
#include "resolvconf.h"
#include "shmtab.h"

/*
 * A call first looks in codnsd's shared answer table (nss_shm.c: one
 * read-only mapping per process behind an atomic pointer, safe in threads
 * and after fork()). Otherwise it opens one connection to codnsd (its UNIX
 * lookup socket, see nss_connect()), asks one question and closes it. The
 * only other global state is two atomic words (the wait for codnsd and the
 * hung-daemon memory), so the module needs no locks or atfork handlers.
 */

NSS_DECLARE_MODULE_FUNCTIONS(codns)

/*
 * How long one call waits for codnsd, for the connect and again for the
 * answer. codnsd always answers by its lookup-timeout, whose default is
 * what glibc's own dns module would wait with this resolv.conf (its
 * timeout and attempts over its nameservers, see nss_timeout_glibc_ms()):
 * the module waits that long plus a margin, so that "hosts: codns" gives
 * up no sooner than "hosts: dns" would have, and the daemon's try-again
 * arrives before the module stops listening. CODNS_TIMEOUT_MS overrides.
 * See nss_codns(8), TIMEOUTS.
 */
#define NSS_TIMEOUT_MARGIN_MS 1000
#define NSS_TIMEOUT_MAX_MS 300000
#define NSS_TIMEOUT_ENV "CODNS_TIMEOUT_MS"

/*
 * How long a process remembers a daemon that did not answer in time and
 * says UNAVAIL at once, so that nsswitch falls through to "dns" without
 * each call waiting the full timeout again: a SIGSTOPped or wedged codnsd
 * costs a process one timeout per window, not one per call. Short, so a
 * daemon that was only slow once is asked again soon. See nss_codns(8).
 */
#define NSS_HUNG_DEFAULT_MS 5000
#define NSS_HUNG_MAX_MS 60000
#define NSS_HUNG_ENV "CODNS_HUNG_MS"

/* What one answer gives, gathered before anything goes to the caller. */
struct nss_hosts {
	const char *name; /* h_name: canonical or PTR name */
	char name_buf[PROTO_QNAME_MAX + 1]; /* name with the asked case */
	char alias_buf[PROTO_QNAME_MAX + 1]; /* the one alias that needs it */
	const char *aliases[PROTO_ALIASES_MAX + 1];
	size_t naliases;
	uint8_t addrs[PROTO_ADDRS_MAX][16];
	int families[PROTO_ADDRS_MAX]; /* AF_INET or AF_INET6 */
	size_t naddrs;
	int32_t ttl;
};

/* An exit of an entry point: the status and what goes to errno/h_errno. */
struct nss_exit {
	enum nss_status status;
	int err;  /* 0: leave errno as the caller had it */
	int herr; /* h_errno value */
};

/*
 * A bump allocator over the caller's buffer. The first pass runs with
 * write == 0 and only counts, from the buffer's real address, so padding
 * is exact; the second pass writes and cannot run out.
 */
struct nss_bump {
	char *base;
	size_t len;
	size_t used;
	int write;
};

/*
 * The last wait worked out for one query, in the low 24 bits, and the
 * number of search domains that may each cost it (none with one
 * nameserver: resolvconf_walk_wait_ms()) in the next 8, under a digest of
 * resolv.conf's
 * stat in the high half (never 0): one atomic word, so threads and a child
 * after fork() need no lock, and reading the file (some 20 us) happens
 * only when it changed.
 */
#define NSS_MEMO_WAIT 0xffffffu /* resolvconf_wait_ms() is at most 1 h */
static _Atomic uint64_t nss_wait_memo;

/*
 * What glibc's resolver waits in all before it gives up, from resolv.conf
 * read by the same code as codnsd's, so that the module's wait and the
 * daemon's default deadline agree (RES_OPTIONS in the caller's environment
 * is ignored by both: nss_codns(8)).
 */
static int
nss_timeout_glibc_ms(const char *name)
{
	struct resolvconf rc;
	struct stat st;
	uint64_t memo, walk;
	uint32_t key = 0, wait, nsearch;

	if (stat(RESOLVCONF_PATH, &st) == 0) {
		key = (uint32_t)((uint64_t)st.st_ino * 2654435761u ^
			      (uint64_t)st.st_size ^
			      (uint64_t)st.st_mtim.tv_sec ^
			      (uint64_t)st.st_mtim.tv_nsec ^
			      (uint64_t)st.st_ctim.tv_nsec << 7) |
		    1;
		memo = atomic_load_explicit(&nss_wait_memo,
		    memory_order_relaxed);
		if ((uint32_t)(memo >> 32) == key) {
			wait = (uint32_t)memo & NSS_MEMO_WAIT;
			nsearch = (uint32_t)memo >> 24;
			goto walk;
		}
	}
	resolvconf_load(RESOLVCONF_PATH, &rc);
	wait = resolvconf_wait_ms(&rc, 0, rc.nservers);
	nsearch = rc.nservers > 1 ? (uint32_t)rc.nsearch : 0;
	if (key != 0)
		atomic_store_explicit(&nss_wait_memo,
		    (uint64_t)key << 32 | nsearch << 24 | wait,
		    memory_order_relaxed);
walk:
	/* The daemon's deadline covers the whole search walk, as glibc's
	 * wait does (resolvconf_walk_wait_ms()). */
	walk = (uint64_t)wait * resolvconf_walk_max(nsearch, name);
	return walk > 3600000 ? 3600000 : (int)walk;
}

static int
nss_timeout_ms(const char *name)
{
	const char *s = secure_getenv(NSS_TIMEOUT_ENV);
	char *end;
	long v;

	if (s != NULL && *s != '\0') {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0)
			return v > NSS_TIMEOUT_MAX_MS ? NSS_TIMEOUT_MAX_MS :
							(int)v;
	}
	return nss_timeout_glibc_ms(name) + NSS_TIMEOUT_MARGIN_MS;
}

static int
nss_to_codns_family(int af)
{
	switch (af) {
	case AF_INET:
		return CODNS_AF_INET;
	case AF_INET6:
		return CODNS_AF_INET6;
	default:
		return -1;
	}
}

static int
nss_from_codns_family(int f)
{
	return f == CODNS_AF_INET ? AF_INET : AF_INET6;
}

static size_t
nss_addr_len(int af)
{
	return af == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static void
nss_set_exit(struct nss_exit *x, enum nss_status st, int err, int herr)
{
	x->status = st;
	x->err = err;
	x->herr = herr;
}

/* --- hung-daemon memory --- */

static int
nss_hung_window_ms(void)
{
	const char *s = secure_getenv(NSS_HUNG_ENV);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return NSS_HUNG_DEFAULT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return NSS_HUNG_DEFAULT_MS;
	return v > NSS_HUNG_MAX_MS ? NSS_HUNG_MAX_MS : (int)v;
}

/*
 * One word, read and written atomically: the high half identifies the
 * daemon (a hash of its socket path or address, never 0), the low half
 * is the end of the window in CLOCK_MONOTONIC milliseconds modulo 2^32.
 * One word needs no lock, so any thread may update it and a child after
 * fork() inherits a consistent value; keying it by daemon means a test,
 * or a program, that changes CODNS_LOOKUP_* is not misled.
 */
static uint64_t nss_hung;

static uint32_t
nss_hung_key(const char *target)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *target != '\0'; target++)
		h = (h ^ (uint8_t)*target) * 16777619u;
	return h != 0 ? h : 1;
}

static uint32_t
nss_now_ms32(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
nss_hung_now(const char *target)
{
	uint64_t w = __atomic_load_n(&nss_hung, __ATOMIC_RELAXED);

	if (w == 0 || (uint32_t)(w >> 32) != nss_hung_key(target) ||
	    nss_hung_window_ms() == 0)
		return 0;
	return (int32_t)((uint32_t)w - nss_now_ms32()) > 0;
}

/* Remember target as hung; errno is kept for the caller's exit. */
static void
nss_hung_mark(const char *target)
{
	int saved = errno, window = nss_hung_window_ms();
	uint64_t w;

	errno = saved;
	if (window == 0)
		return;
	w = (uint64_t)nss_hung_key(target) << 32 |
	    (uint32_t)(nss_now_ms32() + (uint32_t)window);
	__atomic_store_n(&nss_hung, w, __ATOMIC_RELAXED);
}

/* --- transport --- */

/*
 * Connect to codnsd: its UNIX lookup socket, or $CODNS_LOOKUP_SOCKET, or
 * the TCP listener named by $CODNS_LOOKUP_ADDRESS (codns_client_default()).
 * libcodns applies the trust rule to a socket: a server that is neither
 * root nor the owner of the socket's directory, or a directory others may
 * write, is refused with EPERM. A daemon remembered as hung is not asked:
 * ETIMEDOUT at once. *target names the daemon for nss_hung_mark().
 */
static int
nss_connect(struct codns_client **c, const char **target, const char *name)
{
	*target = codns_client_default();
	/* A daemon whose table stops beating ends the waits early. */
	client_set_alive(nss_shm_alive);
	if (nss_hung_now(*target)) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (codns_client_open(c, *target, nss_timeout_ms(name)) == -1) {
		if (errno == ETIMEDOUT)
			nss_hung_mark(*target);
		return -1;
	}
	return 0;
}

/*
 * Ask codnsd; on NSS_STATUS_SUCCESS *out holds a FOUND answer. Anything the
 * daemon could not be asked, or answered as unavailable, is UNAVAIL, so
 * that "[!UNAVAIL=return]" in nsswitch.conf falls through to "dns".
 */
static void
nss_ask(const char *name, int cfamily, const void *addr,
    struct codns_result **out, struct nss_exit *x)
{
	struct codns_client *c = NULL;
	const char *target;
	int rc;

	*out = NULL;
	/* A cache hit from codnsd's shared table costs no connection; a
	 * table whose heartbeat stopped says codnsd is dead or hung. */
	rc = nss_shm_ask(name, cfamily, addr, out);
	if (rc > 0)
		goto answered;
	if (rc < 0) {
		nss_set_exit(x, NSS_STATUS_UNAVAIL, ETIMEDOUT, NO_RECOVERY);
		return;
	}
	if (nss_connect(&c, &target, name) == -1) {
		nss_set_exit(x, NSS_STATUS_UNAVAIL, errno, NO_RECOVERY);
		return;
	}
	if (name != NULL)
		rc = codns_lookup(c, name, cfamily, out);
	else
		rc = codns_lookup_addr(c, cfamily, addr, out);
	if (rc == -1) {
		if (errno == ETIMEDOUT)
			nss_hung_mark(target);
		nss_set_exit(x, NSS_STATUS_UNAVAIL, errno, NO_RECOVERY);
		goto done;
	}
	nss_shm_report(c);
answered:
	switch (codns_result_status(*out)) {
	case CODNS_FOUND:
		nss_set_exit(x, NSS_STATUS_SUCCESS, 0, NETDB_SUCCESS);
		break;
	case CODNS_NOTFOUND:
		nss_set_exit(x, NSS_STATUS_NOTFOUND, ENOENT, HOST_NOT_FOUND);
		break;
	case CODNS_NODATA:
		nss_set_exit(x, NSS_STATUS_NOTFOUND, ENOENT, NO_DATA);
		break;
	case CODNS_TRYAGAIN:
		nss_set_exit(x, NSS_STATUS_TRYAGAIN, EAGAIN, TRY_AGAIN);
		break;
	default:
		nss_set_exit(x, NSS_STATUS_UNAVAIL, EIO, NO_RECOVERY);
		break;
	}
	if (x->status != NSS_STATUS_SUCCESS) {
		codns_result_free(*out);
		*out = NULL;
	}
done:
	codns_client_close(c);
}

static int
nss_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	/* "host." and "host" are the same name (RFC 1034 section 3.1). */
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void
nss_add_alias(struct nss_hosts *h, const char *alias)
{
	size_t i;

	if (h->naliases >= PROTO_ALIASES_MAX + 1 || nss_name_eq(alias, h->name))
		return;
	for (i = 0; i < h->naliases; i++)
		if (nss_name_eq(alias, h->aliases[i]))
			return;
	h->aliases[h->naliases++] = alias;
}

/*
 * Names and aliases of an answer, as glibc's dns module gives them: the
 * name the last CNAME led to (or the name that matched, search domain
 * included), and the owners of the CNAME chain as aliases.
 */
static void
nss_gather_names(struct nss_hosts *h, const struct codns_result *r,
    const char *asked)
{
	const char *a;
	size_t i, n = codns_result_naliases(r);
	int buf_used = 0;

	h->name = codns_result_name(r);
	if (*h->name == '\0' && asked != NULL)
		h->name = asked;
	if (asked != NULL)
		h->name = proto_asked_case(h->name, asked, h->name_buf,
		    sizeof(h->name_buf));
	h->naliases = 0;
	for (i = 0; i < n; i++) {
		a = codns_result_alias(r, i);
		if (asked != NULL && !buf_used) {
			a = proto_asked_case(a, asked, h->alias_buf,
			    sizeof(h->alias_buf));
			buf_used = a == h->alias_buf;
		}
		nss_add_alias(h, a);
	}
	h->ttl = codns_result_ttl(r) > INT32_MAX ? INT32_MAX :
	    (int32_t)codns_result_ttl(r);
}

/* Addresses of family af (AF_UNSPEC: all). 0, or -1 when none. */
static int
nss_gather_addrs(struct nss_hosts *h, const struct codns_result *r, int af)
{
	uint8_t a[16];
	size_t i, n = codns_result_naddrs(r);
	int f;

	h->naddrs = 0;
	for (i = 0; i < n; i++) {
		f = codns_result_addr(r, i, a);
		if (f != CODNS_AF_INET && f != CODNS_AF_INET6)
			continue;
		f = nss_from_codns_family(f);
		if (af != AF_UNSPEC && f != af)
			continue;
		memcpy(h->addrs[h->naddrs], a, nss_addr_len(f));
		h->families[h->naddrs++] = f;
	}
	return h->naddrs > 0 ? 0 : -1;
}

static void *
nss_bump_alloc(struct nss_bump *b, size_t size, size_t align)
{
	uintptr_t at = (uintptr_t)(b->base + b->used);
	size_t pad = (align - at % align) % align;
	void *p;

	if (pad > SIZE_MAX - b->used || size > SIZE_MAX - b->used - pad) {
		b->used = SIZE_MAX;
		return NULL;
	}
	b->used += pad;
	p = b->base + b->used;
	b->used += size;
	if (!b->write)
		return NULL;
	return p;
}

static char *
nss_bump_str(struct nss_bump *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = nss_bump_alloc(b, n, 1);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* Lay a hostent out in b; addresses of family af and length alen. */
static void
nss_layout_hostent(struct nss_bump *b, const struct nss_hosts *h, int af,
    struct hostent *he)
{
	char **aliases, **addrs, *a;
	size_t i;

	aliases = nss_bump_alloc(b, (h->naliases + 1) * sizeof(char *),
	    _Alignof(char *));
	addrs = nss_bump_alloc(b, (h->naddrs + 1) * sizeof(char *),
	    _Alignof(char *));
	for (i = 0; i < h->naddrs; i++) {
		a = nss_bump_alloc(b, nss_addr_len(af), _Alignof(uint32_t));
		if (a != NULL) {
			memcpy(a, h->addrs[i], nss_addr_len(af));
			addrs[i] = a;
		}
	}
	for (i = 0; i < h->naliases; i++) {
		a = nss_bump_str(b, h->aliases[i]);
		if (a != NULL)
			aliases[i] = a;
	}
	a = nss_bump_str(b, h->name);
	if (!b->write)
		return;
	aliases[h->naliases] = NULL;
	addrs[h->naddrs] = NULL;
	he->h_name = a;
	he->h_aliases = aliases;
	he->h_addrtype = af;
	he->h_length = (int)nss_addr_len(af);
	he->h_addr_list = addrs;
}

/* Copy into the caller's buffer, or ERANGE so glibc retries larger. */
static void
nss_fill_hostent(const struct nss_hosts *h, int af, struct hostent *he,
    char *buf, size_t buflen, struct nss_exit *x)
{
	struct nss_bump b = { .base = buf, .len = buflen };

	nss_layout_hostent(&b, h, af, he);
	if (b.used > buflen) {
		nss_set_exit(x, NSS_STATUS_TRYAGAIN, ERANGE, NETDB_INTERNAL);
		return;
	}
	b.used = 0;
	b.write = 1;
	nss_layout_hostent(&b, h, af, he);
	nss_set_exit(x, NSS_STATUS_SUCCESS, 0, NETDB_SUCCESS);
}

static void
nss_layout_tuples(struct nss_bump *b, const struct nss_hosts *h,
    struct gaih_addrtuple **first)
{
	struct gaih_addrtuple *t, *prev = NULL;
	char *name;
	size_t i;

	name = nss_bump_str(b, h->name);
	for (i = 0; i < h->naddrs; i++) {
		t = nss_bump_alloc(b, sizeof(*t),
		    _Alignof(struct gaih_addrtuple));
		if (t == NULL)
			continue;
		memset(t, 0, sizeof(*t));
		/* glibc reads the canonical name from the first tuple only. */
		t->name = i == 0 ? name : NULL;
		t->family = h->families[i];
		memcpy(t->addr, h->addrs[i], nss_addr_len(t->family));
		if (prev != NULL)
			prev->next = t;
		else
			*first = t;
		prev = t;
	}
}

static void
nss_fill_tuples(const struct nss_hosts *h, struct gaih_addrtuple **pat,
    char *buf, size_t buflen, struct nss_exit *x)
{
	struct nss_bump b = { .base = buf, .len = buflen };
	struct gaih_addrtuple *first = NULL;

	nss_layout_tuples(&b, h, &first);
	if (b.used > buflen) {
		nss_set_exit(x, NSS_STATUS_TRYAGAIN, ERANGE, NETDB_INTERNAL);
		return;
	}
	b.used = 0;
	b.write = 1;
	nss_layout_tuples(&b, h, &first);
	/* Older callers hand in a tuple of their own to fill first. */
	if (*pat != NULL)
		**pat = *first;
	else
		*pat = first;
	nss_set_exit(x, NSS_STATUS_SUCCESS, 0, NETDB_SUCCESS);
}

/*
 * glibc's dns module also leaves a failure in the thread's h_errno (its
 * res_* calls set it), and callers that read h_errno rather than the
 * *h_errnop of the _r call (Python's gethostbyaddr, Perl's $?) rely on it.
 * A short buffer is not a failure the caller sees: glibc retries.
 */
static void
nss_set_h_errno(const struct nss_exit *x)
{
	if (x->status != NSS_STATUS_SUCCESS && x->err != ERANGE)
		h_errno = x->herr;
}

/*
 * The one exit of every entry point: the caller's errno comes back as it
 * was, then *errnop (usually &errno itself) gets the error, if any.
 */
static enum nss_status
nss_leave(const struct nss_exit *x, int saved_errno, int *errnop,
    int *h_errnop)
{
	errno = saved_errno;
	if (x->err != 0)
		*errnop = x->err;
	*h_errnop = x->herr;
	nss_set_h_errno(x);
	return x->status;
}

/* The reply half of gethostbyname4_r: tuples from a FOUND answer r. */
static void
nss_reply_tuples(const struct codns_result *r, const char *name,
    struct gaih_addrtuple **pat, char *buf, size_t buflen,
    struct nss_exit *x, int32_t *ttlp)
{
	struct nss_hosts h;

	nss_gather_names(&h, r, name);
	if (nss_gather_addrs(&h, r, AF_UNSPEC) == -1) {
		nss_set_exit(x, NSS_STATUS_NOTFOUND, ENOENT, NO_DATA);
		return;
	}
	nss_fill_tuples(&h, pat, buf, buflen, x);
	if (x->status == NSS_STATUS_SUCCESS && ttlp != NULL)
		*ttlp = h.ttl;
}

/*
 * The reply half of the hostent entry points: a hostent of family af from
 * a FOUND answer r to a forward lookup of name, or (name NULL) to a
 * reverse lookup of addr.
 */
static void
nss_reply_hostent(const struct codns_result *r, const char *name,
    const void *addr, int af, struct hostent *he, char *buf, size_t buflen,
    struct nss_exit *x, int32_t *ttlp, char **canonp)
{
	struct nss_hosts h;

	nss_gather_names(&h, r, name);
	if (name != NULL && nss_gather_addrs(&h, r, af) == -1) {
		nss_set_exit(x, NSS_STATUS_NOTFOUND, ENOENT, NO_DATA);
		return;
	}
	if (name == NULL) {
		if (*h.name == '\0') {
			nss_set_exit(x, NSS_STATUS_NOTFOUND, ENOENT, NO_DATA);
			return;
		}
		memcpy(h.addrs[0], addr, nss_addr_len(af));
		h.families[0] = af;
		h.naddrs = 1;
	}
	nss_fill_hostent(&h, af, he, buf, buflen, x);
	if (x->status != NSS_STATUS_SUCCESS)
		return;
	if (ttlp != NULL)
		*ttlp = h.ttl;
	if (canonp != NULL)
		*canonp = he->h_name;
}

/*
 * The reply halves for the fuzz harness (tests/fuzz/fuzz_nss.c), with the
 * entry points' exit convention. Not exported (nss_codns.map).
 */
enum nss_status
nss_codns_fuzz_tuples(const struct codns_result *r, const char *name,
    struct gaih_addrtuple **pat, char *buf, size_t buflen, int *errnop,
    int *h_errnop, int32_t *ttlp)
{
	struct nss_exit x;

	nss_reply_tuples(r, name, pat, buf, buflen, &x, ttlp);
	return nss_leave(&x, errno, errnop, h_errnop);
}

enum nss_status
nss_codns_fuzz_hostent(const struct codns_result *r, const char *name,
    const void *addr, int af, struct hostent *he, char *buf, size_t buflen,
    int *errnop, int *h_errnop, int32_t *ttlp, char **canonp)
{
	struct nss_exit x;

	nss_reply_hostent(r, name, addr, af, he, buf, buflen, &x, ttlp,
	    canonp);
	return nss_leave(&x, errno, errnop, h_errnop);
}

/* A name codnsd cannot be asked is one no nameserver has. */
static int
nss_name_ok(const char *name)
{
	return name != NULL && proto_name_valid(name);
}

enum nss_status
_nss_codns_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
    char *buf, size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp)
{
	struct codns_result *r = NULL;
	struct nss_exit x;
	int saved = errno;

	if (!nss_name_ok(name)) {
		nss_set_exit(&x, NSS_STATUS_NOTFOUND, ENOENT, HOST_NOT_FOUND);
		goto done;
	}
	nss_ask(name, CODNS_AF_UNSPEC, NULL, &r, &x);
	if (x.status == NSS_STATUS_SUCCESS)
		nss_reply_tuples(r, name, pat, buf, buflen, &x, ttlp);
done:
	codns_result_free(r);
	return nss_leave(&x, saved, errnop, h_errnop);
}

enum nss_status
_nss_codns_gethostbyname3_r(const char *name, int af, struct hostent *he,
    char *buf, size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp,
    char **canonp)
{
	struct codns_result *r = NULL;
	struct nss_exit x;
	int saved = errno, cf;

	/* glibc's dns module answers an unknown family the same way. */
	if ((cf = nss_to_codns_family(af)) == -1) {
		nss_set_exit(&x, NSS_STATUS_UNAVAIL, EAFNOSUPPORT,
		    NETDB_INTERNAL);
		goto done;
	}
	if (!nss_name_ok(name)) {
		nss_set_exit(&x, NSS_STATUS_NOTFOUND, ENOENT, HOST_NOT_FOUND);
		goto done;
	}
	nss_ask(name, cf, NULL, &r, &x);
	if (x.status == NSS_STATUS_SUCCESS)
		nss_reply_hostent(r, name, NULL, af, he, buf, buflen, &x, ttlp,
		    canonp);
done:
	codns_result_free(r);
	return nss_leave(&x, saved, errnop, h_errnop);
}

enum nss_status
_nss_codns_gethostbyname2_r(const char *name, int af, struct hostent *he,
    char *buf, size_t buflen, int *errnop, int *h_errnop)
{
	return _nss_codns_gethostbyname3_r(name, af, he, buf, buflen, errnop,
	    h_errnop, NULL, NULL);
}

enum nss_status
_nss_codns_gethostbyname_r(const char *name, struct hostent *he, char *buf,
    size_t buflen, int *errnop, int *h_errnop)
{
	return _nss_codns_gethostbyname3_r(name, AF_INET, he, buf, buflen,
	    errnop, h_errnop, NULL, NULL);
}

enum nss_status
_nss_codns_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
    struct hostent *he, char *buf, size_t buflen, int *errnop, int *h_errnop,
    int32_t *ttlp)
{
	struct codns_result *r = NULL;
	struct nss_exit x;
	const uint8_t *q = addr;
	int saved = errno, cf;

	/* Same convention as glibc's dns module for a bad family or length. */
	if ((cf = nss_to_codns_family(af)) == -1 || addr == NULL ||
	    len < nss_addr_len(af)) {
		nss_set_exit(&x, NSS_STATUS_UNAVAIL, EAFNOSUPPORT,
		    NETDB_INTERNAL);
		goto done;
	}
	/* A v4-mapped address is asked as the IPv4 address it holds. */
	if (af == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)q))
		nss_ask(NULL, CODNS_AF_INET, q + 12, &r, &x);
	else
		nss_ask(NULL, cf, q, &r, &x);
	if (x.status == NSS_STATUS_SUCCESS)
		nss_reply_hostent(r, NULL, q, af, he, buf, buflen, &x, ttlp,
		    NULL);
done:
	codns_result_free(r);
	return nss_leave(&x, saved, errnop, h_errnop);
}

enum nss_status
_nss_codns_gethostbyaddr_r(const void *addr, socklen_t len, int af,
    struct hostent *he, char *buf, size_t buflen, int *errnop, int *h_errnop)
{
	return _nss_codns_gethostbyaddr2_r(addr, len, af, he, buf, buflen,
	    errnop, h_errnop, NULL);
}
