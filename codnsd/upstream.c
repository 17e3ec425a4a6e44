/* codnsd/upstream.c: local resolution through c-ares driven by libev. */
#include "upstream.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"

/* A c-ares channel with its watchers. A reload makes a new one; the old
 * one drains its queries and is destroyed when none remain. */
struct upstream_chan {
	struct upstream *up;
	ares_channel ch;
	ev_timer timer;
	struct upstream_sock *socks;
	unsigned pending;
	struct upstream_chan *next; /* draining list */
};

struct upstream_sock {
	struct upstream_chan *chan;
	ev_io io;
	ares_socket_t fd;
	struct upstream_sock *next;
};

struct upstream_query {
	struct upstream_chan *chan;
	upstream_cb *cb;
	upstream_raw_cb *raw_cb; /* upstream_send_raw() */
	void *arg;
	uint64_t start_ms;
	ev_tstamp start;
	int starting; /* inside upstream_resolve() */
	struct proto_answer early; /* answered before it returned */
	ev_timer defer;
	struct proto_request req;
};

struct upstream {
	struct ev_loop *loop;
	struct upstream_chan *cur;
	struct upstream_chan *draining;
	ev_idle reaper;
	struct upstream_health health;
	uint32_t timeout_ms;
	size_t nservers;
	struct conf_addr servers[CONF_UPSTREAM_MAX];
};

static void upstream_chan_arm(struct upstream_chan *);

uint64_t
upstream_now_ms(struct ev_loop *loop)
{
	return (uint64_t)(ev_now(loop) * 1000.0);
}

static void
upstream_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct upstream_sock *s = w->data;
	struct upstream_chan *chan = s->chan;
	ares_socket_t fd = s->fd;

	/* s may be freed inside ares_process_fd via the state callback. */
	ares_process_fd(chan->ch, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	upstream_chan_arm(chan);
}

static void
upstream_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upstream_chan *chan = w->data;

	ares_process_fd(chan->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	upstream_chan_arm(chan);
}

static void
upstream_sock_state_cb(void *data, ares_socket_t fd, int readable,
    int writable)
{
	struct upstream_chan *chan = data;
	struct upstream_sock *s, **sp;
	int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	for (sp = &chan->socks; (s = *sp) != NULL; sp = &s->next)
		if (s->fd == fd)
			break;
	if (events == 0) {
		if (s != NULL) {
			ev_io_stop(chan->up->loop, &s->io);
			*sp = s->next;
			free(s);
		}
		return;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			log_warn("upstream socket watcher");
			return;
		}
		s->chan = chan;
		s->fd = fd;
		s->io.data = s;
		s->next = chan->socks;
		chan->socks = s;
		ev_io_init(&s->io, upstream_io_cb, fd, events);
	} else {
		ev_io_stop(chan->up->loop, &s->io);
		ev_io_set(&s->io, fd, events);
	}
	ev_io_start(chan->up->loop, &s->io);
}

/* Follow ares_timeout(): one timer per channel. */
static void
upstream_chan_arm(struct upstream_chan *chan)
{
	struct timeval tv, *tvp;
	struct ev_loop *loop = chan->up->loop;

	ev_timer_stop(loop, &chan->timer);
	if ((tvp = ares_timeout(chan->ch, NULL, &tv)) == NULL)
		return;
	ev_timer_set(&chan->timer, tvp->tv_sec + tvp->tv_usec / 1e6, 0.);
	ev_timer_start(loop, &chan->timer);
}

static void
upstream_chan_free(struct upstream_chan *chan)
{
	struct upstream_sock *s, *next;

	if (chan == NULL)
		return;
	ares_destroy(chan->ch);
	ev_timer_stop(chan->up->loop, &chan->timer);
	for (s = chan->socks; s != NULL; s = next) {
		next = s->next;
		ev_io_stop(chan->up->loop, &s->io);
		free(s);
	}
	free(chan);
}

