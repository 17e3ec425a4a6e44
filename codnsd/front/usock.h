/* SPDX-License-Identifier: MIT */
/* codnsd/front/usock.h: UNIX stream sockets of codnsd (lookup and control). */
#ifndef CODNSD_USOCK_H
#define CODNSD_USOCK_H

#include <sys/types.h>

/* A bound socket file: enough to unlink it only if it is still ours. */
struct usock {
	int fd;
	dev_t dev;
	ino_t ino;
	int keep; /* systemd's socket file: never unlinked */
	char path[108]; /* sizeof(sun_path) */
};

/*
 * Bind and listen on path with the given file mode. Its directory is
 * created if missing (mode 0755, owned by user when set, so that the
 * daemon can remove the socket after dropping privileges); a stale
 * socket file is removed; a socket another daemon answers on is an
 * error. what names the socket in log messages. 0, or -1 (logged).
 */
/* A shorter queue of connections not yet accepted than usock_listen()'s
 * 128 (inherited sockets too). */
int usock_backlog(struct usock *, int backlog);
int usock_listen(struct usock *, const char *path, const char *user,
    mode_t mode, const char *what);
/* Close the socket and unlink its file unless it was replaced. */
void usock_close(struct usock *);

#endif
