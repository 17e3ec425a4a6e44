/* SPDX-License-Identifier: MIT */
/* codnsd/core/shm.c: publishes cached answers in the shared answer table that
 * nss_codns reads without a system call (layout: libcodns/shmtab.h).
 *
 * Design, in short (nss_codns(8) has the user's side):
 * - One file, "answers.shm" in the daemon's run directory next to its
 *   sockets; mode 0644, owned by the daemon's user. Only codnsd writes it.
 *   Names and answers are sealed under a secret derived from the name
 *   (shmtab.h): any user finds what it already knows, none can list. The
 *   blocks are reserved at creation: never a sparse file on a tmpfs.
 * - A heartbeat (shm_beat(), every second) tells readers the daemon is
 *   alive; a stale one sends them straight to dns.
 * - The cache calls shm_publish() for every answer it stores (found, not
 *   found, no data; forward per family and reverse) and shm_remove() when
 *   an entry is superseded; flush clears it. An answer that falls out of
 *   the cache by LRU stays here until it expires or its slot or arena
 *   space is reused: it was valid for its TTL either way.
 * - Expiry is absolute CLOCK_MONOTONIC milliseconds, which every process
 *   on the node shares and reads through the vDSO; wall-clock steps do
 *   not move it. (A process in another time namespace sees another
 *   monotonic clock: it is not supported and would see entries live too
 *   long or too short by the namespace's offset.)
 * - The table is never resized in place. A reload with a new cache-size,
 *   and every start, writes a new file and renames it over the old name;
 *   the old table is then marked replaced, and readers check that flag on
 *   every call (one load, no stat) and remap. Shutdown marks the table
 *   replaced and removes it, so that readers go to the socket, find no
 *   daemon, and fall through to the next NSS module.
 * - The writer never waits: a slot's seq is odd while it changes, and the
 *   arena head moves past a record before its bytes are reused (see
 *   shmtab.h for the reader's side).
 */
#include "shm.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resolvconf.h"

#define SHM_ENTRIES_MIN 4
#define SHM_ENTRIES_MAX (1u << 18)
/* Arena bytes per entry: a typical record (16 + name + an answer with a
 * couple of addresses) is 64..128 bytes, so this leaves room for the
 * arena to wrap about twice per table's worth of answers. */
#define SHM_ARENA_PER_ENTRY 256
#define SHM_REC_HDR sizeof(struct shmtab_rec)

struct shm {
	uint8_t *base;
	size_t size;
	size_t entries; /* as asked for; the table is sized within bounds */
	struct shmtab_hdr *hdr;
	struct shmtab_slot *slots;
	uint8_t *arena;
	uint32_t mask;
	uint64_t arena_size;
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX];
	struct shm_stats stats;
};

static uint32_t
shm_pow2(size_t n)
{
	uint32_t p = SHMTAB_WAYS;

	while (p < n && p < SHMTAB_SLOTS_MAX)
		p <<= 1;
	return p;
}

