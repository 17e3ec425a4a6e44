/* SPDX-License-Identifier: MIT */
/* libcodns/dnsmsg.h: DNS message codec (RFC 1035, RFC 6891) for the stub. */
#ifndef CODNS_DNSMSG_H
#define CODNS_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DNSMSG_HDR_LEN 12
#define DNSMSG_NAME_MAX 255   /* wire form, RFC 1035 section 3.1 */
#define DNSMSG_LABELS_MAX 127 /* (255 - 1) / 2 */
#define DNSMSG_UDP_MIN 512    /* RFC 1035 section 4.2.1 */
#define DNSMSG_MSG_MAX 65535  /* a TCP frame, RFC 1035 section 4.2.2 */
#define DNSMSG_OPT_LEN 11     /* an OPT RR without options */

/* Header flags (RFC 1035 section 4.1.1, RFC 4035 section 3.2). */
#define DNSMSG_F_QR 0x8000
#define DNSMSG_F_OPCODE 0x7800
#define DNSMSG_F_AA 0x0400
#define DNSMSG_F_TC 0x0200
#define DNSMSG_F_RD 0x0100
#define DNSMSG_F_RA 0x0080
#define DNSMSG_F_AD 0x0020
#define DNSMSG_F_CD 0x0010
#define DNSMSG_F_RCODE 0x000f
#define DNSMSG_EDNS_DO 0x8000

enum dnsmsg_rcode {
	DNSMSG_NOERROR = 0,
	DNSMSG_FORMERR = 1,
	DNSMSG_SERVFAIL = 2,
	DNSMSG_NXDOMAIN = 3,
	DNSMSG_NOTIMP = 4,
	DNSMSG_REFUSED = 5,
	DNSMSG_BADVERS = 16, /* extended, RFC 6891 section 6.1.3 */
};

enum dnsmsg_type {
	DNSMSG_T_A = 1,
	DNSMSG_T_NS = 2,
	DNSMSG_T_CNAME = 5,
	DNSMSG_T_SOA = 6,
	DNSMSG_T_PTR = 12,
	DNSMSG_T_MX = 15,
	DNSMSG_T_TXT = 16,
	DNSMSG_T_AAAA = 28,
	DNSMSG_T_SRV = 33,
	DNSMSG_T_OPT = 41,
	DNSMSG_T_IXFR = 251,
	DNSMSG_T_AXFR = 252,
	DNSMSG_T_ANY = 255,
};

#define DNSMSG_C_IN 1

enum dnsmsg_section { DNSMSG_AN = 0, DNSMSG_NS = 1, DNSMSG_AR = 2 };

/* A name in wire form, uncompressed, case as received. */
struct dnsmsg_name {
	uint8_t len;
	uint8_t b[DNSMSG_NAME_MAX];
};

struct dnsmsg_query {
	uint16_t id;
	uint16_t flags;
	int has_question;   /* the question decoded (even on an error) */
	struct dnsmsg_name qname;
	uint16_t qtype;
	uint16_t qclass;
	int edns;           /* a valid OPT record was present */
	uint16_t edns_size; /* requestor's payload size, at least 512 */
	uint8_t edns_version;
	uint16_t edns_flags;
};

/*
 * Decode a query. Returns -1 when no response can be made (shorter than a
 * header, or QR set: a response is never answered, RFC 5452 section 9),
 * else the rcode to answer with: NOERROR for a query to serve, FORMERR,
 * NOTIMP (opcode other than QUERY) or BADVERS (EDNS version above 0).
 */
int dnsmsg_query_decode(const void *, size_t, struct dnsmsg_query *);

/*
 * Read a possibly compressed name at b's position; msg/msglen is the whole
 * message that pointers refer to. Every pointer must point strictly before
 * the previous one, so a loop is impossible, and the expanded name is at
 * most 255 bytes. b ends after the name (after the first pointer).
 */
int dnsmsg_name_get(const uint8_t *msg, size_t msglen, struct buf *b,
    struct dnsmsg_name *);
/* Host name text (no final dot) of a wire name: -1 if a label holds a
 * dot, a blank or a byte outside printable ASCII, or the name is the root. */
int dnsmsg_name_text(const struct dnsmsg_name *, char *out, size_t outlen);
/* Text (final dot optional) to wire form. */
int dnsmsg_name_from_text(const char *, struct dnsmsg_name *);
/* Case-insensitive (ASCII, RFC 4343) equality. */
int dnsmsg_name_equal(const struct dnsmsg_name *, const struct dnsmsg_name *);
/* Address of an in-addr.arpa (4 bytes) or ip6.arpa (16 bytes) name, as
 * RFC 1035 section 3.5 and RFC 3596 section 2.5 write them: 4 or 16 is
 * returned, 0 when the name is not a whole address's reverse name. */
