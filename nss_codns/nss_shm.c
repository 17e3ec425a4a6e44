/* SPDX-License-Identifier: MIT */
/* nss_codns/nss_shm.c: the NSS module's reader of codnsd's shared answer
 * table: a cache hit with no system call.
 *
 * The table (layout and consistency rule: libcodns/shmtab.h) is mapped
 * once per process, lazily, by the first lookup that wants it. Which file:
 * $CODNS_SHM_PATH when set (empty: never use a table), else answers.shm in
 * the directory of $CODNS_LOOKUP_SOCKET when that is set, else
 * RUNSTATEDIR/codnsd/answers.shm. The file is trusted only when its
 * directory passes client_dir_trusted() (writable by its owner only, who
 * is root, the caller or the daemon's user), and the file is a regular
 * file owned by root or by the directory's owner and writable by nobody
 * else: the rule the lookup socket follows (nss_codns(8)). Everything in
 * it is still bounds-checked before use.
 *
 * Threads share one mapping through an atomic pointer; a thread that
 * loses the race to map drops its own. A mapping survives fork(). Each
 * call loads the header's "replaced" flag (set by codnsd when a new table
 * takes the name, or when it stops) and remaps when it is set. The old
 * range is never unmapped while another thread may still read it:
 * instead it is overlaid with anonymous zero pages (MAP_FIXED), which a
 * late reader sees as an empty slot or a changed sequence number, and the
 * old file's memory is freed. The bookkeeping of each replaced table (one
 * page) is kept for the life of the process.
 *
 * The header's heartbeat tells whether codnsd is alive: a table whose
 * beat is older than SHMTAB_STALE_MS is not read, and nss_shm_ask() says
 * so (-1), so that the module returns UNAVAIL without waiting for a dead
 * or hung daemon; nss_shm_alive() lets a wait already under way end
 * early. A table filled under another resolv.conf than the one this
 * process sees (codnsd was killed, then the file changed) is not read.
 *
 * A failed open is retried at most once a second, so a node without
 * codnsd, or with the table turned off, pays for it once a second and not
 * on every call.
 */
#include "nss_shm.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmtab.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define NSS_SHM_DEFAULT RUNSTATEDIR "/codnsd/" NSS_SHM_FILE
#define NSS_SHM_LOOKUP_SOCKET_ENV "CODNS_LOOKUP_SOCKET"
#define NSS_SHM_RETRY_MS 1000

struct nss_shm_map {
	void *base;
	size_t size;
	struct shmtab_view v;
};

static struct nss_shm_map *nss_shm_cur;

/*
 * A map's bookkeeping lives in a page of its own, not on the heap: it must
 * outlive every reader, so it is never freed once published, and glibc's
 * __libc_freeres (run by valgrind at exit) unloads the module, which would
 * turn a heap block referenced only from the module into a reported leak.
 * Nothing in the module frees it at unload either: other threads may
 * still be resolving while the process exits.
 */
