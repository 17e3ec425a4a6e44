/* SPDX-License-Identifier: MIT */
/* codnsd/front/nscd.c: glibc's nscd protocol for the hosts database.
 *
 * glibc asks nscd (/var/run/nscd/socket) before it reads nsswitch.conf,
 * and reads nscd's shared hosts table with no system call. Served by
 * codnsd, that path costs a glibc program what nscd costs it, and the
 * answers are codnsd's: the lookup race, peers, serve-stale.
 *
 * What nscd would have got from NSS, in the order "hosts: files codns":
 * the hosts file first, read as glibc's files module reads it, then
 * codnsd's lookup. Anything this file does
 * not serve (other databases, keys it finds odd, a GETAI whose lookup
 * failed) is refused by closing the connection: glibc then does what it
 * does without nscd, which is asking NSS.
 *
 * One request per connection, as glibc sends them.
 */
#include "nscd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "codnsd.h"
#include "conf.h"
#include "filewatch.h"
#include "hostsfile.h"
#include "log.h"
#include "lookup.h"
#include "nscdtab.h"
#include "proto.h"
#include "resolvconf.h"
#include "stats.h"
#include "stream.h"
#include "upstream.h"
#include "usock.h"

/*
 * A short queue of connections not yet accepted. glibc's nscd client
 * connects without blocking and gives up at once when the queue is full,
 * going on to NSS; a queued connection to a hung codnsd costs it 5 s for
 * the table and 5 s for the request. With a short queue only the first
 * few processes after a hang pay that; a live codnsd accepts at once.
 */
#define NSCD_BACKLOG 16
#define NSCD_IN_MAX (sizeof(struct nscd_req_hdr) + NSCD_KEY_MAX)
#define NSCD_REC_MAX 16384
#define NSCD_IDLE_SEC 5.    /* glibc waits 5 s for an answer, then goes */
#define NSCD_HOSTS_TTL 600  /* a hosts file change clears the table */
#define NSCD_TICK_SEC 1.
/* Requests left to NSS, remembered (nscd_left_*): at least this long. */
#define NSCD_LEFT_MAX 256
#define NSCD_LEFT_MIN_SEC 5

struct nscd_conn {
	struct nscd *n;
	struct stream st;
	uid_t uid;
	int type;
	char name[PROTO_QNAME_MAX + 1];
	uint8_t addr[16];
	size_t keylen;
	int refused; /* the request was refused, not malformed */
	int whole;   /* nscd_check_run() found the GETAI answer whole */
	struct nscd_check *chk;
	struct lookup_waiter *w;
	uint8_t in[NSCD_IN_MAX];
	LIST_ENTRY(nscd_conn) entry;
};

/* A GETAI answer lacking a family, held while that family is asked of
 * the names the search walk tries after the one it ended on. */
struct nscd_check {
	struct proto_answer u;
	uint32_t ttl;   /* u's, and no longer than any "none" found since */
	uint8_t family; /* the one u lacks */
	size_t i, n;
	char cands[RESOLVCONF_SEARCH_MAX + 1][PROTO_NAME_MAX + 1];
	struct proto_answer now;
};

/* A request that was left to NSS, and until when it is left again at once
 * (type 0: free). */
struct nscd_left {
	int type;
	size_t keylen;
	uint8_t key[PROTO_QNAME_MAX + 1];
	time_t until;
};

struct nscd {
	struct codnsd *d;
	struct usock usock;
	ev_io io;
	ev_timer tick;
	struct nscdtab *tab;
	size_t tab_entries;
	LIST_HEAD(, nscd_conn) conns;
	struct stream_pool pool;
	struct stat hosts; /* the hosts file as last seen */
	struct filewatch hosts_watch;
	int nl_fd;         /* interface changes, or -1 */
	ev_io nl_io;
	struct nscd_left left[NSCD_LEFT_MAX];
	size_t left_next; /* the slot taken next when none has expired */
};

static const char nscd_hosts_path[] = "/etc/hosts";

