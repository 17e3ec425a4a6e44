/* SPDX-License-Identifier: MIT */
/* tests/unit/test_peernet.c: the peer transport against a fake clock, fake
 * timers and a fake socket: heartbeat schedule, stale acks, the query path
 * both ways, the peers file check. No sockets, no sleeps, no libev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "conf.h"
#include "fakeclock.h"
#include "peernet.h"
#include "peerproto.h"
#include "peerlist.h"
#include "peers.h"

#define MAXD 512
#define NPEERS 3
#define WALL0 1700000000000ULL

struct fdgram {
	struct sockaddr_in to;
	struct peerproto_msg m;
	uint64_t at;
};

static struct world {
	uint64_t now; /* us */
	struct fakeclock clk;
	struct fdgram out[MAXD];
	size_t nout;
	uint64_t counters[STATS_NCOUNTERS];
	int released;
	char path[64];
	struct peernet *pn;
	/* the peer query callback's last call */
	int cb_calls, cb_result;
	struct proto_answer cb_answer;
	uint32_t cb_latency;
} W;

static uint64_t
f_wall_ms(void *ctx)
{
	(void)ctx;
	return WALL0 + W.now / 1000;
}

/* The fake socket: every datagram sent is decoded and kept. */
static int
f_send(void *ctx, const void *buf, size_t len, const struct sockaddr *to,
    socklen_t tolen)
{
	struct fdgram *d = &W.out[W.nout];

	(void)ctx;
	assert_true(W.nout < MAXD);
	assert_int_equal(tolen, sizeof(struct sockaddr_in));
	memcpy(&d->to, to, sizeof(d->to));
	assert_int_equal(peerproto_decode(buf, len, NULL, WALL0 + W.now / 1000,
	    PEERPROTO_SKEW_MS, &d->m), PEERPROTO_OK);
	d->at = W.now;
	W.nout++;
	return 0;
}

static void
f_count(void *ctx, enum stats_counter c)
{
	(void)ctx;
	W.counters[c]++;
}

static void
f_health(void *ctx, struct peernet_health *h)
{
	(void)ctx;
	h->mean_ms = 3;
	h->queries = 10;
	h->failures = 0;
	h->nsset_id = 77;
}

static void
f_release(void *ctx)
{
	(void)ctx;
	W.released++;
}

static const struct peernet_env fake_env = {
	FAKECLOCK_ENV(&W.clk),
	.wall_ms = f_wall_ms,
	.send = f_send,
	.stat_count = f_count,
	.health = f_health,
	.release = f_release,
	.file_check_ms = 100,
};

static struct sockaddr_in
addr_of(int host)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(7053);
	a.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)host);
	return a;
}

static int
host_of(const struct sockaddr_in *a)
{
	return (int)(ntohl(a->sin_addr.s_addr) & 0xff);
}

static void
write_peers(int n)
{
	FILE *f = fopen(W.path, "w");
	int i;

	assert_non_null(f);
	/* Ourselves (127.0.0.1) too, as one cluster-wide file lists. */
	for (i = 1; i <= n + 1; i++)
		fprintf(f, "127.0.0.%d:7053\n", i);
	fclose(f);
}

