/* SPDX-License-Identifier: MIT */
/* tests/unit/test_peers.c: peer table, heartbeats and ranking, fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hrw.h"
#include "peers.h"

#define MAXSIM 256

/* A simulated remote peer: whether it answers and what it reports. */
struct sim {
	uint64_t id;
	int up;
	uint32_t rtt, ns, fail;
	uint64_t nsid;
};

struct world {
	struct peers *p;
	struct sim s[MAXSIM];
	size_t n;
	uint64_t now;
	size_t sent[MAXSIM]; /* heartbeats sent to each */
};

/* The table under test, freed by the teardown even when a test fails. */
static struct peers *current;

static int
world_teardown(void **state)
{
	(void)state;
	peers_free(current);
	current = NULL;
	return 0;
}

static struct sim *
world_sim(struct world *w, uint64_t id)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->s[i].id == id)
			return &w->s[i];
	fail_msg("heartbeat to unknown id %llu", (unsigned long long)id);
	return NULL;
}

/* n peers with ids 101.., all up, RTT 10 + i, nameserver time 5. */
static void
world_init(struct world *w, size_t n, unsigned neighbors)
{
	struct peers_config cfg;
	uint64_t ids[MAXSIM];
	size_t i;

	memset(w, 0, sizeof(*w));
	peers_config_default(&cfg);
	cfg.neighbors = neighbors;
	assert_non_null(w->p = peers_new(&cfg));
	current = w->p;
	w->n = n;
	for (i = 0; i < n; i++) {
		w->s[i].id = 101 + i;
		w->s[i].up = 1;
		w->s[i].rtt = 10 + (uint32_t)i;
		w->s[i].ns = 5;
		w->s[i].nsid = 1000 + i;
		ids[i] = w->s[i].id;
	}
	assert_int_equal(peers_set_list(w->p, ids, n, w->now), 0);
}

/* Send what is due at w->now; peers that are up ack at once. Returns the
 * number sent and the next wakeup. */
static size_t
world_pump(struct world *w, uint64_t *wake)
{
	struct peers_heartbeat hb[MAXSIM];
	size_t k, i;

	k = peers_heartbeat_due(w->p, w->now, hb, MAXSIM, wake);
	for (i = 0; i < k; i++) {
		struct sim *s = world_sim(w, hb[i].id);

		w->sent[s - w->s]++;
		if (!s->up)
			continue;
		assert_int_equal(peers_ack(w->p, s->id, hb[i].seq, s->rtt,
		    s->ns, s->fail, s->nsid, w->now), 0);
	}
	/* As the daemon does: re-arm after acks changed the picture. */
	*wake = peers_next_wakeup(w->p, w->now);
	return k;
}

/* Run the daemon's timer loop until time `until`. */
static void
world_run(struct world *w, uint64_t until)
{
	uint64_t wake;

	for (;;) {
		world_pump(w, &wake);
		assert_true(wake >= w->now);
		if (wake > until)
			break;
		if (wake == w->now)
			continue;
		w->now = wake;
	}
	w->now = until;
	peers_tick(w->p, w->now);
}

static enum peers_state
state_of(struct world *w, uint64_t id)
{
	struct peers_row r;

	assert_int_equal(peers_find(w->p, id, &r), 0);
	return r.state;
}

static unsigned
rank_of(struct world *w, uint64_t id)
{
	struct peers_row r;

	assert_int_equal(peers_find(w->p, id, &r), 0);
	return r.rank;
}

static enum peers_state
state_of_p(struct peers *p, uint64_t id)
{
	struct peers_row r;

	assert_int_equal(peers_find(p, id, &r), 0);
	return r.state;
}

static size_t
count_state(struct world *w, enum peers_state st)
{
	struct peers_summary sum;

	peers_summary(w->p, &sum);
	return sum.count[st];
}

/* Issue 15, 1: a heartbeat from a down peer brings it back to probing at
 * once and our own heartbeat (whose ack measures the RTT) goes at once,
 * instead of after the steady sweep. */
