/* SPDX-License-Identifier: MIT */
/* libcodns/client.c: blocking client for the codnsd lookup protocol. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "codns.h"
#include "proto.h"
#include "shmtab.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define CLIENT_RUN_DIR RUNSTATEDIR "/codnsd"
#define CLIENT_DEFAULT_SOCKET CLIENT_RUN_DIR "/lookup.sock"

struct codns_client {
	int fd;
	int timeout_ms;
	uint32_t next_id;
};

struct codns_result {
	struct proto_answer a;
};

static int64_t
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Set by the NSS module (client_set_alive() in shmtab.h). */
static int (*client_alive)(void);
#define CLIENT_ALIVE_SLICE_MS 500

void
client_set_alive(int (*alive)(void))
{
	__atomic_store_n(&client_alive, alive, __ATOMIC_RELAXED);
}

/* Wait for events on fd until the absolute deadline; 0, or -1 + errno.
 * With an alive check, a daemon that stops beating ends the wait early. */
static int
client_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int (*alive)(void) = __atomic_load_n(&client_alive, __ATOMIC_RELAXED);
	int64_t left;
	int n;

	for (;;) {
		left = deadline - client_now_ms();
		if (left <= 0 || (alive != NULL && !alive())) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (alive != NULL && left > CLIENT_ALIVE_SLICE_MS)
			left = CLIENT_ALIVE_SLICE_MS;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static int
client_connect(int fd, const struct sockaddr *sa, socklen_t len, int64_t dl)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	if (client_wait(fd, POLLOUT, dl) == -1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
client_dir_trusted(const struct stat *dir)
{
	struct stat run;

	if (!S_ISDIR(dir->st_mode) || (dir->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	if (dir->st_uid == 0 || dir->st_uid == geteuid())
		return 1;
	/* The daemon's user: the one root gave the default run directory
	 * to (systemd's RuntimeDirectory, or codnsd before it dropped
	 * privileges). Any other user's directory, however closed, is
	 * that user's to fill. */
	return stat(CLIENT_RUN_DIR, &run) == 0 && S_ISDIR(run.st_mode) &&
	    (run.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
	    run.st_uid == dir->st_uid;
}

/*
 * The trust rule for a UNIX socket (nss_codns.8): the server is root or
 * the owner of the socket's directory, and that directory passes
 * client_dir_trusted(), so no other user can have put a socket there. A
 * loopback TCP port has no such owner: anyone may bind it while codnsd is
 * down.
 */
static int
client_trust(int fd, const char *path)
{
	char dir[PATH_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat st;
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    stat(dir, &st) == -1)
		return -1;
	if (!client_dir_trusted(&st) ||
	    (cred.uid != 0 && cred.uid != st.st_uid)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int
client_open_unix(struct codns_client *c, const char *path)
{
	struct sockaddr_un sun;

	if (addr_unix(&sun, path) == -1)
		return -1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	/* A full backlog says EAGAIN at once: a daemon that busy or hung
	 * is unavailable, not worth waiting for. */
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	return client_trust(c->fd, path);
}

static int
client_open_tcp(struct codns_client *c, const char *address)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int one = 1;

	if (addr_parse(address, 7053, &ss, &sslen) == -1) {
		errno = EINVAL;
		return -1;
	}
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return client_connect(c->fd, (struct sockaddr *)&ss, sslen,
	    client_now_ms() + c->timeout_ms);
}

const char *
codns_client_default(void)
{
	const char *s;

	if ((s = secure_getenv(CODNS_ADDRESS_ENV)) != NULL && *s != '\0')
		return s;
	if ((s = secure_getenv(CODNS_SOCKET_ENV)) != NULL && *s != '\0')
		return s;
	return CLIENT_DEFAULT_SOCKET;
}

int
codns_client_open(struct codns_client **out, const char *address,
    int timeout_ms)
{
	struct codns_client *c;
	int saved, rc;

	*out = NULL;
	if (address == NULL)
		address = codns_client_default();
	if (timeout_ms <= 0) {
		errno = EINVAL;
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	if (address[0] == '/')
		rc = client_open_unix(c, address);
	else
		rc = client_open_tcp(c, address);
	if (rc == -1)
		goto fail;
	*out = c;
	return 0;
fail:
	saved = errno;
	codns_client_close(c);
	errno = saved;
	return -1;
}

void
codns_client_close(struct codns_client *c)
{
	int saved = errno;

	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c);
	errno = saved;
}

static int
client_send(struct codns_client *c, const uint8_t *p, size_t len, int64_t dl)
{
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (client_wait(c->fd, POLLOUT, dl) == -1)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

/* Read exactly len bytes before the deadline. */
static int
client_recv(struct codns_client *c, uint8_t *p, size_t len, int64_t dl)
{
	ssize_t n;

	while (len > 0) {
		n = recv(c->fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (client_wait(c->fd, POLLIN, dl) == -1)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

static int
client_exchange(struct codns_client *c, struct proto_request *req,
    struct codns_result **out)
{
	uint8_t frame[PROTO_HDR_LEN + PROTO_FRAME_MAX];
	struct codns_result *r;
	struct buf b;
	int64_t dl = client_now_ms() + c->timeout_ms;
	size_t n;
	uint32_t id;

	*out = NULL;
	req->id = c->next_id++;
	buf_init_write(&b, frame, sizeof(frame));
	if (proto_request_encode(&b, req) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (client_send(c, frame, b.pos, dl) == -1 ||
	    client_recv(c, frame, PROTO_HDR_LEN, dl) == -1)
		return -1;
	n = (size_t)frame[0] << 8 | frame[1];
	if (n == 0 || n > PROTO_FRAME_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (client_recv(c, frame, n, dl) == -1)
		return -1;
	if ((r = malloc(sizeof(*r))) == NULL)
		return -1;
	if (proto_response_decode(frame, n, &id, &r->a) == -1 ||
	    id != req->id) {
		free(r);
		errno = EPROTO;
		return -1;
	}
	*out = r;
	return 0;
}

struct codns_result *
client_result_new(const struct proto_answer *a)
{
	struct codns_result *r;

	if ((r = malloc(sizeof(*r))) != NULL)
		r->a = *a;
	return r;
}

int
codns_lookup(struct codns_client *c, const char *name, int family,
    struct codns_result **out)
{
	struct proto_request req;

	memset(&req, 0, sizeof(req));
	req.kind = PROTO_KIND_FORWARD;
	req.family = (uint8_t)family;
	if ((family != CODNS_AF_UNSPEC && proto_addr_len(req.family) == 0) ||
	    strlen(name) > PROTO_QNAME_MAX || !proto_name_valid(name)) {
		*out = NULL;
		errno = EINVAL;
		return -1;
	}
	strcpy(req.name, name);
	return client_exchange(c, &req, out);
}

int
codns_lookup_addr(struct codns_client *c, int family, const void *addr,
    struct codns_result **out)
{
	struct proto_request req;
	size_t alen = proto_addr_len((uint8_t)family);

	memset(&req, 0, sizeof(req));
	if (alen == 0) {
		*out = NULL;
		errno = EINVAL;
		return -1;
	}
	req.kind = PROTO_KIND_REVERSE;
	req.family = (uint8_t)family;
	memcpy(req.addr, addr, alen);
	return client_exchange(c, &req, out);
}

int
client_report(struct codns_client *c, uint32_t hits)
{
	uint8_t frame[PROTO_HDR_LEN + 8];
	struct buf b;

	buf_init_write(&b, frame, sizeof(frame));
	if (proto_report_encode(&b, hits) == -1)
		return -1;
	return client_send(c, frame, b.pos, client_now_ms() + c->timeout_ms);
}

struct codns_result *
client_result_alloc(struct proto_answer **a)
{
	struct codns_result *r = malloc(sizeof(*r));

	*a = r != NULL ? &r->a : NULL;
	return r;
}

void
codns_result_free(struct codns_result *r)
{
	free(r);
}

enum codns_status
codns_result_status(const struct codns_result *r)
{
	return (enum codns_status)r->a.status;
}

uint32_t
codns_result_ttl(const struct codns_result *r)
{
	return r->a.ttl;
}

const char *
codns_result_name(const struct codns_result *r)
{
	return r->a.cname;
}

size_t
codns_result_naliases(const struct codns_result *r)
{
	return r->a.naliases;
}

const char *
codns_result_alias(const struct codns_result *r, size_t i)
{
	return i < r->a.naliases ? r->a.aliases[i] : NULL;
}

size_t
codns_result_naddrs(const struct codns_result *r)
{
	return r->a.naddrs;
}

int
codns_result_addr(const struct codns_result *r, size_t i, void *out)
{
	if (i >= r->a.naddrs)
		return CODNS_AF_UNSPEC;
	memcpy(out, r->a.addrs[i].a, proto_addr_len(r->a.addrs[i].family));
	return r->a.addrs[i].family;
}

enum codns_source
codns_result_source(const struct codns_result *r)
{
	return (enum codns_source)r->a.source;
}

const char *
codns_result_peer(const struct codns_result *r)
{
	return r->a.peer;
}

uint32_t
codns_result_latency_us(const struct codns_result *r)
{
	return r->a.latency_us;
}

const char *
codns_status_str(enum codns_status s)
{
	static const char *const names[] = { "found", "not found", "no data",
		"try again", "unavailable" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *
codns_source_str(enum codns_source s)
{
	static const char *const names[] = { "none", "cache", "local",
		"peer", "stale" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
