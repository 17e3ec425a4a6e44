/* SPDX-License-Identifier: MIT */
/* libcodns/shmtab.h: layout and lock-free reader of the shared answer table. */
#ifndef CODNS_SHMTAB_H
#define CODNS_SHMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * codnsd (codnsd/core/shm.c, the only writer) publishes the answers it caches in
 * one file, mapped read-only by every process that resolves through
 * nss_codns (nss_codns/nss_shm.c). The layout, all in host byte order (the
 * file never leaves the node):
 *
 *   header   struct shmtab_hdr, SHMTAB_HDR_SIZE bytes at offset 0
 *   slots    nslots (a power of two) x struct shmtab_slot, 32 bytes each
 *   arena    arena_size bytes of records, written circularly
 *
 * A key (kind, family, lowercased name or address bytes) is hashed with
 * SipHash-2-4 under the table's random seed and may live in any of the
 * SHMTAB_WAYS slots from hash & (nslots - 1) on, so a lookup reads one or
 * two cache lines of slots and one record.
 *
 * A slot holds the key's hash, the absolute expiry (CLOCK_MONOTONIC
 * milliseconds: the same clock for every process on the node, read
 * through the vDSO without a system call) and the absolute arena position
 * and length of its record. A record is a struct shmtab_rec followed by
 * the key bytes and the answer as encoded by proto_answer_put(); it never
 * wraps around the arena's end and is padded to 8 bytes. Its checksum
 * (FNV-1a over 32-bit words, which any single changed byte changes)
 * covers the slot's expiry and the record as stored: not a defence
 * against the writer, which readers trust, but a last check against a
 * torn or corrupted entry.
 *
 * Privacy: the table is readable by every user, so the key bytes and the
 * answer are sealed (shmtab_seal(): ChaCha12 keyed by SipHash-2-4-128 of
 * the key under the seed, the record's position as nonce) under a secret
 * derived from the key itself: a reader who knows a name finds and opens
 * its entry, and one who does not cannot list the names in the table.
 * What stays visible: the number of entries, each one's kind (forward or
 * reverse), family, key and answer lengths and expiry; and anyone can
 * test a guessed name or address (all 2^32 IPv4 addresses can be tried).
 * nss_codns(8), PRIVACY.
 *
 * Consistency without locks (a seqlock per slot, plus the arena head):
 * the writer makes the slot's seq odd, advances hdr.head past the new
 * record, then writes the record and the slot, then makes seq even again
 * (release). A reader loads seq (acquire), copies the slot and the record
 * with relaxed atomic loads, issues an acquire fence, then reloads seq and
 * head: an odd or changed seq, or a record that lies more than arena_size
 * behind head (its bytes may have been reused), means doubt, and doubt
 * means asking codnsd over the socket. The reader also checks that the
 * record carries its own position, that its key equals the asked key, and
 * that the answer decodes. The writer never waits for a reader.
 *
 * The mapping is untrusted input to the reader: shmtab_view_init() checks
 * the header against the file size once and keeps its own copy of the
 * geometry, and every slot field is bounds-checked before it is used.
 */

#define SHMTAB_MAGIC 0x31534e43u /* "CNS1" */
/* Bumped with any change of the layout or of the answer encoding. */
#define SHMTAB_VERSION (4u << 8 | PROTO_VERSION)
#define SHMTAB_HDR_SIZE 128
#define SHMTAB_WAYS 4
#define SHMTAB_REC_MAX 1024 /* bytes of one record; larger ones are not
			     * published */
#define SHMTAB_SLOTS_MAX (1u << 20)
#define SHMTAB_ARENA_MAX (256u << 20)

struct shmtab_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint32_t nslots;
	uint64_t slots_off;
	uint64_t arena_off;
	uint64_t arena_size;
	uint64_t file_size;
	uint64_t seed[2];
	uint32_t replaced; /* 1: a newer table took over, or codnsd stopped */
	uint32_t pad0;
	uint64_t head; /* arena bytes ever reserved; only grows */
	uint64_t beat_ms;  /* CLOCK_MONOTONIC of codnsd's last heartbeat */
	uint32_t conf_tag; /* shmtab_conf_tag() of the resolv.conf the
			    * answers were made under; 0: not tied to it */
	uint32_t pad2;
	uint64_t pad1[4];
};

struct shmtab_slot {
	uint32_t seq; /* odd while the writer changes the slot or record */
	uint32_t len; /* record bytes; 0: empty */
	uint64_t hash;
	uint64_t expire_ms; /* CLOCK_MONOTONIC */
	uint64_t pos;       /* absolute arena position of the record */
};

struct shmtab_rec {
	uint64_t pos; /* its own absolute position: a tag against reuse */
	uint32_t sum; /* shmtab_sum() of the slot's expiry and the record */
	uint16_t bloblen;
	uint8_t kind;
	uint8_t family;
	uint8_t keylen;
	uint8_t pad[7];
};