static void
test_adopt_on_heartbeat(void **state)
{
	struct world w;
	uint64_t wake;
	size_t i;

	(void)state;
	world_init(&w, 11, 10);
	w.s[10].up = 0;
	w.s[10].rtt = 1; /* the best, once it is up */
	world_run(&w, 5000);
	/* Never heard from, one sweep heartbeat missed so far. */
	assert_int_equal(state_of(&w, 111), PEERS_PROBING);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	/* Swept at the steady pace: down after PEERS_TRIES sweeps. */
	world_run(&w, 30000 * (PEERS_TRIES - 1) + 1000);
	assert_int_equal(state_of(&w, 111), PEERS_DOWN);
	assert_true(peers_next_wakeup(w.p, w.now) > w.now + 1000);
	/* It starts and heartbeats us. */
	w.s[10].up = 1;
	assert_int_equal(peers_heard(w.p, 111, w.now), 1);
	assert_int_equal(state_of(&w, 111), PEERS_PROBING);
	assert_int_equal(peers_next_wakeup(w.p, w.now), w.now);
	assert_int_equal(world_pump(&w, &wake), 1);
	assert_int_equal(w.sent[10] > 0, 1);
	world_pump(&w, &wake);
	assert_int_equal(state_of(&w, 111), PEERS_NEIGHBOR);
	assert_int_equal(rank_of(&w, 111), 1);
	/* A peer that starts while our heartbeat to it is still out (sent
	 * before it was listening) gets a fresh one at once. */
	w.s[10].up = 0;
	world_run(&w, w.now + 30000 + 600);
	assert_int_equal(state_of(&w, 111), PEERS_DOWN);
	memset(w.sent, 0, sizeof(w.sent));
	for (i = 0; i < 1000 && w.sent[10] == 0; i++) {
		w.now = peers_next_wakeup(w.p, w.now);
		world_pump(&w, &wake);
	}
	/* 111's sweep heartbeat is out, unanswered; it starts now. */
	assert_int_equal(w.sent[10], 1);
	w.s[10].up = 1;
	assert_int_equal(peers_heard(w.p, 111, w.now), 1);
	assert_int_equal(peers_next_wakeup(w.p, w.now), w.now);
	world_pump(&w, &wake);
	assert_int_equal(w.sent[10], 2);
	world_pump(&w, &wake);
	assert_int_equal(state_of(&w, 111), PEERS_NEIGHBOR);
	/* A heartbeat from a live peer changes nothing; strangers: -1. */
	assert_int_equal(peers_heard(w.p, 111, w.now), 0);
	assert_int_equal(peers_heard(w.p, 999, w.now), -1);
}

/* A peer that heartbeats us but whose acks never arrive (one-way path)
 * is probed PEERS_TRIES times at the discovery pace, then down again. */
static void
test_adopt_one_way(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 11, 10);
	w.s[10].up = 0;
	world_run(&w, 70000);
	assert_int_equal(state_of(&w, 111), PEERS_DOWN);
	assert_int_equal(peers_heard(w.p, 111, w.now), 1);
	world_run(&w, 70000 + 1000 * (PEERS_TRIES - 1) + 499);
	assert_int_equal(state_of(&w, 111), PEERS_PROBING);
	world_run(&w, 70000 + 1000 * (PEERS_TRIES - 1) + 500);
	assert_int_equal(state_of(&w, 111), PEERS_DOWN);
	memset(w.sent, 0, sizeof(w.sent));
	world_run(&w, 85000);
	assert_int_equal(w.sent[10], 0);
}

static int
selected(struct world *w, uint64_t id)
{
	uint64_t ids[16];
	size_t i, k;
	char name[32];
	int n;

	for (n = 0; n < 100; n++) {
		snprintf(name, sizeof(name), "q%d.example", n);
		k = peers_select(w->p, name, ids, 16);
		for (i = 0; i < k; i++)
			if (ids[i] == id)
				return 1;
	}
	return 0;
}

/* Issue 15, 2: a neighbour that leaves a query unanswered gets a heartbeat
 * at once; if that is not acked either it is down and replaced about two
 * ack waits after the query, not at its next steady heartbeat. */
static void
test_query_miss_replaces(void **state)
{
	struct world w;
	struct peers_row r;
	struct peers_summary sum;
	uint64_t wake;
	unsigned gen;

	(void)state;
	world_init(&w, 5, 3);
	world_run(&w, 1000);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 104), PEERS_CANDIDATE);
	assert_true(peers_usable(w.p, 101));
	peers_summary(w.p, &sum);
	gen = sum.generation;
	w.s[0].up = 0; /* 101 dies */
	w.now = 2000;
	assert_int_equal(peers_query_sent(w.p, 101, w.now), 0);
	assert_int_equal(peers_next_wakeup(w.p, w.now), 2500);
	world_run(&w, 2499);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	/* The query wait passes: a heartbeat goes to it at once. */
	w.now = 2500;
	memset(w.sent, 0, sizeof(w.sent));
	world_pump(&w, &wake);
	assert_int_equal(w.sent[0], 1);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.query_misses, 1);
	assert_int_equal(r.state, PEERS_NEIGHBOR);
	/* Suspect neighbours are asked last. */
	{
		uint64_t ids[3];

		assert_int_equal(peers_select(w.p, "x.example", ids, 3), 3);
		assert_int_equal(ids[2], 101);
	}
	world_run(&w, 2999);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	world_run(&w, 3000);
	assert_int_equal(state_of(&w, 101), PEERS_DOWN);
	assert_int_equal(state_of(&w, 104), PEERS_NEIGHBOR);
	assert_false(peers_usable(w.p, 101));
	assert_false(selected(&w, 101));
	peers_summary(w.p, &sum);
	assert_int_not_equal(sum.generation, gen);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.queries_sent, 1);
	assert_int_equal(r.queries_missed, 1);
	/* Its answer arrives after all: probing again and heartbeated at
	 * once, back. */
	w.s[0].up = 1;
	assert_int_equal(peers_query_reply(w.p, 101, 1, w.now), 0);
	assert_int_equal(state_of(&w, 101), PEERS_PROBING);
	assert_int_equal(peers_next_wakeup(w.p, w.now), w.now);
	world_run(&w, 3001);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.queries_won, 1);
}

