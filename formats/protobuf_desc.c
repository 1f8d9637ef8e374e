// SPDX-License-Identifier: MIT
/*
 * Field names for schemaless protobuf: the parts of a FileDescriptorSet
 * (google/protobuf/descriptor.proto) that name fields, read with a walker
 * over the wire format. The set comes from the user, so it is untrusted
 * input like any recording: every length is checked against the bytes
 * that hold it, and nested types recurse at most DT_PB_MAX_TYPE_DEPTH
 * levels. What is kept is a flat table of types sorted by their fully
 * qualified name and a table of gRPC methods sorted by path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/protobuf_int.h"

/* Field numbers of descriptor.proto that are read; others are skipped. */
enum {
	SET_FILE = 1,
	FILE_PACKAGE = 2, FILE_MESSAGE = 4, FILE_ENUM = 5, FILE_SERVICE = 6,
	MSG_NAME = 1, MSG_FIELD = 2, MSG_NESTED = 3, MSG_ENUM = 4,
	FIELD_NAME = 1, FIELD_NUMBER = 3, FIELD_TYPE = 5, FIELD_TYPE_NAME = 6,
	ENUM_NAME = 1, ENUM_VALUE = 2,
	VALUE_NAME = 1, VALUE_NUMBER = 2,
	SERVICE_NAME = 1, SERVICE_METHOD = 2,
	METHOD_NAME = 1, METHOD_INPUT = 2, METHOD_OUTPUT = 3,
};

/* FieldDescriptorProto.Type values that name another type. */
enum { TYPE_GROUP = 10, TYPE_MESSAGE = 11, TYPE_ENUM = 14 };

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* A field of a message type, or a value of an enum type. */
struct pb_member {
	int64_t number;
	uint32_t type;		/* TYPE_*, or 0 for enum values */
	char *name;
	char *type_name;	/* fully qualified, no leading dot; or NULL */
};

struct pb_type {
	char *full_name;
	bool is_enum;
	struct pb_member *members;
	size_t nmembers, cap;
};

struct pb_method {
	char *path;		/* "/pkg.Service/Method" */
	char *input;
	char *output;
};

struct dt_pb_descriptors {
	struct pb_type *types;
	size_t ntypes, cap_types;
	struct pb_method *methods;
	size_t nmethods, cap_methods;
};

/* One field of a message on the wire; ptr/len for length-delimited ones. */
struct pb_item {
	uint64_t number;
	uint8_t wire;
	uint64_t value;
	const uint8_t *ptr;
	size_t len;
};

struct pb_iter {
	const uint8_t *buf;
	size_t len;
	size_t off;
};

struct loader {
	struct dt_pb_descriptors *d;
	char *err;
	size_t errlen;
	/* Fully qualified names repeat their scope, so nested types with
	 * long names could take far more memory than the set's size: the
	 * bytes of names are bounded by a multiple of it. */
	size_t name_budget;
};

#define NAME_BUDGET_PER_BYTE 16
#define NAME_BUDGET_MIN (64u << 10)

