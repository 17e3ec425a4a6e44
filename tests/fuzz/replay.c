/* SPDX-License-Identifier: MIT */
/* tests/fuzz/replay.c: run a fuzz target over a corpus and its mutations. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/xorshift.h"

/*
 * Usage: replay [-n MUTATIONS] DIR...
 * Every regular file in each DIR is fed to LLVMFuzzerTestOneInput(), then
 * MUTATIONS (default 200000) inputs derived from them by a fixed-seed PRNG,
 * so `make check` is deterministic and a failure reproduces. Each input sits
 * in a buffer of exactly its size, so valgrind or ASan see any overread.
 */
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REPLAY_FILE_MAX 65536
#define REPLAY_FILES_MAX 4096

struct input {
	uint8_t *data;
	size_t len;
};

static struct input inputs[REPLAY_FILES_MAX];
static size_t ninputs;
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	return xorshift64(&rng_state);
}

static void
run_one(const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		perror("malloc");
		exit(1);
	}
	if (len > 0)
		memcpy(copy, p, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static int
load_file(const char *path)
{
	struct input *in = &inputs[ninputs];
	FILE *f;
	int rc = -1;

	if (ninputs == REPLAY_FILES_MAX) {
		fprintf(stderr, "replay: too many files\n");
		return -1;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((in->data = malloc(REPLAY_FILE_MAX)) == NULL)
		goto done;
	in->len = fread(in->data, 1, REPLAY_FILE_MAX, f);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(in->data);
		goto done;
	}
	ninputs++;
	rc = 0;
done:
	fclose(f);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load the regular files of dir in name order, so runs are reproducible. */
static int
load_dir(const char *dir)
{
	char *names[REPLAY_FILES_MAX], path[4096];
	struct dirent *de;
	struct stat st;
	size_t n = 0, i;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < REPLAY_FILES_MAX) {
		if (de->d_name[0] == '.')
			continue;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = load_file(path);
		free(names[i]);
	}
	return rc;
}

/* Values that sit on the edges of the codec's counts and lengths. */
static const uint8_t edges[] = { 0, 1, 2, 4, 6, 7, 8, 9, 16, 17, 32, 33, 63,
	64, 0x7f, 0x80, 0xfd, 0xfe, 0xff };

static size_t
mutate(uint8_t *p, size_t len, size_t cap)
{
	int rounds = 1 + (int)(rng() % 4), i;
	size_t at, n, k;

	for (i = 0; i < rounds; i++) {
		at = len ? rng() % len : 0;
		switch (rng() % 8) {
		case 0: /* bit flip */
			if (len)
				p[at] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 1: /* edge value */
			if (len)
				p[at] = edges[rng() % sizeof(edges)];
			break;
		case 2: /* truncate */
			len = len ? rng() % len : 0;
			break;
		case 3: /* insert random bytes */
			n = 1 + rng() % 8;
			if (len + n > cap)
				break;
			memmove(p + at + n, p + at, len - at);
			for (k = 0; k < n; k++)
				p[at + k] = (uint8_t)rng();
			len += n;
			break;
		case 4: /* delete bytes */
			n = 1 + rng() % 8;
			if (n > len - at)
				n = len - at;
			memmove(p + at, p + at + n, len - at - n);
			len -= n;
			break;
		case 5: /* duplicate the input: pipelined frames */
			if (len * 2 <= cap) {
				memcpy(p + len, p, len);
				len *= 2;
			}
			break;
		case 6: /* random byte */
			if (len)
				p[at] = (uint8_t)rng();
			break;
		default: /* fix the frame length to match the new size */
			if (len >= 2) {
				p[0] = (uint8_t)((len - 2) >> 8);
				p[1] = (uint8_t)(len - 2);
			}
			break;
		}
	}
	return len;
}

int
main(int argc, char **argv)
{
	static uint8_t work[2 * REPLAY_FILE_MAX + 64];
	unsigned long mutations = 200000, i;
	size_t len;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n')
			goto usage;
		mutations = strtoul(optarg, NULL, 10);
	}
	if (optind == argc)
		goto usage;
	for (; optind < argc; optind++)
		if (load_dir(argv[optind]) == -1)
			return 1;
	if (ninputs == 0) {
		fprintf(stderr, "replay: no input files\n");
		return 1;
	}
	for (i = 0; i < ninputs; i++)
		run_one(inputs[i].data, inputs[i].len);
	for (i = 0; i < mutations; i++) {
		const struct input *in = &inputs[rng() % ninputs];

		memcpy(work, in->data, in->len);
		len = mutate(work, in->len, sizeof(work));
		run_one(work, len);
	}
	printf("replay: %zu files, %lu mutations, no failure\n", ninputs,
	    mutations);
	for (i = 0; i < ninputs; i++)
		free(inputs[i].data);
	return 0;
usage:
	fprintf(stderr, "usage: replay [-n mutations] dir...\n");
	return 2;
}
