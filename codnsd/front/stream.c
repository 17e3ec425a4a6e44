/* SPDX-License-Identifier: MIT */
/* codnsd/front/stream.c: one framed stream connection (buffers, watchers, I/O). */
#include "stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "handover.h"
#include "log.h"
#include "sockdiag.h"

ssize_t
stream_write(int fd, const void *p, size_t len)
{
	ssize_t n;

	n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n;
}

int
stream_accept(int lfd, const char *what)
{
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1 && errno != EAGAIN && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("%s", what);
	return fd;
}

int
stream_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

int
stream_peer(int fd, struct stream_who *who)
{
	struct sockaddr_storage peer, local;
	socklen_t len = sizeof(peer), llen = sizeof(local);
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	memset(who, 0, sizeof(*who));
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == -1)
		return -1;
	who->family = peer.ss_family;
	if (peer.ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1)
			return -1;
		who->by_uid = 1;
		who->uid = cred.uid;
		return 0;
	}
	if (stream_is_loopback(&peer)) {
		/* One client per local user, whatever 127.x.y.z it picks. */
		who->by_uid = 1;
		who->uid = (uid_t)-1;
		if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
			(void)sockdiag_peer_uid(&local, &peer, &who->uid);
		return 0;
	}
	if (peer.ss_family == AF_INET)
		memcpy(who->addr, &((struct sockaddr_in *)&peer)->sin_addr, 4);
	else if (peer.ss_family == AF_INET6)
		memcpy(who->addr, &((struct sockaddr_in6 *)&peer)->sin6_addr,
		    STREAM_V6_PREFIX);
	else
		return -1;
	return 0;
}

