/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream.c: local resolution through c-ares driven by libev. */
#include "upstream.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "namehash.h"
#include "conf.h"
#include "resolvconf.h"
#include "stats.h"

#define UPSTREAM_PROBE_IDLE_MS 5000 /* probe after this much silence */
#define UPSTREAM_PROBE_CHECK_S 1.0
/* The as-is name and every search domain (resolvconf_candidates()). */
#define UPSTREAM_CANDS_MAX (RESOLVCONF_SEARCH_MAX + 1)
/* How often resolv.conf's stat is looked at, as the peers file's. */
#define UPSTREAM_RC_POLL_S 2.0

#define UPSTREAM_PROBE_NAME "codns-probe.invalid"

/* A c-ares channel with its watchers. A reload makes a new one; the old
 * one drains its queries and is destroyed when none remain. */
struct upstream_chan {
	struct upstream *up;
	ares_channel ch;
	ev_timer timer;
	LIST_HEAD(, upstream_sock) socks;
	unsigned pending;
	LIST_ENTRY(upstream_chan) entry; /* draining list */
};

struct upstream_sock {
	struct upstream_chan *chan;
	ev_io io;
	ares_socket_t fd;
	LIST_ENTRY(upstream_sock) entry;
};

struct upstream_query {
	struct upstream_chan *chan;
	upstream_cb *cb;
	upstream_raw_cb *raw_cb; /* upstream_send_raw() */
	void *arg;
	uint64_t start_ms;
	uint64_t start_us;
	int starting; /* inside upstream_resolve() */
	struct proto_answer early; /* answered before it returned */
	ev_timer defer;
	struct proto_request req;
	/* res_search()'s walk through the search list (forward only). */
	char cands[UPSTREAM_CANDS_MAX][PROTO_NAME_MAX + 1];
	uint8_t ncands, cand;
	int as_is_first;
	int first_status; /* status of the as-is name tried first, or -1 */
	int got_nodata, got_servfail;
	int refused; /* the last status was c-ares' own refusal */
	int truncated;
};

struct upstream {
	struct ev_loop *loop;
	struct upstream_chan *cur;
	LIST_HEAD(, upstream_chan) draining;
	struct upstream_chan *probe_chan; /* ARES_FLAG_NOCHECKRESP: every rcode */
	ev_idle reaper;
	ev_timer probe;
	struct upstream_health health;
	uint32_t timeout_ms;
	size_t nservers;
	struct conf_addr servers[CONF_UPSTREAM_MAX];
	/* resolv.conf: search list and options always, nameservers when
	 * there are no "upstream" lines; re-read when it changes. */
	struct resolvconf rc;
	char rc_path[PATH_MAX];
	struct stat rc_st;
	ev_timer rc_timer;
	uint32_t lookup_timeout_ms; /* 0: from resolv.conf */
	struct stats *stats;
	upstream_change_cb *change_cb;
	void *change_arg;
};

