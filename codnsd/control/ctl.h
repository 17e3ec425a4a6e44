/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctl.h: the control socket that codnsctl talks to. */
#ifndef CODNSD_CTL_H
#define CODNSD_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ctl;
struct ev_loop;
struct peernet_nbr;
struct peernet_row;
struct peersdns_info;
struct stats;

#define CTL_CLIENTS_MAX 64
#define CTL_CLIENTS_PER_UID 8  /* connections one uid may hold */
#define CTL_CLIENTS_RESERVE 8  /* for root, the daemon and new uids */
#define CTL_LINE_MAX 1024     /* request line, newline included */
#define CTL_READ_SEC 5.0      /* to send the whole request line */
#define CTL_WRITE_SEC 30.0    /* to read the whole reply */
#define CTL_SOCKET_MODE 0666  /* read-only commands for every local user */

/*
 * The figures of codnsctl status and metrics, gathered by the env when a
 * request comes; the strings stay valid until the request is answered.
 */
struct ctl_figures {
	double uptime_s;
	const char *listeners; /* "addr,addr" */
	size_t lookup_clients;
	size_t inflight; /* lookups being resolved */
	/* The local nameservers (upstream_health()). */
	const char *ns_servers; /* "1.2.3.4:53,..." */
	uint32_t ns_mean_ms, ns_fail_permille;
	uint64_t ns_queries, ns_failures;
	uint64_t ns_set_id;
	double ns_last_ago_s; /* since the last completed query; -1 none */
	/* The cache. */
	size_t cache_entries, cache_capacity;
	size_t responses_kept; /* whole responses kept by question */
	uint64_t cache_hits, cache_misses, cache_evictions;
	/* The race (lookup.h), only when peers_on: a peer side runs. */
	int peers_on;
	uint32_t delay_ms;
	const char *delay_reason;
	unsigned wins[4]; /* last 16: local, peer; last 32: local, peer */
	/* glibc's nscd protocol, only when nscd_on: it is served. */
	int nscd_on;
	const char *nscd_socket;
	size_t nscd_clients, nscd_entries, nscd_bytes;
	uint64_t nscd_published, nscd_rebuilt;
};

/*
 * What ctl reads and does, as lookup's collaborators come through
 * lookup_env: ctlio.c is the real one (the daemon's modules), and
 * tests/unit/test_ctl.c gives fixed figures. Everything but loop and
 * stats takes ctx, and is asked at each request.
 */
struct ctl_env {
	struct ev_loop *loop; /* for the socket and its clients */
	struct stats *stats;  /* counted into, and rendered (stats.h) */
	void *ctx;
	/* Root and this uid (the daemon's own) may flush, reload and hand
	 * over; they and the members of this group ("": none) see names. */
	uid_t (*daemon_uid)(void *ctx);
	const char *(*control_group)(void *ctx);
	void (*figures)(void *ctx, struct ctl_figures *);
	/* The peer side (peernet.h, peersdns.h), asked only when
	 * figures.peers_on; each fills at most max. */
	size_t (*peer_rows)(void *ctx, struct peernet_row *, size_t max);
	void (*neighbours)(void *ctx, struct peernet_nbr *);
	size_t (*peers_dns)(void *ctx, struct peersdns_info *, size_t max);
	uint64_t (*peers_dns_cut)(void *ctx);
	/* Drop the answers for name (NULL: all) from every cache; how many
	 * entries went. */
	size_t (*flush)(void *ctx, const char *name);
	/* `codnsctl reload`: 0, or -1 with the reason in err. NULL: refused
	 * as not available. */
	int (*reload)(void *ctx, char *err, size_t errlen);
	/* `handover` (codnsd -R, handover.h) with the client's connected fd:
	 * main sends the listening sockets on it and starts to drain. 0, or
	 * -1 with the reason in err. NULL: refused as not available. */
	int (*handover)(void *ctx, int fd, char *err, size_t errlen);
};

/*
 * Bind path (creating its directory, mode 0755, owned by user when set,
 * and removing a stale socket) and serve it on env->loop; env is copied.
 * NULL (logged) on failure, or when another daemon answers on that
 * socket.
 */
struct ctl *ctl_new(const struct ctl_env *env, const char *path,
    const char *user);
/* Accept no more connections (on), or again (off). */
void ctl_pause(struct ctl *, int on);
/* Close every client and the socket, and unlink it. NULL-safe. */
void ctl_free(struct ctl *);
size_t ctl_clients(const struct ctl *);

#endif
