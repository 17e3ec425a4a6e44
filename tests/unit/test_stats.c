/* SPDX-License-Identifier: MIT */
/* tests/unit/test_stats.c: unit tests for counters, histograms, top names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codns.h"
#include "report.h"
#include "stats.h"
#include "testreq.h"

#define HOUR (3600 * 1000ULL)

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* A reverse lookup of 192.0.2.last. */
static struct proto_request
rev4(uint8_t last)
{
	return testreq_rev4(192, 0, 2, last);
}

static struct proto_answer
ans(uint8_t status, uint8_t source)
{
	return testreq_answer(status, source, 0);
}

static void
lookup(struct stats *s, const struct proto_request *r, uint8_t status,
    uint8_t source, uint32_t us)
{
	struct proto_answer a = ans(status, source);

	stats_lookup(s, r, &a, us);
}

static struct stats *
new_stats(void)
{
	struct stats *s = stats_new();

	assert_non_null(s);
	fake_now = 1000 * HOUR + 123;
	stats_set_clock(s, fake_clock);
	return s;
}

static void
test_bucket_bounds(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(stats_bucket_bound(0), 50);
	assert_int_equal(stats_bucket_bound(STATS_NBUCKETS - 1), 60000000);
	for (i = 0; i < STATS_NBUCKETS; i++) {
		if (i > 0)
			assert_true(stats_bucket_bound(i) >
			    stats_bucket_bound(i - 1));
		/* "le": a bound belongs to its own bucket, one more to the
		 * next. */
		assert_int_equal(stats_bucket_of(stats_bucket_bound(i)), i);
		assert_int_equal(stats_bucket_of(stats_bucket_bound(i) + 1),
		    i + 1);
	}
	assert_int_equal(stats_bucket_of(0), 0);
	assert_int_equal(stats_bucket_of(UINT32_MAX), STATS_NBUCKETS);
}

static void
test_quantiles_known_samples(void **state)
{
	struct stats *s = new_stats();
	struct proto_request r = testreq_fwd("q.test", CODNS_AF_INET);
	uint64_t sum = 0;
	uint32_t v;
	int i;

	(void)state;
	assert_int_equal(stats_hist_quantile(s, STATS_H_TOTAL, 0.5), 0);
	/* 900 at 0.8 ms, 90 at 30 ms, 9 at 300 ms, 1 at 2.5 s. */
	for (i = 0; i < 1000; i++) {
		v = i < 900 ? 800 : i < 990 ? 30000 : i < 999 ? 300000 :
							       2500000;
		lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, v);
		sum += v;
	}
	assert_int_equal(stats_hist_count(s, STATS_H_TOTAL), 1000);
	assert_int_equal(stats_hist_sum_us(s, STATS_H_TOTAL), sum);
	assert_int_equal(stats_hist_bucket(s, STATS_H_TOTAL,
			     stats_bucket_of(800)),
	    900);
	assert_int_equal(stats_hist_bucket(s, STATS_H_TOTAL,
			     stats_bucket_of(30000)),
	    90);
	/* p50 interpolates to 778 us, below the smallest sample: clamped. */
	assert_int_equal(stats_hist_quantile(s, STATS_H_TOTAL, 0.5), 800);
	/* p90 is the 900th sample: the top of the 0.5..1 ms bucket. */
	assert_int_equal(stats_hist_quantile(s, STATS_H_TOTAL, 0.9), 1000);
	/* p99 is the last of the 20..50 ms bucket, p99.9 of 200..500 ms. */
	assert_int_equal(stats_hist_quantile(s, STATS_H_TOTAL, 0.99), 50000);
	assert_int_equal(stats_hist_quantile(s, STATS_H_TOTAL, 0.999),
	    500000);
	/* The maximum bounds the last bucket (2..5 s). */
	assert_int_equal(stats_hist_quantile(s, STATS_H_TOTAL, 1.0), 2500000);
	/* Halfway into the 20..50 ms bucket: sample 945 of 990. */
	v = stats_hist_quantile(s, STATS_H_TOTAL, 0.945);
	assert_in_range(v, 34000, 36000);
	/* Other histograms untouched. */
	assert_int_equal(stats_hist_count(s, STATS_H_LOCAL), 0);
	assert_int_equal(stats_hist_count(s, STATS_H_PEER), 0);
	stats_free(s);
}

