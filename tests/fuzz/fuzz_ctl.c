/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ctl.c: fuzz target for the control request parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctlparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What a parsed word must look like: a run of printable non-blanks. */
static void
check_word(const char *w, const char *line, size_t len)
{
	const char *p;

	if (w < line || w >= line + len || *w == '\0')
		abort();
	for (p = w; *p != '\0'; p++)
		if (*p <= 0x20 || *p > 0x7e)
			abort();
	if (p > line + len)
		abort();
}

/*
 * The input is what a client sends: ctl.c takes bytes up to the first
 * newline within CTL_LINE_MAX, refuses a line with a NUL in it, and parses
 * the rest. The line sits in a buffer of exactly its size for ASan.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r;
	char err[CTL_ERR_MAX], *line;
	const uint8_t *nl;
	size_t len, i;

	if (size > CTL_LINE_MAX)
		size = CTL_LINE_MAX;
	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	len = (size_t)(nl - data);
	if (memchr(data, '\0', len) != NULL)
		return 0;
	if ((line = malloc(len + 1)) == NULL)
		return 0;
	memcpy(line, data, len);
	line[len] = '\0';
	err[0] = '\0';
	if (ctl_parse(line, &r, err) == 0) {
		if (r.argc == 0 || r.argc > CTL_WORDS_MAX || err[0] != '\0')
			abort();
		for (i = 0; i < r.argc; i++)
			check_word(r.argv[i], line, len);
		if (r.argv[0] != NULL && strcmp(r.argv[0], "json") == 0 &&
		    !r.json)
			abort();
	} else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	free(line);
	return 0;
}
