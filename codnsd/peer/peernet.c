/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peernet.c: the peer transport: heartbeats, this node's own
 * addresses, datagrams in, the peers file's reloads. */
#include "peernet.h"
#include "peernet_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "addr.h"
#include "conf.h"
#include "log.h"
#include "nshealth.h"
#include "peerproto.h"
#include "peerlist.h"
#include "peers.h"

/* The listed entries by id and by address (peerlist.h). */
struct peerlist_entry *
peernet_by_id(const struct peernet *pn, uint64_t id)
{
	return peerlist_by_id(pn->list, pn->nlist, id);
}

static struct peerlist_entry *
pn_by_addr(const struct peernet *pn, const struct sockaddr *sa)
{
	return peerlist_by_addr(pn->list, pn->nlist, sa);
}

uint64_t
peernet_now_us(const struct peernet *pn)
{
	return pn->env.now_us(pn->env.clock);
}

uint64_t
peernet_now_ms(const struct peernet *pn)
{
	return peernet_now_us(pn) / 1000;
}

uint64_t
peernet_wall_ms(const struct peernet *pn)
{
	return pn->env.wall_ms(pn->env.ctx);
}

void
peernet_count(const struct peernet *pn, enum stats_counter c)
{
	pn->env.stat_count(pn->env.ctx, c);
}

void
peernet_send(struct peernet *pn, const struct peerproto_msg *m,
    const struct conf_addr *to)
{
	uint8_t dgram[PEERPROTO_DGRAM_MAX];
	size_t len;

	if (peerproto_encode(m, pn->have_key ? pn->key : NULL, peernet_wall_ms(pn),
		dgram, sizeof(dgram), &len) == -1) {
		log_debug("peer message of type %u does not encode", m->type);
		return;
	}
	/* UDP: a failed send is a lost datagram, which the race and the
	 * heartbeat schedule already expect. */
	if (pn->env.send(pn->env.ctx, dgram, len,
		(const struct sockaddr *)&to->ss, to->len) == -1)
		log_debug("peer send: %s", strerror(errno));
}

static void
pn_fill_health(struct peernet *pn, struct peerproto_beat *b)
{
	struct peernet_health h;

	pn->env.health(pn->env.ctx, &h);
	b->ns_mean_ms = h.mean_ms;
	/* Decayed with time, not per query: a recovered nameserver looks
	 * healthy within seconds however few queries it sees (issue 21). */
	b->ns_fail_permille = (uint16_t)peers_nshealth_fail(&pn->nsh,
	    h.queries, h.failures, peernet_now_ms(pn));
	b->ns_set_id = h.nsset_id;
}

void
peernet_hb_arm(struct peernet *pn)
{
	uint64_t now = peernet_now_ms(pn), next = peers_next_wakeup(pn->peers, now);

	pn->env.timer_stop(pn->hb);
	if (next == PEERS_NEVER)
		return;
	pn->env.timer_start(pn->hb, next > now ? (next - now) * 1000 : 0);
}

static void
pn_hb_cb(void *arg)
{
	struct peernet *pn = arg;
	struct peers_heartbeat hb[PN_HB_BATCH];
	struct peerproto_msg m;
	struct peernet_health h;
	struct peerlist_entry *p;
	uint64_t next;
	size_t i, n;

	pn->env.health(pn->env.ctx, &h);
	peers_set_self_nsid(pn->peers, h.nsset_id);
	n = peers_heartbeat_due(pn->peers, peernet_now_ms(pn), hb, PN_HB_BATCH, &next);
	for (i = 0; i < n; i++) {
		if ((p = peernet_by_id(pn, hb[i].id)) == NULL)
			continue;
		memset(&m, 0, sizeof(m));
		m.version = p->version;
		m.type = PEERPROTO_T_HEARTBEAT;
		m.u.beat.seq = hb[i].seq;
		m.u.beat.send_time = peernet_wall_ms(pn);
		/* Only we can read it: which listed entry this went to. */
		if (p->version != 1) {
			m.u.beat.node_nonce = pn->nonce ^ p->id;
			if (m.u.beat.node_nonce == 0)
				m.u.beat.node_nonce = pn->nonce;
		}
		pn_fill_health(pn, &m.u.beat);
		peernet_send(pn, &m, &p->addr);
		peernet_count(pn, STATS_HEARTBEATS_SENT);
	}
	if (peers_generation(pn->peers) != pn->generation) {
		pn->generation = peers_generation(pn->peers);
		peernet_fail_dead(pn);
	}
	if (pn->full_ms == 0 && pn->nlist > 0 &&
	    peers_neighbours(pn->peers) >= (pn->nlist < pn->neighbors ?
						pn->nlist :
						pn->neighbors)) {
		pn->full_ms = peernet_now_ms(pn);
		log_info("peers: %zu neighbours, %.2f s after start",
		    peers_neighbours(pn->peers),
		    (double)(pn->full_ms - pn->opened_ms) / 1000.0);
	}
	peernet_hb_arm(pn);
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
pn_found_self(struct peernet *pn, struct peerlist_entry *p)
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
	if (peers_set_list(pn->peers, ids, j, peernet_now_ms(pn)) ==
	    0) {
		for (i = j = 0; i < pn->nlist; i++)
			if (&pn->list[i] != p)
				pn->list[j++] = pn->list[i];
		pn->nlist = j;
	}
	free(ids);
	peernet_hb_arm(pn);
}