static struct upstream_chan *
upstream_chan_new(struct upstream *up, const struct conf *c)
{
	struct upstream_chan *chan;
	struct ares_options opts;
	struct ares_addr_port_node nodes[CONF_UPSTREAM_MAX];
	char lookups[] = "b";
	size_t i;
	int rc;

	if ((chan = calloc(1, sizeof(*chan))) == NULL)
		return NULL;
	chan->up = up;
	ev_timer_init(&chan->timer, upstream_timer_cb, 0., 0.);
	chan->timer.data = chan;
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = upstream_sock_state_cb;
	opts.sock_state_cb_data = chan;
	opts.timeout = (int)c->upstream_timeout_ms;
	opts.tries = 2;
	/* /etc/hosts is nss "files"' job, not ours. */
	opts.lookups = lookups;
	rc = ares_init_options(&chan->ch, &opts,
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
		ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS) {
		log_warnx("c-ares init: %s", ares_strerror(rc));
		free(chan);
		return NULL;
	}
	if (c->nupstream > 0) {
		memset(nodes, 0, sizeof(nodes));
		for (i = 0; i < c->nupstream; i++) {
			const struct sockaddr *sa =
			    (const void *)&c->upstream[i].ss;

			nodes[i].next = i + 1 < c->nupstream ? &nodes[i + 1] :
							       NULL;
			nodes[i].family = sa->sa_family;
			if (sa->sa_family == AF_INET)
				memcpy(&nodes[i].addr.addr4,
				    &((const struct sockaddr_in *)(const void *)
					    sa)->sin_addr,
				    4);
			else
				memcpy(&nodes[i].addr.addr6,
				    &((const struct sockaddr_in6 *)(const void *)
					    sa)->sin6_addr,
				    16);
			nodes[i].udp_port = nodes[i].tcp_port = addr_port(sa);
		}
		if ((rc = ares_set_servers_ports(chan->ch, nodes)) !=
		    ARES_SUCCESS) {
			log_warnx("c-ares servers: %s", ares_strerror(rc));
			ares_destroy(chan->ch);
			free(chan);
			return NULL;
		}
	}
	return chan;
}

static uint64_t
upstream_fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The server list as text, and its identity for heartbeats (peers prefer
 * neighbours whose nameservers differ from ours: CoDNS section 4). */
static void
upstream_describe(struct upstream *up)
{
	struct ares_addr_port_node *servers = NULL, *n;
	struct upstream_health *h = &up->health;
	char a[INET6_ADDRSTRLEN], one[ADDR_STRLEN];
	size_t len = 0;

	h->servers[0] = '\0';
	h->nsset_id = 0xcbf29ce484222325ULL;
	if (ares_get_servers_ports(up->cur->ch, &servers) != ARES_SUCCESS)
		return;
	for (n = servers; n != NULL; n = n->next) {
		inet_ntop(n->family, &n->addr, a, sizeof(a));
		snprintf(one, sizeof(one), n->family == AF_INET6 ? "[%s]:%d" :
								   "%s:%d",
		    a, n->udp_port ? n->udp_port : 53);
		h->nsset_id = upstream_fnv(h->nsset_id, one);
		if (len < sizeof(h->servers))
			len += (size_t)snprintf(h->servers + len,
			    sizeof(h->servers) - len, "%s%s",
			    len ? "," : "", one);
	}
	ares_free_data(servers);
}

static void
upstream_reap_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct upstream *up = w->data;
	struct upstream_chan **cp, *chan;

	ev_idle_stop(loop, w);
	for (cp = &up->draining; (chan = *cp) != NULL;) {
		if (chan->pending == 0) {
			*cp = chan->next;
			upstream_chan_free(chan);
		} else
			cp = &chan->next;
	}
}

struct upstream *
upstream_new(struct ev_loop *loop, const struct conf *c)
{
	struct upstream *up;
	static int ares_ready;

	if (!ares_ready) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
			return NULL;
		ares_ready = 1;
	}
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return NULL;
	up->loop = loop;
	ev_idle_init(&up->reaper, upstream_reap_cb);
	up->reaper.data = up;
	if ((up->cur = upstream_chan_new(up, c)) == NULL) {
		free(up);
		return NULL;
	}
	up->timeout_ms = c->upstream_timeout_ms;
	up->nservers = c->nupstream;
	memcpy(up->servers, c->upstream, sizeof(up->servers));
	upstream_describe(up);
	return up;
}

int
upstream_configure(struct upstream *up, const struct conf *c)
{
	struct upstream_chan *chan;

	size_t i;

	for (i = 0; i < c->nupstream && i < up->nservers; i++)
		if (!addr_equal((const struct sockaddr *)&up->servers[i].ss,
			(const struct sockaddr *)&c->upstream[i].ss))
			break;
	if (up->timeout_ms == c->upstream_timeout_ms &&
	    up->nservers == c->nupstream && i == c->nupstream)
		return 0;
	if ((chan = upstream_chan_new(up, c)) == NULL)
		return -1;
	up->cur->next = up->draining;
	up->draining = up->cur;
	up->cur = chan;
	up->timeout_ms = c->upstream_timeout_ms;
	up->nservers = c->nupstream;
	memcpy(up->servers, c->upstream, sizeof(up->servers));
	upstream_describe(up);
	ev_idle_start(up->loop, &up->reaper);
	return 0;
}