static void
nscd_conn_free(struct nscd_conn *c)
{
	lookup_cancel(c->w);
	free(c->chk);
	stream_stop(&c->st);
	LIST_REMOVE(c, entry);
	free(c);
}

static void
nscd_count(struct nscd *n, int counter)
{
	stats_count(n->d->stats, counter);
}

/* A name as nss_codns gives it (proto_asked_case()), without the root's
 * dot in any case; asked "" keeps the name's own spelling. */
static void
nscd_name(const char *name, const char *asked, char *out, size_t len)
{
	char buf[PROTO_QNAME_MAX + 1];
	size_t l;

	snprintf(out, len, "%s", proto_asked_case(name, asked, buf,
	    sizeof(buf)));
	if ((l = strlen(out)) > 0 && out[l - 1] == '.')
		out[l - 1] = '\0';
}

/* Queue a response; the connection closes once it is sent. */
static void
nscd_queue(struct nscd_conn *c, const uint8_t *rec, size_t len)
{
	if (len == 0 || stream_reserve(&c->st, len) == -1)
		return;
	memcpy(c->st.out + c->st.outlen, rec, len);
	c->st.outlen += len;
}

static int
nscd_byaddr(int type)
{
	return type == NSCD_GETHOSTBYADDR || type == NSCD_GETHOSTBYADDRv6;
}

static const void *
nscd_key(const struct nscd_conn *c)
{
	if (nscd_byaddr(c->type))
		return c->addr;
	return c->name;
}

/*
 * Issue 25: glibc asks NSS for whatever codnsd leaves unanswered, and with
 * "hosts: files dns" NSS resolves it again. So a request left to NSS is
 * remembered, and a repeat within its time is left to NSS at once instead
 * of costing a second resolution first: a failure for NSCD_LEFT_MIN_SEC,
 * an answer for as long as the cache keeps it, and that long at least
 * (leaving to NSS is never wrong, it only costs the table).
 */
static struct nscd_left *
nscd_left_find(struct nscd *n, const struct nscd_conn *c, time_t now)
{
	struct nscd_left *l;
	size_t i;

	for (i = 0; i < NSCD_LEFT_MAX; i++) {
		l = &n->left[i];
		if (l->type != c->type || l->until <= now ||
		    l->keylen != c->keylen)
			continue;
		if (nscd_byaddr(c->type) ?
			memcmp(l->key, c->addr, c->keylen) == 0 :
			strcasecmp((const char *)l->key, c->name) == 0)
			return l;
	}
	return NULL;
}

static void
nscd_left_add(struct nscd *n, const struct nscd_conn *c, uint32_t sec)
{
	time_t now = time(NULL);
	struct nscd_left *l = nscd_left_find(n, c, now);
	size_t i;

	if (c->keylen > sizeof(l->key))
		return;
	if (sec < NSCD_LEFT_MIN_SEC)
		sec = NSCD_LEFT_MIN_SEC;
	for (i = 0; l == NULL && i < NSCD_LEFT_MAX; i++)
		if (n->left[i].until <= now)
			l = &n->left[i];
	if (l == NULL) {
		l = &n->left[n->left_next];
		n->left_next = (n->left_next + 1) % NSCD_LEFT_MAX;
	}
	l->type = c->type;
	l->keylen = c->keylen;
	memcpy(l->key, nscd_key(c), c->keylen);
	l->until = now + (time_t)sec;
}

/* Forget what was left to NSS: one name's requests, or all (NULL). */
static void
nscd_left_drop(struct nscd *n, const char *name)
{
	struct nscd_left *l;
	size_t i;

	for (i = 0; i < NSCD_LEFT_MAX; i++) {
		l = &n->left[i];
		if (name == NULL || (!nscd_byaddr(l->type) &&
					strcasecmp((const char *)l->key, name) == 0))
			l->type = 0;
	}
}

static void nscd_answer_cb(void *, const struct proto_answer *);

