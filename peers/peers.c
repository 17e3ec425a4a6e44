/* peers/peers.c: the peer table: heartbeats, liveness, neighbour ranking. */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "hrw.h"

#define PEERS_RTT_CAP_MS 60000 /* keeps the scaled smoothed RTT small */
#define PEERS_SEQ_WINDOW 8     /* acks accepted for the last 8 heartbeats */

struct peer {
	uint64_t id;
	enum peers_state state;
	int acked;    /* has answered at least once */
	int alive;    /* answered its latest heartbeat in time */
	int awaiting; /* a heartbeat is out, not yet acked nor missed */
	int sent_any;
	int picked, was_nbr; /* scratch for ranking */
	uint32_t seq;
	uint32_t srtt8; /* smoothed RTT, scaled by 8 as in RFC 6298 */
	uint32_t ns_mean_ms, ns_fail_permille;
	uint64_t ns_set_id;
	uint64_t last_sent, last_ack;
	unsigned misses;
	unsigned rank;
	uint64_t qsent, qwon, qfailed;
};

struct peers {
	struct peers_config cfg;
	uint64_t self_nsid;
	struct peer *v; /* sorted by id */
	size_t n;
	struct peer **sorted, **order; /* ranking scratch, n each */
	uint64_t *nbr;		       /* neighbour ids, n */
	size_t nnbr;
	unsigned generation;
};

void
peers_config_default(struct peers_config *c)
{
	c->neighbors = 10;
	c->neighbor_rtt_max_ms = 90;
	c->heartbeat_discovery_ms = 1000;
	c->heartbeat_steady_ms = 30000;
}

static void
peers_config_fill(struct peers_config *dst, const struct peers_config *src)
{
	struct peers_config def;

	peers_config_default(&def);
	*dst = src != NULL ? *src : def;
	if (dst->neighbors == 0)
		dst->neighbors = def.neighbors;
	if (dst->neighbor_rtt_max_ms == 0)
		dst->neighbor_rtt_max_ms = def.neighbor_rtt_max_ms;
	if (dst->heartbeat_discovery_ms == 0)
		dst->heartbeat_discovery_ms = def.heartbeat_discovery_ms;
	if (dst->heartbeat_steady_ms == 0)
		dst->heartbeat_steady_ms = def.heartbeat_steady_ms;
}