static void
test_quantiles_single_value_and_overflow(void **state)
{
	struct stats *s = new_stats();
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		stats_local(s, CODNS_FOUND, 3000);
	assert_int_equal(stats_hist_quantile(s, STATS_H_LOCAL, 0.5), 3000);
	assert_int_equal(stats_hist_quantile(s, STATS_H_LOCAL, 0.999), 3000);
	/* Above the last bound: counted in +Inf, bounded by the max. */
	stats_peer(s, CODNS_TRYAGAIN, 70000000);
	stats_peer(s, CODNS_FOUND, 90000000);
	assert_int_equal(stats_hist_bucket(s, STATS_H_PEER, STATS_NBUCKETS),
	    2);
	assert_int_equal(stats_hist_quantile(s, STATS_H_PEER, 1.0), 90000000);
	assert_in_range(stats_hist_quantile(s, STATS_H_PEER, 0.5), 60000000,
	    90000000);
	assert_int_equal(stats_hist_count(s, STATS_H_TOTAL), 0);
	stats_free(s);
}

static void
test_counts_by_type_result_source(void **state)
{
	struct stats *s = new_stats();
	struct proto_request a = testreq_fwd("a.test", CODNS_AF_INET);
	struct proto_request aaaa = testreq_fwd("a.test", CODNS_AF_INET6);
	struct proto_request any = testreq_fwd("b.test", CODNS_AF_UNSPEC);
	struct proto_request ptr = rev4(10);

	(void)state;
	lookup(s, &a, CODNS_FOUND, CODNS_SRC_LOCAL, 100);
	lookup(s, &a, CODNS_FOUND, CODNS_SRC_CACHE, 0);
	lookup(s, &aaaa, CODNS_NODATA, CODNS_SRC_LOCAL, 100);
	lookup(s, &any, CODNS_NOTFOUND, CODNS_SRC_PEER, 100);
	lookup(s, &ptr, CODNS_FOUND, CODNS_SRC_LOCAL, 100);
	lookup(s, &ptr, CODNS_TRYAGAIN, CODNS_SRC_NONE, 100);
	assert_int_equal(stats_lookups(s), 6);
	assert_int_equal(stats_by_qtype(s, STATS_QT_A), 2);
	assert_int_equal(stats_by_qtype(s, STATS_QT_AAAA), 1);
	assert_int_equal(stats_by_qtype(s, STATS_QT_ANY), 1);
	assert_int_equal(stats_by_qtype(s, STATS_QT_PTR), 2);
	assert_int_equal(stats_by_status(s, CODNS_FOUND), 3);
	assert_int_equal(stats_by_status(s, CODNS_NODATA), 1);
	assert_int_equal(stats_by_status(s, CODNS_NOTFOUND), 1);
	assert_int_equal(stats_by_status(s, CODNS_TRYAGAIN), 1);
	assert_int_equal(stats_by_source(s, CODNS_SRC_CACHE), 1);
	assert_int_equal(stats_by_source(s, CODNS_SRC_LOCAL), 3);
	assert_int_equal(stats_by_source(s, CODNS_SRC_PEER), 1);
	assert_int_equal(stats_by_source(s, CODNS_SRC_NONE), 1);
	assert_string_equal(stats_qtype_name(STATS_QT_PTR), "PTR");
	assert_string_equal(stats_status_name(CODNS_NOTFOUND), "notfound");
	assert_string_equal(stats_source_name(CODNS_SRC_PEER), "peer");
	stats_count(s, STATS_CTL_BAD_REQUEST);
	stats_count(s, STATS_CTL_BAD_REQUEST);
	assert_int_equal(stats_get(s, STATS_CTL_BAD_REQUEST), 2);
	assert_int_equal(stats_get(s, STATS_PEER_DROPPED), 0);
	stats_free(s);
}

/* A skewed stream: 10 heavy names (1000, 900 ... 100 times) hidden among
 * 5000 names seen once, in a shuffled order. */
