/* SPDX-License-Identifier: MIT */
/* codnsctl/ctlcmd.h: codnsctl's side of the control socket protocol. */
#ifndef CODNSD_CTLCMD_H
#define CODNSD_CTLCMD_H

/* Send argv (a command and its arguments) to the control socket and print
 * the reply. Returns the exit status: 0 ok, 1 refused or failed, 2 the
 * daemon cannot be reached or the reply is malformed. */
int ctlcmd_run(const char *socket_path, int json, int argc, char *argv[]);

#endif
