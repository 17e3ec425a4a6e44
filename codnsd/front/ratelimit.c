/* SPDX-License-Identifier: MIT */
/* codnsd/front/ratelimit.c: response rate limiting per source prefix. */
#include "ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "namehash.h"

#define RATELIMIT_WAYS 4 /* slots a prefix may take in the table */

/* One prefix's bucket. Tokens are counted in thousandths, so that a
 * millisecond refills rate of them. */
struct ratelimit_slot {
	uint8_t key[9]; /* family, then the prefix's bytes; [0] 0: free */
	uint64_t last_ms;
	uint64_t milli; /* tokens * 1000 */
	uint32_t drops;
};

struct ratelimit {
	struct namehash_key hkey; /* sources choose their addresses */
	struct ratelimit_slot slots[RATELIMIT_SLOTS];
};

struct ratelimit *
ratelimit_new(void)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if (namehash_keygen(&rl->hkey) == -1) {
		free(rl);
		return NULL;
	}
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	free(rl);
}

/* The key of a source's prefix; -1 for another family. */
static int
ratelimit_key(const struct sockaddr *sa, uint8_t key[9])
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, 9);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, RATELIMIT_V4_PREFIX / 8);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &sin6->sin6_addr, RATELIMIT_V6_PREFIX / 8);
		return 0;
	}
	return -1;
}

/* The bucket with these tokens now. */
static uint64_t
ratelimit_refill(const struct ratelimit_slot *sl, uint32_t rate,
    uint64_t now_ms)
{
	uint64_t full = (uint64_t)rate * 1000;
	uint64_t gained = now_ms > sl->last_ms ?
	    (now_ms - sl->last_ms) * rate : 0;

	return sl->milli + gained >= full ? full : sl->milli + gained;
}

/*
 * The prefix's slot among its RATELIMIT_WAYS: its own, else a free one,
 * else the one nearest to full (idle longest, so forgetting it changes
 * least: a prefix forgotten starts again with a full bucket).
 */
static struct ratelimit_slot *
ratelimit_slot(struct ratelimit *rl, const uint8_t key[9], uint32_t rate,
    uint64_t now_ms)
{
	uint64_t h = namehash(&rl->hkey, key, 9), best = 0, t;
	struct ratelimit_slot *sl, *victim = NULL;
	size_t i;

	for (i = 0; i < RATELIMIT_WAYS; i++) {
		sl = &rl->slots[(h + i) % RATELIMIT_SLOTS];
		if (memcmp(sl->key, key, 9) == 0)
			return sl;
		t = sl->key[0] == 0 ? UINT64_MAX :
				      ratelimit_refill(sl, rate, now_ms);
		if (victim == NULL || t > best) {
			victim = sl;
			best = t;
		}
	}
	memcpy(victim->key, key, 9);
	victim->last_ms = now_ms;
	victim->milli = (uint64_t)rate * 1000;
	victim->drops = 0;
	return victim;
}

enum ratelimit_verdict
ratelimit_check(struct ratelimit *rl, const struct sockaddr *from,
    uint32_t rate, uint32_t slip, uint64_t now_ms)
{
	struct ratelimit_slot *sl;
	uint8_t key[9];

	if (rate == 0 || ratelimit_key(from, key) == -1)
		return RATELIMIT_PASS;
	sl = ratelimit_slot(rl, key, rate, now_ms);
	sl->milli = ratelimit_refill(sl, rate, now_ms);
	if (now_ms > sl->last_ms)
		sl->last_ms = now_ms;
	if (sl->milli >= 1000) {
		sl->milli -= 1000;
		return RATELIMIT_PASS;
	}
	sl->drops++;
	if (slip > 0 && sl->drops % slip == 0)
		return RATELIMIT_SLIP;
	return RATELIMIT_DROP;
}
