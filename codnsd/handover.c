/* SPDX-License-Identifier: MIT */
/* codnsd/handover.c: listening sockets that outlive the process. */
#include "handover.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define HANDOVER_FD0 3		/* SD_LISTEN_FDS_START */
#define HANDOVER_WAIT_MS 10000	/* the old codnsd writes its cache first */
#define HANDOVER_REPLY_MAX 256

/* One listening socket: its fd, type and bound address. */
struct handover_sock {
	int fd;
	int type;
	struct sockaddr_storage ss;
	socklen_t len;
	int systemd; /* from socket activation: its file is systemd's */
};

/* The inherited sockets not yet taken, and the ones this codnsd listens
 * on (for a later handover). One of each per process, as the process
 * has one set of listeners. */
static struct handover_sock pool[HANDOVER_MAX];
static size_t npool;
static struct handover_sock noted[HANDOVER_MAX];
static size_t nnoted;
static int given;
static int predecessor = -1; /* the replaced codnsd's control connection */

static int
handover_describe(int fd, struct handover_sock *s)
{
	socklen_t tlen = sizeof(s->type);

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->len = sizeof(s->ss);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &s->type, &tlen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&s->ss, &s->len) == -1)
		return -1;
	return 0;
}

static void
handover_pool_add(int fd, int systemd)
{
	int fl;

	if (npool == HANDOVER_MAX ||
	    handover_describe(fd, &pool[npool]) == -1) {
		log_warnx("inherited fd %d: not a socket, or too many", fd);
		close(fd);
		return;
	}
	/* systemd passes them without O_NONBLOCK and FD_CLOEXEC. */
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	pool[npool++].systemd = systemd;
}

int
handover_from_env(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n, i;

	if (pid == NULL || fds == NULL)
		return 0;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0; /* meant for another process */
	n = strtol(fds, &end, 10);
	if (*end != '\0' || n < 0 || n > HANDOVER_MAX) {
		log_warnx("LISTEN_FDS=%s: ignored", fds);
		return -1;
	}
	for (i = 0; i < n; i++)
		handover_pool_add(HANDOVER_FD0 + (int)i, 1);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	log_info("socket activation: %ld sockets", n);
	return (int)n;
}

static int
handover_same(const struct handover_sock *s, const struct sockaddr *sa,
    socklen_t len, int type)
{
	const struct sockaddr_in *a4 = (const void *)&s->ss, *b4 = (const void *)sa;
	const struct sockaddr_in6 *a6 = (const void *)&s->ss,
				  *b6 = (const void *)sa;

	if (s->fd == -1 || s->type != type || s->ss.ss_family != sa->sa_family)
		return 0;
	switch (sa->sa_family) {
	case AF_INET:
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	case AF_UNIX:
		return s->len == len &&
		    memcmp(&s->ss, sa, (size_t)len) == 0;
	}
	return 0;
}

static int
handover_pool_take(const struct sockaddr *sa, socklen_t len, int type,
    int *systemd)
{
	size_t i;
	int fd;

	for (i = 0; i < npool; i++)
		if (handover_same(&pool[i], sa, len, type)) {
			fd = pool[i].fd;
			pool[i].fd = -1;
			if (systemd != NULL)
				*systemd = pool[i].systemd;
			return fd;
		}
	return -1;
}

int
handover_take(const struct conf_addr *a, int type)
{
	return handover_pool_take((const struct sockaddr *)&a->ss, a->len, type,
	    NULL);
}

int
handover_take_unix(const char *path, int *keep_file)
{
	struct sockaddr_un sun;
	size_t n = strlen(path);

	*keep_file = 0;
	if (n >= sizeof(sun.sun_path))
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n + 1);
	/* getsockname() gives the path and its NUL. */
	return handover_pool_take((struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1),
	    SOCK_STREAM, keep_file);
}

void
handover_close_unused(void)
{
	size_t i;

	for (i = 0; i < npool; i++)
		if (pool[i].fd != -1) {
			log_warnx("inherited socket fd %d matches no listener "
			    "of the configuration: closed", pool[i].fd);
			close(pool[i].fd);
			pool[i].fd = -1;
		}
	npool = 0;
}