static void
test_top_skewed_stream(void **state)
{
	struct stats *s = new_stats();
	struct stats_top_entry *top;
	struct proto_request r;
	char **stream;
	size_t n = 0, i, j, ntop;
	uint64_t total = 0;
	uint32_t x = 12345;
	char *tmp;

	(void)state;
	stream = calloc(5500 + 5000, sizeof(*stream));
	top = calloc(1000, sizeof(*top));
	assert_non_null(stream);
	assert_non_null(top);
	for (i = 0; i < 10; i++)
		for (j = 0; j < 1000 - 100 * i; j++)
			assert_true(asprintf(&stream[n++], "heavy%zu.test",
					i) > 0);
	for (i = 0; i < 5000; i++)
		assert_true(asprintf(&stream[n++], "light%zu.test", i) > 0);
	for (i = n - 1; i > 0; i--) {
		x = x * 1103515245u + 12345u;
		j = (x >> 8) % (i + 1);
		tmp = stream[i];
		stream[i] = stream[j];
		stream[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		r = testreq_fwd(stream[i], CODNS_AF_INET);
		lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	}
	/* Bounded: never more than STATS_TOP_MAX entries. */
	ntop = stats_top(s, top, 1000);
	assert_int_equal(ntop, STATS_TOP_MAX);
	for (i = 0; i < ntop; i++) {
		total += top[i].count;
		assert_true(top[i].error <= top[i].count);
		if (i > 0)
			assert_true(top[i].count <= top[i - 1].count);
	}
	/* Space-saving keeps the counts summing to the stream length. */
	assert_int_equal(total, n);
	/* The heavy names come first, in order, with true counts bracketed
	 * by count - error and count. */
	for (i = 0; i < 10; i++) {
		char want[32];
		uint64_t truth = 1000 - 100 * i;

		snprintf(want, sizeof(want), "heavy%zu.test", i);
		assert_string_equal(top[i].name, want);
		assert_true(top[i].count >= truth);
		assert_true(top[i].count - top[i].error <= truth);
	}
	/* Asking for fewer gives the same head. */
	assert_int_equal(stats_top(s, top, 3), 3);
	assert_string_equal(top[2].name, "heavy2.test");
	for (i = 0; i < n; i++)
		free(stream[i]);
	free(stream);
	free(top);
	stats_free(s);
}

static void
test_top_reverse_names(void **state)
{
	struct stats *s = new_stats();
	struct stats_top_entry top[4];
	struct proto_request r = rev4(7);

	(void)state;
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_CACHE, 10);
	r = testreq_fwd("x.test", CODNS_AF_INET6);
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	assert_int_equal(stats_top(s, top, 4), 2);
	assert_string_equal(top[0].name, "192.0.2.7");
	assert_int_equal(top[0].count, 2);
	assert_int_equal(top[0].error, 0);
	assert_string_equal(top[1].name, "x.test");
	stats_free(s);
}

static void
test_hours_ring(void **state)
{
	struct stats *s = new_stats();
	struct stats_hour h[STATS_HOURS];
	struct proto_request r = testreq_fwd("h.test", CODNS_AF_INET);
	uint64_t base = fake_now / HOUR * HOUR;
	size_t i;

	(void)state;
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_PEER, 10);
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 2000000);
	fake_now = base + HOUR + 5;
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	fake_now = base + 5 * HOUR + HOUR - 1;
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	stats_hours(s, h);
	assert_int_equal(h[0].start_ms, base + 5 * HOUR);
	assert_int_equal(h[0].lookups, 1);
	assert_int_equal(h[4].lookups, 2);
	assert_int_equal(h[4].start_ms, base + HOUR);
	assert_int_equal(h[5].lookups, 3);
	assert_int_equal(h[5].peer, 1);
	assert_int_equal(h[5].slow, 1);
	for (i = 0; i < STATS_HOURS; i++)
		if (i != 0 && i != 4 && i != 5)
			assert_int_equal(h[i].lookups, 0);
	/* 24 hours on, the slot of hour 5 is reused, not added to. */
	fake_now = base + 29 * HOUR;
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 10);
	stats_hours(s, h);
	assert_int_equal(h[0].lookups, 1);
	assert_int_equal(h[0].start_ms, base + 29 * HOUR);
	/* Hour 5 is 24 hours ago: out of the window. Hour 1 is too. */
	for (i = 1; i < STATS_HOURS; i++)
		assert_int_equal(h[i].lookups, 0);
	stats_free(s);
}

static void
test_json_string_and_buffer(void **state)
{
	struct report_buf b;
	size_t i;

	(void)state;
	memset(&b, 0, sizeof(b));
	report_json_str(&b, "a\"b\\c\n\x01\xff");
	assert_false(b.err);
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\"");
	report_buf_free(&b);
	for (i = 0; i < 2000; i++)
		report_printf(&b, "%05zu;", i);
	assert_false(b.err);
	assert_int_equal(b.len, 12000);
	assert_int_equal(strlen(b.p), 12000);
	assert_memory_equal(b.p + 11994, "01999;", 6);
	report_buf_free(&b);
}