size_t dnsmsg_name_reverse(const struct dnsmsg_name *, uint8_t out[16]);

/*
 * glibc's host-name rule (res_hnok, resolv/res-name-checking.c): every
 * label holds only letters, digits, '-' and '_', and the first label does
 * not start with '-' (it would read as a program's option). 1 when n
 * passes. Programs put reverse names into logs and shell commands.
 */
int dnsmsg_name_hostok(const struct dnsmsg_name *);

/*
 * The host name a PTR answer gives for the reverse name qname, as glibc's
 * dns module reads it (getanswer_ptr): answer records of class IN in
 * order; a CNAME makes its target the name expected next (RFC 2317
 * delegation); the first PTR owned by the expected name (ASCII case
 * ignored, RFC 4343) is the answer, and it must end inside its record and
 * pass dnsmsg_name_hostok(). 1 with its text in out (no final dot) and
 * *ttl the least TTL of the records followed; 0 when no PTR record is the
 * expected name's; -1 when the message is malformed or the name refused.
 */
int dnsmsg_ptr_answer(const void *, size_t, const struct dnsmsg_name *qname,
    char *out, size_t outlen, uint32_t *ttl);

/* One resource record; rdata points into the buffer it was read from. */
struct dnsmsg_rr {
	uint8_t section;
	struct dnsmsg_name name;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
};

/*
 * A response's records in a flat, pointer-free form, so they can be stored
 * and written into another message (with other compression): per record
 * u8 section, u8 name length, name, u16 type, u16 class, u32 ttl, u16
 * rdlength, rdata, with the names inside NS, CNAME, PTR, MX and SOA data
 * expanded (RFC 3597 section 4: no other type may compress). OPT records
 * are left out. Returns the number of records, or -1 for a malformed or
 * oversized message. *rcode and *flags come from the header.
 */
int dnsmsg_response_flatten(const void *, size_t, struct buf *out,
    uint16_t *flags, uint8_t *rcode);
/* Next record of a flat buffer: 1, 0 at the end, -1 when corrupt. */
int dnsmsg_flat_next(struct buf *, struct dnsmsg_rr *);
/* How long a SOA record (uncompressed rdata, as in a flat buffer) lets a
 * negative answer be cached: its MINIMUM capped by its own TTL (RFC 2308
 * section 5); UINT32_MAX when the rdata is not a whole SOA. */
uint32_t dnsmsg_soa_negttl(const struct dnsmsg_rr *);

/*
 * A response under construction. Owner names and names in NS, CNAME and
 * PTR data are compressed against names written before. limit is the
 * largest message allowed (UDP payload size or 65535); space for an OPT
 * record is kept back when reserve_opt is set.
 */
#define DNSMSG_COMP_MAX 32
struct dnsmsg_writer {
	struct buf b;
	size_t limit;
	uint16_t counts[4]; /* QD, AN, NS, AR */
	size_t ncomp;
	struct {
		uint16_t off;
		struct dnsmsg_name name; /* lowercased */
	} comp[DNSMSG_COMP_MAX];
};

void dnsmsg_writer_init(struct dnsmsg_writer *, void *, size_t cap,
    size_t limit, int reserve_opt);
int dnsmsg_put_header(struct dnsmsg_writer *, uint16_t id, uint16_t flags);
int dnsmsg_put_question(struct dnsmsg_writer *, const struct dnsmsg_name *,
    uint16_t qtype, uint16_t qclass);
/* 0, or -1 with the message as before the call (it did not fit). */
int dnsmsg_put_rr(struct dnsmsg_writer *, const struct dnsmsg_rr *);
/* The OPT record (RFC 6891 section 6.1.2); the rcode's upper 8 bits go in
 * its TTL. Uses the space kept back. */
int dnsmsg_put_opt(struct dnsmsg_writer *, uint16_t size, uint8_t ext_rcode,
    uint16_t flags);
/* Write the counts and the rcode's low 4 bits; the message length. */
size_t dnsmsg_finish(struct dnsmsg_writer *, uint8_t rcode);

const char *dnsmsg_type_str(uint16_t);

/* Read one record of a whole message msg at b's position (owner name
 * decompressed, rdata pointing into msg). 0, or -1 when it does not fit. */
int dnsmsg_rr_read(const uint8_t *msg, size_t len, struct buf *b,
    struct dnsmsg_rr *rr);

#endif
