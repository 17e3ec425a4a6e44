/* SPDX-License-Identifier: MIT */
/* codnsd/front/sockdiag.c: the owner of a local TCP peer, from inet_diag. */
#include "sockdiag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define SOCKDIAG_WAIT_MS 100 /* the kernel answers at once */

/* The address and port of a socket address in inet_diag's terms. */
static int
sockdiag_endpoint(const struct sockaddr_storage *ss, __be32 addr[4],
    __be16 *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		memcpy(addr, &sin->sin_addr, 4);
		*port = sin->sin_port;
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		memcpy(addr, &sin6->sin6_addr, 16);
		*port = sin6->sin6_port;
		return 0;
	}
	return -1;
}

/* Send one exact-match request (no dump) for the client's socket. */
static int
sockdiag_ask(int fd, const struct sockaddr_storage *local,
    const struct sockaddr_storage *peer)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = 1;
	req.r.sdiag_family = (__u8)peer->ss_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	/* The client's socket: its own end is peer, its remote is us. */
	if (sockdiag_endpoint(peer, req.r.id.idiag_src,
		&req.r.id.idiag_sport) == -1 ||
	    sockdiag_endpoint(local, req.r.id.idiag_dst,
		&req.r.id.idiag_dport) == -1)
		return -1;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] =
	    INET_DIAG_NOCOOKIE;
	return sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl,
		   sizeof(nl)) == (ssize_t)sizeof(req) ?
	    0 :
	    -1;
}

/* The answer: one inet_diag_msg, or an error message. */
static int
sockdiag_read(int fd, uid_t *uid)
{
	union {
		struct nlmsghdr nlh;
		uint8_t b[8192];
	} buf;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const struct nlmsghdr *h = &buf.nlh;
	const struct inet_diag_msg *m;
	ssize_t n;

	if (poll(&pfd, 1, SOCKDIAG_WAIT_MS) != 1)
		return -1;
	if ((n = recv(fd, &buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
		return -1;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -1;
	m = NLMSG_DATA(h);
	*uid = (uid_t)m->idiag_uid;
	return 0;
}

int
sockdiag_peer_uid(const struct sockaddr_storage *local,
    const struct sockaddr_storage *peer, uid_t *uid)
{
	int fd, rc = -1;

	if (local->ss_family != peer->ss_family)
		return -1;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1)
		return -1;
	if (sockdiag_ask(fd, local, peer) == 0)
		rc = sockdiag_read(fd, uid);
	close(fd);
	return rc;
}
