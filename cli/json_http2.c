// SPDX-License-Identifier: MIT
/*
 * `cat` fields of HTTP/2 exchanges, from their stored form (field lines,
 * a blank line, the body; trailers in the attrs h2.trailers and
 * h2.request_trailers), and of the gRPC calls they carry: service and
 * method, status, and each length-prefixed message decoded as protobuf
 * without a schema, its fields named when a descriptor set declares the
 * method.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/formats.h"

/* Fields shown per message; the raw bytes hold them all. */
#define MAX_FIELDS 1024
/* Bodies up to this size are shown; larger ones only by body_len. */
#define MAX_SHOWN_BODY (64u << 10)
/* Messages of a gRPC body shown; body_len covers them all. */
#define MAX_GRPC_MESSAGES 1024

struct h2_side {
	const uint8_t *body;
	size_t body_len;
	size_t nfields;
	struct dt_http1_header fields[MAX_FIELDS];
};

/* The pseudo-header fields that become members of their own. */
static const char *pseudo_member(const struct dt_slice *name)
{
	static const char *const known[][2] = {
		{ ":method", "method" }, { ":path", "path" },
		{ ":authority", "authority" }, { ":scheme", "scheme" },
		{ ":status", "status" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (name->len == strlen(known[i][0]) &&
		    !memcmp(name->ptr, known[i][0], name->len))
			return known[i][1];
	return NULL;
}

static json_t *status_to_json(const struct dt_slice *v)
{
	int code = 0;

	if (v->len != 3)
		return cli_json_text(v->ptr, v->len);
	for (size_t i = 0; i < 3; i++) {
		if (v->ptr[i] < '0' || v->ptr[i] > '9')
			return cli_json_text(v->ptr, v->len);
		code = code * 10 + v->ptr[i] - '0';
	}
	return json_integer(code);
}

/* Known pseudo-headers as members of o, every other field in headers. */
static int fields_to_json(json_t *o, const struct h2_side *sd)
{
	json_t *headers = json_object();
	const char *member;
	int rc = 0;

	for (size_t i = 0; i < sd->nfields && !rc; i++) {
		const struct dt_http1_header *f = &sd->fields[i];

		member = pseudo_member(&f->name);
		if (!member)
			rc |= cli_json_header_add(headers, f);
		else if (!strcmp(member, "status"))
			rc |= json_object_set_new(o, member,
						  status_to_json(&f->value));
		else
			rc |= json_object_set_new(o, member,
				cli_json_text(f->value.ptr, f->value.len));
	}
	return rc | json_object_set_new(o, "headers", headers);
}

/* Trailer lines stored in an attribute, as an object like headers; the
 * lines before one that does not parse. */
static json_t *trailers_to_json(const char *lines)
{
	struct dt_http1_header *fields = calloc(MAX_FIELDS, sizeof(*fields));
	json_t *o = json_object();
	size_t n = 0;
	bool blank;
	int rc = 0;

	if (!fields || !o)
		rc = -1;
	else
		dt_h2_stored_fields_parse((const uint8_t *)lines,
					  strlen(lines), fields, MAX_FIELDS,
					  &n, &blank);
	for (size_t i = 0; i < n && !rc; i++)
		rc |= cli_json_header_add(o, &fields[i]);
	free(fields);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One length-prefixed message: its size, and its fields when it is an
 * uncompressed protobuf message, else its bytes in base64. */
static json_t *grpc_message_to_json(const struct dt_grpc_message *m,
				    bool whole)
{
	json_t *o = json_object(), *fields = NULL;
	int rc = 0;

	rc |= json_object_set_new(o, "compressed", json_boolean(m->compressed));
	rc |= json_object_set_new(o, "len", cli_json_u64(m->length));
	if (!whole)
		rc |= json_object_set_new(o, "cut", json_true());
	if (whole && !m->compressed &&
	    dt_pb_decode(m->data.ptr, m->data.len, 0, &fields) == 0)
		rc |= json_object_set_new(o, "fields", fields);
	else
		rc |= json_object_set_new(o, "raw",
				cli_json_base64(m->data.ptr, m->data.len));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The messages of a gRPC body; framing that breaks ends the list. */
static json_t *grpc_messages_to_json(const uint8_t *buf, size_t len)
{
	json_t *a = json_array();
	struct dt_grpc_message m;
	size_t off = 0, count = 0;
	ssize_t n;
	int rc = 0;

	while (off < len && count++ < MAX_GRPC_MESSAGES && !rc) {
		n = dt_grpc_message_next(buf + off, len - off, UINT32_MAX, &m);
		if (n < 0)
			break;
		rc |= json_array_append_new(a, grpc_message_to_json(&m, n > 0));
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (rc) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static int grpc_call_to_json(json_t *g, const struct dt_exchange *x,
			     bool is_request)
{
	const char *service = dt_exchange_attr(x, "grpc.service");
	const char *method = dt_exchange_attr(x, "grpc.method");
	const char *status = dt_exchange_attr(x, "grpc.status");
	const char *message = dt_exchange_attr(x, "grpc.message");
	const char *name;
	int rc = 0;

	if (is_request) {
		if (service)
			rc |= json_object_set_new(g, "service",
				cli_json_text(service, strlen(service)));
		if (method)
			rc |= json_object_set_new(g, "method",
				cli_json_text(method, strlen(method)));
		return rc;
	}
	if (!status)
		return 0;
	rc |= json_object_set_new(g, "status", json_integer(atoi(status)));
	name = dt_grpc_status_name(atoi(status));
	if (name)
		rc |= json_object_set_new(g, "status_name", json_string(name));
	if (message)
		rc |= json_object_set_new(g, "message",
				cli_json_text(message, strlen(message)));
	return rc;
}

static bool is_grpc(const struct h2_side *sd)
{
	for (size_t i = 0; i < sd->nfields; i++) {
		const struct dt_http1_header *f = &sd->fields[i];

		if (f->name.len == 12 && !memcmp(f->name.ptr, "content-type", 12))
			return f->value.len >= 16 &&
			       !memcmp(f->value.ptr, "application/grpc", 16);
	}
	return false;
}

static int grpc_to_json(json_t *o, const struct dt_exchange *x,
			const struct h2_side *sd, bool is_request)
{
	json_t *g = json_object();
	int rc = 0;

	rc |= grpc_call_to_json(g, x, is_request);
	rc |= json_object_set_new(g, "messages",
			grpc_messages_to_json(sd->body, sd->body_len));
	return rc | json_object_set_new(o, "grpc", g);
}

static int body_to_json(json_t *o, const struct dt_exchange *x,
			const struct h2_side *sd, bool is_request)
{
	int rc = json_object_set_new(o, "body_len", cli_json_u64(sd->body_len));

	if (dt_exchange_attr(x, "grpc.service") || is_grpc(sd))
		return rc | grpc_to_json(o, x, sd, is_request);
	if (sd->body_len <= MAX_SHOWN_BODY)
		rc |= json_object_set_new(o, "body",
				cli_json_bytes(sd->body, sd->body_len));
	return rc;
}

int cli_http2_message_to_json(json_t *o, const struct dt_exchange *x,
			      bool is_request)
{
	const uint8_t *buf = is_request ? x->request : x->response;
	size_t len = is_request ? x->request_len : x->response_len;
	struct h2_side *sd = malloc(sizeof(*sd));
	const char *trailers;
	ssize_t head;
	bool blank;
	int rc = 0;

	if (!sd)
		return -1;
	head = dt_h2_stored_fields_parse(buf, len, sd->fields, MAX_FIELDS,
					 &sd->nfields, &blank);
	if (head < 0 || !blank)
		goto out;
	sd->body = buf + head;
	sd->body_len = len - (size_t)head;
	rc |= fields_to_json(o, sd);
	trailers = dt_exchange_attr(x, is_request ? "h2.request_trailers" :
						    "h2.trailers");
	if (trailers)
		rc |= json_object_set_new(o, "trailers",
					  trailers_to_json(trailers));
	rc |= body_to_json(o, x, sd, is_request);
out:
	free(sd);
	return rc ? -1 : 0;
}

/* Names the decoded fields of each message of one side of a call. */
static int name_side_fields(json_t *side, const struct dt_pb_descriptors *d,
			    const char *type)
{
	json_t *messages, *m;
	size_t i;
	int rc;

	messages = json_object_get(json_object_get(side, "grpc"), "messages");
	json_array_foreach(messages, i, m) {
		rc = dt_pb_name_fields(json_object_get(m, "fields"), d, type);
		if (rc == -ENOMEM)
			return -1;
	}
	return 0;
}

int cli_http2_name_grpc_fields(json_t *exchange, const struct dt_exchange *x,
			       const struct dt_pb_descriptors *d)
{
	const char *service = dt_exchange_attr(x, "grpc.service");
	const char *method = dt_exchange_attr(x, "grpc.method");
	const char *input, *output;
	char path[DT_PB_MAX_NAME + 3];

	if (!service || !method ||
	    (size_t)snprintf(path, sizeof(path), "/%s/%s", service, method) >=
		    sizeof(path) ||
	    dt_pb_method_types(d, path, &input, &output))
		return 0;
	if (name_side_fields(json_object_get(exchange, "request"), d, input) ||
	    name_side_fields(json_object_get(exchange, "response"), d, output))
		return -1;
	return 0;
}
