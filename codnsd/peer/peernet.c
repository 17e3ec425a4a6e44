/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peernet.c: the peer transport: UDP socket, peers file, heartbeats,
 * peer queries out and in. Which peer to ask and when is lookup.c's. */
#include "peernet.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "codnsd.h"
#include "conf.h"
#include "filewatch.h"
#include "hrw.h"
#include "log.h"
#include "peerproto.h"
#include "peers.h"
#include "stats.h"
#include "upstream.h"

#define PN_BUCKETS 256
#define PN_QUERIES_MAX 4096 /* our queries to peers awaiting an answer */
#define PN_HB_BATCH 64
#define PN_FILE_CHECK_S 2.0  /* peers file polling, where inotify cannot */
#define PN_SELF_MAX 16	     /* listed addresses found to be this node */

struct pn_peer {
	uint64_t id;
	struct conf_addr addr;
	char name[ADDR_STRLEN];
};

struct peernet_query {
	struct peernet *pn;
	uint64_t qid;
	uint64_t peer;
	peernet_cb *cb;
	void *arg;
	uint64_t sent_us;
	LIST_ENTRY(peernet_query) entry;
};

/* A query a peer sent us, being resolved. */
struct pn_serve {
	struct peernet *pn;
	uint64_t qid;
	uint8_t version; /* the query's: the answer goes back in it */
	size_t peer; /* index into list when it arrived */
	struct conf_addr from;
	void *handle; /* the server's, while it resolves */
	LIST_ENTRY(pn_serve) entry;
};

struct peernet {
	struct codnsd *d;
	int fd;
	ev_io io;
	ev_timer hb;
	struct filewatch file;
	struct peers *peers;
	struct pn_peer *list;
	size_t nlist;
	uint8_t key[PEERPROTO_KEY_LEN];
	int have_key;
	struct peerproto_replay replay;
	/* Random per process: a heartbeat carrying it came from this node,
	 * through a listed address that is ours (peer-listen 0.0.0.0). */
	uint64_t nonce;
	struct conf_addr self[PN_SELF_MAX];
	size_t nself;
	LIST_HEAD(, peernet_query) pending[PN_BUCKETS];
	size_t npending;
	LIST_HEAD(, pn_serve) serving;
	size_t nserving;
	peernet_serve_fn *serve;
	peernet_unserve_fn *unserve;
	void *serve_ctx;
	struct stat file_st;
	unsigned generation; /* of the neighbour set, as last seen */
	uint64_t opened_ms, full_ms; /* when the set was first full, or 0 */
};

/* A peer's id: HRW weights hang on it, so it must not depend on the
 * order of the peers file. */
static uint64_t
pn_addr_id(const struct sockaddr *sa)
{
	char s[ADDR_STRLEN];

	addr_format(sa, s, sizeof(s));
	return hrw_peer_id(s, strlen(s));
}

static uint64_t
pn_peer_id(const struct conf_addr *a)
{
	return pn_addr_id((const struct sockaddr *)&a->ss);
}

