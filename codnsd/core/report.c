/* SPDX-License-Identifier: MIT */
/* codnsd/core/report.c: describe a report once, render it as text or as JSON. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
report_init(struct report *r, struct report_buf *b, int json)
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
		report_printf(r->b, ",");
	r->more[r->depth] = 1;
	if (key != NULL) {
		report_json_str(r->b, key);
		report_printf(r->b, ":");
	}
}

void
report_push(struct report *r, const char *key, int list)
{
	if (!r->json)
		return;
	report_key(r, key);
	report_printf(r->b, "%c", list ? '[' : '{');
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
	report_printf(r->b, "%c", r->closer[r->depth--]);
	if (r->depth == 0)
		report_printf(r->b, "\n");
}

void
report_text(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	va_start(ap, fmt);
	report_vprintf(r->b, fmt, ap);
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
		report_printf(r->b, "%llu", v);
	} else if (tfmt != NULL)
		report_printf(r->b, tfmt, v);
}

void
report_str(struct report *r, const char *key, const char *tfmt,
    const char *s)
{
	if (r->json) {
		report_key(r, key);
		report_json_str(r->b, s);
	} else if (tfmt != NULL)
		report_printf(r->b, tfmt, s);
}

void
report_real(struct report *r, const char *key, const char *jfmt,
    const char *tfmt, double v)
{
	if (r->json) {
		report_key(r, key);
		report_printf(r->b, jfmt, v);
	} else if (tfmt != NULL)
		report_printf(r->b, tfmt, v);
}
#pragma GCC diagnostic pop

void
report_null(struct report *r, const char *key, const char *text)
{
	if (r->json) {
		report_key(r, key);
		report_printf(r->b, "null");
	} else if (text != NULL)
		report_printf(r->b, "%s", text);
}

void
report_bool(struct report *r, const char *key, int v, const char *text)
{
	if (r->json) {
		report_key(r, key);
		report_printf(r->b, "%s", v ? "true" : "false");
	} else if (text != NULL)
		report_printf(r->b, "%s", text);
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
			report_printf(r->b, tfmt, *csv ? csv : empty);
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

/* --- text buffer --- */

void
report_vprintf(struct report_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t cap;
	char *p;
	int n;

	if (b->err)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0,
	    fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = 1;
		return;
	}
	if (b->p != NULL && (size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len <= (size_t)n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->err = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	b->len += (size_t)n;
}

void
report_printf(struct report_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vprintf(b, fmt, ap);
	va_end(ap);
}

/* RFC 8259, section 7: quote, backslash and control characters escaped;
 * other bytes above 0x7e also go out as \u00XX so the text is ASCII. */
void
report_json_str(struct report_buf *b, const char *s)
{
	const unsigned char *p;

	report_printf(b, "\"");
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			report_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			report_printf(b, "\\u%04x", *p);
		else
			report_printf(b, "%c", *p);
	}
	report_printf(b, "\"");
}

void
report_buf_free(struct report_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
