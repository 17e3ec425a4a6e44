/* SPDX-License-Identifier: MIT */
/* tests/fuzz/gen_peerproto_corpus.c: writes the peer protocol seed corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_peerproto.h"
#include "peerproto.h"

/*
 * Not built by make: the corpus is committed. To regenerate:
 *   cc -I libcodns -o gen tests/fuzz/gen_peerproto_corpus.c \
 *       libcodns/peerproto.c libcodns/proto.c libcodns/buf.c -lsodium &&
 *       ./gen tests/fuzz/corpus/peerproto
 */
#define NSEEDS 13

/* One message of every type and shape the decoder has a branch for. */
static void
seed(int i, struct peerproto_msg *m)
{
	struct proto_answer *a = &m->u.answer.a;
	int k;

	memset(m, 0, sizeof(*m));
	switch (i) {
	case 0:
	case 1:
		m->version = 2;
		m->type = i == 0 ? PEERPROTO_T_HEARTBEAT : PEERPROTO_T_ACK;
		m->u.beat.seq = 42;
		m->u.beat.send_time = 123456789;
		m->u.beat.ns_mean_ms = 12;
		m->u.beat.ns_fail_permille = 50;
		m->u.beat.ns_set_id = 0x5eed5eed5eed5eedULL;
		m->u.beat.node_nonce = 0x0123456789abcdefULL;
		break;
	case 2:
		m->type = PEERPROTO_T_QUERY;
		m->u.query.id = 0x0102030405060708ULL;
		m->u.query.family = CODNS_AF_INET6;
		strcpy(m->u.query.name, "host.example.com.");
		break;
	case 3:
		m->type = PEERPROTO_T_QUERY;
		m->u.query.id = 2;
		m->u.query.kind = PROTO_KIND_REVERSE;
		m->u.query.family = CODNS_AF_INET;
		memcpy(m->u.query.addr, "\x0a\x00\x00\x01", 4);
		break;
	case 4:
		m->type = PEERPROTO_T_QUERY;
		m->u.query.id = 3;
		m->u.query.kind = PROTO_KIND_REVERSE;
		m->u.query.family = CODNS_AF_INET6;
		m->u.query.addr[0] = 0xfe;
		m->u.query.addr[15] = 0x80;
		break;
	case 5:
		m->type = PEERPROTO_T_ANSWER;
		m->u.answer.id = 0x0102030405060708ULL;
		a->status = CODNS_FOUND;
		a->source = CODNS_SRC_LOCAL;
		a->ttl = 3600;
		a->latency_us = 800;
		strcpy(a->peer, "10.0.0.2:7053");
		strcpy(a->cname, "cdn.example.net");
		a->naliases = 1;
		strcpy(a->aliases[0], "host.example.com");
		a->naddrs = 12;
		for (k = 0; k < a->naddrs; k++) {
			a->addrs[k].family = k % 2 ? CODNS_AF_INET6 :
			    CODNS_AF_INET;
			a->addrs[k].a[0] = 10;
			a->addrs[k].a[3] = (uint8_t)k;
		}
		break;
	case 6:
		m->type = PEERPROTO_T_ANSWER;
		m->u.answer.id = 2;
		a->status = CODNS_FOUND;
		strcpy(a->cname, "gateway.example.com");
		break;
	case 7:
		m->type = PEERPROTO_T_ANSWER;
		m->u.answer.id = 4;
		a->status = CODNS_NODATA;
		a->ttl = 30;
		break;
	case 8:
		m->type = PEERPROTO_T_CANNOT;
		m->u.cannot.id = 0x0102030405060708ULL;
		m->u.cannot.reason = PEERPROTO_R_FAILED;
		break;
	case 9:
	case 10:
		/* Version 1 beats, without the node nonce. */
		m->version = 1;
		m->type = i == 9 ? PEERPROTO_T_HEARTBEAT : PEERPROTO_T_ACK;
		m->u.beat.seq = 7;
		m->u.beat.send_time = 987654321;
		m->u.beat.ns_mean_ms = 3;
		m->u.beat.ns_fail_permille = 1000;
		m->u.beat.ns_set_id = 1;
		break;
	case 11:
	case 12:
		/* Version 3: an ack asking for an echo, and the echo. */
		m->type = i == 11 ? PEERPROTO_T_ACK : PEERPROTO_T_ECHO;
		m->u.beat.seq = 9;
		m->u.beat.send_time = i == 11 ? 123456789 : 5550001234ULL;
		m->u.beat.ns_mean_ms = 2;
		m->u.beat.ns_set_id = 3;
		m->u.beat.node_nonce = 0x1111222233334444ULL;
		m->u.beat.reply_time = i == 11 ? 5550001234ULL : 0;
		break;
	}
}

static int
write_seed(const char *dir, const char *name, const uint8_t *d, size_t len)
{
	char path[4096];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return -1;
	}
	if (fwrite(d, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0 || rc == -1) {
		perror(path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m;
	char name[64];
	size_t len;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < NSEEDS; i++) {
		seed(i, &m);
		if (peerproto_encode(&m, NULL, 0, d, sizeof(d), &len) == -1)
			return 1;
		snprintf(name, sizeof(name), "%s-%d-plain",
		    peerproto_type_str(m.type), i);
		if (write_seed(argv[1], name, d, len) == -1)
			return 1;
		if (peerproto_encode(&m, fuzz_peerproto_key, FUZZ_PEERPROTO_NOW,
		    d, sizeof(d), &len) == -1)
			return 1;
		snprintf(name, sizeof(name), "%s-%d-signed",
		    peerproto_type_str(m.type), i);
		if (write_seed(argv[1], name, d, len) == -1)
			return 1;
	}
	return 0;
}