void
handover_note(int fd)
{
	if (nnoted < HANDOVER_MAX && handover_describe(fd, &noted[nnoted]) == 0)
		nnoted++;
}

/* A noted socket still open as noted (not closed by a reload since). */
static int
handover_still(const struct handover_sock *s)
{
	struct handover_sock now;

	return handover_describe(s->fd, &now) == 0 && now.type == s->type &&
	    handover_same(s, (struct sockaddr *)&now.ss, now.len, now.type);
}

int
handover_send(int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * HANDOVER_MAX)];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	char line[32];
	int fds[HANDOVER_MAX];
	size_t i, n = 0;

	for (i = 0; i < nnoted; i++)
		if (handover_still(&noted[i]))
			fds[n++] = noted[i].fd;
	/* The control reply with it: the old codnsd may be gone before
	 * ctl writes its own. */
	snprintf(line, sizeof(line), "fds %zu\nok\n", n);
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = line;
	iov.iov_len = strlen(line);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (n > 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len)
		return -1;
	given = 1;
	log_info("handed %zu listening sockets over", n);
	return 0;
}

int
handover_given(void)
{
	return given;
}

void
handover_cancel(void)
{
	given = 0;
}

void
handover_ready(void)
{
	if (predecessor == -1)
		return;
	if (send(predecessor, "ready\n", 6, MSG_NOSIGNAL) != 6)
		log_warn("replace: telling the old codnsd");
	close(predecessor);
	predecessor = -1;
}

/* --- the new side of -R ------------------------------------------------ */

static int
handover_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Take the fds of one SCM_RIGHTS message into the pool. */
static void
handover_take_rights(struct msghdr *msg)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			handover_pool_add(fd, 0);
		}
	}
}

/* The reply is whole when a line follows "fds N" (or an error came):
 * the old codnsd then drains for up to a second before it closes. */
static int
handover_reply_whole(const char *reply)
{
	const char *nl = strchr(reply, '\n');

	if (nl == NULL)
		return 0;
	return strncmp(reply, "fds ", 4) != 0 || strchr(nl + 1, '\n') != NULL;
}

/* Read the reply, fds and all, until it is whole or the old codnsd
 * closes. */
static int
handover_read(int fd, char *reply, size_t len)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * HANDOVER_MAX)];
	} cm;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct msghdr msg;
	struct iovec iov;
	size_t off = 0;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, HANDOVER_WAIT_MS) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = reply + off;
		iov.iov_len = len - 1 - off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		if ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		handover_take_rights(&msg);
		if (n == 0 || (off += (size_t)n) == len - 1)
			break;
		reply[off] = '\0';
		if (handover_reply_whole(reply))
			break;
	}
	reply[off] = '\0';
	return 0;
}

int
handover_request(const char *ctlpath, char *err, size_t errlen)
{
	char reply[HANDOVER_REPLY_MAX], *ok;
	int fd;

	if ((fd = handover_connect(ctlpath)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return 0;
		snprintf(err, errlen, "replace: %s: %s", ctlpath,
		    strerror(errno));
		return -1;
	}
	if (send(fd, "handover\n", 9, MSG_NOSIGNAL) != 9 ||
	    handover_read(fd, reply, sizeof(reply)) == -1) {
		snprintf(err, errlen, "replace: %s: %s", ctlpath,
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* "fds N" then the control reply, "ok" or "error ..." */
	ok = strncmp(reply, "fds ", 4) == 0 ? strchr(reply, '\n') : reply;
	ok = ok == NULL ? reply : ok + (*ok == '\n');
	if (strncmp(ok, "ok", 2) != 0) {
		snprintf(err, errlen, "replace: the running codnsd says: %.*s",
		    (int)strcspn(ok, "\n"), ok);
		handover_close_unused();
		close(fd);
		return -1;
	}
	predecessor = fd;
	log_info("replace: %zu sockets from the running codnsd", npool);
	return 1;
}