static struct peer *
peers_lookup(const struct peers *p, uint64_t id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->v[mid].id == id)
			return &p->v[mid];
		if (p->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint32_t
peers_rtt(const struct peer *e)
{
	return (e->srtt8 + 4) / 8;
}

static int
peers_bad(const struct peer *e)
{
	return e->ns_fail_permille > PEERS_FAIL_BAD;
}

/* Ranking order: healthy before failing, then RTT + nameserver time. */
static int
peers_cmp_rank(const void *a, const void *b)
{
	const struct peer *x = *(struct peer *const *)a;
	const struct peer *y = *(struct peer *const *)b;
	uint64_t sx = (uint64_t)peers_rtt(x) + x->ns_mean_ms;
	uint64_t sy = (uint64_t)peers_rtt(y) + y->ns_mean_ms;

	if (peers_bad(x) != peers_bad(y))
		return peers_bad(x) - peers_bad(y);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/* Whether e's nameserver set is new: not ours, not a chosen peer's. */
static int
peers_distinct(const struct peers *p, const struct peer *e, size_t nchosen)
{
	size_t i;

	if (e->ns_set_id == 0)
		return 1;
	if (e->ns_set_id == p->self_nsid)
		return 0;
	for (i = 0; i < nchosen; i++)
		if (p->order[i]->ns_set_id == e->ns_set_id)
			return 0;
	return 1;
}

static enum peers_state
peers_base_state(const struct peers *p, const struct peer *e)
{
	if (!e->alive)
		return e->acked || e->misses >= PEERS_TRIES ? PEERS_DOWN :
		    PEERS_PROBING;
	if (peers_rtt(e) >= p->cfg.neighbor_rtt_max_ms)
		return PEERS_FAR;
	return PEERS_CANDIDATE;
}

/*
 * Recompute every state and rank (see peers.h for the rules) and the
 * neighbour list; bump the generation when the neighbour set changed.
 */
static void
peers_rank(struct peers *p)
{
	size_t i, nc = 0, nchosen = 0;
	int changed = 0;

	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		e->was_nbr = e->state == PEERS_NEIGHBOR;
		e->state = peers_base_state(p, e);
		e->rank = 0;
		e->picked = 0;
		if (e->state == PEERS_CANDIDATE)
			p->sorted[nc++] = e;
	}
	if (nc > 1)
		qsort(p->sorted, nc, sizeof(*p->sorted), peers_cmp_rank);
	for (i = 0; i < nc; i++) {
		struct peer *e = p->sorted[i];

		if (peers_bad(e) || !peers_distinct(p, e, nchosen))
			continue;
		e->picked = 1;
		p->order[nchosen++] = e;
	}
	for (i = 0; i < nc; i++)
		if (!p->sorted[i]->picked)
			p->order[nchosen++] = p->sorted[i];
	p->nnbr = 0;
	for (i = 0; i < nchosen; i++) {
		struct peer *e = p->order[i];

		e->rank = (unsigned)i + 1;
		if (i < p->cfg.neighbors) {
			e->state = PEERS_NEIGHBOR;
			p->nbr[p->nnbr++] = e->id;
		}
	}
	for (i = 0; i < p->n; i++)
		if (p->v[i].was_nbr != (p->v[i].state == PEERS_NEIGHBOR))
			changed = 1;
	if (changed)
		p->generation++;
}

struct peers *
peers_new(const struct peers_config *cfg)
{
	struct peers *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	peers_config_fill(&p->cfg, cfg);
	return p;
}

void
peers_free(struct peers *p)
{
	if (p == NULL)
		return;
	free(p->v);
	free(p->sorted);
	free(p->order);
	free(p->nbr);
	free(p);
}

void
peers_configure(struct peers *p, const struct peers_config *cfg)
{
	peers_config_fill(&p->cfg, cfg);
	peers_rank(p);
}

void
peers_set_self_nsid(struct peers *p, uint64_t nsid)
{
	p->self_nsid = nsid;
	peers_rank(p);
}

static int
peers_cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
peers_set_list(struct peers *p, const uint64_t *ids, size_t n, uint64_t now)
{
	uint64_t *sorted = NULL;
	struct peer *v = NULL, **s = NULL, **o = NULL, *old;
	uint64_t *nbr = NULL;
	size_t i, m = 0, kept = 0;
	int rc = -1;

	(void)now; /* new peers are due at once, whatever the time */
	if (n > PEERS_MAX)
		goto done;
	if (n > 0) {
		if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
			goto done;
		memcpy(sorted, ids, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), peers_cmp_id);
		if ((v = calloc(n, sizeof(*v))) == NULL ||
		    (s = calloc(n, sizeof(*s))) == NULL ||
		    (o = calloc(n, sizeof(*o))) == NULL ||
		    (nbr = calloc(n, sizeof(*nbr))) == NULL)
			goto done;
	}
	for (i = 0; i < n; i++) {
		if (m > 0 && v[m - 1].id == sorted[i])
			continue;
		if ((old = peers_lookup(p, sorted[i])) != NULL) {
			v[m] = *old;
			kept += old->state == PEERS_NEIGHBOR;
		} else {
			v[m].id = sorted[i];
			v[m].state = PEERS_PROBING;
			v[m].last_sent = PEERS_NEVER;
			v[m].last_ack = PEERS_NEVER;
		}
		m++;
	}
	/* A neighbour dropped from the list changes the set too. */
	if (kept < p->nnbr)
		p->generation++;
	free(p->v);
	free(p->sorted);
	free(p->order);
	free(p->nbr);
	p->v = v;
	p->sorted = s;
	p->order = o;
	p->nbr = nbr;
	p->n = m;
	v = NULL;
	s = o = NULL;
	nbr = NULL;
	peers_rank(p);
	rc = 0;
done:
	free(sorted);
	free(v);
	free(s);
	free(o);
	free(nbr);
	return rc;
}

