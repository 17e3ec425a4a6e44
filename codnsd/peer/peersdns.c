/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peersdns.c: peers from the cluster's registry, by DNS name. */
#include "peersdns.h"

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "upstream.h"

/* --- parsing: pure, for the unit tests ------------------------------------ */

void
peersdns_set_init(struct peersdns_set *s)
{
	memset(s, 0, sizeof(*s));
	s->ttl_s = UINT32_MAX;
}

void
peersdns_set_clear(struct peersdns_set *s)
{
	free(s->addrs);
	peersdns_set_init(s);
}

uint32_t
peersdns_clamp_ttl(uint32_t ttl_s)
{
	if (ttl_s < PEERSDNS_TTL_MIN_S)
		return PEERSDNS_TTL_MIN_S;
	return ttl_s > PEERSDNS_TTL_MAX_S ? PEERSDNS_TTL_MAX_S : ttl_s;
}

static void
set_ttl(struct peersdns_set *s, uint32_t ttl)
{
	if (ttl < s->ttl_s)
		s->ttl_s = ttl;
}

/* Add one address unless it is there already; past the cap it is cut. */
static int
set_add(struct peersdns_set *s, const struct dnsmsg_rr *rr, uint16_t port)
{
	struct conf_addr a;
	struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;
	size_t i;

	memset(&a, 0, sizeof(a));
	if (rr->type == DNSMSG_T_A && rr->rdlen == 4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, rr->rdata, 4);
		a.len = sizeof(*sin);
	} else if (rr->type == DNSMSG_T_AAAA && rr->rdlen == 16) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, rr->rdata, 16);
		a.len = sizeof(*sin6);
	} else {
		s->malformed++;
		return 0;
	}
	for (i = 0; i < s->n; i++)
		if (addr_equal((struct sockaddr *)&s->addrs[i].ss,
			(struct sockaddr *)&a.ss))
			return 0;
	if (s->n >= PEERSDNS_MAX) {
		s->cut++;
		return 0;
	}
	if (s->addrs == NULL &&
	    (s->addrs = calloc(PEERSDNS_MAX, sizeof(*s->addrs))) == NULL)
		return -1;
	s->addrs[s->n++] = a;
	set_ttl(s, rr->ttl);
	return 0;
}

/* Read the header and skip the question; counts[] gets AN, NS, AR. */
static int
msg_open(const uint8_t *msg, size_t len, struct buf *b, uint16_t counts[3],
    uint8_t *rcode)
{
	struct dnsmsg_name n;
	uint16_t id, flags, qd, t, c;
	size_t i;

	buf_init_read(b, msg, len);
	if (buf_get_u16(b, &id) == -1 || buf_get_u16(b, &flags) == -1 ||
	    buf_get_u16(b, &qd) == -1 || buf_get_u16(b, &counts[0]) == -1 ||
	    buf_get_u16(b, &counts[1]) == -1 ||
	    buf_get_u16(b, &counts[2]) == -1 || !(flags & DNSMSG_F_QR))
		return -1;
	for (i = 0; i < qd; i++)
		if (dnsmsg_name_get(msg, len, b, &n) == -1 ||
		    buf_get_u16(b, &t) == -1 || buf_get_u16(b, &c) == -1)
			return -1;
	*rcode = (uint8_t)(flags & DNSMSG_F_RCODE);
	return 0;
}

/* The names a CNAME chain from qname reaches (RFC 1034 section 3.6.2),
 * in the answer section; bounded like any chain a resolver follows. */
#define CHAIN_MAX 8
struct chain {
	struct dnsmsg_name names[CHAIN_MAX];
	size_t n;
};

static int
chain_has(const struct chain *ch, const struct dnsmsg_name *n)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		if (dnsmsg_name_equal(&ch->names[i], n))
			return 1;
	return 0;
}

/* Walk the answer section once per link, so CNAMEs in any order count. */
static int
chain_build(const uint8_t *msg, size_t len, size_t an_pos, uint16_t an,
    struct chain *ch)
{
	struct dnsmsg_rr rr;
	struct dnsmsg_name target;
	struct buf b, rd;
	size_t i, before;

