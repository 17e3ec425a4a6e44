/* SPDX-License-Identifier: MIT */
/* codnsd/front/listen.c: the lookup listeners (UNIX socket and TCP) for clients. */
#include "listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "codnsd.h"
#include "log.h"
#include "lookup.h"
#include "proto.h"
#include "stats.h"
#include "stream.h"
#include "usock.h"

#define LISTEN_IN_MAX (2 * (PROTO_HDR_LEN + PROTO_FRAME_MAX))
#define LISTEN_OUT_HIGH (64 * 1024) /* stop reading above this backlog */

struct listen_sock {
	struct listen *ls;
	ev_io io;
	int fd;
	int is_unix;
};

struct listen_pending {
	struct listen_conn *conn;
	struct lookup_waiter *w;
	uint32_t id;
	LIST_ENTRY(listen_pending) entry;
};

struct listen_conn {
	struct listen *ls;
	struct stream st;
	uint8_t in[LISTEN_IN_MAX];
	LIST_HEAD(, listen_pending) pending;
	LIST_ENTRY(listen_conn) entry;
};

struct listen {
	struct codnsd *d;
	struct listen_sock socks[CONF_LISTEN_MAX + 1];
	size_t nsocks;
	LIST_HEAD(, listen_conn) conns;
	struct usock usock; /* the lookup-socket; fd -1 when none */
	/* Each its own pool, so that TCP cannot starve the socket that
	 * NSS uses (issue 20). */
	struct stream_pool unix_pool, tcp_pool;
	char addrs[CONF_LISTEN_MAX * ADDR_STRLEN];
};

static void
listen_conn_free(struct listen_conn *c)
{
	struct listen_pending *p;

	while ((p = LIST_FIRST(&c->pending)) != NULL) {
		LIST_REMOVE(p, entry);
		lookup_cancel(p->w);
		free(p);
	}
	stream_stop(&c->st);
	LIST_REMOVE(c, entry);
	free(c);
}

/* A lookup finished: queue its response. Never closes the connection
 * here, since lookup.c may be walking a list that holds our waiters. */
static void
listen_answer_cb(void *arg, const struct proto_answer *a)
{
	struct listen_pending *p = arg;
	struct stream *st = &p->conn->st;
	struct buf b;

	LIST_REMOVE(p, entry);
	st->npending--;
	if (stream_reserve(st, PROTO_HDR_LEN + PROTO_FRAME_MAX) == 0) {
		buf_init_write(&b, st->out + st->outlen,
		    st->outcap - st->outlen);
		if (proto_response_encode(&b, p->id, a) == 0)
			st->outlen += b.pos;
		else
			st->closing = 1;
	} else
		st->closing = 1;
	free(p);
	stream_update(st);
}

/* One whole frame (stream_ops.request). */
static int
listen_request(void *arg, const uint8_t *frame, size_t framelen)
{
	struct listen_conn *c = arg;
	const uint8_t *payload = frame + PROTO_HDR_LEN;
	size_t len = framelen - PROTO_HDR_LEN;
	struct proto_request req;
	struct listen_pending *p;
	struct proto_answer now;
	uint32_t hits;

	/* nss_codns counts the answers it took from the shared table (shm.c)
	 * and reports them after its next lookup: no response. */
	if (proto_payload_type(payload, len) == PROTO_T_REPORT) {
		if (proto_report_decode(payload, len, &hits) == -1)
			return -1;
		stats_add(c->ls->d->stats, STATS_LOOKUPS_SHARED, hits);
		return 0;
	}
	if (proto_request_decode(payload, len, &req) == -1)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->conn = c;
	p->id = req.id;
	LIST_INSERT_HEAD(&c->pending, p, entry);
	c->st.npending++;
	/* A cache hit is answered here, before the next frame. */
	p->w = lookup_start(c->ls->d->lookup, &req, 0, listen_answer_cb, p,
	    &now);
	if (p->w == NULL)
		listen_answer_cb(p, &now);
	return 0;
}

/* A bad frame (stream_ops.bad). */
static int
listen_bad_frame(void *arg)
{
	struct listen_conn *c = arg;

	stats_count(c->ls->d->stats, STATS_CLIENTS_BAD_FRAME);
	log_debug("client sent a bad frame, closing");
	return stream_close_soon(&c->st);
}

/* The connection is over (stream_ops.end). */
static void
listen_end(void *arg, int why)
{
	struct listen_conn *c = arg;

	if (why == STREAM_END_IDLE)
		stats_count(c->ls->d->stats, STATS_CLIENTS_IDLE);
	else if (why == STREAM_END_SLOW)
		stats_count(c->ls->d->stats, STATS_CLIENTS_SLOW);
	listen_conn_free(c);
}