enum peers_mode
peers_mode(const struct peers *p)
{
	size_t i;

	if (p->nnbr >= p->cfg.neighbors)
		return PEERS_STEADY;
	for (i = 0; i < p->n; i++) {
		const struct peer *e = &p->v[i];

		if (e->state == PEERS_PROBING ||
		    (e->state == PEERS_DOWN && e->misses < PEERS_TRIES))
			return PEERS_DISCOVERY;
	}
	return PEERS_STEADY;
}

static uint64_t
peers_ack_wait(const struct peers *p)
{
	uint64_t w = (uint64_t)p->cfg.neighbor_rtt_max_ms * 4;

	if (w < PEERS_ACK_WAIT_MIN_MS)
		w = PEERS_ACK_WAIT_MIN_MS;
	if (w > p->cfg.heartbeat_discovery_ms)
		w = p->cfg.heartbeat_discovery_ms;
	return w;
}

static uint64_t
peers_interval(const struct peers *p, const struct peer *e,
    enum peers_mode mode)
{
	if (mode == PEERS_DISCOVERY ||
	    (e->misses > 0 && e->misses < PEERS_TRIES))
		return p->cfg.heartbeat_discovery_ms;
	return p->cfg.heartbeat_steady_ms;
}

/* When peer e next needs attention: its ack timeout or next heartbeat. */
static uint64_t
peers_due(const struct peers *p, const struct peer *e, enum peers_mode mode,
    uint64_t now)
{
	if (e->awaiting)
		return e->last_sent + peers_ack_wait(p);
	if (!e->sent_any)
		return now;
	return e->last_sent + peers_interval(p, e, mode);
}

size_t
peers_tick(struct peers *p, uint64_t now)
{
	uint64_t wait = peers_ack_wait(p);
	size_t i, down = 0, missed = 0;

	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		if (!e->awaiting || now < e->last_sent + wait)
			continue;
		e->awaiting = 0;
		e->misses++;
		missed++;
		if (e->alive) {
			e->alive = 0;
			down++;
		} else if (!e->acked && e->misses == PEERS_TRIES)
			down++;
	}
	if (missed > 0)
		peers_rank(p);
	return down;
}

uint64_t
peers_next_wakeup(const struct peers *p, uint64_t now)
{
	enum peers_mode mode = peers_mode(p);
	uint64_t next = PEERS_NEVER, t;
	size_t i;

	for (i = 0; i < p->n; i++) {
		t = peers_due(p, &p->v[i], mode, now);
		if (t < next)
			next = t;
	}
	return next < now ? now : next;
}

size_t
peers_heartbeat_due(struct peers *p, uint64_t now,
    struct peers_heartbeat *out, size_t max, uint64_t *next_wakeup)
{
	enum peers_mode mode;
	size_t i, k = 0;
	int more = 0;

	peers_tick(p, now);
	mode = peers_mode(p);
	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		if (e->awaiting || peers_due(p, e, mode, now) > now)
			continue;
		if (k == max) {
			more = 1;
			break;
		}
		e->seq++;
		e->sent_any = 1;
		e->awaiting = 1;
		e->last_sent = now;
		out[k].id = e->id;
		out[k].seq = e->seq;
		k++;
	}
	*next_wakeup = more ? now : peers_next_wakeup(p, now);
	return k;
}

