// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the descriptor set reader and the field naming of
 * schemaless protobuf (formats/protobuf_desc.c).
 *
 * Input: a FileDescriptorSet. A set that loads names the schemaless
 * decoding of the input itself by the method and type names the seeds
 * declare (t.Greeter/SayHello, t.HelloRequest), so that mutations reach
 * the lookups and the naming; the named JSON must serialise. A set that
 * fails to load must say why.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/formats.h"
#include "tests/fuzz/fuzz_check.h"

static void name_check(json_t *j, const struct dt_pb_descriptors *d,
		       const char *type)
{
	char *text;
	int rc;

	rc = dt_pb_name_fields(j, d, type);
	CHECK(rc == 0 || rc == -ENOENT);
	text = json_dumps(j, JSON_COMPACT);
	CHECK(text != NULL);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_pb_descriptors *d = NULL;
	const char *in, *out;
	char err[128];
	json_t *j = NULL;
	int rc;

	rc = dt_pb_descriptors_load(data, size, &d, err, sizeof(err));
	CHECK(rc == 0 || rc == -EBADMSG);
	if (rc) {
		CHECK(d == NULL && err[0] != '\0');
		return 0;
	}
	if (dt_pb_decode(data, size, 0, &j) == 0) {
		name_check(j, d, "t.HelloRequest");
		if (dt_pb_method_types(d, "/t.Greeter/SayHello", &in,
				       &out) == 0) {
			name_check(j, d, in);
			name_check(j, d, out);
		}
		json_decref(j);
	}
	dt_pb_descriptors_free(d);
	return 0;
}
