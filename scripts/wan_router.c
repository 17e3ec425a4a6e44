/* SPDX-License-Identifier: MIT */
/* scripts/wan_router.c: user-space WAN emulator between network namespaces. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: wan_router CONFIG
 *
 * Kernel netem is not available where codns is tested, so this process
 * plays the wide-area network for scripts/wan_lib.sh. For each endpoint
 * it enters the endpoint's network namespace, creates a TUN device
 * "wan0" there and keeps its descriptor; every IPv4 packet a namespace
 * sends into wan0 is read here, held for the one-way delay of its site
 * pair plus jitter (or dropped, with the loss probability), then written
 * into the destination's wan0. CONFIG lines:
 *   endpoint NETNS_PATH A.B.C.D SITE   (SITE 0..WAN_SITES-1)
 *   delay SITE SITE ONEWAY_US          (both directions)
 *   jitter PERMILLE                    (mean of an exponential extra
 *                                       delay, in permille of the one-way
 *                                       delay, at least 10 us)
 *   loss PPM                           (per packet, parts per million)
 *   seed N
 *   stats FILE                         (rewritten every second)
 *   burst SECONDS EXTRA_US             (after SIGUSR1, for SECONDS, every
 *                                       packet waits up to EXTRA_US more,
 *                                       uniformly: a congested start)
 * Packets of one endpoint pair leave in the order they came (a path does
 * not reorder). The stats file starts with "time_ns T" (CLOCK_MONOTONIC
 * when it was written), then one line per endpoint:
 *   ADDR packets_sent heartbeats acks queries answers cannots dropped echoes
 * counting what the endpoint sent; the codns peer datagrams (UDP, magic
 * 0xC0D5, man/codns-protocol.7) are counted by type.
 * "ready" on stdout once every device exists; SIGTERM stops it.
 */

#define WAN_ENDPOINTS 256
#define WAN_SITES 64
#define WAN_QUEUE_MAX 200000
#define WAN_PKT_MAX 2048
#define WAN_PEER_PORT 7053

struct endpoint {
	int fd;
	uint32_t addr; /* host order */
	int site;
	uint64_t sent, kind[7], dropped;
};

struct pkt {
	uint64_t due_ns;
	int dst;
	uint16_t len;
	uint8_t data[];
};

static struct endpoint ep[WAN_ENDPOINTS];
static int nep;
static uint32_t oneway_us[WAN_SITES][WAN_SITES];
static uint64_t last_due[WAN_ENDPOINTS][WAN_ENDPOINTS];
static uint32_t jitter_permille = 20, loss_ppm, burst_secs, burst_us;
static uint64_t burst_until;
static const char *stats_path;
static struct pkt **heap;
static size_t nheap;
static volatile sig_atomic_t stop, burst_asked;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "wan_router: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
heap_push(struct pkt *p)
{
	size_t i = nheap++, up;

	heap[i] = p;
	while (i > 0) {
		up = (i - 1) / 2;
		if (heap[up]->due_ns <= heap[i]->due_ns)
			break;
		heap[i] = heap[up];
		heap[up] = p;
		i = up;
	}
}

static struct pkt *
heap_pop(void)
{
	struct pkt *top = heap[0], *t;
	size_t i = 0, l, m;

	heap[0] = heap[--nheap];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < nheap && heap[l]->due_ns < heap[m]->due_ns)
			m = l;
		if (l + 1 < nheap && heap[l + 1]->due_ns < heap[m]->due_ns)
			m = l + 1;
		if (m == i)
			break;
		t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
	return top;
}

/* A TUN device "wan0" inside the namespace at path, without packet info. */
static int
tun_open_in(const char *path, int home)
{
	struct ifreq ifr;
	int nsfd, fd;

	if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die(path);
	if (setns(nsfd, CLONE_NEWNET) == -1)
		die("setns");
	close(nsfd);
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "wan0");
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		die("TUNSETIFF");
	if (setns(home, CLONE_NEWNET) == -1)
		die("setns home");
	return fd;
}

static void
config_read(const char *path)
{
	char line[512], a[256], b[64];
	unsigned s1, s2, v, o[4];
	FILE *f;
	int home;

	if ((f = fopen(path, "r")) == NULL)
		die(path);
	if ((home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		die("/proc/self/ns/net");
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "endpoint %255s %63s %u", a, b, &s1) == 3) {
			if (nep == WAN_ENDPOINTS || s1 >= WAN_SITES ||
			    sscanf(b, "%u.%u.%u.%u", &o[0], &o[1], &o[2],
				&o[3]) != 4) {
				fprintf(stderr, "wan_router: bad: %s", line);
				exit(1);
			}
			ep[nep].addr = o[0] << 24 | o[1] << 16 | o[2] << 8 |
			    o[3];
			ep[nep].site = (int)s1;
			ep[nep].fd = tun_open_in(a, home);
			nep++;
		} else if (sscanf(line, "delay %u %u %u", &s1, &s2, &v) == 3 &&
		    s1 < WAN_SITES && s2 < WAN_SITES) {
			oneway_us[s1][s2] = oneway_us[s2][s1] = v;
		} else if (sscanf(line, "jitter %u", &v) == 1) {
			jitter_permille = v;
		} else if (sscanf(line, "loss %u", &v) == 1) {
			loss_ppm = v;
		} else if (sscanf(line, "burst %u %u", &s1, &v) == 2) {
			burst_secs = s1;
			burst_us = v;
		} else if (sscanf(line, "seed %u", &v) == 1) {
			srand48(v);
		} else if (sscanf(line, "stats %255s", a) == 1) {
			stats_path = strdup(a);
		} else if (line[0] != '#' && line[0] != '\n') {
			fprintf(stderr, "wan_router: bad: %s", line);
			exit(1);
		}
	}
	fclose(f);
	close(home);
}