int
peers_ack(struct peers *p, uint64_t id, uint32_t seq, uint32_t rtt_ms,
    uint32_t ns_mean_ms, uint32_t ns_fail_permille, uint64_t ns_set_id,
    uint64_t now)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL || !e->sent_any ||
	    (uint32_t)(e->seq - seq) >= PEERS_SEQ_WINDOW)
		return -1;
	if (rtt_ms > PEERS_RTT_CAP_MS)
		rtt_ms = PEERS_RTT_CAP_MS;
	/* RFC 6298 sec. 2: SRTT <- 7/8 SRTT + 1/8 R, kept scaled by 8. */
	if (!e->acked)
		e->srtt8 = rtt_ms * 8;
	else
		e->srtt8 = e->srtt8 - e->srtt8 / 8 + rtt_ms;
	e->ns_mean_ms = ns_mean_ms;
	e->ns_fail_permille = ns_fail_permille > 1000 ? 1000 :
	    ns_fail_permille;
	e->ns_set_id = ns_set_id;
	e->last_ack = now;
	e->acked = 1;
	e->alive = 1;
	e->awaiting = 0;
	e->misses = 0;
	peers_rank(p);
	return 0;
}

size_t
peers_select(const struct peers *p, const char *name, uint64_t *ids_out,
    size_t max)
{
	uint64_t nh = hrw_name_hash(name), pw = 0, pid = 0, bw, bid, w;
	size_t i, k;

	/* Top max by HRW weight, by repeated selection below the last one
	 * picked: no allocation, and max is small (peers-per-lookup). */
	for (k = 0; k < max && k < p->nnbr; k++) {
		int found = 0;

		bw = bid = 0;
		for (i = 0; i < p->nnbr; i++) {
			w = hrw_weight(nh, p->nbr[i]);
			if (k > 0 && !hrw_before(pw, pid, w, p->nbr[i]))
				continue;
			if (!found || hrw_before(w, p->nbr[i], bw, bid)) {
				bw = w;
				bid = p->nbr[i];
				found = 1;
			}
		}
		ids_out[k] = bid;
		pw = bw;
		pid = bid;
	}
	return k;
}

int
peers_record_query(struct peers *p, uint64_t id, enum peers_outcome out)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	switch (out) {
	case PEERS_QUERY_SENT:
		e->qsent++;
		break;
	case PEERS_QUERY_WON:
		e->qwon++;
		break;
	case PEERS_QUERY_FAILED:
		e->qfailed++;
		break;
	}
	return 0;
}

void
peers_summary(const struct peers *p, struct peers_summary *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->mode = peers_mode(p);
	s->listed = p->n;
	s->generation = p->generation;
	for (i = 0; i < p->n; i++)
		s->count[p->v[i].state]++;
}

size_t
peers_count(const struct peers *p)
{
	return p->n;
}

static void
peers_fill_row(const struct peer *e, struct peers_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	r->state = e->state;
	r->has_rtt = e->acked;
	r->rtt_ms = e->acked ? peers_rtt(e) : 0;
	r->ns_mean_ms = e->ns_mean_ms;
	r->ns_fail_permille = e->ns_fail_permille;
	r->ns_set_id = e->ns_set_id;
	r->last_sent = e->last_sent;
	r->last_ack = e->last_ack;
	r->misses = e->misses;
	r->queries_sent = e->qsent;
	r->queries_won = e->qwon;
	r->queries_failed = e->qfailed;
	r->rank = e->rank;
}

int
peers_row(const struct peers *p, size_t i, struct peers_row *r)
{
	if (i >= p->n)
		return -1;
	peers_fill_row(&p->v[i], r);
	return 0;
}

int
peers_find(const struct peers *p, uint64_t id, struct peers_row *r)
{
	const struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	peers_fill_row(e, r);
	return 0;
}

const char *
peers_state_name(enum peers_state s)
{
	switch (s) {
	case PEERS_PROBING:
		return "probing";
	case PEERS_CANDIDATE:
		return "candidate";
	case PEERS_NEIGHBOR:
		return "neighbour";
	case PEERS_FAR:
		return "far";
	case PEERS_DOWN:
		return "down";
	}
	return "unknown";
}

const char *
peers_mode_name(enum peers_mode m)
{
	return m == PEERS_DISCOVERY ? "discovery" : "steady";
}
