/* SPDX-License-Identifier: MIT */
/* peers/delay.c: the adaptive initial delay and peer backoff of CoDNS. */
#include "delay.h"

#include <string.h>

static unsigned
delay_popcount(uint32_t x)
{
	unsigned n = 0;

	while (x) {
		x &= x - 1;
		n++;
	}
	return n;
}

/* Floor of the square root, by Newton's method; no libm in libpeers. */
static uint64_t
delay_isqrt(uint64_t v)
{
	uint64_t x, y;

	if (v < 2)
		return v;
	x = v;
	y = (x + 1) / 2;
	while (y < x) {
		x = y;
		y = (x + v / x) / 2;
	}
	return x;
}

static uint32_t
delay_window_mask(const struct delay *d, unsigned window)
{
	unsigned n = d->nhist < window ? d->nhist : window;

	return n >= 32 ? UINT32_MAX : (UINT32_C(1) << n) - 1;
}

void
delay_init(struct delay *d, uint32_t max_ms)
{
	memset(d, 0, sizeof(*d));
	d->max_ms = max_ms;
}

void
delay_set_max(struct delay *d, uint32_t max_ms)
{
	d->max_ms = max_ms;
}

void
delay_record(struct delay *d, enum delay_outcome out, uint32_t peer_latency_ms)
{
	d->local_bits <<= 1;
	d->peer_bits <<= 1;
	if (d->nhist < DELAY_HEALTHY_WINDOW)
		d->nhist++;
	switch (out) {
	case DELAY_OUT_LOCAL:
		d->local_bits |= 1;
		d->total_local++;
		break;
	case DELAY_OUT_PEER:
		d->peer_bits |= 1;
		d->total_peer++;
		if (peer_latency_ms > DELAY_LATENCY_CAP_MS)
			peer_latency_ms = DELAY_LATENCY_CAP_MS;
		d->lat[d->latpos] = peer_latency_ms;
		d->latpos = (d->latpos + 1) % DELAY_SAMPLES;
		if (d->nlat < DELAY_SAMPLES)
			d->nlat++;
		break;
	case DELAY_OUT_FAIL:
	default:
		d->total_fail++;
		break;
	}
}

void
delay_record_local(struct delay *d)
{
	delay_record(d, DELAY_OUT_LOCAL, 0);
}

void
delay_record_peer_win(struct delay *d, uint32_t peer_latency_ms)
{
	delay_record(d, DELAY_OUT_PEER, peer_latency_ms);
}

void
delay_record_fail(struct delay *d)
{
	delay_record(d, DELAY_OUT_FAIL, 0);
}

