/* SPDX-License-Identifier: MIT */
/* nss_codns/nss_shm.h: the NSS module's reader of codnsd's shared answer
 * table: a cache hit with no system call. */
#ifndef NSS_CODNS_NSS_SHM_H
#define NSS_CODNS_NSS_SHM_H

#include <stdint.h>

#include "codns.h"

#define NSS_SHM_PATH_ENV "CODNS_SHM_PATH"
#define NSS_SHM_FILE "answers.shm"

/*
 * Look the request up in the shared table: a name for family cfamily
 * (enum codns_family), or, with name NULL, an address of that family.
 * 1 with *out set (as codns_lookup() would have set it; source cache),
 * 0 when the socket must be asked: no table, an untrusted one, a miss, an
 * expired entry, a changed resolv.conf or any doubt; -1 when the table's
 * heartbeat is stale: codnsd is dead or hung, do not ask it. Thread-safe,
 * async-signal-unsafe (malloc).
 */
int nss_shm_ask(const char *name, int cfamily, const void *addr,
    struct codns_result **out);

/* 0 when the table says codnsd stopped beating, else 1 (also with no
 * table): the alive check of the client's waits (client_set_alive()). */
int nss_shm_alive(void);

/* Answers this thread took from the table since the last call, which
 * resets the count (for the report to codnsd). */
uint64_t nss_shm_take_hits(void);

/* After a lookup on c, tell codnsd how many answers came from the table
 * since the last report (its "lookups_shared" counter). Best effort. */
struct codns_client;
void nss_shm_report(struct codns_client *c);

#endif
