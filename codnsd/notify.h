/* SPDX-License-Identifier: MIT */
/* codnsd/notify.h: systemd's readiness protocol (sd_notify datagrams). */
#ifndef CODNSD_NOTIFY_H
#define CODNSD_NOTIFY_H

#include <ev.h>

/*
 * From NOTIFY_SOCKET (a path, or @name for the abstract namespace) and
 * WATCHDOG_USEC/WATCHDOG_PID, as systemd sets them for Type=notify and
 * WatchdogSec=. Without NOTIFY_SOCKET every call below does nothing.
 * When a watchdog is asked for, WATCHDOG=1 goes out from loop every half
 * of its period. Call once, before the daemon forks.
 */
void notify_init(struct ev_loop *loop);
/* Send one datagram of "KEY=VALUE" lines (printf format); 0 or -1. */
int notify_send(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* The watchdog pings stop; the socket is closed. */
void notify_close(void);

#endif
