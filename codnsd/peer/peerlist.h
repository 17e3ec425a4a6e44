/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peerlist.h: the listed peers: the peers file read into
 * entries sorted by id, found by id or address. */
#ifndef CODNSD_PEERLIST_H
#define CODNSD_PEERLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

#define PEERLIST_SRC_FILE UINT16_MAX /* a peer's source: the peers file */

struct peerlist_entry {
	uint64_t id; /* hrw_peer_id() of its address text */
	struct conf_addr addr;
	char name[ADDR_STRLEN];
	uint16_t src; /* PEERLIST_SRC_FILE, or the peers-dns name's index */
	/* The protocol version of the last heartbeat or query it sent us,
	 * which ours to it use; 0 (none yet): PEERPROTO_VERSION. */
	uint8_t version;
	/* The reply_time of our last ack that asked it for an echo; only
	 * that echo is a sample (0: none asked). */
	uint64_t echo_want;
};

/* Peers from elsewhere than the file: the peers-dns names' (peersdns.c),
 * each with the index of its name. */
struct peerlist_more {
	const struct conf_addr *addrs;
	const uint16_t *src;
	size_t n;
	int file_optional; /* a missing peers file is an empty one */
};

/* A peer's id: HRW weights hang on it, so it depends on its address
 * alone, not on the order of the peers file. */
uint64_t peerlist_id(const struct sockaddr *);

/*
 * Read the peers file at path and add more (NULL: none), leaving out this
 * node: its peer-listen address listen and the nself addresses self
 * (found to be ours). An address in both keeps "file" as its source. At
 * most CONF_PEERS_MAX entries: *cut counts more's that did not fit. On
 * success 0, with *list (sorted by id) and *ids (the same ids) of *n
 * entries, the caller's to free; else -1 with a message in err.
 */
int peerlist_read(const char *path, const struct peerlist_more *more,
    const struct conf_addr *listen, const struct conf_addr *self,
    size_t nself, struct peerlist_entry **list, uint64_t **ids, size_t *n,
    size_t *cut, char *err, size_t errlen);

/* The first entry with this id (O(log n)), or NULL. */
struct peerlist_entry *peerlist_by_id(const struct peerlist_entry *,
    size_t n, uint64_t id);
/* The entry of this address, or NULL. */
struct peerlist_entry *peerlist_by_addr(const struct peerlist_entry *,
    size_t n, const struct sockaddr *);

#endif