/* Two query misses in a row are enough, without waiting for the ack. */
static void
test_two_query_misses(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 5, 3);
	world_run(&w, 1000);
	w.s[1].up = 0;
	peers_query_sent(w.p, 102, 1000);
	world_run(&w, 1500); /* miss 1: a heartbeat is out until 2000 */
	peers_query_sent(w.p, 102, 1600);
	world_run(&w, 2099);
	/* The heartbeat missed at 2000 already; either way it is down
	 * within the two waits. */
	assert_int_equal(state_of(&w, 102), PEERS_DOWN);
	assert_int_equal(state_of(&w, 104), PEERS_NEIGHBOR);
}

/* A live peer whose nameserver is slow: its query goes unanswered for a
 * while but it acks the heartbeat, so it stays; replies clear the count. */
static void
test_slow_peer_stays(void **state)
{
	struct world w;
	struct peers_row r;
	int i;

	(void)state;
	world_init(&w, 5, 3);
	world_run(&w, 1000);
	for (i = 0; i < 5; i++) {
		peers_query_sent(w.p, 101, w.now);
		world_run(&w, w.now + 1900);
		assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
		peers_query_reply(w.p, 101, 0, w.now);
	}
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.query_misses, 0);
	assert_int_equal(r.queries_failed, 5);
	/* Dropped queries: counted only when the lookup gave up. */
	peers_query_drop(w.p, 101, 0);
	peers_query_drop(w.p, 101, 1);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.queries_failed, 6);
	assert_int_equal(peers_query_sent(w.p, 999, 0), -1);
	assert_int_equal(peers_query_reply(w.p, 999, 1, 0), -1);
	assert_int_equal(peers_query_drop(w.p, 999, 1), -1);
	assert_false(peers_usable(w.p, 999));
}

/* Issue 15, 4: where the cluster has other nameserver sets, half the
 * neighbours use them, failing or not, and they are asked first. */
static void
test_rank_mix(void **state)
{
	struct world w;
	struct peers_summary sum;
	uint64_t ids[4];
	size_t i, k;
	char name[32];

	(void)state;
	world_init(&w, 10, 4);
	for (i = 0; i < 10; i++)
		w.s[i].nsid = 7; /* ours */
	w.s[8].nsid = 8;
	w.s[8].rtt = 80;
	w.s[8].fail = 900;
	w.s[9].nsid = 9;
	w.s[9].rtt = 85;
	w.s[9].fail = 900;
	peers_set_self_nsid(w.p, 7);
	world_run(&w, 10);
	/* Both failing peers of other sets are neighbours (2 of 4). */
	assert_int_equal(state_of(&w, 109), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 110), PEERS_NEIGHBOR);
	peers_summary(w.p, &sum);
	assert_int_equal(sum.nbr_shared, 2);
	assert_int_equal(sum.other_sets, 2);
	assert_int_equal(sum.self_nsid, 7);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "m%zu.example", i);
		k = peers_select(w.p, name, ids, 4);
		assert_int_equal(k, 4);
		assert_true(ids[0] == 109 || ids[0] == 110);
		assert_true(ids[1] == 109 || ids[1] == 110);
	}
	/* One healthy peer on set 8: it and one more. */
	w.s[8].fail = 0;
	world_run(&w, 30010);
	assert_int_equal(state_of(&w, 109), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 110), PEERS_NEIGHBOR);
	/* Everyone shares our set: summary says so. */
	for (i = 0; i < 10; i++)
		w.s[i].nsid = 7;
	world_run(&w, 60010);
	peers_summary(w.p, &sum);
	assert_int_equal(sum.nbr_shared, 4);
	assert_int_equal(sum.other_sets, 0);
}

/* Equal scores: different nodes (seeds) spread over different
 * neighbours instead of all picking the lowest ids. */
static void
test_tie_spread(void **state)
{
	struct world w;
	struct peers_config cfg;
	uint64_t first[4], ids[MAXSIM];
	size_t i, same = 0, seed;
	struct peers *other;
	struct peers_heartbeat hb[MAXSIM];
	uint64_t wake;

	(void)state;
	world_init(&w, 40, 4);
	for (i = 0; i < 40; i++)
		w.s[i].rtt = 1;
	world_run(&w, 10);
	assert_int_equal(peers_select(w.p, "t.example", first, 4), 4);
	for (i = 0; i < 40; i++)
		ids[i] = w.s[i].id;
	for (seed = 1; seed <= 4; seed++) {
		size_t k, j;

		peers_config_default(&cfg);
		cfg.neighbors = 4;
		cfg.seed = seed * 7919;
		assert_non_null(other = peers_new(&cfg));
		assert_int_equal(peers_set_list(other, ids, 40, 0), 0);
		k = peers_heartbeat_due(other, 0, hb, MAXSIM, &wake);
		for (j = 0; j < k; j++)
			peers_ack(other, hb[j].id, hb[j].seq, 1, 5, 0, 1, 0);
		peers_tick(other, 0);
		for (j = 0; j < 4; j++)
			same += state_of_p(other, first[j]) == PEERS_NEIGHBOR;
		peers_free(other);
	}
	assert_true(same < 16);
}