static int load_fail(struct loader *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int load_fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	/* the innermost failure says what was wrong: keep it */
	if (l->errlen && !l->err[0]) {
		va_start(ap, fmt);
		vsnprintf(l->err, l->errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* 1 with the next field in *it, 0 at the end, -EBADMSG. */
static int pb_next(struct pb_iter *r, struct pb_item *it)
{
	uint64_t key;
	size_t width;

	if (r->off >= r->len)
		return 0;
	if (dt_pb_read_varint(r->buf, r->len, &r->off, &key))
		return -EBADMSG;
	it->number = key >> 3;
	it->wire = key & 7;
	it->ptr = NULL;
	it->len = 0;
	if (it->number == 0)
		return -EBADMSG;
	switch (it->wire) {
	case WIRE_VARINT:
		return dt_pb_read_varint(r->buf, r->len, &r->off,
					 &it->value) ? -EBADMSG : 1;
	case WIRE_LEN:
		if (dt_pb_read_varint(r->buf, r->len, &r->off, &it->value) ||
		    it->value > r->len - r->off)
			return -EBADMSG;
		it->ptr = r->buf + r->off;
		it->len = (size_t)it->value;
		r->off += it->len;
		return 1;
	case WIRE_I64: case WIRE_I32:
		width = it->wire == WIRE_I64 ? 8 : 4;
		if (r->len - r->off < width)
			return -EBADMSG;
		r->off += width;
		return 1;
	}
	return -EBADMSG;	/* groups and undefined wire types */
}

static void pb_iter_init(struct pb_iter *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
}

/* 0 when the field has the wire type its declaration gives it. */
static int expect_wire(struct loader *l, const struct pb_item *it,
		       uint8_t wire, const char *what)
{
	if (it->wire == wire)
		return 0;
	return load_fail(l, "%s: wire type %u, expected %u", what,
			 (unsigned)it->wire, (unsigned)wire);
}

/* arr of n elements of size sz with room for one more: arr itself, a
 * larger copy (arr is then freed), or NULL (arr is kept). */
static void *grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	size_t ncap = *cap ? 2 * *cap : 8;
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, ncap * sz);
	if (p)
		*cap = ncap;
	return p;
}

/* Protobuf identifiers and the dots between them: ASCII only, so names
 * are valid JSON strings and C strings as they are. */
static bool is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/*
 * *out = a new string (caller frees) of scope "." name, or name alone
 * when scope is empty, without name's leading dot; at most
 * DT_PB_MAX_NAME bytes of identifier characters.
 */
static int join_name(struct loader *l, const char *scope, const uint8_t *name,
		     size_t len, char **out)
{
	size_t slen = scope ? strlen(scope) : 0;
	char *s;

	if (len && name[0] == '.') {
		name++;
		len--;
	}
	if (len > DT_PB_MAX_NAME || slen + 1 + len > DT_PB_MAX_NAME)
		return load_fail(l, "name longer than %d bytes",
				 DT_PB_MAX_NAME);
	if (slen + len + 2 > l->name_budget)
		return load_fail(l, "names take more memory than %d times "
				 "the set's size", NAME_BUDGET_PER_BYTE);
	l->name_budget -= slen + len + 2;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i]))
			return load_fail(l, "name with a byte 0x%02x, not a "
					 "protobuf identifier", name[i]);
	s = malloc(slen + 1 + len + 1);
	if (!s)
		return -ENOMEM;
	if (slen) {
		memcpy(s, scope, slen);
		s[slen++] = '.';
	}
	if (len)	/* an absent name is a NULL slice */
		memcpy(s + slen, name, len);
	s[slen + len] = '\0';
	*out = s;
	return 0;
}

static int dup_item(struct loader *l, const struct pb_item *it,
		    const char *what, char **out)
{
	int rc = expect_wire(l, it, WIRE_LEN, what);

	if (rc)
		return rc;
	free(*out);	/* a repeated singular field: the last one wins */
	*out = NULL;
	return join_name(l, NULL, it->ptr, it->len, out);
}

/*
 * The last string field `number` of the message at buf[0..len), as a
 * slice of buf (empty when absent): names come before the parts they
 * qualify only by convention, so they are found first.
 */
static int find_name(struct loader *l, const uint8_t *buf, size_t len,
		     uint64_t number, const char *what, struct dt_slice *out)
{
	struct pb_iter r;
	struct pb_item it;
	int rc;

	out->ptr = NULL;
	out->len = 0;
	pb_iter_init(&r, buf, len);
	while ((rc = pb_next(&r, &it)) == 1) {
		if (it.number != number)
			continue;
		if (expect_wire(l, &it, WIRE_LEN, what))
			return -EBADMSG;
		out->ptr = it.ptr;
		out->len = it.len;
	}
	return rc ? load_fail(l, "%s: bad wire format", what) : 0;
}

