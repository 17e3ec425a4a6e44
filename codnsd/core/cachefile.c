/* SPDX-License-Identifier: MIT */
/* codnsd/core/cachefile.c: the cache kept across a restart, in a file. */
#include "cachefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "proto.h"

/*
 * The format, for this host only (native byte order): the magic, the
 * wall time of writing (ms), the resolver identity, then records of kind, family, key length,
 * blob length, expiry (ms) and the key and blob bytes; a record with key
 * length 0 ends the file, so a truncated file is known as such.
 */
#define CACHEFILE_MAGIC "CODNSCF1"
#define CACHEFILE_BUF (1 << 20)

struct cachefile_hdr {
	uint8_t kind;
	uint8_t family;
	uint8_t keylen;
	uint8_t pad;
	uint16_t bloblen;
	uint16_t pad2;
	uint64_t expire_ms;
};

struct cachefile_out {
	FILE *f;
	uint64_t keep_after_ms; /* entries expiring before this are left */
	long n;
};

static int
cachefile_put(void *arg, const struct cache_record *r)
{
	struct cachefile_out *o = arg;
	struct cachefile_hdr h;

	if (r->expire_ms <= o->keep_after_ms)
		return 0;
	memset(&h, 0, sizeof(h));
	h.kind = r->kind;
	h.family = r->family;
	h.keylen = r->keylen;
	h.bloblen = r->bloblen;
	h.expire_ms = r->expire_ms;
	if (fwrite(&h, sizeof(h), 1, o->f) != 1 ||
	    fwrite(r->key, r->keylen, 1, o->f) != 1 ||
	    fwrite(r->blob, r->bloblen, 1, o->f) != 1)
		return -1;
	o->n++;
	return 0;
}

long
cachefile_write(const struct cache *c, const char *path, uint64_t now_ms,
    uint32_t stale_s, uint64_t resolver)
{
	static char buf[CACHEFILE_BUF];
	struct cachefile_out o;
	struct cachefile_hdr end;
	char tmp[PATH_MAX];
	int fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		 O_NOFOLLOW, 0600)) == -1 ||
	    (o.f = fdopen(fd, "w")) == NULL) {
		log_warn("cache file %s", tmp);
		if (fd != -1)
			close(fd);
		return -1;
	}
	setvbuf(o.f, buf, _IOFBF, sizeof(buf));
	o.keep_after_ms = now_ms - (uint64_t)stale_s * 1000;
	o.n = 0;
	memset(&end, 0, sizeof(end));
	ok = fwrite(CACHEFILE_MAGIC, 8, 1, o.f) == 1 &&
	    fwrite(&now_ms, sizeof(now_ms), 1, o.f) == 1 &&
	    fwrite(&resolver, sizeof(resolver), 1, o.f) == 1 &&
	    cache_walk(c, cachefile_put, &o) == 0 &&
	    fwrite(&end, sizeof(end), 1, o.f) == 1;
	if (fclose(o.f) != 0 || !ok || rename(tmp, path) == -1) {
		log_warn("cache file %s", path);
		unlink(tmp);
		return -1;
	}
	return o.n;
}

/* One record into c: 1 read, 0 at the end, -1 on a bad file. */
static int
cachefile_get(FILE *f, struct cache *c, uint64_t now_ms, long *n)
{
	static uint8_t data[PROTO_NAME_MAX + PROTO_FRAME_MAX];
	struct cachefile_hdr h;
	struct cache_record r;

	if (fread(&h, sizeof(h), 1, f) != 1)
		return -1;
	if (h.keylen == 0)
		return 0;
	if (h.keylen > PROTO_NAME_MAX || h.bloblen > PROTO_FRAME_MAX ||
	    fread(data, (size_t)h.keylen + h.bloblen, 1, f) != 1)
		return -1;
	r.kind = h.kind;
	r.family = h.family;
	r.keylen = h.keylen;
	r.bloblen = h.bloblen;
	r.expire_ms = h.expire_ms;
	r.key = data;
	r.blob = data + h.keylen;
	if (cache_restore(c, &r, now_ms) == 0)
		(*n)++;
	return 1;
}

long
cachefile_read(struct cache *c, const char *path, uint64_t now_ms,
    uint64_t resolver)
{
	static char buf[CACHEFILE_BUF];
	char magic[8];
	uint64_t written, id;
	long n = 0;
	FILE *f;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("cache file %s", path);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	rc = fread(magic, 8, 1, f) == 1 &&
		memcmp(magic, CACHEFILE_MAGIC, 8) == 0 &&
		fread(&written, sizeof(written), 1, f) == 1 &&
		fread(&id, sizeof(id), 1, f) == 1 ?
	    1 : -1;
	/* Answers from other nameservers or another search list. */
	if (rc == 1 && id != resolver) {
		log_info("cache file %s: written for another resolver "
			 "configuration, not used", path);
		fclose(f);
		unlink(path);
		return 0;
	}
	/* A clock set back since: expiries would be too far away. */
	if (rc == 1 && written > now_ms + 1000) {
		log_warnx("cache file %s: written in the future, ignored",
		    path);
		rc = -1;
	}
	while (rc == 1)
		rc = cachefile_get(f, c, now_ms, &n);
	fclose(f);
	unlink(path);
	if (rc == -1) {
		log_warnx("cache file %s: truncated or not a cache file; %ld "
			  "entries taken", path, n);
		return -1;
	}
	return n;
}