/*
 * Whether a GETAI answer holds what getaddrinfo() of each family would
 * find through NSS. glibc's client asks GETAI for every family and filters
 * the answer; NSS searches each family on its own. An answer lacking a
 * family ended the search list's walk on a name that may not be the one a
 * search for the missing family ends on ("split" with A only as
 * split.sub.test and AAAA only as split.test: AF_INET6 must give
 * split.test's address, not split.sub.test's mapped or none). So for a
 * relative name that was searched, the missing family is asked of every
 * name the walk tries after that one (nscd_check_run()).
 */
static int
nscd_ai_whole(const struct nscd_conn *c, const struct proto_answer *a)
{
	size_t i, l = strlen(c->name);
	int v4 = 0, v6 = 0;

	for (i = 0; i < a->naddrs; i++) {
		v4 |= a->addrs[i].family == CODNS_AF_INET;
		v6 |= a->addrs[i].family == CODNS_AF_INET6;
	}
	return c->whole || (v4 && v6) || (l > 0 && c->name[l - 1] == '.') ||
	    !upstream_searches(c->n->d->upstream);
}

/*
 * The next of the check's lookups; got: the last one's answer, or NULL.
 * 1: one is under way (nscd_answer_cb() goes on); 0: none of the names
 * has the family, the answer is whole; -1: one has it (the search for
 * that family ends there), or it could not be told: left to NSS.
 */
static int
nscd_check_run(struct nscd_conn *c, const struct proto_answer *got)
{
	struct nscd_check *k = c->chk;
	struct proto_request req;
	uint32_t ttl;

	for (;;) {
		if (got != NULL) {
			if (got->status != CODNS_NOTFOUND &&
			    got->status != CODNS_NODATA)
				return -1;
			if ((ttl = cache_ttl(c->n->d->cache, got)) < k->ttl)
				k->ttl = ttl;
			k->i++;
		}
		if (k->i >= k->n)
			return 0;
		memset(&req, 0, sizeof(req));
		req.kind = PROTO_KIND_FORWARD;
		req.family = k->family;
		/* This name alone, not searched again. */
		snprintf(req.name, sizeof(req.name), "%s.", k->cands[k->i]);
		c->st.npending++;
		c->w = lookup_start(c->n->d->lookup, &req, 0, nscd_answer_cb, c,
		    &k->now);
		if (c->w != NULL)
			return 1;
		c->st.npending--;
		got = &k->now;
	}
}

static int
nscd_same_name(const char *x, const char *y)
{
	size_t lx = strlen(x), ly = strlen(y);

	lx -= lx > 0 && x[lx - 1] == '.';
	ly -= ly > 0 && y[ly - 1] == '.';
	return lx == ly && strncasecmp(x, y, lx) == 0;
}

/* Start checking a, found for c's name with *ttl: nscd_check_run()'s
 * result, with *ttl shortened when it is 0. */
static int
nscd_check_start(struct nscd_conn *c, const struct proto_answer *a,
    uint32_t *ttl)
{
	struct nscd_check *k;
	size_t i, j;
	int r;

	if (c->chk == NULL && (c->chk = calloc(1, sizeof(*c->chk))) == NULL)
		return -1;
	k = c->chk;
	k->u = *a;
	k->ttl = *ttl;
	k->family = CODNS_AF_INET;
	for (i = 0; i < a->naddrs; i++)
		if (a->addrs[i].family == CODNS_AF_INET)
			k->family = CODNS_AF_INET6;
	k->n = upstream_candidates(c->n->d->upstream, c->name, k->cands,
	    sizeof(k->cands) / sizeof(k->cands[0]));
	/* The walk ended on the name found, or on its CNAME chain's start. */
	for (i = 0; i < k->n; i++) {
		if (nscd_same_name(k->cands[i], a->cname))
			break;
		for (j = 0; j < a->naliases; j++)
			if (nscd_same_name(k->cands[i], a->aliases[j]))
				break;
		if (j < a->naliases)
			break;
	}
	if (i >= k->n)
		return -1;
	k->i = i + 1;
	if ((r = nscd_check_run(c, NULL)) == 0)
		*ttl = k->ttl;
	return r;
}

