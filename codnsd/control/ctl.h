/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctl.h: the control socket that codnsctl talks to. */
#ifndef CODNSD_CTL_H
#define CODNSD_CTL_H

#include <stddef.h>

struct codnsd;
struct ctl;

#define CTL_CLIENTS_MAX 64
#define CTL_CLIENTS_PER_UID 8  /* connections one uid may hold */
#define CTL_CLIENTS_RESERVE 8  /* for root, the daemon and new uids */
#define CTL_LINE_MAX 1024     /* request line, newline included */
#define CTL_READ_SEC 5.0      /* to send the whole request line */
#define CTL_WRITE_SEC 30.0    /* to read the whole reply */
#define CTL_SOCKET_MODE 0666  /* read-only commands for every local user */

/*
 * Bind the `control-socket` of d's config (creating its directory, mode
 * 0755, owned by the `user` the daemon runs as, and removing a stale
 * socket) and serve it on d's loop. NULL (logged) on failure, or when
 * another daemon answers on that socket.
 */
struct ctl *ctl_new(struct codnsd *d);
/*
 * What `codnsctl reload` runs: 0, or -1 with the reason in err. main
 * registers it at set-up, so that ctl never calls into main; until then
 * reload is refused.
 */
typedef int (*ctl_reload_fn)(void *arg, char *err, size_t errlen);
void ctl_on_reload(struct ctl *, ctl_reload_fn, void *arg);
/*
 * What `handover` (codnsd -R, handover.h) runs with the client's
 * connected fd: main sends the listening sockets on it and starts to
 * drain. 0, or -1 with the reason in err. Refused until registered, and
 * to anyone but root and the daemon's own user.
 */
typedef int (*ctl_handover_fn)(void *arg, int fd, char *err, size_t errlen);
void ctl_on_handover(struct ctl *, ctl_handover_fn, void *arg);
/* Accept no more connections (on), or again (off). */
void ctl_pause(struct ctl *, int on);
/* Close every client and the socket, and unlink it. NULL-safe. */
void ctl_free(struct ctl *);
size_t ctl_clients(const struct ctl *);

#endif