/* The list is sorted by id: a lookup is O(log N) with thousands listed. */
static struct pn_peer *
pn_by_id(const struct peernet *pn, uint64_t id)
{
	size_t lo = 0, hi = pn->nlist;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pn->list[mid].id == id) {
			while (mid > 0 && pn->list[mid - 1].id == id)
				mid--;
			return &pn->list[mid];
		}
		if (pn->list[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct pn_peer *
pn_by_addr(const struct peernet *pn, const struct sockaddr *sa)
{
	struct pn_peer *p = pn_by_id(pn, pn_addr_id(sa));

	/* Equal ids of different addresses (a hash collision) sit side by
	 * side. */
	for (; p != NULL && p < pn->list + pn->nlist; p++) {
		if (addr_equal((const struct sockaddr *)&p->addr.ss, sa))
			return p;
		if (p + 1 < pn->list + pn->nlist && p[1].id != p->id)
			break;
	}
	return NULL;
}

static int
pn_cmp_peer(const void *a, const void *b)
{
	const struct pn_peer *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
pn_send(struct peernet *pn, const struct peerproto_msg *m,
    const struct conf_addr *to)
{
	uint8_t dgram[PEERPROTO_DGRAM_MAX];
	size_t len;

	if (peerproto_encode(m, pn->have_key ? pn->key : NULL, clock_wall_ms(),
		dgram, sizeof(dgram), &len) == -1) {
		log_debug("peer message of type %u does not encode", m->type);
		return;
	}
	/* UDP: a failed send is a lost datagram, which the race and the
	 * heartbeat schedule already expect. */
	if (sendto(pn->fd, dgram, len, 0, (const struct sockaddr *)&to->ss,
		to->len) == -1)
		log_debug("peer send: %s", strerror(errno));
}

static void
pn_fill_health(struct peernet *pn, struct peerproto_beat *b)
{
	const struct upstream_health *h = upstream_health(pn->d->upstream);

	b->ns_mean_ms = h->mean_ms;
	b->ns_fail_permille = (uint16_t)(h->fail_permille > 1000 ? 1000 :
								 h->fail_permille);
	b->ns_set_id = h->nsset_id;
}

static void
pn_hb_arm(struct peernet *pn)
{
	uint64_t now = clock_loop_ms(pn->d->loop), next = peers_next_wakeup(pn->peers, now);

	ev_timer_stop(pn->d->loop, &pn->hb);
	if (next == PEERS_NEVER)
		return;
	ev_timer_set(&pn->hb, next > now ? (double)(next - now) / 1000.0 : 0.,
	    0.);
	ev_timer_start(pn->d->loop, &pn->hb);
}

/* Queries in flight to peers found dead fail at once, so their lookups
 * move on to the next peer instead of waiting (issue 15). Unlinked
 * first: the callbacks may send new queries. */
static void
pn_pending_unlink(struct peernet_query *q)
{
	LIST_REMOVE(q, entry);
	q->pn->npending--;
}

static void
pn_fail_dead(struct peernet *pn)
{
	LIST_HEAD(, peernet_query) dead = LIST_HEAD_INITIALIZER(dead);
	struct peernet_query *q, *next;
	uint64_t now_us = clock_loop_us(pn->d->loop);
	size_t i;

	for (i = 0; i < PN_BUCKETS; i++)
		for (q = LIST_FIRST(&pn->pending[i]); q != NULL; q = next) {
			next = LIST_NEXT(q, entry);
			if (peers_usable(pn->peers, q->peer))
				continue;
			pn_pending_unlink(q);
			LIST_INSERT_HEAD(&dead, q, entry);
		}
	/* As "cannot resolve": the lookup counts it failed and moves on. */
	while ((q = LIST_FIRST(&dead)) != NULL) {
		LIST_REMOVE(q, entry);
		stats_count(pn->d->stats, STATS_PEER_QUERIES_ABANDONED);
		q->cb(q->arg, PEERNET_CANNOT, NULL,
		    (uint32_t)(now_us - q->sent_us));
		free(q);
	}
}

static void
pn_hb_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peernet *pn = w->data;
	struct peers_heartbeat hb[PN_HB_BATCH];
	struct peerproto_msg m;
	struct pn_peer *p;
	uint64_t next;
	size_t i, n;

	peers_set_self_nsid(pn->peers, upstream_health(pn->d->upstream)->nsset_id);
	n = peers_heartbeat_due(pn->peers, clock_loop_ms(pn->d->loop), hb, PN_HB_BATCH, &next);
	for (i = 0; i < n; i++) {
		if ((p = pn_by_id(pn, hb[i].id)) == NULL)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = PEERPROTO_T_HEARTBEAT;
		m.u.beat.seq = hb[i].seq;
		m.u.beat.send_time = clock_wall_ms();
		/* Only we can read it: which listed entry this went to. */
		m.u.beat.node_nonce = pn->nonce ^ p->id;
		if (m.u.beat.node_nonce == 0)
			m.u.beat.node_nonce = pn->nonce;
		pn_fill_health(pn, &m.u.beat);
		pn_send(pn, &m, &p->addr);
		stats_count(pn->d->stats, STATS_HEARTBEATS_SENT);
	}
	if (peers_generation(pn->peers) != pn->generation) {
		pn->generation = peers_generation(pn->peers);
		pn_fail_dead(pn);
	}
	if (pn->full_ms == 0 && pn->nlist > 0 &&
	    peers_neighbours(pn->peers) >= (pn->nlist < pn->d->conf.neighbors ?
						pn->nlist :
						pn->d->conf.neighbors)) {
		pn->full_ms = clock_loop_ms(pn->d->loop);
		log_info("peers: %zu neighbours, %.2f s after start",
		    peers_neighbours(pn->peers),
		    (double)(pn->full_ms - pn->opened_ms) / 1000.0);
	}
	pn_hb_arm(pn);
}

static int
pn_is_self(const struct peernet *pn, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < pn->nself; i++)
		if (addr_equal((const struct sockaddr *)&pn->self[i].ss, sa))
			return 1;
	return 0;
}

/*
 * Our own heartbeat came back through p: p is this node, reached through
 * an address of ours that peer-listen's self-skip could not match
 * (0.0.0.0 matches no listed address). It leaves the table for good,
 * reloads included, so it is never ranked, selected or asked.
 */
static void
pn_found_self(struct peernet *pn, struct pn_peer *p)
{
	uint64_t *ids;
	size_t i, j;

	if (pn->nself < PN_SELF_MAX &&
	    !pn_is_self(pn, (const struct sockaddr *)&p->addr.ss))
		pn->self[pn->nself++] = p->addr;
	if ((ids = calloc(pn->nlist, sizeof(*ids))) == NULL)
		return;
	for (i = j = 0; i < pn->nlist; i++)
		if (&pn->list[i] != p)
			ids[j++] = pn->list[i].id;
	log_info("peer %s is this node itself (its own heartbeat came back); "
	    "leaving it out", p->name);
	if (peers_set_list(pn->peers, ids, j, clock_loop_ms(pn->d->loop)) ==
	    0) {
		for (i = j = 0; i < pn->nlist; i++)
			if (&pn->list[i] != p)
				pn->list[j++] = pn->list[i];
		pn->nlist = j;
	}
	free(ids);
	pn_hb_arm(pn);
}

/* The listed entry a heartbeat of our own was sent to, or NULL when the
 * heartbeat is another node's. */
static struct pn_peer *
pn_self_entry(const struct peernet *pn, const struct peerproto_msg *in)
{
	if (in->type != PEERPROTO_T_HEARTBEAT || in->version < 2)
		return NULL;
	return pn_by_id(pn, in->u.beat.node_nonce ^ pn->nonce);
}

static void
pn_on_heartbeat(struct peernet *pn, struct pn_peer *p,
    const struct peerproto_msg *in)
{
	struct peerproto_msg m;
	struct pn_peer *self;

	if ((self = pn_self_entry(pn, in)) != NULL) {
		pn_found_self(pn, self);
		return;
	}
	memset(&m, 0, sizeof(m));
	/* In the heartbeat's version, so an older peer can read it. */
	m.version = in->version;
	if (in->version >= 2)
		m.u.beat.node_nonce = pn->nonce;
	m.type = PEERPROTO_T_ACK;
	m.u.beat.seq = in->u.beat.seq;
	m.u.beat.send_time = in->u.beat.send_time;
	pn_fill_health(pn, &m.u.beat);
	pn_send(pn, &m, &p->addr);
	stats_count(pn->d->stats, STATS_HEARTBEATS_RECEIVED);
	/* A heartbeat from a peer we think down or not yet there is a sign
	 * of life: probe it now (adoption, issue 15). */
	if (peers_heard(pn->peers, p->id, clock_loop_ms(pn->d->loop)) == 1)
		pn_hb_arm(pn);
}

static void
pn_on_ack(struct peernet *pn, struct pn_peer *p, const struct peerproto_msg *in)
{
	uint64_t now = clock_wall_ms();
	const struct peerproto_beat *b = &in->u.beat;
	uint32_t rtt;

	if (b->node_nonce == pn->nonce) {
		pn_found_self(pn, p);
		return;
	}
	if (b->send_time > now || now - b->send_time > 3600 * 1000) {
		stats_count(pn->d->stats, STATS_PEER_UNEXPECTED);
		return;
	}
	rtt = (uint32_t)(now - b->send_time);
	if (peers_ack(pn->peers, p->id, b->seq, rtt, b->ns_mean_ms,
		b->ns_fail_permille, b->ns_set_id, clock_loop_ms(pn->d->loop)) == -1) {
		stats_count(pn->d->stats, STATS_PEER_UNEXPECTED);
		return;
	}
	stats_count(pn->d->stats, STATS_HEARTBEATS_ACKED);
	pn_hb_arm(pn);
}

static void
pn_serve_free(struct pn_serve *s)
{
	LIST_REMOVE(s, entry);
	s->pn->nserving--;
	free(s);
}

/* Our answer to a peer: only what we could resolve (CoDNS 4.4); anything
 * else is "cannot resolve", so it moves on at once. */
static void
pn_serve_reply(struct pn_serve *s, const struct proto_answer *a)
{
	struct peernet *pn = s->pn;
	struct peerproto_msg m;
	uint8_t dgram[PEERPROTO_DGRAM_MAX];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.version = s->version;
	if (a->status == CODNS_FOUND || a->status == CODNS_NOTFOUND ||
	    a->status == CODNS_NODATA) {
		m.type = PEERPROTO_T_ANSWER;
		m.u.answer.id = s->qid;
		m.u.answer.a = *a;
		m.u.answer.a.peer[0] = '\0';
		if (peerproto_encode(&m, pn->have_key ? pn->key : NULL,
			clock_wall_ms(), dgram, sizeof(dgram), &len) == -1) {
			memset(&m, 0, sizeof(m));
			m.version = s->version;
			m.type = PEERPROTO_T_CANNOT;
			m.u.cannot.id = s->qid;
			m.u.cannot.reason = PEERPROTO_R_TOOBIG;
		}
	} else {
		m.type = PEERPROTO_T_CANNOT;
		m.u.cannot.id = s->qid;
		m.u.cannot.reason = PEERPROTO_R_FAILED;
	}
	pn_send(pn, &m, &s->from);
	stats_count(pn->d->stats, STATS_PEER_SERVED);
	pn_serve_free(s);
}

static void
pn_serve_cb(void *arg, const struct proto_answer *a)
{
	pn_serve_reply(arg, a);
}

static void
pn_on_query(struct peernet *pn, struct pn_peer *p,
    const struct peerproto_msg *in)
{
	struct proto_request req;
	struct proto_answer now;
	struct pn_serve *s;

	/* An overloaded node drops peer queries; local lookups come first
	 * (CoDNS 4.4). */
	if (pn->serve == NULL || pn->nserving >= pn->d->conf.peer_queue_max ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		stats_count(pn->d->stats, STATS_PEER_DROPPED);
		return;
	}
	s->pn = pn;
	s->qid = in->u.query.id;
	s->version = in->version;
	s->from = p->addr;
	LIST_INSERT_HEAD(&pn->serving, s, entry);
	pn->nserving++;
	memset(&req, 0, sizeof(req));
	req.kind = in->u.query.kind;
	req.family = in->u.query.family;
	memcpy(req.name, in->u.query.name, sizeof(in->u.query.name));
	memcpy(req.addr, in->u.query.addr, sizeof(req.addr));
	s->handle = pn->serve(pn->serve_ctx, &req, pn_serve_cb, s, &now);
	if (s->handle == NULL)
		pn_serve_reply(s, &now);
}

static struct peernet_query *
pn_pending_find(struct peernet *pn, uint64_t qid)
{
	struct peernet_query *q;

	LIST_FOREACH(q, &pn->pending[qid % PN_BUCKETS], entry)
		if (q->qid == qid)
			return q;
	return NULL;
}

/* An answer or cannot-resolve: only for an outstanding id, only from the
 * peer that was asked. */
static void
pn_on_reply(struct peernet *pn, struct pn_peer *p,
    const struct peerproto_msg *in)
{
	struct peernet_query *q;
	struct proto_answer a;
	uint64_t qid = in->type == PEERPROTO_T_ANSWER ? in->u.answer.id :
							 in->u.cannot.id;
	uint32_t latency_us;

	if ((q = pn_pending_find(pn, qid)) == NULL || q->peer != p->id) {
		stats_count(pn->d->stats, STATS_PEER_UNEXPECTED);
		return;
	}
	pn_pending_unlink(q);
	latency_us = (uint32_t)(clock_loop_us(pn->d->loop) - q->sent_us);
	/* Any reply is a sign of life (peers.h); the counts are lookup's. */
	if (peers_heard(pn->peers, p->id, clock_loop_ms(pn->d->loop)) == 1)
		pn_hb_arm(pn);
	if (in->type == PEERPROTO_T_CANNOT)
		q->cb(q->arg, PEERNET_CANNOT, NULL, latency_us);
	else {
		a = in->u.answer.a;
		a.source = CODNS_SRC_PEER;
		a.latency_us = latency_us;
		snprintf(a.peer, sizeof(a.peer), "%s", p->name);
		q->cb(q->arg, PEERNET_ANSWER, &a, latency_us);
	}
	free(q);
}

static void
pn_count_decode_error(struct peernet *pn, int err)
{
	switch (err) {
	case PEERPROTO_EUNSIGNED:
	case PEERPROTO_EBADTAG:
	case PEERPROTO_EUNEXPECTED_AUTH:
		stats_count(pn->d->stats, STATS_PEER_BAD_AUTH);
		break;
	case PEERPROTO_ESTALE:
		stats_count(pn->d->stats, STATS_PEER_STALE);
		break;
	default:
		stats_count(pn->d->stats, STATS_PEER_BAD_DATAGRAM);
	}
}

static int
pn_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)
			->sin_addr.s_addr) >> 24) == 127;
	return sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

