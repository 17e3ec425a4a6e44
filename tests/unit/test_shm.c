/* SPDX-License-Identifier: MIT */
/* tests/unit/test_shm.c: the shared answer table: writer (codnsd/core/shm.c),
 * reader (libcodns/shmtab.c) and the NSS module's mapping (nss_shm.c). */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "nss_shm.h"
#include "resolvconf.h"
#include "shm.h"
#include "shmtab.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_shm.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/answers.shm", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

/* An answer whose names and addresses all carry tag. */
static struct proto_answer
answer(uint32_t tag, size_t naliases)
{
	struct proto_answer a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.source = CODNS_SRC_LOCAL;
	a.ttl = 60;
	snprintf(a.cname, sizeof(a.cname), "c%u.example", tag);
	a.naliases = (uint8_t)naliases;
	for (i = 0; i < naliases; i++)
		snprintf(a.aliases[i], sizeof(a.aliases[i]),
		    "alias%zu-%u.with-a-longer-label.example", i, tag);
	a.naddrs = 2;
	a.addrs[0].family = CODNS_AF_INET;
	memcpy(a.addrs[0].a, &tag, 4);
	a.addrs[1].family = CODNS_AF_INET6;
	memcpy(a.addrs[1].a + 12, &tag, 4);
	return a;
}

static void
key_name(struct shmtab_key *k, const char *name, uint8_t family)
{
	assert_int_equal(shmtab_key_name(k, family, name), 0);
}

static void
put(struct shm *s, const char *name, uint8_t family,
    const struct proto_answer *a, uint32_t ttl, uint64_t now)
{
	uint8_t blob[PROTO_FRAME_MAX];
	struct shmtab_key k;
	struct buf b;

	key_name(&k, name, family);
	buf_init_write(&b, blob, sizeof(blob));
	assert_int_equal(proto_answer_put(&b, a), 0);
	shm_put(s, &k, blob, b.pos, ttl, now);
}

static int
find_in(const void *base, size_t size, const char *name, uint8_t family,
    uint64_t now, struct proto_answer *out)
{
	struct shmtab_view v;
	struct shmtab_key k;

	if (shmtab_view_init(&v, base, size) == -1)
		return -1;
	key_name(&k, name, family);
	return shmtab_find(&v, &k, now, out);
}

static int
find(const struct shm *s, const char *name, uint8_t family, uint64_t now,
    struct proto_answer *out)
{
	const void *base;
	size_t size;

	base = shm_base(s, &size);
	return find_in(base, size, name, family, now, out);
}

/* Everything but ttl and source, which the reader sets. */
static int
same_answer(const struct proto_answer *x, const struct proto_answer *y)
{
	size_t i;

	if (x->status != y->status || strcmp(x->cname, y->cname) != 0 ||
	    x->naliases != y->naliases || x->naddrs != y->naddrs)
		return 0;
	for (i = 0; i < x->naliases; i++)
		if (strcmp(x->aliases[i], y->aliases[i]) != 0)
			return 0;
	for (i = 0; i < x->naddrs; i++)
		if (x->addrs[i].family != y->addrs[i].family ||
		    memcmp(x->addrs[i].a, y->addrs[i].a, 16) != 0)
			return 0;
	return 1;
}

