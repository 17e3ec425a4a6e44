/* SPDX-License-Identifier: MIT */
/* libcodns/peerproto.c: codec for the peer protocol (UDP between codnsd). */
#include "peerproto.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"

#define KEYFILE_MAX 256 /* 64 hex digits and generous whitespace */

/* Version 1 beats end after ns_set_id; version 2 adds a nonzero nonce,
 * version 3 reply_time. */
static int
peerproto_beat_put(struct buf *b, const struct peerproto_beat *h,
    uint8_t version)
{
	if (h->ns_fail_permille > PEERPROTO_PERMILLE_MAX ||
	    (version >= 2) != (h->node_nonce != 0))
		return -1;
	buf_put_u32(b, h->seq);
	buf_put_u64(b, h->send_time);
	buf_put_u32(b, h->ns_mean_ms);
	buf_put_u16(b, h->ns_fail_permille);
	buf_put_u64(b, h->ns_set_id);
	if (version >= 2)
		buf_put_u64(b, h->node_nonce);
	if (version >= 3)
		buf_put_u64(b, h->reply_time);
	else if (h->reply_time != 0)
		return -1;
	return buf_ok(b) ? 0 : -1;
}

static int
peerproto_beat_get(struct buf *b, struct peerproto_beat *h, uint8_t version)
{
	buf_get_u32(b, &h->seq);
	buf_get_u64(b, &h->send_time);
	buf_get_u32(b, &h->ns_mean_ms);
	buf_get_u16(b, &h->ns_fail_permille);
	buf_get_u64(b, &h->ns_set_id);
	if (version >= 2 &&
	    (buf_get_u64(b, &h->node_nonce) == -1 || h->node_nonce == 0))
		return -1;
	if (version >= 3 && buf_get_u64(b, &h->reply_time) == -1)
		return -1;
	if (!buf_ok(b) || h->ns_fail_permille > PEERPROTO_PERMILLE_MAX)
		return -1;
	return 0;
}

/* A forward query may ask for any family; a reverse one needs an address. */
static int
peerproto_query_valid(uint8_t kind, uint8_t family)
{
	switch (kind) {
	case PROTO_KIND_FORWARD:
		return family == CODNS_AF_UNSPEC ||
		    proto_addr_len(family) != 0;
	case PROTO_KIND_REVERSE:
		return proto_addr_len(family) != 0;
	default:
		return 0;
	}
}

static int
peerproto_query_put(struct buf *b, const struct peerproto_query *q)
{
	if (!peerproto_query_valid(q->kind, q->family))
		return -1;
	buf_put_u64(b, q->id);
	buf_put_u8(b, q->kind);
	buf_put_u8(b, q->family);
	if (q->kind == PROTO_KIND_FORWARD) {
		if (!proto_name_valid(q->name))
			return -1;
		buf_put_str8(b, q->name);
	} else
		buf_put_bytes(b, q->addr, proto_addr_len(q->family));
	return buf_ok(b) ? 0 : -1;
}

static int
peerproto_query_get(struct buf *b, struct peerproto_query *q)
{
	buf_get_u64(b, &q->id);
	buf_get_u8(b, &q->kind);
	buf_get_u8(b, &q->family);
	if (!buf_ok(b) || !peerproto_query_valid(q->kind, q->family))
		return -1;
	if (q->kind == PROTO_KIND_FORWARD)
		return buf_get_str8(b, q->name, PROTO_NAME_MAX) == -1 ||
		    !proto_name_valid(q->name) ? -1 : 0;
	return buf_get_bytes(b, q->addr, proto_addr_len(q->family));
}

/*
 * A peer answers only what it could resolve (CoDNS section 4): anything
 * else is a CANNOT. Names from another machine reach applications, so
 * they get the same syntax check as names in queries.
 */