/* Issue 15, 5: with many peers the steady cost is the tracked peers
 * (neighbours and spares) at the steady pace plus a sweep of at most
 * PEERS_SWEEP_PER_STEADY heartbeats per steady interval, spread out; a
 * start sends at most PEERS_DISCOVERY_BURST at once. */
static void
test_sweep_schedule(void **state)
{
	struct world w;
	struct peers_summary sum;
	struct peers_row row;
	uint64_t wake, t;
	size_t i, k, total, tracked = 0, maxwin = 0;
	int swept[200];

	(void)state;
	world_init(&w, 200, 10);
	k = world_pump(&w, &wake);
	assert_int_equal(k, PEERS_DISCOVERY_BURST);
	assert_int_equal(wake, 0); /* the acks are ranked */
	k = world_pump(&w, &wake);
	assert_int_equal(k, 0);
	/* The rest are spread out, at most a burst per interval. */
	assert_true(wake > 0 && wake <= 1000 / PEERS_DISCOVERY_BURST);
	world_run(&w, 1000);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	assert_int_equal(count_state(&w, PEERS_NEIGHBOR), 10);
	/* The first sweep pass finds everyone within 200 s; then run ten
	 * minutes, counting heartbeats per second. */
	world_run(&w, 250000);
	memset(w.sent, 0, sizeof(w.sent));
	for (i = 0; i < 200; i++)
		swept[i] = !peers_find(w.p, w.s[i].id, &row) && !row.tracked;
	for (t = 250000; t < 850000; t += 1000) {
		size_t before = 0, after = 0;

		for (i = 0; i < 200; i++)
			before += swept[i] ? w.sent[i] : 0;
		world_run(&w, t + 999);
		for (i = 0; i < 200; i++)
			after += swept[i] ? w.sent[i] : 0;
		if (after - before > maxwin)
			maxwin = after - before;
	}
	peers_summary(w.p, &sum);
	assert_int_equal(sum.tracked, 20);
	assert_int_equal(sum.swept, 180);
	assert_int_equal(sum.sweep_period_ms, 180000);
	total = 0;
	for (i = 0; i < 200; i++) {
		struct peers_row r;

		total += w.sent[i];
		assert_int_equal(peers_find(w.p, w.s[i].id, &r), 0);
		if (r.tracked) {
			tracked++;
			/* every 30 s */
			if (!(w.sent[i] >= 19 && w.sent[i] <= 21))
				fail_msg("tracked %llu sent %zu",
				    (unsigned long long)w.s[i].id, w.sent[i]);
		} else {
			/* every 180 s: 3 or 4 in ten minutes */
			if (!(w.sent[i] >= 3 && w.sent[i] <= 4))
				fail_msg("swept %llu sent %zu",
				    (unsigned long long)w.s[i].id, w.sent[i]);
		}
	}
	assert_int_equal(tracked, 20);
	/* 20 x 20 tracked + about 600 swept: about 1.7 a second. */
	assert_true(total <= 400 + 600 + 30);
	/* The sweep is spread out: never more than a couple a second. */
	if (maxwin > 2)
		fail_msg("maxwin %zu", maxwin);
	/* An ack from a live peer does not re-rank at once. */
	{
		struct peers_heartbeat hb[MAXSIM];

		w.now += 30000;
		k = peers_heartbeat_due(w.p, w.now, hb, MAXSIM, &wake);
		assert_true(k > 0);
		for (i = 0; i < k; i++)
			peers_ack(w.p, hb[i].id, hb[i].seq, 5, 5, 0,
			    1000, w.now);
		assert_true(peers_next_wakeup(w.p, w.now) > w.now);
		assert_true(peers_next_wakeup(w.p, w.now) <=
		    w.now + PEERS_RANK_GAP_MS);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(peers_state_name(PEERS_PROBING), "probing");
	assert_string_equal(peers_state_name(PEERS_CANDIDATE), "candidate");
	assert_string_equal(peers_state_name(PEERS_NEIGHBOR), "neighbour");
	assert_string_equal(peers_state_name(PEERS_FAR), "far");
	assert_string_equal(peers_state_name(PEERS_DOWN), "down");
	assert_string_equal(peers_mode_name(PEERS_DISCOVERY), "discovery");
	assert_string_equal(peers_mode_name(PEERS_STEADY), "steady");
}

static void
test_empty(void **state)
{
	struct peers *p = peers_new(NULL);
	struct peers_heartbeat hb[1];
	uint64_t wake, ids[1];

	(void)state;
	assert_non_null(p);
	assert_int_equal(peers_heartbeat_due(p, 5, hb, 1, &wake), 0);
	assert_int_equal(wake, PEERS_NEVER);
	assert_int_equal(peers_select(p, "a.example", ids, 1), 0);
	assert_int_equal(peers_count(p), 0);
	peers_free(p);
	peers_free(NULL);
}

/* Everyone is heartbeated every second until enough neighbours are
 * found, then every 30 s. */
static void
test_discovery_then_steady(void **state)
{
	struct world w;
	uint64_t wake;
	size_t i;

	(void)state;
	world_init(&w, 12, 10);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	for (i = 0; i < 12; i++)
		w.s[i].up = 0;
	/* Nobody answers yet: heartbeats go at discovery pace. */
	assert_int_equal(world_pump(&w, &wake), 12);
	assert_int_equal(wake, 500); /* the ack wait */
	w.now = 500;
	assert_int_equal(world_pump(&w, &wake), 0);
	assert_int_equal(wake, 1000);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	assert_int_equal(count_state(&w, PEERS_PROBING), 12);
	/* Now they answer: ten neighbours, steady. */
	for (i = 0; i < 12; i++)
		w.s[i].up = 1;
	w.now = 1000;
	assert_int_equal(world_pump(&w, &wake), 12);
	/* The acks are ranked on the next tick, at once. */
	assert_int_equal(wake, 1000);
	assert_int_equal(world_pump(&w, &wake), 0);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	assert_int_equal(count_state(&w, PEERS_NEIGHBOR), 10);
	assert_int_equal(count_state(&w, PEERS_CANDIDATE), 2);
	assert_int_equal(wake, 1000 + 30000);
	w.now = 30999;
	assert_int_equal(world_pump(&w, &wake), 0);
	w.now = 31000;
	assert_int_equal(world_pump(&w, &wake), 12);
}

/* With fewer usable peers than `neighbors`, the short neighbour set keeps
 * the discovery pace for the peers that could still become neighbours
 * (issue 15); the neighbours themselves stay on the steady pace. */
static void
test_short_keeps_discovery(void **state)
{
	struct world w;
	size_t i;

	(void)state;
	world_init(&w, 6, 10);
	w.s[4].up = 0;
	w.s[5].rtt = 200; /* far */
	world_run(&w, 999);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	assert_int_equal(state_of(&w, 105), PEERS_PROBING);
	assert_int_equal(state_of(&w, 106), PEERS_FAR);
	world_run(&w, 2999);
	assert_int_equal(state_of(&w, 105), PEERS_DOWN);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	assert_int_equal(count_state(&w, PEERS_NEIGHBOR), 4);
	/* The next minute: the silent one every second, the far one (swept)
	 * every second too, the neighbours twice. */
	memset(w.sent, 0, sizeof(w.sent));
	world_run(&w, 62999);
	for (i = 0; i < 4; i++)
		assert_int_equal(w.sent[i], 2);
	assert_int_equal(w.sent[4], 60);
	assert_int_equal(w.sent[5], 60);
	/* It comes up: found within a second, then steady. */
	w.s[4].up = 1;
	world_run(&w, 64000);
	assert_int_equal(state_of(&w, 105), PEERS_NEIGHBOR);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
}

/* A silent neighbour leaves within one steady interval plus the ack
 * wait; the next candidate replaces it; it returns when it answers. */
static void
test_silent_neighbour_replaced(void **state)
{
	struct world w;
	struct peers_row r;
	uint64_t ids[10];
	size_t i, k;
	unsigned gen;
	struct peers_summary sum;

	(void)state;
	world_init(&w, 4, 3);
	world_run(&w, 100);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 104), PEERS_CANDIDATE);
	peers_summary(w.p, &sum);
	gen = sum.generation;

	w.s[0].up = 0; /* 101 dies after its last ack at 0 */
	world_run(&w, 30000 + 499);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	world_run(&w, 30000 + 500);
	assert_int_equal(state_of(&w, 101), PEERS_DOWN);
	assert_int_equal(state_of(&w, 104), PEERS_NEIGHBOR);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	peers_summary(w.p, &sum);
	assert_int_not_equal(sum.generation, gen);
	for (i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%zu.example", i);
		k = peers_select(w.p, name, ids, 10);
		assert_int_equal(k, 3);
		while (k-- > 0)
			assert_int_not_equal(ids[k], 101);
	}
	/* Retried at the discovery pace, not after 30 s. */
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.misses, 1);
	w.s[0].up = 1;
	world_run(&w, 31000);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 104), PEERS_CANDIDATE);
}