static int
endpoint_of(uint32_t addr)
{
	int i;

	for (i = 0; i < nep; i++)
		if (ep[i].addr == addr)
			return i;
	return -1;
}

/* Counts codns peer datagrams by type (man/codns-protocol.7). */
static void
count_kind(struct endpoint *e, const uint8_t *p, size_t len)
{
	size_t ihl;
	unsigned dport;

	if (len < 20 || p[9] != 17)
		return;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (len < ihl + 8 + 4)
		return;
	dport = (unsigned)p[ihl + 2] << 8 | p[ihl + 3];
	if (dport != WAN_PEER_PORT && ((unsigned)p[ihl] << 8 | p[ihl + 1]) !=
	    WAN_PEER_PORT)
		return;
	p += ihl + 8;
	if (p[0] == 0xC0 && p[1] == 0xD5 && p[3] >= 1 && p[3] <= 6)
		e->kind[p[3]]++;
}

static uint64_t
delay_ns(int s, int d)
{
	double base = oneway_us[ep[s].site][ep[d].site] * 1000.0;
	double mean = base * jitter_permille / 1000.0, u;

	if (mean < 10000.0)
		mean = 10000.0;
	u = drand48();
	if (u < 1e-12)
		u = 1e-12;
	if (now_ns() < burst_until)
		base += drand48() * burst_us * 1000.0;
	return (uint64_t)(base - mean * log(u));
}

static void
receive(int s)
{
	uint8_t buf[WAN_PKT_MAX];
	struct pkt *p;
	ssize_t n;
	uint32_t dst;
	uint64_t due;
	int d, budget;

	for (budget = 0; budget < 256; budget++) {
		n = read(ep[s].fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		if (n < 20 || (buf[0] >> 4) != 4)
			continue;
		ep[s].sent++;
		count_kind(&ep[s], buf, (size_t)n);
		dst = (uint32_t)buf[16] << 24 | buf[17] << 16 | buf[18] << 8 |
		    buf[19];
		d = endpoint_of(dst);
		if (d < 0 || nheap == WAN_QUEUE_MAX ||
		    (loss_ppm && drand48() * 1e6 < loss_ppm)) {
			ep[s].dropped++;
			continue;
		}
		due = now_ns() + delay_ns(s, d);
		if (due < last_due[s][d])
			due = last_due[s][d];
		last_due[s][d] = due;
		if ((p = malloc(sizeof(*p) + (size_t)n)) == NULL) {
			ep[s].dropped++;
			continue;
		}
		p->due_ns = due;
		p->dst = d;
		p->len = (uint16_t)n;
		memcpy(p->data, buf, (size_t)n);
		heap_push(p);
	}
}

static void
stats_write(void)
{
	char tmp[300];
	FILE *f;
	int i;

	if (stats_path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "time_ns %llu\n", (unsigned long long)now_ns());
	for (i = 0; i < nep; i++)
		fprintf(f, "%u.%u.%u.%u %llu %llu %llu %llu %llu %llu %llu %llu\n",
		    ep[i].addr >> 24, ep[i].addr >> 16 & 255,
		    ep[i].addr >> 8 & 255, ep[i].addr & 255,
		    (unsigned long long)ep[i].sent,
		    (unsigned long long)ep[i].kind[1],
		    (unsigned long long)ep[i].kind[2],
		    (unsigned long long)ep[i].kind[3],
		    (unsigned long long)ep[i].kind[4],
		    (unsigned long long)ep[i].kind[5],
		    (unsigned long long)ep[i].dropped,
		    (unsigned long long)ep[i].kind[6]);
	fclose(f);
	rename(tmp, stats_path);
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
on_usr1(int sig)
{
	(void)sig;
	burst_asked = 1;
}

int
main(int argc, char *argv[])
{
	struct pollfd pfd[WAN_ENDPOINTS];
	struct timespec ts;
	struct pkt *p;
	uint64_t t, next_stats = 0, wait_ns;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: wan_router CONFIG\n");
		return 2;
	}
	srand48(1);
	config_read(argv[1]);
	if ((heap = calloc(WAN_QUEUE_MAX, sizeof(*heap))) == NULL)
		die("calloc");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGUSR1, on_usr1);
	for (i = 0; i < nep; i++) {
		pfd[i].fd = ep[i].fd;
		pfd[i].events = POLLIN;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		t = now_ns();
		if (burst_asked) {
			burst_asked = 0;
			burst_until = t + burst_secs * 1000000000ull;
		}
		while (nheap > 0 && heap[0]->due_ns <= t) {
			p = heap_pop();
			if (write(ep[p->dst].fd, p->data, p->len) != p->len)
				ep[p->dst].dropped++;
			free(p);
		}
		if (t >= next_stats) {
			stats_write();
			next_stats = t + 1000000000ull;
		}
		wait_ns = next_stats - t;
		if (nheap > 0 && heap[0]->due_ns - t < wait_ns)
			wait_ns = heap[0]->due_ns > t ? heap[0]->due_ns - t : 0;
		ts.tv_sec = (time_t)(wait_ns / 1000000000ull);
		ts.tv_nsec = (long)(wait_ns % 1000000000ull);
		if (ppoll(pfd, (nfds_t)nep, &ts, NULL) <= 0)
			continue;
		for (i = 0; i < nep; i++)
			if (pfd[i].revents & POLLIN)
				receive(i);
	}
	stats_write();
	return 0;
}
