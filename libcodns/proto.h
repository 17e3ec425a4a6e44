/* SPDX-License-Identifier: MIT */
/* libcodns/proto.h: codec for the codnsd lookup protocol (TCP, loopback). */
#ifndef CODNS_PROTO_H
#define CODNS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "codns.h"

/*
 * Framing: u16 payload length, then the payload; every payload starts with
 * u8 version and u8 type. See man/codns-protocol.7 for the byte layout.
 */
#define PROTO_VERSION 1
/* Room for PROTO_ALIASES_MAX names and PROTO_ADDRS_MAX addresses. */
#define PROTO_FRAME_MAX 16384 /* payload bytes */
#define PROTO_HDR_LEN 2

#define PROTO_T_REQUEST 1
#define PROTO_T_RESPONSE 2
#define PROTO_T_REPORT 3 /* nss_codns: answers it took from the shared table */

#define PROTO_KIND_FORWARD 0
#define PROTO_KIND_REVERSE 1

#define PROTO_NAME_MAX 253
/* An asked name may end in the root's dot on top (RFC 1035 3.1). */
#define PROTO_QNAME_MAX (PROTO_NAME_MAX + 1)
#define PROTO_PEER_MAX 63
/*
 * The counts are one byte on the wire. 255 addresses is more than a
 * 1232-byte EDNS answer holds; longer lists and CNAME chains are cut and
 * counted (codnsd's "answers truncated" figure, nss_codns(8)).
 */
#define PROTO_ALIASES_MAX 32
#define PROTO_ADDRS_MAX 255

struct proto_addr {
	uint8_t family; /* CODNS_AF_INET or CODNS_AF_INET6 */
	uint8_t a[16];
};

struct proto_request {
	uint32_t id;
	uint8_t kind;
	uint8_t family;
	char name[PROTO_QNAME_MAX + 1]; /* forward */
	uint8_t addr[16];               /* reverse: 4 or 16 bytes by family */
};

/* An answer: what the cache stores, the daemon sends and clients read. */
struct proto_answer {
	uint8_t status; /* enum codns_status */
	uint8_t source; /* enum codns_source */
	uint32_t ttl;
	uint32_t latency_us;
	char peer[PROTO_PEER_MAX + 1];
	char cname[PROTO_NAME_MAX + 1];
	uint8_t naliases;
	char aliases[PROTO_ALIASES_MAX][PROTO_NAME_MAX + 1];
	uint8_t naddrs;
	struct proto_addr addrs[PROTO_ADDRS_MAX];
};

/*
 * Looks at received bytes: 1 with *framelen (header + payload) when a whole
 * frame is there, 0 when more bytes are needed, -1 when the length is 0 or
 * over PROTO_FRAME_MAX (the peer is broken: drop the connection).
 */
int proto_frame_peek(const void *, size_t, size_t *framelen);

/* Encode a whole frame (header included) into the writer. 0 or -1. */
int proto_request_encode(struct buf *, const struct proto_request *);
int proto_response_encode(struct buf *, uint32_t id,
    const struct proto_answer *);

/* Decode one payload (without the u16 header); trailing bytes are errors. */
int proto_request_decode(const void *, size_t, struct proto_request *);
int proto_response_decode(const void *, size_t, uint32_t *id,
    struct proto_answer *);

/* Report (type 3): u32 count of shared-table hits since the last report.
 * No response. The type of a payload, or -1 when it has no header. */
int proto_report_encode(struct buf *, uint32_t hits);
int proto_report_decode(const void *, size_t, uint32_t *hits);
int proto_payload_type(const void *, size_t);

/* The answer body alone, shared with the cache and the peer protocol. */
int proto_answer_put(struct buf *, const struct proto_answer *);
int proto_answer_get(struct buf *, struct proto_answer *);
/* The same without clearing the whole answer first (it is 12 KiB): only
 * the scalars, the names, the first naliases aliases and the first
 * naddrs addresses are written. For a reader on a hot path that looks at
 * nothing past the counts. */
int proto_answer_get_counted(struct buf *, struct proto_answer *);

/* 4 or 16 for CODNS_AF_INET / CODNS_AF_INET6, 0 otherwise. */
size_t proto_addr_len(uint8_t family);
/* Syntax check of a host name in presentation form: 1..253 bytes, labels
 * of 1..63 bytes, printable ASCII without spaces; a final dot is allowed
 * on top (so 254 bytes with it). */
int proto_name_valid(const char *);

/*
 * codnsd asks its nameservers in lower case (the case-blind cache key),
 * while glibc's dns module sends the name as typed and the nameserver
 * echoes the question's case back. So a name that is the asked one, or the
 * asked one with a search domain after it, takes the asked spelling, and
 * never the final dot, which glibc drops too: written into buf[len] and
 * returned. Any other name is returned as it is. Only case changes here.
 * Shared by nss_codns and codnsd's nscd protocol.
 */
const char *proto_asked_case(const char *name, const char *asked, char *buf,
    size_t len);

/*
 * A client result holding a copy of a, for code that has an answer from
 * elsewhere than a connection (the NSS module's fuzz harness); NULL when
 * out of memory. Free it with codns_result_free(). Internal, not exported.
 */
struct codns_result *client_result_new(const struct proto_answer *a);

#endif
