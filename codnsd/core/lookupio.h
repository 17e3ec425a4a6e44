/* SPDX-License-Identifier: MIT */
/* codnsd/core/lookupio.h: lookup's real collaborators: libev, cache, upstream,
 * peernet and stats behind struct lookup_env. */
#ifndef CODNSD_LOOKUPIO_H
#define CODNSD_LOOKUPIO_H

#include "lookup.h"

struct codnsd;
struct conf;

/* A lookup module wired to d's loop, cache, upstream, peernet and stats,
 * each followed through d: main may free them in any order (clearing its
 * pointer), and peernet may come later with a peers file. */
struct lookup *lookupio_new(struct codnsd *d);
void lookupio_conf(const struct conf *, struct lookup_conf *);

#endif