/* Leave the request to NSS, and remember that for ttl (nscd_left_add). */
static void
nscd_leave(struct nscd_conn *c, uint32_t ttl)
{
	nscd_count(c->n, STATS_NSCD_TO_NSS);
	nscd_left_add(c->n, c, ttl);
}

/*
 * Answer the request from a, and publish the answer for ttl seconds (0:
 * not published). Only what glibc's nscd client passes on as NSS would
 * is answered: addresses, and "no such name" to GETAI. Anything else
 * closes the connection unanswered, and glibc asks NSS (nss_codns) for
 * it: its client turns every negative GETAI into EAI_NONAME (NO_DATA is
 * EAI_NODATA through NSS), and leaves the thread's h_errno alone on a
 * negative GETHOSTBY* (Python reads h_errno), and a failure must stay a
 * try-again. looked_up: a is codnsd's lookup's, not the hosts file's (its
 * names take the asked case, and a GETAI answer must be whole).
 */
static void
nscd_reply(struct nscd_conn *c, const struct proto_answer *a, uint32_t ttl,
    int looked_up)
{
	struct nscd *n = c->n;
	static struct proto_answer named;
	static uint8_t rec[NSCD_REC_MAX];
	const struct proto_answer *src = a;
	const char *asked = c->name;
	size_t i, len = 0;
	int found = 0;

	if (a->status != CODNS_FOUND && a->status != CODNS_NOTFOUND &&
	    a->status != CODNS_NODATA) {
		nscd_count(n, STATS_NSCD_FAILED);
		nscd_left_add(n, c, NSCD_LEFT_MIN_SEC);
		return;
	}
	if (a->status == CODNS_FOUND && c->type == NSCD_GETAI && looked_up &&
	    !nscd_ai_whole(c, a) && nscd_check_start(c, a, &ttl) != 0) {
		/* under way (answered from nscd_answer_cb()), or left to NSS */
		if (c->w == NULL)
			nscd_leave(c, ttl);
		return;
	}
	if (a->status == CODNS_FOUND) {
		/* Static: a proto_answer is 16 KB, and this never recurses. */
		named = *a;
		if (nscd_byaddr(c->type) || !looked_up)
			asked = "";
		nscd_name(a->cname[0] != '\0' ? a->cname : c->name, asked,
		    named.cname, sizeof(named.cname));
		for (i = 0; i < named.naliases; i++)
			nscd_name(a->aliases[i], asked, named.aliases[i],
			    sizeof(named.aliases[i]));
		src = &named;
		if (c->type == NSCD_GETAI)
			len = nscdrec_ai(rec, sizeof(rec), src, src->cname);
		else
			len = nscdrec_hst(rec, sizeof(rec), c->type, src,
			    src->cname, c->addr);
		found = len > 0;
	} else if (a->status == CODNS_NOTFOUND && c->type == NSCD_GETAI)
		len = nscdrec_neg(rec, sizeof(rec), c->type, HOST_NOT_FOUND);
	if (len == 0) {
		nscd_leave(c, ttl);
		return;
	}
	nscd_queue(c, rec, len);
	if (ttl == 0 || a->source == CODNS_SRC_STALE)
		return;
	if (nscdtab_put(n->tab, c->type, nscd_key(c), c->keylen, rec, len,
		!found, ttl, time(NULL)) == 0)
		nscd_count(n, STATS_NSCD_PUBLISHED);
}

static void
nscd_answer_cb(void *arg, const struct proto_answer *a)
{
	struct nscd_conn *c = arg;

	c->w = NULL;
	c->st.npending--;
	if (c->chk == NULL)
		nscd_reply(c, a, cache_ttl(c->n->d->cache, a), 1);
	else
		switch (nscd_check_run(c, a)) {
		case 0:
			c->whole = 1;
			nscd_reply(c, &c->chk->u, c->chk->ttl, 1);
			break;
		case -1:
			nscd_leave(c, c->chk->ttl);
			break;
		}
	stream_update(&c->st);
}

