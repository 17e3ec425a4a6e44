/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_chan.c: c-ares channels driven by libev. */
#include "upstream_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "log.h"

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
void
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

void
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

struct upstream_chan *
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
