/* SPDX-License-Identifier: MIT */
/* libcodns/shmtab.c: layout checks, hash and lock-free reader of the shared
 * answer table (see shmtab.h for the layout and the consistency rule). */
#include "shmtab.h"

#include <sys/stat.h>

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "resolvconf.h"

#define SHMTAB_REC_HDR sizeof(struct shmtab_rec)

_Static_assert(sizeof(struct shmtab_hdr) == SHMTAB_HDR_SIZE, "header size");
_Static_assert(sizeof(struct shmtab_slot) == 32, "slot size");
_Static_assert(sizeof(struct shmtab_rec) == 24, "record header size");

uint64_t
shmtab_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t
shmtab_file_size(uint32_t nslots, uint64_t arena_size)
{
	if (nslots < SHMTAB_WAYS || nslots > SHMTAB_SLOTS_MAX ||
	    (nslots & (nslots - 1)) != 0 || arena_size < SHMTAB_REC_MAX ||
	    arena_size > SHMTAB_ARENA_MAX || arena_size % 8 != 0)
		return 0;
	return SHMTAB_HDR_SIZE + (size_t)nslots * sizeof(struct shmtab_slot) +
	    (size_t)arena_size;
}

int
shmtab_view_init(struct shmtab_view *v, const void *base, size_t size)
{
	struct shmtab_hdr h;

	memset(v, 0, sizeof(*v));
	if (base == NULL || size < SHMTAB_HDR_SIZE)
		return -1;
	/* One copy: the checks and the view use the same values even if the
	 * mapping changes under us. */
	memcpy(&h, base, sizeof(h));
	if (h.magic != SHMTAB_MAGIC || h.version != SHMTAB_VERSION ||
	    h.hdr_size != SHMTAB_HDR_SIZE || h.file_size != size ||
	    shmtab_file_size(h.nslots, h.arena_size) != size ||
	    h.slots_off != SHMTAB_HDR_SIZE ||
	    h.arena_off != h.slots_off +
		    (uint64_t)h.nslots * sizeof(struct shmtab_slot))
		return -1;
	v->base = base;
	v->size = size;
	v->nslots = h.nslots;
	v->slots_off = h.slots_off;
	v->arena_off = h.arena_off;
	v->arena_size = h.arena_size;
	v->seed[0] = h.seed[0];
	v->seed[1] = h.seed[1];
	return 0;
}

int
shmtab_key_name(struct shmtab_key *k, uint8_t family, const char *name)
{
	size_t len = strnlen(name, PROTO_NAME_MAX + 1), i;

	if (len == 0 || len > PROTO_NAME_MAX)
		return -1;
	k->kind = PROTO_KIND_FORWARD;
	k->family = family;
	k->len = (uint8_t)len;
	/* RFC 4343: names compare case-insensitively (ASCII), as the
	 * daemon's cache keys them. */
	for (i = 0; i < len; i++) {
		uint8_t ch = (uint8_t)name[i];

		k->bytes[i] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
	}
	return 0;
}

int
shmtab_key_addr(struct shmtab_key *k, uint8_t family, const void *addr)
{
	size_t len = proto_addr_len(family);

	if (len == 0)
		return -1;
	k->kind = PROTO_KIND_REVERSE;
	k->family = family;
	k->len = (uint8_t)len;
	memcpy(k->bytes, addr, len);
	return 0;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012), keyed by the table's seed so
 * that names sent by peers cannot be chosen to push others out. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1;                                                     \
		v1 = ROTL(v1, 13);                                            \
		v1 ^= v0;                                                     \
		v0 = ROTL(v0, 32);                                            \
		v2 += v3;                                                     \
		v3 = ROTL(v3, 16);                                            \
		v3 ^= v2;                                                     \
		v0 += v3;                                                     \
		v3 = ROTL(v3, 21);                                            \
		v3 ^= v0;                                                     \
		v2 += v1;                                                     \
		v1 = ROTL(v1, 17);                                            \
		v1 ^= v2;                                                     \
		v2 = ROTL(v2, 32);                                            \
	} while (0)

static uint64_t
shmtab_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Byte i of in (n bytes) followed by the byte sfx when sfx >= 0. */
static uint64_t
shmtab_byte(const uint8_t *in, size_t n, int sfx, size_t i)
{
	return i < n ? in[i] : (uint8_t)sfx;
}

/* SipHash-2-4 of in (n bytes, then sfx when sfx >= 0) under k: the 64-bit
 * output in out[0], or with wide the 128-bit variant's in out[0] and
 * out[1]. The suffix spares a copy of the key on every lookup. */