static void upstream_chan_arm(struct upstream_chan *);

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
	struct upstream_sock *s;
	int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	LIST_FOREACH(s, &chan->socks, entry)
		if (s->fd == fd)
			break;
	if (events == 0) {
		if (s != NULL) {
			ev_io_stop(chan->up->loop, &s->io);
			LIST_REMOVE(s, entry);
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
		LIST_INSERT_HEAD(&chan->socks, s, entry);
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
	struct upstream_sock *s;

	if (chan == NULL)
		return;
	ares_destroy(chan->ch);
	ev_timer_stop(chan->up->loop, &chan->timer);
	while ((s = LIST_FIRST(&chan->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		ev_io_stop(chan->up->loop, &s->io);
		free(s);
	}
	free(chan);
}

/*
 * The c-ares options that come from resolv.conf: timeout (unless
 * upstream-timeout is set), attempts and rotate. The search list is walked
 * here, not by c-ares (upstream_next_name()), so c-ares never searches:
 * neither resolv.conf's list nor LOCALDOMAIN in codnsd's own environment.
 */
static int
upstream_rc_options(const struct resolvconf *rc, const struct conf *c,
    struct ares_options *opts)
{
	opts->timeout = (int)(c->upstream_timeout_ms ?
		c->upstream_timeout_ms :
		rc->timeout_s * 1000);
	opts->tries = (int)rc->attempts;
	opts->flags |= ARES_FLAG_NOSEARCH;
	opts->ndots = 1;
	opts->ndomains = 0;
	opts->domains = NULL;
	return ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
	    ARES_OPT_NDOTS | ARES_OPT_DOMAINS |
	    (rc->rotate ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE);
}

/* The "upstream" lines, or else resolv.conf's nameservers. */
static int
upstream_chan_servers(struct upstream_chan *chan, const struct conf *c,
    const struct resolvconf *rcf)
{
	const struct conf_addr *list = c->nupstream > 0 ? c->upstream :
							  rcf->servers;
	size_t i, n = c->nupstream > 0 ? c->nupstream : rcf->nservers;
	struct ares_addr_port_node nodes[CONF_UPSTREAM_MAX];
	int rc;

	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < n && i < CONF_UPSTREAM_MAX; i++) {
		const struct sockaddr *sa = (const void *)&list[i].ss;

		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
		nodes[i].family = sa->sa_family;
		if (sa->sa_family == AF_INET)
			memcpy(&nodes[i].addr.addr4,
			    &((const struct sockaddr_in *)(const void *)sa)
				 ->sin_addr,
			    4);
		else
			memcpy(&nodes[i].addr.addr6,
			    &((const struct sockaddr_in6 *)(const void *)sa)
				 ->sin6_addr,
			    16);
		nodes[i].udp_port = nodes[i].tcp_port = addr_port(sa);
	}
	if ((rc = ares_set_servers_ports(chan->ch, n ? nodes : NULL)) !=
	    ARES_SUCCESS) {
		log_warnx("c-ares servers: %s", ares_strerror(rc));
		return -1;
	}
	return 0;
}

static struct upstream_chan *
upstream_chan_new(struct upstream *up, const struct conf *c,
    const struct resolvconf *rcf, int flags)
{
	struct upstream_chan *chan;
	struct ares_options opts;
	char lookups[] = "b";
	int rc;

	if ((chan = calloc(1, sizeof(*chan))) == NULL)
		return NULL;
	chan->up = up;
	ev_timer_init(&chan->timer, upstream_timer_cb, 0., 0.);
	chan->timer.data = chan;
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = upstream_sock_state_cb;
	opts.sock_state_cb_data = chan;
	/* /etc/hosts is nss "files"' job, not ours. */
	opts.lookups = lookups;
	opts.flags = flags;
	rc = ares_init_options(&chan->ch, &opts,
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS |
		upstream_rc_options(rcf, c, &opts));
	if (rc != ARES_SUCCESS) {
		log_warnx("c-ares init: %s", ares_strerror(rc));
		free(chan);
		return NULL;
	}
	if (upstream_chan_servers(chan, c, rcf) == -1) {
		ares_destroy(chan->ch);
		free(chan);
		return NULL;
	}
	return chan;
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
	h->nsset_id = namehash(NULL, "", 0);
	if (ares_get_servers_ports(up->cur->ch, &servers) != ARES_SUCCESS)
		return;
	for (n = servers; n != NULL; n = n->next) {
		inet_ntop(n->family, &n->addr, a, sizeof(a));
		snprintf(one, sizeof(one), n->family == AF_INET6 ? "[%s]:%d" :
								   "%s:%d",
		    a, n->udp_port ? n->udp_port : 53);
		if (len < sizeof(h->servers))
			len += (size_t)snprintf(h->servers + len,
			    sizeof(h->servers) - len, "%s%s",
			    len ? "," : "", one);
	}
	ares_free_data(servers);
	h->nsset_id = namehash(NULL, h->servers, strlen(h->servers));
}

static void
upstream_reap_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct upstream *up = w->data;
	struct upstream_chan *chan, *next;

	ev_idle_stop(loop, w);
	for (chan = LIST_FIRST(&up->draining); chan != NULL; chan = next) {
		next = LIST_NEXT(chan, entry);
		if (chan->pending == 0) {
			LIST_REMOVE(chan, entry);
			upstream_chan_free(chan);
		}
	}
}

/* Without traffic the health figures that heartbeats carry would go stale;
 * a probe after a quiet spell keeps them true. */
static void
upstream_probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upstream *up = w->data;
	const struct upstream_health *h = &up->health;

	if (h->queries == 0 ||
	    clock_loop_ms(loop) - h->last_ms >= UPSTREAM_PROBE_IDLE_MS)
		upstream_probe(up);
}