static int
stream_who_eq(const struct stream_who *a, const struct stream_who *b)
{
	if (a->by_uid != b->by_uid)
		return 0;
	if (a->by_uid)
		return a->uid == b->uid;
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

void
stream_pool_init(struct stream_pool *p)
{
	p->nconns = 0;
	LIST_INIT(&p->conns);
}

/* A linear count: at most max entries, walked once per accept. "Holds"
 * is "has open", give or take one the loop has not reaped yet. */
int
stream_admit(const struct stream_pool *p, const struct stream_who *who,
    size_t max, size_t per_client)
{
	const struct stream *s;
	size_t same = 0, reserve = max / STREAM_RESERVE_DIV;

	if (p->nconns >= max)
		return 0;
	if (who->by_uid && who->uid == 0)
		return 1;
	LIST_FOREACH(s, &p->conns, pentry)
		same += stream_who_eq(&s->who, who);
	if (same >= per_client)
		return 0;
	return p->nconns + reserve < max || same < STREAM_RESERVE_PER_USER;
}

/*
 * Queries that arrive while no codnsd reads them (the gap of a restart,
 * a stall) wait in a UDP socket's buffer; the default (208 KB) holds
 * about 200 of them, 10 ms at 20000 queries/s. The kernel caps this at
 * net.core.rmem_max.
 */
static void
stream_rcvbuf(int fd, int type)
{
	int size = STREAM_UDP_RCVBUF;

	if (type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

int
stream_bind(const struct conf_addr *a, int type)
{
	int fd, one = 1;

	/* Inherited: socket activation or codnsd -R (handover.h). */
	if ((fd = handover_take(a, type)) != -1) {
		handover_note(fd);
		stream_rcvbuf(fd, type);
		return fd;
	}
	if ((fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 128) == -1)) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	handover_note(fd);
	stream_rcvbuf(fd, type);
	return fd;
}

void
stream_watch_read(ev_io *w, struct ev_loop *loop, int fd,
    void (*cb)(struct ev_loop *, ev_io *, int), void *data)
{
	ev_io_init(w, cb, fd, EV_READ);
	w->data = data;
	ev_io_start(loop, w);
}

static double
stream_frame_sec(const struct stream *s)
{
	return s->lim->frame_sec > 0 ? s->lim->frame_sec : STREAM_FRAME_SEC;
}

/*
 * The whole-frame deadline (issue 20): it starts with a frame's first
 * byte, and bytes that trickle in do not extend it, so a client cannot
 * hold a slot by dribbling. It restarts when a frame is taken.
 */
static void
stream_frame_arm(struct stream *s, int consumed)
{
	if (s->inlen == 0 || s->closing) {
		ev_timer_stop(s->loop, &s->frame);
		return;
	}
	if (consumed || !ev_is_active(&s->frame)) {
		ev_timer_stop(s->loop, &s->frame);
		ev_timer_set(&s->frame, stream_frame_sec(s), 0.);
		ev_timer_start(s->loop, &s->frame);
	}
}

/* Start the requests of every whole frame received, up to the pipeline
 * cap; -1 when the owner freed the connection. */
static int
stream_process(struct stream *s)
{
	const struct stream_ops *ops = s->ops;
	size_t framelen, off = 0;
	int r;

	while (!s->closing && s->npending < s->lim->pipeline_max &&
	    (r = ops->peek(s->in + off, s->inlen - off, &framelen)) != 0) {
		if (r == -1 ||
		    ops->request(s->owner, s->in + off, framelen) == -1)
			return ops->bad(s->owner);
		off += framelen;
	}
	if (off > 0) {
		memmove(s->in, s->in + off, s->inlen - off);
		s->inlen -= off;
	}
	stream_frame_arm(s, off > 0);
	if (ops->parsed != NULL)
		ops->parsed(s->owner, off > 0);
	return 0;
}

/* Send what is queued without blocking: 0, or -1 when the connection is
 * broken or finished (the caller ends it). */
static int
stream_send(struct stream *s)
{
	ssize_t n;

	if (s->outlen > s->outoff) {
		n = stream_write(s->fd, s->out + s->outoff,
		    s->outlen - s->outoff);
		if (n == -1)
			return -1;
		if (n > 0) {
			s->outoff += (size_t)n;
			s->progress = 1;
		}
	}
	if (s->outoff == s->outlen) {
		s->outoff = s->outlen = 0;
		if (s->closing && (!s->lim->linger || s->npending == 0))
			return -1;
	}
	return 0;
}

static void
stream_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stream *s = w->data;
	ssize_t n;

	n = recv(s->fd, s->in + s->inlen, s->incap - s->inlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		s->ops->end(s->owner, STREAM_END_CLOSED);
		return;
	}
	if (n < 0)
		return;
	s->inlen += (size_t)n;
	if (stream_process(s) == -1)
		return;
	/* Cache hits are answered already: send now rather than wait a
	 * loop iteration for the write watcher. */
	if (s->outlen > s->outoff && stream_send(s) == -1) {
		s->ops->end(s->owner, s->why);
		return;
	}
	stream_update(s);
}

static void
stream_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stream *s = w->data;

	if (stream_send(s) == -1) {
		s->ops->end(s->owner, s->why);
		return;
	}
	/* Frames held back by the pipeline cap may go now. */
	if (stream_process(s) == 0)
		stream_update(s);
}

static void
stream_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct stream *s = t->data;
	int owed = s->outlen > s->outoff &&
	    (s->progress || !s->lim->idle_needs_progress);

	/* Pending requests end by their own timeouts, and a client reading
	 * its answers is busy: only silence, or answers nobody reads, is
	 * idle. */
	if (s->npending > 0 || owed) {
		s->progress = 0;
		ev_timer_again(loop, t);
		return;
	}
	s->ops->end(s->owner, STREAM_END_IDLE);
}

static void
stream_frame_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct stream *s = t->data;
	size_t framelen;

	/* Whole frames waiting behind the pipeline cap are not slow. */
	if (s->ops->peek(s->in, s->inlen, &framelen) == 1) {
		ev_timer_set(t, stream_frame_sec(s), 0.);
		ev_timer_start(loop, t);
		return;
	}
	s->why = STREAM_END_SLOW;
	(void)stream_close_soon(s);
}

