/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_peerproto.h: the fixed key and clock of the peer fuzzer. */
#ifndef FUZZ_PEERPROTO_H
#define FUZZ_PEERPROTO_H

#include <stdint.h>

/* Seed datagrams are signed at this time with this key, so the signed
 * path of the decoder is reachable from the corpus. */
#define FUZZ_PEERPROTO_NOW 1700000000000ULL
#define FUZZ_PEERPROTO_SKEW 30000

static const uint8_t fuzz_peerproto_key[32] = {
	'c', 'o', 'd', 'n', 's', '-', 'f', 'u', 'z', 'z', '-', 'k', 'e', 'y',
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
};

#endif
