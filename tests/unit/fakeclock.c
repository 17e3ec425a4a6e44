/* SPDX-License-Identifier: MIT */
/* tests/unit/fakeclock.c: a fake monotonic clock with one-shot timers. */
#include "fakeclock.h"

#include <string.h>

uint64_t
fakeclock_now_us(void *clock)
{
	return *((struct fakeclock *)clock)->now;
}

void *
fakeclock_timer_new(void *clock, void (*cb)(void *), void *arg)
{
	struct fakeclock *c = clock;
	size_t i;

	for (i = 0; i < FAKECLOCK_TIMERS; i++)
		if (!c->timers[i].used) {
			memset(&c->timers[i], 0, sizeof(c->timers[i]));
			c->timers[i].clock = c;
			c->timers[i].used = 1;
			c->timers[i].cb = cb;
			c->timers[i].arg = arg;
			return &c->timers[i];
		}
	return NULL;
}

void
fakeclock_timer_start(void *timer, uint64_t after_us)
{
	struct fakeclock_timer *t = timer;

	t->armed = 1;
	t->at = *t->clock->now + after_us;
}

void
fakeclock_timer_stop(void *timer)
{
	((struct fakeclock_timer *)timer)->armed = 0;
}

void
fakeclock_timer_free(void *timer)
{
	struct fakeclock_timer *t = timer;

	if (t != NULL)
		t->used = t->armed = 0;
}

void
fakeclock_advance(struct fakeclock *c, uint64_t ms)
{
	uint64_t end = *c->now + ms * 1000;
	struct fakeclock_timer *next;
	size_t i;

	for (;;) {
		next = NULL;
		for (i = 0; i < FAKECLOCK_TIMERS; i++)
			if (c->timers[i].used && c->timers[i].armed &&
			    c->timers[i].at <= end &&
			    (next == NULL || c->timers[i].at < next->at))
				next = &c->timers[i];
		if (next == NULL)
			break;
		if (next->at > *c->now)
			*c->now = next->at;
		next->armed = 0;
		next->cb(next->arg);
	}
	*c->now = end;
}

size_t
fakeclock_in_use(const struct fakeclock *c)
{
	size_t i, n = 0;

	for (i = 0; i < FAKECLOCK_TIMERS; i++)
		n += (size_t)c->timers[i].used;
	return n;
}
