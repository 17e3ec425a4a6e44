/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_proto.c: fuzz target for the lookup protocol decoders. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The codec is canonical: whatever decodes must encode back to the very
 * same frame. A difference means the decoder accepted something the
 * encoder cannot produce (or the reverse), so both sides of a connection
 * could disagree about a message: abort so the fuzzer keeps the input.
 */
static void
check_request(const uint8_t *frame, size_t flen)
{
	uint8_t out[PROTO_HDR_LEN + PROTO_FRAME_MAX];
	struct proto_request r;
	struct buf b;

	if (proto_request_decode(frame + PROTO_HDR_LEN, flen - PROTO_HDR_LEN,
	    &r) == -1)
		return;
	buf_init_write(&b, out, sizeof(out));
	if (proto_request_encode(&b, &r) == -1 || b.pos != flen ||
	    memcmp(out, frame, flen) != 0)
		abort();
}

static void
check_response(const uint8_t *frame, size_t flen)
{
	uint8_t out[PROTO_HDR_LEN + PROTO_FRAME_MAX];
	struct proto_answer a;
	struct buf b;
	uint32_t id;

	if (proto_response_decode(frame + PROTO_HDR_LEN,
	    flen - PROTO_HDR_LEN, &id, &a) == -1)
		return;
	buf_init_write(&b, out, sizeof(out));
	if (proto_response_encode(&b, id, &a) == -1 || b.pos != flen ||
	    memcmp(out, frame, flen) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request r;
	struct proto_answer a;
	size_t flen = 0;
	uint32_t id;
	int rc;

	/* Walk the input as a pipelined stream, the way listen.c reads it. */
	while ((rc = proto_frame_peek(data, size, &flen)) == 1) {
		if (flen <= PROTO_HDR_LEN || flen > size)
			abort();
		check_request(data, flen);
		check_response(data, flen);
		data += flen;
		size -= flen;
	}
	if (rc == 0 && size >= PROTO_HDR_LEN &&
	    (size_t)(data[0] << 8 | data[1]) + PROTO_HDR_LEN <= size)
		abort();
	/* The rest as a bare payload too: decoders must not read past it. */
	(void)proto_request_decode(data, size, &r);
	(void)proto_response_decode(data, size, &id, &a);
	return 0;
}