/* Sort a few hundred values at most: insertion sort, no libc qsort. */
static void
delay_sort(uint32_t *v, unsigned n)
{
	unsigned i, j;
	uint32_t x;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

void
delay_record_local_latency(struct delay *d, uint32_t local_us)
{
	uint32_t tmp[DELAY_LOCAL_SAMPLES];
	unsigned rank;

	d->loc_us[d->locpos] = local_us;
	d->locpos = (d->locpos + 1) % DELAY_LOCAL_SAMPLES;
	if (d->nloc < DELAY_LOCAL_SAMPLES)
		d->nloc++;
	if (d->nloc < DELAY_LOCAL_MIN)
		return;
	/* Once the window is full the percentile moves slowly: sorting on
	 * every eighth sample keeps the cost per lookup small and the hedge
	 * at most 8 samples old. */
	if (d->nloc == DELAY_LOCAL_SAMPLES && d->locpos % 8 != 0)
		return;
	memcpy(tmp, d->loc_us, d->nloc * sizeof(tmp[0]));
	delay_sort(tmp, d->nloc);
	/* Nearest rank: the smallest value with 99 % at or below it. */
	rank = (d->nloc * 99 + 99) / 100;
	d->loc_p99_us = tmp[rank - 1];
}

uint32_t
delay_hedge(const struct delay *d)
{
	uint64_t v;

	if (d->nloc < DELAY_LOCAL_MIN)
		return d->max_ms;
	v = ((uint64_t)d->loc_p99_us * DELAY_HEDGE_MARGIN + 999) / 1000;
	if (v < DELAY_ADAPTIVE_FLOOR_MS)
		v = DELAY_ADAPTIVE_FLOOR_MS;
	return v > d->max_ms ? d->max_ms : (uint32_t)v;
}

/* Mean and population standard deviation of the kept peer latencies. */
static void
delay_latency(const struct delay *d, uint32_t *mean, uint32_t *sd)
{
	uint64_t n = d->nlat, sum = 0, sumsq = 0, var;
	unsigned i;

	*mean = *sd = 0;
	if (n == 0)
		return;
	for (i = 0; i < d->nlat; i++) {
		sum += d->lat[i];
		sumsq += (uint64_t)d->lat[i] * d->lat[i];
	}
	/* Latencies are capped at 2^24, so n * sumsq and sum^2 fit. */
	var = (n * sumsq - sum * sum) / (n * n);
	*mean = (uint32_t)((sum + n / 2) / n);
	*sd = (uint32_t)delay_isqrt(var);
}

void
delay_local_sent(struct delay *d, uint64_t now_ms)
{
	if (!d->quiet) {
		d->quiet = 1;
		d->quiet_ms = now_ms;
	}
}

void
delay_local_answered(struct delay *d)
{
	d->quiet = 0;
}

void
delay_local_unsent(struct delay *d, uint64_t sent_ms)
{
	if (d->quiet && d->quiet_ms == sent_ms)
		d->quiet = 0;
}

uint32_t
delay_current(const struct delay *d, uint64_t now_ms,
    enum delay_reason *reason)
{
	uint32_t m16 = delay_window_mask(d, DELAY_PEER_WINDOW);
	uint32_t m32 = delay_window_mask(d, DELAY_HEALTHY_WINDOW);
	uint32_t mean, sd, v;
	enum delay_reason r;

	if (delay_popcount(d->peer_bits & m16) * 2 > DELAY_PEER_WINDOW) {
		r = DELAY_PEERS_WINNING;
		v = 0;
	} else if (d->quiet && now_ms >= d->quiet_ms &&
	    now_ms - d->quiet_ms >= delay_hedge(d)) {
		r = DELAY_LOCAL_SILENT;
		v = 0;
	} else if ((d->local_bits & m32) == m32) {
		r = d->nhist >= DELAY_HEALTHY_WINDOW ? DELAY_HEALTHY :
		    DELAY_STARTING;
		v = delay_hedge(d);
	} else {
		r = DELAY_ADAPTIVE;
		delay_latency(d, &mean, &sd);
		/* Never ask a peer before a healthy local nameserver would
		 * have answered: where peers are as fast as the local
		 * nameserver (a LAN, loopback), mean + sd alone lets peers
		 * win coin tosses and the node never returns to healthy. */
		if (d->nlat == 0 || (uint64_t)mean + sd > d->max_ms)
			v = d->max_ms;
		else
			v = mean + sd;
		if (v < DELAY_ADAPTIVE_FLOOR_MS)
			v = d->max_ms < DELAY_ADAPTIVE_FLOOR_MS ?
			    d->max_ms : DELAY_ADAPTIVE_FLOOR_MS;
	}
	if (reason != NULL)
		*reason = r;
	return v;
}

const char *
delay_reason_name(enum delay_reason r)
{
	switch (r) {
	case DELAY_STARTING:
		return "starting";
	case DELAY_HEALTHY:
		return "healthy";
	case DELAY_PEERS_WINNING:
		return "peers-winning";
	case DELAY_ADAPTIVE:
		return "adaptive";
	case DELAY_LOCAL_SILENT:
		return "local-silent";
	}
	return "unknown";
}

void
delay_get_stats(const struct delay *d, struct delay_stats *st)
{
	uint32_t m16 = delay_window_mask(d, DELAY_PEER_WINDOW);
	uint32_t m32 = delay_window_mask(d, DELAY_HEALTHY_WINDOW);

	memset(st, 0, sizeof(*st));
	st->local16 = delay_popcount(d->local_bits & m16);
	st->peer16 = delay_popcount(d->peer_bits & m16);
	st->fail16 = delay_popcount(m16) - st->local16 - st->peer16;
	st->local32 = delay_popcount(d->local_bits & m32);
	st->peer32 = delay_popcount(d->peer_bits & m32);
	st->fail32 = delay_popcount(m32) - st->local32 - st->peer32;
	st->lookups = d->nhist;
	st->samples = d->nlat;
	delay_latency(d, &st->peer_mean_ms, &st->peer_sd_ms);
	st->total_local = d->total_local;
	st->total_peer = d->total_peer;
	st->total_fail = d->total_fail;
	st->local_samples = d->nloc;
	st->local_p99_us = d->nloc >= DELAY_LOCAL_MIN ? d->loc_p99_us : 0;
	st->hedge_ms = delay_hedge(d);
}

uint32_t
delay_step_min(const struct delay *d)
{
	uint64_t mean_sd;
	uint32_t mean, sd;

	delay_latency(d, &mean, &sd);
	mean_sd = (uint64_t)mean + sd + DELAY_STEP_SLACK_MS;
	if (mean_sd < DELAY_STEP_FLOOR_MS)
		return DELAY_STEP_FLOOR_MS;
	return mean_sd > UINT32_MAX ? UINT32_MAX : (uint32_t)mean_sd;
}

uint32_t
delay_backoff_at(uint32_t initial, uint32_t step_min, unsigned k)
{
	uint64_t b = initial > step_min ? initial : step_min;
	uint64_t t;

	if (b < DELAY_STEP_FLOOR_MS)
		b = DELAY_STEP_FLOOR_MS;

	if (k == 0)
		return initial;
	if (k >= 32)
		return UINT32_MAX;
	if (initial == 0)
		/* After an immediate query the delay becomes b, then
		 * doubles (CoDNS 4.1): b + 2b + ... = b (2^k - 1). */
		t = b * ((UINT64_C(1) << k) - 1);
	else
		/* d + 2b + 4b + ... + 2^k b = d + b (2^(k+1) - 2) */
		t = (uint64_t)initial + b * ((UINT64_C(1) << (k + 1)) - 2);
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}
