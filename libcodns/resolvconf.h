/* SPDX-License-Identifier: MIT */
/* libcodns/resolvconf.h: what glibc's resolver takes from resolv.conf. */
#ifndef CODNS_RESOLVCONF_H
#define CODNS_RESOLVCONF_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "proto.h"

#define RESOLVCONF_PATH "/etc/resolv.conf"
#define RESOLVCONF_NS_MAX 3      /* glibc's MAXNS: later lines are ignored */
#define RESOLVCONF_SEARCH_MAX 16 /* more search domains are ignored */

/* The parts of resolv.conf that change an answer or its timing. */
struct resolvconf {
	struct conf_addr servers[RESOLVCONF_NS_MAX]; /* port 53 */
	size_t nservers;
	char search[RESOLVCONF_SEARCH_MAX][PROTO_NAME_MAX + 1];
	size_t nsearch;
	uint32_t ndots;     /* 1, at most 15 */
	uint32_t timeout_s; /* 5, 1..30 */
	uint32_t attempts;  /* 2, 1..5 */
	int rotate;
};

/*
 * Parse path as glibc's res_init() does (resolv.conf(5)): nameserver,
 * domain, search and the options ndots, timeout, attempts and rotate; other
 * lines are ignored. A missing or unreadable file gives glibc's defaults
 * (nameserver 127.0.0.1, the host name's domain as search list); -1 only
 * when it cannot be read for another reason than ENOENT (rc gets the
 * defaults all the same).
 */
int resolvconf_load(const char *path, struct resolvconf *rc);
int resolvconf_equal(const struct resolvconf *, const struct resolvconf *);
/*
 * How long glibc's resolver waits in all before giving up on a name, in
 * ms, with per_try_ms (0: the file's timeout) for each try: every attempt
 * tries each nameserver in turn, the i-th for per_try << i / nservers.
 */
uint32_t resolvconf_wait_ms(const struct resolvconf *, uint32_t per_try_ms,
    size_t nservers);
/*
 * How many names res_search() may ask for name, at most: one when it is
 * absolute (a final dot) or NULL (a reverse lookup), else the name as
 * given and one per search domain.
 */
size_t resolvconf_walk_max(size_t nsearch, const char *name);
/*
 * What glibc may wait in all for name: resolvconf_wait_ms() for each name
 * of its search walk when there are two nameservers or more. A timeout
 * ends the walk, but a live nameserver after a dead one lets it go on, and
 * every name pays the dead one's timeout again (issue 25); with one
 * nameserver, its timeout ends the walk.
 */
uint32_t resolvconf_walk_wait_ms(const struct resolvconf *,
    uint32_t per_try_ms, size_t nservers, const char *name);

/*
 * The names glibc's res_search() tries for name, in its order (ndots,
 * search list, a final dot meaning "only this name"), written without a
 * final dot into out; returns how many. *as_is_first says whether out[0]
 * is the name as given, tried before the search list.
 */
size_t resolvconf_candidates(const struct resolvconf *, const char *name,
    char out[][PROTO_NAME_MAX + 1], size_t max, int *as_is_first);

#endif
