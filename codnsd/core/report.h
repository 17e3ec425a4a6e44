/* SPDX-License-Identifier: MIT */
/* codnsd/core/report.h: describe a report once, render it as text or as JSON. */
#ifndef CODNSD_REPORT_H
#define CODNSD_REPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_DEPTH_MAX 8

/* A growing text buffer for the renderings; on out of memory err is set
 * and the text stops growing. */
struct report_buf {
	char *p;
	size_t len, cap;
	int err;
};

void report_printf(struct report_buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void report_vprintf(struct report_buf *, const char *, va_list);
/* s as a JSON string literal, quotes included. */
void report_json_str(struct report_buf *, const char *s);
void report_buf_free(struct report_buf *);

/*
 * A report (codnsctl status, peers, stats, top...) is one function that
 * walks its data once and calls these for every value. In JSON mode the
 * calls build objects and lists with their keys; in text mode each value
 * goes out through its text format (NULL: the value is JSON only), and
 * report_text() adds what only the text form has (labels, headings, line
 * ends). So the two forms cannot drift apart: a value added to one is in
 * the same call as the other.
 */
struct report {
	struct report_buf *b;
	int json;
	unsigned depth;
	uint8_t more[REPORT_DEPTH_MAX]; /* a member was written at the depth */
	char closer[REPORT_DEPTH_MAX];  /* '}' or ']' */
};

void report_init(struct report *, struct report_buf *, int json);
/* A JSON object (list: a list), as the member key (NULL: a list element or
 * the whole report); report_close() ends the innermost one, and the line
 * after the outermost. Nothing in text. */
void report_push(struct report *, const char *key, int list);
void report_close(struct report *);
#define report_open(r, key) report_push((r), (key), 0)
#define report_open_list(r, key) report_push((r), (key), 1)
#define report_close_list(r) report_close(r)

/* Text form only. */
void report_text(struct report *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One value: JSON "key":value, text through tfmt (one conversion for the
 * value; NULL for none). */
void report_uint(struct report *, const char *key, const char *tfmt,
    unsigned long long v);
void report_str(struct report *, const char *key, const char *tfmt,
    const char *s);
/* jfmt is the JSON number's format ("%.3f"). */
void report_real(struct report *, const char *key, const char *jfmt,
    const char *tfmt, double v);
/* JSON null or a boolean; text: text as is (NULL for none). */
void report_null(struct report *, const char *key, const char *text);
void report_bool(struct report *, const char *key, int v, const char *text);
/* A string list from "a,b,c": JSON list; text tfmt of the string as is,
 * or of empty when it is empty. */
void report_csv(struct report *, const char *key, const char *tfmt,
    const char *csv, const char *empty);
/* n named counts: JSON {"name":v,...}; text a title line and one
 * indented line per count. */
void report_counts(struct report *, const char *key, const char *title,
    const char *const *names, const uint64_t *v, size_t n);

#endif
