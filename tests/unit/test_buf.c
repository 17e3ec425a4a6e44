/* SPDX-License-Identifier: MIT */
/* tests/unit/test_buf.c: unit tests for the bounds-checked buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

/*
 * Each getter is run on a reader holding one byte already consumed plus
 * `avail` more bytes, so a failure that moved pos back to 0 or forward would
 * show. The output is pre-filled with 0xa5 and must stay so on failure.
 */
enum getter { G_U8, G_U16, G_U32, G_U64, G_BYTES5, G_SKIP5, G_STR8 };

static const size_t getter_need[] = { 1, 2, 4, 8, 5, 5, 1 + 6 };

static int
run_getter(struct buf *b, enum getter g, uint8_t *out)
{
	switch (g) {
	case G_U8:
		return buf_get_u8(b, out);
	case G_U16:
		return buf_get_u16(b, (uint16_t *)(void *)out);
	case G_U32:
		return buf_get_u32(b, (uint32_t *)(void *)out);
	case G_U64:
		return buf_get_u64(b, (uint64_t *)(void *)out);
	case G_BYTES5:
		return buf_get_bytes(b, out, 5);
	case G_SKIP5:
		return buf_skip(b, 5);
	case G_STR8:
		return buf_get_str8(b, (char *)out, 10);
	}
	return -2;
}

static void
test_getters_short_input(void **state)
{
	/* A str8 of length 6, "abcdef", preceded by a byte to consume. */
	static const uint8_t src[] = { 0xff, 6, 'a', 'b', 'c', 'd', 'e', 'f',
		0x11 };
	_Alignas(8) uint8_t out[16], canary[16];
	enum getter g;
	size_t avail;
	struct buf b;
	uint8_t first;

	(void)state;
	memset(canary, 0xa5, sizeof(canary));
	for (g = G_U8; g <= G_STR8; g++) {
		size_t need = getter_need[g];

		for (avail = 0; avail < need; avail++) {
			buf_init_read(&b, src, 1 + avail);
			assert_int_equal(buf_get_u8(&b, &first), 0);
			memcpy(out, canary, sizeof(out));
			assert_int_equal(run_getter(&b, g, out), -1);
			assert_int_equal(b.pos, 1);
			assert_false(buf_ok(&b));
			assert_memory_equal(out, canary, sizeof(out));
			assert_int_equal(buf_remaining(&b), avail);
		}
		/* Exactly enough succeeds and consumes exactly need bytes. */
		buf_init_read(&b, src, 1 + need);
		assert_int_equal(buf_get_u8(&b, &first), 0);
		memcpy(out, canary, sizeof(out));
		assert_int_equal(run_getter(&b, g, out), 0);
		assert_true(buf_ok(&b));
		assert_int_equal(b.pos, 1 + need);
		assert_int_equal(buf_remaining(&b), 0);
		if (g != G_SKIP5)
			assert_memory_not_equal(out, canary, sizeof(out));
	}
}

static void
test_null_reader(void **state)
{
	struct buf b;
	uint8_t v = 7;

	(void)state;
	buf_init_read(&b, NULL, 100);
	assert_int_equal(buf_remaining(&b), 0);
	assert_int_equal(buf_get_bytes(&b, &v, 0), 0);
	assert_true(buf_ok(&b));
	assert_int_equal(buf_get_u8(&b, &v), -1);
	assert_int_equal(v, 7);
	assert_false(buf_ok(&b));
}

