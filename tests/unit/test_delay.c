/* SPDX-License-Identifier: MIT */
/* tests/unit/test_delay.c: adaptive initial delay and backoff schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "delay.h"

static void
record_local(struct delay *d, unsigned n)
{
	while (n-- > 0)
		delay_record_local(d);
}

static void
record_peer(struct delay *d, unsigned n, uint32_t ms)
{
	while (n-- > 0)
		delay_record_peer_win(d, ms);
}

static void
test_starting(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, DELAY_MAX_DEFAULT_MS);
	assert_int_equal(delay_current(&d, 0, &r), 200);
	assert_int_equal(r, DELAY_STARTING);
	record_local(&d, 31);
	assert_int_equal(delay_current(&d, 0, &r), 200);
	assert_int_equal(r, DELAY_STARTING);
	assert_string_equal(delay_reason_name(r), "starting");
}

static void
test_healthy_after_32_local(void **state)
{
	struct delay d;
	enum delay_reason r;
	struct delay_stats st;

	(void)state;
	delay_init(&d, 150);
	record_local(&d, 32);
	assert_int_equal(delay_current(&d, 0, &r), 150);
	assert_int_equal(r, DELAY_HEALTHY);
	assert_string_equal(delay_reason_name(r), "healthy");
	delay_get_stats(&d, &st);
	assert_int_equal(st.local32, 32);
	assert_int_equal(st.local16, 16);
	assert_int_equal(st.peer32, 0);
	assert_int_equal(st.lookups, 32);
}

/* One peer win among the last 32 is no longer "all local". */
static void
test_one_peer_win_breaks_healthy(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 200);
	record_local(&d, 40);
	record_peer(&d, 1, 30);
	assert_int_equal(delay_current(&d, 0, &r), 30);
	assert_int_equal(r, DELAY_ADAPTIVE);
	/* 31 more locals: the win is still in the window. */
	record_local(&d, 31);
	delay_current(&d, 0, &r);
	assert_int_equal(r, DELAY_ADAPTIVE);
	record_local(&d, 1);
	assert_int_equal(delay_current(&d, 0, &r), 200);
	assert_int_equal(r, DELAY_HEALTHY);
}

/* A failure (nobody answered) also breaks "all local". */
static void
test_fail_breaks_healthy(void **state)
{
	struct delay d;
	enum delay_reason r;
	struct delay_stats st;

	(void)state;
	delay_init(&d, 200);
	record_local(&d, 32);
	delay_record_fail(&d);
	/* No peer latency known yet: the cap. */
	assert_int_equal(delay_current(&d, 0, &r), 200);
	assert_int_equal(r, DELAY_ADAPTIVE);
	delay_get_stats(&d, &st);
	assert_int_equal(st.fail32, 1);
	assert_int_equal(st.local32, 31);
	assert_int_equal(st.total_fail, 1);
	assert_int_equal(st.total_local, 32);
}

/* More than 50 % of the last 16: exactly 9 wins trigger, 8 do not. */
static void
test_peers_winning_threshold(void **state)
{
	struct delay d;
	enum delay_reason r;
	struct delay_stats st;

	(void)state;
	delay_init(&d, 200);
	record_local(&d, 32);
	record_peer(&d, 8, 40);
	record_local(&d, 8);
	delay_get_stats(&d, &st);
	assert_int_equal(st.peer16, 8);
	assert_int_not_equal(delay_current(&d, 0, &r), 0);
	assert_int_equal(r, DELAY_ADAPTIVE);

	delay_init(&d, 200);
	record_local(&d, 32);
	record_local(&d, 7);
	record_peer(&d, 9, 40);
	delay_get_stats(&d, &st);
	assert_int_equal(st.peer16, 9);
	assert_int_equal(delay_current(&d, 0, &r), 0);
	assert_int_equal(r, DELAY_PEERS_WINNING);
	assert_string_equal(delay_reason_name(r), "peers-winning");
}