static int
setup(void **state)
{
	struct conf c;
	struct sockaddr_in self = addr_of(1);
	char err[256];
	int fd;

	(void)state;
	memset(&W, 0, sizeof(W));
	W.clk.now = &W.now;
	W.now = 5000000;
	snprintf(W.path, sizeof(W.path), "/tmp/test_peernet.XXXXXX");
	assert_true((fd = mkstemp(W.path)) != -1);
	close(fd);
	write_peers(NPEERS);
	conf_defaults(&c);
	snprintf(c.peers_file, sizeof(c.peers_file), "%s", W.path);
	memcpy(&c.peer_listen.ss, &self, sizeof(self));
	c.peer_listen.len = sizeof(self);
	c.neighbors = 2;
	if (peernet_new(&fake_env, &c, &W.pn, err, sizeof(err)) == -1)
		fail_msg("peernet_new: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	peernet_free(W.pn);
	assert_int_equal(W.released, 1);
	assert_int_equal(fakeclock_in_use(&W.clk), 0);
	unlink(W.path);
	return 0;
}

static void
advance(uint64_t ms)
{
	fakeclock_advance(&W.clk, ms);
}

/* A datagram from host arrives. */
static void
deliver(int host, struct peerproto_msg *m)
{
	struct sockaddr_in from = addr_of(host);
	uint8_t buf[PEERPROTO_DGRAM_MAX];
	size_t len;

	assert_int_equal(peerproto_encode(m, NULL, WALL0 + W.now / 1000, buf,
	    sizeof(buf), &len), 0);
	peernet_input(W.pn, buf, len, (const struct sockaddr *)&from);
}

/* Host acks the heartbeat d, whose send time it echoes. */
static void
ack(int host, const struct fdgram *d)
{
	struct peerproto_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_ACK;
	m.u.beat = d->m.u.beat;
	m.u.beat.node_nonce = 1000 + (uint64_t)host;
	m.u.beat.ns_set_id = 500 + (uint64_t)host;
	deliver(host, &m);
}

/* Ack every heartbeat sent since *from, at least 4 ms ago, by the hosts
 * up[]. */
static void
ack_new(size_t *from, const int *up)
{
	size_t i;

	for (i = *from; i < W.nout && W.out[i].at + 4000 <= W.now; i++)
		if (W.out[i].m.type == PEERPROTO_T_HEARTBEAT &&
		    up[host_of(&W.out[i].to)])
			ack(host_of(&W.out[i].to), &W.out[i]);
	*from = i;
}

static size_t
sent_to(int host, uint8_t type, size_t from)
{
	size_t i, n = 0;

	for (i = from; i < W.nout; i++)
		n += host_of(&W.out[i].to) == host && W.out[i].m.type == type;
	return n;
}

static const struct peernet_row *
row_of(int host, struct peernet_row *rows)
{
	char want[32];
	size_t i, n;

	n = peernet_rows(W.pn, rows, 8);
	snprintf(want, sizeof(want), "127.0.0.%d:7053", host);
	for (i = 0; i < n; i++)
		if (strcmp(rows[i].addr, want) == 0)
			return &rows[i];
	fail_msg("no row for %s", want);
	return NULL;
}

/* Run with every peer acking after 4 ms, until the table is steady. */
static void
run_acking(uint64_t ms, const int *up, size_t *acked)
{
	uint64_t end = W.now + ms * 1000;

	while (W.now < end) {
		advance(1);
		ack_new(acked, up);
	}
}

static const int all_up[8] = { 0, 0, 1, 1, 1, 0, 0, 0 };

/* The heartbeat schedule through the transport: one to each listed peer
 * (ourselves left out), spaced by the node's limit of one per
 * PEERS_HB_GAP_MS, the fast start 1, 2, 4 and 8 s apart, then every
 * heartbeat-steady; acks measure the RTT. */
static void
test_heartbeat_schedule(void **state)
{
	struct peernet_row rows[8];
	size_t acked = 0, mark;
	int h;

	(void)state;
	advance(0);
	assert_int_equal(W.nout, 1); /* the limit: one at once */
	advance(2 * PEERS_HB_GAP_MS);
	assert_int_equal(W.nout, NPEERS);
	for (h = 2; h <= 4; h++)
		assert_int_equal(sent_to(h, PEERPROTO_T_HEARTBEAT, 0), 1);
	assert_int_equal(sent_to(1, PEERPROTO_T_HEARTBEAT, 0), 0);
	assert_int_equal(W.out[0].m.u.beat.ns_set_id, 77);
	run_acking(20000, all_up, &acked);
	/* The node's limit holds: no two heartbeats closer than the gap. */
	for (size_t k = 1, prev = 0; k < W.nout; k++)
		if (W.out[k].m.type == PEERPROTO_T_HEARTBEAT) {
			if (prev != 0 || W.out[0].m.type ==
			    PEERPROTO_T_HEARTBEAT)
				assert_true(W.out[k].at - W.out[prev].at >=
				    PEERS_HB_GAP_MS * 1000);
			prev = k;
		}
	for (h = 2; h <= 4; h++) {
		const struct peernet_row *r = row_of(h, rows);

		/* The first, then the fast start (1, 2, 4, 8 s); the limit
		 * can shift a sample so that the first peer gets one more
		 * 1 s step. */
		assert_in_range(sent_to(h, PEERPROTO_T_HEARTBEAT, 0), 5, 6);
		assert_int_equal(r->rtt_ms, 4);
		assert_int_equal(r->ns_set_id, 500 + (uint64_t)h);
		assert_true(strcmp(r->state, "neighbour") == 0 ||
		    strcmp(r->state, "candidate") == 0);
	}
	/* Steady: one each per 30 s. */
	mark = W.nout;
	run_acking(60000, all_up, &acked);
	for (h = 2; h <= 4; h++)
		assert_int_equal(sent_to(h, PEERPROTO_T_HEARTBEAT, mark), 2);
	/* Every heartbeat was acked and counted: 7 or 8 per peer. */
	assert_int_equal(W.counters[STATS_HEARTBEATS_ACKED],
	    sent_to(2, PEERPROTO_T_HEARTBEAT, 0) +
	    sent_to(3, PEERPROTO_T_HEARTBEAT, 0) +
	    sent_to(4, PEERPROTO_T_HEARTBEAT, 0));
	assert_in_range(W.counters[STATS_HEARTBEATS_ACKED], 3 * 7, 3 * 7 + 1);
}

/* An ack of a heartbeat sent while the peer was stopped, arriving seconds
 * later, is not an RTT sample; it brings a fresh heartbeat at once. */
static void
test_stale_ack(void **state)
{
	static const int no4[8] = { 0, 0, 1, 1, 0, 0, 0, 0 };
	struct peernet_row rows[8];
	size_t acked = 0, i, mark, old = 0;

	(void)state;
	advance(0);
	run_acking(20000, all_up, &acked);
	assert_int_equal(row_of(4, rows)->rtt_ms, 4);
	run_acking(60000, no4, &acked);
	assert_string_equal(row_of(4, rows)->state, "down");
	for (i = 0; i < W.nout; i++)
		if (host_of(&W.out[i].to) == 4 &&
		    W.out[i].m.type == PEERPROTO_T_HEARTBEAT)
			old = i;
	assert_true(W.now - W.out[old].at > 1000000);
	mark = W.nout;
	ack(4, &W.out[old]);
	assert_int_equal(row_of(4, rows)->rtt_ms, 4);
	advance(0);
	assert_int_equal(sent_to(4, PEERPROTO_T_HEARTBEAT, mark), 1);
	run_acking(2000, all_up, &acked);
	assert_int_equal(row_of(4, rows)->rtt_ms, 4);
	assert_string_not_equal(row_of(4, rows)->state, "down");
}

static void
query_cb(void *arg, int result, const struct proto_answer *a,
    uint32_t latency_us)
{
	(void)arg;
	W.cb_calls++;
	W.cb_result = result;
	if (a != NULL)
		W.cb_answer = *a;
	W.cb_latency = latency_us;
}

static uint64_t
id_of(int host)
{
	struct peernet_row rows[8];
	uint64_t ids[8];
	size_t i, n;

	/* The far fallback lists every live non-neighbour; select the
	 * neighbours: together, everyone. */
	n = peernet_select(W.pn, &(struct proto_request){ .kind =
	    PROTO_KIND_FORWARD, .name = "x.example" }, ids, 8);
	n += peernet_fallback(W.pn, ids + n, 8 - n);
	assert_int_equal(n, NPEERS);
	(void)row_of(host, rows);
	/* Ask each in turn: the query goes to one address. */
	for (i = 0; i < n; i++) {
		struct proto_request req = { .kind = PROTO_KIND_FORWARD,
			.family = CODNS_AF_INET, .name = "probe.example" };
		size_t mark = W.nout;
		struct peernet_query *q;

		q = peernet_query(W.pn, ids[i], &req, query_cb, NULL);
		assert_non_null(q);
		assert_int_equal(W.nout, mark + 1);
		peernet_query_cancel(q);
		if (host_of(&W.out[mark].to) == host)
			return ids[i];
	}
	fail_msg("no id for host %d", host);
	return 0;
}

/* A query out: sent to the peer's address with a random id; an answer
 * for that id from another listed peer is dropped and counted; the
 * asked peer's answer reaches the callback with its latency. */
static void
test_query_path(void **state)
{
	struct proto_request req = { .kind = PROTO_KIND_FORWARD,
		.family = CODNS_AF_INET, .name = "www.example" };
	struct peerproto_msg m;
	struct peernet_query *q;
	size_t acked = 0, mark;
	uint64_t id;

	(void)state;
	advance(0);
	run_acking(20000, all_up, &acked);
	id = id_of(3);
	mark = W.nout;
	assert_non_null(q = peernet_query(W.pn, id, &req, query_cb, NULL));
	assert_int_equal(W.nout, mark + 1);
	assert_int_equal(host_of(&W.out[mark].to), 3);
	assert_int_equal(W.out[mark].m.type, PEERPROTO_T_QUERY);
	assert_string_equal(W.out[mark].m.u.query.name, "www.example");
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_ANSWER;
	m.u.answer.id = W.out[mark].m.u.query.id;
	m.u.answer.a.status = CODNS_FOUND;
	m.u.answer.a.ttl = 60;
	m.u.answer.a.naddrs = 1;
	m.u.answer.a.addrs[0].family = CODNS_AF_INET;
	m.u.answer.a.addrs[0].a[0] = 192;
	advance(7);
	deliver(2, &m); /* forged: from a peer not asked */
	assert_int_equal(W.cb_calls, 0);
	assert_int_equal(W.counters[STATS_PEER_UNEXPECTED], 1);
	deliver(3, &m);
	assert_int_equal(W.cb_calls, 1);
	assert_int_equal(W.cb_result, PEERNET_ANSWER);
	assert_int_equal(W.cb_answer.status, CODNS_FOUND);
	assert_int_equal(W.cb_answer.addrs[0].a[0], 192);
	assert_string_equal(W.cb_answer.peer, "127.0.0.3:7053");
	assert_int_equal(W.cb_latency, 7000);
	/* Again: the query is gone, so it is unexpected. */
	deliver(3, &m);
	assert_int_equal(W.cb_calls, 1);
	assert_int_equal(W.counters[STATS_PEER_UNEXPECTED], 2);
	/* "Cannot resolve". */
	mark = W.nout;
	assert_non_null(q = peernet_query(W.pn, id, &req, query_cb, NULL));
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_CANNOT;
	m.u.cannot.id = W.out[mark].m.u.query.id;
	deliver(3, &m);
	assert_int_equal(W.cb_calls, 2);
	assert_int_equal(W.cb_result, PEERNET_CANNOT);
}

static void *
serve_now(void *ctx, const struct proto_request *req, peernet_answer_cb *cb,
    void *arg, struct proto_answer *now)
{
	(void)ctx;
	(void)cb;
	(void)arg;
	assert_string_equal(req->name, "asked.example");
	memset(now, 0, sizeof(*now));
	now->status = CODNS_FOUND;
	now->ttl = 30;
	now->naddrs = 1;
	now->addrs[0].family = CODNS_AF_INET;
	now->addrs[0].a[0] = 10;
	return NULL;
}

static void
unserve(void *handle)
{
	(void)handle;
}

/* A query in: served and answered to the asker with its id; from an
 * unlisted address: dropped, counted, never served. */
static void
test_serve_path(void **state)
{
	struct peerproto_msg m;
	size_t mark;

	(void)state;
	peernet_set_server(W.pn, serve_now, unserve, NULL);
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_QUERY;
	m.u.query.id = 4242;
	m.u.query.kind = PROTO_KIND_FORWARD;
	m.u.query.family = CODNS_AF_INET;
	snprintf(m.u.query.name, sizeof(m.u.query.name), "asked.example");
	mark = W.nout;
	deliver(2, &m);
	assert_int_equal(W.nout, mark + 1);
	assert_int_equal(host_of(&W.out[mark].to), 2);
	assert_int_equal(W.out[mark].m.type, PEERPROTO_T_ANSWER);
	assert_int_equal(W.out[mark].m.u.answer.id, 4242);
	assert_int_equal(W.out[mark].m.u.answer.a.addrs[0].a[0], 10);
	assert_int_equal(W.counters[STATS_PEER_SERVED], 1);
	deliver(99, &m);
	assert_int_equal(W.nout, mark + 1);
	assert_int_equal(W.counters[STATS_PEER_UNLISTED], 1);
}

/* The last datagram of type sent to host since from, or NULL. */
static const struct fdgram *
last_to(int host, uint8_t type, size_t from)
{
	const struct fdgram *d = NULL;
	size_t i;

	for (i = from; i < W.nout; i++)
		if (host_of(&W.out[i].to) == host && W.out[i].m.type == type)
			d = &W.out[i];
	return d;
}

/* A heartbeat from host, in version v. */
static void
beat_from(int host, uint8_t v, uint32_t seq)
{
	struct peerproto_msg m;

	memset(&m, 0, sizeof(m));
	m.version = v;
	m.type = PEERPROTO_T_HEARTBEAT;
	m.u.beat.seq = seq;
	m.u.beat.send_time = 777;
	m.u.beat.ns_set_id = 500 + (uint64_t)host;
	if (v >= 2)
		m.u.beat.node_nonce = 1000 + (uint64_t)host;
	deliver(host, &m);
}

static uint64_t
id_of4(void)
{
	struct sockaddr_in a = addr_of(4);

	return peerlist_id((const struct sockaddr *)&a);
}

/* Issue 21, start-up: the three-way exchange. Our ack of a version 3
 * heartbeat asks for an echo (reply_time), and the echo, 6 ms later,
 * measures the peer before any heartbeat of ours to it was acked. An
 * ack that asks for one gets its echo at once. A version 2 peer gets no
 * reply_time, and our heartbeats and queries to it go in version 2
 * from then on, reloads of the peers file included, so an old node reads
 * them. */
static void
test_echo_exchange(void **state)
{
	struct peernet_row rows[8];
	struct peerproto_msg m;
	const struct fdgram *d;
	size_t mark, cur, k;

	(void)state;
	advance(0);
	mark = W.nout;
	beat_from(3, PEERPROTO_VERSION, 1);
	assert_non_null(d = last_to(3, PEERPROTO_T_ACK, mark));
	assert_int_equal(d->m.version, 3);
	assert_int_equal(d->m.u.beat.seq, 1);
	assert_true(d->m.u.beat.reply_time != 0);
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_ECHO;
	m.u.beat.seq = 1;
	m.u.beat.send_time = d->m.u.beat.reply_time;
	m.u.beat.ns_set_id = 503;
	m.u.beat.node_nonce = 1003;
	advance(6);
	deliver(3, &m);
	assert_int_equal(row_of(3, rows)->rtt_ms, 6);
	assert_int_equal(row_of(3, rows)->ns_set_id, 503);
	assert_string_not_equal(row_of(3, rows)->state, "probing");
	assert_string_not_equal(row_of(3, rows)->state, "down");
	/* One from the future is dropped and counted. */
	m.u.beat.send_time = W.now + 1000000;
	deliver(3, &m);
	assert_int_equal(W.counters[STATS_PEER_UNEXPECTED], 1);
	/* So are an echo replayed and one nobody asked for, whose send
	 * time a moment ago would read the peer 1 ms away. */
	m.u.beat.send_time = d->m.u.beat.reply_time;
	deliver(3, &m);
	m.u.beat.send_time = W.now - 1000;
	deliver(3, &m);
	assert_int_equal(W.counters[STATS_PEER_UNEXPECTED], 3);
	assert_int_equal(row_of(3, rows)->rtt_ms, 6);

	/* A heartbeat of ours acked with a reply_time: echoed at once. */
	cur = W.nout;
	run_acking(2000, (const int[8]){ 0 }, &cur);
	assert_non_null(d = last_to(2, PEERPROTO_T_HEARTBEAT, 0));
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_ACK;
	m.u.beat = d->m.u.beat;
	m.u.beat.node_nonce = 1002;
	m.u.beat.reply_time = 0x5eed;
	mark = W.nout;
	deliver(2, &m);
	assert_non_null(d = last_to(2, PEERPROTO_T_ECHO, mark));
	assert_int_equal(d->m.version, 3);
	assert_true(d->m.u.beat.send_time == 0x5eed);
	assert_int_equal(d->m.u.beat.seq, m.u.beat.seq);

	/* A version 2 peer. */
	mark = W.nout;
	beat_from(4, 2, 9);
	assert_non_null(d = last_to(4, PEERPROTO_T_ACK, mark));
	assert_int_equal(d->m.version, 2);
	for (k = 0; k < 5000 && last_to(4, PEERPROTO_T_HEARTBEAT, mark) ==
	    NULL; k++)
		advance(1);
	assert_non_null(d = last_to(4, PEERPROTO_T_HEARTBEAT, mark));
	assert_int_equal(d->m.version, 2);
	advance(4);
	ack(4, d);
	assert_string_not_equal(row_of(4, rows)->state, "down");
	mark = W.nout;
	peernet_query_cancel(peernet_query(W.pn, id_of4(),
	    &(struct proto_request){ .kind = PROTO_KIND_FORWARD,
		.family = CODNS_AF_INET, .name = "old.example" }, query_cb,
	    NULL));
	assert_non_null(d = last_to(4, PEERPROTO_T_QUERY, mark));
	assert_int_equal(d->m.version, 2);
	/* A reload keeps what the peers that stay speak. */
	write_peers(NPEERS + 1);
	advance(100);
	assert_int_equal(peernet_rows(W.pn, rows, 8), NPEERS + 1);
	mark = W.nout;
	for (k = 0; k < 40000 && last_to(4, PEERPROTO_T_HEARTBEAT, mark) ==
	    NULL; k++)
		advance(1);
	assert_non_null(d = last_to(4, PEERPROTO_T_HEARTBEAT, mark));
	assert_int_equal(d->m.version, 2);
}

/* The peers file is checked at the env's interval, not a built-in one. */
static void
test_file_check(void **state)
{
	struct peernet_row rows[8];

	(void)state;
	advance(0);
	assert_int_equal(peernet_rows(W.pn, rows, 8), NPEERS);
	write_peers(1);
	advance(100);
	assert_int_equal(peernet_rows(W.pn, rows, 8), 1);
	assert_string_equal(rows[0].addr, "127.0.0.2:7053");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heartbeat_schedule, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_ack, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_query_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_serve_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_echo_exchange, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_check, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
