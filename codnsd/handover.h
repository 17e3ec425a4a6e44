/* SPDX-License-Identifier: MIT */
/* codnsd/handover.h: listening sockets that outlive the process. */
#ifndef CODNSD_HANDOVER_H
#define CODNSD_HANDOVER_H

#include <stddef.h>

#include "addr.h"

/*
 * A codnsd takes its listening sockets, before binding any, from a pool
 * filled either by systemd's socket activation (LISTEN_FDS, LISTEN_PID,
 * LISTEN_FDNAMES: sd_listen_fds(3)) or by the codnsd it replaces (codnsd
 * -R: handover_request()). Each socket goes to the configured listener
 * with the same address (getsockname) and type. Sockets and the queries
 * queued on them thus outlive a process.
 */
#define HANDOVER_MAX 32 /* listening sockets of one codnsd, at most */

/* Fill the pool from LISTEN_FDS when LISTEN_PID is this process, and
 * clear those variables. The number of sockets taken in, or -1. */
int handover_from_env(void);
/*
 * codnsd -R: ask the codnsd serving control socket ctlpath for its
 * listening sockets and put them in the pool. The old codnsd writes its
 * cache file, sends the sockets and goes on serving them until
 * handover_ready(). 1 when sockets came, 0 when no codnsd answers there,
 * -1 with err.
 */
int handover_request(const char *ctlpath, char *err, size_t errlen);
/* The pooled socket for listener a of this type (SOCK_STREAM,
 * SOCK_DGRAM), taken out of the pool, non-blocking; or -1. */
int handover_take(const struct conf_addr *a, int type);
/* The pooled UNIX stream socket bound to path, or -1. *keep_file is 1
 * when the socket file is systemd's, never to be unlinked by codnsd. */
int handover_take_unix(const char *path, int *keep_file);
/* Close what no listener took (logged): after set-up. */
void handover_close_unused(void);

/* Every listening socket is noted, so that it can be handed over. */
void handover_note(int fd);
/*
 * The old side of -R: send every noted listening socket over the
 * connected control socket fd with SCM_RIGHTS. 0 or -1 (errno). From
 * then on handover_given() is 1: socket files and the pidfile belong to
 * the new codnsd and are not removed at exit.
 */
int handover_send(int fd);
int handover_given(void);
/* The new codnsd went away before it was ready: this one keeps all. */
void handover_cancel(void);
/* The new side, once it serves: tell the codnsd replaced, which then
 * drains and exits. Does nothing when nothing was replaced. */
void handover_ready(void);

#endif
