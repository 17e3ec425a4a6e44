/* SPDX-License-Identifier: MIT */
/* scripts/codns_bench.c: lookup load generator for bench_local.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "benchclock.h"
#include "buf.h"
#include "codns.h"
#include "proto.h"

/*
 * usage: codns_bench conn|pipe|gai [-a ADDR:PORT|PATH] [-n COUNT]
 *            [-D DEPTH] [-T SECONDS] NAME...
 *
 * -a: codnsd's TCP listener, or its UNIX lookup socket (a path).
 * conn: one new connection to codnsd per lookup, one at a time.
 * pipe: one connection, DEPTH requests kept outstanding.
 * gai:  getaddrinfo(NAME, AF_INET) in a loop, through whatever nsswitch.conf
 *       and resolv.conf say (bench_local.sh points them at a local dnsmasq).
 * All ask for IPv4 only, cycling over the names, and stop after COUNT
 * lookups or SECONDS, whichever comes first. One line on stdout:
 *   n=N fails=F notcache=C secs=S per_s=R p50_us=X p99_us=Y
 * A benchmark, not a test: it measures and never judges.
 */

#define BENCH_COUNT_MAX 1000000
#define BENCH_DEPTH_MAX 64 /* codnsd/front/listen.h LISTEN_PIPELINE_MAX */
#define BENCH_RBUF (64 * 1024)

struct bench {
	const char *mode;
	struct sockaddr_storage sa;
	socklen_t salen;
	long count;
	int depth;
	double cap_s;
	char **names;
	int nnames;
	double *lat_us; /* one per finished lookup */
	long done;
	long fails;
	long notcache;
	double t0;
};

static void
usage(void)
{
	fprintf(stderr, "usage: codns_bench conn|pipe|gai [-a ADDR:PORT|PATH] "
	    "[-n COUNT] [-D DEPTH] [-T SECONDS] NAME...\n");
	exit(2);
}

static int
parse_addr(const char *s, struct bench *b)
{
	struct sockaddr_in *sa = (struct sockaddr_in *)&b->sa;
	struct sockaddr_un *sun = (struct sockaddr_un *)&b->sa;
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n;
	long port;
	char *end;

	memset(&b->sa, 0, sizeof(b->sa));
	if (s[0] == '/') {
		if (strlen(s) >= sizeof(sun->sun_path))
			return -1;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, s);
		b->salen = sizeof(*sun);
		return 0;
	}
	b->salen = sizeof(*sa);
	if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int
over_time(const struct bench *b)
{
	return (now_us() - b->t0) / 1e6 >= b->cap_s;
}

static void
record(struct bench *b, double lat, int fail, int notcache)
{
	b->lat_us[b->done++] = lat;
	b->fails += fail;
	b->notcache += notcache;
}