static int
peerproto_answer_valid(const struct proto_answer *a)
{
	size_t i;

	if (a->status != CODNS_FOUND && a->status != CODNS_NOTFOUND &&
	    a->status != CODNS_NODATA)
		return 0;
	/* naddrs is a u8 and PROTO_ADDRS_MAX 255: proto_answer_get() and
	 * proto_answer_put() hold that bound. */
	if (a->naliases > PROTO_ALIASES_MAX)
		return 0;
	if (a->cname[0] != '\0' && !proto_name_valid(a->cname))
		return 0;
	for (i = 0; i < a->naliases; i++)
		if (!proto_name_valid(a->aliases[i]))
			return 0;
	return 1;
}

static int
peerproto_answer_put(struct buf *b, const struct peerproto_answer *r)
{
	if (!peerproto_answer_valid(&r->a))
		return -1;
	buf_put_u64(b, r->id);
	return proto_answer_put(b, &r->a);
}

static int
peerproto_answer_get(struct buf *b, struct peerproto_answer *r)
{
	if (buf_get_u64(b, &r->id) == -1 || proto_answer_get(b, &r->a) == -1)
		return -1;
	return peerproto_answer_valid(&r->a) ? 0 : -1;
}

static int
peerproto_body_put(struct buf *b, const struct peerproto_msg *m,
    uint8_t version)
{
	switch (m->type) {
	case PEERPROTO_T_ECHO:
		if (version < 3)
			return -1;
		/* FALLTHROUGH */
	case PEERPROTO_T_HEARTBEAT:
	case PEERPROTO_T_ACK:
		return peerproto_beat_put(b, &m->u.beat, version);
	case PEERPROTO_T_QUERY:
		return peerproto_query_put(b, &m->u.query);
	case PEERPROTO_T_ANSWER:
		return peerproto_answer_put(b, &m->u.answer);
	case PEERPROTO_T_CANNOT:
		if (m->u.cannot.reason > PEERPROTO_R_MAX)
			return -1;
		buf_put_u64(b, m->u.cannot.id);
		return buf_put_u8(b, m->u.cannot.reason);
	default:
		return -1;
	}
}

static int
peerproto_body_get(struct buf *b, struct peerproto_msg *m)
{
	switch (m->type) {
	case PEERPROTO_T_ECHO:
		if (m->version < 3)
			return -1;
		/* FALLTHROUGH */
	case PEERPROTO_T_HEARTBEAT:
	case PEERPROTO_T_ACK:
		return peerproto_beat_get(b, &m->u.beat, m->version);
	case PEERPROTO_T_QUERY:
		return peerproto_query_get(b, &m->u.query);
	case PEERPROTO_T_ANSWER:
		return peerproto_answer_get(b, &m->u.answer);
	case PEERPROTO_T_CANNOT:
		if (buf_get_u64(b, &m->u.cannot.id) == -1 ||
		    buf_get_u8(b, &m->u.cannot.reason) == -1)
			return -1;
		return m->u.cannot.reason > PEERPROTO_R_MAX ? -1 : 0;
	default:
		return -1;
	}
}

int
peerproto_encode(const struct peerproto_msg *m, const uint8_t *key,
    uint64_t now_wall_ms, uint8_t *out, size_t cap, size_t *outlen)
{
	struct buf b;
	uint8_t version = m->version != 0 ? m->version : PEERPROTO_VERSION;

	if (version < PEERPROTO_VERSION_MIN || version > PEERPROTO_VERSION)
		return -1;
	if (cap > PEERPROTO_DGRAM_MAX)
		cap = PEERPROTO_DGRAM_MAX;
	buf_init_write(&b, out, cap);
	buf_put_u16(&b, PEERPROTO_MAGIC);
	buf_put_u8(&b, version);
	buf_put_u8(&b, m->type);
	buf_put_u8(&b, key != NULL ? PEERPROTO_F_AUTH : 0);
	if (!buf_ok(&b) || peerproto_body_put(&b, m, version) == -1)
		return -1;
	if (key != NULL) {
		if (buf_put_u64(&b, now_wall_ms) == -1 ||
		    buf_remaining(&b) < PEERPROTO_TAG_LEN)
			return -1;
		crypto_auth_hmacsha256(out + b.pos, out, b.pos, key);
		b.pos += PEERPROTO_TAG_LEN;
	}
	*outlen = b.pos;
	return 0;
}

