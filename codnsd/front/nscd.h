/* SPDX-License-Identifier: MIT */
/* codnsd/front/nscd.h: the hosts database served over glibc's nscd protocol, so
 * that glibc programs read cache hits from a table with no system call. */
#ifndef CODNSD_NSCD_H
#define CODNSD_NSCD_H

#include <stddef.h>
#include <stdint.h>

struct codnsd;
struct nscd;


/*
 * Listen on conf.nscd_socket (which must be set) and publish a table
 * sized for conf.cache_size answers. Also makes this process's own
 * hosts, passwd and group lookups skip nscd (it would ask itself and
 * wait). NULL on failure (logged).
 */
struct nscd *nscd_new(struct codnsd *);
/* Mark the table dead (clients fall back to NSS), close everything. */
void nscd_free(struct nscd *);
/* Stop accepting connections (on: draining), or start again (off).
 * NULL-safe. */
void nscd_pause(struct nscd *, int on);
/* After a reload: a new cache-size gets a new table (clients remap). */
void nscd_configure(struct nscd *);
/* Forget a name's answers, or every answer (name NULL). NULL-safe. */
void nscd_flush(struct nscd *, const char *name);

/* Entries in the table now, its size in bytes, answers published. */
void nscd_table_info(const struct nscd *, size_t *entries, size_t *bytes,
    uint64_t *published, uint64_t *cleared);
/* Open connections on the nscd socket. */
size_t nscd_clients(const struct nscd *);

#endif