/* The listed entry a heartbeat of our own was sent to, or NULL when the
 * heartbeat is another node's. */
static struct peerlist_entry *
pn_self_entry(const struct peernet *pn, const struct peerproto_msg *in)
{
	if (in->type != PEERPROTO_T_HEARTBEAT || in->version < 2)
		return NULL;
	return peernet_by_id(pn, in->u.beat.node_nonce ^ pn->nonce);
}

static void
pn_on_heartbeat(struct peernet *pn, struct peerlist_entry *p,
    const struct peerproto_msg *in)
{
	struct peerproto_msg m;
	struct peerlist_entry *self;

	if ((self = pn_self_entry(pn, in)) != NULL) {
		pn_found_self(pn, self);
		return;
	}
	memset(&m, 0, sizeof(m));
	/* In the heartbeat's version, so an older peer can read it; ours
	 * to it from now on too (an upgrade goes node by node). */
	p->version = in->version;
	m.version = in->version;
	if (in->version >= 2)
		m.u.beat.node_nonce = pn->nonce;
	m.type = PEERPROTO_T_ACK;
	m.u.beat.seq = in->u.beat.seq;
	m.u.beat.send_time = in->u.beat.send_time;
	/* Its echo of this ack is a round-trip sample of ours: the peer's
	 * heartbeats measure both ends (the node-wide heartbeat limit
	 * makes samples scarce at start). */
	if (in->version >= 3 && peers_want_echo(pn->peers, p->id))
		p->echo_want = m.u.beat.reply_time = peernet_now_us(pn) | 1;
	pn_fill_health(pn, &m.u.beat);
	peernet_send(pn, &m, &p->addr);
	peernet_count(pn, STATS_HEARTBEATS_RECEIVED);
	/* A heartbeat from a peer we think down or not yet there is a sign
	 * of life: probe it now (adoption, issue 15). */
	if (peers_heard(pn->peers, p->id, peernet_now_ms(pn)) == 1)
		peernet_hb_arm(pn);
}

/* The third datagram of the exchange: the ack's reply_time goes back at
 * once, so the acker measures the round trip as well. One echo per ack,
 * and only to a listed peer: nothing is amplified. */
static void
pn_send_echo(struct peernet *pn, struct peerlist_entry *p,
    const struct peerproto_beat *ack)
{
	struct peerproto_msg m;

	memset(&m, 0, sizeof(m));
	m.version = 3;
	m.type = PEERPROTO_T_ECHO;
	m.u.beat.seq = ack->seq;
	m.u.beat.send_time = ack->reply_time;
	m.u.beat.node_nonce = pn->nonce;
	pn_fill_health(pn, &m.u.beat);
	peernet_send(pn, &m, &p->addr);
}

static void
pn_on_ack(struct peernet *pn, struct peerlist_entry *p, const struct peerproto_msg *in)
{
	uint64_t now = peernet_wall_ms(pn);
	const struct peerproto_beat *b = &in->u.beat;
	uint32_t rtt;

	if (b->node_nonce == pn->nonce) {
		pn_found_self(pn, p);
		return;
	}
	if (b->send_time > now || now - b->send_time > 3600 * 1000) {
		peernet_count(pn, STATS_PEER_UNEXPECTED);
		return;
	}
	rtt = (uint32_t)(now - b->send_time);
	if (peers_ack(pn->peers, p->id, b->seq, rtt, b->ns_mean_ms,
		b->ns_fail_permille, b->ns_set_id, peernet_now_ms(pn)) == -1) {
		peernet_count(pn, STATS_PEER_UNEXPECTED);
		return;
	}
	peernet_count(pn, STATS_HEARTBEATS_ACKED);
	if (in->version >= 3 && b->reply_time != 0)
		pn_send_echo(pn, p, b);
	peernet_hb_arm(pn);
}