static int
peerproto_fresh(uint64_t ts, uint64_t now, uint32_t max_skew_ms)
{
	uint64_t d = ts > now ? ts - now : now - ts;

	return d <= max_skew_ms;
}

/*
 * The body is parsed before the tag is checked: parsing is bounds-checked
 * and cheap, and it makes every truncation a plain EMALFORMED. Nothing in
 * out is trusted by the caller unless 0 comes back.
 */
int
peerproto_decode(const uint8_t *in, size_t len, const uint8_t *key,
    uint64_t now_wall_ms, uint32_t max_skew_ms, struct peerproto_msg *out)
{
	struct buf b;
	uint16_t magic;
	uint8_t version, flags;
	size_t body_end;

	memset(out, 0, sizeof(*out));
	if (len < PEERPROTO_HDR_LEN || len > PEERPROTO_DGRAM_MAX)
		return PEERPROTO_EMALFORMED;
	buf_init_read(&b, in, len);
	buf_get_u16(&b, &magic);
	buf_get_u8(&b, &version);
	buf_get_u8(&b, &out->type);
	buf_get_u8(&b, &flags);
	if (magic != PEERPROTO_MAGIC)
		return PEERPROTO_EMALFORMED;
	if (version < PEERPROTO_VERSION_MIN || version > PEERPROTO_VERSION)
		return PEERPROTO_EVERSION;
	out->version = version;
	if ((flags & ~PEERPROTO_F_AUTH) != 0)
		return PEERPROTO_EMALFORMED;
	out->authenticated = (flags & PEERPROTO_F_AUTH) != 0;
	body_end = len;
	if (out->authenticated) {
		if (len < PEERPROTO_HDR_LEN + PEERPROTO_AUTH_LEN)
			return PEERPROTO_EMALFORMED;
		body_end = len - PEERPROTO_AUTH_LEN;
	}
	/* Read the body through a reader that ends where it must end. */
	b.len = body_end;
	if (peerproto_body_get(&b, out) == -1 || buf_remaining(&b) != 0)
		return PEERPROTO_EMALFORMED;
	if (key != NULL && !out->authenticated)
		return PEERPROTO_EUNSIGNED;
	if (key == NULL && out->authenticated)
		return PEERPROTO_EUNEXPECTED_AUTH;
	if (!out->authenticated)
		return PEERPROTO_OK;
	b.len = len;
	buf_get_u64(&b, &out->timestamp);
	buf_get_bytes(&b, out->tag, PEERPROTO_TAG_LEN);
	if (crypto_auth_hmacsha256_verify(out->tag, in,
	    len - PEERPROTO_TAG_LEN, key) != 0)
		return PEERPROTO_EBADTAG;
	/* Checked only after the tag, so a forged timestamp is a bad tag. */
	if (!peerproto_fresh(out->timestamp, now_wall_ms, max_skew_ms))
		return PEERPROTO_ESTALE;
	return PEERPROTO_OK;
}

const char *
peerproto_strerror(int err)
{
	switch (err) {
	case PEERPROTO_OK:
		return "success";
	case PEERPROTO_EMALFORMED:
		return "malformed datagram";
	case PEERPROTO_EVERSION:
		return "unsupported protocol version";
	case PEERPROTO_EUNSIGNED:
		return "unsigned datagram but a peer key is configured";
	case PEERPROTO_EBADTAG:
		return "bad authentication tag";
	case PEERPROTO_ESTALE:
		return "timestamp outside the allowed clock skew";
	case PEERPROTO_EUNEXPECTED_AUTH:
		return "signed datagram but no peer key is configured";
	default:
		return "unknown error";
	}
}