void
upstream_free(struct upstream *up)
{
	struct upstream_chan *chan, *next;

	if (up == NULL)
		return;
	ev_idle_stop(up->loop, &up->reaper);
	for (chan = up->draining; chan != NULL; chan = next) {
		next = chan->next;
		upstream_chan_free(chan);
	}
	upstream_chan_free(up->cur);
	free(up);
}

const struct upstream_health *
upstream_health(const struct upstream *up)
{
	return &up->health;
}

/* Smoothed health, 1/8 weight for the newest sample as TCP's SRTT. */
static void
upstream_account(struct upstream *up, uint64_t start, int ok)
{
	struct upstream_health *h = &up->health;
	uint64_t now = upstream_now_ms(up->loop);
	uint32_t ms = (uint32_t)(now - start);

	h->queries++;
	h->last_ms = now;
	if (ok)
		h->mean_ms = h->queries == 1 ? ms : (h->mean_ms * 7 + ms) / 8;
	else
		h->failures++;
	h->fail_permille = (h->fail_permille * 7 + (ok ? 0 : 1000)) / 8;
}

static uint8_t
upstream_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return CODNS_FOUND;
	case ARES_ENOTFOUND:
		return CODNS_NOTFOUND;
	case ARES_ENODATA:
		return CODNS_NODATA;
	default:
		/* SERVFAIL, REFUSED, timeouts, destruction: temporary. */
		return CODNS_TRYAGAIN;
	}
}

/* A query is done: a draining channel with none left is reaped. */
static void
upstream_query_free(struct upstream_query *q)
{
	struct upstream_chan *chan = q->chan;
	struct upstream *up = chan->up;

	chan->pending--;
	free(q);
	if (chan != up->cur && chan->pending == 0)
		ev_idle_start(up->loop, &up->reaper);
}

static void
upstream_deliver(struct upstream_query *q, const struct proto_answer *a)
{
	if (q->cb != NULL)
		q->cb(q->arg, a);
	ev_timer_stop(q->chan->up->loop, &q->defer);
	upstream_query_free(q);
}

static void
upstream_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upstream_query *q = w->data;

	if (q->raw_cb != NULL) {
		q->raw_cb(q->arg, NULL, 0);
		q->cb = NULL;
	}
	upstream_deliver(q, &q->early);
}

static void
upstream_finish(struct upstream_query *q, struct proto_answer *a)
{
	struct upstream_chan *chan = q->chan;
	struct upstream *up = chan->up;

	upstream_account(up, q->start_ms, a->status != CODNS_TRYAGAIN);
	a->source = CODNS_SRC_LOCAL;
	a->latency_us = (uint32_t)((ev_now(up->loop) - q->start) * 1e6);
	if (a->status != CODNS_FOUND)
		a->ttl = 0;
	if (!q->starting) {
		upstream_deliver(q, a);
		return;
	}
	/* Never call back before upstream_resolve() has returned. */
	q->early = *a;
	ev_timer_start(up->loop, &q->defer);
}

static void
upstream_add_alias(struct proto_answer *a, const char *name)
{
	size_t i;

	if (strlen(name) > PROTO_NAME_MAX || !proto_name_valid(name) ||
	    strcasecmp(name, a->cname) == 0)
		return;
	for (i = 0; i < a->naliases; i++)
		if (strcasecmp(a->aliases[i], name) == 0)
			return;
	if (a->naliases < PROTO_ALIASES_MAX)
		strcpy(a->aliases[a->naliases++], name);
}

static void
upstream_add_addr(struct proto_answer *a, int family, const void *p)
{
	struct proto_addr pa;
	size_t i;

	memset(&pa, 0, sizeof(pa));
	pa.family = family == AF_INET ? CODNS_AF_INET : CODNS_AF_INET6;
	memcpy(pa.a, p, proto_addr_len(pa.family));
	for (i = 0; i < a->naddrs; i++)
		if (memcmp(&a->addrs[i], &pa, sizeof(pa)) == 0)
			return;
	if (a->naddrs < PROTO_ADDRS_MAX)
		a->addrs[a->naddrs++] = pa;
}

