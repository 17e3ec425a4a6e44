/* SPDX-License-Identifier: MIT */
/* codnsd/front/stream.h: one framed stream connection (buffers, watchers, I/O). */
#ifndef CODNSD_STREAM_H
#define CODNSD_STREAM_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conf;
struct conf_addr;

#define STREAM_RESERVE_DIV 16     /* max-clients / this: reserved slots */
#define STREAM_RESERVE_PER_USER 2 /* what a user may hold of them */
#define STREAM_UDP_RCVBUF (4 << 20) /* a DNS stub socket's buffer, bytes */

/*
 * What differs between the stream listeners: the lookup listener
 * (listen.c, codns-protocol frames) and the DNS stub's TCP side
 * (dnsstub.c, RFC 7766 two-byte length prefix). Each has one static
 * table of each kind; owner is the listener's connection.
 */
struct stream_limits {
	size_t pipeline_max; /* requests in flight before reading stops */
	size_t out_high;     /* queued bytes before reading stops */
	double idle_sec;
	/* 1: a closing connection still waits for the answers it owes,
	 * then closes even with nothing to send. 0: it closes as soon as
	 * what is queued is sent. */
	int linger;
	/* 1: queued output keeps the connection alive only while the
	 * client reads it; 0: any queued output does. */
	int idle_needs_progress;
};

struct stream_ops {
	/* The frame at the start of buf: 1 and its whole length (header
	 * included) in *framelen, 0 when not whole yet, -1 when malformed. */
	int (*peek)(const void *buf, size_t len, size_t *framelen);
	/* Start one whole frame's request; -1 for a frame it refuses. */
	int (*request)(void *owner, const uint8_t *frame, size_t len);
	/* A malformed or refused frame: -1 when the owner freed itself. */
	int (*bad)(void *owner);
	/* After each pass over the input, whether it took frames; or NULL. */
	void (*parsed)(void *owner, int consumed);
	/* The connection is over (closed by the client, broken, finished, or
	 * idle when idle is 1): the owner frees it. */
	void (*end)(void *owner, int idle);
};

struct stream {
	const struct stream_limits *lim;
	const struct stream_ops *ops;
	void *owner;
	struct ev_loop *loop;
	int fd;
	ev_io rio;
	ev_io wio;
	ev_timer idle;
	uint8_t *in; /* the owner's buffer */
	size_t incap, inlen;
	uint8_t *out;
	size_t outlen, outcap, outoff;
	size_t npending; /* requests started and not answered yet */
	int progress; /* the client read some output since the last idle tick */
	int closing;  /* flush what is queued, then close */
};

/* Send without blocking: the bytes sent (0 when the socket is full or
 * the call interrupted), or -1 when the connection is broken. */
ssize_t stream_write(int fd, const void *p, size_t len);
/* Accept one connection on a listening socket (non-blocking,
 * close-on-exec); -1 when there is none or on error (logged as what,
 * unless a transient one). */
int stream_accept(int lfd, const char *what);
/*
 * Whether a listener holding nconns connections takes one more from a
 * client that already holds same of them (issue 8). Nobody holds more
 * than max-clients-per-user, and the last max-clients /
 * STREAM_RESERVE_DIV slots go only to whoever holds fewer than
 * STREAM_RESERVE_PER_USER, so that local users cannot take every slot
 * from the others. unbounded (root, whose processes are many and who
 * could stop codnsd anyway) is bound only by max-clients.
 */
int stream_admit(const struct conf *, size_t nconns, size_t same,
    int unbounded);
/* A socket of type SOCK_STREAM (listening) or SOCK_DGRAM bound to a,
 * non-blocking, IPv6 only on IPv6; -1 with errno. */
int stream_bind(const struct conf_addr *a, int type);
/* Watch a listening (or datagram) socket for reading: cb finds data
 * through w->data. */
void stream_watch_read(ev_io *, struct ev_loop *, int fd,
    void (*cb)(struct ev_loop *, ev_io *, int), void *data);
/* Take fd and start reading into in[incap], then call stream_update. */
void stream_start(struct stream *, const struct stream_limits *,
    const struct stream_ops *, void *owner, struct ev_loop *, int fd,
    uint8_t *in, size_t incap);
/* Stop the watchers, close the fd, free the output. */
void stream_stop(struct stream *);
/* Room for n more output bytes at out + outlen; -1 when out of memory. */
int stream_reserve(struct stream *, size_t n);
/* Read while there is room for more requests and the backlog is small;
 * write while something is queued (or, lingering, to finish). */
void stream_update(struct stream *);
/* Shutdown: one non-blocking attempt to send what is queued. */
void stream_flush(struct stream *);

#endif
