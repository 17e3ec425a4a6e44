/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_peerproto.c: fuzz target for the peer protocol decoder. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_peerproto.h"
#include "peerproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Whatever decodes must encode back to the very same bytes: the format has
 * one encoding per message, so a difference means the decoder accepted
 * something it should not have, or dropped something it should have kept.
 */
static void
fuzz_reencode(const struct peerproto_msg *m, const uint8_t *key,
    const uint8_t *data, size_t size)
{
	uint8_t out[PEERPROTO_DGRAM_MAX];
	size_t len;

	if (peerproto_encode(m, key, m->timestamp, out, sizeof(out),
	    &len) == -1)
		abort();
	if (len != size || memcmp(out, data, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct peerproto_replay replay;
	struct peerproto_msg m;
	int rc;

	if (peerproto_decode(data, size, NULL, FUZZ_PEERPROTO_NOW,
	    FUZZ_PEERPROTO_SKEW, &m) == PEERPROTO_OK) {
		if (m.authenticated)
			abort();
		fuzz_reencode(&m, NULL, data, size);
	}
	rc = peerproto_decode(data, size, fuzz_peerproto_key,
	    FUZZ_PEERPROTO_NOW, FUZZ_PEERPROTO_SKEW, &m);
	if (peerproto_strerror(rc) == NULL)
		abort();
	if (rc == PEERPROTO_OK) {
		if (!m.authenticated)
			abort();
		fuzz_reencode(&m, fuzz_peerproto_key, data, size);
		/* One just remembered must be refused the second time. */
		if (replay.max_skew_ms == 0)
			peerproto_replay_init(&replay, FUZZ_PEERPROTO_SKEW);
		if (peerproto_replay_check(&replay, &m, FUZZ_PEERPROTO_NOW) ==
		    0 && peerproto_replay_check(&replay, &m,
		    FUZZ_PEERPROTO_NOW) != -1)
			abort();
	}
	return 0;
}