	do {
		before = ch->n;
		buf_init_read(&b, msg, len);
		buf_skip(&b, an_pos);
		for (i = 0; i < an; i++) {
			if (dnsmsg_rr_read(msg, len, &b, &rr) == -1)
				return -1;
			if (rr.type != DNSMSG_T_CNAME || !chain_has(ch, &rr.name))
				continue;
			buf_init_read(&rd, msg, b.pos);
			buf_skip(&rd, b.pos - rr.rdlen);
			if (dnsmsg_name_get(msg, b.pos, &rd, &target) == -1)
				return -1;
			if (!chain_has(ch, &target) && ch->n < CHAIN_MAX)
				ch->names[ch->n++] = target;
		}
	} while (ch->n > before && ch->n < CHAIN_MAX);
	return 0;
}

int
peersdns_parse_addrs(const uint8_t *msg, size_t len,
    const struct dnsmsg_name *qname, uint16_t port, struct peersdns_set *s)
{
	struct dnsmsg_rr rr;
	struct chain ch;
	struct buf b;
	uint16_t counts[3];
	uint8_t rcode;
	size_t i;

	if (msg_open(msg, len, &b, counts, &rcode) == -1)
		return -1;
	ch.names[0] = *qname;
	ch.n = 1;
	if (chain_build(msg, len, b.pos, counts[0], &ch) == -1)
		return -1;
	for (i = 0; i < counts[0]; i++) {
		if (dnsmsg_rr_read(msg, len, &b, &rr) == -1)
			return -1;
		if ((rr.type != DNSMSG_T_A && rr.type != DNSMSG_T_AAAA) ||
		    rr.rclass != DNSMSG_C_IN)
			continue;
		if (!chain_has(&ch, &rr.name)) {
			s->malformed++; /* an address of another name */
			continue;
		}
		if (set_add(s, &rr, port) == -1)
			return -1;
	}
	return rcode;
}

/* One SRV record's port and target (RFC 2782: priority, weight, port,
 * target; the target is never compressed, but read it as if it could). */
static int
srv_read(const uint8_t *msg, size_t end, const struct dnsmsg_rr *rr,
    struct peersdns_target *t)
{
	struct buf rd;
	uint16_t prio, weight;

	buf_init_read(&rd, msg, end);
	buf_skip(&rd, end - rr->rdlen);
	if (buf_get_u16(&rd, &prio) == -1 || buf_get_u16(&rd, &weight) == -1 ||
	    buf_get_u16(&rd, &t->port) == -1 ||
	    dnsmsg_name_get(msg, end, &rd, &t->name) == -1 ||
	    buf_remaining(&rd) != 0)
		return -1;
	return 0;
}

/* Addresses of the additional section for the targets; those left
 * without one are kept in targets[]. */
static int
srv_glue(const uint8_t *msg, size_t len, struct buf *b, uint16_t nar,
    struct peersdns_set *s, struct peersdns_target *t, size_t *nt)
{
	struct dnsmsg_rr rr;
	unsigned char *glued;
	size_t i, j;
	int rc = -1;

	if ((glued = calloc(*nt ? *nt : 1, 1)) == NULL)
		return -1;
	for (i = 0; i < nar; i++) {
		if (dnsmsg_rr_read(msg, len, b, &rr) == -1)
			goto done;
		if (rr.type != DNSMSG_T_A && rr.type != DNSMSG_T_AAAA)
			continue;
		for (j = 0; j < *nt; j++)
			if (dnsmsg_name_equal(&t[j].name, &rr.name)) {
				glued[j] = 1;
				if (set_add(s, &rr, t[j].port) == -1)
					goto done;
			}
	}
	for (i = j = 0; i < *nt; i++)
		if (!glued[i])
			t[j++] = t[i];
	*nt = j;
	rc = 0;
done:
	free(glued);
	return rc;
}

int
peersdns_parse_srv(const uint8_t *msg, size_t len,
    const struct dnsmsg_name *qname, struct peersdns_set *s,
    struct peersdns_target *targets, size_t max, size_t *nt)
{
	struct dnsmsg_rr rr;
	struct peersdns_target t;
	struct buf b;
	uint16_t counts[3];
	uint8_t rcode;
	size_t i;