static void
shm_seed(uint64_t seed[2])
{
	struct timespec ts;

	if (getrandom(seed, 2 * sizeof(uint64_t), 0) ==
	    (ssize_t)(2 * sizeof(uint64_t)))
		return;
	/* Only the slot placement depends on it: a weak seed costs hits
	 * under a flood of chosen names, never correctness. */
	clock_gettime(CLOCK_REALTIME, &ts);
	seed[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
	seed[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)seed;
}

/* Flag a table left at path by an earlier daemon, so its readers remap. */
static void
shm_mark_stale(int fd)
{
	struct shmtab_hdr *h;
	struct stat st;

	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < SHMTAB_HDR_SIZE)
		return;
	h = mmap(NULL, SHMTAB_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (h == MAP_FAILED)
		return;
	if (h->magic == SHMTAB_MAGIC)
		__atomic_store_n(&h->replaced, 1, __ATOMIC_RELEASE);
	munmap(h, SHMTAB_HDR_SIZE);
}

static void
shm_unmap(struct shm *s)
{
	__atomic_store_n(&s->hdr->replaced, 1, __ATOMIC_RELEASE);
	munmap(s->base, s->size);
	free(s);
}

/* A new table in a temporary file next to path; s filled, fd returned. */
static int
shm_create(struct shm *s, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	size_t n = s->entries < SHM_ENTRIES_MIN ? SHM_ENTRIES_MIN :
	    s->entries > SHM_ENTRIES_MAX	 ? SHM_ENTRIES_MAX :
						   s->entries;
	uint32_t nslots = shm_pow2(2 * n);
	uint64_t arena = (uint64_t)n * SHM_ARENA_PER_ENTRY;
	struct stat st;
	int fd;

	s->size = shmtab_file_size(nslots, arena);
	if (snprintf(tmp, tmplen, "%s.XXXXXX", s->path) >= (int)tmplen) {
		snprintf(err, errlen, "shared cache: path too long\n");
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "shared cache: %s: %s\n", tmp,
		    strerror(errno));
		return -1;
	}
	/* Every block is reserved now: a sparse file on a full tmpfs would
	 * raise SIGBUS at the first touch of a page, here and in every
	 * process that reads the table. No room, no table. */
	if (fchmod(fd, 0644) == -1 || ftruncate(fd, (off_t)s->size) == -1 ||
	    (errno = posix_fallocate(fd, 0, (off_t)s->size)) != 0 ||
	    fstat(fd, &st) == -1 ||
	    (s->base = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0)) == MAP_FAILED) {
		snprintf(err, errlen, "shared cache: %s: %s\n", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->hdr = (struct shmtab_hdr *)(void *)s->base;
	s->slots = (struct shmtab_slot *)(void *)(s->base + SHMTAB_HDR_SIZE);
	s->arena = s->base + SHMTAB_HDR_SIZE +
	    (size_t)nslots * sizeof(struct shmtab_slot);
	s->mask = nslots - 1;
	s->arena_size = arena;
	s->hdr->version = SHMTAB_VERSION;
	s->hdr->hdr_size = SHMTAB_HDR_SIZE;
	s->hdr->nslots = nslots;
	s->hdr->slots_off = SHMTAB_HDR_SIZE;
	s->hdr->arena_off = (uint64_t)(s->arena - s->base);
	s->hdr->arena_size = arena;
	s->hdr->file_size = s->size;
	shm_seed(s->hdr->seed);
	s->hdr->beat_ms = shmtab_now_ms();
	/* Readers reject the table until the magic is there. */
	__atomic_store_n(&s->hdr->magic, SHMTAB_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

struct shm *
shm_new(const char *path, size_t entries, struct shm *old, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX + 8];
	struct shm *s;
	int stale = -1;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "shared cache: out of memory\n");
		return NULL;
	}
	if (snprintf(s->path, sizeof(s->path), "%s", path) >=
	    (int)sizeof(s->path)) {
		snprintf(err, errlen, "shared cache: path too long\n");
		free(s);
		return NULL;
	}
	s->entries = entries;
	if (shm_create(s, tmp, sizeof(tmp), err, errlen) == -1) {
		/* An earlier codnsd's table must not outlive this failure:
		 * its readers go to the socket. */
		if (old == NULL)
			shm_retire(path);
		free(s);
		return NULL;
	}
	if (old == NULL)
		stale = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "shared cache: rename %s: %s\n", path,
		    strerror(errno));
		if (stale != -1)
			close(stale);
		unlink(tmp);
		munmap(s->base, s->size);
		free(s);
		return NULL;
	}
	/* Flag the old table only now: a reader that notices finds the new
	 * one under the name. */
	shm_mark_stale(stale);
	if (stale != -1)
		close(stale);
	if (old != NULL)
		shm_unmap(old);
	return s;
}

void
shm_free(struct shm *s)
{
	struct stat st;

	if (s == NULL)
		return;
	__atomic_store_n(&s->hdr->replaced, 1, __ATOMIC_RELEASE);
	/* Only our own file: never a newer daemon's. */
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	shm_unmap(s);
}

void
shm_retire(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		 O_NONBLOCK)) == -1)
		return;
	shm_mark_stale(fd);
	close(fd);
	unlink(path);
}

size_t
shm_entries(const struct shm *s)
{
	return s->entries;
}