int
stream_close_soon(struct stream *s)
{
	s->closing = 1;
	s->inlen = 0;
	ev_timer_stop(s->loop, &s->frame);
	if ((s->npending == 0 || !s->lim->linger) && s->outlen == s->outoff) {
		s->ops->end(s->owner, s->why);
		return -1;
	}
	stream_update(s);
	return 0;
}

void
stream_start(struct stream *s, struct stream_pool *pool,
    const struct stream_who *who, const struct stream_limits *lim,
    const struct stream_ops *ops, void *owner, struct ev_loop *loop, int fd,
    uint8_t *in, size_t incap)
{
	s->lim = lim;
	s->ops = ops;
	s->owner = owner;
	s->loop = loop;
	s->fd = fd;
	s->in = in;
	s->incap = incap;
	s->why = STREAM_END_CLOSED;
	s->pool = pool;
	if (who != NULL)
		s->who = *who;
	if (pool != NULL) {
		LIST_INSERT_HEAD(&pool->conns, s, pentry);
		pool->nconns++;
	}
	ev_io_init(&s->rio, stream_read_cb, fd, EV_READ);
	ev_io_init(&s->wio, stream_write_cb, fd, EV_WRITE);
	ev_init(&s->idle, stream_idle_cb);
	ev_init(&s->frame, stream_frame_cb);
	s->idle.repeat = lim->idle_sec;
	s->rio.data = s->wio.data = s->idle.data = s->frame.data = s;
	stream_update(s);
}

void
stream_stop(struct stream *s)
{
	ev_io_stop(s->loop, &s->rio);
	ev_io_stop(s->loop, &s->wio);
	ev_timer_stop(s->loop, &s->idle);
	ev_timer_stop(s->loop, &s->frame);
	close(s->fd);
	free(s->out);
	s->out = NULL;
	if (s->pool != NULL) {
		LIST_REMOVE(s, pentry);
		s->pool->nconns--;
		s->pool = NULL;
	}
}

int
stream_reserve(struct stream *s, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (s->outoff > 0 && s->outoff == s->outlen)
		s->outoff = s->outlen = 0;
	if (s->outcap - s->outlen >= n)
		return 0;
	if (s->outoff > 0) {
		memmove(s->out, s->out + s->outoff, s->outlen - s->outoff);
		s->outlen -= s->outoff;
		s->outoff = 0;
		if (s->outcap - s->outlen >= n)
			return 0;
	}
	cap = s->outcap ? s->outcap : 4096;
	while (cap - s->outlen < n)
		cap *= 2;
	if ((p = realloc(s->out, cap)) == NULL)
		return -1;
	s->out = p;
	s->outcap = cap;
	return 0;
}

void
stream_update(struct stream *s)
{
	const struct stream_limits *lim = s->lim;
	int want_read = !s->closing && s->npending < lim->pipeline_max &&
	    s->inlen < s->incap && s->outlen - s->outoff < lim->out_high;
	int want_write = s->outlen > s->outoff ||
	    (lim->linger && s->closing && s->npending == 0);

	if (want_read && !ev_is_active(&s->rio))
		ev_io_start(s->loop, &s->rio);
	else if (!want_read && ev_is_active(&s->rio))
		ev_io_stop(s->loop, &s->rio);
	if (want_write && !ev_is_active(&s->wio))
		ev_io_start(s->loop, &s->wio);
	else if (!want_write && ev_is_active(&s->wio))
		ev_io_stop(s->loop, &s->wio);
	ev_timer_again(s->loop, &s->idle);
}

void
stream_flush(struct stream *s)
{
	if (s->outlen > s->outoff)
		(void)stream_write(s->fd, s->out + s->outoff,
		    s->outlen - s->outoff);
}