const char *
peerproto_type_str(uint8_t type)
{
	switch (type) {
	case PEERPROTO_T_HEARTBEAT:
		return "heartbeat";
	case PEERPROTO_T_ACK:
		return "ack";
	case PEERPROTO_T_QUERY:
		return "query";
	case PEERPROTO_T_ANSWER:
		return "answer";
	case PEERPROTO_T_CANNOT:
		return "cannot";
	case PEERPROTO_T_ECHO:
		return "echo";
	default:
		return "unknown";
	}
}

void
peerproto_replay_init(struct peerproto_replay *r, uint32_t max_skew_ms)
{
	memset(r, 0, sizeof(*r));
	r->max_skew_ms = max_skew_ms;
}

static uint64_t
peerproto_tag_prefix(const uint8_t *tag)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | tag[i];
	return v;
}

/*
 * Entries are never removed, only replaced by newer ones, so once a set is
 * full its oldest timestamp only rises: an evicted datagram is never newer
 * than everything left in its set, and is refused by the same rule that
 * refuses a datagram older than a full set.
 */
int
peerproto_replay_check(struct peerproto_replay *r,
    const struct peerproto_msg *m, uint64_t now)
{
	struct peerproto_replay_entry *set, *victim = NULL;
	uint64_t tag;
	size_t i;

	if (!m->authenticated)
		return 0;
	/*
	 * Outside the window nothing is remembered, so nothing is accepted.
	 * 0 marks an empty slot, and no real clock says 1970.
	 */
	if (m->timestamp == 0 ||
	    !peerproto_fresh(m->timestamp, now, r->max_skew_ms))
		return -1;
	tag = peerproto_tag_prefix(m->tag);
	/* The tag is an HMAC output, so its bits are already uniform. */
	set = r->e[tag % PEERPROTO_REPLAY_SETS];
	for (i = 0; i < PEERPROTO_REPLAY_WAYS; i++) {
		if (set[i].timestamp == m->timestamp && set[i].tag == tag)
			return -1;
		if (victim == NULL || set[i].timestamp < victim->timestamp)
			victim = &set[i];
	}
	if (victim->timestamp != 0 && m->timestamp <= victim->timestamp)
		return -1;
	victim->timestamp = m->timestamp;
	victim->tag = tag;
	return 0;
}

static int
peerproto_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
peerproto_key_parse(const char *s, size_t len, uint8_t *key)
{
	size_t i;

	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		len--;
	while (len > 0 && strchr(" \t\r\n", s[0]) != NULL) {
		s++;
		len--;
	}
	if (len != 2 * PEERPROTO_KEY_LEN)
		return -1;
	for (i = 0; i < PEERPROTO_KEY_LEN; i++) {
		int hi = peerproto_hexval((unsigned char)s[2 * i]);
		int lo = peerproto_hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
peerproto_key_load(const char *path, uint8_t key[PEERPROTO_KEY_LEN],
    char *err, size_t errlen)
{
	char text[KEYFILE_MAX + 1];
	uint8_t parsed[PEERPROTO_KEY_LEN];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO would block open() and the daemon with it. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	/* A secret others can read is no secret: refuse it like ssh does. */
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o is accessible by group or "
		    "others; chmod 600 it", path, (unsigned)st.st_mode & 07777);
		goto done;
	}
	if ((n = read(fd, text, sizeof(text))) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	/* Parsed aside: a bad file must leave the caller's key as it was. */
	if (n > KEYFILE_MAX || peerproto_key_parse(text, (size_t)n, parsed)) {
		snprintf(err, errlen, "%s: want exactly 64 hexadecimal "
		    "characters (32 bytes)", path);
		goto done;
	}
	memcpy(key, parsed, sizeof(parsed));
	rc = 0;
done:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(parsed, sizeof(parsed));
	close(fd);
	return rc;
}