static struct shm *
table(size_t entries)
{
	char err[256];
	struct shm *s = shm_new(path, entries, NULL, err, sizeof(err));

	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

static void
test_insert_find(void **state)
{
	struct shm *s = table(100);
	struct proto_answer a = answer(7, 1), out;
	struct stat st;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, 1000);
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 1000, &out),
	    1);
	assert_true(same_answer(&a, &out));
	assert_int_equal(out.ttl, 60);
	assert_int_equal(out.source, CODNS_SRC_CACHE);
	assert_int_equal(find(s, "WEB.Example", CODNS_AF_UNSPEC, 1500, &out),
	    1);
	assert_int_equal(out.ttl, 59);
	assert_int_equal(find(s, "web.example", CODNS_AF_INET, 1000, &out), 0);
	assert_int_equal(find(s, "www.example", CODNS_AF_UNSPEC, 1000, &out),
	    0);
	/* The file readers check: a regular file, mode 0644. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	shm_free(s);
	assert_int_equal(stat(path, &st), -1);
}

static void
test_replace(void **state)
{
	struct shm *s = table(100);
	struct proto_answer a = answer(1, 0), b = answer(2, 3), out;
	struct shmtab_key k;

	put(s, "web.example", CODNS_AF_INET, &a, 60, 1000);
	put(s, "web.example", CODNS_AF_INET, &b, 30, 2000);
	assert_int_equal(find(s, "web.example", CODNS_AF_INET, 2000, &out), 1);
	assert_true(same_answer(&b, &out));
	assert_int_equal(out.ttl, 30);
	/* One slot for the key: once removed, nothing is left to find. */
	key_name(&k, "web.example", CODNS_AF_INET);
	assert_int_equal(shm_remove(s, &k), 1);
	assert_int_equal(shm_remove(s, &k), 0);
	assert_int_equal(find(s, "web.example", CODNS_AF_INET, 2000, &out), 0);
	shm_free(s);
}

static void
test_expire(void **state)
{
	struct shm *s = table(100);
	struct proto_answer a = answer(3, 0), out;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 5, 1000);
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 5999, &out),
	    1);
	assert_int_equal(out.ttl, 0);
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 6000, &out),
	    0);
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 99999, &out),
	    0);
	shm_free(s);
}

static void
test_negative_and_reverse(void **state)
{
	struct shm *s = table(100);
	struct proto_answer a, out;
	struct shmtab_view v;
	struct shmtab_key k;
	const uint8_t addr[4] = { 192, 0, 2, 51 }, other[4] = { 192, 0, 2, 52 };
	uint8_t blob[PROTO_FRAME_MAX];
	struct buf b;
	const void *base;
	size_t size;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_NOTFOUND;
	put(s, "nx.example", CODNS_AF_UNSPEC, &a, 30, 0);
	assert_int_equal(find(s, "nx.example", CODNS_AF_UNSPEC, 0, &out), 1);
	assert_int_equal(out.status, CODNS_NOTFOUND);

	a = answer(9, 0);
	a.naddrs = 0;
	assert_int_equal(shmtab_key_addr(&k, CODNS_AF_INET, addr), 0);
	buf_init_write(&b, blob, sizeof(blob));
	assert_int_equal(proto_answer_put(&b, &a), 0);
	shm_put(s, &k, blob, b.pos, 60, 0);
	base = shm_base(s, &size);
	assert_int_equal(shmtab_view_init(&v, base, size), 0);
	assert_int_equal(shmtab_find(&v, &k, 0, &out), 1);
	assert_string_equal(out.cname, "c9.example");
	assert_int_equal(shmtab_key_addr(&k, CODNS_AF_INET, other), 0);
	assert_int_equal(shmtab_find(&v, &k, 0, &out), 0);
	/* A name whose bytes equal the address is another key. */
	assert_int_equal(find(s, "\xc0", CODNS_AF_INET, 0, &out), 0);
	shm_free(s);
}

static void
test_flush(void **state)
{
	struct shm *s = table(100);
	struct proto_answer a = answer(4, 0), out;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, 0);
	put(s, "web.example", CODNS_AF_INET, &a, 60, 0);
	put(s, "web.example", CODNS_AF_INET6, &a, 60, 0);
	put(s, "other.example", CODNS_AF_INET, &a, 60, 0);
	shm_flush(s, "WEB.example");
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 0, &out), 0);
	assert_int_equal(find(s, "web.example", CODNS_AF_INET, 0, &out), 0);
	assert_int_equal(find(s, "web.example", CODNS_AF_INET6, 0, &out), 0);
	assert_int_equal(find(s, "other.example", CODNS_AF_INET, 0, &out), 1);
	shm_flush(s, NULL);
	assert_int_equal(find(s, "other.example", CODNS_AF_INET, 0, &out), 0);
	/* The table still works after a flush. */
	put(s, "web.example", CODNS_AF_INET, &a, 60, 0);
	assert_int_equal(find(s, "web.example", CODNS_AF_INET, 0, &out), 1);
	shm_free(s);
}

