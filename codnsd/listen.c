/* codnsd/listen.c: the TCP lookup listener for clients on the node. */
#include "listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "codnsd.h"
#include "log.h"
#include "lookup.h"
#include "proto.h"
#include "stats.h"

#define LISTEN_IN_MAX (2 * (PROTO_HDR_LEN + PROTO_FRAME_MAX))
#define LISTEN_OUT_HIGH (64 * 1024) /* stop reading above this backlog */

struct listen_sock {
	struct listen *ls;
	ev_io io;
	int fd;
};

struct listen_pending {
	struct listen_conn *conn;
	struct lookup_waiter *w;
	uint32_t id;
	LIST_ENTRY(listen_pending) entry;
};

struct listen_conn {
	struct listen *ls;
	int fd;
	ev_io rio;
	ev_io wio;
	ev_timer idle;
	uint8_t in[LISTEN_IN_MAX];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap, outoff;
	LIST_HEAD(, listen_pending) pending;
	size_t npending;
	int closing; /* flush what is queued, then close */
	LIST_ENTRY(listen_conn) entry;
};

struct listen {
	struct codnsd *d;
	struct listen_sock socks[CONF_LISTEN_MAX];
	size_t nsocks;
	LIST_HEAD(, listen_conn) conns;
	size_t nconns;
	char addrs[CONF_LISTEN_MAX * ADDR_STRLEN];
};

static void listen_conn_update(struct listen_conn *);
static int listen_send(struct listen_conn *);

static void
listen_conn_free(struct listen_conn *c)
{
	struct listen *ls = c->ls;
	struct listen_pending *p;
	struct ev_loop *loop = ls->d->loop;

	while ((p = LIST_FIRST(&c->pending)) != NULL) {
		LIST_REMOVE(p, entry);
		lookup_cancel(p->w);
		free(p);
	}
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->idle);
	close(c->fd);
	LIST_REMOVE(c, entry);
	ls->nconns--;
	free(c->out);
	free(c);
}

static int
listen_out_reserve(struct listen_conn *c, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outcap - c->outlen >= n)
		return 0;
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		if (c->outcap - c->outlen >= n)
			return 0;
	}
	cap = c->outcap ? c->outcap : 4096;
	while (cap - c->outlen < n)
		cap *= 2;
	if ((p = realloc(c->out, cap)) == NULL)
		return -1;
	c->out = p;
	c->outcap = cap;
	return 0;
}

/* A lookup finished: queue its response. Never closes the connection
 * here, since lookup.c may be walking a list that holds our waiters. */
static void
listen_answer_cb(void *arg, const struct proto_answer *a)
{
	struct listen_pending *p = arg;
	struct listen_conn *c = p->conn;
	struct buf b;

	LIST_REMOVE(p, entry);
	c->npending--;
	if (listen_out_reserve(c, PROTO_HDR_LEN + PROTO_FRAME_MAX) == 0) {
		buf_init_write(&b, c->out + c->outlen, c->outcap - c->outlen);
		if (proto_response_encode(&b, p->id, a) == 0)
			c->outlen += b.pos;
		else
			c->closing = 1;
	} else
		c->closing = 1;
	free(p);
	listen_conn_update(c);
}

static int
listen_request(struct listen_conn *c, const uint8_t *payload, size_t len)
{
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
	c->npending++;
	/* A cache hit is answered here, before the next frame. */
	p->w = lookup_start(c->ls->d->lookup, &req, 0, listen_answer_cb, p,
	    &now);
	if (p->w == NULL)
		listen_answer_cb(p, &now);
	return 0;
}

/* Start the lookups of every whole frame received, up to the pipeline
 * cap. -1 when the connection was closed for a bad frame. */
static int
listen_process(struct listen_conn *c)
{
	size_t framelen, off = 0;
	int r;

	while (c->npending < LISTEN_PIPELINE_MAX &&
	    (r = proto_frame_peek(c->in + off, c->inlen - off, &framelen)) !=
		0) {
		if (r == -1 || listen_request(c, c->in + off + PROTO_HDR_LEN,
				   framelen - PROTO_HDR_LEN) == -1) {
			stats_count(c->ls->d->stats, STATS_CLIENTS_BAD_FRAME);
			log_debug("client sent a bad frame, closing");
			listen_conn_free(c);
			return -1;
		}
		off += framelen;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

static void
listen_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listen_conn *c = w->data;
	ssize_t n;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		listen_conn_free(c);
		return;
	}
	if (n < 0)
		return;
	c->inlen += (size_t)n;
	if (listen_process(c) == -1)
		return;
	/* Cache hits are answered already: send now rather than wait a
	 * loop iteration for the write watcher. */
	if (c->outlen > c->outoff && listen_send(c) == -1) {
		listen_conn_free(c);
		return;
	}
	listen_conn_update(c);
}

