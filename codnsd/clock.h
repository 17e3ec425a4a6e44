/* SPDX-License-Identifier: MIT */
/* codnsd/clock.h: the daemon's one notion of time. */
#ifndef CODNSD_CLOCK_H
#define CODNSD_CLOCK_H

#include <ev.h>
#include <stdint.h>
#include <time.h>

/*
 * Two clocks. Loop time (ev_now(): the time the current loop iteration
 * started) for every duration, deadline and latency inside the daemon:
 * free to read, and the same for every callback of one iteration. Wall
 * time, read fresh, for what leaves the node or is shown by the hour: peer
 * protocol timestamps, heartbeat send times, the per-hour counts.
 */

/* The wall clock in ms since the epoch. */
static inline uint64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t
clock_loop_us(struct ev_loop *loop)
{
	return (uint64_t)(ev_now(loop) * 1e6);
}

static inline uint64_t
clock_loop_ms(struct ev_loop *loop)
{
	return (uint64_t)(ev_now(loop) * 1e3);
}

#endif
