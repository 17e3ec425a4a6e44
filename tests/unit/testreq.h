/* SPDX-License-Identifier: MIT */
/* tests/unit/testreq.h: the lookup requests and answers the unit tests
 * build. */
#ifndef CODNS_TESTREQ_H
#define CODNS_TESTREQ_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

/* A forward lookup of name in family (CODNS_AF_*), id 0. */
static inline struct proto_request
testreq_fwd(const char *name, uint8_t family)
{
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	r.kind = PROTO_KIND_FORWARD;
	r.family = family;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

/* A reverse lookup of the IPv4 address a.b.c.d, id 0. */
static inline struct proto_request
testreq_rev4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	r.kind = PROTO_KIND_REVERSE;
	r.family = CODNS_AF_INET;
	r.addr[0] = a;
	r.addr[1] = b;
	r.addr[2] = c;
	r.addr[3] = d;
	return r;
}

/* An answer with status, source and ttl, and nothing else. */
static inline struct proto_answer
testreq_answer(uint8_t status, uint8_t source, uint32_t ttl)
{
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.source = source;
	a.ttl = ttl;
	return a;
}

#endif