static struct nss_shm_map *
nss_shm_map_alloc(void)
{
	void *p = mmap(NULL, sizeof(struct nss_shm_map), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
nss_shm_map_free(struct nss_shm_map *m)
{
	if (m != NULL)
		munmap(m, sizeof(*m));
}
static uint64_t nss_shm_retry_at;
#define NSS_SHM_CONF_MS 100
static uint64_t nss_shm_conf_memo;
/* Per thread, so that readers share no written cache line; each thread
 * reports its own hits on its next connection. */
static __thread uint64_t nss_shm_hits;

/* The table's path; 0, or -1 when no table is to be used. */
static int
nss_shm_path(char *out, size_t len)
{
	const char *p = secure_getenv(NSS_SHM_PATH_ENV), *slash;

	if (p != NULL)
		return *p != '\0' && snprintf(out, len, "%s", p) < (int)len ?
		    0 : -1;
	p = secure_getenv(NSS_SHM_LOOKUP_SOCKET_ENV);
	if (p != NULL && *p != '\0' && (slash = strrchr(p, '/')) != NULL)
		return snprintf(out, len, "%.*s/%s", (int)(slash - p), p,
		    NSS_SHM_FILE) < (int)len ? 0 : -1;
	return snprintf(out, len, "%s", NSS_SHM_DEFAULT) < (int)len ? 0 : -1;
}

/* Open path under the trust rule; an fd on the file, or -1. */
static int
nss_shm_open_trusted(char *path, struct stat *st)
{
	struct stat dst;
	char *slash = strrchr(path, '/');
	const char *dir = path, *base = path;
	int dfd, fd = -1;

	if (slash == NULL)
		dir = ".";
	else if (slash == path)
		dir = "/";
	if (slash != NULL) {
		*slash = '\0';
		base = slash + 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (slash != NULL)
		*slash = '/';
	if (dfd == -1)
		return -1;
	if (fstat(dfd, &dst) == -1 || !client_dir_trusted(&dst))
		goto done;
	fd = openat(dfd, base,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		goto done;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    (st->st_uid != 0 && st->st_uid != dst.st_uid) ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    st->st_size < SHMTAB_HDR_SIZE ||
	    /* A sparse table (an older codnsd's) on a full tmpfs raises
	     * SIGBUS at the first read of a hole: only a whole one is
	     * mapped. */
	    (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size ||
	    (uint64_t)st->st_size >
		shmtab_file_size(SHMTAB_SLOTS_MAX, SHMTAB_ARENA_MAX)) {
		close(fd);
		fd = -1;
	}
done:
	close(dfd);
	return fd;
}

static struct nss_shm_map *
nss_shm_map_open(void)
{
	char path[PATH_MAX];
	struct nss_shm_map *m;
	struct stat st;
	void *base;
	int fd;

	if (nss_shm_path(path, sizeof(path)) == -1 ||
	    (fd = nss_shm_open_trusted(path, &st)) == -1)
		return NULL;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return NULL;
	if ((m = nss_shm_map_alloc()) == NULL)
		goto fail;
	m->base = base;
	m->size = (size_t)st.st_size;
	if (shmtab_view_init(&m->v, base, m->size) == -1 ||
	    shmtab_replaced(&m->v))
		goto fail;
	return m;
fail:
	munmap(base, (size_t)st.st_size);
	nss_shm_map_free(m);
	return NULL;
}

/* Free the old file's memory without ever unmapping the range (see the
 * top of the file). */
static void
nss_shm_retire(struct nss_shm_map *m)
{
	mmap(m->base, m->size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_FIXED, -1, 0);
}

static struct nss_shm_map *
nss_shm_get(uint64_t now)
{
	struct nss_shm_map *m, *nm;

	m = __atomic_load_n(&nss_shm_cur, __ATOMIC_ACQUIRE);
	if (m != NULL && !shmtab_replaced(&m->v))
		return m;
	if (now < __atomic_load_n(&nss_shm_retry_at, __ATOMIC_RELAXED))
		return NULL;
	__atomic_store_n(&nss_shm_retry_at, now + NSS_SHM_RETRY_MS,
	    __ATOMIC_RELAXED);
	nm = nss_shm_map_open();
	if (!__atomic_compare_exchange_n(&nss_shm_cur, &m, nm, 0,
		__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Another thread swapped first: use its table. */
		if (nm != NULL) {
			munmap(nm->base, nm->size);
			nss_shm_map_free(nm);
		}
		return m != NULL && !shmtab_replaced(&m->v) ? m : NULL;
	}
	if (m != NULL)
		nss_shm_retire(m);
	if (nm != NULL)
		__atomic_store_n(&nss_shm_retry_at, 0, __ATOMIC_RELAXED);
	return nm;
}

/*
 * resolv.conf's tag, looked at (one stat) at most every NSS_SHM_CONF_MS
 * per process: a new process always looks, a running one notices a
 * change within that time, as codnsd's own poll would. One atomic word:
 * the tag in the low half, the time it was taken (ms, truncated) in the
 * high half.
 */
static uint32_t
nss_shm_conf(uint64_t now)
{
	uint64_t memo = __atomic_load_n(&nss_shm_conf_memo, __ATOMIC_RELAXED);
	uint32_t at = (uint32_t)(memo >> 32), tag = (uint32_t)memo;

	if (tag != 0 && (uint32_t)now - at < NSS_SHM_CONF_MS)
		return tag;
	tag = shmtab_conf_now();
	__atomic_store_n(&nss_shm_conf_memo, (uint64_t)(uint32_t)now << 32 | tag,
	    __ATOMIC_RELAXED);
	return tag;
}

int
nss_shm_ask(const char *name, int cfamily, const void *addr,
    struct codns_result **out)
{
	struct shmtab_key k;
	struct nss_shm_map *m;
	struct proto_answer *a;
	struct codns_result *r;
	uint64_t now;

	*out = NULL;
	if (name != NULL ? shmtab_key_name(&k, (uint8_t)cfamily, name) == -1 :
			   shmtab_key_addr(&k, (uint8_t)cfamily, addr) == -1)
		return 0;
	now = shmtab_now_ms();
	if ((m = nss_shm_get(now)) == NULL)
		return 0;
	if (!shmtab_alive(&m->v, now))
		return -1;
	if (!shmtab_conf_ok(&m->v, nss_shm_conf(now)))
		return 0;
	if ((r = client_result_alloc(&a)) == NULL)
		return 0;
	if (!shmtab_find(&m->v, &k, now, a)) {
		codns_result_free(r);
		return 0;
	}
	nss_shm_hits++;
	*out = r;
	return 1;
}

int
nss_shm_alive(void)
{
	uint64_t now = shmtab_now_ms();
	struct nss_shm_map *m = nss_shm_get(now);

	return m == NULL || shmtab_alive(&m->v, now);
}

uint64_t
nss_shm_take_hits(void)
{
	uint64_t n = nss_shm_hits;

	nss_shm_hits = 0;
	return n;
}

/*
 * Sent after the answer was read, so that a daemon which does not know
 * the frame (an older codnsd closes the connection on it) costs no lookup.
 * Hits of a thread that never misses again, or exits first, are never
 * reported: the counter is a lower bound.
 */
void
nss_shm_report(struct codns_client *c)
{
	uint64_t n;

	if ((n = nss_shm_take_hits()) == 0)
		return;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	client_report(c, (uint32_t)n);
}