	*nt = 0;
	if (msg_open(msg, len, &b, counts, &rcode) == -1)
		return -1;
	for (i = 0; i < counts[0]; i++) {
		if (dnsmsg_rr_read(msg, len, &b, &rr) == -1)
			return -1;
		if (rr.type != DNSMSG_T_SRV || rr.rclass != DNSMSG_C_IN)
			continue;
		if (!dnsmsg_name_equal(&rr.name, qname) ||
		    srv_read(msg, b.pos, &rr, &t) == -1 || t.port == 0) {
			s->malformed++;
			continue;
		}
		if (t.name.len == 1)
			continue; /* ".": not offered here */
		set_ttl(s, rr.ttl);
		if (*nt < max)
			targets[(*nt)++] = t;
		else
			s->cut++;
	}
	for (i = 0; i < counts[1]; i++)
		if (dnsmsg_rr_read(msg, len, &b, &rr) == -1)
			return -1;
	if (srv_glue(msg, len, &b, counts[2], s, targets, nt) == -1)
		return -1;
	return rcode;
}

/* --- the sources: resolution driven by the loop --------------------------- */

struct pd_source;

/* One question in flight for a source. */
struct pd_req {
	struct pd_source *src;
	struct upstream_query *uq;
	struct dnsmsg_name name;
	uint16_t type;
	uint16_t port;
};

struct pd_source {
	struct peersdns *pd;
	char name[CONF_DNSNAME_MAX + 1];
	struct dnsmsg_name qname;
	int srv;
	ev_timer timer;
	/* The last good list, sorted by nothing: the union dedups. */
	struct conf_addr *last;
	size_t nlast;
	uint64_t last_ok_ms; /* 0 never */
	uint64_t next_ms;
	char err[96];
	uint64_t refreshes, failures, malformed, cut;
	/* The resolution in progress. */
	struct pd_req *reqs;
	size_t nreqs, pending;
	struct peersdns_set cur;
	int failed;
	char cur_err[96];
};

struct peersdns {
	struct ev_loop *loop;
	struct upstream *up;
	uint16_t port; /* peer-listen's, for A/AAAA names */
	struct pd_source src[CONF_PEERS_DNS_MAX];
	size_t nsrc;
	peersdns_change_cb *cb;
	void *arg;
};

static void pd_start(struct pd_source *);

static void
pd_cancel(struct pd_source *s)
{
	size_t i;

	for (i = 0; i < s->nreqs; i++)
		upstream_cancel(s->reqs[i].uq);
	free(s->reqs);
	s->reqs = NULL;
	s->nreqs = s->pending = 0;
	peersdns_set_clear(&s->cur);
}

/* Addresses in one order (set_add() zeroes each first, so whole bytes
 * compare), for comparing and merging lists in O(n log n): a list may
 * hold 4096 peers, and the loop must not stall on n * n comparisons. */
static int
pd_addr_cmp(const void *x, const void *y)
{
	const struct conf_addr *a = x, *b = y;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(&a->ss, &b->ss, a->len);
}

/* Whether a and b hold the same addresses, in any order. Out of memory
 * says "not the same": the list is then applied again, which is harmless. */
static int
pd_same_list(const struct conf_addr *a, size_t na, const struct conf_addr *b,
    size_t nb)
{
	struct conf_addr *x, *y;
	size_t i;
	int same = 0;

	if (na != nb)
		return 0;
	if (na == 0)
		return 1;
	x = malloc(na * sizeof(*x));
	y = malloc(nb * sizeof(*y));
	if (x != NULL && y != NULL) {
		memcpy(x, a, na * sizeof(*x));
		memcpy(y, b, nb * sizeof(*y));
		qsort(x, na, sizeof(*x), pd_addr_cmp);
		qsort(y, nb, sizeof(*y), pd_addr_cmp);
		for (i = 0; i < na && pd_addr_cmp(&x[i], &y[i]) == 0; i++)
			;
		same = i == na;
	}
	free(x);
	free(y);
	return same;
}