/*
 * A datagram from an address not listed: dropped, unless it is our own
 * heartbeat coming back from an address of ours (loopback, or one already
 * found to be us) that the entry it was sent to does not show. Listing
 * 127.0.0.2 reaches a node bound to 0.0.0.0 from 127.0.0.1, say.
 */
static void
pn_unlisted(struct peernet *pn, const uint8_t *dgram, size_t n,
    const struct sockaddr *from)
{
	struct peerproto_msg m;
	struct pn_peer *self;

	if ((pn_is_self(pn, from) || pn_is_loopback(from)) &&
	    n <= PEERPROTO_DGRAM_MAX &&
	    peerproto_decode(dgram, n, pn->have_key ? pn->key : NULL,
		clock_wall_ms(), PEERPROTO_SKEW_MS, &m) == PEERPROTO_OK &&
	    (self = pn_self_entry(pn, &m)) != NULL) {
		pn_found_self(pn, self);
		return;
	}
	stats_count(pn->d->stats, STATS_PEER_UNLISTED);
}

static void
pn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peernet *pn = w->data;
	uint8_t dgram[PEERPROTO_DGRAM_MAX + 1];
	struct peerproto_msg m;
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct pn_peer *p;
	ssize_t n;
	int err, i;

	/* A bounded batch per wakeup keeps client lookups moving. */
	for (i = 0; i < 64; i++) {
		fromlen = sizeof(from);
		n = recvfrom(pn->fd, dgram, sizeof(dgram), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1)
			return;
		if ((p = pn_by_addr(pn, (struct sockaddr *)&from)) == NULL) {
			pn_unlisted(pn, dgram, (size_t)n,
			    (struct sockaddr *)&from);
			continue;
		}
		if ((size_t)n > PEERPROTO_DGRAM_MAX) {
			stats_count(pn->d->stats, STATS_PEER_BAD_DATAGRAM);
			continue;
		}
		err = peerproto_decode(dgram, (size_t)n,
		    pn->have_key ? pn->key : NULL, clock_wall_ms(),
		    PEERPROTO_SKEW_MS, &m);
		if (err != PEERPROTO_OK) {
			log_debug("peer %s: %s", p->name,
			    peerproto_strerror(err));
			pn_count_decode_error(pn, err);
			continue;
		}
		if (m.authenticated &&
		    peerproto_replay_check(&pn->replay, &m, clock_wall_ms()) == -1) {
			stats_count(pn->d->stats, STATS_PEER_STALE);
			continue;
		}
		switch (m.type) {
		case PEERPROTO_T_HEARTBEAT:
			pn_on_heartbeat(pn, p, &m);
			break;
		case PEERPROTO_T_ACK:
			pn_on_ack(pn, p, &m);
			break;
		case PEERPROTO_T_QUERY:
			pn_on_query(pn, p, &m);
			break;
		case PEERPROTO_T_ANSWER:
		case PEERPROTO_T_CANNOT:
			pn_on_reply(pn, p, &m);
			break;
		default:
			stats_count(pn->d->stats, STATS_PEER_BAD_DATAGRAM);
		}
	}
}