/* Appends a type named scope.name; its index in *idx. */
static int add_type(struct loader *l, const char *scope,
		    const struct dt_slice *name, bool is_enum, size_t *idx)
{
	struct dt_pb_descriptors *d = l->d;
	struct pb_type *t;
	int rc;

	if (!name->len)
		return load_fail(l, "%s without a name",
				 is_enum ? "enum" : "message type");
	t = grow(d->types, &d->cap_types, d->ntypes, sizeof(*t));
	if (!t)
		return -ENOMEM;
	d->types = t;
	t += d->ntypes;
	memset(t, 0, sizeof(*t));
	t->is_enum = is_enum;
	rc = join_name(l, scope, name->ptr, name->len, &t->full_name);
	if (rc)
		return rc;
	*idx = d->ntypes++;
	return 0;
}

static struct pb_member *add_member(struct pb_type *t)
{
	struct pb_member *m;

	m = grow(t->members, &t->cap, t->nmembers, sizeof(*m));
	if (!m)
		return NULL;
	t->members = m;
	m += t->nmembers++;
	memset(m, 0, sizeof(*m));
	return m;
}

/* A FieldDescriptorProto into the members of type idx. */
static int load_field(struct loader *l, size_t idx, const struct pb_item *f)
{
	struct pb_member *m = add_member(&l->d->types[idx]);
	struct pb_iter r;
	struct pb_item it;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	pb_iter_init(&r, f->ptr, f->len);
	while (!rc && (rc = pb_next(&r, &it)) == 1) {
		rc = 0;
		if (it.number == FIELD_NAME)
			rc = dup_item(l, &it, "field name", &m->name);
		else if (it.number == FIELD_TYPE_NAME)
			rc = dup_item(l, &it, "field type_name", &m->type_name);
		else if (it.number == FIELD_NUMBER || it.number == FIELD_TYPE)
			rc = expect_wire(l, &it, WIRE_VARINT,
					 "field number or type");
		if (!rc && it.number == FIELD_NUMBER)
			m->number = (uint32_t)it.value;
		else if (!rc && it.number == FIELD_TYPE)
			m->type = (uint32_t)it.value;
	}
	if (rc < 0)
		return rc == -ENOMEM ? rc : load_fail(l, "field: bad wire format");
	if (!m->name)
		return load_fail(l, "field without a name");
	return 0;
}

/* An EnumValueDescriptorProto into the members of enum idx. */
static int load_enum_value(struct loader *l, size_t idx,
			   const struct pb_item *v)
{
	struct pb_member *m = add_member(&l->d->types[idx]);
	struct pb_iter r;
	struct pb_item it;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	pb_iter_init(&r, v->ptr, v->len);
	while (!rc && (rc = pb_next(&r, &it)) == 1) {
		rc = 0;
		if (it.number == VALUE_NAME)
			rc = dup_item(l, &it, "enum value name", &m->name);
		else if (it.number == VALUE_NUMBER &&
			 !(rc = expect_wire(l, &it, WIRE_VARINT,
					    "enum value number")))
			/* int32, sign-extended on the wire */
			m->number = (int32_t)(uint32_t)it.value;
	}
	if (rc < 0)
		return rc == -ENOMEM ? rc :
		       load_fail(l, "enum value: bad wire format");
	if (!m->name)
		return load_fail(l, "enum value without a name");
	return 0;
}

/* An EnumDescriptorProto declared in scope. */
static int load_enum(struct loader *l, const char *scope,
		     const struct pb_item *e)
{
	struct dt_slice name;
	struct pb_iter r;
	struct pb_item it;
	size_t idx;
	int rc;

	rc = expect_wire(l, e, WIRE_LEN, "enum");
	if (!rc)
		rc = find_name(l, e->ptr, e->len, ENUM_NAME, "enum name", &name);
	if (!rc)
		rc = add_type(l, scope, &name, true, &idx);
	if (rc)
		return rc;
	pb_iter_init(&r, e->ptr, e->len);
	while ((rc = pb_next(&r, &it)) == 1) {
		if (it.number != ENUM_VALUE)
			continue;
		rc = expect_wire(l, &it, WIRE_LEN, "enum value");
		if (!rc)
			rc = load_enum_value(l, idx, &it);
		if (rc)
			return rc;
	}
	return rc;	/* find_name() walked the same bytes: no error */
}