/* Wins older than the last 16 do not count towards the 50 % rule. */
static void
test_peers_winning_window_slides(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 200);
	record_peer(&d, 16, 20);
	assert_int_equal(delay_current(&d, 0, &r), 0);
	assert_int_equal(r, DELAY_PEERS_WINNING);
	record_local(&d, 7);
	assert_int_equal(delay_current(&d, 0, &r), 0);
	/* Now 8 of the last 16 are peer wins: not more than half. */
	record_local(&d, 1);
	assert_int_equal(delay_current(&d, 0, &r), 20);
	assert_int_equal(r, DELAY_ADAPTIVE);
}

/* After the immediate phase: mean + one standard deviation. */
static void
test_adaptive_mean_sd(void **state)
{
	struct delay d;
	enum delay_reason r;
	struct delay_stats st;

	(void)state;
	delay_init(&d, 200);
	/* Latencies 10, 30 repeated: mean 20, population sd 10. */
	for (int i = 0; i < 8; i++) {
		delay_record_peer_win(&d, 10);
		delay_record_peer_win(&d, 30);
	}
	assert_int_equal(delay_current(&d, 0, &r), 0);
	record_local(&d, 9);
	delay_get_stats(&d, &st);
	assert_int_equal(st.peer_mean_ms, 20);
	assert_int_equal(st.peer_sd_ms, 10);
	assert_int_equal(st.samples, 16);
	assert_int_equal(delay_current(&d, 0, &r), 30);
	assert_int_equal(r, DELAY_ADAPTIVE);
	assert_string_equal(delay_reason_name(r), "adaptive");
}

/* mean + sd is clamped to initial-delay-max. */
static void
test_adaptive_capped(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 100);
	record_peer(&d, 10, 90);
	record_peer(&d, 10, 150);
	record_local(&d, 16);
	assert_int_equal(delay_current(&d, 0, &r), 100);
	assert_int_equal(r, DELAY_ADAPTIVE);
}

/* Peers as fast as the local nameserver: the adaptive delay keeps a floor
 * so that a recovered nameserver wins its races again. */
static void
test_adaptive_floor(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 200);
	record_peer(&d, 16, 1);
	record_local(&d, 9);
	assert_int_equal(delay_current(&d, 0, &r), DELAY_ADAPTIVE_FLOOR_MS);
	assert_int_equal(r, DELAY_ADAPTIVE);
	delay_set_max(&d, 5);
	assert_int_equal(delay_current(&d, 0, &r), 5);
}

/* Only the last 32 winning latencies count. */
static void
test_latency_window(void **state)
{
	struct delay d;
	struct delay_stats st;

	(void)state;
	delay_init(&d, 200);
	record_peer(&d, 32, 500);
	record_peer(&d, 32, 7);
	delay_get_stats(&d, &st);
	assert_int_equal(st.samples, 32);
	assert_int_equal(st.peer_mean_ms, 7);
	assert_int_equal(st.peer_sd_ms, 0);
	assert_int_equal(st.total_peer, 64);
}

/* The whole cycle: healthy, outage, recovery, healthy again. */
static void
test_climb_back(void **state)
{
	struct delay d;
	enum delay_reason r;
	uint32_t v;
	int i;

	(void)state;
	delay_init(&d, 200);
	record_local(&d, 32);
	assert_int_equal(delay_current(&d, 0, &r), 200);
	record_peer(&d, 9, 25);
	assert_int_equal(delay_current(&d, 0, &r), 0);
	assert_int_equal(r, DELAY_PEERS_WINNING);
	/* Locals come back: 0 until the 8th pushes the 9 wins to 8 of 16. */
	for (i = 0; i < 31; i++) {
		delay_record_local(&d);
		v = delay_current(&d, 0, &r);
		if (i < 7) {
			assert_int_equal(v, 0);
		} else {
			assert_int_equal(r, DELAY_ADAPTIVE);
			assert_int_equal(v, 25);
		}
	}
	delay_record_local(&d);
	assert_int_equal(delay_current(&d, 0, &r), 200);
	assert_int_equal(r, DELAY_HEALTHY);
}

static void
test_set_max(void **state)
{
	struct delay d;

	(void)state;
	delay_init(&d, 200);
	record_local(&d, 32);
	delay_set_max(&d, 50);
	assert_int_equal(delay_current(&d, 0, NULL), 50);
}

