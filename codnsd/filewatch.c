/* SPDX-License-Identifier: MIT */
/* codnsd/filewatch.c: a file followed through libev's ev_stat (inotify). */
#include "filewatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * libev compares the stat data in whole seconds: a second write within
 * the second of the first, of the same size, raises no event (libev(3),
 * "the special problem of stat time resolution"). So while the file's
 * ctime is that recent, the owner looks again once the second is over,
 * plus a margin.
 */
#define FILEWATCH_SETTLE_S 1.02

static void
filewatch_settle_arm(struct filewatch *fw)
{
	struct stat st;
	ev_tstamp at, now = ev_now(fw->loop);

	if (stat(fw->path, &st) == -1)
		return;
	at = (ev_tstamp)st.st_ctim.tv_sec + FILEWATCH_SETTLE_S;
	if (at <= now)
		return;
	ev_timer_stop(fw->loop, &fw->settle);
	ev_timer_set(&fw->settle, at - now, 0.);
	ev_timer_start(fw->loop, &fw->settle);
}

/* Where a link points (inotify does not follow links: IN_DONT_FOLLOW),
 * or "" for a plain file. A dangling link's target is what readlink
 * names, which libev then polls for. */
static void
filewatch_resolve(const char *path, char *real, size_t len)
{
	char buf[PATH_MAX], *slash;
	struct stat st;
	ssize_t n;

	real[0] = '\0';
	if (lstat(path, &st) == -1 || !S_ISLNK(st.st_mode))
		return;
	if (realpath(path, buf) != NULL) {
		snprintf(real, len, "%s", buf);
		return;
	}
	if ((n = readlink(path, buf, sizeof(buf) - 1)) <= 0)
		return;
	buf[n] = '\0';
	if (buf[0] == '/' || (slash = strrchr(path, '/')) == NULL)
		n = snprintf(real, len, "%s", buf);
	else
		n = snprintf(real, len, "%.*s/%s", (int)(slash - path), path,
		    buf);
	if (n < 0 || (size_t)n >= len)
		real[0] = '\0';
}

static void
filewatch_target(struct filewatch *fw)
{
	char real[PATH_MAX];

	filewatch_resolve(fw->path, real, sizeof(real));
	if (strcmp(real, fw->real) == 0)
		return;
	ev_stat_stop(fw->loop, &fw->target);
	memcpy(fw->real, real, sizeof(fw->real));
	if (fw->real[0] == '\0')
		return;
	ev_stat_set(&fw->target, fw->real, fw->poll);
	ev_stat_start(fw->loop, &fw->target);
}

/* Something changed (inotify, libev's poll) or the second look is due. */
static void
filewatch_look(struct filewatch *fw)
{
	filewatch_target(fw);
	fw->cb(fw->arg);
	filewatch_settle_arm(fw);
}

static void
filewatch_stat_cb(struct ev_loop *loop, ev_stat *w, int revents)
{
	filewatch_look(w->data);
}

static void
filewatch_settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	filewatch_look(w->data);
}

void
filewatch_start(struct filewatch *fw, struct ev_loop *loop, const char *path,
    ev_tstamp poll, filewatch_cb *cb, void *arg)
{
	memset(fw, 0, sizeof(*fw));
	fw->loop = loop;
	fw->poll = poll;
	fw->cb = cb;
	fw->arg = arg;
	snprintf(fw->path, sizeof(fw->path), "%s", path);
	ev_stat_init(&fw->link, filewatch_stat_cb, fw->path, poll);
	ev_stat_init(&fw->target, filewatch_stat_cb, fw->real, poll);
	ev_timer_init(&fw->settle, filewatch_settle_cb, 0., 0.);
	fw->link.data = fw->target.data = fw->settle.data = fw;
	ev_stat_start(loop, &fw->link);
	filewatch_target(fw);
	filewatch_settle_arm(fw);
}

void
filewatch_stop(struct filewatch *fw)
{
	if (fw->loop == NULL)
		return;
	ev_stat_stop(fw->loop, &fw->link);
	ev_stat_stop(fw->loop, &fw->target);
	ev_timer_stop(fw->loop, &fw->settle);
}

void
filewatch_retarget(struct filewatch *fw, const char *path)
{
	if (fw->loop == NULL || strcmp(fw->path, path) == 0)
		return;
	filewatch_stop(fw);
	filewatch_start(fw, fw->loop, path, fw->poll, fw->cb, fw->arg);
}
