/* SPDX-License-Identifier: MIT */
/* libcodns/buf.h: bounds-checked reader and writer over a byte buffer. */
#ifndef CODNS_BUF_H
#define CODNS_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A reader or writer over caller-owned memory. Every fetch and put checks the
 * remaining length first; on failure it returns -1, leaves the output
 * untouched and marks the buffer failed, so a chain of calls can be checked
 * once at the end with buf_ok(). Integers are in network byte order.
 */
struct buf {
	uint8_t *data;
	size_t len; /* bytes valid (reader) or capacity (writer) */
	size_t pos;
	int failed;
};

void buf_init_read(struct buf *, const void *, size_t);
void buf_init_write(struct buf *, void *, size_t);
size_t buf_remaining(const struct buf *);
int buf_ok(const struct buf *);

int buf_get_u8(struct buf *, uint8_t *);
int buf_get_u16(struct buf *, uint16_t *);
int buf_get_u32(struct buf *, uint32_t *);
int buf_get_u64(struct buf *, uint64_t *);
int buf_get_bytes(struct buf *, void *, size_t);
int buf_skip(struct buf *, size_t);
/* Point *p at the next n bytes (valid as long as the memory is) and skip
 * them: a copy-free buf_get_bytes(). */
int buf_get_ref(struct buf *, const uint8_t **p, size_t n);
/* A u8-length-prefixed string of at most max bytes, with no NUL inside,
 * copied NUL-terminated into out (which holds max + 1 bytes). */
int buf_get_str8(struct buf *, char *out, size_t max);

int buf_put_u8(struct buf *, uint8_t);
int buf_put_u16(struct buf *, uint16_t);
int buf_put_u32(struct buf *, uint32_t);
int buf_put_u64(struct buf *, uint64_t);
int buf_put_bytes(struct buf *, const void *, size_t);
int buf_put_str8(struct buf *, const char *);

#endif