void
upstream_probe_idle(struct upstream *up, int on)
{
	if (on)
		ev_timer_start(up->loop, &up->probe);
	else
		ev_timer_stop(up->loop, &up->probe);
}

static void upstream_rc_timer_cb(struct ev_loop *, ev_timer *, int);

/* resolv.conf as it is now, and the stat that tells when it changes. */
static void
upstream_rc_read(const char *path, struct resolvconf *rc, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (stat(path, st) == -1)
		memset(st, 0, sizeof(*st));
	if (resolvconf_load(path, rc) == -1)
		log_warn("%s (using glibc's defaults)", path);
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
	ev_timer_init(&up->probe, upstream_probe_timer_cb,
	    UPSTREAM_PROBE_CHECK_S, UPSTREAM_PROBE_CHECK_S);
	up->probe.data = up;
	snprintf(up->rc_path, sizeof(up->rc_path), "%s", c->resolv_conf);
	upstream_rc_read(up->rc_path, &up->rc, &up->rc_st);
	if ((up->cur = upstream_chan_new(up, c, &up->rc, 0)) == NULL) {
		free(up);
		return NULL;
	}
	/* c-ares 1.18 turns a REFUSED reply into ARES_ECONNREFUSED, which an
	 * unreachable port gives too; the probe's channel passes rcodes on
	 * so that any reply proves the nameserver alive (issue 15). */
	if ((up->probe_chan = upstream_chan_new(up, c, &up->rc,
		 ARES_FLAG_NOCHECKRESP)) == NULL) {
		upstream_chan_free(up->cur);
		free(up);
		return NULL;
	}
	up->timeout_ms = c->upstream_timeout_ms;
	up->lookup_timeout_ms = c->lookup_timeout_ms;
	up->nservers = c->nupstream;
	memcpy(up->servers, c->upstream, sizeof(up->servers));
	upstream_describe(up);
	ev_timer_init(&up->rc_timer, upstream_rc_timer_cb, UPSTREAM_RC_POLL_S,
	    UPSTREAM_RC_POLL_S);
	up->rc_timer.data = up;
	ev_timer_start(loop, &up->rc_timer);
	return up;
}

/* Put a new channel in place; queries in flight finish on the old. */
static void
upstream_install(struct upstream *up, struct upstream_chan *chan,
    struct upstream_chan *probe, const struct conf *c)
{
	LIST_INSERT_HEAD(&up->draining, up->cur, entry);
	up->cur = chan;
	LIST_INSERT_HEAD(&up->draining, up->probe_chan, entry);
	up->probe_chan = probe;
	up->timeout_ms = c->upstream_timeout_ms;
	up->nservers = c->nupstream;
	memcpy(up->servers, c->upstream, sizeof(up->servers));
	upstream_describe(up);
	ev_idle_start(up->loop, &up->reaper);
}

/* A new channel for new settings (with up->rc). */
static int
upstream_swap(struct upstream *up, const struct conf *c)
{
	struct upstream_chan *chan, *probe;

	if ((chan = upstream_chan_new(up, c, &up->rc, 0)) == NULL)
		return -1;
	if ((probe = upstream_chan_new(up, c, &up->rc,
		 ARES_FLAG_NOCHECKRESP)) == NULL) {
		upstream_chan_free(chan);
		return -1;
	}
	upstream_install(up, chan, probe, c);
	return 0;
}

/* Equal in what this resolver uses: with "upstream" lines, resolv.conf's
 * nameservers do not count. */
