/* SPDX-License-Identifier: MIT */
/* codnsd/notify.c: systemd's readiness protocol (sd_notify datagrams). */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/*
 * The protocol is documented in sd_notify(3): one datagram of newline-
 * separated assignments to the AF_UNIX socket named by NOTIFY_SOCKET; a
 * leading '@' names an abstract socket. No libsystemd needed.
 */
static struct {
	int fd;
	struct sockaddr_un sun;
	socklen_t len;
	struct ev_loop *loop;
	ev_timer watchdog;
} notify = { .fd = -1 };

static void
notify_watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	notify_send("WATCHDOG=1");
}

/* WATCHDOG_USEC is for us only if WATCHDOG_PID is unset or ours. */
static void
notify_watchdog_init(struct ev_loop *loop)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long us;

	if (usec == NULL)
		return;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || us == 0) {
		log_warnx("WATCHDOG_USEC=%s: not a period", usec);
		return;
	}
	/* Half the period, as sd_watchdog_enabled(3) advises. */
	ev_timer_init(&notify.watchdog, notify_watchdog_cb, 0.,
	    (double)us / 2e6);
	ev_timer_again(loop, &notify.watchdog);
	ev_unref(loop); /* the pings alone do not keep the loop running */
}

void
notify_init(struct ev_loop *loop)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	notify.loop = loop;
	if (path == NULL || path[0] == '\0')
		return;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    n >= sizeof(notify.sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: not a socket path", path);
		return;
	}
	memset(&notify.sun, 0, sizeof(notify.sun));
	notify.sun.sun_family = AF_UNIX;
	memcpy(notify.sun.sun_path, path, n);
	if (path[0] == '@')
		notify.sun.sun_path[0] = '\0';
	notify.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((notify.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) ==
	    -1) {
		log_warn("notify socket");
		return;
	}
	notify_watchdog_init(loop);
}

int
notify_send(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (notify.fd == -1)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if (sendto(notify.fd, msg, (size_t)n, MSG_NOSIGNAL,
		(struct sockaddr *)&notify.sun, notify.len) == -1) {
		log_warn("notify %s", notify.sun.sun_path[0] != '\0' ?
		    notify.sun.sun_path : "@");
		return -1;
	}
	return 0;
}

void
notify_close(void)
{
	if (notify.fd == -1)
		return;
	if (ev_is_active(&notify.watchdog)) {
		ev_ref(notify.loop);
		ev_timer_stop(notify.loop, &notify.watchdog);
	}
	close(notify.fd);
	notify.fd = -1;
}