static void
test_sticky_failure(void **state)
{
	static const uint8_t src[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	char s[8] = "keep";
	struct buf b;
	uint8_t v8 = 0, out[4] = { 0 };
	uint16_t v16 = 0x5555;
	uint32_t v32 = 0x55555555;
	uint64_t v64 = 0x5555555555555555ULL;

	(void)state;
	buf_init_read(&b, src, sizeof(src));
	assert_int_equal(buf_get_u8(&b, &v8), 0);
	assert_int_equal(v8, 1);
	assert_int_equal(buf_get_bytes(&b, out, 20), -1);
	/* Nine bytes remain, but every later call fails and moves nothing. */
	assert_int_equal(buf_remaining(&b), 9);
	assert_int_equal(buf_get_u8(&b, &v8), -1);
	assert_int_equal(buf_get_u16(&b, &v16), -1);
	assert_int_equal(buf_get_u32(&b, &v32), -1);
	assert_int_equal(buf_get_u64(&b, &v64), -1);
	assert_int_equal(buf_get_bytes(&b, out, 1), -1);
	assert_int_equal(buf_skip(&b, 1), -1);
	assert_int_equal(buf_get_str8(&b, s, 7), -1);
	assert_int_equal(buf_get_bytes(&b, out, 0), -1);
	assert_int_equal(b.pos, 1);
	assert_int_equal(v8, 1);
	assert_int_equal(v16, 0x5555);
	assert_int_equal(v32, 0x55555555);
	assert_true(v64 == 0x5555555555555555ULL);
	assert_string_equal(s, "keep");
	assert_false(buf_ok(&b));

	/* The same for a writer. */
	buf_init_write(&b, out, sizeof(out));
	assert_int_equal(buf_put_u8(&b, 0xaa), 0);
	assert_int_equal(buf_put_u32(&b, 1), -1);
	assert_int_equal(buf_put_u8(&b, 0xbb), -1);
	assert_int_equal(buf_put_str8(&b, ""), -1);
	assert_int_equal(buf_put_bytes(&b, "", 0), -1);
	assert_int_equal(b.pos, 1);
	assert_int_equal(out[1], 0);
	assert_false(buf_ok(&b));
}

static void
test_byte_order(void **state)
{
	static const uint8_t want[] = { 0x12, 0x34, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe };
	uint8_t mem[sizeof(want)];
	struct buf b;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;

	(void)state;
	memset(mem, 0, sizeof(mem));
	buf_init_write(&b, mem, sizeof(mem));
	assert_int_equal(buf_put_u16(&b, 0x1234), 0);
	assert_int_equal(buf_put_u32(&b, 0x89abcdefU), 0);
	assert_int_equal(buf_put_u64(&b, 0x0123456789abcdefULL), 0);
	assert_int_equal(buf_put_u8(&b, 0xfe), 0);
	assert_true(buf_ok(&b));
	assert_int_equal(b.pos, sizeof(want));
	assert_memory_equal(mem, want, sizeof(want));

	buf_init_read(&b, want, sizeof(want));
	assert_int_equal(buf_get_u16(&b, &v16), 0);
	assert_int_equal(buf_get_u32(&b, &v32), 0);
	assert_int_equal(buf_get_u64(&b, &v64), 0);
	assert_int_equal(buf_get_u8(&b, &v8), 0);
	assert_int_equal(v16, 0x1234);
	assert_int_equal(v32, 0x89abcdefU);
	assert_true(v64 == 0x0123456789abcdefULL);
	assert_int_equal(v8, 0xfe);
	assert_int_equal(buf_remaining(&b), 0);
	assert_true(buf_ok(&b));
}

static void
test_round_trip_extremes(void **state)
{
	static const uint64_t vals[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100,
		0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, 0x8000000000000000ULL,
		0xffffffffffffffffULL };
	uint8_t mem[2 + 4 + 8];
	struct buf b;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		buf_init_write(&b, mem, sizeof(mem));
		buf_put_u16(&b, (uint16_t)vals[i]);
		buf_put_u32(&b, (uint32_t)vals[i]);
		buf_put_u64(&b, vals[i]);
		assert_true(buf_ok(&b));
		/* Network order: the least significant byte comes last. */
		assert_int_equal(mem[1], (uint8_t)vals[i]);
		assert_int_equal(mem[5], (uint8_t)vals[i]);
		assert_int_equal(mem[13], (uint8_t)vals[i]);
		assert_int_equal(mem[6], (uint8_t)(vals[i] >> 56));
		buf_init_read(&b, mem, sizeof(mem));
		buf_get_u16(&b, &v16);
		buf_get_u32(&b, &v32);
		buf_get_u64(&b, &v64);
		assert_true(buf_ok(&b));
		assert_int_equal(v16, (uint16_t)vals[i]);
		assert_int_equal(v32, (uint32_t)vals[i]);
		assert_true(v64 == vals[i]);
	}
}

/* buf_get_str8 refuses in[0..len) with max: it reads and copies nothing,
 * and the buffer is marked bad. */
static void
str8_refused(const uint8_t *in, size_t len, size_t max)
{
	char out[16];
	struct buf b;

	memset(out, 'x', sizeof(out));
	buf_init_read(&b, in, len);
	assert_int_equal(buf_get_str8(&b, out, max), -1);
	assert_int_equal(b.pos, 0);
	assert_false(buf_ok(&b));
	assert_int_equal(out[0], 'x');
}

static void
test_str8(void **state)
{
	static const uint8_t ok[] = { 5, 'h', 'e', 'l', 'l', 'o', 0 };
	static const uint8_t nul[] = { 5, 'h', 'e', 0, 'l', 'o', 9 };
	static const uint8_t empty[] = { 0, 0x42 };
	char out[16];
	struct buf b;
	uint8_t v;

	(void)state;
	/* Exactly max bytes is fine, and NUL-terminated. */
	memset(out, 'x', sizeof(out));
	buf_init_read(&b, ok, sizeof(ok));
	assert_int_equal(buf_get_str8(&b, out, 5), 0);
	assert_string_equal(out, "hello");
	assert_int_equal(b.pos, 6);

	/* One over max is rejected before anything is copied. */
	str8_refused(ok, sizeof(ok), 4);

	/* An embedded NUL would silently shorten the string: rejected. */
	str8_refused(nul, sizeof(nul), 15);

	/* The empty string. */
	buf_init_read(&b, empty, sizeof(empty));
	assert_int_equal(buf_get_str8(&b, out, 0), 0);
	assert_string_equal(out, "");
	assert_int_equal(buf_get_u8(&b, &v), 0);
	assert_int_equal(v, 0x42);
}