/*
 * What a reload of the peer side needs, built before anything is changed:
 * the new list, the key and the settings (see peernet_prepare()).
 */
struct peernet_staged {
	struct pn_peer *list;
	uint64_t *ids;
	size_t n;
	uint8_t key[PEERPROTO_KEY_LEN];
	int have_key;
	struct peers_config pc;
	char peers_file[PATH_MAX];
};

void
peernet_staged_free(struct peernet_staged *s)
{
	if (s == NULL)
		return;
	free(s->list);
	free(s->ids);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
}

/* Read the peers file of c into s->list, skipping this node itself: its
 * peer-listen address, and the addresses whose heartbeats came back to
 * it. */
static int
pn_stage_list(const struct peernet *pn, const struct conf *c,
    struct peernet_staged *s, char *err, size_t errlen)
{
	struct conf_addr *addrs = NULL;
	size_t n = 0, i, j;

	if (conf_load_peers(c->peers_file, &addrs, &n, err, errlen) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: %s", c->peers_file,
			    strerror(ENOENT));
		return -1;
	}
	s->list = calloc(n ? n : 1, sizeof(*s->list));
	s->ids = calloc(n ? n : 1, sizeof(*s->ids));
	if (s->list == NULL || s->ids == NULL) {
		free(addrs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = j = 0; i < n; i++) {
		/* One peers file serves the whole cluster: skip ourselves. */
		if (addr_equal((const struct sockaddr *)&addrs[i].ss,
			(const struct sockaddr *)&c->peer_listen.ss) ||
		    pn_is_self(pn, (const struct sockaddr *)&addrs[i].ss))
			continue;
		s->list[j].addr = addrs[i];
		s->list[j].id = s->ids[j] = pn_peer_id(&addrs[i]);
		addr_format((const struct sockaddr *)&addrs[i].ss,
		    s->list[j].name, sizeof(s->list[j].name));
		j++;
	}
	s->n = j;
	/* Sorted by id: pn_by_id() is a binary search. */
	qsort(s->list, s->n, sizeof(*s->list), pn_cmp_peer);
	free(addrs);
	return 0;
}

