/* SPDX-License-Identifier: MIT */
/* peers/namehash.c: the one hash of names (and other short keys) in codns. */
#include "namehash.h"

#include <sodium.h>

_Static_assert(NAMEHASH_KEYBYTES == crypto_shorthash_KEYBYTES,
    "namehash keys are SipHash keys");

int
namehash_keygen(struct namehash_key *k)
{
	if (sodium_init() == -1)
		return -1;
	crypto_shorthash_keygen(k->k);
	return 0;
}

uint64_t
namehash(const struct namehash_key *k, const void *p, size_t len)
{
	static const struct namehash_key fixed; /* all zero: public */
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h = 0;
	size_t i;

	crypto_shorthash(out, p, len, (k != NULL ? k : &fixed)->k);
	for (i = 0; i < sizeof(out); i++)
		h = h << 8 | out[i];
	return h;
}
