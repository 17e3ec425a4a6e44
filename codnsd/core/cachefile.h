/* SPDX-License-Identifier: MIT */
/* codnsd/core/cachefile.h: the cache kept across a restart, in a file. */
#ifndef CODNSD_CACHEFILE_H
#define CODNSD_CACHEFILE_H

#include <stdint.h>

struct cache;

/*
 * A stopping codnsd writes its cache to path and the next one reads it
 * back, so that a restart starts warm. Each entry keeps its absolute
 * expiry (wall clock, the loop clock of cache.h): nothing is served past
 * its TTL (or past the serve-stale window) because of a restart. The file
 * is private to codnsd (0600), written beside and renamed into place, and
 * removed once read, so that a later crash cannot bring an old copy back.
 */

/*
 * Write the entries of c not expired by now_ms (nor within stale_s past
 * it), with resolver, an identity of what the answers depend on (the
 * nameservers, the search list and options): a codnsd that resolves
 * otherwise does not take them. The number written, or -1 (logged).
 */
long cachefile_write(const struct cache *c, const char *path, uint64_t now_ms,
    uint32_t stale_s, uint64_t resolver);
/* Read path into c and remove it. The number restored; 0 when there is
 * no file or it was written for another resolver; -1 when it is
 * unusable (logged, removed). */
long cachefile_read(struct cache *c, const char *path, uint64_t now_ms,
    uint64_t resolver);

#endif
