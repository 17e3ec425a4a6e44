/* SPDX-License-Identifier: MIT */
/* libcodns/proto.c: codec for the codnsd lookup protocol. */
#include "proto.h"

#include <string.h>
#include <strings.h>

size_t
proto_addr_len(uint8_t family)
{
	switch (family) {
	case CODNS_AF_INET:
		return 4;
	case CODNS_AF_INET6:
		return 16;
	default:
		return 0;
	}
}

int
proto_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > PROTO_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			/* An empty label is only allowed as the final root. */
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (c <= ' ' || c >= 0x7f)
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int
proto_frame_peek(const void *p, size_t len, size_t *framelen)
{
	const uint8_t *b = p;
	size_t n;

	if (len < PROTO_HDR_LEN)
		return 0;
	n = (size_t)b[0] << 8 | b[1];
	if (n == 0 || n > PROTO_FRAME_MAX)
		return -1;
	if (len < PROTO_HDR_LEN + n)
		return 0;
	*framelen = PROTO_HDR_LEN + n;
	return 1;
}

/* Write the payload length into the two bytes reserved at start. */
static int
proto_frame_close(struct buf *b, size_t start)
{
	size_t n;

	if (!buf_ok(b))
		return -1;
	n = b->pos - start - PROTO_HDR_LEN;
	if (n > PROTO_FRAME_MAX) {
		b->failed = 1;
		return -1;
	}
	b->data[start] = (uint8_t)(n >> 8);
	b->data[start + 1] = (uint8_t)n;
	return 0;
}

int
proto_request_encode(struct buf *b, const struct proto_request *r)
{
	size_t start = b->pos, alen;

	buf_put_u16(b, 0);
	buf_put_u8(b, PROTO_VERSION);
	buf_put_u8(b, PROTO_T_REQUEST);
	buf_put_u32(b, r->id);
	buf_put_u8(b, r->kind);
	buf_put_u8(b, r->family);
	/* Refuse what proto_request_decode() would reject. */
	if (r->kind == PROTO_KIND_FORWARD) {
		if (!proto_name_valid(r->name) ||
		    (r->family != CODNS_AF_UNSPEC &&
		    proto_addr_len(r->family) == 0))
			b->failed = 1;
		buf_put_str8(b, r->name);
	} else {
		alen = proto_addr_len(r->family);
		if (r->kind != PROTO_KIND_REVERSE || alen == 0)
			b->failed = 1;
		buf_put_bytes(b, r->addr, alen);
	}
	return proto_frame_close(b, start);
}

static int
proto_header_get(struct buf *b, uint8_t type)
{
	uint8_t v, t;

	if (buf_get_u8(b, &v) == -1 || buf_get_u8(b, &t) == -1)
		return -1;
	if (v != PROTO_VERSION || t != type)
		return -1;
	return 0;
}

int
proto_request_decode(const void *p, size_t len, struct proto_request *r)
{
	struct buf b;
	size_t alen;

	memset(r, 0, sizeof(*r));
	buf_init_read(&b, p, len);
	if (proto_header_get(&b, PROTO_T_REQUEST) == -1)
		return -1;
	buf_get_u32(&b, &r->id);
	buf_get_u8(&b, &r->kind);
	buf_get_u8(&b, &r->family);
	if (!buf_ok(&b))
		return -1;
	switch (r->kind) {
	case PROTO_KIND_FORWARD:
		if (r->family != CODNS_AF_UNSPEC &&
		    proto_addr_len(r->family) == 0)
			return -1;
		if (buf_get_str8(&b, r->name, PROTO_QNAME_MAX) == -1 ||
		    !proto_name_valid(r->name))
			return -1;
		break;
	case PROTO_KIND_REVERSE:
		if ((alen = proto_addr_len(r->family)) == 0 ||
		    buf_get_bytes(&b, r->addr, alen) == -1)
			return -1;
		break;
	default:
		return -1;
	}
	return buf_remaining(&b) == 0 ? 0 : -1;
}

/* A count against its cap (a function: with a cap of 255 a u8 count can
 * never exceed it, and the check must stay should the cap come down). */
static int
proto_count_over(size_t n, size_t max)
{
	return n > max;
}