/*
 * The hosts file's answer: 1 with it in *a, 0 when it has none, -1 when
 * it has one that GETAI cannot carry: glibc's client filters a GETAI
 * answer by family, and with the files module getaddrinfo() of one
 * family reads other lines than of both (AF_INET also takes "::1
 * localhost" as 127.0.0.1, a second time). Then NSS answers.
 */
static int
nscd_from_hosts(struct nscd_conn *c, struct proto_answer *a)
{
	struct proto_answer *fam;
	int ok;

	switch (c->type) {
	case NSCD_GETAI:
		if (!hostsfile_byname(nscd_hosts_path, c->name, AF_UNSPEC, a))
			return 0;
		if ((fam = malloc(sizeof(*fam))) == NULL)
			return -1;
		hostsfile_byname(nscd_hosts_path, c->name, AF_INET, fam);
		ok = hostsfile_same(a, CODNS_AF_INET, fam);
		hostsfile_byname(nscd_hosts_path, c->name, AF_INET6, fam);
		ok = ok && hostsfile_same(a, CODNS_AF_INET6, fam);
		free(fam);
		return ok ? 1 : -1;
	case NSCD_GETHOSTBYNAME:
		return hostsfile_byname(nscd_hosts_path, c->name, AF_INET, a);
	case NSCD_GETHOSTBYNAMEv6:
		return hostsfile_byname(nscd_hosts_path, c->name, AF_INET6, a);
	default:
		return hostsfile_byaddr(nscd_hosts_path, c->addr, c->keylen, a);
	}
}

/* Hand out the table: the key back, its size, and the descriptor. */
static void
nscd_send_table(struct nscd_conn *c)
{
	static const char key[] = "hosts";
	uint64_t size = nscdtab_size(c->n->tab);
	int fd = nscdtab_fd(c->n->tab);
	struct iovec iov[2];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m;
	struct cmsghdr *cm;

	/* glibc refuses a table whose timestamp it finds stale. */
	nscdtab_touch(c->n->tab, time(NULL));
	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	iov[0].iov_base = (void *)key;
	iov[0].iov_len = sizeof(key);
	iov[1].iov_base = &size;
	iov[1].iov_len = sizeof(size);
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	m.msg_control = u.b;
	m.msg_controllen = sizeof(u.b);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	/* A new connection's buffer is empty: this cannot block or split. */
	if (sendmsg(c->st.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    (ssize_t)(sizeof(key) + sizeof(size)))
		nscd_count(c->n, STATS_NSCD_MAPS);
}

/* stream_ops.peek: the header, then key_len bytes. */
static int
nscd_peek(const void *buf, size_t len, size_t *framelen)
{
	struct nscd_req_hdr h;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.version != NSCD_VERSION || h.type < 0 ||
	    h.type >= NSCD_LASTREQ || h.key_len < 0 ||
	    h.key_len > NSCD_KEY_MAX)
		return -1;
	*framelen = sizeof(h) + (size_t)h.key_len;
	return len >= *framelen;
}

/* A name key: the name and its NUL, nothing after. */
static int
nscd_name_key(struct nscd_conn *c, const uint8_t *key, size_t len)
{
	if (len < 2 || len > sizeof(c->name) || key[len - 1] != '\0' ||
	    strlen((const char *)key) != len - 1 ||
	    !proto_name_valid((const char *)key))
		return -1;
	memcpy(c->name, key, len);
	return 0;
}