/* Losing a neighbour with no spare goes back to discovery, and back to
 * steady once it answers again (or has had its tries). */
static void
test_back_to_discovery(void **state)
{
	struct world w;
	uint64_t wake;

	(void)state;
	world_init(&w, 3, 10);
	world_run(&w, 100);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	w.s[1].up = 0;
	world_run(&w, 30500);
	assert_int_equal(state_of(&w, 102), PEERS_DOWN);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	/* The lost one is retried a second later; the others stay on
	 * their steady schedule. */
	w.now = 31000;
	assert_int_equal(world_pump(&w, &wake), 1);
	w.s[1].up = 1;
	w.now = 31500;
	world_pump(&w, &wake);
	w.now = 32000;
	assert_int_equal(world_pump(&w, &wake), 1);
	world_pump(&w, &wake);
	assert_int_equal(state_of(&w, 102), PEERS_NEIGHBOR);
	assert_int_equal(peers_mode(w.p), PEERS_STEADY);
	/* 101 and 103 were last heartbeated at 30000. */
	assert_int_equal(wake, 30000 + 30000);

	/* This time it stays silent: a short set stays in discovery, so it
	 * is still probed every second after its tries. */
	w.s[1].up = 0;
	world_run(&w, 62000 + 500);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	world_run(&w, 62000 + 1000 * (PEERS_TRIES + 2) + 500);
	assert_int_equal(state_of(&w, 102), PEERS_DOWN);
	assert_int_equal(peers_mode(w.p), PEERS_DISCOVERY);
	w.s[1].up = 1;
	world_run(&w, 62000 + 1000 * (PEERS_TRIES + 3) + 500);
	assert_int_equal(state_of(&w, 102), PEERS_NEIGHBOR);
}