/* Many more names than slots: old ones go, none is ever wrong. */
static void
test_evict(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a, out;
	char name[64];
	uint32_t i, hits = 0;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		a = answer(i, 0);
		put(s, name, CODNS_AF_INET, &a, 60 + i, 0);
	}
	assert_true(shm_stats(s)->evicted > 0);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		if (find(s, name, CODNS_AF_INET, 0, &out) != 1)
			continue;
		hits++;
		a = answer(i, 0);
		assert_true(same_answer(&a, &out));
	}
	assert_true(hits > 0 && hits <= 128);
	assert_int_equal(find(s, "n1999.example", CODNS_AF_INET, 0, &out), 1);
	shm_free(s);
}

/* Large records wrap the arena many times; a record whose bytes were
 * reused is a miss, never another name's answer. Of answers with the same
 * expiry the oldest is evicted first, so the newest SHMTAB_WAYS always
 * stay whatever the (random) slot placement; a tie broken by slot order
 * lost one of them in about 1 run in 100. */
static void
test_wrap(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a, out;
	char name[64];
	uint32_t i, hits = 0;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "w%u.example", i);
		a = answer(i, 1 + i % 8);
		put(s, name, CODNS_AF_UNSPEC, &a, 600, 0);
	}
	assert_true(shm_stats(s)->wraps >= 5);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "w%u.example", i);
		if (find(s, name, CODNS_AF_UNSPEC, 0, &out) != 1)
			continue;
		hits++;
		a = answer(i, 1 + i % 8);
		assert_true(same_answer(&a, &out));
	}
	assert_true(hits > 0);
	for (i = 1000 - SHMTAB_WAYS; i < 1000; i++) {
		snprintf(name, sizeof(name), "w%u.example", i);
		assert_int_equal(find(s, name, CODNS_AF_UNSPEC, 0, &out), 1);
	}
	shm_free(s);
}

static void
test_too_big(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a = answer(1, 0), big = answer(2, 8), out;
	size_t i;

	for (i = 0; i < 8; i++)
		memset(big.aliases[i], 'x', 100);
	for (i = 0; i < PROTO_ADDRS_MAX; i++) {
		big.addrs[i].family = CODNS_AF_INET6;
		big.addrs[i].a[0] = (uint8_t)i;
	}
	big.naddrs = PROTO_ADDRS_MAX;
	put(s, "big.example", CODNS_AF_UNSPEC, &a, 60, 0);
	put(s, "big.example", CODNS_AF_UNSPEC, &big, 60, 0);
	assert_int_equal(shm_stats(s)->too_big, 1);
	/* The smaller, older answer must not stay behind. */
	assert_int_equal(find(s, "big.example", CODNS_AF_UNSPEC, 0, &out), 0);
	shm_free(s);
}

static void
test_replaced_table(void **state)
{
	struct shm *s = table(64), *s2;
	struct shmtab_view v;
	struct proto_answer a = answer(5, 0), out;
	struct stat st;
	char err[256];
	void *base;
	int fd;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, 0);
	/* A reader's own mapping, as nss_codns has it. */
	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(fstat(fd, &st), 0);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(base != MAP_FAILED);
	assert_int_equal(shmtab_view_init(&v, base, (size_t)st.st_size), 0);
	assert_false(shmtab_replaced(&v));
	assert_int_equal(find_in(base, (size_t)st.st_size, "web.example",
			     CODNS_AF_UNSPEC, 0, &out),
	    1);
	s2 = shm_new(path, 5000, s, err, sizeof(err));
	assert_non_null(s2);
	assert_true(shmtab_replaced(&v));
	assert_int_equal(stat(path, &st), 0);
	assert_true((size_t)st.st_size > v.size);
	assert_int_equal(find(s2, "web.example", CODNS_AF_UNSPEC, 0, &out), 0);
	munmap(base, v.size);
	shm_free(s2);
}

/* Flip every byte of a small table, one at a time, and look every name
 * up: never a crash (run under ASan too), never a wrong answer. */