static void
test_str8_write(void **state)
{
	char big[300];
	uint8_t mem[300];
	char back[256];
	struct buf b;

	(void)state;
	memset(big, 'q', sizeof(big));
	big[255] = '\0';
	buf_init_write(&b, mem, sizeof(mem));
	assert_int_equal(buf_put_str8(&b, big), 0);
	assert_int_equal(b.pos, 256);
	assert_int_equal(mem[0], 255);
	buf_init_read(&b, mem, 256);
	assert_int_equal(buf_get_str8(&b, back, 255), 0);
	assert_string_equal(back, big);

	/* 256 bytes do not fit a u8 length. */
	big[255] = 'q';
	big[256] = '\0';
	memset(mem, 0, sizeof(mem));
	buf_init_write(&b, mem, sizeof(mem));
	assert_int_equal(buf_put_str8(&b, big), -1);
	assert_int_equal(b.pos, 0);
	assert_int_equal(mem[0], 0);
	assert_false(buf_ok(&b));
}

enum putter { P_U8, P_U16, P_U32, P_U64, P_BYTES7, P_STR8 };

static const size_t putter_need[] = { 1, 2, 4, 8, 7, 1 + 5 };

static int
run_putter(struct buf *b, enum putter p)
{
	switch (p) {
	case P_U8:
		return buf_put_u8(b, 0x11);
	case P_U16:
		return buf_put_u16(b, 0x1122);
	case P_U32:
		return buf_put_u32(b, 0x11223344);
	case P_U64:
		return buf_put_u64(b, 0x1122334455667788ULL);
	case P_BYTES7:
		return buf_put_bytes(b, "abcdefg", 7);
	case P_STR8:
		return buf_put_str8(b, "hello");
	}
	return -2;
}

static void
test_writers_overflow(void **state)
{
	uint8_t mem[32], canary[32];
	enum putter p;
	size_t cap;
	struct buf b;

	(void)state;
	memset(canary, 0xa5, sizeof(canary));
	for (p = P_U8; p <= P_STR8; p++) {
		size_t need = putter_need[p];

		/* One byte already written, then room for cap more. */
		for (cap = 0; cap < need; cap++) {
			memcpy(mem, canary, sizeof(mem));
			buf_init_write(&b, mem, 1 + cap);
			assert_int_equal(buf_put_u8(&b, 0), 0);
			assert_int_equal(run_putter(&b, p), -1);
			assert_int_equal(b.pos, 1);
			assert_false(buf_ok(&b));
			assert_memory_equal(mem + 1, canary + 1,
			    sizeof(mem) - 1);
		}
		memcpy(mem, canary, sizeof(mem));
		buf_init_write(&b, mem, 1 + need);
		assert_int_equal(buf_put_u8(&b, 0), 0);
		assert_int_equal(run_putter(&b, p), 0);
		assert_true(buf_ok(&b));
		assert_int_equal(b.pos, 1 + need);
		assert_int_equal(buf_remaining(&b), 0);
		assert_int_equal(mem[1 + need], 0xa5);
		assert_int_not_equal(mem[need], 0xa5);
	}
}

static void
test_skip_and_bytes(void **state)
{
	static const uint8_t src[] = { 1, 2, 3, 4, 5 };
	uint8_t out[5];
	struct buf b;

	(void)state;
	buf_init_read(&b, src, sizeof(src));
	assert_int_equal(buf_skip(&b, 0), 0);
	assert_int_equal(buf_skip(&b, 2), 0);
	assert_int_equal(buf_get_bytes(&b, out, 3), 0);
	assert_memory_equal(out, src + 2, 3);
	assert_int_equal(buf_remaining(&b), 0);
	/* A huge length must not wrap the bounds check. */
	buf_init_read(&b, src, sizeof(src));
	assert_int_equal(buf_skip(&b, 1), 0);
	assert_int_equal(buf_skip(&b, SIZE_MAX), -1);
	assert_int_equal(b.pos, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters_short_input),
		cmocka_unit_test(test_null_reader),
		cmocka_unit_test(test_sticky_failure),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_round_trip_extremes),
		cmocka_unit_test(test_str8),
		cmocka_unit_test(test_str8_write),
		cmocka_unit_test(test_writers_overflow),
		cmocka_unit_test(test_skip_and_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