/* A DescriptorProto declared in scope, its nested types depth levels
 * below the file. */
static int load_message(struct loader *l, const char *scope,
			const struct pb_item *msg, int depth)
{
	struct dt_slice name;
	struct pb_iter r;
	struct pb_item it;
	size_t idx;
	int rc;

	if (depth > DT_PB_MAX_TYPE_DEPTH)
		return load_fail(l, "message types nested deeper than %d",
				 DT_PB_MAX_TYPE_DEPTH);
	rc = expect_wire(l, msg, WIRE_LEN, "message type");
	if (!rc)
		rc = find_name(l, msg->ptr, msg->len, MSG_NAME,
			       "message type name", &name);
	if (!rc)
		rc = add_type(l, scope, &name, false, &idx);
	if (rc)
		return rc;
	pb_iter_init(&r, msg->ptr, msg->len);
	while ((rc = pb_next(&r, &it)) == 1) {
		/* nested types grow the table: refer to this one by index */
		const char *full = l->d->types[idx].full_name;

		rc = 0;
		if (it.number == MSG_FIELD) {
			rc = expect_wire(l, &it, WIRE_LEN, "field");
			if (!rc)
				rc = load_field(l, idx, &it);
		} else if (it.number == MSG_NESTED) {
			rc = load_message(l, full, &it, depth + 1);
		} else if (it.number == MSG_ENUM) {
			rc = load_enum(l, full, &it);
		}
		if (rc)
			return rc;
	}
	return rc;
}

/* *out = "/service/method", a new string the caller frees. */
static int method_path(struct loader *l, const char *service,
		       const struct dt_slice *method, char **out)
{
	size_t n = strlen(service) + 2 + method->len;

	if (n > DT_PB_MAX_NAME)
		return load_fail(l, "name longer than %d bytes",
				 DT_PB_MAX_NAME);
	*out = malloc(n + 1);
	if (!*out)
		return -ENOMEM;
	snprintf(*out, n + 1, "/%s/%.*s", service, (int)method->len,
		 (const char *)method->ptr);
	return 0;
}

