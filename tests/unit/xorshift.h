/* SPDX-License-Identifier: MIT */
/* tests/unit/xorshift.h: the tests' deterministic random numbers. */
#ifndef CODNS_XORSHIFT_H
#define CODNS_XORSHIFT_H

#include <stdint.h>

/* xorshift64 (Marsaglia): the next number from *state (never 0), so that
 * a run that fails reproduces from its seed. */
static inline uint64_t
xorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
