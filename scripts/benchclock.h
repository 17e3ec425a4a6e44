/* SPDX-License-Identifier: MIT */
/* scripts/benchclock.h: the C benchmarks' clock and latency order. */
#ifndef CODNS_BENCHCLOCK_H
#define CODNS_BENCHCLOCK_H

#include <time.h>

/* Monotonic time in microseconds. */
static inline double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* qsort's order for an array of doubles (latencies). */
static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