static void
pd_arm(struct pd_source *s, uint32_t after_s)
{
	struct ev_loop *loop = s->pd->loop;

	s->next_ms = clock_loop_ms(loop) + (uint64_t)after_s * 1000;
	ev_timer_stop(loop, &s->timer);
	ev_timer_set(&s->timer, after_s, 0);
	ev_timer_start(loop, &s->timer);
}

/* Every question of the resolution has come back: keep or replace. */
static void
pd_finish(struct pd_source *s)
{
	struct peersdns *pd = s->pd;
	int changed = 0;

	s->refreshes++;
	s->malformed += s->cur.malformed;
	s->cut += s->cur.cut;
	if (!s->failed && s->cur.n == 0)
		snprintf(s->cur_err, sizeof(s->cur_err), "no addresses");
	if (s->failed || s->cur.n == 0) {
		/* Keep the last good list (a registry hiccup is no reason
		 * to forget the cluster); try again soon. */
		s->failures++;
		snprintf(s->err, sizeof(s->err), "%s", s->cur_err);
		log_warnx("peers-dns %s: %s; keeping %zu peers", s->name,
		    s->err, s->nlast);
		peersdns_set_clear(&s->cur);
		pd_arm(s, PEERSDNS_RETRY_S);
	} else {
		s->err[0] = '\0';
		s->last_ok_ms = clock_loop_ms(pd->loop);
		changed = !pd_same_list(s->last, s->nlast, s->cur.addrs,
		    s->cur.n);
		free(s->last);
		s->last = s->cur.addrs;
		s->nlast = s->cur.n;
		pd_arm(s, peersdns_clamp_ttl(s->cur.ttl_s));
		s->cur.addrs = NULL;
		peersdns_set_clear(&s->cur);
		if (changed)
			log_info("peers-dns %s: %zu peers", s->name, s->nlast);
	}
	free(s->reqs);
	s->reqs = NULL;
	s->nreqs = 0;
	if (changed && pd->cb != NULL)
		pd->cb(pd->arg);
}

static void
pd_fail(struct pd_source *s, const char *why)
{
	if (!s->failed)
		snprintf(s->cur_err, sizeof(s->cur_err), "%s", why);
	s->failed = 1;
}

static void pd_reply(void *arg, const uint8_t *msg, size_t len);

/* Ask name/type; the reply comes from the loop. */
static void
pd_ask(struct pd_source *s, const struct dnsmsg_name *name, uint16_t type,
    uint16_t port)
{
	struct dnsmsg_writer w;
	uint8_t msg[DNSMSG_UDP_MIN];
	struct pd_req *r = &s->reqs[s->nreqs];
	size_t len;

	dnsmsg_writer_init(&w, msg, sizeof(msg), sizeof(msg), 0);
	dnsmsg_put_header(&w, 0, DNSMSG_F_RD);
	dnsmsg_put_question(&w, name, type, DNSMSG_C_IN);
	len = dnsmsg_finish(&w, 0);
	r->src = s;
	r->name = *name;
	r->type = type;
	r->port = port;
	if (len == 0 ||
	    (r->uq = upstream_send_raw(s->pd->up, msg, len, pd_reply, r)) ==
		NULL) {
		pd_fail(s, "cannot send a query");
		return;
	}
	s->nreqs++;
	s->pending++;
}

/* The A and AAAA questions for each SRV target that came without glue. */
static void
pd_ask_targets(struct pd_source *s, const struct peersdns_target *t,
    size_t nt)
{
	struct pd_req *more;
	size_t i;

	if (nt == 0)
		return;
	/* s->reqs moves: the requests in flight point into it. Only the
	 * SRV question is in flight here, and it is the one answering. */
	if ((more = calloc(1 + 2 * nt, sizeof(*more))) == NULL) {
		pd_fail(s, "out of memory");
		return;
	}
	free(s->reqs);
	s->reqs = more;
	s->nreqs = 1;
	for (i = 0; i < nt; i++) {
		pd_ask(s, &t[i].name, DNSMSG_T_A, t[i].port);
		pd_ask(s, &t[i].name, DNSMSG_T_AAAA, t[i].port);
	}
}

