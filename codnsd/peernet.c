/* codnsd/peernet.c: the peer transport: UDP socket, peers file, heartbeats,
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
#include "hrw.h"
#include "log.h"
#include "peerproto.h"
#include "peers.h"
#include "stats.h"
#include "upstream.h"

#define PN_BUCKETS 256
#define PN_QUERIES_MAX 4096 /* our queries to peers awaiting an answer */
#define PN_HB_BATCH 64
#define PN_FILE_CHECK_S 2.0  /* look for a changed peers file this often */

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
	ev_timer file;
	struct peers *peers;
	struct pn_peer *list;
	size_t nlist;
	uint8_t key[PEERPROTO_KEY_LEN];
	int have_key;
	struct peerproto_replay replay;
	LIST_HEAD(, peernet_query) pending[PN_BUCKETS];
	size_t npending;
	LIST_HEAD(, pn_serve) serving;
	size_t nserving;
	peernet_serve_fn *serve;
	peernet_unserve_fn *unserve;
	void *serve_ctx;
	struct stat file_st;
};

/* A peer's id: HRW weights hang on it, so it must not depend on the
 * order of the peers file. */
static uint64_t
pn_peer_id(const struct conf_addr *a)
{
	char s[ADDR_STRLEN];

	addr_format((const struct sockaddr *)&a->ss, s, sizeof(s));
	return hrw_peer_id(s, strlen(s));
}

static struct pn_peer *
pn_by_id(const struct peernet *pn, uint64_t id)
{
	size_t i;

	for (i = 0; i < pn->nlist; i++)
		if (pn->list[i].id == id)
			return &pn->list[i];
	return NULL;
}

static struct pn_peer *
pn_by_addr(const struct peernet *pn, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < pn->nlist; i++)
		if (addr_equal((const struct sockaddr *)&pn->list[i].addr.ss,
			sa))
			return &pn->list[i];
	return NULL;
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
		pn_fill_health(pn, &m.u.beat);
		pn_send(pn, &m, &p->addr);
		stats_count(pn->d->stats, STATS_HEARTBEATS_SENT);
	}
	pn_hb_arm(pn);
}

static void
pn_on_heartbeat(struct peernet *pn, struct pn_peer *p,
    const struct peerproto_msg *in)
{
	struct peerproto_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_ACK;
	m.u.beat.seq = in->u.beat.seq;
	m.u.beat.send_time = in->u.beat.send_time;
	pn_fill_health(pn, &m.u.beat);
	pn_send(pn, &m, &p->addr);
}