static int
upstream_rc_same(const struct upstream *up, const struct resolvconf *a,
    const struct resolvconf *b)
{
	struct resolvconf x = *a;

	if (up->nservers > 0) {
		x.nservers = b->nservers;
		memcpy(x.servers, b->servers, sizeof(x.servers));
	}
	return resolvconf_equal(&x, b);
}

/*
 * glibc notices a changed resolv.conf by itself (its stat check before
 * each lookup), so codnsd does too: every UPSTREAM_RC_POLL_S, like the
 * peers file. A change that matters gets a new channel.
 */
static void
upstream_rc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upstream *up = w->data;
	struct resolvconf rc;
	struct stat st;
	struct conf *c;

	memset(&st, 0, sizeof(st));
	if (stat(up->rc_path, &st) == -1)
		memset(&st, 0, sizeof(st));
	if (!conf_file_changed(&st, &up->rc_st))
		return;
	upstream_rc_read(up->rc_path, &rc, &up->rc_st);
	if (upstream_rc_same(up, &rc, &up->rc))
		return;
	/* The rest of the settings are the ones in use. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->upstream_timeout_ms = up->timeout_ms;
	c->nupstream = up->nservers;
	memcpy(c->upstream, up->servers, sizeof(c->upstream));
	up->rc = rc;
	if (upstream_swap(up, c) == -1)
		log_warnx("%s changed, but a new resolver failed", up->rc_path);
	else {
		log_info("%s changed: nameservers now %s", up->rc_path,
		    up->health.servers);
		if (up->change_cb != NULL)
			up->change_cb(up->change_arg);
	}
	free(c);
}

/* What a new configuration changes, built beside the running resolver. */
struct upstream_staged {
	struct upstream_chan *chan; /* NULL: the resolver stays as it is */
	struct upstream_chan *probe; /* with chan */
	int answers_change; /* other nameservers or search rules */
	struct resolvconf rc;
	struct stat rc_st;
	char rc_path[PATH_MAX];
	uint32_t lookup_timeout_ms;
};

int
upstream_prepare(struct upstream *up, const struct conf *c,
    struct upstream_staged **out)
{
	struct upstream_staged *s;
	size_t i;