static void
pd_reply_srv(struct pd_source *s, const uint8_t *msg, size_t len)
{
	struct peersdns_target *t;
	size_t nt = 0;
	int rc;

	if ((t = calloc(PEERSDNS_TARGETS_MAX, sizeof(*t))) == NULL) {
		pd_fail(s, "out of memory");
		return;
	}
	rc = peersdns_parse_srv(msg, len, &s->qname, &s->cur, t,
	    PEERSDNS_TARGETS_MAX, &nt);
	if (rc == -1)
		pd_fail(s, "malformed answer");
	else if (rc == DNSMSG_NXDOMAIN)
		pd_fail(s, "NXDOMAIN");
	else if (rc != DNSMSG_NOERROR)
		pd_fail(s, "error answer");
	else
		pd_ask_targets(s, t, nt);
	free(t);
}

static void
pd_reply(void *arg, const uint8_t *msg, size_t len)
{
	struct pd_req *r = arg;
	struct pd_source *s = r->src;
	int rc;

	r->uq = NULL;
	s->pending--;
	if (msg == NULL)
		pd_fail(s, "no answer (timeout, SERVFAIL or REFUSED)");
	else if (s->srv && r == &s->reqs[0])
		pd_reply_srv(s, msg, len); /* may move s->reqs: r is stale */
	else if ((rc = peersdns_parse_addrs(msg, len, &r->name, r->port,
		      &s->cur)) == -1)
		pd_fail(s, "malformed answer");
	else if (rc == DNSMSG_NXDOMAIN)
		pd_fail(s, "NXDOMAIN");
	else if (rc != DNSMSG_NOERROR)
		pd_fail(s, "error answer");
	if (s->pending == 0)
		pd_finish(s);
}

static void
pd_start(struct pd_source *s)
{
	pd_cancel(s);
	s->failed = 0;
	s->cur_err[0] = '\0';
	if ((s->reqs = calloc(2, sizeof(*s->reqs))) == NULL) {
		pd_fail(s, "out of memory");
		pd_finish(s);
		return;
	}
	if (s->srv)
		pd_ask(s, &s->qname, DNSMSG_T_SRV, 0);
	else {
		pd_ask(s, &s->qname, DNSMSG_T_A, s->pd->port);
		pd_ask(s, &s->qname, DNSMSG_T_AAAA, s->pd->port);
	}
	if (s->pending == 0)
		pd_finish(s);
}

static void
pd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pd_source *s = w->data;

	(void)loop;
	(void)revents;
	if (s->pending == 0)
		pd_start(s);
}

/* "_service._udp.domain" asks for SRV records (RFC 2782). */
static int
pd_is_srv(const char *name)
{
	const char *dot = strchr(name, '.');

	return name[0] == '_' && dot != NULL && strncasecmp(dot, "._udp.", 6) ==
	    0;
}

struct peersdns *
peersdns_new(struct ev_loop *loop, struct upstream *up,
    const char (*names)[CONF_DNSNAME_MAX + 1], size_t n, uint16_t port,
    peersdns_change_cb *cb, void *arg)
{
	struct peersdns *pd;
	struct pd_source *s;
	size_t i;

	if (n == 0 || (pd = calloc(1, sizeof(*pd))) == NULL)
		return NULL;
	pd->loop = loop;
	pd->up = up;
	pd->port = port;
	pd->cb = cb;
	pd->arg = arg;
	for (i = 0; i < n && i < CONF_PEERS_DNS_MAX; i++) {
		s = &pd->src[pd->nsrc];
		if (dnsmsg_name_from_text(names[i], &s->qname) == -1)
			continue; /* conf.c checked it: cannot happen */
		snprintf(s->name, sizeof(s->name), "%s", names[i]);
		s->pd = pd;
		s->srv = pd_is_srv(s->name);
		peersdns_set_init(&s->cur);
		ev_timer_init(&s->timer, pd_timer_cb, 0, 0);
		s->timer.data = s;
		pd->nsrc++;
	}
	for (i = 0; i < pd->nsrc; i++)
		pd_arm(&pd->src[i], 0);
	return pd;
}