static void
test_corrupt_every_byte(void **state)
{
	static const uint8_t flips[] = { 0xff, 0x01, 0x80 };
	struct shm *s = table(64);
	struct proto_answer a[4], out;
	const char *names[4] = { "a.example", "b.example", "c.example",
		"d.example" };
	const void *base;
	uint64_t *copy;
	size_t size, i, j, f, hits = 0;
	int rc;

	for (j = 0; j < 4; j++) {
		a[j] = answer((uint32_t)j, j);
		put(s, names[j], CODNS_AF_UNSPEC, &a[j], 60, 0);
	}
	base = shm_base(s, &size);
	copy = malloc(size);
	assert_non_null(copy);
	for (i = 0; i < size; i++) {
		for (f = 0; f < sizeof(flips); f++) {
			memcpy(copy, base, size);
			((uint8_t *)copy)[i] ^= flips[f];
			for (j = 0; j < 4; j++) {
				rc = find_in(copy, size, names[j],
				    CODNS_AF_UNSPEC, 1000, &out);
				if (rc != 1)
					continue;
				hits++;
				assert_true(same_answer(&a[j], &out));
				assert_int_equal(out.ttl, 59);
			}
		}
	}
	/* Most bytes are unused space, where a flip changes nothing. */
	assert_true(hits > size);
	free(copy);
	shm_free(s);
}

static void
test_truncated_view(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a = answer(1, 0), out;
	const void *base;
	size_t size, n;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, 0);
	base = shm_base(s, &size);
	for (n = 0; n < size; n += n < 256 ? 1 : 97)
		assert_int_equal(find_in(base, n, "web.example",
				     CODNS_AF_UNSPEC, 0, &out),
		    -1);
	assert_int_equal(find_in(base, size, "web.example", CODNS_AF_UNSPEC, 0,
			     &out),
	    1);
	shm_free(s);
}

/* --- the NSS module's reader, in a child per case (its mapping is
 * process-wide) --- */

/* Child: 1 if the module answers web.example from the table, else 0. */
static int
nss_hit(void)
{
	struct codns_result *r = NULL;
	int hit = nss_shm_ask("web.example", CODNS_AF_UNSPEC, NULL, &r) == 1;

	if (hit && (codns_result_status(r) != CODNS_FOUND ||
		       strcmp(codns_result_name(r), "c1.example") != 0 ||
		       codns_result_source(r) != CODNS_SRC_CACHE))
		hit = 0;
	codns_result_free(r);
	return hit;
}

static int
in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
nss_twice(void)
{
	/* The first call maps, the second uses the mapping. */
	return nss_hit() + nss_hit();
}

static int
owns_run_dir(uid_t uid)
{
	struct stat st;

	return stat(RUNSTATEDIR "/codnsd", &st) == 0 && st.st_uid == uid;
}

static void
test_nss_trust(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a = answer(1, 0);

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, shmtab_now_ms());
	setenv("CODNS_SHM_PATH", path, 1);
	assert_int_equal(in_child(nss_twice), 2);
	/* Derived from the lookup socket's directory. */
	unsetenv("CODNS_SHM_PATH");
	setenv("CODNS_LOOKUP_SOCKET", "/nonexistent/lookup.sock", 1);
	assert_int_equal(in_child(nss_hit), 0);
	{
		char sock[160];

		snprintf(sock, sizeof(sock), "%s/lookup.sock", dir);
		setenv("CODNS_LOOKUP_SOCKET", sock, 1);
	}
	assert_int_equal(in_child(nss_hit), 1);
	unsetenv("CODNS_LOOKUP_SOCKET");
	setenv("CODNS_SHM_PATH", path, 1);
	/* Writable by others: not trusted. */
	chmod(path, 0666);
	assert_int_equal(in_child(nss_hit), 0);
	chmod(path, 0664);
	assert_int_equal(in_child(nss_hit), 0);
	chmod(path, 0644);
	/* A directory anybody can write to: not trusted. */
	chmod(dir, 0777);
	assert_int_equal(in_child(nss_hit), 0);
	chmod(dir, 0755);
	/* Another user's directory, closed to others (issue 20): neither
	 * root's, the caller's nor the daemon user's (unless that user owns
	 * the default run directory on this machine). */
	if (geteuid() == 0 && !owns_run_dir(65534) &&
	    chown(dir, 65534, (gid_t)-1) == 0) {
		assert_int_equal(in_child(nss_hit), 0);
		assert_int_equal(chown(dir, 0, (gid_t)-1), 0);
		assert_int_equal(in_child(nss_hit), 1);
	}
	/* Empty: the table is turned off. */
	setenv("CODNS_SHM_PATH", "", 1);
	assert_int_equal(in_child(nss_hit), 0);
	setenv("CODNS_SHM_PATH", path, 1);
	assert_int_equal(in_child(nss_hit), 1);
	unsetenv("CODNS_SHM_PATH");
	shm_free(s);
}