static void
upstream_ai_cb(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct upstream_query *q = arg;
	struct proto_answer a;
	struct ares_addrinfo_node *n;
	struct ares_addrinfo_cname *cn;
	uint32_t ttl = UINT32_MAX;

	memset(&a, 0, sizeof(a));
	a.status = upstream_status(status);
	if (status == ARES_SUCCESS && ai != NULL) {
		/* The canonical name is the target no alias points away from. */
		snprintf(a.cname, sizeof(a.cname), "%s", q->req.name);
		for (cn = ai->cnames; cn != NULL; cn = cn->next) {
			if (cn->ttl >= 0 && (uint32_t)cn->ttl < ttl)
				ttl = (uint32_t)cn->ttl;
			if (cn->name != NULL && strlen(cn->name) <= PROTO_NAME_MAX)
				snprintf(a.cname, sizeof(a.cname), "%s",
				    cn->name);
		}
		for (cn = ai->cnames; cn != NULL; cn = cn->next)
			if (cn->alias != NULL)
				upstream_add_alias(&a, cn->alias);
		for (n = ai->nodes; n != NULL; n = n->ai_next) {
			if (n->ai_ttl >= 0 && (uint32_t)n->ai_ttl < ttl)
				ttl = (uint32_t)n->ai_ttl;
			if (n->ai_family == AF_INET)
				upstream_add_addr(&a, AF_INET,
				    &((struct sockaddr_in *)(void *)n->ai_addr)
					 ->sin_addr);
			else if (n->ai_family == AF_INET6)
				upstream_add_addr(&a, AF_INET6,
				    &((struct sockaddr_in6 *)(void *)n->ai_addr)
					 ->sin6_addr);
		}
		a.ttl = ttl == UINT32_MAX ? 0 : ttl;
		if (a.naddrs == 0)
			a.status = CODNS_NODATA;
	}
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	upstream_finish(q, &a);
}

/* Skip a possibly compressed domain name (RFC 1035 section 4.1.4). */
static int
upstream_skip_name(struct buf *b)
{
	uint8_t len;
	int labels;

	for (labels = 0; labels < 128; labels++) {
		if (buf_get_u8(b, &len) == -1)
			return -1;
		if ((len & 0xc0) == 0xc0)
			return buf_skip(b, 1);
		if (len == 0)
			return 0;
		if (buf_skip(b, len) == -1)
			return -1;
	}
	return -1;
}

/* Smallest TTL of the answer section; c-ares' PTR parser drops them. */
static uint32_t
upstream_answer_ttl(const unsigned char *abuf, int alen)
{
	struct buf b;
	uint16_t qd, an, type, i;
	uint32_t ttl, min = UINT32_MAX;

	buf_init_read(&b, abuf, alen > 0 ? (size_t)alen : 0);
	if (buf_skip(&b, 4) == -1 || buf_get_u16(&b, &qd) == -1 ||
	    buf_get_u16(&b, &an) == -1 || buf_skip(&b, 4) == -1)
		return 0;
	for (i = 0; i < qd; i++)
		if (upstream_skip_name(&b) == -1 || buf_skip(&b, 4) == -1)
			return 0;
	for (i = 0; i < an; i++) {
		uint16_t rdlen;

		if (upstream_skip_name(&b) == -1 ||
		    buf_get_u16(&b, &type) == -1 || buf_skip(&b, 2) == -1 ||
		    buf_get_u32(&b, &ttl) == -1 ||
		    buf_get_u16(&b, &rdlen) == -1 || buf_skip(&b, rdlen) == -1)
			break;
		if (ttl < min)
			min = ttl;
	}
	return min == UINT32_MAX ? 0 : min;
}

static void
upstream_ptr_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;
	struct proto_answer a;
	struct hostent *he = NULL;
	int family = q->req.family == CODNS_AF_INET ? AF_INET : AF_INET6;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = upstream_status(status);
	if (status == ARES_SUCCESS) {
		status = ares_parse_ptr_reply(abuf, alen, q->req.addr,
		    (int)proto_addr_len(q->req.family), family, &he);
		if (status != ARES_SUCCESS || he == NULL ||
		    he->h_name == NULL || strlen(he->h_name) > PROTO_NAME_MAX ||
		    !proto_name_valid(he->h_name))
			a.status = status == ARES_ENODATA ? CODNS_NODATA :
							    CODNS_TRYAGAIN;
		else {
			strcpy(a.cname, he->h_name);
			for (i = 0; he->h_aliases && he->h_aliases[i]; i++)
				upstream_add_alias(&a, he->h_aliases[i]);
			a.naddrs = 1;
			a.addrs[0].family = q->req.family;
			memcpy(a.addrs[0].a, q->req.addr,
			    proto_addr_len(q->req.family));
			a.ttl = upstream_answer_ttl(abuf, alen);
		}
	}
	if (he != NULL)
		ares_free_hostent(he);
	upstream_finish(q, &a);
}