/* A MethodDescriptorProto of the service named service. */
static int load_method(struct loader *l, const char *service,
		       const struct pb_item *m)
{
	struct dt_pb_descriptors *d = l->d;
	struct pb_method *pm;
	struct dt_slice name;
	struct pb_iter r;
	struct pb_item it;
	int rc;

	rc = expect_wire(l, m, WIRE_LEN, "method");
	if (!rc)
		rc = find_name(l, m->ptr, m->len, METHOD_NAME, "method name",
			       &name);
	if (!rc && !name.len)
		rc = load_fail(l, "method without a name");
	if (rc)
		return rc;
	pm = grow(d->methods, &d->cap_methods, d->nmethods, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	d->methods = pm;
	pm += d->nmethods++;
	memset(pm, 0, sizeof(*pm));
	rc = method_path(l, service, &name, &pm->path);
	pb_iter_init(&r, m->ptr, m->len);
	while (!rc && (rc = pb_next(&r, &it)) == 1) {
		rc = 0;
		if (it.number == METHOD_INPUT)
			rc = dup_item(l, &it, "method input_type", &pm->input);
		else if (it.number == METHOD_OUTPUT)
			rc = dup_item(l, &it, "method output_type",
				      &pm->output);
	}
	if (!rc && (!pm->input || !pm->output))
		rc = load_fail(l, "method %s without its types", pm->path);
	return rc;
}

/* A ServiceDescriptorProto of package. */
static int load_service(struct loader *l, const char *package,
			const struct pb_item *s)
{
	struct dt_slice name;
	struct pb_iter r;
	struct pb_item it;
	char *full = NULL;
	int rc;

	rc = expect_wire(l, s, WIRE_LEN, "service");
	if (!rc)
		rc = find_name(l, s->ptr, s->len, SERVICE_NAME, "service name",
			       &name);
	if (!rc && !name.len)
		rc = load_fail(l, "service without a name");
	if (!rc)
		rc = join_name(l, package, name.ptr, name.len, &full);
	pb_iter_init(&r, s->ptr, s->len);
	while (!rc && (rc = pb_next(&r, &it)) == 1)
		rc = it.number == SERVICE_METHOD ?
			     load_method(l, full, &it) : 0;
	free(full);
	return rc;
}

/* A FileDescriptorProto. */
static int load_file(struct loader *l, const struct pb_item *f)
{
	struct dt_slice pkg;
	struct pb_iter r;
	struct pb_item it;
	char *package = NULL;
	int rc;

	rc = expect_wire(l, f, WIRE_LEN, "file");
	if (!rc)
		rc = find_name(l, f->ptr, f->len, FILE_PACKAGE, "package",
			       &pkg);
	if (!rc)
		rc = join_name(l, NULL, pkg.ptr, pkg.len, &package);
	pb_iter_init(&r, f->ptr, f->len);
	while (!rc && (rc = pb_next(&r, &it)) == 1) {
		if (it.number == FILE_MESSAGE)
			rc = load_message(l, package, &it, 1);
		else if (it.number == FILE_ENUM)
			rc = load_enum(l, package, &it);
		else if (it.number == FILE_SERVICE)
			rc = load_service(l, package, &it);
		else
			rc = 0;
	}
	free(package);
	return rc;
}

static int cmp_type(const void *a, const void *b)
{
	return strcmp(((const struct pb_type *)a)->full_name,
		      ((const struct pb_type *)b)->full_name);
}

static int cmp_member(const void *a, const void *b)
{
	int64_t x = ((const struct pb_member *)a)->number;
	int64_t y = ((const struct pb_member *)b)->number;

	return (x > y) - (x < y);
}

static int cmp_method(const void *a, const void *b)
{
	return strcmp(((const struct pb_method *)a)->path,
		      ((const struct pb_method *)b)->path);
}

/* qsort() and bsearch() take no NULL array, even an empty one. */
static void sort_array(void *a, size_t n, size_t sz,
		       int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(a, n, sz, cmp);
}

static void *search_array(const void *key, const void *a, size_t n,
			  size_t sz, int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, a, n, sz, cmp) : NULL;
}

/* Sorted for the binary searches of the lookups. */
static void sort_tables(struct dt_pb_descriptors *d)
{
	sort_array(d->types, d->ntypes, sizeof(*d->types), cmp_type);
	for (size_t i = 0; i < d->ntypes; i++)
		sort_array(d->types[i].members, d->types[i].nmembers,
			   sizeof(*d->types[i].members), cmp_member);
	sort_array(d->methods, d->nmethods, sizeof(*d->methods), cmp_method);
}

int dt_pb_descriptors_load(const uint8_t *buf, size_t len,
			   struct dt_pb_descriptors **out, char *err,
			   size_t errlen)
{
	struct loader l = { .err = err, .errlen = errlen };
	struct pb_iter r;
	struct pb_item it;
	size_t nfiles = 0;
	int rc;

	if (errlen)
		err[0] = '\0';
	l.name_budget = len < (SIZE_MAX - NAME_BUDGET_MIN) / NAME_BUDGET_PER_BYTE ?
				NAME_BUDGET_PER_BYTE * len + NAME_BUDGET_MIN :
				SIZE_MAX;
	l.d = calloc(1, sizeof(*l.d));
	if (!l.d)
		return -ENOMEM;
	pb_iter_init(&r, buf, len);
	while ((rc = pb_next(&r, &it)) == 1) {
		rc = 0;
		if (it.number == SET_FILE && (rc = load_file(&l, &it)) == 0)
			nfiles++;
		if (rc)
			break;
	}
	if (rc == -EBADMSG)
		load_fail(&l, "not a FileDescriptorSet: bad wire format at "
			  "byte %zu", r.off);
	else if (!rc && !nfiles)
		rc = load_fail(&l, "a FileDescriptorSet without files");
	if (rc) {
		if (rc == -ENOMEM && errlen)
			snprintf(err, errlen, "out of memory");
		dt_pb_descriptors_free(l.d);
		return rc;
	}
	sort_tables(l.d);
	*out = l.d;
	return 0;
}

