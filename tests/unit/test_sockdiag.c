/* SPDX-License-Identifier: MIT */
/* tests/unit/test_sockdiag.c: the owner of a loopback TCP peer, asked of
 * the kernel (inet_diag), on real loopback sockets of this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockdiag.h"

/* A connection over 127.0.0.1 from a socket made by uid (when root);
 * the accepted end's addresses in *local and *peer. */
struct pair {
	int lfd, cfd, afd;
	struct sockaddr_storage local, peer;
};

/* A message of one byte with room for one passed fd. */
struct fdmsg {
	struct msghdr m;
	struct iovec iov;
	char c;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
};

static void
fdmsg_init(struct fdmsg *f)
{
	memset(f, 0, sizeof(*f));
	f->iov.iov_base = &f->c;
	f->iov.iov_len = 1;
	f->m.msg_iov = &f->iov;
	f->m.msg_iovlen = 1;
	f->m.msg_control = f->u.b;
	f->m.msg_controllen = sizeof(f->u.b);
}

static void
pair_open(struct pair *p, uid_t uid)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	pid_t pid;
	int st, sv[2];

	memset(p, 0, sizeof(*p));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &len),
	    0);
	/* The client socket is made by a child of that uid and handed
	 * back, so that the kernel records uid as its owner. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((pid = fork()) == 0) {
		struct fdmsg f;
		struct msghdr *m = &f.m;
		int fd;

		if (uid != getuid() && setuid(uid) == -1)
			_exit(1);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			_exit(1);
		fdmsg_init(&f);
		CMSG_FIRSTHDR(m)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(m)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(m)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(m)), &fd, sizeof(int));
		_exit(sendmsg(sv[1], m, 0) == 1 ? 0 : 1);
	}
	assert_true(pid > 0);
	{
		struct fdmsg f;

		fdmsg_init(&f);
		assert_int_equal(recvmsg(sv[0], &f.m, 0), 1);
		memcpy(&p->cfd, CMSG_DATA(CMSG_FIRSTHDR(&f.m)), sizeof(int));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	close(sv[0]);
	close(sv[1]);
	p->afd = accept(p->lfd, NULL, NULL);
	assert_true(p->afd >= 0);
	len = sizeof(p->local);
	assert_int_equal(getsockname(p->afd, (struct sockaddr *)&p->local,
	    &len), 0);
	len = sizeof(p->peer);
	assert_int_equal(getpeername(p->afd, (struct sockaddr *)&p->peer,
	    &len), 0);
}

static void
pair_close(struct pair *p)
{
	close(p->afd);
	close(p->cfd);
	close(p->lfd);
}

/* Our own connection: our uid. */
static void
test_own(void **state)
{
	struct pair p;
	uid_t uid = (uid_t)-2;

	(void)state;
	pair_open(&p, getuid());
	assert_int_equal(sockdiag_peer_uid(&p.local, &p.peer, &uid), 0);
	assert_int_equal(uid, getuid());
	pair_close(&p);
}

/* As root: a client socket made by nobody (65534) is nobody's. */
static void
test_other_uid(void **state)
{
	struct pair p;
	uid_t uid = 0;

	(void)state;
	if (getuid() != 0)
		skip();
	pair_open(&p, 65534);
	assert_int_equal(sockdiag_peer_uid(&p.local, &p.peer, &uid), 0);
	assert_int_equal(uid, 65534);
	pair_close(&p);
}

/* A client that is gone, or an address nobody holds: no answer. */
static void
test_gone(void **state)
{
	struct pair p;
	struct sockaddr_in *sin;
	uid_t uid;

	(void)state;
	pair_open(&p, getuid());
	sin = (struct sockaddr_in *)&p.peer;
	sin->sin_port = htons((uint16_t)(ntohs(sin->sin_port) ^ 1));
	assert_int_equal(sockdiag_peer_uid(&p.local, &p.peer, &uid), -1);
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own),
		cmocka_unit_test(test_other_uid),
		cmocka_unit_test(test_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
