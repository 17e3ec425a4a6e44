/* SPDX-License-Identifier: MIT */
/* codnsd/front/stream.h: one framed stream connection (buffers, watchers, I/O). */
#ifndef CODNSD_STREAM_H
#define CODNSD_STREAM_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

struct conf;
struct conf_addr;

#define STREAM_RESERVE_DIV 16     /* a pool's max / this: reserved slots */
#define STREAM_RESERVE_PER_USER 2 /* what a client may hold of them */
#define STREAM_FRAME_SEC 2.0      /* from a frame's first byte to its last */
#define STREAM_V6_PREFIX 8        /* bytes of an IPv6 source: one /64 host */

/*
 * Who holds a connection, for the per-client cap: a uid when the kernel
 * says (SO_PEERCRED on a UNIX socket; on loopback TCP, the owner of the
 * connecting socket through the inet_diag netlink interface, sockdiag.c),
 * else the source address (IPv4 /32, IPv6 /64). All loopback TCP clients
 * whose owner the kernel cannot tell are one client, so that rotating
 * through 127.0.0.0/8 gains nothing.
 */
struct stream_who {
	int by_uid;
	uid_t uid;
	int family;
	uint8_t addr[16];
};

/* One listener's connections: each listener has its own, so that no
 * listener can starve another (issue 20). */
struct stream_pool {
	size_t nconns;
	LIST_HEAD(, stream) conns;
};
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
	/* A frame must be whole this long after its first byte, however its
	 * bytes trickle in; 0: STREAM_FRAME_SEC. */
	double frame_sec;
	/* 1: a closing connection still waits for the answers it owes,
	 * then closes even with nothing to send. 0: it closes as soon as
	 * what is queued is sent. */
	int linger;
	/* 1: queued output keeps the connection alive only while the
	 * client reads it; 0: any queued output does. */
	int idle_needs_progress;
};

/* Why a connection ended (stream_ops.end). */
enum stream_end {
	STREAM_END_CLOSED, /* by the client, broken, or finished */
	STREAM_END_IDLE,   /* silent, or not reading, for idle_sec */
	STREAM_END_SLOW,   /* a frame not whole within frame_sec */
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
	/* The connection is over (why: enum stream_end): the owner frees
	 * it, which stops the stream. */
	void (*end)(void *owner, int why);
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
	ev_timer frame; /* runs while a frame is incomplete */
	struct stream_pool *pool;
	struct stream_who who;
	LIST_ENTRY(stream) pentry; /* pool->conns */
	uint8_t *in; /* the owner's buffer */
	size_t incap, inlen;
	uint8_t *out;
	size_t outlen, outcap, outoff;
	size_t npending; /* requests started and not answered yet */
	int progress; /* the client read some output since the last idle tick */
	int closing;  /* flush what is queued, then close */
	int why;      /* enum stream_end, once known */
};

/* Send without blocking: the bytes sent (0 when the socket is full or
 * the call interrupted), or -1 when the connection is broken. */
ssize_t stream_write(int fd, const void *p, size_t len);
/* Accept one connection on a listening socket (non-blocking,
 * close-on-exec); -1 when there is none or on error (logged as what,
 * unless a transient one). */
int stream_accept(int lfd, const char *what);
/* Whether an address is on this host: 127.0.0.0/8 or ::1. */
int stream_is_loopback(const struct sockaddr_storage *);
/* Who is at the other end of an accepted fd; -1 when the kernel
 * cannot say. */
int stream_peer(int fd, struct stream_who *);
/*
 * Whether a pool takes one more connection from who (issues 8 and 20).
 * Nobody holds more than per_client, and the last max /
 * STREAM_RESERVE_DIV slots go only to whoever holds fewer than
 * STREAM_RESERVE_PER_USER, so that one client cannot take every slot
 * from the others. Root (by uid: its processes are many, and it could
 * stop codnsd anyway) is bound only by max.
 */
int stream_admit(const struct stream_pool *, const struct stream_who *,
    size_t max, size_t per_client);
void stream_pool_init(struct stream_pool *);
/* A socket of type SOCK_STREAM (listening) or SOCK_DGRAM bound to a,
 * non-blocking, IPv6 only on IPv6; -1 with errno. */
int stream_bind(const struct conf_addr *a, int type);
/* Watch a listening (or datagram) socket for reading: cb finds data
 * through w->data. */
void stream_watch_read(ev_io *, struct ev_loop *, int fd,
    void (*cb)(struct ev_loop *, ev_io *, int), void *data);
/* Take fd, join pool (may be NULL) as who, and start reading into
 * in[incap], then call stream_update. */
void stream_start(struct stream *, struct stream_pool *,
    const struct stream_who *, const struct stream_limits *,
    const struct stream_ops *, void *owner, struct ev_loop *, int fd,
    uint8_t *in, size_t incap);
/* Stop the watchers, close the fd, free the output, leave the pool. */
void stream_stop(struct stream *);
/* Room for n more output bytes at out + outlen; -1 when out of memory. */
int stream_reserve(struct stream *, size_t n);
/* Read while there is room for more requests and the backlog is small;
 * write while something is queued (or, lingering, to finish). */
void stream_update(struct stream *);
/*
 * Stop reading and close once what is owed is sent: the answers to the
 * requests before a bad frame, or before a frame that missed its
 * deadline, still go out (with linger, even those not answered yet).
 * -1 when the connection ended here (ops->end ran), never from within
 * an answer's callback when something is owed.
 */
int stream_close_soon(struct stream *);
/* Shutdown: one non-blocking attempt to send what is queued. */
void stream_flush(struct stream *);

#endif
