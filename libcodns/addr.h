/* SPDX-License-Identifier: MIT */
/* libcodns/addr.h: parsing and printing of socket addresses with ports. */
#ifndef CODNS_ADDR_H
#define CODNS_ADDR_H

#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN 64 /* "[ipv6%scope]:port" and a NUL */

/* A socket address and its length, as configs and resolv.conf give them. */
struct conf_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/*
 * Parse "IPv4", "IPv4:PORT", "IPv6", "[IPv6]" or "[IPv6]:PORT" (numeric
 * only, no name lookups). A missing port is defport. 0, or -1 on bad input.
 */
int addr_parse(const char *, uint16_t defport, struct sockaddr_storage *,
    socklen_t *);
/* "1.2.3.4:53" or "[::1]:53" into out (ADDR_STRLEN bytes). */
const char *addr_format(const struct sockaddr *, char *out, size_t);
int addr_equal(const struct sockaddr *, const struct sockaddr *);
uint16_t addr_port(const struct sockaddr *);

struct sockaddr_un;
/* The address of the UNIX socket at path: 0, or -1 with errno
 * ENAMETOOLONG when path does not fit in sun_path. */
int addr_unix(struct sockaddr_un *, const char *path);

#endif
