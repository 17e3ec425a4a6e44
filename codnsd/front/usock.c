/* SPDX-License-Identifier: MIT */
/* codnsd/front/usock.c: UNIX stream sockets of codnsd (lookup and control). */
#include "usock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "handover.h"
#include "log.h"

/*
 * A directory the daemon may create in or pass through: owned by root or
 * by the daemon, and writable by no one else unless it is sticky (/tmp),
 * where others can add entries but not replace ours. Otherwise someone
 * else could swap what lies below it for a path of their choosing.
 */
static int
usock_trusted(int fd, const char *dir, const char *want, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		log_warn("%s socket: %s", what, dir);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		log_warnx("%s socket: %s is owned by uid %u: create %s "
		    "yourself", what, dir, (unsigned)st.st_uid, want);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		log_warnx("%s socket: %s is writable by others: create %s "
		    "yourself", what, dir, want);
		return -1;
	}
	return 0;
}

/* One step down from fd to its entry name, made root-owned (the daemon's
 * euid) with mode 0755 if missing; never through a symbolic link. */
static int
usock_step(int fd, const char *name, const char *path, const char *what)
{
	int next;

	next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (next == -1 && errno == ENOENT) {
		if (mkdirat(fd, name, 0755) == -1 && errno != EEXIST) {
			log_warn("%s socket: mkdir %s", what, path);
			return -1;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next != -1 && fchmod(next, 0755) == -1)
			log_warn("chmod %s", path);
	}
	if (next == -1)
		log_warn("%s socket: %s", what, path);
	return next;
}

/*
 * The missing parents of a socket directory (a plain ./configure puts it
 * in /usr/local/var/run, which nothing creates). Symbolic links in the
 * part that exists (/var/run -> /run) are resolved first; then the whole
 * resolved path is walked again from / without following any link, each
 * directory checked by usock_trusted before anything is made below it.
 */
static int
usock_mkparents(const char *dir, const char *want, const char *what)
{
	char have[PATH_MAX], real[PATH_MAX], path[PATH_MAX], walked[PATH_MAX];
	char *slash, *name, *save;
	size_t len;
	int fd, next, rc = -1;

	if (dir[0] != '/' || snprintf(have, sizeof(have), "%s", dir) >=
	    (int)sizeof(have)) {
		log_warnx("%s socket: cannot create %s", what, dir);
		return -1;
	}
	while (realpath(have, real) == NULL) {
		if (errno != ENOENT || (slash = strrchr(have, '/')) == NULL) {
			log_warn("%s socket: %s", what, have);
			return -1;
		}
		slash[slash == have ? 1 : 0] = '\0';
	}
	if (snprintf(path, sizeof(path), "%s/%s", real,
	    dir + strlen(have)) >= (int)sizeof(path) ||
	    (fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warnx("%s socket: cannot create %s", what, dir);
		return -1;
	}
	walked[0] = '\0';
	for (name = strtok_r(path, "/", &save); name != NULL;
	    name = strtok_r(NULL, "/", &save)) {
		if (usock_trusted(fd, walked[0] ? walked : "/", want,
		    what) == -1)
			goto done;
		len = strlen(walked);
		snprintf(walked + len, sizeof(walked) - len, "/%s", name);
		if ((next = usock_step(fd, name, walked, what)) == -1)
			goto done;
		close(fd);
		fd = next;
	}
	rc = usock_trusted(fd, walked[0] ? walked : "/", want, what);
done:
	close(fd);
	return rc;
}

/*
 * The directory: created if missing, with its parents. The NSS module
 * trusts a socket only in a directory that no one but its owner may write
 * (nss_codns.8), so an existing directory writable by others is reported:
 * lookups through it would all be refused.
 */
static int
usock_mkdir(const char *path, const char *user, const char *what)
{
	char dir[PATH_MAX], parent[PATH_MAX];
	struct passwd *pw;
	struct stat st;
	char *slash;
	int rc;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	rc = mkdir(dir, 0755);
	if (rc == -1 && errno == ENOENT) {
		memcpy(parent, dir, sizeof(parent));
		slash = strrchr(parent, '/');
		slash[slash == parent ? 1 : 0] = '\0';
		if (usock_mkparents(parent, dir, what) == -1)
			return -1;
		rc = mkdir(dir, 0755);
	}
	if (rc == -1) {
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

int
usock_backlog(struct usock *u, int backlog)
{
	/* listen() again on a listening socket sets its backlog (Linux). */
	if (listen(u->fd, backlog) == -1) {
		log_warn("listen %s", u->path);
		return -1;
	}
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
