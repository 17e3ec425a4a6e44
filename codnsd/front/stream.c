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
stream_admit(const struct conf *conf, size_t nconns, size_t same,
    int unbounded)
{
	size_t reserve = conf->max_clients / STREAM_RESERVE_DIV;

	if (nconns >= conf->max_clients)
		return 0;
	if (unbounded)
		return 1;
	if (same >= conf->max_clients_per_user)
		return 0;
	return nconns + reserve < conf->max_clients ||
	    same < STREAM_RESERVE_PER_USER;
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
		s->ops->end(s->owner, 0);
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
		s->ops->end(s->owner, 0);
		return;
	}
	stream_update(s);
}

static void
stream_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stream *s = w->data;

	if (stream_send(s) == -1) {
		s->ops->end(s->owner, 0);
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
	s->ops->end(s->owner, 1);
}

void
stream_start(struct stream *s, const struct stream_limits *lim,
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
	ev_io_init(&s->rio, stream_read_cb, fd, EV_READ);
	ev_io_init(&s->wio, stream_write_cb, fd, EV_WRITE);
	ev_init(&s->idle, stream_idle_cb);
	s->idle.repeat = lim->idle_sec;
	s->rio.data = s->wio.data = s->idle.data = s;
	stream_update(s);
}

void
stream_stop(struct stream *s)
{
	ev_io_stop(s->loop, &s->rio);
	ev_io_stop(s->loop, &s->wio);
	ev_timer_stop(s->loop, &s->idle);
	close(s->fd);
	free(s->out);
	s->out = NULL;
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
