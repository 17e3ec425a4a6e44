/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_health.c: nameserver health figures and probes. */
#include "upstream_int.h"

#include <stdlib.h>

#include "clock.h"

#define UPSTREAM_PROBE_CHECK_S 1.0 /* look for silence this often */

#define UPSTREAM_PROBE_NAME "codns-probe.invalid"

enum upstream_verdict
upstream_verdict(int status, int asked, int probe)
{
	if (!asked)
		return UPSTREAM_UNCOUNTED;
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return UPSTREAM_ALIVE;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
	case ARES_EFORMERR:
	case ARES_EBADRESP:
		return probe ? UPSTREAM_ALIVE : UPSTREAM_FAILED;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
		return UPSTREAM_FAILED;
	default:
		return UPSTREAM_UNCOUNTED;
	}
}

/* Smoothed health, 1/8 weight for the newest sample as TCP's SRTT. */
void
upstream_account(struct upstream *up, uint64_t start,
    enum upstream_verdict v)
{
	struct upstream_health *h = &up->health;
	uint64_t now = clock_loop_ms(up->loop);
	uint32_t ms = (uint32_t)(now - start);
	int ok = v == UPSTREAM_ALIVE;

	if (v == UPSTREAM_UNCOUNTED)
		return;
	h->queries++;
	h->last_ms = now;
	if (ok)
		h->mean_ms = h->queries == 1 ? ms : (h->mean_ms * 7 + ms) / 8;
	else
		h->failures++;
	h->fail_permille = (h->fail_permille * 7 + (ok ? 0 : 1000)) / 8;
}

/* Without traffic the health figures that heartbeats carry would go stale;
 * a probe after a quiet spell keeps them true. */
void
upstream_probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upstream *up = w->data;
	const struct upstream_health *h = &up->health;

	if (h->queries == 0 ||
	    clock_loop_ms(loop) - h->last_ms >= up->probe_idle_ms)
		upstream_probe(up);
}

void
upstream_probe_idle(struct upstream *up, uint32_t idle_ms)
{
	double check = UPSTREAM_PROBE_CHECK_S;

	ev_timer_stop(up->loop, &up->probe);
	up->probe_idle_ms = idle_ms;
	if (idle_ms == 0)
		return;
	if (check > idle_ms / 1000.0)
		check = idle_ms / 1000.0;
	ev_timer_set(&up->probe, check, check);
	ev_timer_start(up->loop, &up->probe);
}

static void
upstream_probe_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;

	upstream_account(q->chan->up, q->start_ms,
	    upstream_verdict(status, 1, 1));
	upstream_query_free(q);
}

void
upstream_probe(struct upstream *up)
{
	struct upstream_query *q;
	struct upstream_chan *chan = up->probe_chan;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return;
	q->chan = chan;
	q->start_ms = clock_loop_ms(up->loop);
	chan->pending++;
	/* A name no server serves (RFC 6761 sec. 6.4: resolvers answer
	 * "invalid." themselves), so the reply says nothing about the
	 * server's zones or upstreams, only that it answers. */
	ares_query(chan->ch, UPSTREAM_PROBE_NAME, 1 /* C_IN */, 1 /* T_A */,
	    upstream_probe_cb, q);
	upstream_chan_arm(chan);
}