static void
test_nss_truncated_file(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a = answer(1, 0);
	char cpath[160];
	const void *base;
	size_t size, n;
	int fd;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, shmtab_now_ms());
	base = shm_base(s, &size);
	snprintf(cpath, sizeof(cpath), "%s/copy.shm", dir);
	setenv("CODNS_SHM_PATH", cpath, 1);
	for (n = 0; n <= size; n += n < 200 ? 40 : size / 7) {
		unlink(cpath);
		fd = open(cpath, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd != -1);
		assert_int_equal(write(fd, base, n), (ssize_t)n);
		close(fd);
		assert_int_equal(in_child(nss_hit), 0);
	}
	unlink(cpath);
	fd = open(cpath, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_int_equal(write(fd, base, size), (ssize_t)size);
	close(fd);
	assert_int_equal(in_child(nss_hit), 1);
	unlink(cpath);
	unsetenv("CODNS_SHM_PATH");
	shm_free(s);
}

static int
nss_remap(void)
{
	struct proto_answer a = answer(1, 0), b = answer(2, 0);
	struct codns_result *r = NULL;
	struct shm *s, *s2;
	char err[256];
	int ok = 1;

	if ((s = shm_new(path, 64, NULL, err, sizeof(err))) == NULL)
		return 0;
	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, shmtab_now_ms());
	ok &= nss_hit() == 1;
	/* A bigger table takes the name; the module notices at once. */
	s2 = shm_new(path, 1000, s, err, sizeof(err));
	if (s2 == NULL)
		return 0;
	ok &= nss_hit() == 0;
	put(s2, "web.example", CODNS_AF_UNSPEC, &b, 60, shmtab_now_ms());
	ok &= nss_shm_ask("web.example", CODNS_AF_UNSPEC, NULL, &r) == 1 &&
	    strcmp(codns_result_name(r), "c2.example") == 0;
	codns_result_free(r);
	ok &= nss_shm_take_hits() == 2;
	ok &= nss_shm_take_hits() == 0;
	/* codnsd stops: no answer from the table any more. */
	shm_free(s2);
	ok &= nss_shm_ask("web.example", CODNS_AF_UNSPEC, NULL, &r) == 0;
	return ok;
}

static void
test_nss_remap(void **state)
{
	setenv("CODNS_SHM_PATH", path, 1);
	assert_int_equal(in_child(nss_remap), 1);
	unsetenv("CODNS_SHM_PATH");
}

/* Issue 20: no user can list the names other users looked up, while a
 * known name is still found. */
static void
test_sealed(void **state)
{
	struct shm *s = table(100);
	struct proto_answer a = answer(3, 1), out;
	static const char *secret[] = { "secret-name", "c3.example",
		"alias0-3.with", "SECRET" };
	uint8_t blob[PROTO_FRAME_MAX];
	struct shmtab_key k;
	const void *base;
	struct buf b;
	size_t size, i;

	put(s, "secret-name.example", CODNS_AF_UNSPEC, &a, 60, 1000);
	snprintf(a.cname, sizeof(a.cname), "secret-name.example");
	shmtab_key_addr(&k, CODNS_AF_INET, "\xc0\x00\x02\x07");
	buf_init_write(&b, blob, sizeof(blob));
	assert_int_equal(proto_answer_put(&b, &a), 0);
	shm_put(s, &k, blob, b.pos, 60, 1000);
	base = shm_base(s, &size);
	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		assert_null(memmem(base, size, secret[i], strlen(secret[i])));
	assert_int_equal(find(s, "Secret-Name.example", CODNS_AF_UNSPEC, 1000,
			     &out),
	    1);
	assert_string_equal(out.cname, "c3.example");
	shm_free(s);
}

