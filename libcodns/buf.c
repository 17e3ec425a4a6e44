/* SPDX-License-Identifier: MIT */
/* libcodns/buf.c: bounds-checked reader and writer over a byte buffer. */
#include "buf.h"

#include <string.h>

void
buf_init_read(struct buf *b, const void *p, size_t len)
{
	b->data = (uint8_t *)(uintptr_t)p;
	b->len = p ? len : 0;
	b->pos = 0;
	b->failed = 0;
}

void
buf_init_write(struct buf *b, void *p, size_t cap)
{
	buf_init_read(b, p, cap);
}

size_t
buf_remaining(const struct buf *b)
{
	return b->len - b->pos;
}

int
buf_ok(const struct buf *b)
{
	return !b->failed;
}

static int
buf_need(struct buf *b, size_t n)
{
	if (b->failed || n > b->len - b->pos) {
		b->failed = 1;
		return -1;
	}
	return 0;
}

int
buf_get_bytes(struct buf *b, void *out, size_t n)
{
	if (buf_need(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(out, b->data + b->pos, n);
	b->pos += n;
	return 0;
}

int
buf_skip(struct buf *b, size_t n)
{
	if (buf_need(b, n) == -1)
		return -1;
	b->pos += n;
	return 0;
}

int
buf_get_ref(struct buf *b, const uint8_t **p, size_t n)
{
	if (buf_need(b, n) == -1)
		return -1;
	*p = b->data + b->pos;
	b->pos += n;
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get_bytes(b, v, 1);
}

int
buf_get_u16(struct buf *b, uint16_t *v)
{
	uint8_t p[2];

	if (buf_get_bytes(b, p, sizeof(p)) == -1)
		return -1;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint8_t p[4];

	if (buf_get_bytes(b, p, sizeof(p)) == -1)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint32_t hi, lo;

	if (buf_need(b, 8) == -1)
		return -1;
	buf_get_u32(b, &hi);
	buf_get_u32(b, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
buf_get_str8(struct buf *b, char *out, size_t max)
{
	uint8_t n;
	size_t start = b->pos;

	if (buf_get_u8(b, &n) == -1)
		return -1;
	if (n > max || buf_need(b, n) == -1 ||
	    memchr(b->data + b->pos, '\0', n) != NULL) {
		b->pos = start;
		b->failed = 1;
		return -1;
	}
	memcpy(out, b->data + b->pos, n);
	out[n] = '\0';
	b->pos += n;
	return 0;
}

int
buf_put_bytes(struct buf *b, const void *p, size_t n)
{
	if (buf_need(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->pos, p, n);
	b->pos += n;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put_bytes(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put_bytes(b, p, sizeof(p));
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	return buf_put_bytes(b, p, sizeof(p));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	if (buf_need(b, 8) == -1)
		return -1;
	buf_put_u32(b, (uint32_t)(v >> 32));
	return buf_put_u32(b, (uint32_t)v);
}

int
buf_put_str8(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT8_MAX) {
		b->failed = 1;
		return -1;
	}
	if (buf_need(b, 1 + n) == -1)
		return -1;
	buf_put_u8(b, (uint8_t)n);
	return buf_put_bytes(b, s, n);
}
