/* SPDX-License-Identifier: MIT */
/* codnsd/front/dnsstub.h: the DNS stub listener, for programs that speak DNS. */
#ifndef CODNSD_DNSSTUB_H
#define CODNSD_DNSSTUB_H

#include <stddef.h>

struct codnsd;
struct dnsstub;

#define DNSSTUB_CONNS_MAX 256    /* TCP connections */
#define DNSSTUB_CONNS_PER_CLIENT 16 /* of them, per source (or local uid) */
#define DNSSTUB_FRAME_SEC 2.0    /* from a query's first byte to its last */
#define DNSSTUB_PIPELINE_MAX 32  /* queries in flight per TCP connection */
#define DNSSTUB_IDLE_SEC 10.0    /* RFC 7766 section 6.2.3 */
#define DNSSTUB_QUERY_MAX 4096   /* longest query taken over TCP */

/* Bind UDP and TCP on every dns-listen address; a config without one
 * gives an idle object. NULL (logged) when an address cannot be bound. */
struct dnsstub *dnsstub_new(struct codnsd *);
void dnsstub_free(struct dnsstub *);
/* Stop reading queries and accepting connections (on: draining), or
 * start again (off). */
void dnsstub_pause(struct dnsstub *, int on);
/* 1 while UDP queries wait for their answer. */
int dnsstub_busy(const struct dnsstub *);
/* "127.0.0.53:53,..." or "" */
const char *dnsstub_addresses(const struct dnsstub *);
/* Entries of the cache of forwarded (non A/AAAA/PTR) answers. */
size_t dnsstub_cache_count(const struct dnsstub *);
/* Drop cached forwarded answers (codnsctl flush): all, or one name's. */
size_t dnsstub_flush(struct dnsstub *, const char *name);

#endif