/* Layout 4 (ChaCha seal, word-wise checksum) reads no table of layout 3
 * (SipHash counter-mode seal): an older codnsd's table is refused whole,
 * so the module asks the socket instead of misreading a record. */
static int
nss_old_layout(void)
{
	struct proto_answer a = answer(1, 0);
	struct shmtab_hdr *h;
	struct shm *s;
	char err[256];
	size_t size;
	int ok = 1;

	if ((s = shm_new(path, 64, NULL, err, sizeof(err))) == NULL)
		return 0;
	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, shmtab_now_ms());
	h = (struct shmtab_hdr *)(uintptr_t)shm_base(s, &size);
	h->version = 3u << 8 | PROTO_VERSION;
	ok &= nss_hit() == 0;
	shm_free(s);
	return ok;
}

static void
test_old_layout(void **state)
{
	struct shm *s = table(64);
	struct proto_answer a = answer(1, 0), out;
	struct shmtab_hdr *h;
	size_t size;

	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, 0);
	h = (struct shmtab_hdr *)(uintptr_t)shm_base(s, &size);
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 0, &out), 1);
	h->version = 3u << 8 | PROTO_VERSION;
	assert_int_equal(find(s, "web.example", CODNS_AF_UNSPEC, 0, &out), -1);
	shm_free(s);
	setenv("CODNS_SHM_PATH", path, 1);
	assert_int_equal(in_child(nss_old_layout), 1);
	unsetenv("CODNS_SHM_PATH");
}

/* Issue 20: the file's blocks are reserved, never a sparse file. */
static void
test_whole_file(void **state)
{
	struct shm *s = table(10000);
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= (uint64_t)st.st_size);
	shm_free(s);
}

/* A table whose heartbeat stopped: the module neither reads it nor waits
 * for its daemon (-1); one filled under another resolv.conf is skipped. */
static int
nss_liveness(void)
{
	struct proto_answer a = answer(1, 0);
	struct shmtab_hdr *h;
	struct shm *s;
	struct stat st;
	char err[256];
	size_t size;
	uint64_t now = shmtab_now_ms();
	int ok = 1;

	if ((s = shm_new(path, 64, NULL, err, sizeof(err))) == NULL)
		return 0;
	put(s, "web.example", CODNS_AF_UNSPEC, &a, 60, now);
	ok &= nss_hit() == 1 && nss_shm_alive() == 1;
	shm_beat(s, now - SHMTAB_STALE_MS - 1000, NULL);
	ok &= nss_hit() == 0 && nss_shm_alive() == 0;
	ok &= nss_shm_ask("web.example", CODNS_AF_UNSPEC, NULL,
	    &(struct codns_result *){ NULL }) == -1;
	shm_beat(s, shmtab_now_ms(), NULL);
	ok &= nss_hit() == 1 && nss_shm_alive() == 1;
	/* Tied to a resolv.conf this process does not see. */
	h = (struct shmtab_hdr *)(uintptr_t)shm_base(s, &size);
	h->conf_tag = shmtab_conf_tag(stat(RESOLVCONF_PATH, &st) == 0 ? &st :
								    NULL) ^
	    4;
	ok &= nss_hit() == 0 && nss_shm_alive() == 1;
	shm_beat(s, shmtab_now_ms(), RESOLVCONF_PATH);
	ok &= nss_hit() == 1;
	shm_free(s);
	return ok;
}

static void
test_nss_liveness(void **state)
{
	setenv("CODNS_SHM_PATH", path, 1);
	assert_int_equal(in_child(nss_liveness), 1);
	unsetenv("CODNS_SHM_PATH");
}

/* --- the seal's primitives, against libsodium ------------------------ */

static void
le64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* A key of every length, filled from a counter; its hash input. */
static size_t
kat_key(struct shmtab_key *k, unsigned n, uint8_t *in)
{
	unsigned i;

	memset(k, 0, sizeof(*k));
	k->kind = (uint8_t)(n & 1);
	k->family = (uint8_t)(n % 3);
	k->len = (uint8_t)n;
	for (i = 0; i < n; i++)
		k->bytes[i] = (uint8_t)(i * 7 + n);
	in[0] = k->kind;
	in[1] = k->family;
	in[2] = k->len;
	memcpy(in + 3, k->bytes, n);
	return 3 + (size_t)n;
}

