/* SPDX-License-Identifier: MIT */
/* peers/hrw.h: Highest Random Weight (rendezvous) hashing of names to peers. */
#ifndef CODNS_HRW_H
#define CODNS_HRW_H

#include <stddef.h>
#include <stdint.h>

/*
 * CoDNS picks the peer for a name by HRW hashing of (peer id, name), so the
 * same name goes to the same peer and finds it in that peer's cache, and
 * removing a peer moves only the names that peer had.
 *
 * Names compare case-insensitively (ASCII, RFC 4343) and a single trailing
 * dot is ignored, so "Example.COM." and "example.com" hash alike.
 */

/* A peer's id from the bytes of its address (e.g. family, address, port). */
uint64_t hrw_peer_id(const void *addr_bytes, size_t len);

/* The normalised hash of a name (lowercased, trailing dot dropped). */
uint64_t hrw_name_hash(const char *name);

/* The weight of peer id for a name hash: higher wins. */
uint64_t hrw_weight(uint64_t name_hash, uint64_t id);

/* Whether (weight wa, id ida) goes before (wb, idb) in HRW order. */
int hrw_before(uint64_t wa, uint64_t ida, uint64_t wb, uint64_t idb);

/*
 * Fill order_out[0..n-1] with the indexes of ids[] from highest weight to
 * lowest for this name (ties, which need equal weights, go to the lower id).
 * Meant for the neighbour set, so it sorts in O(n^2) without allocating.
 */
void hrw_order(const char *name, const uint64_t *ids, size_t n,
    size_t *order_out);

#endif
