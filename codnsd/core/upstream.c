/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream.c: the upstream resolver, following resolv.conf. */
#include "upstream_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "namehash.h"

/* How often resolv.conf's stat is looked at, as the peers file's. */
/* How often resolv.conf's stat is looked at where inotify cannot tell
 * (filewatch.h), as the peers file's. */
#define UPSTREAM_RC_POLL_S 2.0

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

static void upstream_rc_changed(void *);

/* resolv.conf as it is now, and the stat that tells when it changes. */
void
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
	if (namehash_keygen(&up->ask_key) == -1) {
		free(up);
		return NULL;
	}
	up->loop = loop;
	ev_idle_init(&up->reaper, upstream_reap_cb);
	up->reaper.data = up;
	ev_timer_init(&up->probe, upstream_probe_timer_cb,
	    1.0, 1.0);
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
	filewatch_start(&up->rc_watch, loop, up->rc_path, UPSTREAM_RC_POLL_S,
	    upstream_rc_changed, up);
	return up;
}

/* Put a new channel in place; queries in flight finish on the old. */
void
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
 * each lookup), so codnsd does too, told by inotify (filewatch), like
 * the peers file. A change that matters gets a new channel.
 */
static void
upstream_rc_changed(void *arg)
{
	struct upstream *up = arg;
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

uint64_t
upstream_resolver_id(const struct upstream *up)
{
	char buf[sizeof(up->health.servers) +
	    RESOLVCONF_SEARCH_MAX * (PROTO_NAME_MAX + 2) + 16];
	size_t len, i;

	len = (size_t)snprintf(buf, sizeof(buf), "%s|%u|", up->health.servers,
	    up->rc.ndots);
	for (i = 0; i < up->rc.nsearch && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s,",
		    up->rc.search[i]);
	return namehash(NULL, buf, len < sizeof(buf) ? len : sizeof(buf) - 1);
}

void
upstream_on_response(struct upstream *up, upstream_keep_cb *cb,
    upstream_find_cb *find, void *arg)
{
	up->keep_cb = cb;
	up->find_cb = find;
	up->keep_arg = arg;
}

void
upstream_set_stats(struct upstream *up, struct stats *stats)
{
	up->stats = stats;
}

uint32_t
upstream_lookup_timeout_ms(const struct upstream *up,
    const struct proto_request *req)
{
	if (up->lookup_timeout_ms != 0)
		return up->lookup_timeout_ms;
	return resolvconf_walk_wait_ms(&up->rc, up->timeout_ms,
	    up->nservers ? up->nservers : up->rc.nservers,
	    req != NULL && req->kind == PROTO_KIND_FORWARD ? req->name : NULL);
}

int
upstream_searches(const struct upstream *up)
{
	return up->rc.nsearch > 0;
}

void
upstream_free(struct upstream *up)
{
	struct upstream_chan *chan;

	if (up == NULL)
		return;
	ev_timer_stop(up->loop, &up->probe);
	filewatch_stop(&up->rc_watch);
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