/* Send what is queued without blocking: 0, or -1 when the connection is
 * broken or finished (the caller frees it). */
static int
listen_send(struct listen_conn *c)
{
	ssize_t n;

	n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		return -1;
	if (n > 0)
		c->outoff += (size_t)n;
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->closing)
			return -1;
	}
	return 0;
}

static void
listen_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listen_conn *c = w->data;

	if (listen_send(c) == -1) {
		listen_conn_free(c);
		return;
	}
	/* Frames held back by the pipeline cap may go now. */
	if (listen_process(c) == 0)
		listen_conn_update(c);
}

static void
listen_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct listen_conn *c = t->data;

	/* Pending lookups end by lookup-timeout; only silence is idle. */
	if (c->npending > 0 || c->outlen > c->outoff) {
		ev_timer_again(loop, t);
		return;
	}
	stats_count(c->ls->d->stats, STATS_CLIENTS_IDLE);
	listen_conn_free(c);
}

/* Read while there is room for more requests and the backlog is small;
 * write while there is something queued. */
static void
listen_conn_update(struct listen_conn *c)
{
	struct ev_loop *loop = c->ls->d->loop;
	int want_read = !c->closing && c->npending < LISTEN_PIPELINE_MAX &&
	    c->inlen < sizeof(c->in) && c->outlen - c->outoff < LISTEN_OUT_HIGH;

	if (want_read && !ev_is_active(&c->rio))
		ev_io_start(loop, &c->rio);
	else if (!want_read && ev_is_active(&c->rio))
		ev_io_stop(loop, &c->rio);
	if (c->outlen > c->outoff && !ev_is_active(&c->wio))
		ev_io_start(loop, &c->wio);
	else if (c->outlen == c->outoff && ev_is_active(&c->wio))
		ev_io_stop(loop, &c->wio);
	ev_timer_again(loop, &c->idle);
}

static void
listen_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listen_sock *s = w->data;
	struct listen *ls = s->ls;
	struct listen_conn *c;
	int fd, one = 1;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (ls->nconns >= LISTEN_CLIENTS_MAX ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		stats_count(ls->d->stats, STATS_CLIENTS_REFUSED);
		close(fd);
		return;
	}
	stats_count(ls->d->stats, STATS_CLIENTS_ACCEPTED);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ls = ls;
	c->fd = fd;
	ev_io_init(&c->rio, listen_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, listen_write_cb, fd, EV_WRITE);
	ev_init(&c->idle, listen_idle_cb);
	c->idle.repeat = LISTEN_IDLE_SEC;
	c->rio.data = c->wio.data = c->idle.data = c;
	LIST_INIT(&c->pending);
	LIST_INSERT_HEAD(&ls->conns, c, entry);
	ls->nconns++;
	listen_conn_update(c);
}

static int
listen_bind(const struct conf_addr *a)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, 128) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct listen *
listen_new(struct codnsd *d)
{
	struct listen *ls;
	struct listen_sock *s;
	char a[ADDR_STRLEN];
	size_t i, off = 0;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->d = d;
	LIST_INIT(&ls->conns);
	for (i = 0; i < d->conf.nlisten; i++) {
		addr_format((const struct sockaddr *)&d->conf.listen[i].ss, a,
		    sizeof(a));
		s = &ls->socks[ls->nsocks];
		if ((s->fd = listen_bind(&d->conf.listen[i])) == -1) {
			log_warn("listen %s", a);
			listen_free(ls);
			return NULL;
		}
		s->ls = ls;
		ev_io_init(&s->io, listen_accept_cb, s->fd, EV_READ);
		s->io.data = s;
		ev_io_start(d->loop, &s->io);
		ls->nsocks++;
		off += (size_t)snprintf(ls->addrs + off, sizeof(ls->addrs) - off,
		    "%s%s", off ? "," : "", a);
	}
	return ls;
}

/* Shutdown: one non-blocking attempt to send what is queued. */
void
listen_flush(struct listen *ls)
{
	struct listen_conn *c;

	LIST_FOREACH(c, &ls->conns, entry)
		if (c->outlen > c->outoff)
			(void)send(c->fd, c->out + c->outoff,
			    c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
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
		close(ls->socks[i].fd);
	}
	free(ls);
}

size_t
listen_clients(const struct listen *ls)
{
	return ls->nconns;
}

const char *
listen_addresses(const struct listen *ls)
{
	return ls->addrs;
}
