/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peernetio.h: peernet on libev and a bound UDP socket. */
#ifndef CODNSD_PEERNETIO_H
#define CODNSD_PEERNETIO_H

#include <stddef.h>

#include "peernet.h"

struct codnsd;

struct peersdns_info;

/* Bind peer-listen of c and start peernet when the peers file of c
 * exists or c has peers-dns names: 0 with *out set (NULL when there is no peers file), or -1 with a
 * message in err. c is d->conf, or at a reload the config about to become
 * d->conf. peernet_free() closes the socket. */
int peernet_open(struct codnsd *, const struct conf *c, struct peernet **out,
    char *err, size_t errlen);

/* Each peers-dns name's state, for codnsctl status and the metrics. */
size_t peernetio_dns_sources(const struct peernet *, struct peersdns_info *,
    size_t max);

#endif
