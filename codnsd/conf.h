/* SPDX-License-Identifier: MIT */
/* codnsd/conf.h: codnsd.conf and peers file parsing, with built-in defaults. */
#ifndef CODNSD_CONF_H
#define CODNSD_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

#define CONF_LISTEN_MAX 8
#define CONF_UPSTREAM_MAX 8
#define CONF_PEERS_MAX 4096 /* peers file lines; = PEERS_MAX */
#define CONF_PEERS_DNS_MAX 8 /* peers-dns names */
#define CONF_DNSNAME_MAX 253 /* a name's text, without the final dot */
#define CONF_ERR_MAX 512
/*
 * Caps on what codnsd reads from files, so a file that never ends (a
 * symlink to /dev/zero) or a huge one cannot hang or bloat the daemon. A
 * config is a few dozen lines; a peers file may list every node of a big
 * cluster, one short line each (members of 4096 nodes and then some).
 */
#define CONF_FILE_MAX (1024 * 1024)	  /* codnsd.conf bytes */
#define CONF_LINES_MAX 16384		  /* codnsd.conf lines */
#define CONF_PEERS_FILE_MAX (4 * 1024 * 1024) /* peers file bytes */
#define CONF_PEERS_LINES_MAX 65536	  /* peers file lines */

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define CONF_DEFAULT_FILE SYSCONFDIR "/codns/codnsd.conf"
#define CONF_DEFAULT_PEERS SYSCONFDIR "/codns/peers"
#define CONF_DEFAULT_CONTROL RUNSTATEDIR "/codnsd/control.sock"
#define CONF_DEFAULT_LOOKUP RUNSTATEDIR "/codnsd/lookup.sock"
#define CONF_DEFAULT_PORT 7053
#define CONF_DEFAULT_RESOLV "/etc/resolv.conf" /* = RESOLVCONF_PATH */
#define CONF_DNS_PORT 53
#define CONF_RATELIMIT_AUTO UINT32_MAX
#define CONF_RATELIMIT_PUBLIC 100 /* the default for a public stub */

struct conf {
	struct conf_addr listen[CONF_LISTEN_MAX];
	size_t nlisten;
	struct conf_addr upstream[CONF_UPSTREAM_MAX]; /* port default 53 */
	size_t nupstream; /* 0: the nameservers of /etc/resolv.conf */
	uint32_t upstream_timeout_ms; /* 0: resolv.conf's timeout */
	uint32_t lookup_timeout_ms;   /* 0: what glibc would wait in all */
	char resolv_conf[PATH_MAX];   /* nameservers, search, options */
	struct conf_addr peer_listen;
	char peers_file[PATH_MAX];
	/* peers-dns: names whose A/AAAA (or SRV, for _svc._udp names) give
	 * peers, re-resolved at their TTL (peersdns.c). */
	char peers_dns[CONF_PEERS_DNS_MAX][CONF_DNSNAME_MAX + 1];
	size_t npeers_dns;
	char peer_key_file[PATH_MAX]; /* "" when unset */
	uint32_t neighbors;
	uint32_t neighbor_rtt_max_ms;
	uint32_t heartbeat_discovery_ms;
	uint32_t heartbeat_steady_ms;
	uint32_t initial_delay_max_ms;
	uint32_t peers_per_lookup;
	uint32_t peer_queue_max;
	uint32_t cache_size;
	uint32_t cache_min_ttl_s;
	uint32_t cache_max_ttl_s;
	uint32_t negative_ttl_s;
	char control_socket[PATH_MAX];
	char lookup_socket[PATH_MAX]; /* "" for "none" */
	char nscd_socket[PATH_MAX];   /* "" (the default): no nscd service */
	uint32_t max_clients;          /* lookup connections, per pool */
	uint32_t max_clients_per_user; /* per uid (UNIX), per address (TCP) */
	char control_group[64];        /* "" when unset */
	char user[64];          /* "" when unset */
	char pidfile[PATH_MAX]; /* "" when unset */
	/* The cache kept across restarts (cachefile.h): "" (the default)
	 * for cache.dump beside the sockets, "none" for no file. */
	char cache_file[PATH_MAX];
	int shared_cache;       /* publish answers for nss_codns (shm.c) */
	int prefetch;           /* refresh entries hit in their last 10 % */
	/* DNS stub listener and serve-stale (dnsstub.c, RFC 8767). */
	struct conf_addr dns_listen[CONF_LISTEN_MAX];
	size_t ndns_listen; /* 0: no stub listener */
	uint32_t serve_stale_s; /* 0: off */
	uint32_t stale_answer_timeout_ms; /* 0: only when every source failed */
	/* Stub UDP responses a second per source prefix; 0: off;
	 * CONF_RATELIMIT_AUTO: CONF_RATELIMIT_PUBLIC when a dns-listen
	 * address is not loopback, else off. */
	uint32_t ratelimit;
	uint32_t ratelimit_slip; /* every Nth dropped one goes with TC */
};

/* Fill every key with its built-in default (DESIGN.md, codnsd.conf.5). */
void conf_defaults(struct conf *);
/* Whether a file watched by stat(2) changed between two looks: device,
 * inode, size, modification or change time. */
struct stat;
int conf_file_changed(const struct stat *now, const struct stat *before);

/*
 * Read path over the defaults already in *c. With missing_ok, a file that
 * does not exist leaves *c as it is. Returns 0, or -1 with a message
 * "path:line: what is wrong" in err (all errors are reported, not only the
 * first, one per line, up to errlen). *c is only changed on success.
 */
int conf_load(struct conf *c, const char *path, int missing_ok, char *err,
    size_t errlen);

/*
 * The parser of conf_load() on text in memory (len bytes, NUL bytes are
 * errors); name stands for the path in messages. Same contract.
 */
int conf_parse(struct conf *c, const char *name, const char *text,
    size_t len, char *err, size_t errlen);

/* "250ms", "2s", "1m", "1h"; a bare number is seconds. 0 or -1. */
int conf_parse_duration(const char *, uint32_t *ms);

/*
 * Both loaders accept only a regular file (a symlink to one is fine) of at
 * most CONF_FILE_MAX / CONF_PEERS_FILE_MAX bytes, opened without blocking;
 * anything else is an error saying why ("not a regular file (a FIFO)",
 * "larger than N bytes").
 *
 * Peers file: one HOST[:PORT] per line (numeric address; port default
 * 7053), '#' comments, blank lines. Returns 0 with a malloc'd array the
 * caller frees, or -1 with "path:line: ..." in err. A missing file is -1
 * with errno ENOENT and no message.
 */
int conf_load_peers(const char *path, struct conf_addr **out, size_t *n,
    char *err, size_t errlen);
/*
 * The reader behind both loaders, for any file codnsd reads itself (a
 * resolv.conf, say): a regular file of at most max bytes, opened without
 * blocking, into a malloc'd NUL-terminated *text the caller frees. 0, or
 * -1 with errno set and, unless errno is ENOENT, "path: why" in err.
 */
int conf_read_file(const char *path, size_t max, char **text, size_t *len,
    char *err, size_t errlen);

/* The parser of conf_load_peers() on text in memory. */
int conf_parse_peers(const char *name, const char *text, size_t len,
    struct conf_addr **out, size_t *n, char *err, size_t errlen);

#endif
