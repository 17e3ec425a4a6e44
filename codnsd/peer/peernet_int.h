/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peernet_int.h: peernet's insides, shared by peernet.c
 * (heartbeats, datagrams in, reloads) and peerquery.c (queries). */
#ifndef CODNSD_PEERNET_INT_H
#define CODNSD_PEERNET_INT_H

#include <limits.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include "addr.h"
#include "nshealth.h"
#include "peerlist.h"
#include "peernet.h"
#include "peerproto.h"

#define PN_BUCKETS 256
#define PN_QUERIES_MAX 4096 /* our queries to peers awaiting an answer */
#define PN_HB_BATCH 64
#define PN_FILE_CHECK_MS 2000 /* look for a changed peers file this often */
#define PN_SELF_MAX 16	     /* listed addresses found to be this node */

struct peernet_query {
	struct peernet *pn;
	uint64_t qid;
	uint64_t peer;
	peernet_cb *cb;
	void *arg;
	uint64_t sent_us;
	LIST_ENTRY(peernet_query) entry;
};

/* A query a peer sent us, being resolved. */
struct pn_serve {
	struct peernet *pn;
	uint64_t qid;
	uint8_t version; /* the query's: the answer goes back in it */
	size_t peer; /* index into list when it arrived */
	struct conf_addr from;
	void *handle; /* the server's, while it resolves */
	LIST_ENTRY(pn_serve) entry;
};

struct peernet {
	struct peernet_env env;
	void *hb, *file; /* the env's timers */
	char peers_file[PATH_MAX];
	int file_optional; /* peers-dns is set: no peers file is no error */
	/* The peers that the peers-dns names gave (peernet_set_dns()). */
	struct conf_addr *dns;
	uint16_t *dns_src;
	size_t ndns;
	char dns_names[CONF_PEERS_DNS_MAX][CONF_DNSNAME_MAX + 1];
	uint64_t dns_cut; /* beyond CONF_PEERS_MAX with the file's */
	struct conf_addr listen; /* peer-listen: this node, not a peer */
	unsigned neighbors;
	size_t queue_max; /* peer-queue-max */
	uint32_t file_check_ms;
	void *watch; /* the env's watch of the peers file, or NULL */
	struct peers *peers;
	struct peerlist_entry *list;
	size_t nlist;
	uint8_t key[PEERPROTO_KEY_LEN];
	int have_key;
	struct peerproto_replay replay;
	/* Random per process: a heartbeat carrying it came from this node,
	 * through a listed address that is ours (peer-listen 0.0.0.0). */
	uint64_t nonce;
	struct conf_addr self[PN_SELF_MAX];
	size_t nself;
	LIST_HEAD(, peernet_query) pending[PN_BUCKETS];
	size_t npending;
	LIST_HEAD(, pn_serve) serving;
	size_t nserving;
	peernet_serve_fn *serve;
	peernet_unserve_fn *unserve;
	void *serve_ctx;
	struct stat file_st;
	unsigned generation; /* of the neighbour set, as last seen */
	struct peers_nshealth nsh; /* the failure rate we report */
	uint64_t opened_ms, full_ms; /* when the set was first full, or 0 */
};

/* peernet.c */
struct peerlist_entry *peernet_by_id(const struct peernet *, uint64_t id);
uint64_t peernet_now_us(const struct peernet *);
uint64_t peernet_now_ms(const struct peernet *);
uint64_t peernet_wall_ms(const struct peernet *);
void peernet_count(const struct peernet *, enum stats_counter);
void peernet_send(struct peernet *, const struct peerproto_msg *,
    const struct conf_addr *to);
/* Re-arm the heartbeat timer after the table changed. */
void peernet_hb_arm(struct peernet *);

/* peerquery.c */
/* A query from peer p: resolved by the server, answered later. */
void peernet_on_query(struct peernet *, struct peerlist_entry *p,
    const struct peerproto_msg *);
/* An answer or "cannot resolve" from peer p. */
void peernet_on_reply(struct peernet *, struct peerlist_entry *p,
    const struct peerproto_msg *);
void peernet_fail_dead(struct peernet *);
/* Forget every query both ways (peernet_free()). */
void peernet_queries_free(struct peernet *);

#endif
