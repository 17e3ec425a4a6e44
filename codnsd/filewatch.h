/* SPDX-License-Identifier: MIT */
/* codnsd/filewatch.h: a file followed through libev's ev_stat (inotify). */
#ifndef CODNSD_FILEWATCH_H
#define CODNSD_FILEWATCH_H

#include <ev.h>
#include <limits.h>

/* "Look again": the owner stats the file and compares (conf_file_changed),
 * so a call may find nothing changed. */
typedef void filewatch_cb(void *arg);

/*
 * inotify through ev_stat where it works; libev polls every poll seconds
 * only where it cannot (no inotify, a file system it does not trust to
 * report changes, a missing file). A symbolic link is followed: its
 * target is watched too. The owner embeds the struct; it holds the path.
 */
struct filewatch {
	struct ev_loop *loop;
	ev_stat link;	 /* the path itself (libev lstat()s it) */
	ev_stat target;	 /* where it points, when it is a link */
	ev_timer settle; /* the second look, see filewatch.c */
	ev_tstamp poll;
	filewatch_cb *cb;
	void *arg;
	char path[PATH_MAX];
	char real[PATH_MAX];
};

/* Start following path (on a zeroed or stopped struct). */
void filewatch_start(struct filewatch *, struct ev_loop *, const char *path,
    ev_tstamp poll, filewatch_cb *, void *arg);
/* Stop it; a zeroed struct that never started is fine. */
void filewatch_stop(struct filewatch *);
/* Follow path instead, unless it is the path followed already. */
void filewatch_retarget(struct filewatch *, const char *path);

#endif
