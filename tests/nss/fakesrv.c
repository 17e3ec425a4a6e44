/* SPDX-License-Identifier: MIT */
/* tests/nss/fakesrv.c: a canned codnsd stand-in for the NSS module tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_zone.h"
#include "proto.h"

/*
 * usage: fakesrv [-H] [-t SECONDS]
 * Listens on 127.0.0.1 with a kernel-chosen port and prints the port. -H
 * never accepts nor reads: the kernel still completes the handshake, as
 * for a SIGSTOPped codnsd. Exits on SIGTERM/SIGINT or after -t seconds
 * (default 60), so a lost test cannot leave it running.
 */

#define CONN_MAX 256

struct conn {
	int fd;
	size_t len;
	uint8_t in[PROTO_HDR_LEN + PROTO_FRAME_MAX];
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
add_addr(struct proto_answer *a, int fam, const char *text)
{
	struct proto_addr *p = &a->addrs[a->naddrs++];

	p->family = (uint8_t)fam;
	inet_pton(fam == CODNS_AF_INET ? AF_INET : AF_INET6, text, p->a);
}

static void
answer_big(struct proto_answer *a, uint8_t family)
{
	unsigned i, n4, n6;

	fake_big_cname(a->cname);
	a->ttl = FAKE_TTLBIG;
	a->naliases = FAKE_BIG_NALIASES;
	for (i = 0; i < FAKE_BIG_NALIASES; i++)
		fake_big_alias(i, a->aliases[i]);
	/* codnsd sends the owners of a CNAME chain, the asked name too. */
	strcpy(a->aliases[a->naliases++], "big.test");
	n4 = family == CODNS_AF_INET ? FAKE_BIG_NADDRS :
	    family == CODNS_AF_INET6 ? 0 : FAKE_BIG_NADDRS / 2;
	n6 = family == CODNS_AF_INET6 ? FAKE_BIG_NADDRS :
	    family == CODNS_AF_INET ? 0 : FAKE_BIG_NADDRS / 2;
	for (i = 0; i < n4; i++) {
		a->addrs[a->naddrs].family = CODNS_AF_INET;
		fake_big_addr4(i, a->addrs[a->naddrs++].a);
	}
	for (i = 0; i < n6; i++) {
		a->addrs[a->naddrs].family = CODNS_AF_INET6;
		fake_big_addr6(i, a->addrs[a->naddrs++].a);
	}
}

/* Keep the addresses of the asked family, as codnsd does. */
static void
filter_family(struct proto_answer *a, uint8_t family)
{
	size_t i, n = 0;

	if (family == CODNS_AF_UNSPEC || a->status != CODNS_FOUND)
		return;
	for (i = 0; i < a->naddrs; i++)
		if (a->addrs[i].family == family)
			a->addrs[n++] = a->addrs[i];
	a->naddrs = (uint8_t)n;
	if (n == 0)
		a->status = CODNS_NODATA;
}

/* 0 with an answer, 1 for "never answer", 2 for "send garbage". */
static int
answer_forward(const struct proto_request *rq, struct proto_answer *a)
{
	const char *n = rq->name;

	a->status = CODNS_FOUND;
	if (strcmp(n, "found4.test") == 0) {
		strcpy(a->cname, "canon4.test");
		strcpy(a->aliases[a->naliases++], "alias4.test");
		strcpy(a->aliases[a->naliases++], "found4.test");
		a->ttl = FAKE_TTL4;
		add_addr(a, CODNS_AF_INET, "192.0.2.10");
		add_addr(a, CODNS_AF_INET, "192.0.2.11");
	} else if (strcmp(n, "found6.test") == 0) {
		a->ttl = FAKE_TTL6;
		add_addr(a, CODNS_AF_INET6, "2001:db8::10");
		add_addr(a, CODNS_AF_INET6, "2001:db8::11");
	} else if (strcmp(n, "both.test") == 0) {
		strcpy(a->cname, "both.test");
		a->ttl = FAKE_TTLBOTH;
		add_addr(a, CODNS_AF_INET, "192.0.2.20");
		add_addr(a, CODNS_AF_INET6, "2001:db8::20");
	} else if (strcmp(n, "mismatch.test") == 0) {
		add_addr(a, CODNS_AF_INET, "192.0.2.30");
		return 0;
	} else if (strcmp(n, "big.test") == 0) {
		answer_big(a, rq->family);
		return 0;
	} else if (strcmp(n, "nodata.test") == 0) {
		a->status = CODNS_NODATA;
	} else if (strcmp(n, "again.test") == 0) {
		a->status = CODNS_TRYAGAIN;
	} else if (strcmp(n, "unavail.test") == 0) {
		a->status = CODNS_UNAVAIL;
	} else if (strcmp(n, "hang.test") == 0) {
		return 1;
	} else if (strcmp(n, "garbage.test") == 0) {
		return 2;
	} else
		a->status = CODNS_NOTFOUND;
	filter_family(a, rq->family);
	return 0;
}

static void
answer_reverse(const struct proto_request *rq, struct proto_answer *a)
{
	uint8_t v4[4], v6[16];

	inet_pton(AF_INET, "192.0.2.1", v4);
	inet_pton(AF_INET6, "2001:db8::1", v6);
	a->status = CODNS_NOTFOUND;
	a->ttl = 3600;
	if (rq->family == CODNS_AF_INET && memcmp(rq->addr, v4, 4) == 0) {
		a->status = CODNS_FOUND;
		strcpy(a->cname, "host1.test");
		strcpy(a->aliases[a->naliases++], "host1-alias.test");
	} else if (rq->family == CODNS_AF_INET6 &&
	    memcmp(rq->addr, v6, 16) == 0) {
		a->status = CODNS_FOUND;
		strcpy(a->cname, "host6.test");
	}
}

static int
send_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One request frame in, at most one response out. -1 drops the client. */
static int
serve_frame(int fd, const uint8_t *payload, size_t len)
{
	static const uint8_t garbage[] = { 0, 3, 99, 2, 0 };
	uint8_t out[PROTO_HDR_LEN + PROTO_FRAME_MAX];
	struct proto_request rq;
	struct proto_answer a;
	struct buf b;
	int how = 0;

	if (proto_request_decode(payload, len, &rq) == -1)
		return -1;
	memset(&a, 0, sizeof(a));
	a.source = CODNS_SRC_CACHE;
	if (rq.kind == PROTO_KIND_FORWARD)
		how = answer_forward(&rq, &a);
	else
		answer_reverse(&rq, &a);
	if (how == 1)
		return 0;
	if (how == 2)
		return send_all(fd, garbage, sizeof(garbage));
	buf_init_write(&b, out, sizeof(out));
	if (proto_response_encode(&b, rq.id, &a) == -1)
		return -1;
	return send_all(fd, out, b.pos);
}

static int
serve_conn(struct conn *c)
{
	size_t flen;
	ssize_t n;
	int r;

	n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
	if (n == -1 && errno == EINTR)
		return 0;
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	while ((r = proto_frame_peek(c->in, c->len, &flen)) == 1) {
		if (serve_frame(c->fd, c->in + PROTO_HDR_LEN,
		    flen - PROTO_HDR_LEN) == -1)
			return -1;
		memmove(c->in, c->in + flen, c->len - flen);
		c->len -= flen;
	}
	return r == -1 ? -1 : 0;
}

static int
listen_loopback(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 512) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("fakesrv: listen");
		exit(1);
	}
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	return fd;
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
serve(int lfd, time_t deadline)
{
	static struct conn conns[CONN_MAX];
	struct pollfd pfd[CONN_MAX + 1];
	size_t i;
	int fd;

	for (i = 0; i < CONN_MAX; i++)
		conns[i].fd = -1;
	while (!quit && now_s() < deadline) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < CONN_MAX; i++)
			pfd[i + 1] = (struct pollfd){ .fd = conns[i].fd,
				.events = POLLIN };
		if (poll(pfd, CONN_MAX + 1, 1000) == -1)
			continue;
		for (i = 0; i < CONN_MAX; i++) {
			if (pfd[i + 1].revents == 0 || conns[i].fd == -1)
				continue;
			if (serve_conn(&conns[i]) == -1) {
				close(conns[i].fd);
				conns[i].fd = -1;
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		for (i = 0; i < CONN_MAX && conns[i].fd != -1; i++)
			;
		if (i == CONN_MAX) {
			close(fd);
			continue;
		}
		conns[i].fd = fd;
		conns[i].len = 0;
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	time_t limit = 60;
	int ch, hang = 0, lfd;

	while ((ch = getopt(argc, argv, "Ht:")) != -1) {
		switch (ch) {
		case 'H':
			hang = 1;
			break;
		case 't':
			limit = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: fakesrv [-H] [-t seconds]\n");
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = listen_loopback();
	if (hang) {
		time_t deadline = now_s() + limit;

		while (!quit && now_s() < deadline)
			poll(NULL, 0, 200);
	} else
		serve(lfd, now_s() + limit);
	close(lfd);
	return 0;
}
