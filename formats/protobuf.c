// SPDX-License-Identifier: MIT
/*
 * Protobuf without a schema: the wire format's fields (field number, wire
 * type, value), with length-delimited values guessed as a nested message,
 * text or bytes. Each nested range is tried once per attempt of its
 * parent, so the work is bounded by the input size times the depth.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/protobuf_int.h"

enum pb_wire {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_I32 = 5,
};

/* Non-minimal encodings are accepted, as protobuf parsers do. */
int dt_pb_read_varint(const uint8_t *buf, size_t len, size_t *off,
		      uint64_t *v)
{
	uint64_t val = 0;
	uint8_t b;
	int i;

	for (i = 0; i < 10; i++) {
		if (*off >= len)
			return -EBADMSG;
		b = buf[(*off)++];
		if (i == 9 && b > 1)
			return -EBADMSG;
		val |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = val;
			return 0;
		}
	}
	return -EBADMSG;
}

static uint64_t read_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Integers past json_int_t's range as decimal strings. */
static json_t *json_u64(uint64_t v)
{
	char text[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(text, sizeof(text), "%" PRIu64, v);
	return json_string(text);
}

static bool utf8_valid(const uint8_t *p, size_t len)
{
	size_t off = 0, n;

	while (off < len) {
		n = dt_utf8_seq_len(p + off, len - off);
		if (n == 0)
			return false;
		off += n;
	}
	return true;
}

static json_t *json_hex(const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	json_t *j;
	char *text = malloc(2 * len + 1);
	size_t i;

	if (!text)
		return NULL;
	for (i = 0; i < len; i++) {
		text[2 * i] = digits[p[i] >> 4];
		text[2 * i + 1] = digits[p[i] & 15];
	}
	text[2 * len] = '\0';
	j = json_stringn(text, 2 * len);
	free(text);
	return j;
}

static int decode_message(const uint8_t *buf, size_t len, int depth,
			  int max_depth, json_t **out);

/* Sets the value of a length-delimited field on obj. */
static int len_value(json_t *obj, const uint8_t *p, size_t n, int depth,
		     int max_depth)
{
	json_t *nested;
	bool text;
	int rc;

	if (n > 0 && depth < max_depth) {
		rc = decode_message(p, n, depth + 1, max_depth, &nested);
		if (rc == -ENOMEM)
			return rc;
		if (rc == 0)
			return json_object_set_new(obj, "message", nested) ?
				       -ENOMEM : 0;
	}
	text = utf8_valid(p, n);
	nested = text ? json_stringn((const char *)p, n) : json_hex(p, n);
	return json_object_set_new(obj, text ? "string" : "bytes", nested) ?
		       -ENOMEM : 0;
}

static const char *wire_name(uint64_t wire)
{
	switch (wire) {
	case PB_VARINT: return "varint";
	case PB_I64: return "i64";
	case PB_LEN: return "len";
	case PB_I32: return "i32";
	}
	return NULL;
}

/* One field at buf[*off..len) into obj. */
static int decode_field(const uint8_t *buf, size_t len, size_t *off,
			int depth, int max_depth, json_t *obj)
{
	uint64_t key, v;
	const char *wire;

	if (dt_pb_read_varint(buf, len, off, &key))
		return -EBADMSG;
	wire = wire_name(key & 7);
	if ((key >> 3) == 0 || (key >> 3) > DT_PB_MAX_FIELD || !wire)
		return -EBADMSG;
	if (json_object_set_new(obj, "field", json_integer((json_int_t)(key >> 3))) ||
	    json_object_set_new(obj, "wire", json_string(wire)))
		return -ENOMEM;
	switch (key & 7) {
	case PB_VARINT:
		if (dt_pb_read_varint(buf, len, off, &v))
			return -EBADMSG;
		break;
	case PB_I64: case PB_I32:
		if (len - *off < ((key & 7) == PB_I64 ? 8u : 4u))
			return -EBADMSG;
		v = read_le(buf + *off, (key & 7) == PB_I64 ? 8 : 4);
		*off += (key & 7) == PB_I64 ? 8 : 4;
		break;
	default:
		if (dt_pb_read_varint(buf, len, off, &v) || v > len - *off)
			return -EBADMSG;
		*off += v;
		return len_value(obj, buf + *off - v, v, depth, max_depth);
	}
	return json_object_set_new(obj, "value", json_u64(v)) ? -ENOMEM : 0;
}

static int decode_message(const uint8_t *buf, size_t len, int depth,
			  int max_depth, json_t **out)
{
	json_t *fields = json_array(), *obj;
	size_t off = 0;
	int rc = -ENOMEM;

	if (!fields)
		return -ENOMEM;
	while (off < len) {
		obj = json_object();
		if (!obj || json_array_append_new(fields, obj))
			goto fail;
		rc = decode_field(buf, len, &off, depth, max_depth, obj);
		if (rc)
			goto fail;
	}
	*out = fields;
	return 0;
fail:
	json_decref(fields);
	return rc;
}

int dt_pb_decode(const uint8_t *buf, size_t len, int max_depth, json_t **out)
{
	if (max_depth <= 0 || max_depth > DT_PB_MAX_DEPTH)
		max_depth = DT_PB_MAX_DEPTH;
	return decode_message(buf, len, 1, max_depth, out);
}