	if ((*out = s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	/* A reload re-reads resolv.conf whether it looks changed or not. */
	snprintf(s->rc_path, sizeof(s->rc_path), "%s", c->resolv_conf);
	upstream_rc_read(s->rc_path, &s->rc, &s->rc_st);
	s->lookup_timeout_ms = c->lookup_timeout_ms;
	for (i = 0; i < c->nupstream && i < up->nservers; i++)
		if (!addr_equal((const struct sockaddr *)&up->servers[i].ss,
			(const struct sockaddr *)&c->upstream[i].ss))
			break;
	/* Only other nameservers or search rules can change answers: a new
	 * timeout alone keeps the cache (and its stale entries). */
	s->answers_change = !(up->nservers == c->nupstream &&
	    i == c->nupstream && resolvconf_equal(&s->rc, &up->rc));
	if (up->timeout_ms == c->upstream_timeout_ms && !s->answers_change)
		return 0;
	if ((s->chan = upstream_chan_new(up, c, &s->rc, 0)) == NULL ||
	    (s->probe = upstream_chan_new(up, c, &s->rc,
		 ARES_FLAG_NOCHECKRESP)) == NULL) {
		upstream_chan_free(s->chan);
		free(s);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
upstream_commit(struct upstream *up, struct upstream_staged *s,
    const struct conf *c)
{
	int changed;

	if (s == NULL)
		return 0;
	memcpy(up->rc_path, s->rc_path, sizeof(up->rc_path));
	up->rc_st = s->rc_st;
	up->lookup_timeout_ms = s->lookup_timeout_ms;
	if (s->chan != NULL) {
		up->rc = s->rc;
		upstream_install(up, s->chan, s->probe, c);
	}
	changed = s->chan != NULL && s->answers_change;
	free(s);
	return changed;
}

void
upstream_discard(struct upstream_staged *s)
{
	if (s == NULL)
		return;
	upstream_chan_free(s->chan);
	upstream_chan_free(s->probe);
	free(s);
}

int
upstream_configure(struct upstream *up, const struct conf *c)
{
	struct upstream_staged *s;

	if (upstream_prepare(up, c, &s) == -1)
		return -1;
	return upstream_commit(up, s, c);
}

void
upstream_on_change(struct upstream *up, upstream_change_cb *cb, void *arg)
{
	up->change_cb = cb;
	up->change_arg = arg;
}

size_t
upstream_candidates(const struct upstream *up, const char *name,
    char out[][PROTO_NAME_MAX + 1], size_t max)
{
	int as_is_first;

	return resolvconf_candidates(&up->rc, name, out, max, &as_is_first);
}

void
upstream_set_stats(struct upstream *up, struct stats *stats)
{
	up->stats = stats;
}

uint32_t
upstream_lookup_timeout_ms(const struct upstream *up)
{
	if (up->lookup_timeout_ms != 0)
		return up->lookup_timeout_ms;
	return resolvconf_wait_ms(&up->rc, up->timeout_ms,
	    up->nservers ? up->nservers : up->rc.nservers);
}

void
upstream_free(struct upstream *up)
{
	struct upstream_chan *chan;

	if (up == NULL)
		return;
	ev_timer_stop(up->loop, &up->probe);
	ev_timer_stop(up->loop, &up->rc_timer);
	/* Destroying a channel answers its queries (try-again), which may
	 * wake the reaper: stop it only afterwards. */
	while ((chan = LIST_FIRST(&up->draining)) != NULL) {
		LIST_REMOVE(chan, entry);
		upstream_chan_free(chan);
	}
	upstream_chan_free(up->cur);
	upstream_chan_free(up->probe_chan);
	ev_idle_stop(up->loop, &up->reaper);
	free(up);
}

const struct upstream_health *
upstream_health(const struct upstream *up)
{
	return &up->health;
}

/*
 * What a c-ares result says about the nameservers (issue 15). Any reply
 * proves them alive; a lookup whose name went unresolved (SERVFAIL, a
 * refusal, a bad reply), silence and an unreachable port count against
 * them; a probe asks a name that no server serves, so any reply at all is
 * alive. Our own refusals say nothing: a bad name, a cancelled or
 * destroyed query, no memory, and anything answered before the query was
 * sent (c-ares answers some names, .onion or localhost, itself).
 */
enum upstream_verdict {
	UPSTREAM_UNCOUNTED,
	UPSTREAM_ALIVE,
	UPSTREAM_FAILED,
};

static enum upstream_verdict
upstream_verdict(int status, int asked, int probe)
{
	if (!asked)
		return UPSTREAM_UNCOUNTED;
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return UPSTREAM_ALIVE;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
	case ARES_EFORMERR:
	case ARES_EBADRESP:
		return probe ? UPSTREAM_ALIVE : UPSTREAM_FAILED;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
		return UPSTREAM_FAILED;
	default:
		return UPSTREAM_UNCOUNTED;
	}
}

/* Smoothed health, 1/8 weight for the newest sample as TCP's SRTT. */
static void
upstream_account(struct upstream *up, uint64_t start,
    enum upstream_verdict v)
{
	struct upstream_health *h = &up->health;
	uint64_t now = clock_loop_ms(up->loop);
	uint32_t ms = (uint32_t)(now - start);
	int ok = v == UPSTREAM_ALIVE;

	if (v == UPSTREAM_UNCOUNTED)
		return;
	h->queries++;
	h->last_ms = now;
	if (ok)
		h->mean_ms = h->queries == 1 ? ms : (h->mean_ms * 7 + ms) / 8;
	else
		h->failures++;
	h->fail_permille = (h->fail_permille * 7 + (ok ? 0 : 1000)) / 8;
}

/* A status c-ares gives without asking a nameserver: not theirs to count. */
static int
upstream_refused(int status)
{
	return status == ARES_EBADNAME || status == ARES_EBADFAMILY ||
	    status == ARES_EBADFLAGS || status == ARES_EBADQUERY ||
	    status == ARES_ENONAME;
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
	case ARES_EBADNAME:
	case ARES_EBADFAMILY:
	case ARES_EBADFLAGS:
	case ARES_EBADQUERY:
	case ARES_ENONAME:
		/* c-ares would not send it: no nameserver has it. */
		return CODNS_NOTFOUND;
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
	if (chan != up->cur && chan != up->probe_chan && chan->pending == 0)
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

/* ares_status: what c-ares said, for the health figures. */
static void
upstream_finish(struct upstream_query *q, struct proto_answer *a,
    int ares_status)
{
	struct upstream_chan *chan = q->chan;
	struct upstream *up = chan->up;

	if (!q->refused)
		upstream_account(up, q->start_ms,
		    upstream_verdict(ares_status, !q->starting, 0));
	if (q->truncated && up->stats != NULL)
		stats_count(up->stats, STATS_ANSWERS_TRUNCATED);
	a->source = CODNS_SRC_LOCAL;
	a->latency_us = (uint32_t)(clock_loop_us(up->loop) - q->start_us);
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
upstream_add_alias(struct upstream_query *q, struct proto_answer *a,
    const char *name)
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
	else
		q->truncated = 1;
}

static void
upstream_add_addr(struct upstream_query *q, struct proto_answer *a,
    int family, const void *p)
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
	else
		q->truncated = 1;
}

static void upstream_ask_name(struct upstream_query *);

/*
 * An answer of c-ares' getaddrinfo. The canonical name is the end of the
 * CNAME chain, or else the name that was asked (search domain included),
 * as glibc's h_name and ai_canonname are.
 */
static void
upstream_ai_answer(struct upstream_query *q, struct ares_addrinfo *ai,
    struct proto_answer *a)
{
	struct ares_addrinfo_node *n;
	struct ares_addrinfo_cname *cn;
	uint32_t ttl = UINT32_MAX;

	snprintf(a->cname, sizeof(a->cname), "%s", q->cands[q->cand]);
	for (cn = ai->cnames; cn != NULL; cn = cn->next) {
		if (cn->ttl >= 0 && (uint32_t)cn->ttl < ttl)
			ttl = (uint32_t)cn->ttl;
		if (cn->name != NULL && strlen(cn->name) <= PROTO_NAME_MAX)
			snprintf(a->cname, sizeof(a->cname), "%s", cn->name);
	}
	for (cn = ai->cnames; cn != NULL; cn = cn->next)
		if (cn->alias != NULL)
			upstream_add_alias(q, a, cn->alias);
	for (n = ai->nodes; n != NULL; n = n->ai_next) {
		if (n->ai_ttl >= 0 && (uint32_t)n->ai_ttl < ttl)
			ttl = (uint32_t)n->ai_ttl;
		if (n->ai_family == AF_INET)
			upstream_add_addr(q, a, AF_INET,
			    &((struct sockaddr_in *)(void *)n->ai_addr)
				 ->sin_addr);
		else if (n->ai_family == AF_INET6)
			upstream_add_addr(q, a, AF_INET6,
			    &((struct sockaddr_in6 *)(void *)n->ai_addr)
				 ->sin6_addr);
	}
	a->ttl = ttl == UINT32_MAX ? 0 : ttl;
	if (a->naddrs == 0)
		a->status = CODNS_NODATA;
}

/*
 * One name of the search list failed: ask the next, as glibc's
 * res_search() does, or settle the status it would give. 1 when a next
 * name was asked. NXDOMAIN, NODATA and SERVFAIL go on; a timeout or a
 * refusal by the nameserver stops the walk with try-again.
 */
static int
upstream_search_next(struct upstream_query *q, int status,
    struct proto_answer *a)
{
	if (q->cand == 0 && q->as_is_first)
		q->first_status = a->status;
	if (a->status == CODNS_NODATA)
		q->got_nodata = 1;
	if (status == ARES_ESERVFAIL)
		q->got_servfail = 1;
	else if (a->status == CODNS_TRYAGAIN)
		return 0;
	if (q->cand + 1 < q->ncands) {
		q->cand++;
		upstream_ask_name(q);
		return 1;
	}
	if (q->ncands < 2)
		return 0;
	/* res_search(): the as-is name's error if it was tried first, else
	 * "no data" if any name had some, else a server failure. */
	if (q->first_status != -1)
		a->status = (uint8_t)q->first_status;
	else if (q->got_nodata)
		a->status = CODNS_NODATA;
	else if (q->got_servfail)
		a->status = CODNS_TRYAGAIN;
	return 0;
}

static void
upstream_ai_cb(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct upstream_query *q = arg;
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = upstream_status(status);
	q->refused = upstream_refused(status);
	if (status == ARES_SUCCESS && ai != NULL)
		upstream_ai_answer(q, ai, &a);
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	if (a.status != CODNS_FOUND && upstream_search_next(q, status, &a))
		return;
	upstream_finish(q, &a, status);
}

/*
 * c-ares 1.18's getaddrinfo does not send "localhost" or "*.localhost"
 * (RFC 6761 section 6.3) and reports that as "could not contact DNS
 * servers". glibc's dns module does ask its nameservers, so codnsd does
 * too: the same name with the root's dot is not caught by c-ares' test.
 */
static const char *
upstream_wire_name(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	if (strcmp(name, "localhost") != 0 &&
	    (n < 10 || strcmp(name + n - 10, ".localhost") != 0))
		return name;
	snprintf(buf, len, "%s.", name);
	return buf;
}

static void
upstream_ask_name(struct upstream_query *q)
{
	struct ares_addrinfo_hints hints;
	char buf[PROTO_QNAME_MAX + 1];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = q->req.family == CODNS_AF_INET ? AF_INET :
	    q->req.family == CODNS_AF_INET6		 ? AF_INET6 :
							   AF_UNSPEC;
	hints.ai_flags = ARES_AI_CANONNAME | ARES_AI_NOSORT;
	ares_getaddrinfo(q->chan->ch,
	    upstream_wire_name(q->cands[q->cand], buf, sizeof(buf)), NULL,
	    &hints, upstream_ai_cb, q);
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

/*
 * The first PTR record of an answer is the name, and the others are left
 * out, as glibc's dns module does (c-ares' parser would name the last one
 * and make the others aliases). Returns the CODNS status.
 */
static uint8_t
upstream_ptr_parse(struct upstream_query *q, const unsigned char *abuf,
    int alen, struct proto_answer *a)
{
	struct buf b;
	uint16_t qd, an, type, klass, rdlen, i;
	uint32_t ttl;
	char *name;
	long enclen;
	size_t at;

	buf_init_read(&b, abuf, alen > 0 ? (size_t)alen : 0);
	if (buf_skip(&b, 4) == -1 || buf_get_u16(&b, &qd) == -1 ||
	    buf_get_u16(&b, &an) == -1 || buf_skip(&b, 4) == -1)
		return CODNS_TRYAGAIN;
	for (i = 0; i < qd; i++)
		if (upstream_skip_name(&b) == -1 || buf_skip(&b, 4) == -1)
			return CODNS_TRYAGAIN;
	for (i = 0; i < an; i++) {
		if (upstream_skip_name(&b) == -1 ||
		    buf_get_u16(&b, &type) == -1 ||
		    buf_get_u16(&b, &klass) == -1 ||
		    buf_get_u32(&b, &ttl) == -1 ||
		    buf_get_u16(&b, &rdlen) == -1)
			return CODNS_TRYAGAIN;
		at = b.pos;
		if (buf_skip(&b, rdlen) == -1)
			return CODNS_TRYAGAIN;
		if (type != 12 /* T_PTR */ || klass != 1 /* C_IN */)
			continue;
		if (ares_expand_name(abuf + at, abuf, alen, &name, &enclen) !=
		    ARES_SUCCESS)
			return CODNS_TRYAGAIN;
		if (strlen(name) <= PROTO_NAME_MAX && proto_name_valid(name)) {
			strcpy(a->cname, name);
			a->ttl = ttl;
		}
		ares_free_string(name);
		if (a->cname[0] != '\0')
			break;
	}
	return a->cname[0] != '\0' ? CODNS_FOUND : CODNS_NODATA;
}

static void
upstream_ptr_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = upstream_status(status);
	q->refused = upstream_refused(status);
	if (status == ARES_SUCCESS)
		a.status = upstream_ptr_parse(q, abuf, alen, &a);
	if (a.status == CODNS_FOUND) {
		a.naddrs = 1;
		a.addrs[0].family = q->req.family;
		memcpy(a.addrs[0].a, q->req.addr,
		    proto_addr_len(q->req.family));
	} else {
		a.cname[0] = '\0';
		a.naliases = 0;
	}
	upstream_finish(q, &a, status);
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

	upstream_account(q->chan->up, q->start_ms,
	    upstream_verdict(status, 1, 1));
	upstream_query_free(q);
}

void
upstream_probe(struct upstream *up)
{
	struct upstream_query *q;
	struct upstream_chan *chan = up->probe_chan;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return;
	q->chan = chan;
	q->start_ms = clock_loop_ms(up->loop);
	chan->pending++;
	/* A name no server serves (RFC 6761 sec. 6.4: resolvers answer
	 * "invalid." themselves), so the reply says nothing about the
	 * server's zones or upstreams, only that it answers. */
	ares_query(chan->ch, UPSTREAM_PROBE_NAME, 1 /* C_IN */, 1 /* T_A */,
	    upstream_probe_cb, q);
	upstream_chan_arm(chan);
}

int
upstream_searches(const struct upstream *up)
{
	return up->rc.nsearch > 0;
}

/* A query on the current channel, started now; starting until
 * upstream_query_sent(), so that c-ares calling back at once is deferred
 * to the loop. */
static struct upstream_query *
upstream_query_new(struct upstream *up, void *arg)
{
	struct upstream_query *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->chan = up->cur;
	q->arg = arg;
	q->start_ms = clock_loop_ms(up->loop);
	q->start_us = clock_loop_us(up->loop);
	q->starting = 1;
	ev_timer_init(&q->defer, upstream_defer_cb, 0., 0.);
	q->defer.data = q;
	q->chan->pending++;
	return q;
}

/* Handed to c-ares: callbacks may come directly from now on. */
static struct upstream_query *
upstream_query_sent(struct upstream_query *q)
{
	q->starting = 0;
	upstream_chan_arm(q->chan);
	return q;
}

struct upstream_query *
upstream_resolve(struct upstream *up, const struct proto_request *req,
    upstream_cb *cb, void *arg)
{
	struct upstream_query *q;
	char ptr[80];

	if ((q = upstream_query_new(up, arg)) == NULL)
		return NULL;
	q->cb = cb;
	q->req = *req;
	/* c-ares may call back at once (bad name): q must be complete. */
	if (req->kind == PROTO_KIND_REVERSE) {
		upstream_ptr_name(req, ptr, sizeof(ptr));
		ares_query(q->chan->ch, ptr, 1 /* C_IN */, 12 /* T_PTR */,
		    upstream_ptr_cb, q);
	} else {
		q->first_status = -1;
		q->ncands = (uint8_t)resolvconf_candidates(&up->rc, req->name,
		    q->cands, UPSTREAM_CANDS_MAX, &q->as_is_first);
		if (q->ncands > 0)
			upstream_ask_name(q);
		else {
			struct proto_answer a;

			memset(&a, 0, sizeof(a));
			a.status = CODNS_NOTFOUND;
			q->refused = 1;
			upstream_finish(q, &a, ARES_ENONAME);
		}
	}
	return upstream_query_sent(q);
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

	if (len > INT32_MAX || (q = upstream_query_new(up, arg)) == NULL)
		return NULL;
	q->raw_cb = cb;
	ares_send(q->chan->ch, msg, (int)len, upstream_raw_done, q);
	return upstream_query_sent(q);
}

void
upstream_cancel(struct upstream_query *q)
{
	if (q != NULL) {
		q->cb = NULL;
		q->raw_cb = NULL;
	}
}
