/* SPDX-License-Identifier: MIT */
/* codnsd/log.h: logging to stderr (foreground) or syslog. */
#ifndef CODNSD_LOG_H
#define CODNSD_LOG_H

#include <syslog.h>

void log_init(int debug, int foreground);
/* One message at syslog priority pri; with_errno appends strerror(errno).
 * LOG_DEBUG goes out only with -d. */
void log_msg(int pri, int with_errno, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at LOG_CRIT, then exit(1). */
void log_fatal(int with_errno, const char *, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define log_warn(...) log_msg(LOG_WARNING, 1, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, 0, __VA_ARGS__)
#define fatal(...) log_fatal(1, __VA_ARGS__)
#define fatalx(...) log_fatal(0, __VA_ARGS__)

#endif