/* Encode request id for names[id % nnames] into w; 0 or -1. */
static int
put_request(const struct bench *b, struct buf *w, uint32_t id)
{
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.kind = PROTO_KIND_FORWARD;
	r.family = CODNS_AF_INET;
	snprintf(r.name, sizeof(r.name), "%s", b->names[id % b->nnames]);
	return proto_request_encode(w, &r);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
connect_to(const struct bench *b)
{
	int fd, one = 1;

	if ((fd = socket(b->sa.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (b->sa.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&b->sa, b->salen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read what fd has after rbuf[0..*rlen), then take every whole response
 * frame off rbuf, calling back with its id and answer; 0, or -1 at the end
 * of the stream, on a read error or on a broken frame.
 */
static int
read_frames(int fd, uint8_t *rbuf, size_t *rlen,
    void (*cb)(struct bench *, uint32_t, const struct proto_answer *),
    struct bench *b)
{
	static struct proto_answer a;
	size_t off = 0, flen;
	ssize_t k;
	uint32_t id;
	int r;

	k = read(fd, rbuf + *rlen, BENCH_RBUF - *rlen);
	if (k <= 0)
		return -1;
	*rlen += (size_t)k;
	while ((r = proto_frame_peek(rbuf + off, *rlen - off, &flen)) == 1) {
		if (proto_response_decode(rbuf + off + PROTO_HDR_LEN,
			flen - PROTO_HDR_LEN, &id, &a) == -1)
			return -1;
		cb(b, id, &a);
		off += flen;
	}
	if (r == -1)
		return -1;
	memmove(rbuf, rbuf + off, *rlen - off);
	*rlen -= off;
	return 0;
}

/* conn mode: the whole exchange of one lookup, connect to close. */
static double conn_lat_start;
static int conn_got;

static void
conn_answer(struct bench *b, uint32_t id, const struct proto_answer *a)
{
	(void)id;
	record(b, now_us() - conn_lat_start, a->status != CODNS_FOUND,
	    a->source != CODNS_SRC_CACHE);
	conn_got = 1;
}

static int
one_conn_lookup(struct bench *b, uint8_t *rbuf)
{
	uint8_t wbuf[PROTO_HDR_LEN + PROTO_FRAME_MAX];
	struct buf w;
	size_t rlen = 0;
	int fd, rc = -1;

	conn_lat_start = now_us();
	conn_got = 0;
	buf_init_write(&w, wbuf, sizeof(wbuf));
	if (put_request(b, &w, (uint32_t)b->done) == -1 ||
	    (fd = connect_to(b)) == -1)
		return -1;
	if (write_all(fd, wbuf, w.pos) == -1)
		goto done;
	while (!conn_got) {
		if (read_frames(fd, rbuf, &rlen, conn_answer, b) == -1)
			goto done;
	}
	rc = 0;
done:
	close(fd);
	return rc;
}

static int
run_conn(struct bench *b)
{
	uint8_t *rbuf;

	if ((rbuf = malloc(BENCH_RBUF)) == NULL)
		return -1;
	while (b->done < b->count && !over_time(b))
		if (one_conn_lookup(b, rbuf) == -1)
			record(b, now_us() - conn_lat_start, 1, 1);
	free(rbuf);
	return 0;
}

/* pipe mode: latency from when a request was written to its answer,
 * found by id (the answers may come out of order). */
static double *pipe_sent;
static int pipe_out;

static void
pipe_answer(struct bench *b, uint32_t id, const struct proto_answer *a)
{
	double sent = id < (uint32_t)b->count ? pipe_sent[id] : now_us();

	record(b, now_us() - sent, a->status != CODNS_FOUND,
	    a->source != CODNS_SRC_CACHE);
	pipe_out--;
}

static int
pipe_fill(struct bench *b, int fd, uint32_t *next)
{
	uint8_t wbuf[BENCH_DEPTH_MAX * (PROTO_HDR_LEN + 8 + PROTO_NAME_MAX)];
	struct buf w;
	double t;

	buf_init_write(&w, wbuf, sizeof(wbuf));
	t = now_us();
	while (pipe_out < b->depth && (long)*next < b->count &&
	    !over_time(b)) {
		if (put_request(b, &w, *next) == -1)
			return -1;
		pipe_sent[*next] = t;
		(*next)++;
		pipe_out++;
	}
	return w.pos == 0 ? 0 : write_all(fd, wbuf, w.pos);
}

static int
run_pipe(struct bench *b)
{
	uint8_t *rbuf = NULL;
	size_t rlen = 0;
	uint32_t next = 0;
	int fd = -1, rc = -1;

	if ((rbuf = malloc(BENCH_RBUF)) == NULL ||
	    (pipe_sent = calloc((size_t)b->count, sizeof(double))) == NULL ||
	    (fd = connect_to(b)) == -1)
		goto done;
	for (;;) {
		if (pipe_fill(b, fd, &next) == -1)
			goto done;
		if (pipe_out == 0)
			break;
		if (read_frames(fd, rbuf, &rlen, pipe_answer, b) == -1)
			goto done;
	}
	rc = 0;
done:
	/* Requests never answered count as failures. */
	b->fails += pipe_out;
	if (fd != -1)
		close(fd);
	free(pipe_sent);
	free(rbuf);
	return rc;
}

static int
run_gai(struct bench *b)
{
	struct addrinfo hints, *res;
	double t;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	while (b->done < b->count && !over_time(b)) {
		t = now_us();
		r = getaddrinfo(b->names[b->done % b->nnames], NULL, &hints,
		    &res);
		record(b, now_us() - t, r != 0, 0);
		if (r == 0)
			freeaddrinfo(res);
	}
	return 0;
}

static void
report(struct bench *b)
{
	double secs = (now_us() - b->t0) / 1e6, p50 = 0, p99 = 0;

	if (b->done > 0) {
		qsort(b->lat_us, (size_t)b->done, sizeof(double), cmp_double);
		p50 = b->lat_us[(b->done - 1) * 50 / 100];
		p99 = b->lat_us[(b->done - 1) * 99 / 100];
	}
	printf("n=%ld fails=%ld notcache=%ld secs=%.3f per_s=%.0f "
	    "p50_us=%.1f p99_us=%.1f\n", b->done, b->fails, b->notcache,
	    secs, secs > 0 ? b->done / secs : 0, p50, p99);
}

int
main(int argc, char *argv[])
{
	struct bench b;
	const char *addr = CODNS_DEFAULT_ADDRESS;
	int ch, rc = -1;

	memset(&b, 0, sizeof(b));
	b.count = 20000;
	b.depth = 32;
	b.cap_s = 60;
	if (argc < 2)
		usage();
	b.mode = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "a:n:D:T:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'n':
			b.count = atol(optarg);
			break;
		case 'D':
			b.depth = atoi(optarg);
			break;
		case 'T':
			b.cap_s = atof(optarg);
			break;
		default:
			usage();
		}
	}
	b.names = argv + optind;
	b.nnames = argc - optind;
	if (b.nnames < 1 || b.count < 1 || b.count > BENCH_COUNT_MAX ||
	    b.depth < 1 || b.depth > BENCH_DEPTH_MAX || b.cap_s <= 0)
		usage();
	if (strcmp(b.mode, "gai") != 0 && parse_addr(addr, &b) == -1) {
		fprintf(stderr, "codns_bench: bad address %s\n", addr);
		return 2;
	}
	if ((b.lat_us = calloc((size_t)b.count, sizeof(double))) == NULL) {
		perror("codns_bench");
		return 2;
	}
	b.t0 = now_us();
	if (strcmp(b.mode, "conn") == 0)
		rc = run_conn(&b);
	else if (strcmp(b.mode, "pipe") == 0)
		rc = run_pipe(&b);
	else if (strcmp(b.mode, "gai") == 0)
		rc = run_gai(&b);
	else
		usage();
	if (rc == -1)
		perror("codns_bench");
	report(&b);
	free(b.lat_us);
	return rc == -1 ? 1 : 0;
}
