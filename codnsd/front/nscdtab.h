/* SPDX-License-Identifier: MIT */
/* codnsd/front/nscdtab.h: the hosts table in the format glibc's nscd client maps
 * and searches (nscd_helper.c, nscd-client.h in glibc 2.36). */
#ifndef CODNSD_NSCDTAB_H
#define CODNSD_NSCDTAB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * The layout is glibc's, for every architecture where int32_t, uint32_t
 * and uint64_t have their natural alignment (glibc chose 32-bit sizes so
 * that 32- and 64-bit processes share one table). nscdtab.c checks each
 * offset at compile time against what glibc's client reads.
 */
#define NSCD_VERSION 2   /* request and response headers */
#define NSCD_DB_VERSION 2 /* table header */
#define NSCD_KEY_MAX 1024
#define NSCD_MAPPING_TIMEOUT 300 /* glibc remaps a table this stale */
#define NSCD_ENDREF UINT32_MAX

/* Request types (glibc's request_type); only the hosts ones are served. */
enum nscd_type {
	NSCD_GETHOSTBYNAME = 4,
	NSCD_GETHOSTBYNAMEv6 = 5,
	NSCD_GETHOSTBYADDR = 6,
	NSCD_GETHOSTBYADDRv6 = 7,
	NSCD_GETFDHST = 13,
	NSCD_GETAI = 14,
	NSCD_LASTREQ = 22,
};

struct nscd_req_hdr {
	int32_t version;
	int32_t type;
	int32_t key_len;
};

/* Response to GETAI: then naddrs..., the families (one byte each), the
 * canonical name with its NUL. */
struct nscd_ai_hdr {
	int32_t version;
	int32_t found; /* 1, 0 (negative: error says why), -1 (not served) */
	int32_t naddrs;
	int32_t addrslen;
	int32_t canonlen;
	int32_t error; /* h_errno */
};

/* Response to GETHOSTBY*: then h_name with its NUL, one int32 length per
 * alias, the addresses, the aliases with their NULs. */
struct nscd_hst_hdr {
	int32_t version;
	int32_t found;
	int32_t h_name_len;
	int32_t h_aliases_cnt;
	int32_t h_addrtype;
	int32_t h_length;
	int32_t h_addr_list_cnt;
	int32_t error;
};

struct nscd_head {
	int32_t version;
	int32_t header_size;
	int32_t gc_cycle; /* odd while the table is rebuilt */
	int32_t nscd_certainly_running;
	uint64_t timestamp; /* refreshed; a stale one makes clients remap */
	uint32_t extra_data[4]; /* [0]: the interface-change counter, 0
				 * when nobody counts */
	int32_t module; /* hash buckets */
	int32_t data_size;
	int32_t first_free;
	int32_t nentries;
	int32_t maxnentries;
	int32_t maxnsearched;
	uint64_t poshit, neghit, posmiss, negmiss;
	uint64_t rdlockdelayed, wrlockdelayed, addfailed;
	uint32_t array[]; /* module bucket heads, then the data area */
};

struct nscd_hashentry {
	uint8_t type;
	uint8_t first;
	uint8_t pad[2];
	int32_t len; /* key length, the NUL of a name included */
	uint32_t key;
	int32_t owner;
	uint32_t next;
	uint32_t packet; /* the struct nscd_datahead */
	uint64_t unused; /* nscd's own pointer; clients never read it */
};

struct nscd_datahead {
	int32_t allocsize; /* bytes of the record, this header included */
	int32_t recsize;   /* bytes after this header */
	uint64_t timeout;  /* absolute time(2) of expiry */
	uint8_t notfound;
	uint8_t nreloads;
	uint8_t usable; /* 0: clients skip it */
	uint8_t unused;
	uint32_t ttl;
	/* then the response header and its data */
};

struct nscdtab;

struct nscdtab_stats {
	uint64_t published;
	uint64_t expired; /* entries marked unusable at their expiry */
	uint64_t cleared; /* rebuilds: full, flushed, or replaced */
	uint64_t too_big;
};

/* A table for about `entries` answers in a new memfd; NULL with errno. */
struct nscdtab *nscdtab_new(size_t entries);
/* Mark it dead (clients remap, see no entry), close it. NULL-safe. */
void nscdtab_free(struct nscdtab *);
int nscdtab_fd(const struct nscdtab *);
size_t nscdtab_size(const struct nscdtab *);
/* The mapping, for tests (read-only view of what clients see). */
const void *nscdtab_base(const struct nscdtab *);

/*
 * Publish a response (header + data, reclen bytes) under (type, key),
 * ahead of any older entry of that key, living ttl seconds from now. A
 * full half of the data area starts the other half with an empty table
 * (the old half is left intact for readers already in it). 0, or -1 when
 * the record can never fit.
 */
int nscdtab_put(struct nscdtab *, int type, const void *key, size_t keylen,
    const void *rec, size_t reclen, int notfound, uint32_t ttl, time_t now);
/* Mark entries whose time has come unusable; the soonest expiry left
 * (0 when none). */
time_t nscdtab_expire(struct nscdtab *, time_t now);
/* Mark unusable every entry of a name (ASCII case-insensitive), or all. */
void nscdtab_drop_name(struct nscdtab *, const char *name);
/* An empty table (flush all). */
void nscdtab_clear(struct nscdtab *);
/*
 * glibc's clients give up a mapping whose timestamp is more than
 * NSCDTAB_MAPPING_TIMEOUT seconds old; the owner touches the table every
 * second, and a table not touched for NSCDTAB_LIVE_S seconds (codnsd dead
 * or hung) is left by its clients.
 */
#define NSCDTAB_MAPPING_TIMEOUT 300
#define NSCDTAB_LIVE_S 3
void nscdtab_touch(struct nscdtab *, time_t now);
/* A change of network interfaces: clients drop their cached list. The
 * first call says changes are counted at all. */
void nscdtab_bump_interfaces(struct nscdtab *);
size_t nscdtab_entries(const struct nscdtab *);
const struct nscdtab_stats *nscdtab_stats(const struct nscdtab *);

/*
 * Responses (header and data, as sent on the socket and stored in the
 * table) from an answer. name is the h_name or canonical name to give;
 * aliases and addresses come from a. For GETHOSTBYADDR*, addr is the
 * address asked (4 or 16 bytes), the only one listed. The length, or 0
 * when the answer has no address for the type (the caller answers
 * NO_DATA) or does not fit in cap.
 */
struct proto_answer;
size_t nscdrec_ai(uint8_t *out, size_t cap, const struct proto_answer *a,
    const char *name);
size_t nscdrec_hst(uint8_t *out, size_t cap, int type,
    const struct proto_answer *a, const char *name, const uint8_t *addr);
/* A negative response: found 0, h_errno herr. */
size_t nscdrec_neg(uint8_t *out, size_t cap, int type, int herr);

/* glibc's hash of a key (__nss_hash: sdbm). */
uint32_t nscdtab_hash(const void *key, size_t len);

#endif
