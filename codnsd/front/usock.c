/* SPDX-License-Identifier: MIT */
/* codnsd/front/usock.c: UNIX stream sockets of codnsd (lookup and control). */
#include "usock.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "handover.h"
#include "log.h"

/*
 * The directory: created if missing. The NSS module trusts a socket only
 * in a directory that no one but its owner may write (nss_codns.8), so an
 * existing directory writable by others is reported: lookups through it
 * would all be refused.
 */
static int
usock_mkdir(const char *path, const char *user, const char *what)
{
	char dir[PATH_MAX];
	struct passwd *pw;
	struct stat st;
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1) {
		if (errno != EEXIST) {
			log_warn("%s socket directory %s", what, dir);
			return -1;
		}
		if (stat(dir, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)))
			log_warnx("%s socket directory %s is writable by "
			    "others: nss_codns will not trust it", what, dir);
		return 0;
	}
	if (chmod(dir, 0755) == -1)
		log_warn("chmod %s", dir);
	if (user[0] != '\0' && (pw = getpwnam(user)) != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("chown %s", dir);
	return 0;
}

/* A socket file left by a daemon that died is removed; one that still
 * answers belongs to a running daemon, and anything else is not ours. */
static int
usock_clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s exists and is not a socket", sun->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		log_warnx("another codnsd is serving %s", sun->sun_path);
		return -1;
	}
	if (unlink(sun->sun_path) == -1) {
		log_warn("unlink %s", sun->sun_path);
		return -1;
	}
	return 0;
}

/* A listening socket from systemd or the codnsd replaced: its file is
 * there already, with the mode its creator gave it. */
static int
usock_inherited(struct usock *u, const struct sockaddr_un *sun)
{
	struct stat st;

	memcpy(u->path, sun->sun_path, sizeof(u->path));
	if (lstat(u->path, &st) == 0) {
		u->dev = st.st_dev;
		u->ino = st.st_ino;
	} else
		u->keep = 1; /* not ours to remove */
	handover_note(u->fd);
	return 0;
}

int
usock_listen(struct usock *u, const char *path, const char *user,
    mode_t mode, const char *what)
{
	struct sockaddr_un sun;
	struct passwd *pw;
	struct stat st;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if (addr_unix(&sun, path) == -1) {
		log_warnx("%s socket path too long: %s", what, path);
		return -1;
	}
	if ((u->fd = handover_take_unix(sun.sun_path, &u->keep)) != -1)
		return usock_inherited(u, &sun);
	if (usock_mkdir(sun.sun_path, user, what) == -1 ||
	    usock_clear_stale(&sun) == -1)
		return -1;
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (u->fd == -1 ||
	    bind(u->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("%s socket %s", what, sun.sun_path);
		return -1;
	}
	memcpy(u->path, sun.sun_path, sizeof(u->path));
	if (chmod(u->path, mode) == -1 || lstat(u->path, &st) == -1) {
		log_warn("%s socket %s", what, u->path);
		return -1;
	}
	if (user[0] != '\0' && (pw = getpwnam(user)) != NULL &&
	    chown(u->path, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("chown %s", u->path);
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	if (listen(u->fd, 128) == -1) {
		log_warn("listen %s", u->path);
		return -1;
	}
	handover_note(u->fd);
	return 0;
}

void
usock_close(struct usock *u)
{
	struct stat st;

	if (u->fd != -1)
		close(u->fd);
	u->fd = -1;
	/* Only our own socket: a second daemon may have replaced it, or
	 * it may be systemd's or the next codnsd's (handover.h). */
	if (u->path[0] != '\0' && !u->keep && !handover_given() &&
	    lstat(u->path, &st) == 0 &&
	    st.st_dev == u->dev && st.st_ino == u->ino &&
	    unlink(u->path) == -1)
		log_warn("unlink %s", u->path);
	u->path[0] = '\0';
}