/* stream_ops.request: the one request of this connection. */
static int
nscd_request(void *arg, const uint8_t *frame, size_t framelen)
{
	struct nscd_conn *c = arg;
	struct nscd *n = c->n;
	struct nscd_req_hdr h;
	const uint8_t *key = frame + sizeof(h);
	size_t keylen = framelen - sizeof(h);
	struct proto_request req;
	struct proto_answer now;

	memcpy(&h, frame, sizeof(h));
	nscd_count(n, STATS_NSCD_REQUESTS);
	c->st.closing = 1;
	c->type = h.type;
	c->keylen = keylen;
	memset(&req, 0, sizeof(req));
	switch (h.type) {
	case NSCD_GETFDHST:
		if (keylen != 6 || memcmp(key, "hosts", 6) != 0)
			goto refuse;
		nscd_send_table(c);
		return 0;
	case NSCD_GETAI:
	case NSCD_GETHOSTBYNAME:
	case NSCD_GETHOSTBYNAMEv6:
		if (nscd_name_key(c, key, keylen) == -1)
			goto refuse;
		req.kind = PROTO_KIND_FORWARD;
		req.family = h.type == NSCD_GETAI ? CODNS_AF_UNSPEC :
		    h.type == NSCD_GETHOSTBYNAME ? CODNS_AF_INET :
		    CODNS_AF_INET6;
		memcpy(req.name, c->name, keylen);
		break;
	case NSCD_GETHOSTBYADDR:
	case NSCD_GETHOSTBYADDRv6:
		if (keylen != (h.type == NSCD_GETHOSTBYADDR ? 4u : 16u))
			goto refuse;
		memcpy(c->addr, key, keylen);
		req.kind = PROTO_KIND_REVERSE;
		req.family = keylen == 4 ? CODNS_AF_INET : CODNS_AF_INET6;
		memcpy(req.addr, key, keylen);
		/* A v4-mapped address is asked as the IPv4 address it holds,
		 * as nss_codns does. */
		if (keylen == 16 &&
		    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)key)) {
			req.family = CODNS_AF_INET;
			memmove(req.addr, key + 12, 4);
		}
		break;
	default:
		goto refuse;
	}
	switch (nscd_from_hosts(c, &now)) {
	case 1:
		nscd_count(n, STATS_NSCD_HOSTS_FILE);
		nscd_reply(c, &now, NSCD_HOSTS_TTL, 0);
		return 0;
	case -1:
		nscd_count(n, STATS_NSCD_TO_NSS);
		return 0;
	}
	if (nscd_left_find(n, c, time(NULL)) != NULL) {
		nscd_count(n, STATS_NSCD_TO_NSS);
		return 0;
	}
	c->st.npending++;
	c->w = lookup_start(n->d->lookup, &req, 0, nscd_answer_cb, c, &now);
	if (c->w == NULL) {
		c->st.npending--;
		nscd_reply(c, &now, cache_ttl(n->d->cache, &now), 1);
	}
	return 0;
refuse:
	c->refused = 1;
	return -1;
}

/* stream_ops.bad: close unanswered. */
static int
nscd_bad(void *arg)
{
	struct nscd_conn *c = arg;

	nscd_count(c->n, c->refused ? STATS_NSCD_REFUSED : STATS_NSCD_BAD);
	nscd_conn_free(c);
	return -1;
}

static void
nscd_end(void *arg, int idle)
{
	nscd_conn_free(arg);
}

static const struct stream_limits nscd_limits = {
	.pipeline_max = 1,
	.out_high = 64 * 1024,
	.idle_sec = NSCD_IDLE_SEC,
	.linger = 1,
	.idle_needs_progress = 1,
};

static const struct stream_ops nscd_ops = {
	.peek = nscd_peek,
	.request = nscd_request,
	.bad = nscd_bad,
	.parsed = NULL,
	.end = nscd_end,
};