/* The slot hash is SipHash-2-4-64 of the key's bytes (libsodium's
 * crypto_shorthash_siphash24), for inputs of 3 to 70 bytes. */
static void
test_kat_siphash(void **state)
{
	uint64_t seed[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t k[16], in[3 + PROTO_NAME_MAX], out[8];
	struct shmtab_key key;
	unsigned n;
	size_t len;

	(void)state;
	assert_true(sodium_init() >= 0);
	le64_put(k, seed[0]);
	le64_put(k + 8, seed[1]);
	for (n = 0; n <= 67; n++) {
		len = kat_key(&key, n, in);
		crypto_shorthash_siphash24(out, in, len, k);
		assert_int_equal(shmtab_hash(seed, &key),
		    (uint64_t)le32_get(out) | (uint64_t)le32_get(out + 4) << 32);
	}
}

/* ChaCha's block function at 20 rounds is libsodium's
 * crypto_stream_chacha20 (64-bit nonce and counter). */
static void
test_kat_chacha(void **state)
{
	static const uint8_t sigma[16] = "expand 32-byte k";
	uint8_t key[32], nonce[8], want[128], got[64];
	uint32_t st[16];
	unsigned i, b;

	(void)state;
	assert_true(sodium_init() >= 0);
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 13 + 1);
	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	crypto_stream_chacha20(want, sizeof(want), nonce, key);
	for (b = 0; b < 2; b++) {
		for (i = 0; i < 4; i++)
			st[i] = le32_get(sigma + 4 * i);
		for (i = 0; i < 8; i++)
			st[4 + i] = le32_get(key + 4 * i);
		st[12] = b;
		st[13] = 0;
		st[14] = le32_get(nonce);
		st[15] = le32_get(nonce + 4);
		shmtab_chacha_core(st, got, 20);
		assert_memory_equal(got, want + 64 * b, 64);
	}
}

/* The seal: ChaCha12 with a 128-bit key, the key being SipHash-2-4-128
 * (libsodium's crypto_shorthash_siphashx24) of the key's bytes and a
 * suffix byte 1, the nonce the record's position. */
static void
test_kat_seal(void **state)
{
	static const uint8_t tau[16] = "expand 16-byte k";
	uint64_t seed[2] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };
	uint8_t k[16], in[4 + PROTO_NAME_MAX], secret[16], ks[128];
	uint8_t rec[100], sealed[100];
	struct shmtab_key key;
	uint64_t pos = 0x0123456789abcdefULL;
	uint32_t st[16];
	size_t len;
	unsigned i, b;

	(void)state;
	assert_true(sodium_init() >= 0);
	le64_put(k, seed[0]);
	le64_put(k + 8, seed[1]);
	len = kat_key(&key, 11, in);
	in[len++] = 1;
	crypto_shorthash_siphashx24(secret, in, len, k);
	for (b = 0; b < 2; b++) {
		for (i = 0; i < 4; i++)
			st[i] = le32_get(tau + 4 * i);
		for (i = 0; i < 4; i++)
			st[4 + i] = st[8 + i] = le32_get(secret + 4 * i);
		st[12] = b;
		st[13] = 0;
		st[14] = (uint32_t)pos;
		st[15] = (uint32_t)(pos >> 32);
		shmtab_chacha_core(st, ks + 64 * b, 12);
	}
	for (i = 0; i < sizeof(rec); i++)
		rec[i] = sealed[i] = (uint8_t)(i * 3);
	shmtab_seal(seed, &key, pos, sealed, sizeof(sealed));
	for (i = 0; i < sizeof(rec); i++)
		assert_int_equal(sealed[i], rec[i] ^ ks[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_siphash),
		cmocka_unit_test(test_kat_chacha),
		cmocka_unit_test(test_kat_seal),
		cmocka_unit_test_setup_teardown(test_insert_find, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_and_reverse,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_every_byte, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated_view, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nss_trust, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nss_truncated_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nss_remap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_whole_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nss_liveness, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