const char *
shm_path(const struct shm *s)
{
	return s->path;
}

void
shm_beat(struct shm *s, uint64_t now_ms, const char *resolv_conf)
{
	struct stat st;
	uint32_t tag = 0;

	if (s == NULL)
		return;
	/* A live daemon follows the file itself (its resolver polls it);
	 * the tag matters once it is dead: a file changed since the last
	 * beat sends readers to the socket, and so on to dns. */
	if (resolv_conf != NULL && strcmp(resolv_conf, RESOLVCONF_PATH) == 0)
		tag = shmtab_conf_tag(stat(resolv_conf, &st) == 0 ? &st : NULL);
	__atomic_store_n(&s->hdr->conf_tag, tag, __ATOMIC_RELAXED);
	__atomic_store_n(&s->hdr->beat_ms, now_ms, __ATOMIC_RELEASE);
}

const struct shm_stats *
shm_stats(const struct shm *s)
{
	return &s->stats;
}

const void *
shm_base(const struct shm *s, size_t *size)
{
	*size = s->size;
	return s->base;
}

/* The record of a slot can no longer be trusted: its bytes were reused. */
static int
shm_slot_dead(const struct shm *s, const struct shmtab_slot *sl)
{
	return sl->len == 0 || s->hdr->head - sl->pos > s->arena_size;
}

static int
shm_slot_is(const struct shm *s, const struct shmtab_slot *sl,
    const struct shmtab_key *k, uint64_t h)
{
	uint8_t key[PROTO_NAME_MAX];
	const uint8_t *rec;
	struct shmtab_rec r;

	if (sl->len == 0 || sl->hash != h)
		return 0;
	/* A dead slot with the key's hash is taken as the key's: never two
	 * slots that a reader could find for one key. */
	if (shm_slot_dead(s, sl))
		return 1;
	rec = s->arena + sl->pos % s->arena_size;
	memcpy(&r, rec, sizeof(r));
	if (r.kind != k->kind || r.family != k->family || r.keylen != k->len)
		return 0;
	memcpy(key, rec + SHM_REC_HDR, k->len);
	shmtab_seal(s->hdr->seed, k, sl->pos, key, k->len);
	return memcmp(key, k->bytes, k->len) == 0;
}

static struct shmtab_slot *
shm_find(struct shm *s, const struct shmtab_key *k, uint64_t h)
{
	struct shmtab_slot *sl;
	uint32_t i;

	for (i = 0; i < SHMTAB_WAYS; i++) {
		sl = &s->slots[(h + i) & s->mask];
		if (shm_slot_is(s, sl, k, h))
			return sl;
	}
	return NULL;
}

/* The key's slot, else a free, dead or expired one of its group, else the
 * one that expires first, and of those the one written first (so the
 * newest SHMTAB_WAYS answers of a group always stay). */
static struct shmtab_slot *
shm_victim(struct shm *s, const struct shmtab_key *k, uint64_t h,
    uint64_t now_ms)
{
	struct shmtab_slot *sl, *best = NULL;
	uint32_t i;

	if ((sl = shm_find(s, k, h)) != NULL)
		return sl;
	for (i = 0; i < SHMTAB_WAYS; i++) {
		sl = &s->slots[(h + i) & s->mask];
		if (shm_slot_dead(s, sl) || sl->expire_ms <= now_ms)
			return sl;
		if (best == NULL || sl->expire_ms < best->expire_ms ||
		    (sl->expire_ms == best->expire_ms && sl->pos < best->pos))
			best = sl;
	}
	s->stats.evicted++;
	return best;
}

static void
shm_slot_begin(struct shmtab_slot *sl)
{
	__atomic_store_n(&sl->seq, sl->seq + 1, __ATOMIC_RELAXED);
}

static void
shm_slot_end(struct shmtab_slot *sl)
{
	__atomic_store_n(&sl->seq, sl->seq + 1, __ATOMIC_RELEASE);
}

static void
shm_slot_clear(struct shmtab_slot *sl)
{
	shm_slot_begin(sl);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&sl->len, 0, __ATOMIC_RELAXED);
	shm_slot_end(sl);
}

