/* SPDX-License-Identifier: MIT */
/* tests/nss/shm_bench.c: the cost of one shared-table hit, in process. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../scripts/benchclock.h"
#include "nss_shm.h"
#include "shm.h"

/*
 * usage: shm_bench [-n COUNT] [-r ROUNDS] [NAME]
 * A benchmark, not a test: codnsd's writer (codnsd/core/shm.c) publishes
 * one answer (NAME, default web.codns.test: one IPv4 address, as
 * scripts/bench_nss.sh serves) in a table in a new directory under /tmp,
 * then COUNT hits are timed, ROUNDS times, through the reader alone
 * (shmtab_find(), the key made each time) and through the NSS module's
 * nss_shm_ask() (mapping, liveness, resolv.conf check, result). Prints
 * per round "find_ns=X ask_ns=Y", then the medians of the rounds.
 */

static int
cmp_double_p(const void *a, const void *b)
{
	return cmp_double(a, b);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double_p);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
publish(struct shm *s, const char *name)
{
	uint8_t blob[PROTO_FRAME_MAX];
	struct proto_answer a;
	struct shmtab_key k;
	struct buf b;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.source = CODNS_SRC_LOCAL;
	a.ttl = 300;
	snprintf(a.cname, sizeof(a.cname), "%s", name);
	a.naddrs = 1;
	a.addrs[0].family = CODNS_AF_INET;
	memcpy(a.addrs[0].a, "\xc0\x00\x02\x33", 4);
	buf_init_write(&b, blob, sizeof(blob));
	if (proto_answer_put(&b, &a) == -1 ||
	    shmtab_key_name(&k, CODNS_AF_UNSPEC, name) == -1)
		return -1;
	shm_put(s, &k, blob, b.pos, 300, shmtab_now_ms());
	shm_beat(s, shmtab_now_ms(), NULL);
	return 0;
}

/* ns per shmtab_find() hit over n calls; -1 on a miss. */
static double
time_find(const struct shm *s, const char *name, long n)
{
	struct proto_answer *out = malloc(sizeof(*out));
	struct shmtab_view v;
	struct shmtab_key k;
	const void *base;
	size_t size;
	double t0, t;
	long i, hits = 0;

	base = shm_base(s, &size);
	if (out == NULL || shmtab_view_init(&v, base, size) == -1) {
		free(out);
		return -1;
	}
	t0 = now_us();
	for (i = 0; i < n; i++)
		hits += shmtab_key_name(&k, CODNS_AF_UNSPEC, name) == 0 &&
		    shmtab_find(&v, &k, shmtab_now_ms(), out) == 1;
	t = now_us() - t0;
	free(out);
	return hits == n ? t * 1000 / (double)n : -1;
}

/* ns per nss_shm_ask() hit over n calls; -1 on a miss. */
static double
time_ask(const char *name, long n)
{
	struct codns_result *r;
	double t0, t;
	long i, hits = 0;

	t0 = now_us();
	for (i = 0; i < n; i++) {
		if (nss_shm_ask(name, CODNS_AF_UNSPEC, NULL, &r) == 1)
			hits++;
		codns_result_free(r);
	}
	t = now_us() - t0;
	return hits == n ? t * 1000 / (double)n : -1;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/shm_bench.XXXXXX", path[64], err[256];
	double find[64], ask[64];
	const char *name = "web.codns.test";
	long n = 200000;
	int ch, rounds = 5, r, rc = 1;
	struct shm *s = NULL;

	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		switch (ch) {
		case 'n':
			n = atol(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: shm_bench [-n COUNT] "
					"[-r ROUNDS] [NAME]\n");
			return 2;
		}
	}
	if (optind < argc)
		name = argv[optind];
	if (n < 1 || rounds < 1 || rounds > 64 || mkdtemp(dir) == NULL)
		return 2;
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/answers.shm", dir);
	setenv("CODNS_SHM_PATH", path, 1);
	if ((s = shm_new(path, 10000, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "shm_bench: %s\n", err);
		goto done;
	}
	if (publish(s, name) == -1)
		goto done;
	for (r = 0; r < rounds; r++) {
		find[r] = time_find(s, name, n);
		ask[r] = time_ask(name, n);
		if (find[r] < 0 || ask[r] < 0) {
			fprintf(stderr, "shm_bench: a lookup missed\n");
			goto done;
		}
		printf("round=%d find_ns=%.1f ask_ns=%.1f\n", r + 1, find[r],
		    ask[r]);
	}
	printf("calls=%ld rounds=%d find_ns=%.1f ask_ns=%.1f\n", n, rounds,
	    median(find, rounds), median(ask, rounds));
	rc = 0;
done:
	shm_free(s);
	rmdir(dir);
	return rc;
}
