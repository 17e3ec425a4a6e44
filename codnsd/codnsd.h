/* SPDX-License-Identifier: MIT */
/* codnsd/codnsd.h: the daemon's shared state, owned by main.c. */
#ifndef CODNSD_CODNSD_H
#define CODNSD_CODNSD_H

#include <ev.h>
#include <stdint.h>

#include "conf.h"

struct cache;
struct ctl;
struct dnsstub;
struct listen;
struct lookup;
struct nscd;
struct peernet;
struct shm;
struct stats;
struct upstream;

struct codnsd {
	struct ev_loop *loop;
	struct conf conf;
	const char *conf_path;
	int conf_missing_ok;
	struct upstream *upstream;
	struct cache *cache;
	struct lookup *lookup;
	struct listen *listen;
	struct dnsstub *dnsstub; /* DNS stub listener (dns-listen) */
	struct peernet *peernet;
	struct ctl *ctl;
	struct stats *stats;
	struct shm *shm; /* shared answer table, NULL when off */
	ev_timer shm_beat; /* its heartbeat, every SHMTAB_BEAT_MS */
	struct nscd *nscd; /* nscd protocol (nscd-socket), NULL when off */
	ev_signal sigterm;
	ev_signal sigint;
	ev_signal sighup;
	ev_timer drain;	     /* SIGTERM: waits for in-flight work */
	ev_tstamp drain_end; /* then what is left is "unavailable" */
	int draining;
	int cache_saved; /* the cache file is written (cachefile.h) */
	ev_io successor; /* codnsd -R: the new codnsd's "ready" */
	ev_tstamp started;
	uid_t uid; /* the daemon's uid after dropping privileges */
	int debug;
};

#endif