static int
pn_stage_key(const struct conf *c, struct peernet_staged *s, char *err,
    size_t errlen)
{
	if (c->peer_key_file[0] == '\0')
		return 0;
	if (peerproto_key_load(c->peer_key_file, s->key, err, errlen) == -1)
		return -1;
	s->have_key = 1;
	return 0;
}

static void
pn_config_of(const struct conf *c, struct peers_config *pc)
{
	peers_config_default(pc);
	pc->neighbors = c->neighbors;
	pc->neighbor_rtt_max_ms = c->neighbor_rtt_max_ms;
	pc->heartbeat_discovery_ms = c->heartbeat_discovery_ms;
	pc->heartbeat_steady_ms = c->heartbeat_steady_ms;
	pc->seed = pn_peer_id(&c->peer_listen);
}

/* Build the peer side of c; key: also load the key file of c. */
static int
pn_stage(const struct peernet *pn, const struct conf *c, int key,
    struct peernet_staged **out, char *err, size_t errlen)
{
	struct peernet_staged *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pn_config_of(c, &s->pc);
	snprintf(s->peers_file, sizeof(s->peers_file), "%s", c->peers_file);
	if (pn_stage_list(pn, c, s, err, errlen) == -1 ||
	    (key && pn_stage_key(c, s, err, errlen) == -1)) {
		peernet_staged_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* The new list into the table, which keeps the state of the peers that
 * stay. The one step of a commit that can fail (out of memory), so it
 * goes first and changes nothing when it does. */
static int
pn_commit_list(struct peernet *pn, struct peernet_staged *s)
{
	if (peers_set_list(pn->peers, s->ids, s->n,
		clock_loop_ms(pn->d->loop)) == -1)
		return -1;
	free(pn->list);
	pn->list = s->list;
	pn->nlist = s->n;
	s->list = NULL;
	stat(s->peers_file, &pn->file_st);
	filewatch_retarget(&pn->file, s->peers_file);
	pn_hb_arm(pn);
	return 0;
}

int
peernet_prepare(struct peernet *pn, const struct conf *c,
    struct peernet_staged **out, char *err, size_t errlen)
{
	return pn_stage(pn, c, 1, out, err, errlen);
}

int
peernet_commit(struct peernet *pn, struct peernet_staged *s)
{
	if (pn_commit_list(pn, s) == -1)
		return -1;
	peers_configure(pn->peers, &s->pc);
	memcpy(pn->key, s->key, sizeof(pn->key));
	pn->have_key = s->have_key;
	peernet_staged_free(s);
	return 0;
}

static void
pn_file_changed(void *arg)
{
	struct peernet *pn = arg;
	struct peernet_staged *s = NULL;
	struct stat st;
	char err[1024] = "out of memory";

	if (stat(pn->d->conf.peers_file, &st) == -1 ||
	    !conf_file_changed(&st, &pn->file_st))
		return;
	if (pn_stage(pn, &pn->d->conf, 0, &s, err, sizeof(err)) == -1 ||
	    pn_commit_list(pn, s) == -1) {
		log_warnx("peers file not reloaded: %s", err);
		pn->file_st = st;
	} else
		log_info("peers file changed: %zu peers", pn->nlist);
	peernet_staged_free(s);
}

int
peernet_open(struct codnsd *d, const struct conf *c, struct peernet **out,
    char *err, size_t errlen)
{
	struct peernet *pn;
	struct peernet_staged *s = NULL;
	struct stat st;
	size_t i;
	int one = 1;

	*out = NULL;
	if (stat(c->peers_file, &st) == -1 && errno == ENOENT)
		return 0;
	if (sodium_init() == -1 || (pn = calloc(1, sizeof(*pn))) == NULL) {
		snprintf(err, errlen, "cannot initialise the peer module");
		return -1;
	}
	pn->d = d;
	pn->fd = -1;
	for (i = 0; i < PN_BUCKETS; i++)
		LIST_INIT(&pn->pending[i]);
	LIST_INIT(&pn->serving);
	pn->opened_ms = clock_loop_ms(d->loop);
	peerproto_replay_init(&pn->replay, PEERPROTO_SKEW_MS);
	do
		randombytes_buf(&pn->nonce, sizeof(pn->nonce));
	while (pn->nonce == 0);
	ev_init(&pn->hb, pn_hb_cb);
	pn->hb.data = pn;
	if (pn_stage(pn, c, 1, &s, err, errlen) == -1)
		goto fail;
	if ((pn->peers = peers_new(&s->pc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pn->fd = socket(c->peer_listen.ss.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pn->fd == -1 ||
	    setsockopt(pn->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
		-1 ||
	    bind(pn->fd, (const struct sockaddr *)&c->peer_listen.ss,
		c->peer_listen.len) == -1) {
		char a[ADDR_STRLEN];

		snprintf(err, errlen, "peer-listen %s: %s",
		    addr_format((const struct sockaddr *)&c->peer_listen.ss,
			a, sizeof(a)),
		    strerror(errno));
		goto fail;
	}
	if (peernet_commit(pn, s) == -1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s = NULL;
	ev_io_init(&pn->io, pn_read_cb, pn->fd, EV_READ);
	pn->io.data = pn;
	ev_io_start(d->loop, &pn->io);
	filewatch_start(&pn->file, d->loop, c->peers_file, PN_FILE_CHECK_S,
	    pn_file_changed, pn);
	*out = pn;
	return 0;
fail:
	peernet_staged_free(s);
	peernet_free(pn);
	return -1;
}

void
peernet_free(struct peernet *pn)
{
	struct peernet_query *q;
	struct pn_serve *s;
	size_t i;

	if (pn == NULL)
		return;
	/* Unregister what points into us, whoever is freed first: the
	 * server's lookups for our peers, and our queries' owners (who may
	 * cancel their other queries from the callback). */
	while ((s = LIST_FIRST(&pn->serving)) != NULL) {
		if (s->handle != NULL)
			pn->unserve(s->handle);
		pn_serve_free(s);
	}
	for (i = 0; i < PN_BUCKETS; i++)
		while ((q = LIST_FIRST(&pn->pending[i])) != NULL) {
			pn_pending_unlink(q);
			q->cb(q->arg, PEERNET_GONE, NULL, 0);
			free(q);
		}
	ev_io_stop(pn->d->loop, &pn->io);
	ev_timer_stop(pn->d->loop, &pn->hb);
	filewatch_stop(&pn->file);
	if (pn->fd != -1)
		close(pn->fd);
	peers_free(pn->peers);
	sodium_memzero(pn->key, sizeof(pn->key));
	free(pn->list);
	free(pn);
}

size_t
peernet_select(struct peernet *pn, const struct proto_request *req,
    uint64_t *ids, size_t max)
{
	char name[PROTO_NAME_MAX + 1];
	size_t i, len;

	if (req->kind == PROTO_KIND_FORWARD)
		return peers_select(pn->peers, req->name, ids, max);
	/* Reverse lookups hash on the address bytes, printed as hex. */
	len = proto_addr_len(req->family);
	for (i = 0; i < len; i++)
		snprintf(name + 2 * i, sizeof(name) - 2 * i, "%02x",
		    req->addr[i]);
	name[2 * len] = '\0';
	return peers_select(pn->peers, name, ids, max);
}

void
peernet_set_server(struct peernet *pn, peernet_serve_fn *serve,
    peernet_unserve_fn *unserve, void *ctx)
{
	pn->serve = serve;
	pn->unserve = unserve;
	pn->serve_ctx = ctx;
}

struct peernet_query *
peernet_query(struct peernet *pn, uint64_t id, const struct proto_request *req,
    peernet_cb *cb, void *arg)
{
	struct peernet_query *q;
	struct peerproto_msg m;
	struct pn_peer *p;

	/* A 253-byte name with its final dot does not fit a peer query. */
	if (strlen(req->name) > PROTO_NAME_MAX)
		return NULL;
	/* A peer known dead is skipped: the caller moves on at once. */
	if ((p = pn_by_id(pn, id)) == NULL || !peers_usable(pn->peers, id) ||
	    pn->npending >= PN_QUERIES_MAX ||
	    (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->pn = pn;
	q->peer = id;
	q->cb = cb;
	q->arg = arg;
	q->sent_us = clock_loop_us(pn->d->loop);
	/* A random id, so an off-path sender cannot guess an answer in. */
	do
		randombytes_buf(&q->qid, sizeof(q->qid));
	while (pn_pending_find(pn, q->qid) != NULL);
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_QUERY;
	m.u.query.id = q->qid;
	m.u.query.kind = req->kind;
	m.u.query.family = req->family;
	memcpy(m.u.query.name, req->name, sizeof(m.u.query.name));
	memcpy(m.u.query.addr, req->addr, sizeof(m.u.query.addr));
	pn_send(pn, &m, &p->addr);
	LIST_INSERT_HEAD(&pn->pending[q->qid % PN_BUCKETS], q, entry);
	pn->npending++;
	/* Its answer is awaited as evidence: unanswered, it is a query
	 * miss (peers.h). This also counts it sent. */
	peers_query_sent(pn->peers, id, clock_loop_ms(pn->d->loop));
	pn_hb_arm(pn);
	return q;
}

void
peernet_query_cancel(struct peernet_query *q)
{
	if (q == NULL)
		return;
	pn_pending_unlink(q);
	free(q);
}

void
peernet_record(struct peernet *pn, uint64_t id, enum peers_outcome out)
{
	/* A query sent was counted by peers_query_sent() in peernet_query(),
	 * together with the evidence it starts. */
	if (out != PEERS_QUERY_SENT)
		peers_record_query(pn->peers, id, out);
}

size_t
peernet_rows(const struct peernet *pn, struct peernet_row *out, size_t max)
{
	struct peers_row r;
	struct pn_peer *p;
	uint64_t now = clock_loop_ms(pn->d->loop);
	size_t i, n = 0;

	for (i = 0; i < peers_count(pn->peers) && n < max; i++) {
		if (peers_row(pn->peers, i, &r) == -1 ||
		    (p = pn_by_id(pn, r.id)) == NULL)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].addr, sizeof(out[n].addr), "%s", p->name);
		out[n].state = peers_state_name(r.state);
		out[n].rtt_ms = r.has_rtt ? r.rtt_ms : 0;
		out[n].ns_ms = r.ns_mean_ms;
		out[n].ns_fail_permille = r.ns_fail_permille;
		out[n].ns_set_id = r.ns_set_id;
		out[n].tracked = r.tracked;
		out[n].query_misses = r.query_misses;
		out[n].last_heartbeat_ago_s = r.last_ack == PEERS_NEVER ? -1 :
		    (double)(now - r.last_ack) / 1000.0;
		out[n].sent = r.queries_sent;
		out[n].won = r.queries_won;
		out[n].failed = r.queries_failed;
		out[n].rank = r.rank ? (int)r.rank : -1;
		n++;
	}
	return n;
}

void
peernet_neighbours(const struct peernet *pn, struct peernet_nbr *out)
{
	struct peers_summary sum;

	peers_summary(pn->peers, &sum);
	memset(out, 0, sizeof(*out));
	out->mode = peers_mode_name(sum.mode);
	out->self_nsid = sum.self_nsid;
	out->neighbours = sum.count[PEERS_NEIGHBOR];
	out->shared = sum.nbr_shared;
	out->other_sets = sum.other_sets;
	out->tracked = sum.tracked;
	out->swept = sum.swept;
	out->sweep_period_ms = sum.sweep_period_ms;
	out->full_after_s = pn->full_ms == 0 ? -1 :
	    (double)(pn->full_ms - pn->opened_ms) / 1000.0;
}