/* A lookup key: what the daemon's cache keys answers by. */
struct shmtab_key {
	uint8_t kind;
	uint8_t family;
	uint8_t len;
	uint8_t bytes[PROTO_NAME_MAX];
};

/* The reader's own validated copy of a mapping's geometry. */
struct shmtab_view {
	const uint8_t *base;
	size_t size;
	uint32_t nslots;
	uint64_t slots_off;
	uint64_t arena_off;
	uint64_t arena_size;
	uint64_t seed[2];
};

/* Bytes of a table with these sizes; 0 when they are out of bounds. */
size_t shmtab_file_size(uint32_t nslots, uint64_t arena_size);

/* Check a mapping's header against its size: 0, or -1 (do not use it). */
int shmtab_view_init(struct shmtab_view *, const void *base, size_t size);

/* Forward: name lowercased (ASCII); reverse: 4 or 16 bytes. 0 or -1. */
int shmtab_key_name(struct shmtab_key *, uint8_t family, const char *name);
int shmtab_key_addr(struct shmtab_key *, uint8_t family, const void *addr);

uint64_t shmtab_hash(const uint64_t seed[2], const struct shmtab_key *);
/* The ChaCha block function with a round count, for the known-answer
 * tests against libsodium (the seal uses 12 rounds). */
void shmtab_chacha_core(const uint32_t in[16], uint8_t out[64], int rounds);
/* Seal or open (the same operation) len bytes of the record at arena
 * position pos that holds key k. */
void shmtab_seal(const uint64_t seed[2], const struct shmtab_key *k,
    uint64_t pos, uint8_t *p, size_t len);
/* The record's checksum; rec's sum field is taken as 0. */
uint32_t shmtab_sum(uint64_t expire_ms, const void *rec, size_t len);

/*
 * 1 with the answer in *out (ttl: whole seconds left, source: cache) when
 * the table holds a live, intact entry for the key at now_ms (monotonic);
 * 0 for a miss, an expired entry or any doubt. As proto_answer_get_counted()
 * leaves them, the aliases and addresses past the counts are undefined.
 */
int shmtab_find(const struct shmtab_view *, const struct shmtab_key *,
    uint64_t now_ms, struct proto_answer *out);

/* 1 once the writer has marked the table replaced (remap), else 0. */
int shmtab_replaced(const struct shmtab_view *);

/* CLOCK_MONOTONIC in milliseconds, the table's clock. */
uint64_t shmtab_now_ms(void);

/*
 * Liveness: codnsd writes beat_ms every SHMTAB_BEAT_MS. A table whose beat
 * is more than SHMTAB_STALE_MS old belongs to a dead or hung daemon: it is
 * not read, and the daemon is not asked (nss_codns(8), A HUNG DAEMON).
 */
#define SHMTAB_BEAT_MS 1000
#define SHMTAB_STALE_MS 3000
/* 1 while the table's heartbeat is fresh at now_ms, else 0. */
int shmtab_alive(const struct shmtab_view *, uint64_t now_ms);

/*
 * The identity of a resolver configuration file from its stat (inode,
 * size, change and modification times); NULL: the file is missing. Never
 * 0, which in the header means "not tied to resolv.conf".
 */
struct stat;
uint32_t shmtab_conf_tag(const struct stat *);
/* shmtab_conf_tag() of RESOLVCONF_PATH as the caller sees it (one
 * stat(2)). */
uint32_t shmtab_conf_now(void);
/* 1 when the table is not tied to resolv.conf or was made under the one
 * whose tag the caller sees now; 0: ask the socket. */
int shmtab_conf_ok(const struct shmtab_view *, uint32_t now_tag);

/* Also in client.c: the trust rule's directory part, for the socket and
 * the table (nss_codns(8)): 1 when dir (its stat) is a directory writable
 * by its owner only, owned by root, by the caller's effective user, or by
 * the owner of the default run directory (the daemon's user); else 0. */
int client_dir_trusted(const struct stat *dir);

/* Also in client.c, for the NSS module: a check that the client's waits
 * make every CLIENT_ALIVE_SLICE_MS; when it returns 0 the wait ends at
 * once with ETIMEDOUT (the daemon stopped beating). NULL: none. */
void client_set_alive(int (*alive)(void));

/* Defined in client.c, for the NSS module's table reader: a result whose
 * answer (*a, not cleared: 12 KiB) the caller fills, as shmtab_find()
 * does. Not exported by libcodns.so. */
struct codns_result *client_result_alloc(struct proto_answer **a);
/* Also in client.c: send a report frame (proto.h) on an open client after
 * its lookup; 0 or -1. */
int client_report(struct codns_client *, uint32_t hits);

#endif