void
peersdns_free(struct peersdns *pd)
{
	size_t i;

	if (pd == NULL)
		return;
	for (i = 0; i < pd->nsrc; i++) {
		ev_timer_stop(pd->loop, &pd->src[i].timer);
		pd_cancel(&pd->src[i]);
		free(pd->src[i].last);
	}
	free(pd);
}

void
peersdns_refresh(struct peersdns *pd)
{
	size_t i;

	if (pd == NULL)
		return;
	for (i = 0; i < pd->nsrc; i++)
		if (pd->src[i].pending == 0)
			pd_arm(&pd->src[i], 0);
}

int
peersdns_same(const struct peersdns *pd,
    const char (*names)[CONF_DNSNAME_MAX + 1], size_t n, uint16_t port)
{
	size_t i;

	if (pd == NULL)
		return n == 0;
	if (pd->nsrc != n || pd->port != port)
		return 0;
	for (i = 0; i < pd->nsrc; i++)
		if (strcasecmp(pd->src[i].name, names[i]) != 0)
			return 0;
	return 1;
}

/* An address and the index of the name that gave it, for the union. */
struct pd_tagged {
	struct conf_addr a;
	uint16_t src;
};

static int
pd_tagged_cmp(const void *x, const void *y)
{
	const struct pd_tagged *a = x, *b = y;
	int c = pd_addr_cmp(&a->a, &b->a);

	if (c != 0)
		return c;
	return a->src < b->src ? -1 : a->src > b->src;
}

size_t
peersdns_list(const struct peersdns *pd, struct conf_addr *out,
    uint16_t *source, size_t max, size_t *cut)
{
	struct pd_tagged *t;
	size_t i, j, nt = 0, n = 0;

	*cut = 0;
	if (max > PEERSDNS_MAX)
		max = PEERSDNS_MAX;
	for (i = 0; pd != NULL && i < pd->nsrc; i++)
		nt += pd->src[i].nlast;
	if (nt == 0 || (t = malloc(nt * sizeof(*t))) == NULL)
		return 0;
	for (i = nt = 0; i < pd->nsrc; i++)
		for (j = 0; j < pd->src[i].nlast; j++) {
			t[nt].a = pd->src[i].last[j];
			t[nt++].src = (uint16_t)i;
		}
	/* Sorted by address, then by name: the first of equal addresses is
	 * the one the earliest name gave. */
	qsort(t, nt, sizeof(*t), pd_tagged_cmp);
	for (i = 0; i < nt; i++) {
		if (i > 0 && pd_addr_cmp(&t[i].a, &t[i - 1].a) == 0)
			continue;
		if (n >= max) {
			(*cut)++;
			continue;
		}
		out[n] = t[i].a;
		source[n++] = t[i].src;
	}
	free(t);
	return n;
}

size_t
peersdns_sources(const struct peersdns *pd, struct peersdns_info *out,
    size_t max)
{
	const struct pd_source *s;
	uint64_t now;
	size_t i;

	if (pd == NULL)
		return 0;
	now = clock_loop_ms(pd->loop);
	for (i = 0; i < pd->nsrc && i < max; i++) {
		s = &pd->src[i];
		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = s->name;
		out[i].srv = s->srv;
		out[i].count = s->nlast;
		out[i].last_refresh_ago_s = s->last_ok_ms ?
		    (double)(now - s->last_ok_ms) / 1000 :
		    -1;
		out[i].next_refresh_in_s = s->next_ms > now ?
		    (double)(s->next_ms - now) / 1000 :
		    0;
		snprintf(out[i].last_error, sizeof(out[i].last_error), "%s",
		    s->err);
		out[i].refreshes = s->refreshes;
		out[i].failures = s->failures;
		out[i].malformed = s->malformed;
		out[i].cut = s->cut;
	}
	return i;
}

const char *
peersdns_source_name(const struct peersdns *pd, uint16_t i)
{
	return pd != NULL && i < pd->nsrc ? pd->src[i].name : "";
}
