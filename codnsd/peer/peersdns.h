/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peersdns.h: peers from the cluster's registry, by DNS name. */
#ifndef CODNSD_PEERSDNS_H
#define CODNSD_PEERSDNS_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "dnsmsg.h"

/*
 * A peers-dns name gives peers the way Envoy's STRICT_DNS clusters and
 * nginx's "resolve" follow a name: its A and AAAA records (peers at
 * peer-listen's port), or for "_service._udp.domain" its SRV records
 * (RFC 2782: each target at its port). Each name is re-resolved at the
 * smallest TTL of its answer, clamped to [5 s, 5 min], and on SIGHUP. A
 * resolution that fails or comes back empty keeps the last good list,
 * so a SERVFAIL storm never empties or churns the membership.
 */
#define PEERSDNS_MAX 4096	 /* peers from all names together */
#define PEERSDNS_TTL_MIN_S 5
#define PEERSDNS_TTL_MAX_S 300
#define PEERSDNS_RETRY_S 5	 /* after a failed resolution */
#define PEERSDNS_TARGETS_MAX 256 /* SRV targets resolved without glue */

/* What one answer gave: the parsers below add to it. */
struct peersdns_set {
	struct conf_addr *addrs; /* malloc'd, PEERSDNS_MAX at most */
	size_t n;
	uint32_t ttl_s;	    /* smallest TTL seen; UINT32_MAX when none */
	uint32_t malformed; /* records that could not be used */
	uint32_t cut;	    /* addresses beyond PEERSDNS_MAX */
};

/* An SRV target that came without its address (no glue). */
struct peersdns_target {
	struct dnsmsg_name name;
	uint16_t port;
};

void peersdns_set_init(struct peersdns_set *);
void peersdns_set_clear(struct peersdns_set *);

/*
 * Parse a response to "qname A" or "qname AAAA": the address records of
 * qname and of the names its CNAME chain leads to, each at port. Returns
 * the rcode (0 NOERROR, 3 NXDOMAIN, ...), or -1 for a message that cannot
 * be read (then nothing of it is kept).
 */
int peersdns_parse_addrs(const uint8_t *msg, size_t len,
    const struct dnsmsg_name *qname, uint16_t port, struct peersdns_set *);
/*
 * Parse a response to "qname SRV": targets with an address in the
 * additional section go into set at their port; the others into
 * targets (at most max, more are counted in set->cut). A target "." (the
 * service is not offered there, RFC 2782) is skipped. Same returns.
 */
int peersdns_parse_srv(const uint8_t *msg, size_t len,
    const struct dnsmsg_name *qname, struct peersdns_set *,
    struct peersdns_target *targets, size_t max, size_t *ntargets);
/* Clamp a TTL to [PEERSDNS_TTL_MIN_S, PEERSDNS_TTL_MAX_S]. */
uint32_t peersdns_clamp_ttl(uint32_t ttl_s);

struct peersdns;
struct upstream;

/* Called from the loop when the union of the names' lists changed. */
typedef void peersdns_change_cb(void *arg);

/* NULL when there are no names (n == 0) or on out of memory. Resolution
 * starts at once; port is peer-listen's, for A/AAAA names. */
struct peersdns *peersdns_new(struct ev_loop *, struct upstream *,
    const char (*names)[CONF_DNSNAME_MAX + 1], size_t n, uint16_t port,
    peersdns_change_cb *, void *arg);
void peersdns_free(struct peersdns *);
/* Resolve every name again now (SIGHUP). */
void peersdns_refresh(struct peersdns *);
/* Whether pd was made with these names and port (NULL: with none). */
int peersdns_same(const struct peersdns *,
    const char (*names)[CONF_DNSNAME_MAX + 1], size_t n, uint16_t port);

/* The union of the last good lists: up to max (and PEERSDNS_MAX)
 * addresses, each with the index of the first name that gave it in
 * source[]; *cut gets how many more there were. */
size_t peersdns_list(const struct peersdns *, struct conf_addr *out,
    uint16_t *source, size_t max, size_t *cut);

/* One name, for codnsctl status and metrics. */
struct peersdns_info {
	const char *name;
	int srv;
	size_t count;		  /* addresses in its last good list */
	double last_refresh_ago_s; /* last good resolution; -1 never */
	double next_refresh_in_s;
	char last_error[96];	  /* "" when the last try succeeded */
	uint64_t refreshes, failures, malformed, cut;
};
size_t peersdns_sources(const struct peersdns *, struct peersdns_info *,
    size_t max);
/* The name of source i, "" when out of range. */
const char *peersdns_source_name(const struct peersdns *, uint16_t i);

#endif
