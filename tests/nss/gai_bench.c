/* SPDX-License-Identifier: MIT */
/* tests/nss/gai_bench.c: getaddrinfo() latency percentiles and rate. */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../scripts/benchclock.h"

/*
 * usage: gai_bench [-n COUNT] [-w WARMUP] [-f 4|6|0] [-m MODULE] NAME
 * Resolves NAME COUNT times in a row, one thread, and prints
 * "calls=N fails=F p50_us=X p99_us=Y per_s=Z". A benchmark, not a test.
 * With -m, the module's _nss_*_gethostbyname4_r is called directly
 * (dlopen), without glibc's getaddrinfo and nsswitch around it: the
 * module's own share of the cost.
 */

static nss_gethostbyname4_r *mod_n4;

static int
one_module(const char *name)
{
	struct gaih_addrtuple *pat = NULL;
	char buf[1024];
	int err, herr;
	int32_t ttl;

	return mod_n4(name, &pat, buf, sizeof(buf), &err, &herr, &ttl) ==
		NSS_STATUS_SUCCESS ? 0 : -1;
}

static int
one(const char *name, int family)
{
	struct addrinfo hints, *res;

	if (mod_n4 != NULL)
		return one_module(name);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -1;
	freeaddrinfo(res);
	return 0;
}

int
main(int argc, char **argv)
{
	double *lat, t0, start;
	long n = 2000, warm = 50, i, fails = 0;
	int ch, family = AF_UNSPEC;
	void *h;

	while ((ch = getopt(argc, argv, "n:w:f:m:")) != -1) {
		switch (ch) {
		case 'n':
			n = atol(optarg);
			break;
		case 'w':
			warm = atol(optarg);
			break;
		case 'f':
			family = atoi(optarg) == 4 ? AF_INET :
			    atoi(optarg) == 6 ? AF_INET6 : AF_UNSPEC;
			break;
		case 'm':
			if ((h = dlopen(optarg, RTLD_NOW)) == NULL ||
			    (mod_n4 = (nss_gethostbyname4_r *)dlsym(h,
				 "_nss_codns_gethostbyname4_r")) == NULL) {
				fprintf(stderr, "gai_bench: %s\n", dlerror());
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || n < 1 || n > 10000000 || warm < 0)
		goto usage;
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		return 1;
	for (i = 0; i < warm; i++)
		one(argv[optind], family);
	start = now_us();
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (one(argv[optind], family) == -1)
			fails++;
		lat[i] = now_us() - t0;
	}
	t0 = now_us() - start;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("calls=%ld fails=%ld p50_us=%.2f p99_us=%.2f per_s=%.0f\n", n,
	    fails, lat[n / 2], lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
	    n / (t0 / 1e6));
	free(lat);
	return fails == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: gai_bench [-n count] [-w warmup] [-f 4|6|0] "
			"[-m module] name\n");
	return 2;
}