/* Reserve len bytes of arena that do not cross its end; move head past
 * them (before they are written: readers of older records check head). */
static uint64_t
shm_reserve(struct shm *s, uint32_t len)
{
	uint64_t pos = s->hdr->head, off = pos % s->arena_size;

	if (off + len > s->arena_size) {
		pos += s->arena_size - off;
		s->stats.wraps++;
	}
	__atomic_store_n(&s->hdr->head, pos + len, __ATOMIC_RELAXED);
	return pos;
}

void
shm_put(struct shm *s, const struct shmtab_key *k, const void *blob,
    size_t bloblen, uint32_t ttl_s, uint64_t now_ms)
{
	uint64_t rec[SHMTAB_REC_MAX / 8], *dst, h, pos, expire;
	struct shmtab_rec r;
	struct shmtab_slot *sl;
	size_t n, len, i;

	if (s == NULL)
		return;
	n = SHM_REC_HDR + k->len + bloblen;
	len = (n + 7) & ~(size_t)7;
	if (len > SHMTAB_REC_MAX || bloblen > UINT16_MAX) {
		/* Left to the socket; an older, smaller answer must not stay. */
		s->stats.too_big++;
		shm_remove(s, k);
		return;
	}
	h = shmtab_hash(s->hdr->seed, k);
	sl = shm_victim(s, k, h, now_ms);
	shm_slot_begin(sl);
	pos = shm_reserve(s, (uint32_t)len);
	__atomic_thread_fence(__ATOMIC_RELEASE);

	memset(rec, 0, len);
	memset(&r, 0, sizeof(r));
	r.pos = pos;
	r.kind = k->kind;
	r.family = k->family;
	r.keylen = k->len;
	r.bloblen = (uint16_t)bloblen;
	memcpy(rec, &r, sizeof(r));
	memcpy((uint8_t *)rec + SHM_REC_HDR, k->bytes, k->len);
	memcpy((uint8_t *)rec + SHM_REC_HDR + k->len, blob, bloblen);
	/* Sealed under the key: other users cannot list the names. */
	shmtab_seal(s->hdr->seed, k, pos, (uint8_t *)rec + SHM_REC_HDR,
	    n - SHM_REC_HDR);
	expire = now_ms + (uint64_t)ttl_s * 1000;
	r.sum = shmtab_sum(expire, rec, n);
	memcpy(rec, &r, sizeof(r));
	dst = (uint64_t *)(void *)(s->arena + pos % s->arena_size);
	for (i = 0; i < len / 8; i++)
		__atomic_store_n(&dst[i], rec[i], __ATOMIC_RELAXED);
	__atomic_store_n(&sl->hash, h, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->expire_ms, expire, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->pos, pos, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->len, (uint32_t)len, __ATOMIC_RELAXED);
	shm_slot_end(sl);
	s->stats.published++;
}

void
shm_publish(struct shm *s, const struct shmtab_key *k, const void *blob,
    size_t bloblen, uint32_t ttl_s)
{
	if (s != NULL)
		shm_put(s, k, blob, bloblen, ttl_s, shmtab_now_ms());
}

int
shm_remove(struct shm *s, const struct shmtab_key *k)
{
	struct shmtab_slot *sl;

	if (s == NULL || (sl = shm_find(s, k, shmtab_hash(s->hdr->seed, k))) ==
		NULL)
		return 0;
	shm_slot_clear(sl);
	s->stats.removed++;
	return 1;
}

void
shm_flush(struct shm *s, const char *name)
{
	static const uint8_t families[] = { CODNS_AF_UNSPEC, CODNS_AF_INET,
		CODNS_AF_INET6 };
	struct shmtab_key k;
	size_t i;

	if (s == NULL)
		return;
	if (name == NULL) {
		for (i = 0; i <= s->mask; i++) {
			if (s->slots[i].len != 0) {
				shm_slot_clear(&s->slots[i]);
				s->stats.removed++;
			}
		}
		return;
	}
	for (i = 0; i < sizeof(families); i++)
		if (shmtab_key_name(&k, families[i], name) == 0)
			shm_remove(s, &k);
}