int
proto_answer_put(struct buf *b, const struct proto_answer *a)
{
	size_t i;

	if (a->naliases > PROTO_ALIASES_MAX ||
	    proto_count_over(a->naddrs, PROTO_ADDRS_MAX) ||
	    a->status > CODNS_UNAVAIL || a->source > CODNS_SRC_STALE) {
		b->failed = 1;
		return -1;
	}
	buf_put_u8(b, a->status);
	buf_put_u8(b, a->source);
	buf_put_u32(b, a->ttl);
	buf_put_u32(b, a->latency_us);
	buf_put_str8(b, a->peer);
	buf_put_str8(b, a->cname);
	buf_put_u8(b, a->naliases);
	for (i = 0; i < a->naliases; i++)
		buf_put_str8(b, a->aliases[i]);
	buf_put_u8(b, a->naddrs);
	for (i = 0; i < a->naddrs; i++) {
		size_t alen = proto_addr_len(a->addrs[i].family);

		if (alen == 0)
			b->failed = 1;
		buf_put_u8(b, a->addrs[i].family);
		buf_put_bytes(b, a->addrs[i].a, alen);
	}
	return buf_ok(b) ? 0 : -1;
}

int
proto_answer_get(struct buf *b, struct proto_answer *a)
{
	memset(a, 0, sizeof(*a));
	return proto_answer_get_counted(b, a);
}

int
proto_answer_get_counted(struct buf *b, struct proto_answer *a)
{
	size_t i;

	buf_get_u8(b, &a->status);
	buf_get_u8(b, &a->source);
	buf_get_u32(b, &a->ttl);
	buf_get_u32(b, &a->latency_us);
	if (!buf_ok(b) || a->status > CODNS_UNAVAIL ||
	    a->source > CODNS_SRC_STALE)
		return -1;
	if (buf_get_str8(b, a->peer, PROTO_PEER_MAX) == -1 ||
	    buf_get_str8(b, a->cname, PROTO_NAME_MAX) == -1)
		return -1;
	if (buf_get_u8(b, &a->naliases) == -1 ||
	    a->naliases > PROTO_ALIASES_MAX)
		return -1;
	for (i = 0; i < a->naliases; i++)
		if (buf_get_str8(b, a->aliases[i], PROTO_NAME_MAX) == -1)
			return -1;
	if (buf_get_u8(b, &a->naddrs) == -1 ||
	    proto_count_over(a->naddrs, PROTO_ADDRS_MAX))
		return -1;
	for (i = 0; i < a->naddrs; i++) {
		size_t alen;

		memset(a->addrs[i].a, 0, sizeof(a->addrs[i].a));
		if (buf_get_u8(b, &a->addrs[i].family) == -1)
			return -1;
		if ((alen = proto_addr_len(a->addrs[i].family)) == 0 ||
		    buf_get_bytes(b, a->addrs[i].a, alen) == -1)
			return -1;
	}
	return 0;
}

int
proto_response_encode(struct buf *b, uint32_t id, const struct proto_answer *a)
{
	size_t start = b->pos;

	buf_put_u16(b, 0);
	buf_put_u8(b, PROTO_VERSION);
	buf_put_u8(b, PROTO_T_RESPONSE);
	buf_put_u32(b, id);
	proto_answer_put(b, a);
	return proto_frame_close(b, start);
}

int
proto_report_encode(struct buf *b, uint32_t hits)
{
	size_t start = b->pos;

	buf_put_u16(b, 0);
	buf_put_u8(b, PROTO_VERSION);
	buf_put_u8(b, PROTO_T_REPORT);
	buf_put_u32(b, hits);
	return proto_frame_close(b, start);
}

int
proto_report_decode(const void *p, size_t len, uint32_t *hits)
{
	struct buf b;

	buf_init_read(&b, p, len);
	if (proto_header_get(&b, PROTO_T_REPORT) == -1 ||
	    buf_get_u32(&b, hits) == -1)
		return -1;
	return buf_remaining(&b) == 0 ? 0 : -1;
}

int
proto_payload_type(const void *p, size_t len)
{
	return len >= 2 ? ((const uint8_t *)p)[1] : -1;
}

int
proto_response_decode(const void *p, size_t len, uint32_t *id,
    struct proto_answer *a)
{
	struct buf b;

	buf_init_read(&b, p, len);
	if (proto_header_get(&b, PROTO_T_RESPONSE) == -1 ||
	    buf_get_u32(&b, id) == -1 || proto_answer_get(&b, a) == -1)
		return -1;
	return buf_remaining(&b) == 0 ? 0 : -1;
}

const char *
proto_asked_case(const char *name, const char *asked, char *buf, size_t len)
{
	size_t la = strlen(asked), ln = strlen(name);

	if (la > 0 && asked[la - 1] == '.')
		la--;
	if (la == 0 || ln < la || ln >= len ||
	    strncasecmp(name, asked, la) != 0 ||
	    (name[la] != '\0' && name[la] != '.'))
		return name;
	memcpy(buf, asked, la);
	memcpy(buf + la, name + la, ln - la + 1);
	if (ln > 0 && buf[ln - 1] == '.')
		buf[ln - 1] = '\0';
	return buf;
}
