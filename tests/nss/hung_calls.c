/* SPDX-License-Identifier: MIT */
/* tests/nss/hung_calls.c: counts resolver calls that waited for codnsd. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * usage: hung_calls N NAME
 * Makes N getaddrinfo(NAME, AF_INET) calls in this one process and times
 * each. A call "waited" when it took longer than half the module's
 * timeout (CODNS_TIMEOUT_MS, default 2000): with codnsd stopped, that is a
 * call that sat out the timeout rather than one answered from the
 * module's hung-daemon memory. Prints "waited=K fast=M mean_ms=X" (the
 * counts are what run_real.sh asserts; the mean is for the note) and
 * exits 0.
 */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int
main(int argc, char *argv[])
{
	struct addrinfo hints, *res;
	const char *t = getenv("CODNS_TIMEOUT_MS");
	double half, t0, dt, total = 0;
	int i, n, waited = 0;

	if (argc != 3 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: hung_calls N NAME\n");
		return 2;
	}
	half = (t != NULL && atoi(t) > 0 ? atoi(t) : 2000) / 2.0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if (getaddrinfo(argv[2], NULL, &hints, &res) == 0)
			freeaddrinfo(res);
		dt = now_ms() - t0;
		total += dt;
		if (dt > half)
			waited++;
	}
	printf("waited=%d fast=%d mean_ms=%.1f\n", waited, n - waited,
	    total / n);
	return 0;
}
