/* codnsd/lookupio.h: lookup's real collaborators: libev, cache, upstream,
 * peernet and stats behind struct lookup_env. */
#ifndef CODNSD_LOOKUPIO_H
#define CODNSD_LOOKUPIO_H

#include "lookup.h"

struct codnsd;
struct conf;

/* A lookup module wired to d's loop, cache, upstream, peernet (followed
 * through d, so it may come and go) and stats. */
struct lookup *lookupio_new(struct codnsd *d);
void lookupio_conf(const struct conf *, struct lookup_conf *);

#endif
