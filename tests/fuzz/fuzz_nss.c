/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_nss.c: fuzz target for the NSS module's reply handling. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nss_fuzz.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_NSS_BUF_MAX 16384 /* well over what any answer needs */

struct area {
	const char *p;
	size_t len;
};

static int
inside(const struct area *a, const void *p, size_t n)
{
	const char *c = p;

	return c >= a->p && n <= a->len && (size_t)(c - a->p) <= a->len - n;
}

static void
check_str(const struct area *a, const char *s)
{
	if (!inside(a, s, 1) ||
	    memchr(s, '\0', a->len - (size_t)(s - a->p)) == NULL)
		abort();
}

/* Everything a hostent points to lies in the caller's buffer. */
static void
check_hostent(const struct area *a, const struct hostent *he, int af)
{
	size_t i, alen = af == AF_INET ? 4 : 16;

	if (he->h_addrtype != af || he->h_length != (int)alen)
		abort();
	check_str(a, he->h_name);
	for (i = 0;; i++) {
		if (!inside(a, &he->h_aliases[i], sizeof(char *)))
			abort();
		if (he->h_aliases[i] == NULL)
			break;
		check_str(a, he->h_aliases[i]);
	}
	for (i = 0;; i++) {
		if (!inside(a, &he->h_addr_list[i], sizeof(char *)))
			abort();
		if (he->h_addr_list[i] == NULL)
			break;
		if (!inside(a, he->h_addr_list[i], alen))
			abort();
	}
	if (i == 0 || i > PROTO_ADDRS_MAX)
		abort();
}

static void
check_tuples(const struct area *a, const struct gaih_addrtuple *t)
{
	size_t n = 0;

	check_str(a, t->name);
	for (; t != NULL; t = t->next) {
		if (!inside(a, t, sizeof(*t)) || ++n > PROTO_ADDRS_MAX ||
		    (t->family != AF_INET && t->family != AF_INET6))
			abort();
		if (n > 1 && t->name != NULL)
			abort();
	}
}

/*
 * Run one reply with a buffer of buflen bytes. Returns the status; a
 * buffer too small must be ERANGE + TRYAGAIN, nothing else.
 */
static enum nss_status
run(int mode, const struct codns_result *r, size_t buflen)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct gaih_addrtuple *pat = NULL;
	struct hostent he;
	struct area a;
	char *buf = malloc(buflen ? buflen : 1), *canon = NULL;
	int err = 0, herr = 0, af = mode % 2 ? AF_INET6 : AF_INET;
	int32_t ttl = -1;
	enum nss_status st;

	if (buf == NULL)
		return NSS_STATUS_UNAVAIL;
	a.p = buf;
	a.len = buflen;
	memset(&he, 0, sizeof(he));
	if (mode == 0)
		st = nss_codns_fuzz_tuples(r, "host.test.example", &pat, buf,
		    buflen, &err, &herr, &ttl);
	else if (mode < 3)
		st = nss_codns_fuzz_hostent(r, "host.test.example", NULL, af,
		    &he, buf, buflen, &err, &herr, &ttl, &canon);
	else
		st = nss_codns_fuzz_hostent(r, NULL, af == AF_INET ?
		    (const void *)v4 : (const void *)v6, af, &he, buf, buflen,
		    &err, &herr, &ttl, &canon);
	if (st == NSS_STATUS_SUCCESS) {
		if (ttl < 0)
			abort();
		if (mode == 0)
			check_tuples(&a, pat);
		else
			check_hostent(&a, &he, af);
		if (mode != 0 && mode < 3 && canon != he.h_name)
			abort();
	} else if (st == NSS_STATUS_TRYAGAIN) {
		if (err != ERANGE || herr != NETDB_INTERNAL)
			abort();
	} else if (st != NSS_STATUS_NOTFOUND || err != ENOENT)
		abort();
	free(buf);
	return st;
}

/*
 * Input: mode byte (0 tuples, 1 hostent inet, 2 inet6, 3 reverse inet,
 * 4 reverse inet6), two bytes of buffer length, then a response frame of
 * the lookup protocol as codnsd would send it. The module only lays out
 * FOUND answers, so the status is forced to FOUND.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_answer ans;
	struct codns_result *r;
	size_t buflen, flen;
	uint32_t id;
	int mode;

	if (size < 3)
		return 0;
	mode = data[0] % 5;
	buflen = (size_t)(data[1] << 8 | data[2]) % FUZZ_NSS_BUF_MAX;
	data += 3;
	size -= 3;
	if (proto_frame_peek(data, size, &flen) != 1 ||
	    proto_response_decode(data + PROTO_HDR_LEN, flen - PROTO_HDR_LEN,
		&id, &ans) == -1)
		return 0;
	ans.status = CODNS_FOUND;
	if ((r = client_result_new(&ans)) == NULL)
		return 0;
	/* Too small must mean ERANGE; then a big buffer must do. */
	if (run(mode, r, buflen) == NSS_STATUS_TRYAGAIN &&
	    run(mode, r, FUZZ_NSS_BUF_MAX) == NSS_STATUS_TRYAGAIN)
		abort();
	codns_result_free(r);
	return 0;
}
