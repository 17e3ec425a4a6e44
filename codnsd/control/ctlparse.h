/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlparse.h: the control request parser, apart for the fuzzer. */
#ifndef CODNSD_CTLPARSE_H
#define CODNSD_CTLPARSE_H

#include <stddef.h>

#define CTL_WORDS_MAX 8
#define CTL_ERR_MAX 512

/* A parsed request line: words point into the line. */
struct ctl_req {
	int json;
	size_t argc;
	char *argv[CTL_WORDS_MAX];
};

/*
 * Split a request line (NUL-terminated, without its newline) into words,
 * in place. Only printable ASCII, spaces and tabs may appear; a final \r
 * is allowed. A leading "json" sets json. 0, or -1 with a message in err
 * (CTL_ERR_MAX bytes).
 */
int ctl_parse(char *line, struct ctl_req *r, char *err);

#endif
