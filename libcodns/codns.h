/* SPDX-License-Identifier: MIT */
/* libcodns/codns.h: client API for the codnsd lookup protocol. */
#ifndef CODNS_H
#define CODNS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CODNS_DEFAULT_ADDRESS "127.0.0.1:7053" /* codnsd's TCP listener */
#define CODNS_ADDRESS_ENV "CODNS_LOOKUP_ADDRESS"
#define CODNS_SOCKET_ENV "CODNS_LOOKUP_SOCKET"

/* Status of an answer, as sent by codnsd. */
enum codns_status {
	CODNS_FOUND = 0,    /* addresses (or a PTR name) follow */
	CODNS_NOTFOUND = 1, /* NXDOMAIN */
	CODNS_NODATA = 2,   /* the name exists, no record of that family */
	CODNS_TRYAGAIN = 3, /* temporary failure: timeout, SERVFAIL */
	CODNS_UNAVAIL = 4,  /* codnsd cannot resolve at all (bad request...) */
};

/* Who answered. */
enum codns_source {
	CODNS_SRC_NONE = 0,
	CODNS_SRC_CACHE = 1,
	CODNS_SRC_LOCAL = 2,
	CODNS_SRC_PEER = 3,
	CODNS_SRC_STALE = 4, /* expired cache entry: every source failed */
};

/* Address families on the wire (not AF_* values, which are host-specific). */
enum codns_family {
	CODNS_AF_UNSPEC = 0,
	CODNS_AF_INET = 4,
	CODNS_AF_INET6 = 6,
};

struct codns_client;
struct codns_result;

/*
 * Connect to codnsd at address: the path of its UNIX lookup socket
 * (anything starting with '/'), or a TCP listener ("IPv4:PORT" or
 * "[IPv6]:PORT"). NULL means codns_client_default().
 *
 * A UNIX socket is trusted only if its server (SO_PEERCRED) is root or
 * the owner of the socket's directory, and that directory is writable by
 * no one else; otherwise the connection is closed and errno is EPERM. A
 * TCP listener cannot be checked: any local user may bind a loopback
 * port while codnsd is down, so use one only where that does not matter.
 *
 * timeout_ms bounds the connect and every later exchange. Returns 0, or -1
 * with errno set (ENOENT, ECONNREFUSED, EAGAIN, ETIMEDOUT, EPERM, EINVAL,
 * ENOMEM...). The caller owns *out and frees it with codns_client_close().
 */
int codns_client_open(struct codns_client **out, const char *address,
    int timeout_ms);
void codns_client_close(struct codns_client *);

/*
 * Where codns_client_open(..., NULL, ...) connects: $CODNS_LOOKUP_ADDRESS
 * when set (TCP), else $CODNS_LOOKUP_SOCKET, else codnsd's default
 * lookup socket ($runstatedir/codnsd/lookup.sock, fixed at build time).
 * Both variables are read with secure_getenv(), so set-uid programs
 * always use the default socket. The string is not to be freed.
 */
const char *codns_client_default(void);

/*
 * Resolve name for family (enum codns_family), or an address (4 or 16
 * bytes for CODNS_AF_INET / CODNS_AF_INET6) to names. On 0 the caller owns
 * *out (free it with codns_result_free()); any status, even NOTFOUND, is a
 * successful exchange. -1 with errno means no answer was had (EPROTO for a
 * malformed reply); the connection is then unusable.
 */
int codns_lookup(struct codns_client *, const char *name, int family,
    struct codns_result **out);
int codns_lookup_addr(struct codns_client *, int family, const void *addr,
    struct codns_result **out);
void codns_result_free(struct codns_result *);

enum codns_status codns_result_status(const struct codns_result *);
uint32_t codns_result_ttl(const struct codns_result *);
/* Canonical name (forward) or the PTR name (reverse); "" when none. */
const char *codns_result_name(const struct codns_result *);
size_t codns_result_naliases(const struct codns_result *);
const char *codns_result_alias(const struct codns_result *, size_t);
size_t codns_result_naddrs(const struct codns_result *);
/* Copies address i into out (16 bytes room) and returns its family. */
int codns_result_addr(const struct codns_result *, size_t, void *out);
enum codns_source codns_result_source(const struct codns_result *);
/* The peer that answered ("ADDR:PORT"), "" unless the source is a peer. */
const char *codns_result_peer(const struct codns_result *);
uint32_t codns_result_latency_us(const struct codns_result *);

const char *codns_status_str(enum codns_status);
const char *codns_source_str(enum codns_source);

#ifdef __cplusplus
}
#endif
#endif
