/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peernetio.c: peernet's real collaborators: libev timers, the
 * bound UDP peer socket, the daemon's counters and nameserver health. */
#include "peernetio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "codnsd.h"
#include "conf.h"
#include "filewatch.h"
#include "log.h"
#include "lookupio.h"
#include "peerproto.h"
#include "peersdns.h"
#include "stats.h"
#include "stream.h"
#include "upstream.h"

#define PIO_BATCH 64 /* datagrams per wakeup: client lookups keep moving */

struct peernetio {
	struct codnsd *d;
	struct peernet *pn;
	int fd;
	ev_io io;
	struct peersdns *pd; /* the peers-dns names, NULL without any */
};

static uint64_t
pio_wall_ms(void *ctx)
{
	(void)ctx;
	return clock_wall_ms();
}

static int
pio_send(void *ctx, const void *buf, size_t len, const struct sockaddr *to,
    socklen_t tolen)
{
	struct peernetio *io = ctx;

	return sendto(io->fd, buf, len, 0, to, tolen) == -1 ? -1 : 0;
}

static void
pio_count(void *ctx, enum stats_counter c)
{
	struct peernetio *io = ctx;

	stats_count(io->d->stats, c);
}

static void
pio_health(void *ctx, struct peernet_health *out)
{
	struct peernetio *io = ctx;
	const struct upstream_health *h = upstream_health(io->d->upstream);

	out->mean_ms = h->mean_ms;
	out->queries = h->queries;
	out->failures = h->failures;
	out->nsset_id = h->nsset_id;
}

/* The peers-dns names gave another list: hand the union to peernet. */
static void
pio_dns_changed(void *arg)
{
	struct peernetio *io = arg;
	struct conf_addr *addrs = calloc(PEERSDNS_MAX, sizeof(*addrs));
	uint16_t *src = calloc(PEERSDNS_MAX, sizeof(*src));
	struct peersdns_info info[CONF_PEERS_DNS_MAX];
	char names[CONF_PEERS_DNS_MAX][CONF_DNSNAME_MAX + 1];
	size_t n = 0, nn, i, cut = 0;

	if (addrs == NULL || src == NULL)
		log_warnx("peers-dns: out of memory");
	else if (io->pn != NULL) {
		n = peersdns_list(io->pd, addrs, src, PEERSDNS_MAX, &cut);
		nn = peersdns_sources(io->pd, info, CONF_PEERS_DNS_MAX);
		for (i = 0; i < nn; i++)
			snprintf(names[i], sizeof(names[i]), "%s",
			    info[i].name);
		if (cut > 0)
			log_warnx("peers-dns: %zu peers beyond %d left out",
			    cut, PEERSDNS_MAX);
		peernet_set_dns(io->pn, addrs, src, n, names, nn, cut);
	}
	free(addrs);
	free(src);
}

static void
pio_dns_configure(void *ctx, const char (*names)[CONF_DNSNAME_MAX + 1],
    size_t n, uint16_t port)
{
	struct peernetio *io = ctx;

	if (peersdns_same(io->pd, names, n, port)) {
		peersdns_refresh(io->pd); /* SIGHUP: resolve them again */
		return;
	}
	peersdns_free(io->pd);
	io->pd = peersdns_new(io->d->loop, io->d->upstream, names, n, port,
	    pio_dns_changed, io);
	if (io->pd == NULL && n > 0)
		log_warnx("peers-dns: out of memory");
	if (io->pd == NULL && io->pn != NULL) /* names gone: so are theirs */
		peernet_set_dns(io->pn, NULL, NULL, 0, NULL, 0, 0);
}

size_t
peernetio_dns_sources(const struct peernet *pn, struct peersdns_info *out,
    size_t max)
{
	const struct peernetio *io = pn != NULL ? peernet_env_ctx(pn) : NULL;

	return io != NULL ? peersdns_sources(io->pd, out, max) : 0;
}

/* The peers file through inotify (filewatch.h); polled every 2 s only
 * where inotify cannot tell. */
static void *
pio_watch_new(void *ctx, const char *path, peernet_timer_cb *cb, void *arg)
{
	struct peernetio *io = ctx;
	struct filewatch *fw = calloc(1, sizeof(*fw));

	if (fw != NULL)
		filewatch_start(fw, io->d->loop, path, 2.0, cb, arg);
	return fw;
}

static void
pio_watch_retarget(void *w, const char *path)
{
	filewatch_retarget(w, path);
}

static void
pio_watch_free(void *w)
{
	filewatch_stop(w);
	free(w);
}

static void
pio_release(void *ctx)
{
	struct peernetio *io = ctx;

	peersdns_free(io->pd);
	ev_io_stop(io->d->loop, &io->io);
	if (io->fd != -1)
		close(io->fd);
	free(io);
}

static void
pio_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peernetio *io = w->data;
	uint8_t dgram[PEERPROTO_DGRAM_MAX + 1];
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < PIO_BATCH; i++) {
		fromlen = sizeof(from);
		n = recvfrom(io->fd, dgram, sizeof(dgram), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1)
			return;
		peernet_input(io->pn, dgram, (size_t)n,
		    (const struct sockaddr *)&from);
	}
}

int
peernet_open(struct codnsd *d, const struct conf *c, struct peernet **out,
    char *err, size_t errlen)
{
	struct peernetio *io;
	struct peernet_env env = {
		LOOKUPIO_CLOCK(d->loop),
		.wall_ms = pio_wall_ms,
		.send = pio_send,
		.stat_count = pio_count,
		.health = pio_health,
		.release = pio_release,
		.dns_configure = pio_dns_configure,
		.watch_new = pio_watch_new,
		.watch_retarget = pio_watch_retarget,
		.watch_free = pio_watch_free,
	};
	struct stat st;
	char a[ADDR_STRLEN];

	*out = NULL;
	if (stat(c->peers_file, &st) == -1 && errno == ENOENT &&
	    c->npeers_dns == 0)
		return 0;
	if ((io = calloc(1, sizeof(*io))) == NULL) {
		snprintf(err, errlen, "cannot initialise the peer module");
		return -1;
	}
	io->d = d;
	/* stream's helper: non-blocking, and IPv6 only on IPv6. */
	if ((io->fd = stream_bind(&c->peer_listen, SOCK_DGRAM)) == -1) {
		snprintf(err, errlen, "peer-listen %s: %s",
		    addr_format((const struct sockaddr *)&c->peer_listen.ss, a,
			sizeof(a)),
		    strerror(errno));
		free(io);
		return -1;
	}
	env.ctx = io;
	if (peernet_new(&env, c, &io->pn, err, errlen) == -1) {
		close(io->fd);
		free(io);
		return -1;
	}
	stream_watch_read(&io->io, d->loop, io->fd, pio_read_cb, io);
	*out = io->pn;
	return 0;
}
