/* codnsd/report.c: describe a report once, render it as text or as JSON. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
report_init(struct report *r, struct stats_buf *b, int json)
{
	memset(r, 0, sizeof(*r));
	r->b = b;
	r->json = json;
}

/* The JSON prefix of a member: a comma after the first, then its key. */
static void
report_key(struct report *r, const char *key)
{
	if (r->more[r->depth])
		stats_printf(r->b, ",");
	r->more[r->depth] = 1;
	if (key != NULL) {
		stats_json_str(r->b, key);
		stats_printf(r->b, ":");
	}
}

void
report_push(struct report *r, const char *key, int list)
{
	if (!r->json)
		return;
	report_key(r, key);
	stats_printf(r->b, "%c", list ? '[' : '{');
	if (r->depth + 1 >= REPORT_DEPTH_MAX) {
		r->b->err = 1;
		return;
	}
	r->closer[++r->depth] = list ? ']' : '}';
	r->more[r->depth] = 0;
}

void
report_close(struct report *r)
{
	if (!r->json || r->depth == 0)
		return;
	stats_printf(r->b, "%c", r->closer[r->depth--]);
	if (r->depth == 0)
		stats_printf(r->b, "\n");
}

void
report_text(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	va_start(ap, fmt);
	stats_vprintf(r->b, fmt, ap);
	va_end(ap);
}

/* The text form of one value, through a format checked at run time to
 * hold the one conversion the caller promised. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void
report_uint(struct report *r, const char *key, const char *tfmt,
    unsigned long long v)
{
	if (r->json) {
		report_key(r, key);
		stats_printf(r->b, "%llu", v);
	} else if (tfmt != NULL)
		stats_printf(r->b, tfmt, v);
}

void
report_str(struct report *r, const char *key, const char *tfmt,
    const char *s)
{
	if (r->json) {
		report_key(r, key);
		stats_json_str(r->b, s);
	} else if (tfmt != NULL)
		stats_printf(r->b, tfmt, s);
}

void
report_real(struct report *r, const char *key, const char *jfmt,
    const char *tfmt, double v)
{
	if (r->json) {
		report_key(r, key);
		stats_printf(r->b, jfmt, v);
	} else if (tfmt != NULL)
		stats_printf(r->b, tfmt, v);
}
#pragma GCC diagnostic pop

void
report_null(struct report *r, const char *key, const char *text)
{
	if (r->json) {
		report_key(r, key);
		stats_printf(r->b, "null");
	} else if (text != NULL)
		stats_printf(r->b, "%s", text);
}

void
report_bool(struct report *r, const char *key, int v, const char *text)
{
	if (r->json) {
		report_key(r, key);
		stats_printf(r->b, "%s", v ? "true" : "false");
	} else if (text != NULL)
		stats_printf(r->b, "%s", text);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void
report_csv(struct report *r, const char *key, const char *tfmt,
    const char *csv, const char *empty)
{
	char item[256];
	const char *p = csv, *q;
	size_t n;

	if (!r->json) {
		if (tfmt != NULL)
			stats_printf(r->b, tfmt, *csv ? csv : empty);
		return;
	}
	report_open_list(r, key);
	while (*p != '\0') {
		q = strchr(p, ',');
		n = q ? (size_t)(q - p) : strlen(p);
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, p, n);
		item[n] = '\0';
		if (n > 0)
			report_str(r, NULL, NULL, item);
		p = q ? q + 1 : p + strlen(p);
	}
	report_close_list(r);
}
#pragma GCC diagnostic pop

void
report_counts(struct report *r, const char *key, const char *title,
    const char *const *names, const uint64_t *v, size_t n)
{
	size_t i;

	report_open(r, key);
	report_text(r, "%s\n", title);
	for (i = 0; i < n; i++) {
		report_text(r, "  %-26s ", names[i]);
		report_uint(r, names[i], "%12llu\n", (unsigned long long)v[i]);
	}
	report_close(r);
}