static void
shmtab_siphash(const uint64_t k[2], const uint8_t *in, size_t n, int sfx,
    uint64_t out[2], int wide)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k[1] ^ 0x7465646279746573ULL;
	size_t len = n + (sfx >= 0), i, j, left = len % 8;
	uint64_t m, b = (uint64_t)len << 56;

	if (wide)
		v1 ^= 0xee;
	for (i = 0; i + 8 <= len; i += 8) {
		if (i + 8 <= n)
			m = shmtab_le64(in + i);
		else
			for (m = 0, j = 0; j < 8; j++)
				m |= shmtab_byte(in, n, sfx, i + j) << (8 * j);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (j = 0; j < left; j++)
		b |= shmtab_byte(in, n, sfx, i + j) << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= wide ? 0xee : 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	if (!wide)
		return;
	v1 ^= 0xdd;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* A key as hashed: kind, family, length and bytes, as struct shmtab_key
 * lays them out (bytes only, no padding). */
_Static_assert(offsetof(struct shmtab_key, family) == 1 &&
	offsetof(struct shmtab_key, len) == 2 &&
	offsetof(struct shmtab_key, bytes) == 3,
    "struct shmtab_key is its hash input");

static const uint8_t *
shmtab_key_in(const struct shmtab_key *k, size_t *n)
{
	*n = 3 + (size_t)k->len;
	return &k->kind;
}

uint64_t
shmtab_hash(const uint64_t seed[2], const struct shmtab_key *k)
{
	uint64_t h[2];
	size_t n;
	const uint8_t *in = shmtab_key_in(k, &n);

	shmtab_siphash(seed, in, n, -1, h, 0);
	return h[0];
}

/* ChaCha (Bernstein, 2008) with a 128-bit key, 64-bit nonce and 64-bit
 * block counter (the original layout, not RFC 8439's). 12 rounds, as
 * Adiantum and Rust's StdRng use: the best known attack reaches 7. */
#define SHMTAB_CHACHA_ROUNDS 12
#define ROTL32(x, b) (uint32_t)(((x) << (b)) | ((x) >> (32 - (b))))
#define QROUND(a, b, c, d)                                                    \
	do {                                                                  \
		a += b;                                                       \
		d = ROTL32(d ^ a, 16);                                        \
		c += d;                                                       \
		b = ROTL32(b ^ c, 12);                                        \
		a += b;                                                       \
		d = ROTL32(d ^ a, 8);                                         \
		c += d;                                                       \
		b = ROTL32(b ^ c, 7);                                         \
	} while (0)

static inline void
shmtab_chacha_rounds(const uint32_t in[16], uint8_t out[64], int rounds)
{
	uint32_t x[16];
	int i;

	memcpy(x, in, sizeof(x));
	for (i = 0; i < rounds; i += 2) {
		QROUND(x[0], x[4], x[8], x[12]);
		QROUND(x[1], x[5], x[9], x[13]);
		QROUND(x[2], x[6], x[10], x[14]);
		QROUND(x[3], x[7], x[11], x[15]);
		QROUND(x[0], x[5], x[10], x[15]);
		QROUND(x[1], x[6], x[11], x[12]);
		QROUND(x[2], x[7], x[8], x[13]);
		QROUND(x[3], x[4], x[9], x[14]);
	}
	for (i = 0; i < 16; i++) {
		uint32_t v = x[i] + in[i];

		out[4 * i] = (uint8_t)v;
		out[4 * i + 1] = (uint8_t)(v >> 8);
		out[4 * i + 2] = (uint8_t)(v >> 16);
		out[4 * i + 3] = (uint8_t)(v >> 24);
	}
}

static void
shmtab_chacha_block(const uint32_t in[16], uint8_t out[64])
{
	shmtab_chacha_rounds(in, out, SHMTAB_CHACHA_ROUNDS);
}

void
shmtab_chacha_core(const uint32_t in[16], uint8_t out[64], int rounds)
{
	shmtab_chacha_rounds(in, out, rounds);
}

/*
 * The record's secret is SipHash-2-4-128 of the key and a suffix byte
 * under the table's seed (the slot hash is SipHash-2-4-64 of the key
 * alone): anyone can compute it for a name they already know; nobody can
 * get it from the table without one. It keys ChaCha, with the record's
 * arena position (never reused: head only grows) as nonce; one block
 * covers a record of up to 64 key and answer bytes.
 */
void
shmtab_seal(const uint64_t seed[2], const struct shmtab_key *k, uint64_t pos,
    uint8_t *p, size_t len)
{
	static const uint32_t sigma[4] = { 0x61707865, 0x3120646e, 0x79622d36,
		0x6b206574 }; /* "expand 16-byte k" */
	uint8_t ks[64];
	uint64_t secret[2], ctr;
	uint32_t st[16];
	size_t i, j, n;
	const uint8_t *in = shmtab_key_in(k, &n);

	shmtab_siphash(seed, in, n, 1, secret, 1);
	memcpy(st, sigma, sizeof(sigma));
	for (i = 0; i < 2; i++) {
		st[4 + 2 * i] = st[8 + 2 * i] = (uint32_t)secret[i];
		st[5 + 2 * i] = st[9 + 2 * i] = (uint32_t)(secret[i] >> 32);
	}
	st[14] = (uint32_t)pos;
	st[15] = (uint32_t)(pos >> 32);
	for (i = 0, ctr = 0; i < len; i += 64, ctr++) {
		st[12] = (uint32_t)ctr;
		st[13] = (uint32_t)(ctr >> 32);
		shmtab_chacha_block(st, ks);
		for (j = 0; j < 64 && i + j < len; j++)
			p[i + j] ^= ks[j];
	}
}

/* FNV-1a over 32-bit words: each step is a bijection of the state for a
 * given word and changes with the word, so any one changed byte changes
 * the result, as byte-wise FNV-1a does, at a quarter of the steps. */
static uint32_t
shmtab_fnv32(uint32_t h, uint32_t w)
{
	return (h ^ w) * 16777619u;
}

static uint32_t
shmtab_fnv64(uint32_t h, uint64_t w)
{
	return shmtab_fnv32(shmtab_fnv32(h, (uint32_t)w), (uint32_t)(w >> 32));
}

/* Bytes past len count as zeros (the record's padding). */
uint32_t
shmtab_sum(uint64_t expire_ms, const void *rec, size_t len)
{
	const size_t at = offsetof(struct shmtab_rec, sum);
	const uint8_t *p = rec;
	uint32_t h = shmtab_fnv64(2166136261u, expire_ms);
	uint64_t w;
	size_t i;

	_Static_assert(offsetof(struct shmtab_rec, sum) % 8 == 0,
	    "the sum opens a word");
	for (i = 0; i < len; i += 8) {
		w = 0;
		if (len - i >= 8)
			memcpy(&w, p + i, 8);
		else
			memcpy(&w, p + i, len - i);
		if (i == at)
			memset(&w, 0, sizeof(uint32_t));
		h = shmtab_fnv64(h, w);
	}
	return h;
}

static const struct shmtab_hdr *
shmtab_hdr(const struct shmtab_view *v)
{
	return (const struct shmtab_hdr *)(const void *)v->base;
}

int
shmtab_replaced(const struct shmtab_view *v)
{
	return __atomic_load_n(&shmtab_hdr(v)->replaced, __ATOMIC_ACQUIRE) != 0;
}

/*
 * Copy len bytes (a multiple of 8, 8-aligned at both ends) with relaxed
 * atomic loads: the writer may be changing them, and the seqlock check
 * after the acquire fence decides whether the copy is worth anything.
 */
static void
shmtab_copy(uint64_t *dst, const uint8_t *src, size_t len)
{
	const uint64_t *s = (const uint64_t *)(const void *)src;
	size_t i;

	for (i = 0; i < len / 8; i++)
		dst[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* A copied record: its tag, length, checksum, key and answer (opened in
 * place). 1 with *out decoded, else 0. */
static int
shmtab_rec_check(const uint64_t seed[2], uint8_t *rec, uint32_t len,
    uint64_t pos, uint64_t expire, const struct shmtab_key *k,
    struct proto_answer *out)
{
	struct shmtab_rec h;
	struct buf b;
	size_t n;

	memcpy(&h, rec, sizeof(h));
	n = SHMTAB_REC_HDR + (size_t)h.keylen + h.bloblen;
	if (h.pos != pos || h.kind != k->kind || h.family != k->family ||
	    h.keylen != k->len || n > len || (n + 7) / 8 * 8 != len ||
	    h.sum != shmtab_sum(expire, rec, n))
		return 0;
	shmtab_seal(seed, k, pos, rec + SHMTAB_REC_HDR, n - SHMTAB_REC_HDR);
	if (memcmp(rec + SHMTAB_REC_HDR, k->bytes, k->len) != 0)
		return 0;
	buf_init_read(&b, rec + SHMTAB_REC_HDR + h.keylen, h.bloblen);
	if (proto_answer_get_counted(&b, out) == -1 || buf_remaining(&b) != 0)
		return 0;
	return 1;
}

/* One slot: 1 hit, 0 not this slot, -1 doubt (stop and ask the socket). */
static int
shmtab_slot_read(const struct shmtab_view *v, const struct shmtab_slot *s,
    const struct shmtab_key *k, uint64_t h, uint64_t now_ms,
    struct proto_answer *out)
{
	uint64_t rec[SHMTAB_REC_MAX / 8];
	uint64_t hash, expire, pos, head, off;
	uint32_t seq, seq2, len;

	seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if (seq & 1)
		return -1;
	hash = __atomic_load_n(&s->hash, __ATOMIC_RELAXED);
	len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
	if (hash != h || len == 0)
		return 0;
	expire = __atomic_load_n(&s->expire_ms, __ATOMIC_RELAXED);
	pos = __atomic_load_n(&s->pos, __ATOMIC_RELAXED);
	off = pos % v->arena_size;
	if (len < SHMTAB_REC_HDR || len > SHMTAB_REC_MAX || len % 8 != 0 ||
	    pos % 8 != 0 || off + len > v->arena_size)
		return -1;
	shmtab_copy(rec, v->base + v->arena_off + off, len);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	seq2 = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
	head = __atomic_load_n(&shmtab_hdr(v)->head, __ATOMIC_RELAXED);
	if (seq2 != seq || head < pos + len || head - pos > v->arena_size)
		return -1;
	if (!shmtab_rec_check(v->seed, (uint8_t *)rec, len, pos, expire, k,
		out))
		return -1;
	if (expire <= now_ms)
		return -1;
	/* The floor, as the daemon's cache does: never past our expiry. */
	out->ttl = (uint32_t)((expire - now_ms) / 1000);
	out->source = CODNS_SRC_CACHE;
	out->latency_us = 0;
	return 1;
}

int
shmtab_find(const struct shmtab_view *v, const struct shmtab_key *k,
    uint64_t now_ms, struct proto_answer *out)
{
	const struct shmtab_slot *slots;
	uint64_t h;
	uint32_t i, mask;
	int rc;

	if (v->base == NULL)
		return 0;
	slots = (const struct shmtab_slot *)(const void *)(v->base +
	    v->slots_off);
	mask = v->nslots - 1;
	h = shmtab_hash(v->seed, k);
	for (i = 0; i < SHMTAB_WAYS; i++) {
		rc = shmtab_slot_read(v, &slots[(h + i) & mask], k, h, now_ms,
		    out);
		if (rc != 0)
			return rc > 0;
	}
	return 0;
}

int
shmtab_alive(const struct shmtab_view *v, uint64_t now_ms)
{
	uint64_t beat = __atomic_load_n(&shmtab_hdr(v)->beat_ms,
	    __ATOMIC_ACQUIRE);

	return beat != 0 && (beat >= now_ms || now_ms - beat <= SHMTAB_STALE_MS);
}

uint32_t
shmtab_conf_tag(const struct stat *st)
{
	uint64_t f[7], h = 1469598103934665603ULL;
	size_t i;

	if (st == NULL)
		return 1;
	f[0] = (uint64_t)st->st_ino;
	f[1] = (uint64_t)st->st_dev;
	f[2] = (uint64_t)st->st_size;
	f[3] = (uint64_t)st->st_mtim.tv_sec;
	f[4] = (uint64_t)st->st_mtim.tv_nsec;
	f[5] = (uint64_t)st->st_ctim.tv_sec;
	f[6] = (uint64_t)st->st_ctim.tv_nsec;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		h = (h ^ f[i]) * 1099511628211ULL;
	/* 0 is "not tied" and 1 "missing". */
	return (uint32_t)(h ^ h >> 32) | 2;
}

uint32_t
shmtab_conf_now(void)
{
	struct stat st;

	return shmtab_conf_tag(stat(RESOLVCONF_PATH, &st) == 0 ? &st : NULL);
}

int
shmtab_conf_ok(const struct shmtab_view *v, uint32_t now_tag)
{
	uint32_t tag = __atomic_load_n(&shmtab_hdr(v)->conf_tag,
	    __ATOMIC_RELAXED);

	return tag == 0 || tag == now_tag;
}
