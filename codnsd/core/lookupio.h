/* SPDX-License-Identifier: MIT */
/* codnsd/core/lookupio.h: lookup's real collaborators: libev, cache, upstream,
 * peernet and stats behind struct lookup_env. */
#ifndef CODNSD_LOOKUPIO_H
#define CODNSD_LOOKUPIO_H

#include "lookup.h"

struct codnsd;
struct conf;

/* A lookup module wired to d's loop, cache, upstream, peernet and stats,
 * each followed through d: main may free them in any order (clearing its
 * pointer), and peernet may come later with a peers file. */
struct lookup *lookupio_new(struct codnsd *d);
/* The clock and one-shot libev timers of lookup_env (clock: the ev_loop),
 * also peernet's (peernet_env). */
uint64_t lookupio_now_us(void *loop);
void *lookupio_timer_new(void *loop, lookup_timer_cb *, void *arg);
void lookupio_timer_start(void *timer, uint64_t after_us);
void lookupio_timer_stop(void *timer);
void lookupio_timer_free(void *timer);
/* Those, as designated initialisers of an env struct. */
#define LOOKUPIO_CLOCK(loop)                                            \
	.clock = (loop), .now_us = lookupio_now_us,                     \
	.timer_new = lookupio_timer_new,                                \
	.timer_start = lookupio_timer_start,                            \
	.timer_stop = lookupio_timer_stop, .timer_free = lookupio_timer_free
void lookupio_conf(const struct conf *, struct lookup_conf *);

#endif