static void
nscd_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nscd *n = w->data;
	struct nscd_conn *c;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct stream_who who;
	int fd;

	if ((fd = stream_accept(n->usock.fd, "nscd accept")) == -1)
		return;
	/* Admission as on the lookup socket (stream_admit), by uid. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    stream_peer(fd, &who) == -1 ||
	    !stream_admit(&n->pool, &who, n->d->conf.max_clients,
		n->d->conf.max_clients_per_user) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		nscd_count(n, STATS_NSCD_REFUSED);
		close(fd);
		return;
	}
	/* nscd_no_self() keeps this at 0: a request from ourselves waited
	 * 5 s for this loop before it could be accepted. */
	if (cred.pid == getpid())
		nscd_count(n, STATS_NSCD_SELF);
	c->n = n;
	c->uid = cred.uid;
	LIST_INSERT_HEAD(&n->conns, c, entry);
	stream_start(&c->st, &n->pool, &who, &nscd_limits, &nscd_ops, c, loop,
	    fd, c->in, sizeof(c->in));
}

/* A changed hosts file (filewatch) clears the table, as nscd does. */
static void
nscd_hosts_changed(void *arg)
{
	struct nscd *n = arg;
	struct stat st;

	if (stat(nscd_hosts_path, &st) == -1)
		memset(&st, 0, sizeof(st));
	if (conf_file_changed(&st, &n->hosts)) {
		log_debug("nscd: %s changed, table cleared", nscd_hosts_path);
		nscdtab_clear(n->tab);
		nscd_left_drop(n, NULL);
		n->hosts = st;
	}
}

/* Each second: expiry, the timestamp clients check. */
static void
nscd_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nscd *n = t->data;
	time_t now = time(NULL);

	nscdtab_expire(n->tab, now);
	nscdtab_touch(n->tab, now);
}

/* Any address or link change: clients re-read their interface list. */
static void
nscd_netlink_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nscd *n = w->data;
	char buf[8192];
	int i;

	for (i = 0; i < 64 && recv(n->nl_fd, buf, sizeof(buf), 0) > 0; i++)
		;
	nscdtab_bump_interfaces(n->tab);
}

