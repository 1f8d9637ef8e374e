// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the gRPC message splitter and the schemaless
 * protobuf decoder.
 *
 * Input: byte 0 picks the depth limit (low 6 bits) and the message size
 * limit (bit 6: 64 bytes, else the default); the rest is a reassembled
 * body. The body is split into messages, each split checked against the
 * bytes it came from and every prefix of the body (a body cut short must
 * say so, never yield a different message); every message, and the body
 * itself, goes through the protobuf decoder, whose JSON must serialise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "tests/fuzz/fuzz_check.h"

/* Decodes and serialises; a message valid at depth 1 is valid at any
 * depth (nesting only changes how length-delimited fields show). */
static void pb_check(const uint8_t *p, size_t len, int depth)
{
	json_t *j = NULL, *flat = NULL;
	char *text;
	int rc, rc_flat;

	rc = dt_pb_decode(p, len, depth, &j);
	CHECK(rc == 0 || rc == -EBADMSG);
	rc_flat = dt_pb_decode(p, len, 1, &flat);
	CHECK(rc_flat == rc);
	if (rc)
		return;
	CHECK(json_is_array(j) && json_array_size(j) == json_array_size(flat));
	CHECK(json_array_size(j) <= len / 2);
	text = json_dumps(j, JSON_COMPACT);
	CHECK(text != NULL);
	free(text);
	json_decref(j);
	json_decref(flat);
}

/* The message at p[0..len) of n bytes: every prefix waits for it. */
static void prefix_check(const uint8_t *p, size_t n, uint32_t max,
			 const struct dt_grpc_message *whole)
{
	struct dt_grpc_message m;
	size_t cut;

	/* three cuts are enough: inside the prefix, at its end, inside the
	 * data; all of them would make the target quadratic */
	for (cut = 0; cut < n; cut += n / 3 + 1) {
		CHECK(dt_grpc_message_next(p, cut, max, &m) == 0);
		CHECK(m.data.len <= whole->length);
		if (cut >= DT_GRPC_PREFIX_LEN) {
			CHECK(m.length == whole->length);
			CHECK(m.data.len == cut - DT_GRPC_PREFIX_LEN);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_grpc_message m;
	uint32_t max;
	size_t off = 0;
	ssize_t n;
	int depth;

	if (size < 1)
		return 0;
	depth = data[0] & 63;
	max = (data[0] & 64) ? 64 : 0;
	data++;
	size--;

	while (off < size) {
		n = dt_grpc_message_next(data + off, size - off, max, &m);
		CHECK(n == 0 || n == -EBADMSG || n == -E2BIG || n > 0);
		if (n <= 0) {
			CHECK(n != 0 || m.data.len <= size - off);
			break;
		}
		CHECK((size_t)n == DT_GRPC_PREFIX_LEN + m.length &&
		      (size_t)n <= size - off);
		CHECK(m.data.ptr == data + off + DT_GRPC_PREFIX_LEN &&
		      m.data.len == m.length);
		CHECK(max == 0 || m.length <= max);
		prefix_check(data + off, (size_t)n, max, &m);
		pb_check(m.data.ptr, m.data.len, depth);
		off += (size_t)n;
	}
	pb_check(data, size, depth);
	return 0;
}
