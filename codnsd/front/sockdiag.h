/* SPDX-License-Identifier: MIT */
/* codnsd/front/sockdiag.h: the owner of a local TCP peer, from inet_diag. */
#ifndef CODNSD_SOCKDIAG_H
#define CODNSD_SOCKDIAG_H

#include <sys/socket.h>
#include <sys/types.h>

/*
 * The uid that owns the socket at the other end of a loopback TCP
 * connection: local is our end's address, peer the client's. The kernel
 * knows it (NETLINK_SOCK_DIAG, what `ss -e` shows); codnsd asks for the
 * one socket whose own address is peer and whose remote is local. 0, or
 * -1 when the kernel cannot say (no such socket any more, no netlink).
 */
int sockdiag_peer_uid(const struct sockaddr_storage *local,
    const struct sockaddr_storage *peer, uid_t *uid);

#endif
