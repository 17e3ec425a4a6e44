/* SPDX-License-Identifier: MIT */
/* tests/nss/fake_zone.h: the canned answers fakesrv gives, for both sides. */
#ifndef FAKE_ZONE_H
#define FAKE_ZONE_H

#include <stdio.h>
#include <string.h>

/*
 * found4.test  CNAME canon4.test, alias alias4.test, 192.0.2.10/.11, TTL 300
 * found6.test  no CNAME, 2001:db8::10 and ::11, TTL 600
 * both.test    canonical both.test, 192.0.2.20 and 2001:db8::20, TTL 120
 * mismatch.test FOUND with only 192.0.2.30 whatever family is asked
 * big.test     FAKE_BIG_NADDRS addresses per family, FAKE_BIG_NALIASES
 *              aliases of FAKE_BIG_ALIAS_LEN bytes, a long canonical name
 * nx.test NOTFOUND, nodata.test NODATA, again.test TRYAGAIN,
 * unavail.test UNAVAIL, hang.test no answer, garbage.test a broken frame
 * reverse: 192.0.2.1 -> host1.test (alias host1-alias.test), 2001:db8::1
 *          -> host6.test, anything else NOTFOUND
 */
#define FAKE_TTL4 300
#define FAKE_TTL6 600
#define FAKE_TTLBOTH 120
#define FAKE_TTLBIG 77
#define FAKE_BIG_NADDRS 32
#define FAKE_BIG_NALIASES 8
#define FAKE_BIG_ALIAS_LEN 200

/* The canonical name of big.test (196 bytes): out holds 254. */
static inline void
fake_big_cname(char *out)
{
	memset(out, 'c', 63);
	out[63] = '.';
	memset(out + 64, 'd', 63);
	out[127] = '.';
	memset(out + 128, 'e', 63);
	strcpy(out + 191, ".test");
}

/* Alias i of big.test: "aliasN-" then 'x' up to FAKE_BIG_ALIAS_LEN bytes;
 * labels of at most 60 bytes; out holds 254. */
static inline void
fake_big_alias(unsigned i, char *out)
{
	size_t n;

	n = (size_t)snprintf(out, 16, "alias%u-", i);
	while (n < FAKE_BIG_ALIAS_LEN - 5) {
		out[n] = (n % 60 == 59) ? '.' : 'x';
		n++;
	}
	strcpy(out + n, ".test");
}

/* Address i of big.test: 198.51.100.(i + 1) or 2001:db8:b16::(i + 1). */
static inline void
fake_big_addr4(unsigned i, unsigned char a[4])
{
	a[0] = 198;
	a[1] = 51;
	a[2] = 100;
	a[3] = (unsigned char)(i + 1);
}

static inline void
fake_big_addr6(unsigned i, unsigned char a[16])
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = 0x0b;
	a[5] = 0x16;
	a[15] = (unsigned char)(i + 1);
}

#endif
