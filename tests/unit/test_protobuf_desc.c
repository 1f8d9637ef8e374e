// SPDX-License-Identifier: MIT
/* Unit tests of the descriptor set reader and the field naming of
 * schemaless protobuf (formats/protobuf_desc.c): a FileDescriptorSet
 * encoded here by hand, method lookups, names of fields, nested messages
 * and enum values, and sets that are cut short, have wrong wire types,
 * bad names or nest too deep. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/formats.h"

/* A protobuf encoder just big enough for descriptor sets. */
struct pb {
	uint8_t b[8192];
	size_t n;
};

static void put_varint(struct pb *p, uint64_t v)
{
	do {
		assert_true(p->n < sizeof(p->b));
		p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void put_int(struct pb *p, uint32_t field, uint64_t v)
{
	put_varint(p, (uint64_t)field << 3);
	put_varint(p, v);
}

static void put_bytes(struct pb *p, uint32_t field, const void *s, size_t len)
{
	put_varint(p, (uint64_t)field << 3 | 2);
	put_varint(p, len);
	assert_true(len <= sizeof(p->b) - p->n);
	memcpy(p->b + p->n, s, len);
	p->n += len;
}

static void put_str(struct pb *p, uint32_t field, const char *s)
{
	put_bytes(p, field, s, strlen(s));
}

static void put_msg(struct pb *p, uint32_t field, const struct pb *m)
{
	put_bytes(p, field, m->b, m->n);
}

/* A FieldDescriptorProto as field 2 of a DescriptorProto. */
static void put_field(struct pb *msg, const char *name, uint32_t number,
		      uint32_t type, const char *type_name)
{
	struct pb f = { .n = 0 };

	put_str(&f, 1, name);
	put_int(&f, 3, number);
	put_int(&f, 4, 1);	/* LABEL_OPTIONAL: read past */
	put_int(&f, 5, type);
	if (type_name)
		put_str(&f, 6, type_name);
	put_msg(msg, 2, &f);
}

static void put_enum_value(struct pb *e, const char *name, int32_t number)
{
	struct pb v = { .n = 0 };

	put_str(&v, 1, name);
	put_int(&v, 2, (uint64_t)(int64_t)number);
	put_msg(e, 2, &v);
}

/*
 * package t;
 * enum Kind { KIND_A = 0; KIND_B = 1; KIND_NEG = -1; }
 * message HelloRequest {
 *   message Inner { int32 id = 1; }
 *   string name = 1; int32 count = 2; Inner inner = 3; Kind kind = 4;
 * }
 * message HelloReply { string text = 1; }
 * service Greeter { rpc SayHello(HelloRequest) returns (HelloReply); }
 */
static void build_set(struct pb *set)
{
	struct pb file = { .n = 0 }, req = { .n = 0 }, inner = { .n = 0 };
	struct pb reply = { .n = 0 }, kind = { .n = 0 }, svc = { .n = 0 };
	struct pb method = { .n = 0 };

	put_str(&inner, 1, "Inner");
	put_field(&inner, "id", 1, 5, NULL);
	put_str(&req, 1, "HelloRequest");
	put_field(&req, "name", 1, 9, NULL);
	put_field(&req, "count", 2, 5, NULL);
	put_field(&req, "inner", 3, 11, ".t.HelloRequest.Inner");
	put_field(&req, "kind", 4, 14, ".t.Kind");
	put_msg(&req, 3, &inner);
	put_str(&reply, 1, "HelloReply");
	put_field(&reply, "text", 1, 9, NULL);
	put_str(&kind, 1, "Kind");
	put_enum_value(&kind, "KIND_A", 0);
	put_enum_value(&kind, "KIND_B", 1);
	put_enum_value(&kind, "KIND_NEG", -1);
	put_str(&method, 1, "SayHello");
	put_str(&method, 2, ".t.HelloRequest");
	put_str(&method, 3, ".t.HelloReply");
	put_str(&svc, 1, "Greeter");
	put_msg(&svc, 2, &method);
	put_str(&file, 1, "t.proto");	/* FileDescriptorProto.name: skipped */
	put_str(&file, 2, "t");
	put_msg(&file, 4, &req);
	put_msg(&file, 4, &reply);
	put_msg(&file, 5, &kind);
	put_msg(&file, 6, &svc);
	set->n = 0;
	put_msg(set, 1, &file);
}

static struct dt_pb_descriptors *load_ok(const struct pb *set)
{
	struct dt_pb_descriptors *d = NULL;
	char err[128];

	assert_int_equal(dt_pb_descriptors_load(set->b, set->n, &d, err,
						sizeof(err)), 0);
	assert_non_null(d);
	return d;
}

/* Loading must fail with -EBADMSG and an error mentioning want. */
static void load_fails(const uint8_t *buf, size_t len, const char *want)
{
	struct dt_pb_descriptors *d = NULL;
	char err[128];

	assert_int_equal(dt_pb_descriptors_load(buf, len, &d, err,
						sizeof(err)), -EBADMSG);
	assert_null(d);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

static void test_method_types(void **state)
{
	struct dt_pb_descriptors *d;
	const char *in = NULL, *out = NULL;
	struct pb set;

	(void)state;
	build_set(&set);
	d = load_ok(&set);
	assert_int_equal(dt_pb_method_types(d, "/t.Greeter/SayHello", &in,
					    &out), 0);
	assert_string_equal(in, "t.HelloRequest");
	assert_string_equal(out, "t.HelloReply");
	assert_int_equal(dt_pb_method_types(d, "/t.Greeter/Nope", &in, &out),
			 -ENOENT);
	assert_int_equal(dt_pb_method_types(d, "t.Greeter/SayHello", &in,
					    &out), -ENOENT);
	dt_pb_descriptors_free(d);
}

static json_t *field_at(json_t *fields, size_t i)
{
	json_t *f = json_array_get(fields, i);

	assert_non_null(f);
	return f;
}

static const char *name_of(json_t *field)
{
	return json_string_value(json_object_get(field, "name"));
}

/* {name: "ada", count: 3, inner: {id: 7}, kind: B, 9: 5, kind: NEG} */
static json_t *decoded_request(void)
{
	struct pb msg = { .n = 0 }, inner = { .n = 0 };
	json_t *j = NULL;

	put_str(&msg, 1, "ada");
	put_int(&msg, 2, 3);
	put_int(&inner, 1, 7);
	put_msg(&msg, 3, &inner);
	put_int(&msg, 4, 1);
	put_int(&msg, 9, 5);
	put_int(&msg, 4, (uint64_t)(int64_t)-1);
	assert_int_equal(dt_pb_decode(msg.b, msg.n, 0, &j), 0);
	return j;
}

static void test_name_fields(void **state)
{
	struct dt_pb_descriptors *d;
	json_t *j = decoded_request(), *inner;
	struct pb set;

	(void)state;
	build_set(&set);
	d = load_ok(&set);
	assert_int_equal(dt_pb_name_fields(j, d, "t.HelloRequest"), 0);
	assert_string_equal(name_of(field_at(j, 0)), "name");
	assert_string_equal(name_of(field_at(j, 1)), "count");
	assert_string_equal(name_of(field_at(j, 2)), "inner");
	inner = json_object_get(field_at(j, 2), "message");
	assert_string_equal(name_of(field_at(inner, 0)), "id");
	assert_int_equal(json_integer_value(json_object_get(
				 field_at(inner, 0), "value")), 7);
	assert_string_equal(name_of(field_at(j, 3)), "kind");
	assert_string_equal(json_string_value(json_object_get(
				    field_at(j, 3), "enum")), "KIND_B");
	/* not declared: numbers only */
	assert_null(json_object_get(field_at(j, 4), "name"));
	assert_int_equal(json_integer_value(json_object_get(
				 field_at(j, 4), "field")), 9);
	/* sign-extended negative enum value, a decimal string on the wire */
	assert_string_equal(json_string_value(json_object_get(
				    field_at(j, 5), "enum")), "KIND_NEG");
	dt_pb_descriptors_free(d);
	json_decref(j);
}

static void test_name_fields_errors(void **state)
{
	struct dt_pb_descriptors *d;
	json_t *j = decoded_request(), *obj = json_object();
	struct pb set;

	(void)state;
	build_set(&set);
	d = load_ok(&set);
	assert_int_equal(dt_pb_name_fields(j, d, "t.Missing"), -ENOENT);
	assert_int_equal(dt_pb_name_fields(j, d, "t.Kind"), -ENOENT);
	assert_null(json_object_get(field_at(j, 0), "name"));
	assert_int_equal(dt_pb_name_fields(obj, d, "t.HelloReply"), -EINVAL);
	/* the leading dot of descriptor type names is accepted */
	assert_int_equal(dt_pb_name_fields(j, d, ".t.HelloReply"), 0);
	assert_string_equal(name_of(field_at(j, 0)), "text");
	assert_null(json_object_get(field_at(j, 1), "name"));
	dt_pb_descriptors_free(d);
	json_decref(j);
	json_decref(obj);
}

/* A type that holds itself, and JSON nested deeper than any decode:
 * naming stops at DT_PB_MAX_DEPTH levels. The file has no package (a
 * fuzzer find: its absent name is a NULL slice, not to be memcpy()d). */
static void test_name_depth_bound(void **state)
{
	struct pb set = { .n = 0 }, file = { .n = 0 }, node = { .n = 0 };
	struct dt_pb_descriptors *d;
	json_t *top = json_array(), *level = top, *f;
	int i;

	(void)state;
	put_str(&node, 1, "Node");
	put_field(&node, "child", 1, 11, ".Node");
	put_msg(&file, 4, &node);
	put_msg(&set, 1, &file);
	d = load_ok(&set);
	for (i = 0; i < DT_PB_MAX_DEPTH + 10; i++) {
		json_t *next = json_array();

		f = json_pack("{s:i, s:s, s:o}", "field", 1, "wire", "len",
			      "message", next);
		assert_int_equal(json_array_append_new(level, f), 0);
		level = next;
	}
	assert_int_equal(dt_pb_name_fields(top, d, "Node"), 0);
	level = top;
	for (i = 0; i < DT_PB_MAX_DEPTH + 10; i++) {
		f = field_at(level, 0);
		if (i < DT_PB_MAX_DEPTH)
			assert_string_equal(name_of(f), "child");
		else
			assert_null(json_object_get(f, "name"));
		level = json_object_get(f, "message");
	}
	dt_pb_descriptors_free(d);
	json_decref(top);
}

/* Every prefix of a good set loads or fails cleanly with a message; the
 * set cut inside its only file fails. */
static void test_truncated(void **state)
{
	struct dt_pb_descriptors *d;
	struct pb set;
	char err[128];
	int rc;

	(void)state;
	build_set(&set);
	for (size_t n = 0; n < set.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, set.b, n);
		d = NULL;
		rc = dt_pb_descriptors_load(copy, n, &d, err, sizeof(err));
		/* the set is one file field: every cut is inside it */
		assert_int_equal(rc, -EBADMSG);
		assert_null(d);
		assert_true(err[0] != '\0');
		free(copy);
	}
	load_fails(set.b, set.n - 1, "bad wire format");
}

static void test_wrong_wire_types(void **state)
{
	static const uint8_t file_varint[] = { 0x08, 0x01 };
	struct pb set = { .n = 0 }, file = { .n = 0 }, msg = { .n = 0 };

	(void)state;
	load_fails(file_varint, sizeof(file_varint), "file");
	/* a message type whose name is a varint */
	put_int(&msg, 1, 5);
	put_msg(&file, 4, &msg);
	put_msg(&set, 1, &file);
	load_fails(set.b, set.n, "message type name");
	/* a field number that is a string */
	set.n = file.n = msg.n = 0;
	put_str(&msg, 1, "M");
	{
		struct pb f = { .n = 0 };

		put_str(&f, 1, "x");
		put_str(&f, 3, "1");
		put_msg(&msg, 2, &f);
	}
	put_msg(&file, 4, &msg);
	put_msg(&set, 1, &file);
	load_fails(set.b, set.n, "field number");
}

static void test_groups_and_garbage(void **state)
{
	static const uint8_t group[] = { 0x0b, 0x0c };
	static const uint8_t text[] = "syntax = \"proto3\";\n";

	(void)state;
	load_fails(group, sizeof(group), "bad wire format");
	load_fails(text, sizeof(text) - 1, "");
	load_fails(NULL, 0, "without files");
}

/* depth message types, each nested in the one before. */
static void build_nested(struct pb *set, int depth)
{
	struct pb *level = calloc(1, sizeof(*level));
	struct pb *outer = calloc(1, sizeof(*outer));
	struct pb file = { .n = 0 };

	put_str(level, 1, "N");
	for (int i = 1; i < depth; i++) {
		outer->n = 0;
		put_str(outer, 1, "N");
		put_msg(outer, 3, level);
		memcpy(level, outer, sizeof(*level));
	}
	put_msg(&file, 4, level);
	set->n = 0;
	put_msg(set, 1, &file);
	free(level);
	free(outer);
}

static void test_deep_nesting(void **state)
{
	struct dt_pb_descriptors *d;
	json_t *j = json_array();
	struct pb set;
	char name[2 * DT_PB_MAX_TYPE_DEPTH + 1];

	(void)state;
	build_nested(&set, DT_PB_MAX_TYPE_DEPTH);
	d = load_ok(&set);
	name[0] = '\0';
	for (int i = 0; i < DT_PB_MAX_TYPE_DEPTH; i++)
		strcat(name, i ? ".N" : "N");
	assert_int_equal(dt_pb_name_fields(j, d, name), 0);
	dt_pb_descriptors_free(d);
	json_decref(j);
	build_nested(&set, DT_PB_MAX_TYPE_DEPTH + 1);
	load_fails(set.b, set.n, "nested deeper");
	build_nested(&set, 300);
	load_fails(set.b, set.n, "nested deeper");
}

static void test_bad_names(void **state)
{
	struct pb set = { .n = 0 }, file = { .n = 0 }, msg = { .n = 0 };
	char *long_name = malloc(DT_PB_MAX_NAME + 2);

	(void)state;
	put_str(&msg, 1, "has space");
	put_msg(&file, 4, &msg);
	put_msg(&set, 1, &file);
	load_fails(set.b, set.n, "not a protobuf identifier");
	set.n = file.n = msg.n = 0;
	put_bytes(&msg, 1, "a\0b", 3);
	put_msg(&file, 4, &msg);
	put_msg(&set, 1, &file);
	load_fails(set.b, set.n, "not a protobuf identifier");
	set.n = file.n = msg.n = 0;
	memset(long_name, 'a', DT_PB_MAX_NAME + 1);
	long_name[DT_PB_MAX_NAME + 1] = '\0';
	put_str(&file, 2, long_name);
	put_msg(&set, 1, &file);
	load_fails(set.b, set.n, "longer than");
	free(long_name);
	/* a method without its types is of no use for naming */
	set.n = file.n = msg.n = 0;
	put_str(&msg, 1, "S");
	{
		struct pb m = { .n = 0 };

		put_str(&m, 1, "M");
		put_msg(&msg, 2, &m);
	}
	put_msg(&file, 6, &msg);
	put_msg(&set, 1, &file);
	load_fails(set.b, set.n, "/S/M without its types");
}

/* Fuzzer find: a set of files without types or methods loads, and the
 * lookups on its empty tables find nothing (qsort()/bsearch() on NULL). */
static void test_empty_tables(void **state)
{
	struct pb set = { .n = 0 }, file = { .n = 0 }, msg = { .n = 0 };
	struct dt_pb_descriptors *d;
	const char *in, *out;
	json_t *j = json_array();

	(void)state;
	put_str(&file, 2, "empty");
	put_msg(&set, 1, &file);
	d = load_ok(&set);
	assert_int_equal(dt_pb_method_types(d, "/a.S/M", &in, &out), -ENOENT);
	assert_int_equal(dt_pb_name_fields(j, d, "a.M"), -ENOENT);
	dt_pb_descriptors_free(d);
	/* a type without fields */
	set.n = file.n = 0;
	put_str(&msg, 1, "M");
	put_msg(&file, 4, &msg);
	put_msg(&set, 1, &file);
	d = load_ok(&set);
	assert_int_equal(json_array_append_new(j, json_pack("{s:i}", "field",
							    1)), 0);
	assert_int_equal(dt_pb_name_fields(j, d, "M"), 0);
	assert_null(json_object_get(field_at(j, 0), "name"));
	dt_pb_descriptors_free(d);
	json_decref(j);
}

/* Nested types under a long name: each full name repeats it, so the
 * names would take hundreds of times the set's size; refused. */
static void test_name_amplification(void **state)
{
	struct pb *set = calloc(1, sizeof(*set));
	struct pb *file = calloc(1, sizeof(*file));
	struct pb *outer = calloc(1, sizeof(*outer));
	struct pb inner = { .n = 0 };
	char name[4001];

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	put_str(outer, 1, name);
	put_str(&inner, 1, "b");
	for (int i = 0; i < 700; i++)
		put_msg(outer, 3, &inner);
	put_msg(file, 4, outer);
	put_msg(set, 1, file);
	load_fails(set->b, set->n, "more memory");
	free(set);
	free(file);
	free(outer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_method_types),
		cmocka_unit_test(test_name_fields),
		cmocka_unit_test(test_name_fields_errors),
		cmocka_unit_test(test_name_depth_bound),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrong_wire_types),
		cmocka_unit_test(test_groups_and_garbage),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_empty_tables),
		cmocka_unit_test(test_name_amplification),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