static const struct stream_limits listen_limits = {
	.pipeline_max = LISTEN_PIPELINE_MAX,
	.out_high = LISTEN_OUT_HIGH,
	.idle_sec = LISTEN_IDLE_SEC,
	.frame_sec = LISTEN_FRAME_SEC,
	.linger = 1,
	.idle_needs_progress = 1,
};

static const struct stream_ops listen_ops = {
	.peek = proto_frame_peek,
	.request = listen_request,
	.bad = listen_bad_frame,
	.end = listen_end,
};

/*
 * Admission (stream_admit) in the pool of the socket the client came
 * through: by uid on the UNIX socket, and on loopback TCP by the uid
 * that owns the connecting socket (sockdiag.c).
 */
static void
listen_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listen_sock *s = w->data;
	struct listen *ls = s->ls;
	struct stream_pool *pool = s->is_unix ? &ls->unix_pool : &ls->tcp_pool;
	const struct conf *conf = &ls->d->conf;
	struct listen_conn *c;
	struct stream_who who;
	int fd, one = 1;

	if ((fd = stream_accept(s->fd, "accept")) == -1)
		return;
	if (stream_peer(fd, &who) == -1 ||
	    !stream_admit(pool, &who, conf->max_clients,
		conf->max_clients_per_user) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		stats_count(ls->d->stats, STATS_CLIENTS_REFUSED);
		close(fd);
		return;
	}
	stats_count(ls->d->stats, STATS_CLIENTS_ACCEPTED);
	if (!s->is_unix)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ls = ls;
	LIST_INIT(&c->pending);
	LIST_INSERT_HEAD(&ls->conns, c, entry);
	stream_start(&c->st, pool, &who, &listen_limits, &listen_ops, c, loop,
	    fd, c->in, sizeof(c->in));
}

static void
listen_add_sock(struct listen *ls, int fd, int is_unix)
{
	struct listen_sock *s = &ls->socks[ls->nsocks++];

	s->ls = ls;
	s->fd = fd;
	s->is_unix = is_unix;
	stream_watch_read(&s->io, ls->d->loop, fd, listen_accept_cb, s);
}

struct listen *
listen_new(struct codnsd *d)
{
	struct listen *ls;
	char a[ADDR_STRLEN];
	size_t i, off = 0;
	int fd;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->d = d;
	LIST_INIT(&ls->conns);
	stream_pool_init(&ls->unix_pool);
	stream_pool_init(&ls->tcp_pool);
	ls->usock.fd = -1;
	/* Everyone may look up: the socket is 0666 in a directory only
	 * codnsd may write, which is what the NSS module trusts. */
	if (d->conf.lookup_socket[0] != '\0') {
		if (usock_listen(&ls->usock, d->conf.lookup_socket,
			d->conf.user, 0666, "lookup") == -1) {
			listen_free(ls);
			return NULL;
		}
		listen_add_sock(ls, ls->usock.fd, 1);
	}
	for (i = 0; i < d->conf.nlisten; i++) {
		addr_format((const struct sockaddr *)&d->conf.listen[i].ss, a,
		    sizeof(a));
		if ((fd = stream_bind(&d->conf.listen[i], SOCK_STREAM)) == -1) {
			log_warn("listen %s", a);
			listen_free(ls);
			return NULL;
		}
		listen_add_sock(ls, fd, 0);
		off += (size_t)snprintf(ls->addrs + off, sizeof(ls->addrs) - off,
		    "%s%s", off ? "," : "", a);
	}
	return ls;
}

/* Draining: accept no more connections; those open keep being served. */
void
listen_pause(struct listen *ls, int on)
{
	size_t i;

	for (i = 0; i < ls->nsocks; i++)
		if (on)
			ev_io_stop(ls->d->loop, &ls->socks[i].io);
		else
			ev_io_start(ls->d->loop, &ls->socks[i].io);
}

/* Shutdown: one non-blocking attempt to send what is queued. */
void
listen_flush(struct listen *ls)
{
	struct listen_conn *c;

	LIST_FOREACH(c, &ls->conns, entry)
		stream_flush(&c->st);
}

void
listen_free(struct listen *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	while (!LIST_EMPTY(&ls->conns))
		listen_conn_free(LIST_FIRST(&ls->conns));
	for (i = 0; i < ls->nsocks; i++) {
		ev_io_stop(ls->d->loop, &ls->socks[i].io);
		if (ls->socks[i].fd != ls->usock.fd)
			close(ls->socks[i].fd);
	}
	usock_close(&ls->usock); /* closes its fd, unlinks the file */
	free(ls);
}

size_t
listen_clients(const struct listen *ls)
{
	return ls->unix_pool.nconns + ls->tcp_pool.nconns;
}

const char *
listen_addresses(const struct listen *ls)
{
	return ls->addrs;
}

const char *
listen_socket_path(const struct listen *ls)
{
	return ls->usock.path;
}