static void
test_rtt_threshold(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 3, 10);
	w.s[0].rtt = 89;
	w.s[1].rtt = 90;
	w.s[2].rtt = 91;
	world_run(&w, 10);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 102), PEERS_FAR);
	assert_int_equal(state_of(&w, 103), PEERS_FAR);
	assert_int_equal(rank_of(&w, 102), 0);
}

/* The RTT is smoothed: one slow sample does not push a peer out. */
static void
test_rtt_smoothing(void **state)
{
	struct world w;
	struct peers_row r;

	(void)state;
	world_init(&w, 1, 10);
	w.s[0].rtt = 40;
	world_run(&w, 10);
	w.s[0].rtt = 200;
	world_run(&w, 30010);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.rtt_ms, 60); /* 40 * 7/8 + 200 / 8 */
	assert_int_equal(r.state, PEERS_NEIGHBOR);
	world_run(&w, 60010);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_int_equal(r.rtt_ms, 78);
	world_run(&w, 90010);
	assert_int_equal(peers_find(w.p, 101, &r), 0);
	assert_true(r.rtt_ms >= 90);
	assert_int_equal(r.state, PEERS_FAR);
}

/* Order by RTT + peer nameserver time. */
static void
test_rank_score(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 4, 2);
	w.s[0].rtt = 5;
	w.s[0].ns = 60; /* 65 */
	w.s[1].rtt = 30;
	w.s[1].ns = 10; /* 40 */
	w.s[2].rtt = 20;
	w.s[2].ns = 30; /* 50 */
	w.s[3].rtt = 50;
	w.s[3].ns = 1; /* 51 */
	world_run(&w, 10);
	assert_int_equal(rank_of(&w, 102), 1);
	assert_int_equal(rank_of(&w, 103), 2);
	assert_int_equal(rank_of(&w, 104), 3);
	assert_int_equal(rank_of(&w, 101), 4);
	assert_int_equal(state_of(&w, 102), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 103), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 101), PEERS_CANDIDATE);
}

/* Distinct nameserver sets first, then fill by score. */
static void
test_rank_distinct_ns(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 4, 2);
	/* 101 and 102 share a set and are the best two by score. */
	w.s[0].nsid = w.s[1].nsid = 7;
	w.s[2].nsid = 8;
	w.s[3].nsid = 8;
	w.s[2].rtt = 40;
	w.s[3].rtt = 50;
	world_run(&w, 10);
	assert_int_equal(rank_of(&w, 101), 1);
	assert_int_equal(rank_of(&w, 103), 2);
	assert_int_equal(rank_of(&w, 102), 3);
	assert_int_equal(rank_of(&w, 104), 4);
	assert_int_equal(state_of(&w, 102), PEERS_CANDIDATE);

	/* Our own set is 7: a different one is preferred over it. */
	peers_set_self_nsid(w.p, 7);
	assert_int_equal(rank_of(&w, 103), 1);
	assert_int_equal(rank_of(&w, 101), 2);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(state_of(&w, 104), PEERS_CANDIDATE);

	/* An unknown set (0) never counts as a duplicate. */
	peers_set_self_nsid(w.p, 0);
	w.s[0].nsid = w.s[1].nsid = 0;
	world_run(&w, 30010);
	assert_int_equal(rank_of(&w, 101), 1);
	assert_int_equal(rank_of(&w, 102), 2);
}