/* The echo of an ack of ours came back: a round-trip sample. */
static void
pn_on_echo(struct peernet *pn, struct peerlist_entry *p,
    const struct peerproto_msg *in)
{
	const struct peerproto_beat *b = &in->u.beat;
	uint64_t now = peernet_now_us(pn);
	uint32_t rtt;

	if (b->node_nonce == pn->nonce)
		return;
	/* Only the echo of the last ack that asked for one: a replayed or
	 * made-up echo (a send time a moment ago reads near) is no sample. */
	if (p->echo_want == 0 || b->send_time != p->echo_want ||
	    b->send_time > now || now - b->send_time > 3600 * 1000000ULL) {
		peernet_count(pn, STATS_PEER_UNEXPECTED);
		return;
	}
	p->echo_want = 0;
	rtt = (uint32_t)((now - b->send_time + 500) / 1000);
	if (peers_echo(pn->peers, p->id, rtt, b->ns_mean_ms,
		b->ns_fail_permille, b->ns_set_id, peernet_now_ms(pn)) == -1) {
		peernet_count(pn, STATS_PEER_UNEXPECTED);
		return;
	}
	peernet_hb_arm(pn);
}

static void
pn_count_decode_error(struct peernet *pn, int err)
{
	switch (err) {
	case PEERPROTO_EUNSIGNED:
	case PEERPROTO_EBADTAG:
	case PEERPROTO_EUNEXPECTED_AUTH:
		peernet_count(pn, STATS_PEER_BAD_AUTH);
		break;
	case PEERPROTO_ESTALE:
		peernet_count(pn, STATS_PEER_STALE);
		break;
	default:
		peernet_count(pn, STATS_PEER_BAD_DATAGRAM);
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
	struct peerlist_entry *self;

	if ((pn_is_self(pn, from) || pn_is_loopback(from)) &&
	    n <= PEERPROTO_DGRAM_MAX &&
	    peerproto_decode(dgram, n, pn->have_key ? pn->key : NULL,
		peernet_wall_ms(pn), PEERPROTO_SKEW_MS, &m) == PEERPROTO_OK &&
	    (self = pn_self_entry(pn, &m)) != NULL) {
		pn_found_self(pn, self);
		return;
	}
	peernet_count(pn, STATS_PEER_UNLISTED);
}

void
peernet_input(struct peernet *pn, const uint8_t *dgram, size_t n,
    const struct sockaddr *from)
{
	struct peerproto_msg m;
	struct peerlist_entry *p;
	int err;

	if ((p = pn_by_addr(pn, from)) == NULL) {
		pn_unlisted(pn, dgram, n, from);
		return;
	}
	if (n > PEERPROTO_DGRAM_MAX) {
		peernet_count(pn, STATS_PEER_BAD_DATAGRAM);
		return;
	}
	err = peerproto_decode(dgram, n, pn->have_key ? pn->key : NULL,
	    peernet_wall_ms(pn), PEERPROTO_SKEW_MS, &m);
	if (err != PEERPROTO_OK) {
		log_debug("peer %s: %s", p->name, peerproto_strerror(err));
		pn_count_decode_error(pn, err);
		return;
	}
	if (m.authenticated &&
	    peerproto_replay_check(&pn->replay, &m, peernet_wall_ms(pn)) == -1) {
		peernet_count(pn, STATS_PEER_STALE);
		return;
	}
	switch (m.type) {
	case PEERPROTO_T_HEARTBEAT:
		pn_on_heartbeat(pn, p, &m);
		break;
	case PEERPROTO_T_ACK:
		pn_on_ack(pn, p, &m);
		break;
	case PEERPROTO_T_ECHO:
		pn_on_echo(pn, p, &m);
		break;
	case PEERPROTO_T_QUERY:
		peernet_on_query(pn, p, &m);
		break;
	case PEERPROTO_T_ANSWER:
	case PEERPROTO_T_CANNOT:
		peernet_on_reply(pn, p, &m);
		break;
	default:
		peernet_count(pn, STATS_PEER_BAD_DATAGRAM);
	}
}

/*
 * What a reload of the peer side needs, built before anything is changed:
 * the new list, the key and the settings (see peernet_prepare()).
 */
struct peernet_staged {
	struct peerlist_entry *list;
	uint64_t *ids;
	size_t n;
	uint8_t key[PEERPROTO_KEY_LEN];
	int have_key;
	struct peers_config pc;
	char peers_file[PATH_MAX];
	int file_optional;
	size_t cut; /* peers-dns addresses beyond CONF_PEERS_MAX */
	char dns_names[CONF_PEERS_DNS_MAX][CONF_DNSNAME_MAX + 1];
	size_t ndns_names;
	uint16_t port; /* peer-listen's */
	struct conf_addr listen;
	size_t queue_max;
};

/* The staged list: the peers file of s and the peers-dns peers. */
static int
pn_stage_list(const struct peernet *pn, struct peernet_staged *s, char *err,
    size_t errlen)
{
	struct peerlist_more more = { pn->dns, pn->dns_src, pn->ndns,
		s->file_optional };

	return peerlist_read(s->peers_file, &more, &s->listen, pn->self,
	    pn->nself, &s->list, &s->ids, &s->n, &s->cut, err, errlen);
}

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
	pc->seed = peerlist_id((const struct sockaddr *)&c->peer_listen.ss);
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
	s->file_optional = c->npeers_dns > 0;
	memcpy(s->dns_names, c->peers_dns, sizeof(s->dns_names));
	s->ndns_names = c->npeers_dns;
	s->port = addr_port((const struct sockaddr *)&c->peer_listen.ss);
	s->listen = c->peer_listen;
	s->queue_max = c->peer_queue_max;
	if (pn_stage_list(pn, s, err, errlen) == -1 ||
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
	const struct peerlist_entry *old;
	size_t i;

	if (peers_set_list(pn->peers, s->ids, s->n,
		peernet_now_ms(pn)) == -1)
		return -1;
	/* The versions the peers that stay speak (an upgrade in progress),
	 * and the echo each was asked for. */
	for (i = 0; i < s->n; i++)
		if ((old = peernet_by_id(pn, s->list[i].id)) != NULL) {
			s->list[i].version = old->version;
			s->list[i].echo_want = old->echo_want;
		}
	free(pn->list);
	pn->list = s->list;
	pn->nlist = s->n;
	s->list = NULL;
	pn->dns_cut += s->cut;
	stat(s->peers_file, &pn->file_st);
	peernet_hb_arm(pn);
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
	memcpy(pn->peers_file, s->peers_file, sizeof(pn->peers_file));
	if (pn->watch != NULL)
		pn->env.watch_retarget(pn->watch, pn->peers_file);
	pn->file_optional = s->file_optional;
	pn->listen = s->listen;
	pn->neighbors = s->pc.neighbors;
	pn->queue_max = s->queue_max;
	/* The names are followed by the env (a reload re-resolves them). */
	if (pn->env.dns_configure != NULL)
		pn->env.dns_configure(pn->env.ctx, s->dns_names, s->ndns_names,
		    s->port);
	peernet_staged_free(s);
	return 0;
}

/* The peers file changed (a config push): its new list, same settings. */
static void
pn_file_cb(void *arg)
{
	struct peernet *pn = arg;
	struct peernet_staged *s = NULL;
	struct stat st;
	char err[1024] = "out of memory";

	if (pn->watch == NULL)
		pn->env.timer_start(pn->file,
		    (uint64_t)pn->file_check_ms * 1000);
	if (stat(pn->peers_file, &st) == -1 ||
	    !conf_file_changed(&st, &pn->file_st))
		return;
	if ((s = calloc(1, sizeof(*s))) != NULL) {
		memcpy(s->peers_file, pn->peers_file, sizeof(s->peers_file));
		s->file_optional = pn->file_optional;
		s->listen = pn->listen;
	}
	if (s == NULL || pn_stage_list(pn, s, err, sizeof(err)) == -1 ||
	    pn_commit_list(pn, s) == -1) {
		log_warnx("peers file not reloaded: %s", err);
		pn->file_st = st;
	} else
		log_info("peers file changed: %zu peers", pn->nlist);
	peernet_staged_free(s);
}

int
peernet_new(const struct peernet_env *env, const struct conf *c,
    struct peernet **out, char *err, size_t errlen)
{
	struct peernet *pn;
	struct peernet_staged *s = NULL;
	size_t i;

	*out = NULL;
	if (sodium_init() == -1 || (pn = calloc(1, sizeof(*pn))) == NULL) {
		snprintf(err, errlen, "cannot initialise the peer module");
		return -1;
	}
	pn->env = *env;
	pn->file_check_ms = env->file_check_ms ? env->file_check_ms :
	    PN_FILE_CHECK_MS;
	for (i = 0; i < PN_BUCKETS; i++)
		LIST_INIT(&pn->pending[i]);
	LIST_INIT(&pn->serving);
	pn->opened_ms = peernet_now_ms(pn);
	peerproto_replay_init(&pn->replay, PEERPROTO_SKEW_MS);
	do
		randombytes_buf(&pn->nonce, sizeof(pn->nonce));
	while (pn->nonce == 0);
	if ((pn->hb = env->timer_new(env->clock, pn_hb_cb, pn)) == NULL ||
	    (pn->file = env->timer_new(env->clock, pn_file_cb, pn)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pn_stage(pn, c, 1, &s, err, errlen) == -1)
		goto fail;
	if ((pn->peers = peers_new(&s->pc)) == NULL ||
	    peernet_commit(pn, s) == -1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s = NULL;
	if (env->watch_new != NULL)
		pn->watch = env->watch_new(env->ctx, pn->peers_file, pn_file_cb,
		    pn);
	if (pn->watch == NULL)
		env->timer_start(pn->file, (uint64_t)pn->file_check_ms * 1000);
	*out = pn;
	return 0;
fail:
	peernet_staged_free(s);
	pn->env.release = NULL; /* the caller's to clean up */
	peernet_free(pn);
	return -1;
}

void
peernet_free(struct peernet *pn)
{
	if (pn == NULL)
		return;
	peernet_queries_free(pn);
	if (pn->hb != NULL)
		pn->env.timer_free(pn->hb);
	if (pn->file != NULL)
		pn->env.timer_free(pn->file);
	if (pn->watch != NULL)
		pn->env.watch_free(pn->watch);
	peers_free(pn->peers);
	sodium_memzero(pn->key, sizeof(pn->key));
	free(pn->list);
	free(pn->dns);
	free(pn->dns_src);
	if (pn->env.release != NULL)
		pn->env.release(pn->env.ctx);
	free(pn);
}

size_t
peernet_rows(const struct peernet *pn, struct peernet_row *out, size_t max)
{
	struct peers_row r;
	struct peerlist_entry *p;
	uint64_t now = peernet_now_ms(pn);
	size_t i, n = 0;

	for (i = 0; i < peers_count(pn->peers) && n < max; i++) {
		if (peers_row(pn->peers, i, &r) == -1 ||
		    (p = peernet_by_id(pn, r.id)) == NULL)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].addr, sizeof(out[n].addr), "%s", p->name);
		if (p->src == PEERLIST_SRC_FILE)
			snprintf(out[n].source, sizeof(out[n].source), "file");
		else
			snprintf(out[n].source, sizeof(out[n].source), "dns %s",
			    pn->dns_names[p->src]);
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

int
peernet_set_dns(struct peernet *pn, const struct conf_addr *addrs,
    const uint16_t *src, size_t n, const char (*names)[CONF_DNSNAME_MAX + 1],
    size_t nnames, size_t cut)
{
	struct peernet_staged *s;
	struct conf_addr *a = calloc(n ? n : 1, sizeof(*a));
	uint16_t *sr = calloc(n ? n : 1, sizeof(*sr));
	char err[1024] = "out of memory";
	size_t i;

	if (a == NULL || sr == NULL || (s = calloc(1, sizeof(*s))) == NULL) {
		free(a);
		free(sr);
		log_warnx("peers-dns list not applied: out of memory");
		return -1;
	}
	pn->dns_cut += cut;
	if (n > 0) {
		memcpy(a, addrs, n * sizeof(*a));
		memcpy(sr, src, n * sizeof(*sr));
	}
	free(pn->dns);
	free(pn->dns_src);
	pn->dns = a;
	pn->dns_src = sr;
	pn->ndns = n;
	for (i = 0; i < nnames && i < CONF_PEERS_DNS_MAX; i++)
		snprintf(pn->dns_names[i], sizeof(pn->dns_names[i]), "%s",
		    names[i]);
	memcpy(s->peers_file, pn->peers_file, sizeof(s->peers_file));
	s->file_optional = pn->file_optional;
	s->listen = pn->listen;
	if (pn_stage_list(pn, s, err, sizeof(err)) == -1 ||
	    pn_commit_list(pn, s) == -1) {
		log_warnx("peers-dns list not applied: %s", err);
		peernet_staged_free(s);
		return -1;
	}
	log_info("peer list: %zu peers (%zu from peers-dns)", pn->nlist, n);
	peernet_staged_free(s);
	return 0;
}

uint64_t
peernet_dns_cut(const struct peernet *pn)
{
	return pn->dns_cut;
}

void *
peernet_env_ctx(const struct peernet *pn)
{
	return pn->env.ctx;
}
