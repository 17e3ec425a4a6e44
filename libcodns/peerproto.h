/* SPDX-License-Identifier: MIT */
/* libcodns/peerproto.h: codec for the peer protocol (UDP between codnsd). */
#ifndef CODNS_PEERPROTO_H
#define CODNS_PEERPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * One datagram = header (u16 magic, u8 version, u8 type, u8 flags), the body
 * of its type, and, when flags has PEERPROTO_F_AUTH, a u64 wall-clock
 * timestamp (ms since the epoch) and a 32-byte HMAC-SHA256 tag over every
 * byte before the tag. Network byte order throughout. The byte layout is in
 * man/codns-protocol.7.
 */
#define PEERPROTO_MAGIC 0xC0D5
/*
 * Version 2 adds the sender's node nonce to heartbeats and acks, so a
 * node that reaches itself through a listed address can tell. Version 1
 * datagrams are still decoded (node_nonce 0) and can be encoded, so a
 * node acks and answers an old peer in its own version during an upgrade.
 */
#define PEERPROTO_VERSION 3
#define PEERPROTO_VERSION_MIN 1
/*
 * Version 3 adds reply_time to heartbeats and acks, and the ECHO type: a
 * three-way exchange in which the acker measures the round trip too
 * (man/codns-protocol.7). A daemon speaks to each peer in the version of
 * the last heartbeat or query that peer sent it, so old nodes keep
 * reading what new ones send them.
 */
#define PEERPROTO_HDR_LEN 5
#define PEERPROTO_TAG_LEN 32
#define PEERPROTO_KEY_LEN 32
#define PEERPROTO_AUTH_LEN (8 + PEERPROTO_TAG_LEN) /* timestamp + tag */
/*
 * 1280 (the IPv6 minimum MTU, RFC 8200 section 5) minus 40 bytes of IPv6
 * header and 8 of UDP: a datagram this size crosses any path without
 * fragmentation, and lost fragments are exactly the silent loss CoDNS is
 * meant to hide. The same figure as DNS Flag Day 2020 for EDNS buffers.
 */
#define PEERPROTO_DGRAM_MAX 1232

#define PEERPROTO_F_AUTH 0x01

/* The clock skew codnsd allows signed datagrams (max_skew_ms), as
 * documented in codns-protocol(7): NTP keeps clocks far closer. */
#define PEERPROTO_SKEW_MS 30000

enum peerproto_type {
	PEERPROTO_T_HEARTBEAT = 1,
	PEERPROTO_T_ACK = 2,
	PEERPROTO_T_QUERY = 3,
	PEERPROTO_T_ANSWER = 4,
	PEERPROTO_T_CANNOT = 5,
	PEERPROTO_T_ECHO = 6, /* version 3 */
};

/* Why a peer could not resolve a query (CANNOT reason byte). */
enum peerproto_reason {
	PEERPROTO_R_FAILED = 0,   /* its local nameserver failed or timed out */
	PEERPROTO_R_OVERLOAD = 1, /* its peer-query queue is full */
	PEERPROTO_R_TOOBIG = 2,   /* the answer does not fit a datagram */
	PEERPROTO_R_REFUSED = 3,  /* the query was unacceptable */
};
#define PEERPROTO_R_MAX PEERPROTO_R_REFUSED

/* Decode results; encode returns 0 or -1 only. */
enum peerproto_error {
	PEERPROTO_OK = 0,
	PEERPROTO_EMALFORMED = -1,
	PEERPROTO_EVERSION = -2,
	PEERPROTO_EUNSIGNED = -3,	/* key set, datagram not signed */
	PEERPROTO_EBADTAG = -4,
	PEERPROTO_ESTALE = -5,		/* timestamp outside +-max_skew */
	PEERPROTO_EUNEXPECTED_AUTH = -6, /* no key set, datagram signed */
};

#define PEERPROTO_PERMILLE_MAX 1000

/* HEARTBEAT, ACK and ECHO share one body. In an ACK, seq and send_time
 * echo the heartbeat; in an ECHO, seq and send_time echo the ACK's seq
 * and reply_time. The ns_ fields are always the sender's own. */
struct peerproto_beat {
	uint32_t seq;
	uint64_t send_time;	   /* heartbeat sender's clock */
	uint32_t ns_mean_ms;	   /* mean local-nameserver response time */
	uint16_t ns_fail_permille; /* recent local failure rate, <= 1000 */
	uint64_t ns_set_id;	   /* identity of the nameserver set */
	uint64_t node_nonce; /* version 2: the sender's random per-process
				id, never 0; 0 in version 1 */
	uint64_t reply_time; /* version 3: in an ACK, the acker's clock,
				asking for an ECHO; 0 asks nothing. 0 in
				a HEARTBEAT and an ECHO */
};