/* Peers whose nameserver fails more than half the time rank last. */
static void
test_rank_failing_last(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 3, 2);
	w.s[0].fail = 600;
	w.s[1].fail = 500; /* not over 50 % */
	world_run(&w, 10);
	assert_int_equal(rank_of(&w, 102), 1);
	assert_int_equal(rank_of(&w, 103), 2);
	assert_int_equal(rank_of(&w, 101), 3);
	assert_int_equal(state_of(&w, 101), PEERS_CANDIDATE);
}

/* Selection: neighbours only, HRW order, capped at peers-per-lookup. */
static void
test_select(void **state)
{
	struct world w;
	uint64_t nbr[10], ids[16], again[16];
	size_t order[10], i, j, k, nn = 0;
	char name[32];

	(void)state;
	world_init(&w, 14, 10);
	world_run(&w, 10);
	for (i = 0; i < 14; i++)
		if (state_of(&w, w.s[i].id) == PEERS_NEIGHBOR)
			nbr[nn++] = w.s[i].id;
	assert_int_equal(nn, 10);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "Host%zu.Example", i);
		k = peers_select(w.p, name, ids, 3);
		assert_int_equal(k, 3);
		hrw_order(name, nbr, nn, order);
		for (j = 0; j < k; j++)
			assert_int_equal(ids[j], nbr[order[j]]);
		snprintf(name, sizeof(name), "host%zu.example.", i);
		assert_int_equal(peers_select(w.p, name, again, 3), 3);
		assert_memory_equal(ids, again, 3 * sizeof(ids[0]));
	}
	assert_int_equal(peers_select(w.p, "x.example", ids, 16), 10);
	for (j = 0; j < 10; j++)
		assert_int_equal(state_of(&w, ids[j]), PEERS_NEIGHBOR);
	assert_int_equal(peers_select(w.p, "x.example", ids, 0), 0);
}

/* Reload keeps the state of peers that stay. */
static void
test_set_list_keeps_state(void **state)
{
	struct world w;
	struct peers_row r;
	struct peers_summary sum;
	uint64_t ids[4] = { 102, 103, 103, 150 }, wake;
	unsigned gen;

	(void)state;
	world_init(&w, 3, 10);
	world_run(&w, 10);
	assert_int_equal(peers_record_query(w.p, 102, PEERS_QUERY_SENT), 0);
	peers_summary(w.p, &sum);
	gen = sum.generation;
	assert_int_equal(peers_set_list(w.p, ids, 4, w.now), 0);
	assert_int_equal(peers_count(w.p), 3);
	assert_int_equal(peers_find(w.p, 101, &r), -1);
	assert_int_equal(peers_find(w.p, 102, &r), 0);
	assert_int_equal(r.state, PEERS_NEIGHBOR);
	assert_int_equal(r.rtt_ms, 11);
	assert_int_equal(r.queries_sent, 1);
	assert_int_equal(peers_find(w.p, 150, &r), 0);
	assert_int_equal(r.state, PEERS_PROBING);
	assert_int_equal(r.last_sent, PEERS_NEVER);
	peers_summary(w.p, &sum);
	assert_int_not_equal(sum.generation, gen);
	/* The new peer is due at once; the others are not. */
	assert_int_equal(peers_next_wakeup(w.p, w.now), w.now);
	w.s[3].id = 150;
	w.s[3].up = 1;
	w.s[3].rtt = 3;
	w.n = 4;
	assert_int_equal(world_pump(&w, &wake), 1);
	assert_int_equal(w.sent[3], 1);
	assert_int_equal(state_of(&w, 150), PEERS_NEIGHBOR);
	assert_int_equal(rank_of(&w, 150), 1);
	assert_int_equal(peers_set_list(w.p, NULL, 0, w.now), 0);
	assert_int_equal(peers_count(w.p), 0);
}

static void
test_ack_validation(void **state)
{
	struct world w;
	struct peers_heartbeat hb[4];
	uint64_t wake;
	size_t i;

	(void)state;
	world_init(&w, 1, 10);
	/* No heartbeat sent yet: nothing to ack. */
	assert_int_equal(peers_ack(w.p, 101, 0, 5, 5, 0, 0, 0), -1);
	assert_int_equal(peers_heartbeat_due(w.p, 0, hb, 4, &wake), 1);
	assert_int_equal(peers_ack(w.p, 999, hb[0].seq, 5, 5, 0, 0, 0), -1);
	assert_int_equal(peers_ack(w.p, 101, hb[0].seq + 1, 5, 5, 0, 0, 0), -1);
	assert_int_equal(state_of(&w, 101), PEERS_PROBING);
	/* Late acks of recent heartbeats count; very old ones do not. */
	for (i = 0; i < 9; w.now = wake)
		i += peers_heartbeat_due(w.p, w.now, hb + 1, 1, &wake);
	assert_int_equal(hb[1].seq, hb[0].seq + 9);
	assert_int_equal(peers_ack(w.p, 101, hb[0].seq, 5, 5, 0, 0, w.now), -1);
	assert_int_equal(peers_ack(w.p, 101, hb[1].seq - 3, 5, 5, 2000, 0,
	    w.now), 0);
	assert_int_equal(state_of(&w, 101), PEERS_NEIGHBOR);
	assert_int_equal(peers_record_query(w.p, 999, PEERS_QUERY_WON), -1);
}

