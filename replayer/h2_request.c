// SPDX-License-Identifier: MIT
/*
 * A recorded HTTP/2 request rebuilt for sending, from its stored form
 * (deetune-session(5)), and the stored form of what is sent. libcurl
 * makes the pseudo-header fields itself from the method, the request
 * target and the Host header, so the request goes to it as an HTTP/1
 * request would, and is stored back as HTTP/2 fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replayer/replayer_int.h"

/* Fields read from a stored request; more are an error rather than
 * silently dropped. */
#define MAX_FIELDS 1024

static bool slice_is(struct dt_slice s, const char *text)
{
	return s.len == strlen(text) &&
	       !strncasecmp((const char *)s.ptr, text, s.len);
}

/* TE is connection-specific, but HTTP/2 allows "te: trailers", which a
 * gRPC server requires. */
static bool header_kept(const struct dt_http1_header *f)
{
	if (slice_is(f->name, "te"))
		return slice_is(f->value, "trailers");
	return !rp_http_header_managed(f->name);
}

static int take_pseudo(struct rp_http_request *r,
		       const struct dt_http1_header *f)
{
	char **slot = slice_is(f->name, ":method") ? &r->method :
		      slice_is(f->name, ":path") ? &r->target : NULL;

	/* :scheme and :authority come from the target */
	if (!slot || *slot)
		return 0;
	*slot = strndup((const char *)f->value.ptr, f->value.len);
	return *slot ? 0 : -ENOMEM;
}

static int copy_fields(struct rp_http_request *r,
		       const struct dt_http1_header *fields, size_t n,
		       const char *host)
{
	int ret = rp_http_header_add(r, "Host", 4, host, strlen(host));

	r->no_length = true;
	for (size_t i = 0; !ret && i < n; i++) {
		const struct dt_http1_header *f = &fields[i];

		if (f->name.len && f->name.ptr[0] == ':')
			ret = take_pseudo(r, f);
		else if (slice_is(f->name, "content-length"))
			r->no_length = false;
		else if (header_kept(f))
			ret = rp_http_header_add(r, (const char *)f->name.ptr,
						 f->name.len,
						 (const char *)f->value.ptr,
						 f->value.len);
	}
	return ret;
}

static int copy_body(struct rp_http_request *r, const uint8_t *body,
		     size_t len)
{
	if (len) {
		r->body = malloc(len);
		if (!r->body)
			return -ENOMEM;
		memcpy(r->body, body, len);
	}
	r->body_len = len;
	r->has_body = len || !r->no_length;
	return 0;
}

/* The field lines of the stored request: their count, or -EBADMSG with
 * err set. *head_len: where the body starts. */
static ssize_t parse_fields(const uint8_t *buf, size_t len,
			    struct dt_http1_header *fields, size_t *head_len,
			    char *err, size_t errlen)
{
	size_t n;
	bool blank;
	ssize_t used;

	used = dt_h2_stored_fields_parse(buf, len, fields, MAX_FIELDS, &n,
					 &blank);
	if (used < 0 || !blank) {
		snprintf(err, errlen, used < 0 ? "the recorded request is not "
			 "a stored HTTP/2 request" : "the recorded request "
			 "is incomplete");
		return -EBADMSG;
	}
	if (n == MAX_FIELDS) {
		snprintf(err, errlen, "the recorded request has more than %d "
			 "fields", MAX_FIELDS - 1);
		return -EBADMSG;
	}
	*head_len = (size_t)used;
	return (ssize_t)n;
}

int rp_h2_request_build(struct rp_http_request *r, const uint8_t *buf,
			size_t len, const char *host,
			const struct dt_header_edit *edits, size_t nedits,
			char *err, size_t errlen)
{
	struct dt_http1_header *fields = malloc(MAX_FIELDS * sizeof(*fields));
	size_t head_len = 0;
	ssize_t n;
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->h2 = true;
	if (!fields)
		goto fail;
	n = parse_fields(buf, len, fields, &head_len, err, errlen);
	if (n < 0) {
		ret = (int)n;
		goto fail;
	}
	ret = copy_fields(r, fields, (size_t)n, host);
	if (!ret && (!r->method || !r->target)) {
		snprintf(err, errlen, "the recorded request has no :method "
			 "or no :path");
		ret = -EBADMSG;
	}
	if (!ret)
		ret = rp_http_request_edit(r, edits, nedits);
	if (!ret)
		ret = copy_body(r, buf + head_len, len - head_len);
	if (ret)
		goto fail;
	free(fields);
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(fields);
	rp_http_request_release(r);
	r->h2 = false;
	return ret;
}

static void field_set(struct dt_h2_field *f, const char *name,
		      const char *value)
{
	f->name = (char *)name;
	f->value = (char *)value;
	f->name_len = strlen(name);
	f->value_len = strlen(value);
}

int rp_h2_request_store(const struct rp_http_request *r, const char *scheme,
			uint8_t **out, size_t *len)
{
	struct dt_h2_field pseudo[4], *headers;
	struct dt_h2_message m = { 0 };
	const char *authority = "";
	bool cleaned = false;
	size_t n = 0;
	int ret;

	headers = calloc(r->nheaders ? r->nheaders : 1, sizeof(*headers));
	if (!headers)
		return -ENOMEM;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (!strcasecmp(r->headers[i].name, "Host"))
			authority = r->headers[i].value;
		else
			field_set(&headers[n++], r->headers[i].name,
				  r->headers[i].value);
	}
	field_set(&pseudo[0], ":method", r->method);
	field_set(&pseudo[1], ":scheme", scheme);
	field_set(&pseudo[2], ":authority", authority);
	field_set(&pseudo[3], ":path", r->target);
	m.pseudo = (struct dt_h2_fields){ .n = 4, .v = pseudo };
	m.headers = (struct dt_h2_fields){ .n = n, .v = headers };
	m.body = r->body;
	m.body_len = r->body_len;
	ret = dt_h2_store_message(&m, out, len, &cleaned);
	free(headers);
	return ret;
}
