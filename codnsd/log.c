/* SPDX-License-Identifier: MIT */
/* codnsd/log.c: logging to stderr (foreground) or syslog. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static int log_debug_on;
static int log_stderr = 1;

void
log_init(int debug, int foreground)
{
	log_debug_on = debug;
	log_stderr = foreground;
	if (!foreground)
		openlog("codnsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, const char *err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		if (err != NULL)
			fprintf(stderr, "codnsd: %s: %s\n", msg, err);
		else
			fprintf(stderr, "codnsd: %s\n", msg);
	} else if (err != NULL)
		syslog(pri, "%s: %s", msg, err);
	else
		syslog(pri, "%s", msg);
}

void
log_msg(int pri, int with_errno, const char *fmt, ...)
{
	const char *err = with_errno ? strerror(errno) : NULL;
	va_list ap;

	if (pri == LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	log_vwrite(pri, fmt, ap, err);
	va_end(ap);
}

void
log_fatal(int with_errno, const char *fmt, ...)
{
	const char *err = with_errno ? strerror(errno) : NULL;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, err);
	va_end(ap);
	exit(1);
}