static void
test_backoff_doubles(void **state)
{
	(void)state;
	/* The paper's d, d + 2d, d + 2d + 4d. */
	assert_int_equal(delay_backoff_at(200, 10, 0), 200);
	assert_int_equal(delay_backoff_at(200, 10, 1), 600);
	assert_int_equal(delay_backoff_at(200, 10, 2), 1400);
	assert_int_equal(delay_backoff_at(200, 10, 3), 3000);
	assert_int_equal(delay_backoff_at(30, 25, 2), 210);
}

/* An initial delay of 0 asks the first peer at once, the rest later:
 * after the immediate query the delay becomes the step, then doubles
 * (0, b, 3b, 7b). */
static void
test_backoff_zero_floor(void **state)
{
	(void)state;
	assert_int_equal(delay_backoff_at(0, 25, 0), 0);
	assert_int_equal(delay_backoff_at(0, 25, 1), 25);
	assert_int_equal(delay_backoff_at(0, 25, 2), 75);
	assert_int_equal(delay_backoff_at(0, 25, 3), 175);
	/* Even with no step given, the floor applies. */
	assert_int_equal(delay_backoff_at(0, 0, 1), DELAY_STEP_FLOOR_MS);
	assert_true(delay_backoff_at(0, 0, 2) > delay_backoff_at(0, 0, 1));
	/* A tiny delay still steps by the floor. */
	assert_int_equal(delay_backoff_at(3, 0, 1),
	    3 + 2 * DELAY_STEP_FLOOR_MS);
}

static void
test_backoff_saturates(void **state)
{
	(void)state;
	assert_int_equal(delay_backoff_at(200, 10, 40), UINT32_MAX);
	assert_int_equal(delay_backoff_at(UINT32_MAX / 2, 10, 5), UINT32_MAX);
}

static void
test_step_min(void **state)
{
	struct delay d;

	(void)state;
	delay_init(&d, 200);
	assert_int_equal(delay_step_min(&d), DELAY_STEP_FLOOR_MS);
	record_peer(&d, 4, 2);
	assert_int_equal(delay_step_min(&d), DELAY_STEP_FLOOR_MS);
	/* Mean 30 ms, standard deviation 28 ms: mean + sd + slack. */
	record_peer(&d, 4, 58);
	assert_int_equal(delay_step_min(&d), 58 + DELAY_STEP_SLACK_MS);
}


static void
record_local_us(struct delay *d, unsigned n, uint32_t us)
{
	while (n-- > 0) {
		delay_record_local(d);
		delay_record_local_latency(d, us);
	}
}

/* Fewer than DELAY_LOCAL_MIN latencies: the paper's fixed delay. */
static void
test_hedge_needs_samples(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 200);
	record_local_us(&d, DELAY_LOCAL_MIN - 1, 500);
	assert_int_equal(delay_current(&d, 0, &r), 200);
	assert_int_equal(r, DELAY_STARTING);
	record_local_us(&d, 1, 500);
	/* 2 x 0.5 ms is under the floor. */
	assert_int_equal(delay_current(&d, 0, &r), DELAY_ADAPTIVE_FLOOR_MS);
	assert_int_equal(r, DELAY_HEALTHY);
}

/* The hedge follows the local p99 times the margin, within the clamps. */
static void
test_hedge_follows_p99(void **state)
{
	struct delay d;
	struct delay_stats st;

	(void)state;
	delay_init(&d, 200);
	/* 127 fast answers and one slow: the p99 (nearest rank 127 of 128)
	 * is still a fast one. */
	record_local_us(&d, 127, 8000);
	record_local_us(&d, 1, 90000);
	assert_int_equal(delay_current(&d, 0, NULL), 16);
	delay_get_stats(&d, &st);
	assert_int_equal(st.local_samples, 128);
	assert_int_equal(st.local_p99_us, 8000);
	/* A second slow one reaches the p99: 2 x 90 ms. */
	record_local_us(&d, 8, 8000);
	record_local_us(&d, 8, 90000);
	assert_int_equal(delay_current(&d, 0, NULL), 180);
	/* A slower nameserver is capped at initial-delay-max. */
	record_local_us(&d, 128, 150000);
	assert_int_equal(delay_current(&d, 0, NULL), 200);
	delay_get_stats(&d, &st);
	assert_int_equal(st.hedge_ms, 200);
	/* And back down when it is fast again. */
	record_local_us(&d, 128, 20000);
	assert_int_equal(delay_current(&d, 0, NULL), 40);
}