struct peerproto_query {
	uint64_t id;	/* random, so answers cannot be guessed */
	uint8_t kind;	/* PROTO_KIND_FORWARD or PROTO_KIND_REVERSE */
	uint8_t family; /* enum codns_family */
	char name[PROTO_NAME_MAX + 1]; /* forward */
	uint8_t addr[16];	       /* reverse: 4 or 16 bytes by family */
};

/*
 * The answer body travels through proto_answer_put()/proto_answer_get().
 * Only FOUND, NOTFOUND and NODATA are answers: a peer that could not
 * resolve sends CANNOT. source, peer and latency_us travel as sent; the
 * receiver must overwrite them with its own view.
 */
struct peerproto_answer {
	uint64_t id;
	struct proto_answer a;
};

struct peerproto_cannot {
	uint64_t id;
	uint8_t reason; /* enum peerproto_reason */
};

struct peerproto_msg {
	/* PEERPROTO_VERSION_MIN..PEERPROTO_VERSION; 0 encodes as
	 * PEERPROTO_VERSION. Decode fills in the datagram's. */
	uint8_t version;
	uint8_t type; /* enum peerproto_type */
	/* Filled by decode: whether the datagram was signed, and then its
	 * timestamp and tag (for peerproto_replay_check()). */
	int authenticated;
	uint64_t timestamp;
	uint8_t tag[PEERPROTO_TAG_LEN];
	union {
		struct peerproto_beat beat; /* HEARTBEAT and ACK */
		struct peerproto_query query;
		struct peerproto_answer answer;
		struct peerproto_cannot cannot;
	} u;
};

/*
 * Encode msg into out (cap bytes). With a key (PEERPROTO_KEY_LEN bytes) the
 * datagram is signed with timestamp now_wall_ms; NULL sends it unsigned.
 * Returns 0 with *outlen set, or -1 when a field is invalid or the datagram
 * would exceed cap or PEERPROTO_DGRAM_MAX (an ANSWER that does not fit:
 * send CANNOT with PEERPROTO_R_TOOBIG instead). Never writes past cap.
 */
int peerproto_encode(const struct peerproto_msg *, const uint8_t *key,
    uint64_t now_wall_ms, uint8_t *out, size_t cap, size_t *outlen);

/*
 * Decode one datagram into out. With a key, only signed datagrams with a
 * good tag and a timestamp within max_skew_ms of now_wall_ms pass; without
 * one, signed datagrams are refused (PEERPROTO_EUNEXPECTED_AUTH: a cluster
 * half configured for keys should fail loudly, not half work). Returns 0 or
 * an enum peerproto_error. out is garbage on error.
 */
int peerproto_decode(const uint8_t *in, size_t len, const uint8_t *key,
    uint64_t now_wall_ms, uint32_t max_skew_ms, struct peerproto_msg *out);

const char *peerproto_strerror(int);
const char *peerproto_type_str(uint8_t);

/*
 * Replay guard for signed datagrams: remembers (timestamp, tag prefix) of
 * datagrams accepted within the skew window, in a fixed table of
 * PEERPROTO_REPLAY_SETS sets of PEERPROTO_REPLAY_WAYS entries (32 KiB).
 * A new datagram replaces the oldest entry of its set; one older than
 * every entry of a full set is refused. Memory stays bounded and no replay
 * is ever let through; under a flood of over 2048 datagrams per window a
 * few genuine late ones may be refused instead.
 */
#define PEERPROTO_REPLAY_SETS 256
#define PEERPROTO_REPLAY_WAYS 8

struct peerproto_replay_entry {
	uint64_t timestamp; /* 0: empty */
	uint64_t tag;	    /* first 8 bytes of the tag */
};

struct peerproto_replay {
	uint32_t max_skew_ms;
	struct peerproto_replay_entry
	    e[PEERPROTO_REPLAY_SETS][PEERPROTO_REPLAY_WAYS];
};

/* max_skew_ms: the same value given to peerproto_decode(). */
void peerproto_replay_init(struct peerproto_replay *, uint32_t max_skew_ms);
/*
 * 0 when msg (a decoded message) is fresh, and then it is remembered; -1
 * when it was seen before, may have been, or lies outside the skew window.
 * Unsigned messages carry nothing to check and always return 0. now is
 * wall-clock ms, as for decode.
 */
int peerproto_replay_check(struct peerproto_replay *,
    const struct peerproto_msg *, uint64_t now);

/*
 * Load the shared secret: the file holds exactly 64 hexadecimal characters
 * (32 bytes), surrounded by optional whitespace. The file must be a regular
 * file with no permission for group or others. Returns 0, or -1 with a
 * message in err.
 */
int peerproto_key_load(const char *path, uint8_t key[PEERPROTO_KEY_LEN],
    char *err, size_t errlen);

#endif
