/* SPDX-License-Identifier: MIT */
/* codnsctl/ctlcmd.c: codnsctl's side of the control socket protocol. */
#include "ctlcmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"

#define CTLCMD_TIMEOUT_SEC 10
#define CTLCMD_LINE_MAX 1024            /* the daemon's CTL_LINE_MAX */
#define CTLCMD_REPLY_MAX (16 << 20)     /* a sane bound on any reply */

/* Join argv into the request line; words must be printable ASCII
 * without spaces, since the daemon splits on spaces. */
static int
ctlcmd_line(int json, int argc, char *argv[], char *line, size_t len)
{
	size_t off = 0;
	const char *p;
	int i, n;

	if (json) {
		n = snprintf(line, len, "json ");
		off = (size_t)n;
	}
	for (i = 0; i < argc; i++) {
		for (p = argv[i]; *p != '\0'; p++)
			if (*p <= 0x20 || *p > 0x7e) {
				fprintf(stderr,
				    "codnsctl: %s: bad character in argument\n",
				    argv[i]);
				return -1;
			}
		n = snprintf(line + off, len - off, "%s%s", i ? " " : "",
		    argv[i]);
		if (n < 0 || (size_t)n >= len - off - 1) {
			fprintf(stderr, "codnsctl: request too long\n");
			return -1;
		}
		off += (size_t)n;
	}
	line[off++] = '\n';
	line[off] = '\0';
	return 0;
}

static int
ctlcmd_connect(const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv = { CTLCMD_TIMEOUT_SEC, 0 };
	int fd;

	if (addr_unix(&sun, path) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* On Linux SO_SNDTIMEO also bounds a connect to a full backlog. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved == EAGAIN ? ETIMEDOUT : saved;
		return -1;
	}
	return fd;
}

static int
ctlcmd_send(int fd, const char *line)
{
	size_t off = 0, len = strlen(line);
	ssize_t n;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Read until the daemon closes; NUL-terminated, length in *len. */
static char *
ctlcmd_recv(int fd, size_t *len)
{
	char *p = NULL, *np;
	size_t cap = 0, off = 0;
	ssize_t n;

	for (;;) {
		if (cap - off < 4096) {
			if (cap >= CTLCMD_REPLY_MAX) {
				errno = EMSGSIZE;
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			if ((np = realloc(p, cap + 1)) == NULL)
				goto fail;
			p = np;
		}
		n = recv(fd, p + off, cap - off, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	p[off] = '\0';
	*len = off;
	return p;
fail:
	free(p);
	return NULL;
}

int
ctlcmd_run(const char *socket_path, int json, int argc, char *argv[])
{
	char line[CTLCMD_LINE_MAX + 1], *reply = NULL, *nl;
	size_t len;
	int fd, rc = 2;

	if (ctlcmd_line(json, argc, argv, line, sizeof(line)) == -1)
		return 2;
	if ((fd = ctlcmd_connect(socket_path)) == -1) {
		fprintf(stderr, "codnsctl: cannot reach codnsd at %s: %s\n",
		    socket_path, strerror(errno));
		return 2;
	}
	if (ctlcmd_send(fd, line) == -1 ||
	    (reply = ctlcmd_recv(fd, &len)) == NULL) {
		fprintf(stderr, "codnsctl: %s: %s\n", socket_path,
		    strerror(errno));
		goto done;
	}
	if ((nl = memchr(reply, '\n', len)) == NULL ||
	    memchr(reply, '\0', len) != NULL) {
		fprintf(stderr, "codnsctl: malformed reply from codnsd\n");
		goto done;
	}
	*nl = '\0';
	if (strcmp(reply, "ok") == 0) {
		fwrite(nl + 1, 1, len - (size_t)(nl + 1 - reply), stdout);
		rc = fflush(stdout) == 0 ? 0 : 2;
	} else if (strncmp(reply, "error ", 6) == 0) {
		fprintf(stderr, "codnsctl: %s\n", reply + 6);
		rc = 1;
	} else
		fprintf(stderr, "codnsctl: malformed reply from codnsd\n");
done:
	free(reply);
	close(fd);
	return rc;
}
