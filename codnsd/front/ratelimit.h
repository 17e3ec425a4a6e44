/* SPDX-License-Identifier: MIT */
/* codnsd/front/ratelimit.h: response rate limiting per source prefix. */
#ifndef CODNSD_RATELIMIT_H
#define CODNSD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

#define RATELIMIT_V4_PREFIX 24 /* bits: one IPv4 /24 is one source */
#define RATELIMIT_V6_PREFIX 56 /* one IPv6 /56 */
#define RATELIMIT_SLOTS 16384  /* prefixes tracked at once */

/*
 * Response rate limiting for the stub's UDP side, as BIND's
 * rate-limit and unbound's ip-ratelimit: a token bucket per source
 * prefix, rate tokens a second, at most rate of them saved (a second's
 * burst). A response over the rate is dropped, except every slip-th,
 * which goes out truncated (TC, no records): a real client retries over
 * TCP, which a spoofed source cannot, and a victim gets no more bytes
 * than the query sent. Pure: time is passed in; no I/O.
 */
enum ratelimit_verdict {
	RATELIMIT_PASS,
	RATELIMIT_DROP,
	RATELIMIT_SLIP,
};

/* A bounded table of RATELIMIT_SLOTS prefixes; NULL when out of memory. */
struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *);
/* One response to from at now_ms: rate 0 passes everything; slip 0
 * never slips, 1 slips every dropped response. */
enum ratelimit_verdict ratelimit_check(struct ratelimit *,
    const struct sockaddr *from, uint32_t rate, uint32_t slip,
    uint64_t now_ms);

#endif
