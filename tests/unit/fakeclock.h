/* SPDX-License-Identifier: MIT */
/* tests/unit/fakeclock.h: a fake monotonic clock with one-shot timers, for
 * the env structs of lookup and peernet: time moves only when told. */
#ifndef CODNS_FAKECLOCK_H
#define CODNS_FAKECLOCK_H

#include <stddef.h>
#include <stdint.h>

#define FAKECLOCK_TIMERS 256

struct fakeclock;

struct fakeclock_timer {
	struct fakeclock *clock;
	int used, armed;
	uint64_t at; /* us */
	void (*cb)(void *arg);
	void *arg;
};

struct fakeclock {
	uint64_t *now; /* the test's clock, in us */
	struct fakeclock_timer timers[FAKECLOCK_TIMERS];
};

/* The env callbacks; clock is a struct fakeclock *. */
uint64_t fakeclock_now_us(void *clock);
void *fakeclock_timer_new(void *clock, void (*cb)(void *), void *arg);
void fakeclock_timer_start(void *timer, uint64_t after_us);
void fakeclock_timer_stop(void *timer);
void fakeclock_timer_free(void *timer);

/* Those, as designated initialisers of an env struct (clock: a struct
 * fakeclock *). */
#define FAKECLOCK_ENV(clk)                                              \
	.clock = (clk), .now_us = fakeclock_now_us,                     \
	.timer_new = fakeclock_timer_new,                               \
	.timer_start = fakeclock_timer_start,                           \
	.timer_stop = fakeclock_timer_stop, .timer_free = fakeclock_timer_free

/* The loop: run the timers due up to now + ms, in order, then stop at
 * now + ms. */
void fakeclock_advance(struct fakeclock *, uint64_t ms);
/* Timers not freed. */
size_t fakeclock_in_use(const struct fakeclock *);

#endif