static void
pn_on_ack(struct peernet *pn, struct pn_peer *p, const struct peerproto_msg *in)
{
	uint64_t now = clock_wall_ms();
	const struct peerproto_beat *b = &in->u.beat;
	uint32_t rtt;

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
	if (a->status == CODNS_FOUND || a->status == CODNS_NOTFOUND ||
	    a->status == CODNS_NODATA) {
		m.type = PEERPROTO_T_ANSWER;
		m.u.answer.id = s->qid;
		m.u.answer.a = *a;
		m.u.answer.a.peer[0] = '\0';
		if (peerproto_encode(&m, pn->have_key ? pn->key : NULL,
			clock_wall_ms(), dgram, sizeof(dgram), &len) == -1) {
			memset(&m, 0, sizeof(m));
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

static void
pn_pending_unlink(struct peernet_query *q)
{
	LIST_REMOVE(q, entry);
	q->pn->npending--;
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
			stats_count(pn->d->stats, STATS_PEER_UNLISTED);
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

/* Load the peers file into a new list; the table keeps the state of the
 * peers that stay. */
static int
pn_load_list(struct peernet *pn, char *err, size_t errlen)
{
	struct conf_addr *addrs = NULL;
	struct pn_peer *list;
	uint64_t *ids;
	size_t n = 0, i, j;

	if (conf_load_peers(pn->d->conf.peers_file, &addrs, &n, err, errlen) ==
	    -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: %s", pn->d->conf.peers_file,
			    strerror(ENOENT));
		return -1;
	}
	list = calloc(n ? n : 1, sizeof(*list));
	ids = calloc(n ? n : 1, sizeof(*ids));
	if (list == NULL || ids == NULL) {
		free(list);
		free(ids);
		free(addrs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = j = 0; i < n; i++) {
		/* One peers file serves the whole cluster: skip ourselves. */
		if (addr_equal((const struct sockaddr *)&addrs[i].ss,
			(const struct sockaddr *)&pn->d->conf.peer_listen.ss))
			continue;
		list[j].addr = addrs[i];
		list[j].id = ids[j] = pn_peer_id(&addrs[i]);
		addr_format((const struct sockaddr *)&addrs[i].ss, list[j].name,
		    sizeof(list[j].name));
		j++;
	}
	n = j;
	free(addrs);
	if (peers_set_list(pn->peers, ids, n, clock_loop_ms(pn->d->loop)) == -1) {
		free(list);
		free(ids);
		snprintf(err, errlen, "too many peers");
		return -1;
	}
	free(ids);
	free(pn->list);
	pn->list = list;
	pn->nlist = n;
	stat(pn->d->conf.peers_file, &pn->file_st);
	pn_hb_arm(pn);
	return 0;
}

static void
pn_file_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peernet *pn = w->data;
	struct stat st;
	char err[1024];

	if (stat(pn->d->conf.peers_file, &st) == -1 ||
	    (st.st_mtim.tv_sec == pn->file_st.st_mtim.tv_sec &&
		st.st_mtim.tv_nsec == pn->file_st.st_mtim.tv_nsec &&
		st.st_size == pn->file_st.st_size && st.st_ino == pn->file_st.st_ino))
		return;
	if (pn_load_list(pn, err, sizeof(err)) == -1) {
		log_warnx("peers file not reloaded: %s", err);
		pn->file_st = st;
	} else
		log_info("peers file changed: %zu peers", pn->nlist);
}

static void
pn_config_of(const struct conf *c, struct peers_config *pc)
{
	peers_config_default(pc);
	pc->neighbors = c->neighbors;
	pc->neighbor_rtt_max_ms = c->neighbor_rtt_max_ms;
	pc->heartbeat_discovery_ms = c->heartbeat_discovery_ms;
	pc->heartbeat_steady_ms = c->heartbeat_steady_ms;
}

static int
pn_load_key(struct peernet *pn, char *err, size_t errlen)
{
	if (pn->d->conf.peer_key_file[0] == '\0') {
		pn->have_key = 0;
		return 0;
	}
	if (peerproto_key_load(pn->d->conf.peer_key_file, pn->key, err,
		errlen) == -1)
		return -1;
	pn->have_key = 1;
	return 0;
}

int
peernet_open(struct codnsd *d, struct peernet **out, char *err, size_t errlen)
{
	struct peernet *pn;
	struct peers_config pc;
	struct stat st;
	size_t i;
	int one = 1;

	*out = NULL;
	if (stat(d->conf.peers_file, &st) == -1 && errno == ENOENT)
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
	pn_config_of(&d->conf, &pc);
	peerproto_replay_init(&pn->replay, PEERPROTO_SKEW_MS);
	ev_init(&pn->hb, pn_hb_cb);
	ev_timer_init(&pn->file, pn_file_cb, PN_FILE_CHECK_S, PN_FILE_CHECK_S);
	pn->hb.data = pn->file.data = pn;
	if ((pn->peers = peers_new(&pc)) == NULL ||
	    pn_load_key(pn, err, errlen) == -1)
		goto fail;
	pn->fd = socket(d->conf.peer_listen.ss.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (pn->fd == -1 ||
	    setsockopt(pn->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
		-1 ||
	    bind(pn->fd, (struct sockaddr *)&d->conf.peer_listen.ss,
		d->conf.peer_listen.len) == -1) {
		char a[ADDR_STRLEN];

		snprintf(err, errlen, "peer-listen %s: %s",
		    addr_format((struct sockaddr *)&d->conf.peer_listen.ss, a,
			sizeof(a)),
		    strerror(errno));
		goto fail;
	}
	if (pn_load_list(pn, err, errlen) == -1)
		goto fail;
	ev_io_init(&pn->io, pn_read_cb, pn->fd, EV_READ);
	pn->io.data = pn;
	ev_io_start(d->loop, &pn->io);
	ev_timer_start(d->loop, &pn->file);
	*out = pn;
	return 0;
fail:
	peernet_free(pn);
	return -1;
}

int
peernet_reload(struct peernet *pn, char *err, size_t errlen)
{
	struct peers_config pc;

	pn_config_of(&pn->d->conf, &pc);
	peers_configure(pn->peers, &pc);
	if (pn_load_key(pn, err, errlen) == -1)
		return -1;
	return pn_load_list(pn, err, errlen);
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
	ev_timer_stop(pn->d->loop, &pn->file);
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
	if ((p = pn_by_id(pn, id)) == NULL || pn->npending >= PN_QUERIES_MAX ||
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