void dt_pb_descriptors_free(struct dt_pb_descriptors *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ntypes; i++) {
		for (size_t j = 0; j < d->types[i].nmembers; j++) {
			free(d->types[i].members[j].name);
			free(d->types[i].members[j].type_name);
		}
		free(d->types[i].members);
		free(d->types[i].full_name);
	}
	for (size_t i = 0; i < d->nmethods; i++) {
		free(d->methods[i].path);
		free(d->methods[i].input);
		free(d->methods[i].output);
	}
	free(d->types);
	free(d->methods);
	free(d);
}

int dt_pb_method_types(const struct dt_pb_descriptors *d, const char *path,
		       const char **input, const char **output)
{
	struct pb_method key = { .path = (char *)path };
	const struct pb_method *m;

	m = search_array(&key, d->methods, d->nmethods, sizeof(*m),
			 cmp_method);
	if (!m)
		return -ENOENT;
	*input = m->input;
	*output = m->output;
	return 0;
}

static const struct pb_type *find_type(const struct dt_pb_descriptors *d,
				       const char *name)
{
	struct pb_type key = { .full_name = (char *)name };

	if (!name)
		return NULL;
	if (name[0] == '.')
		key.full_name++;
	return search_array(&key, d->types, d->ntypes, sizeof(key),
			    cmp_type);
}

static const struct pb_member *find_member(const struct pb_type *t,
					   int64_t number)
{
	struct pb_member key = { .number = number };

	return search_array(&key, t->members, t->nmembers, sizeof(key),
			    cmp_member);
}

/* The wire value of a decoded varint field: a JSON integer, or a decimal
 * string past INT64_MAX (negative int32 values are sign-extended). */
static bool wire_value(const json_t *v, int64_t *out)
{
	const char *s = json_string_value(v);
	char *end;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!s || !*s)
		return false;
	errno = 0;
	*out = (int64_t)strtoull(s, &end, 10);
	return !errno && !*end;
}

static int name_enum(json_t *field, const struct pb_type *e)
{
	const struct pb_member *v;
	int64_t n;

	if (!e || !e->is_enum || !wire_value(json_object_get(field, "value"), &n))
		return 0;
	v = find_member(e, (int32_t)n);
	if (!v)
		return 0;
	return json_object_set_new(field, "enum", json_string(v->name)) ?
		       -ENOMEM : 0;
}

static int name_message(json_t *fields, const struct dt_pb_descriptors *d,
			const struct pb_type *t, int depth)
{
	const struct pb_member *m;
	const struct pb_type *nested;
	json_t *field, *number, *inner;
	size_t i;
	int rc;

	json_array_foreach(fields, i, field) {
		number = json_object_get(field, "field");
		if (!json_is_integer(number))
			continue;
		m = find_member(t, json_integer_value(number));
		if (!m)
			continue;
		if (json_object_set_new(field, "name", json_string(m->name)))
			return -ENOMEM;
		nested = m->type_name ? find_type(d, m->type_name) : NULL;
		inner = json_object_get(field, "message");
		rc = 0;
		if (m->type == TYPE_ENUM)
			rc = name_enum(field, nested);
		else if ((m->type == TYPE_MESSAGE || m->type == TYPE_GROUP) &&
			 nested && !nested->is_enum && json_is_array(inner) &&
			 depth < DT_PB_MAX_DEPTH)
			rc = name_message(inner, d, nested, depth + 1);
		if (rc)
			return rc;
	}
	return 0;
}

int dt_pb_name_fields(json_t *decoded, const struct dt_pb_descriptors *d,
		      const char *type)
{
	const struct pb_type *t = find_type(d, type);

	if (!t || t->is_enum)
		return -ENOENT;
	if (!json_is_array(decoded))
		return -EINVAL;
	return name_message(decoded, d, t, 1);
}