static void
nscd_netlink_open(struct nscd *n)
{
	struct sockaddr_nl sa;

	n->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (n->nl_fd != -1 &&
	    bind(n->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(n->nl_fd);
		n->nl_fd = -1;
	}
	if (n->nl_fd == -1) {
		/* No counter: clients ask the kernel each time, as without
		 * nscd. */
		log_warn("nscd: netlink");
		return;
	}
	stream_watch_read(&n->nl_io, n->d->loop, n->nl_fd, nscd_netlink_cb,
	    n);
	nscdtab_bump_interfaces(n->tab);
}

/*
 * This process must not ask nscd, which is itself: a getpwnam() here
 * (dropping privileges, control-group checks) would wait 5 s for an
 * answer only this loop can give. glibc skips nscd for a database whose
 * sources were set with __nss_configure_lookup(), so every database
 * codnsd uses is set to what nsswitch.conf says now, and hosts to
 * "files". That does not cover glibc's getaddrinfo() sorting its answers
 * (__check_pf asks nscd regardless), so codnsd makes no hosts call to
 * glibc at all (nscd_from_hosts() reads the file itself). (glibc then
 * stops re-reading nsswitch.conf in this process.)
 */
static void
nscd_no_self(void)
{
	/* glibc's initgroups() follows group's setting. */
	static const char *const dbs[] = { "passwd", "group" };
	char line[512], *p, *v;
	FILE *f;
	size_t i, l;
	int set[2] = { 0, 0 };

	__nss_configure_lookup("hosts", "files");
	if ((f = fopen("/etc/nsswitch.conf", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if ((p = strchr(line, '#')) != NULL)
				*p = '\0';
			if ((v = strchr(line, ':')) == NULL)
				continue;
			*v++ = '\0';
			v += strspn(v, " \t");
			p = line + strspn(line, " \t");
			p[strcspn(p, " \t")] = '\0';
			l = strcspn(v, "\r\n");
			v[l] = '\0';
			for (i = 0; i < 2; i++)
				if (strcmp(p, dbs[i]) == 0 && *v != '\0' &&
				    __nss_configure_lookup(dbs[i], v) == 0)
					set[i] = 1;
		}
		fclose(f);
	}
	for (i = 0; i < 2; i++)
		if (!set[i])
			__nss_configure_lookup(dbs[i], "files");
}

struct nscd *
nscd_new(struct codnsd *d)
{
	struct nscd *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->d = d;
	n->usock.fd = -1;
	n->nl_fd = -1;
	LIST_INIT(&n->conns);
	stream_pool_init(&n->pool);
	nscd_no_self();
	hostsfile_read_conf();
	n->tab_entries = d->conf.cache_size;
	if ((n->tab = nscdtab_new(n->tab_entries)) == NULL) {
		log_warn("nscd: table");
		free(n);
		return NULL;
	}
	if (stat(nscd_hosts_path, &n->hosts) == -1)
		memset(&n->hosts, 0, sizeof(n->hosts));
	nscdtab_touch(n->tab, time(NULL));
	/* glibc's client runs as any user. */
	if (usock_listen(&n->usock, d->conf.nscd_socket, d->conf.user, 0666,
		"nscd") == -1 ||
	    usock_backlog(&n->usock, NSCD_BACKLOG) == -1) {
		nscd_free(n);
		return NULL;
	}
	stream_watch_read(&n->io, d->loop, n->usock.fd, nscd_accept_cb, n);
	nscd_netlink_open(n);
	ev_timer_init(&n->tick, nscd_tick_cb, NSCD_TICK_SEC, NSCD_TICK_SEC);
	n->tick.data = n;
	ev_timer_start(d->loop, &n->tick);
	filewatch_start(&n->hosts_watch, d->loop, nscd_hosts_path,
	    NSCD_TICK_SEC, nscd_hosts_changed, n);
	return n;
}

void
nscd_free(struct nscd *n)
{
	if (n == NULL)
		return;
	while (!LIST_EMPTY(&n->conns))
		nscd_conn_free(LIST_FIRST(&n->conns));
	ev_timer_stop(n->d->loop, &n->tick);
	filewatch_stop(&n->hosts_watch);
	if (n->usock.fd != -1) {
		ev_io_stop(n->d->loop, &n->io);
		usock_close(&n->usock);
	}
	if (n->nl_fd != -1) {
		ev_io_stop(n->d->loop, &n->nl_io);
		close(n->nl_fd);
	}
	nscdtab_free(n->tab); /* clients see it dead and stop using it */
	free(n);
}

void
nscd_pause(struct nscd *n, int on)
{
	if (n == NULL || n->usock.fd == -1)
		return;
	if (on)
		ev_io_stop(n->d->loop, &n->io);
	else
		ev_io_start(n->d->loop, &n->io);
}

void
nscd_configure(struct nscd *n)
{
	struct nscdtab *t;

	if (n == NULL || n->tab_entries == n->d->conf.cache_size)
		return;
	if ((t = nscdtab_new(n->d->conf.cache_size)) == NULL) {
		log_warn("nscd: new table, keeping the old one");
		nscdtab_clear(n->tab);
		return;
	}
	nscdtab_touch(t, time(NULL));
	if (n->nl_fd != -1)
		nscdtab_bump_interfaces(t);
	nscdtab_free(n->tab); /* its clients remap */
	n->tab = t;
	n->tab_entries = n->d->conf.cache_size;
}

void
nscd_flush(struct nscd *n, const char *name)
{
	if (n == NULL)
		return;
	nscdtab_drop_name(n->tab, name);
	nscd_left_drop(n, name);
}

void
nscd_table_info(const struct nscd *n, size_t *entries, size_t *bytes,
    uint64_t *published, uint64_t *cleared)
{
	*entries = nscdtab_entries(n->tab);
	*bytes = nscdtab_size(n->tab);
	*published = nscdtab_stats(n->tab)->published;
	*cleared = nscdtab_stats(n->tab)->cleared;
}

size_t
nscd_clients(const struct nscd *n)
{
	return n->pool.nconns;
}
