/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peerquery.c: peer queries: ours out to peers (the lookup
 * race's), and theirs served here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peernet_int.h"
#include "peers.h"

static void
pn_pending_unlink(struct peernet_query *q)
{
	LIST_REMOVE(q, entry);
	q->pn->npending--;
}

/* Queries in flight to peers found dead fail at once, so their lookups
 * move on to the next peer instead of waiting (issue 15). Unlinked
 * first: the callbacks may send new queries. */
void
peernet_fail_dead(struct peernet *pn)
{
	LIST_HEAD(, peernet_query) dead = LIST_HEAD_INITIALIZER(dead);
	struct peernet_query *q, *next;
	uint64_t now_us = peernet_now_us(pn);
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
		peernet_count(pn, STATS_PEER_QUERIES_ABANDONED);
		q->cb(q->arg, PEERNET_CANNOT, NULL,
		    (uint32_t)(now_us - q->sent_us));
		free(q);
	}
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
			peernet_wall_ms(pn), dgram, sizeof(dgram), &len) == -1) {
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
	peernet_send(pn, &m, &s->from);
	peernet_count(pn, STATS_PEER_SERVED);
	pn_serve_free(s);
}

static void
pn_serve_cb(void *arg, const struct proto_answer *a)
{
	pn_serve_reply(arg, a);
}

void
peernet_on_query(struct peernet *pn, struct peerlist_entry *p,
    const struct peerproto_msg *in)
{
	struct proto_request req;
	struct proto_answer now;
	struct pn_serve *s;

	/* An overloaded node drops peer queries; local lookups come first
	 * (CoDNS 4.4). */
	if (pn->serve == NULL || pn->nserving >= pn->queue_max ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		peernet_count(pn, STATS_PEER_DROPPED);
		return;
	}
	s->pn = pn;
	s->qid = in->u.query.id;
	s->version = in->version;
	p->version = in->version;
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
void
peernet_on_reply(struct peernet *pn, struct peerlist_entry *p,
    const struct peerproto_msg *in)
{
	struct peernet_query *q;
	struct proto_answer a;
	uint64_t qid = in->type == PEERPROTO_T_ANSWER ? in->u.answer.id :
							 in->u.cannot.id;
	uint32_t latency_us;

	if ((q = pn_pending_find(pn, qid)) == NULL || q->peer != p->id) {
		peernet_count(pn, STATS_PEER_UNEXPECTED);
		return;
	}
	pn_pending_unlink(q);
	latency_us = (uint32_t)(peernet_now_us(pn) - q->sent_us);
	/* Any reply is a sign of life (peers.h); the counts are lookup's. */
	if (peers_heard(pn->peers, p->id, peernet_now_ms(pn)) == 1)
		peernet_hb_arm(pn);
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

size_t
peernet_fallback(struct peernet *pn, uint64_t *ids, size_t max)
{
	return peers_fallback(pn->peers, ids, max);
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
	struct peerlist_entry *p;

	/* A 253-byte name with its final dot does not fit a peer query. */
	if (strlen(req->name) > PROTO_NAME_MAX)
		return NULL;
	/* A peer known dead is skipped: the caller moves on at once. */
	if ((p = peernet_by_id(pn, id)) == NULL || !peers_usable(pn->peers, id) ||
	    pn->npending >= PN_QUERIES_MAX ||
	    (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->pn = pn;
	q->peer = id;
	q->cb = cb;
	q->arg = arg;
	q->sent_us = peernet_now_us(pn);
	/* A random id, so an off-path sender cannot guess an answer in. */
	do
		randombytes_buf(&q->qid, sizeof(q->qid));
	while (pn_pending_find(pn, q->qid) != NULL);
	memset(&m, 0, sizeof(m));
	m.version = p->version; /* one it reads (peerlist.h) */
	m.type = PEERPROTO_T_QUERY;
	m.u.query.id = q->qid;
	m.u.query.kind = req->kind;
	m.u.query.family = req->family;
	memcpy(m.u.query.name, req->name, sizeof(m.u.query.name));
	memcpy(m.u.query.addr, req->addr, sizeof(m.u.query.addr));
	peernet_send(pn, &m, &p->addr);
	LIST_INSERT_HEAD(&pn->pending[q->qid % PN_BUCKETS], q, entry);
	pn->npending++;
	/* Its answer is awaited as evidence: unanswered, it is a query
	 * miss (peers.h). This also counts it sent. */
	peers_query_sent(pn->peers, id, peernet_now_ms(pn));
	peernet_hb_arm(pn);
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

void
peernet_queries_free(struct peernet *pn)
{
	struct peernet_query *q;
	struct pn_serve *s;
	size_t i;

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
}