static void
test_heartbeat_batch_limit(void **state)
{
	struct world w;
	struct peers_heartbeat hb[4];
	uint64_t wake;
	size_t total = 0, k;

	(void)state;
	world_init(&w, 10, 10);
	while ((k = peers_heartbeat_due(w.p, 0, hb, 4, &wake)) > 0) {
		total += k;
		assert_true(k <= 4);
		if (total < 10)
			assert_int_equal(wake, 0);
	}
	assert_int_equal(total, 10);
	assert_int_equal(wake, 500);
}

static void
test_counters_and_rows(void **state)
{
	struct world w;
	struct peers_row r;
	uint64_t prev = 0;
	size_t i;

	(void)state;
	world_init(&w, 5, 10);
	w.s[2].ns = 42;
	w.s[2].fail = 2000;
	w.s[2].nsid = 77;
	world_run(&w, 10);
	peers_record_query(w.p, 103, PEERS_QUERY_SENT);
	peers_record_query(w.p, 103, PEERS_QUERY_SENT);
	peers_record_query(w.p, 103, PEERS_QUERY_WON);
	peers_record_query(w.p, 103, PEERS_QUERY_FAILED);
	assert_int_equal(peers_find(w.p, 103, &r), 0);
	assert_int_equal(r.queries_sent, 2);
	assert_int_equal(r.queries_won, 1);
	assert_int_equal(r.queries_failed, 1);
	assert_int_equal(r.ns_mean_ms, 42);
	assert_int_equal(r.ns_fail_permille, 1000);
	assert_int_equal(r.ns_set_id, 77);
	assert_int_equal(r.last_sent, 0);
	assert_int_equal(r.last_ack, 0);
	assert_true(r.has_rtt);
	for (i = 0; i < peers_count(w.p); i++) {
		assert_int_equal(peers_row(w.p, i, &r), 0);
		assert_true(r.id > prev);
		prev = r.id;
	}
	assert_int_equal(peers_row(w.p, i, &r), -1);
}

/* Reload of the config: fewer neighbours, a looser RTT threshold. */
static void
test_configure(void **state)
{
	struct world w;
	struct peers_config cfg;

	(void)state;
	world_init(&w, 5, 10);
	w.s[4].rtt = 120;
	world_run(&w, 10);
	assert_int_equal(count_state(&w, PEERS_NEIGHBOR), 4);
	assert_int_equal(state_of(&w, 105), PEERS_FAR);
	peers_config_default(&cfg);
	cfg.neighbors = 2;
	cfg.neighbor_rtt_max_ms = 150;
	peers_configure(w.p, &cfg);
	assert_int_equal(count_state(&w, PEERS_NEIGHBOR), 2);
	assert_int_equal(count_state(&w, PEERS_CANDIDATE), 3);
	assert_int_equal(rank_of(&w, 105), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_empty),
		cmocka_unit_test_teardown(test_discovery_then_steady,
		    world_teardown),
		cmocka_unit_test_teardown(test_short_keeps_discovery,
		    world_teardown),
		cmocka_unit_test_teardown(test_silent_neighbour_replaced,
		    world_teardown),
		cmocka_unit_test_teardown(test_back_to_discovery,
		    world_teardown),
		cmocka_unit_test_teardown(test_rtt_threshold,
		    world_teardown),
		cmocka_unit_test_teardown(test_rtt_smoothing,
		    world_teardown),
		cmocka_unit_test_teardown(test_rank_score,
		    world_teardown),
		cmocka_unit_test_teardown(test_rank_distinct_ns,
		    world_teardown),
		cmocka_unit_test_teardown(test_rank_failing_last,
		    world_teardown),
		cmocka_unit_test_teardown(test_select,
		    world_teardown),
		cmocka_unit_test_teardown(test_set_list_keeps_state,
		    world_teardown),
		cmocka_unit_test_teardown(test_ack_validation,
		    world_teardown),
		cmocka_unit_test_teardown(test_heartbeat_batch_limit,
		    world_teardown),
		cmocka_unit_test_teardown(test_counters_and_rows,
		    world_teardown),
		cmocka_unit_test_teardown(test_configure,
		    world_teardown),
		cmocka_unit_test_teardown(test_adopt_on_heartbeat,
		    world_teardown),
		cmocka_unit_test_teardown(test_adopt_one_way,
		    world_teardown),
		cmocka_unit_test_teardown(test_query_miss_replaces,
		    world_teardown),
		cmocka_unit_test_teardown(test_two_query_misses,
		    world_teardown),
		cmocka_unit_test_teardown(test_slow_peer_stays,
		    world_teardown),
		cmocka_unit_test_teardown(test_rank_mix,
		    world_teardown),
		cmocka_unit_test_teardown(test_tie_spread,
		    world_teardown),
		cmocka_unit_test_teardown(test_sweep_schedule,
		    world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