/* Find "NAME VALUE" in the exposition; the value or -1. */
static long long
metric(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

static void
test_prometheus_rendering(void **state)
{
	struct stats *s = new_stats();
	struct report_buf b;
	struct proto_request a = testreq_fwd("p.test", CODNS_AF_INET);
	struct proto_request ptr = rev4(1);
	char *line, *save = NULL, *copy, type[128], last_type[128] = "";
	long long prev = -1, v;
	int samples = 0;

	(void)state;
	memset(&b, 0, sizeof(b));
	lookup(s, &a, CODNS_FOUND, CODNS_SRC_LOCAL, 50);
	lookup(s, &a, CODNS_FOUND, CODNS_SRC_CACHE, 51);
	lookup(s, &ptr, CODNS_NOTFOUND, CODNS_SRC_LOCAL, 1500000);
	stats_local(s, CODNS_FOUND, 40);
	stats_count(s, STATS_PEER_DROPPED);
	stats_render_metrics(s, &b);
	assert_false(b.err);
	assert_int_equal(metric(b.p, "codns_lookups_total"), 3);
	assert_int_equal(metric(b.p, "codns_lookups_by_type_total{type=\"A\"}"),
	    2);
	assert_int_equal(
	    metric(b.p, "codns_lookups_by_type_total{type=\"PTR\"}"), 1);
	assert_int_equal(
	    metric(b.p, "codns_lookups_by_result_total{result=\"notfound\"}"),
	    1);
	assert_int_equal(
	    metric(b.p, "codns_lookups_by_source_total{source=\"cache\"}"), 1);
	assert_int_equal(metric(b.p, "codns_peer_queries_dropped_total"), 1);
	/* 50 us is in le=0.00005, 51 us is not; cumulative from there. */
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_bucket{path=\""
			     "end_to_end\",le=\"0.00005\"}"),
	    1);
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_bucket{path=\""
			     "end_to_end\",le=\"0.0001\"}"),
	    2);
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_bucket{path=\""
			     "end_to_end\",le=\"1\"}"),
	    2);
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_bucket{path=\""
			     "end_to_end\",le=\"2\"}"),
	    3);
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_bucket{path=\""
			     "end_to_end\",le=\"+Inf\"}"),
	    3);
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_count{path=\""
			     "end_to_end\"}"),
	    3);
	assert_int_equal(metric(b.p,
			     "codns_lookup_duration_seconds_count{path=\""
			     "local\"}"),
	    1);
	assert_non_null(strstr(b.p,
	    "\ncodns_lookup_duration_seconds_sum{path=\"end_to_end\"} "
	    "1.500101\n"));
	/* Every sample follows a TYPE line of its family; buckets of one
	 * series never decrease. */
	copy = strdup(b.p);
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (sscanf(line, "# TYPE %127s", type) == 1) {
			snprintf(last_type, sizeof(last_type), "%s", type);
			prev = -1;
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(strncmp(line, last_type, strlen(last_type)),
		    0);
		samples++;
		if (strstr(line, "_bucket{") != NULL) {
			v = atoll(strrchr(line, ' ') + 1);
			if (strstr(line, "le=\"0.00005\"") != NULL)
				prev = -1;
			assert_true(v >= prev);
			prev = v;
		}
	}
	assert_true(samples > 3 * (STATS_NBUCKETS + 3));
	free(copy);
	report_buf_free(&b);
	stats_free(s);
}

static void
test_renderings_text_and_json(void **state)
{
	struct stats *s = new_stats();
	struct report_buf b;
	struct proto_request r = testreq_fwd("quote\"d.test", CODNS_AF_INET);
	unsigned long long v;
	char *line;

	(void)state;
	memset(&b, 0, sizeof(b));
	lookup(s, &r, CODNS_FOUND, CODNS_SRC_LOCAL, 2000);
	stats_render_top(s, &b, 1, 10);
	assert_false(b.err);
	assert_non_null(
	    strstr(b.p, "{\"name\":\"quote\\\"d.test\",\"count\":1"));
	report_buf_free(&b);
	stats_render(s, &b, 1);
	assert_non_null(strstr(b.p, "\"by_type\":{\"A\":1,\"AAAA\":0,"));
	assert_non_null(strstr(b.p, "\"end_to_end\":{\"count\":1,"));
	report_buf_free(&b);
	stats_render(s, &b, 0);
	line = strstr(b.p, "\n  A ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, " A %llu", &v), 1);
	assert_int_equal(v, 1);
	report_buf_free(&b);
	stats_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_quantiles_known_samples),
		cmocka_unit_test(test_quantiles_single_value_and_overflow),
		cmocka_unit_test(test_counts_by_type_result_source),
		cmocka_unit_test(test_top_skewed_stream),
		cmocka_unit_test(test_top_reverse_names),
		cmocka_unit_test(test_hours_ring),
		cmocka_unit_test(test_json_string_and_buffer),
		cmocka_unit_test(test_prometheus_rendering),
		cmocka_unit_test(test_renderings_text_and_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
