/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlparse.c: the control request parser, apart for the fuzzer. */
#include "ctlparse.h"

#include <stdio.h>
#include <string.h>

/* Split the line into words. Only printable ASCII, spaces and tabs may
 * appear; a final \r is allowed for people typing at socat. */
int
ctl_parse(char *line, struct ctl_req *r, char *err)
{
	char *p, *save = NULL;
	size_t n = strlen(line);

	memset(r, 0, sizeof(*r));
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	for (p = line; *p != '\0'; p++)
		if ((*p < 0x20 || *p > 0x7e) && *p != '\t') {
			snprintf(err, CTL_ERR_MAX, "bad request");
			return -1;
		}
	for (p = strtok_r(line, " \t", &save); p != NULL;
	     p = strtok_r(NULL, " \t", &save)) {
		if (r->argc == 0 && !r->json && strcmp(p, "json") == 0) {
			r->json = 1;
			continue;
		}
		if (r->argc == CTL_WORDS_MAX) {
			snprintf(err, CTL_ERR_MAX, "too many words");
			return -1;
		}
		r->argv[r->argc++] = p;
	}
	if (r->argc == 0) {
		snprintf(err, CTL_ERR_MAX, "empty request");
		return -1;
	}
	return 0;
}
