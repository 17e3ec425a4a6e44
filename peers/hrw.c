/* SPDX-License-Identifier: MIT */
/* peers/hrw.c: Highest Random Weight (rendezvous) hashing of names to peers. */
#include "hrw.h"

#include <string.h>

#include "namehash.h"

/*
 * The splitmix64 finaliser: a bijection on 64 bits whose every output bit
 * depends on every input bit, so that nearby ids give unrelated weights.
 */
static uint64_t
hrw_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Both hashes use namehash's fixed key: every node must agree on them. */
uint64_t
hrw_peer_id(const void *addr_bytes, size_t len)
{
	return namehash(NULL, addr_bytes, len);
}

uint64_t
hrw_name_hash(const char *name)
{
	char low[256];
	size_t len = strlen(name), i;

	if (len > 1 && name[len - 1] == '.')
		len--;
	if (len > sizeof(low))
		len = sizeof(low);
	for (i = 0; i < len; i++)
		low[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] + ('a' - 'A')) : name[i];
	return namehash(NULL, low, len);
}

uint64_t
hrw_weight(uint64_t name_hash, uint64_t id)
{
	/* Mix the id on its own first so that nearby ids (consecutive
	 * addresses) do not give related weights. */
	return hrw_mix(name_hash ^ hrw_mix(id));
}

int
hrw_before(uint64_t wa, uint64_t ida, uint64_t wb, uint64_t idb)
{
	if (wa != wb)
		return wa > wb;
	return ida < idb;
}

void
hrw_order(const char *name, const uint64_t *ids, size_t n, size_t *order_out)
{
	uint64_t nh = hrw_name_hash(name);
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t cur = i;
		uint64_t w = hrw_weight(nh, ids[cur]);

		for (j = i; j > 0; j--) {
			size_t prev = order_out[j - 1];

			if (!hrw_before(w, ids[cur],
			    hrw_weight(nh, ids[prev]), ids[prev]))
				break;
			order_out[j] = prev;
		}
		order_out[j] = cur;
	}
}
