/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_query.c: one query's life, request to callback. */
#include "upstream_int.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dnsmsg.h"
#include "stats.h"

/* A status c-ares gives without asking a nameserver: not theirs to count. */
int
upstream_refused(int status)
{
	return status == ARES_EBADNAME || status == ARES_EBADFAMILY ||
	    status == ARES_EBADFLAGS || status == ARES_EBADQUERY ||
	    status == ARES_ENONAME;
}

uint8_t
upstream_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return CODNS_FOUND;
	case ARES_ENOTFOUND:
		return CODNS_NOTFOUND;
	case ARES_ENODATA:
		return CODNS_NODATA;
	case ARES_EBADNAME:
	case ARES_EBADFAMILY:
	case ARES_EBADFLAGS:
	case ARES_EBADQUERY:
	case ARES_ENONAME:
		/* c-ares would not send it: no nameserver has it. */
		return CODNS_NOTFOUND;
	default:
		/* SERVFAIL, REFUSED, timeouts, destruction: temporary. */
		return CODNS_TRYAGAIN;
	}
}

/* A flattened response: big enough for any message (names expand). */
static uint8_t upstream_flat[128 * 1024];

int
upstream_flatten(struct upstream *up, const char *name, uint16_t qtype,
    const uint8_t *msg, size_t len, const uint8_t **flat, size_t *flatlen,
    uint8_t *rcode)
{
	struct buf b;
	uint16_t flags;

	buf_init_write(&b, upstream_flat, sizeof(upstream_flat));
	if (dnsmsg_response_flatten(msg, len, &b, &flags, rcode) == -1)
		return -1;
	*flat = upstream_flat;
	*flatlen = b.pos;
	if (up->keep_cb != NULL)
		up->keep_cb(up->keep_arg, name, qtype, *rcode, upstream_flat,
		    b.pos);
	return 0;
}

uint32_t
upstream_kept_ttl(const struct upstream_kept *k, uint32_t ttl)
{
	if (k == NULL)
		return ttl;
	ttl = ttl > k->age_s ? ttl - k->age_s : 0;
	return ttl < k->left_s ? ttl : k->left_s;
}

void
upstream_soa_seen(struct upstream_query *q, const uint8_t *flat, size_t len,
    const struct upstream_kept *k)
{
	struct buf b;
	struct dnsmsg_rr rr;
	uint32_t neg;

	buf_init_read(&b, flat, len);
	while (dnsmsg_flat_next(&b, &rr) == 1)
		if (rr.section == DNSMSG_NS && rr.type == DNSMSG_T_SOA &&
		    (neg = dnsmsg_soa_negttl(&rr)) != UINT32_MAX &&
		    (neg = upstream_kept_ttl(k, neg)) < q->neg_ttl)
			q->neg_ttl = neg;
}

/* A query is done: a draining channel with none left is reaped. */
void
upstream_query_free(struct upstream_query *q)
{
	struct upstream_chan *chan = q->chan;
	struct upstream *up = chan->up;

	chan->pending--;
	free(q);
	if (chan != up->cur && chan != up->probe_chan && chan->pending == 0)
		ev_idle_start(up->loop, &up->reaper);
}

static void
upstream_deliver(struct upstream_query *q, const struct proto_answer *a)
{
	if (q->cb != NULL)
		q->cb(q->arg, a);
	ev_timer_stop(q->chan->up->loop, &q->defer);
	upstream_query_free(q);
}

static void
upstream_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upstream_query *q = w->data;

	if (q->raw_cb != NULL) {
		q->raw_cb(q->arg, NULL, 0);
		q->cb = NULL;
	}
	upstream_deliver(q, &q->early);
}

/* ares_status: what c-ares said, for the health figures. */
void
upstream_finish(struct upstream_query *q, struct proto_answer *a,
    int ares_status)
{
	struct upstream_chan *chan = q->chan;
	struct upstream *up = chan->up;

	if (!q->refused && !q->offline)
		upstream_account(up, q->start_ms,
		    upstream_verdict(ares_status, !q->starting, 0));
	if (q->truncated && up->stats != NULL)
		stats_count(up->stats, STATS_ANSWERS_TRUNCATED);
	/* A walk whose every question was answered from a kept response
	 * asked nobody: the answer is the cache's. */
	a->source = q->offline && !q->refused ? CODNS_SRC_CACHE :
						CODNS_SRC_LOCAL;
	a->latency_us = (uint32_t)(clock_loop_us(up->loop) - q->start_us);
	if (a->status == CODNS_NOTFOUND || a->status == CODNS_NODATA)
		a->ttl = q->neg_ttl;
	else if (a->status != CODNS_FOUND)
		a->ttl = 0;
	if (!q->starting) {
		upstream_deliver(q, a);
		return;
	}
	/* Never call back before upstream_resolve() has returned. */
	q->early = *a;
	ev_timer_start(up->loop, &q->defer);
}

/* A query on the current channel, started now; starting until
 * upstream_query_sent(), so that c-ares calling back at once is deferred
 * to the loop. */
static struct upstream_query *
upstream_query_new(struct upstream *up, void *arg)
{
	struct upstream_query *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->chan = up->cur;
	q->arg = arg;
	q->start_ms = clock_loop_ms(up->loop);
	q->start_us = clock_loop_us(up->loop);
	q->starting = 1;
	q->neg_ttl = UPSTREAM_NEG_TTL_NONE;
	ev_timer_init(&q->defer, upstream_defer_cb, 0., 0.);
	q->defer.data = q;
	q->chan->pending++;
	return q;
}

/* Handed to c-ares: callbacks may come directly from now on. */
static struct upstream_query *
upstream_query_sent(struct upstream_query *q)
{
	q->starting = 0;
	upstream_chan_arm(q->chan);
	return q;
}

struct upstream_query *
upstream_resolve(struct upstream *up, const struct proto_request *req,
    upstream_cb *cb, void *arg)
{
	struct upstream_query *q;

	if ((q = upstream_query_new(up, arg)) == NULL)
		return NULL;
	q->cb = cb;
	q->req = *req;
	/* c-ares may call back at once (bad name): q must be complete. */
	if (req->kind == PROTO_KIND_REVERSE)
		upstream_ptr_start(q);
	else
		upstream_search_start(q);
	return upstream_query_sent(q);
}

static void
upstream_raw_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;
	struct upstream *up = q->chan->up;
	int ok = status == ARES_SUCCESS && abuf != NULL && alen > 0;

	upstream_account(up, q->start_ms,
	    upstream_verdict(status, !q->starting, 0));
	if (q->starting) {
		/* Only failures come this early; report from the loop. */
		ev_timer_start(up->loop, &q->defer);
		return;
	}
	if (q->raw_cb != NULL)
		q->raw_cb(q->arg, ok ? abuf : NULL, ok ? (size_t)alen : 0);
	upstream_query_free(q);
}

struct upstream_query *
upstream_send_raw(struct upstream *up, const uint8_t *msg, size_t len,
    upstream_raw_cb *cb, void *arg)
{
	struct upstream_query *q;

	if (len > INT32_MAX || (q = upstream_query_new(up, arg)) == NULL)
		return NULL;
	q->raw_cb = cb;
	ares_send(q->chan->ch, msg, (int)len, upstream_raw_done, q);
	return upstream_query_sent(q);
}

void
upstream_cancel(struct upstream_query *q)
{
	if (q != NULL) {
		q->cb = NULL;
		q->raw_cb = NULL;
	}
}
