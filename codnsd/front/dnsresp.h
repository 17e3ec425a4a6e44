/* SPDX-License-Identifier: MIT */
/* codnsd/front/dnsresp.h: the DNS stub's responses, record by record. */
#ifndef CODNSD_DNSRESP_H
#define CODNSD_DNSRESP_H

#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

struct fwdcache_answer;
struct proto_answer;

#define DNSRESP_EDNS_SIZE 1232 /* our UDP payload size (DNS flag day 2020) */
#define DNSRESP_T_HINFO 13     /* RFC 1035 section 3.3.2 */
#define DNSRESP_ANY_TTL 3600   /* RFC 8482 4.2 leaves it to us: long */

/*
 * Start a response to m in buf: header and the question as the client
 * wrote it, sized for the transport (tcp 0: the client's UDP payload
 * size, at most ours). extra: header flags to add (TC).
 */
void dnsresp_begin(struct dnsmsg_writer *, uint8_t *buf, size_t cap,
    const struct dnsmsg_query *m, int tcp, uint16_t extra);
/* Close it (OPT when the query had one, counts, rcode): its length, or
 * 0 when it could not be made. */
size_t dnsresp_finish(struct dnsmsg_writer *, const struct dnsmsg_query *m,
    uint16_t rcode);
/* The records of a forwarded answer, TTLs aged; -1 when the answer or
 * authority part did not fit (the response must go with TC). */
int dnsresp_put_flat(struct dnsmsg_writer *, const struct fwdcache_answer *);
/* The records of a lookup answer for m's A, AAAA or PTR question; -1
 * when they did not fit. */
int dnsresp_put_lookup(struct dnsmsg_writer *, const struct dnsmsg_query *m,
    const struct proto_answer *);
/* The answer to ANY (RFC 8482 section 4.2): one HINFO "RFC8482" "". */
int dnsresp_put_any(struct dnsmsg_writer *, const struct dnsmsg_query *m,
    uint32_t ttl);

#endif