/* Peer wins still drive the 0 ms state; the hedge returns after 32
 * local answers in a row. */
static void
test_hedge_after_outage(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 200);
	record_local_us(&d, 64, 15000);
	assert_int_equal(delay_current(&d, 0, &r), 30);
	assert_int_equal(r, DELAY_HEALTHY);
	record_peer(&d, 9, 4);
	assert_int_equal(delay_current(&d, 0, &r), 0);
	assert_int_equal(r, DELAY_PEERS_WINNING);
	record_local_us(&d, 32, 15000);
	assert_int_equal(delay_current(&d, 0, &r), 30);
	assert_int_equal(r, DELAY_HEALTHY);
}

/* local-silent: once the local nameserver has answered nothing usable
 * since a query sent at least the hedge ago, 0 ms; any usable answer ends
 * it; a later query does not move its start; peers-winning comes first. */
static void
test_local_silent(void **state)
{
	struct delay d;
	enum delay_reason r;

	(void)state;
	delay_init(&d, 200);
	record_local_us(&d, 32, 5000);
	assert_int_equal(delay_current(&d, 1000, &r), 10);
	assert_int_equal(r, DELAY_HEALTHY);
	delay_local_sent(&d, 1000);
	assert_int_equal(delay_current(&d, 1009, &r), 10);
	assert_int_equal(r, DELAY_HEALTHY);
	assert_int_equal(delay_current(&d, 1010, &r), 0);
	assert_int_equal(r, DELAY_LOCAL_SILENT);
	assert_string_equal(delay_reason_name(r), "local-silent");
	delay_local_answered(&d);
	assert_int_equal(delay_current(&d, 5000, &r), 10);
	assert_int_equal(r, DELAY_HEALTHY);
	delay_local_sent(&d, 6000);
	delay_local_sent(&d, 6008);
	assert_int_equal(delay_current(&d, 6010, &r), 0);
	assert_int_equal(r, DELAY_LOCAL_SILENT);
	record_peer(&d, 9, 14);
	assert_int_equal(delay_current(&d, 6010, &r), 0);
	assert_int_equal(r, DELAY_PEERS_WINNING);
	/* A mark taken back (answered from kept responses) ends it only
	 * when it is the one that started it. */
	delay_init(&d, 200);
	record_local_us(&d, 32, 5000);
	delay_local_sent(&d, 7000);
	delay_local_unsent(&d, 7001);
	assert_int_equal(delay_current(&d, 7010, &r), 0);
	assert_int_equal(r, DELAY_LOCAL_SILENT);
	delay_local_unsent(&d, 7000);
	assert_int_equal(delay_current(&d, 7020, &r), 10);
	assert_int_equal(r, DELAY_HEALTHY);
	/* Without local answer times the hedge is initial-delay-max. */
	delay_init(&d, 200);
	delay_local_sent(&d, 0);
	assert_int_equal(delay_current(&d, 199, &r), 200);
	assert_int_equal(r, DELAY_STARTING);
	assert_int_equal(delay_current(&d, 200, &r), 0);
	assert_int_equal(r, DELAY_LOCAL_SILENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starting),
		cmocka_unit_test(test_hedge_needs_samples),
		cmocka_unit_test(test_hedge_follows_p99),
		cmocka_unit_test(test_hedge_after_outage),
		cmocka_unit_test(test_healthy_after_32_local),
		cmocka_unit_test(test_one_peer_win_breaks_healthy),
		cmocka_unit_test(test_fail_breaks_healthy),
		cmocka_unit_test(test_peers_winning_threshold),
		cmocka_unit_test(test_peers_winning_window_slides),
		cmocka_unit_test(test_adaptive_mean_sd),
		cmocka_unit_test(test_adaptive_capped),
		cmocka_unit_test(test_adaptive_floor),
		cmocka_unit_test(test_latency_window),
		cmocka_unit_test(test_climb_back),
		cmocka_unit_test(test_local_silent),
		cmocka_unit_test(test_set_max),
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_backoff_zero_floor),
		cmocka_unit_test(test_backoff_saturates),
		cmocka_unit_test(test_step_min),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
