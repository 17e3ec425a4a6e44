/* SPDX-License-Identifier: MIT */
/* codnsd/core/shm.h: publishes cached answers in the shared answer table that
 * nss_codns reads without a system call (layout: libcodns/shmtab.h). */
#ifndef CODNSD_SHM_H
#define CODNSD_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "shmtab.h"

struct shm;

struct shm_stats {
	uint64_t published;
	uint64_t removed;
	uint64_t evicted; /* live entries pushed out of their slot group */
	uint64_t too_big; /* answers over SHMTAB_REC_MAX, left to the socket */
	uint64_t wraps;   /* times the arena write position wrapped */
};

/*
 * Create a table sized for `entries` answers in a new file next to path,
 * then rename it over path. A table already at path (left by an earlier
 * codnsd, or `old`, the one this replaces) is marked replaced first, so
 * that every reader remaps. old is freed (its file is not unlinked: the
 * rename already took its name). The file's blocks are reserved first
 * (no room: no table). NULL with a message in err on failure; old is then
 * left as it was, and without old a table left at path is retired, so
 * that its readers go to the socket.
 */
struct shm *shm_new(const char *path, size_t entries, struct shm *old,
    char *err, size_t errlen);
/* Mark the table replaced, remove its file, unmap it. NULL-safe. */
void shm_free(struct shm *);

/* Mark a table left at path replaced and remove it: shared-cache was
 * turned off, so its readers must go back to the socket. */
void shm_retire(const char *path);

/* The number of entries asked for at shm_new(). */
size_t shm_entries(const struct shm *);
const char *shm_path(const struct shm *);

/*
 * Publish the encoded answer blob (proto_answer_put()) for a cache key,
 * living ttl_s seconds from now_ms (shmtab_now_ms() clock). Replaces the
 * key's entry; evicts the soonest-expiring entry of its slot group when
 * all are taken. shm_publish() reads the clock itself. NULL-safe.
 */
void shm_put(struct shm *, const struct shmtab_key *, const void *blob,
    size_t bloblen, uint32_t ttl_s, uint64_t now_ms);
void shm_publish(struct shm *, const struct shmtab_key *, const void *blob,
    size_t bloblen, uint32_t ttl_s);
/* Remove one key's entry; 1 if there was one. NULL-safe. */
int shm_remove(struct shm *, const struct shmtab_key *);
/* Remove every entry (name == NULL) or the forward entries of a name, any
 * family, as cache_flush() does. NULL-safe. */
void shm_flush(struct shm *, const char *name);

/*
 * The heartbeat, every SHMTAB_BEAT_MS: now_ms (shmtab_now_ms() clock),
 * and the identity of resolv_conf when it is the file the NSS module
 * checks (RESOLVCONF_PATH), so that a table left by a killed codnsd is not
 * read after that file changed. NULL-safe.
 */
void shm_beat(struct shm *, uint64_t now_ms, const char *resolv_conf);

const struct shm_stats *shm_stats(const struct shm *);
/* The mapping itself, for tests. */
const void *shm_base(const struct shm *, size_t *size);

#endif
