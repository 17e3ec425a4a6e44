/* SPDX-License-Identifier: MIT */
/* peers/namehash.h: the one hash of names (and other short keys) in codns. */
#ifndef CODNS_NAMEHASH_H
#define CODNS_NAMEHASH_H

#include <stddef.h>
#include <stdint.h>

#define NAMEHASH_KEYBYTES 16

/*
 * SipHash-2-4 (libsodium's crypto_shorthash) of len bytes.
 *
 * Tables that names from clients and peers fill (cache, lookups in flight,
 * top names) use a random key of their own, so that nobody outside can
 * steer entries onto one chain. Values that must agree between nodes (HRW
 * weights, peer ids, the nameserver-set identity) use key NULL: a fixed,
 * public key, the same on every node and every run.
 *
 * Case is the caller's business: hash the lowercased name where case must
 * not matter.
 */
struct namehash_key {
	uint8_t k[NAMEHASH_KEYBYTES];
};

/* A random key; 0, or -1 when libsodium cannot start. */
int namehash_keygen(struct namehash_key *);
uint64_t namehash(const struct namehash_key *, const void *, size_t len);

#endif
