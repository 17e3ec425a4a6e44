/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlexec.h: a control request: who may, and what it does. */
#ifndef CODNSD_CTLEXEC_H
#define CODNSD_CTLEXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "ctl.h"
#include "ctlparse.h"

struct report_buf;

/* The client of a request: its connection and its SO_PEERCRED. */
struct ctl_peer {
	int fd; /* handover sends the listening sockets on it */
	int have_cred;
	uid_t uid;
	gid_t gid;
};

/* Root or the daemon's own uid: may flush, reload and hand over, and
 * holds control connections without a per-uid cap. */
int ctl_admin(const struct ctl_env *, uid_t);
/*
 * Run a parsed request for p, with clients control connections open (for
 * status and metrics): 0 with the reply's body in b, or -1 with a one-line
 * error in err (CTL_ERR_MAX bytes).
 */
int ctl_exec(const struct ctl_env *, const struct ctl_peer *p,
    size_t clients, const struct ctl_req *, struct report_buf *b, char *err);

#endif
