/* SPDX-License-Identifier: MIT */
/* tests/fuzz/gen_corpus.c: write the seed corpus for fuzz_proto. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/*
 * Not built by make: the corpus is committed. To regenerate:
 *   cc -I libcodns -o gen tests/fuzz/gen_corpus.c libcodns/proto.c \
 *       libcodns/buf.c && ./gen tests/fuzz/corpus/proto
 */
static const char *outdir;

static void
save(const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static size_t
req(uint8_t *out, uint8_t kind, uint8_t family, const char *name,
    uint8_t a0)
{
	struct proto_request r;
	struct buf b;

	memset(&r, 0, sizeof(r));
	r.id = 0x1000 + a0;
	r.kind = kind;
	r.family = family;
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.addr[0] = a0;
	r.addr[15] = 1;
	buf_init_write(&b, out, PROTO_HDR_LEN + PROTO_FRAME_MAX);
	if (proto_request_encode(&b, &r) == -1)
		abort();
	return b.pos;
}

static size_t
resp(uint8_t *out, uint8_t status, int naliases, int naddrs)
{
	struct proto_answer a;
	struct buf b;
	int i;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.source = naddrs > 8 ? CODNS_SRC_PEER : CODNS_SRC_LOCAL;
	a.ttl = 300;
	a.latency_us = 4500;
	if (a.source == CODNS_SRC_PEER)
		snprintf(a.peer, sizeof(a.peer), "[::1]:7053");
	if (status == CODNS_FOUND)
		snprintf(a.cname, sizeof(a.cname), "www.example.org");
	a.naliases = (uint8_t)naliases;
	for (i = 0; i < naliases; i++)
		snprintf(a.aliases[i], sizeof(a.aliases[i]), "alias%d.example",
		    i);
	a.naddrs = (uint8_t)naddrs;
	for (i = 0; i < naddrs; i++) {
		a.addrs[i].family = i % 2 ? CODNS_AF_INET6 : CODNS_AF_INET;
		a.addrs[i].a[0] = 10;
		a.addrs[i].a[3] = (uint8_t)i;
	}
	buf_init_write(&b, out, PROTO_HDR_LEN + PROTO_FRAME_MAX);
	if (proto_response_encode(&b, 0x2000 + status, &a) == -1)
		abort();
	return b.pos;
}

int
main(int argc, char **argv)
{
	uint8_t f[2 * (PROTO_HDR_LEN + PROTO_FRAME_MAX)];
	size_t n, m;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus dir\n");
		return 2;
	}
	outdir = argv[1];
	save("req_fwd_unspec", f, req(f, PROTO_KIND_FORWARD, CODNS_AF_UNSPEC,
	    "www.example.org", 1));
	save("req_fwd_inet", f, req(f, PROTO_KIND_FORWARD, CODNS_AF_INET,
	    "a.b", 2));
	save("req_fwd_inet6", f, req(f, PROTO_KIND_FORWARD, CODNS_AF_INET6,
	    "host-6.Example.COM.", 3));
	{
		/* 253 bytes and the root's dot: the longest asked name. */
		char longname[PROTO_QNAME_MAX + 1];
		size_t i;

		for (i = 0; i < PROTO_NAME_MAX; i++)
			longname[i] = i % 64 == 63 ? '.' : 'x';
		longname[PROTO_NAME_MAX] = '.';
		longname[PROTO_QNAME_MAX] = '\0';
		save("req_fwd_longdot", f, req(f, PROTO_KIND_FORWARD,
		    CODNS_AF_INET, longname, 6));
	}
	save("req_rev_v4", f, req(f, PROTO_KIND_REVERSE, CODNS_AF_INET, "",
	    192));
	save("req_rev_v6", f, req(f, PROTO_KIND_REVERSE, CODNS_AF_INET6, "",
	    0x20));
	save("resp_found", f, resp(f, CODNS_FOUND, 1, 2));
	save("resp_found_max", f, resp(f, CODNS_FOUND, PROTO_ALIASES_MAX,
	    PROTO_ADDRS_MAX));
	save("resp_notfound", f, resp(f, CODNS_NOTFOUND, 0, 0));
	save("resp_nodata", f, resp(f, CODNS_NODATA, 0, 0));
	save("resp_tryagain", f, resp(f, CODNS_TRYAGAIN, 0, 0));
	n = req(f, PROTO_KIND_FORWARD, CODNS_AF_INET, "pipe.example", 4);
	m = req(f + n, PROTO_KIND_REVERSE, CODNS_AF_INET, "", 127);
	save("req_pipelined", f, n + m);

	/* Broken ones. */
	n = req(f, PROTO_KIND_FORWARD, CODNS_AF_INET, "v.example", 5);
	f[2] = PROTO_VERSION + 1;
	save("bad_version", f, n);
	f[2] = PROTO_VERSION;
	f[3] = 9;
	save("bad_type", f, n);
	f[3] = PROTO_T_REQUEST;
	f[8] = 7;
	save("bad_kind", f, n);
	f[8] = PROTO_KIND_FORWARD;
	f[9] = 5;
	save("bad_family", f, n);
	f[9] = CODNS_AF_INET;
	f[11] = ' ';
	save("bad_name_space", f, n);
	save("truncated_req", f, n - 3);
	n = resp(f, CODNS_FOUND, 1, 2);
	f[n] = 0;
	f[1]++;
	save("trailing_byte", f, n + 1);
	memcpy(f, "\0\0", 2);
	save("len_zero", f, 2);
	memcpy(f, "\xff\xff\x01\x02", 4);
	save("len_over_max", f, 4);
	return 0;
}