/* in-addr.arpa / ip6.arpa name of an address (RFC 1035 3.5, RFC 3596 2.5) */
static void
upstream_ptr_name(const struct proto_request *r, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *a = r->addr;
	size_t off = 0;
	int i;

	if (r->family == CODNS_AF_INET) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
		return;
	}
	for (i = 15; i >= 0 && off + 4 < len; i--) {
		out[off++] = hex[a[i] & 0xf];
		out[off++] = '.';
		out[off++] = hex[a[i] >> 4];
		out[off++] = '.';
	}
	snprintf(out + off, len - off, "ip6.arpa");
}

static void
upstream_probe_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;

	if (status != ARES_EDESTRUCTION)
		upstream_account(q->chan->up, q->start_ms, status != ARES_ETIMEOUT &&
			status != ARES_ECONNREFUSED &&
			status != ARES_ESERVFAIL);
	upstream_query_free(q);
}

void
upstream_probe(struct upstream *up)
{
	struct upstream_query *q;
	struct upstream_chan *chan = up->cur;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return;
	q->chan = chan;
	q->start_ms = upstream_now_ms(up->loop);
	chan->pending++;
	ares_query(chan->ch, ".", 1 /* C_IN */, 2 /* T_NS */,
	    upstream_probe_cb, q);
	upstream_chan_arm(chan);
}

struct upstream_query *
upstream_resolve(struct upstream *up, const struct proto_request *req,
    upstream_cb *cb, void *arg)
{
	struct upstream_query *q;
	struct upstream_chan *chan = up->cur;
	struct ares_addrinfo_hints hints;
	char ptr[80];

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->chan = chan;
	q->cb = cb;
	q->arg = arg;
	q->req = *req;
	q->start_ms = upstream_now_ms(up->loop);
	q->start = ev_now(up->loop);
	q->starting = 1;
	ev_timer_init(&q->defer, upstream_defer_cb, 0., 0.);
	q->defer.data = q;
	chan->pending++;
	/* c-ares may call back at once (bad name): q must be complete. */
	if (req->kind == PROTO_KIND_REVERSE) {
		upstream_ptr_name(req, ptr, sizeof(ptr));
		ares_query(chan->ch, ptr, 1 /* C_IN */, 12 /* T_PTR */,
		    upstream_ptr_cb, q);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = req->family == CODNS_AF_INET ? AF_INET :
		    req->family == CODNS_AF_INET6		  ? AF_INET6 :
								    AF_UNSPEC;
		hints.ai_flags = ARES_AI_CANONNAME | ARES_AI_NOSORT;
		ares_getaddrinfo(chan->ch, req->name, NULL, &hints,
		    upstream_ai_cb, q);
	}
	q->starting = 0;
	upstream_chan_arm(chan);
	return q;
}

static void
upstream_raw_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;
	struct upstream *up = q->chan->up;
	int ok = status == ARES_SUCCESS && abuf != NULL && alen > 0;

	if (status != ARES_EDESTRUCTION)
		upstream_account(up, q->start_ms, ok);
	if (q->starting) {
		/* Only failures come this early; report from the loop. */
		ev_timer_start(up->loop, &q->defer);
		return;
	}
	if (q->raw_cb != NULL)
		q->raw_cb(q->arg, ok ? abuf : NULL, ok ? (size_t)alen : 0);
	upstream_query_free(q);
}

struct upstream_query *
upstream_send_raw(struct upstream *up, const uint8_t *msg, size_t len,
    upstream_raw_cb *cb, void *arg)
{
	struct upstream_query *q;
	struct upstream_chan *chan = up->cur;

	if (len > INT32_MAX || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->chan = chan;
	q->raw_cb = cb;
	q->arg = arg;
	q->start_ms = upstream_now_ms(up->loop);
	q->start = ev_now(up->loop);
	q->starting = 1;
	ev_timer_init(&q->defer, upstream_defer_cb, 0., 0.);
	q->defer.data = q;
	chan->pending++;
	ares_send(chan->ch, msg, (int)len, upstream_raw_done, q);
	q->starting = 0;
	upstream_chan_arm(chan);
	return q;
}

void
upstream_cancel(struct upstream_query *q)
{
	if (q != NULL) {
		q->cb = NULL;
		q->raw_cb = NULL;
	}
}
