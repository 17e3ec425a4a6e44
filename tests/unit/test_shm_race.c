/* SPDX-License-Identifier: MIT */
/* tests/unit/test_shm_race.c: codnsd's writer (shm.c) rewrites the shared
 * answer table at full speed while 8 threads look names up in it, half
 * through their own mapping (shmtab_find), half through the NSS module's
 * reader (nss_shm_ask, one lazily shared mapping); every answer read must
 * be one the writer published for that name, whole. */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nss_shm.h"
#include "shm.h"

#define NAMES 16
#define READERS 8
#define WRITES 200000

static char dir[64];
static char path[128];
static int stop;

struct reader {
	pthread_t t;
	int module; /* through nss_shm_ask() */
	struct shmtab_view v;
	uint64_t hits, misses, bad;
};

/*
 * The answer for (name i, version v): the version is written into the
 * canonical name, every address and, from time to time, the aliases, and
 * the count of addresses and aliases depends on it, so any mix of two
 * versions shows.
 */
static void
make_answer(uint32_t i, uint32_t v, struct proto_answer *a)
{
	size_t j;

	memset(a, 0, sizeof(*a));
	a->status = CODNS_FOUND;
	a->ttl = 60;
	snprintf(a->cname, sizeof(a->cname), "n%u-v%u.example", i, v);
	a->naliases = (uint8_t)(v % 4);
	for (j = 0; j < a->naliases; j++)
		snprintf(a->aliases[j], sizeof(a->aliases[j]),
		    "alias%zu-n%u-v%u.a-long-label-to-make-records-bigger."
		    "example",
		    j, i, v);
	a->naddrs = (uint8_t)(1 + v % 6);
	for (j = 0; j < a->naddrs; j++) {
		a->addrs[j].family = CODNS_AF_INET6;
		memcpy(a->addrs[j].a, &i, 4);
		memcpy(a->addrs[j].a + 4, &v, 4);
		a->addrs[j].a[15] = (uint8_t)j;
	}
}

/* The module's result as an answer, through the public accessors. */
static void
from_result(const struct codns_result *r, struct proto_answer *a)
{
	size_t j;

	memset(a, 0, sizeof(*a));
	a->status = (uint8_t)codns_result_status(r);
	snprintf(a->cname, sizeof(a->cname), "%s", codns_result_name(r));
	a->naliases = (uint8_t)codns_result_naliases(r);
	for (j = 0; j < a->naliases && j < PROTO_ALIASES_MAX; j++)
		snprintf(a->aliases[j], sizeof(a->aliases[j]), "%s",
		    codns_result_alias(r, j));
	a->naddrs = (uint8_t)codns_result_naddrs(r);
	for (j = 0; j < a->naddrs && j < PROTO_ADDRS_MAX; j++)
		a->addrs[j].family = (uint8_t)codns_result_addr(r, j,
		    a->addrs[j].a);
}

static int
consistent(uint32_t i, const struct proto_answer *got)
{
	struct proto_answer want;
	unsigned gi, gv;
	size_t j;

	if (sscanf(got->cname, "n%u-v%u.example", &gi, &gv) != 2 || gi != i)
		return 0;
	make_answer(i, gv, &want);
	if (got->status != want.status || got->naliases != want.naliases ||
	    got->naddrs != want.naddrs)
		return 0;
	for (j = 0; j < want.naliases; j++)
		if (strcmp(got->aliases[j], want.aliases[j]) != 0)
			return 0;
	for (j = 0; j < want.naddrs; j++)
		if (got->addrs[j].family != want.addrs[j].family ||
		    memcmp(got->addrs[j].a, want.addrs[j].a, 16) != 0)
			return 0;
	return 1;
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct proto_answer a;
	struct codns_result *res;
	struct shmtab_key k;
	char name[32];
	uint32_t i = 0;
	int hit;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		i = (i + 7) % NAMES;
		snprintf(name, sizeof(name), "name%u.example", i);
		if (r->module) {
			/* -1 (a stale heartbeat) is a miss here. */
			hit = nss_shm_ask(name, CODNS_AF_UNSPEC, NULL, &res) > 0;
			if (hit) {
				from_result(res, &a);
				codns_result_free(res);
			}
		} else {
			shmtab_key_name(&k, CODNS_AF_UNSPEC, name);
			hit = shmtab_find(&r->v, &k, shmtab_now_ms(), &a);
		}
		if (!hit) {
			r->misses++;
			continue;
		}
		r->hits++;
		if (!consistent(i, &a))
			r->bad++;
	}
	return NULL;
}

static void
test_race(void **state)
{
	struct reader rd[READERS];
	struct proto_answer a;
	struct shmtab_key k;
	uint8_t blob[PROTO_FRAME_MAX];
	struct buf b;
	struct shm *s;
	struct stat st;
	char err[256], name[32];
	uint64_t hits = 0, bad = 0, mhits = 0;
	uint32_t n, i;
	void *base;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/test_shm_race.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/answers.shm", dir);
	/* The smallest table: the arena wraps every few hundred writes. */
	s = shm_new(path, 4, NULL, err, sizeof(err));
	assert_non_null(s);
	chmod(dir, 0755);
	setenv("CODNS_SHM_PATH", path, 1);
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &st), 0);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(base != MAP_FAILED);
	for (n = 0; n < READERS; n++) {
		memset(&rd[n], 0, sizeof(rd[n]));
		rd[n].module = n % 2;
		assert_int_equal(shmtab_view_init(&rd[n].v, base,
				     (size_t)st.st_size),
		    0);
		assert_int_equal(pthread_create(&rd[n].t, NULL, reader_main,
				     &rd[n]),
		    0);
	}
	for (n = 0; n < WRITES; n++) {
		i = n % NAMES;
		snprintf(name, sizeof(name), "name%u.example", i);
		shmtab_key_name(&k, CODNS_AF_UNSPEC, name);
		if (n % 1000 == 999) {
			/* Removes and flushes race with readers too. */
			if (n % 5000 == 4999)
				shm_flush(s, NULL);
			else
				shm_remove(s, &k);
			continue;
		}
		make_answer(i, n, &a);
		buf_init_write(&b, blob, sizeof(blob));
		assert_int_equal(proto_answer_put(&b, &a), 0);
		shm_put(s, &k, blob, b.pos, 60, shmtab_now_ms());
		/* The daemon's heartbeat, so that the module keeps reading
		 * however slow the machine. */
		if (n % 1000 == 0)
			shm_beat(s, shmtab_now_ms(), NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (n = 0; n < READERS; n++) {
		pthread_join(rd[n].t, NULL);
		hits += rd[n].hits;
		if (rd[n].module)
			mhits += rd[n].hits;
		bad += rd[n].bad;
	}
	printf("# writes %u wraps %llu hits %llu (module %llu) bad %llu\n",
	    WRITES, (unsigned long long)shm_stats(s)->wraps,
	    (unsigned long long)hits, (unsigned long long)mhits,
	    (unsigned long long)bad);
	assert_true(shm_stats(s)->wraps > 100);
	assert_true(hits > 0 && mhits > 0);
	assert_int_equal(bad, 0);
	munmap(base, (size_t)st.st_size);
	shm_free(s);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
