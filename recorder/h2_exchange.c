// SPDX-License-Identifier: MIT
/*
 * An HTTP/2 stream as an exchange: both sides in their stored form (see
 * dt_h2_store_message() and deetune-session(5)), the summary attributes
 * HTTP/1 uses (method, path, host, status) so that --match, topology and
 * diff treat both alike, the gRPC call and its status, and flags for what
 * the decoder could not see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/recorder_int.h"

static bool message_seen(const struct dt_h2_message *m)
{
	return (m->flags & DT_H2_MSG_HEADERS) || m->body_wire;
}

/* Stores m as the request or the response of x. */
static int message_store(struct dt_exchange *x, const struct dt_h2_message *m,
			 bool is_request, bool *cleaned)
{
	uint8_t *buf;
	size_t len;

	if (!message_seen(m))
		return 0;
	if (dt_h2_store_message(m, &buf, &len, cleaned))
		return -ENOMEM;
	if (is_request) {
		x->request = buf;
		x->request_len = len;
	} else {
		x->response = buf;
		x->response_len = len;
	}
	return 0;
}

static int field_attr(struct dt_exchange *x, const char *key,
		      const struct dt_h2_fields *fs, const char *name)
{
	const struct dt_h2_field *f = dt_h2_fields_find(fs, name);

	if (!f)
		return 0;
	return dt_set_slice_attr(x, key, (const uint8_t *)f->value,
				 f->value_len);
}

static int trailers_attr(struct dt_exchange *x, const char *key,
			 const struct dt_h2_fields *fs, bool *cleaned)
{
	char *lines;
	int ret;

	if (!fs->n)
		return 0;
	if (dt_h2_store_fields(fs, &lines, cleaned))
		return -ENOMEM;
	ret = dt_exchange_set_attr(x, key, lines);
	free(lines);
	return ret;
}

static int reset_attrs(struct dt_exchange *x, const struct dt_h2_stream *s)
{
	const char *name = dt_h2_error_name(s->rst_error);
	char num[16];

	if (!(s->flags & DT_H2_STREAM_RESET))
		return 0;
	if (!name) {
		snprintf(num, sizeof(num), "%u", s->rst_error);
		name = num;
	}
	if (dt_exchange_set_attr(x, "h2.reset", name) ||
	    dt_exchange_set_attr(x, "h2.reset_by",
				 s->rst_by == DT_H2_CLIENT ? "client" :
							     "server"))
		return -ENOMEM;
	return 0;
}

/* Which sides had a header block the codec could not decode: their
 * fields are missing from the stored form. */
static int undecodable_attr(struct dt_exchange *x,
			    const struct dt_h2_stream *s)
{
	bool rq = s->request.flags & DT_H2_MSG_UNDECODABLE;
	bool rs = s->response.flags & DT_H2_MSG_UNDECODABLE;

	if (!rq && !rs)
		return 0;
	return dt_exchange_set_attr(x, "h2.undecodable",
				    rq && rs ? "request,response" :
				    rq ? "request" : "response");
}

static int grpc_attrs(struct dt_exchange *x, const struct dt_h2_stream *s)
{
	const struct dt_h2_field *path;
	struct dt_slice service, method;

	if (!dt_grpc_is_grpc(&s->request) && !dt_grpc_is_grpc(&s->response))
		return 0;
	path = dt_h2_fields_find(&s->request.pseudo, ":path");
	if (path && !dt_grpc_parse_path(path->value, &service, &method) &&
	    (dt_set_slice_attr(x, "grpc.service", service.ptr, service.len) ||
	     dt_set_slice_attr(x, "grpc.method", method.ptr, method.len)))
		return -ENOMEM;
	return dt_grpc_set_status_attrs(x, &s->response);
}

static int set_attrs(struct dt_exchange *x, const struct dt_h2_stream *s,
		     bool *cleaned)
{
	int status = dt_h2_message_status(&s->response);
	char num[16];

	snprintf(num, sizeof(num), "%u", s->id);
	if (dt_exchange_set_attr(x, "h2.stream_id", num) ||
	    field_attr(x, "method", &s->request.pseudo, ":method") ||
	    field_attr(x, "path", &s->request.pseudo, ":path") ||
	    field_attr(x, "host", &s->request.pseudo, ":authority"))
		return -ENOMEM;
	if (status >= 0) {
		snprintf(num, sizeof(num), "%d", status);
		if (dt_exchange_set_attr(x, "status", num))
			return -ENOMEM;
	}
	if ((s->flags & DT_H2_STREAM_PUSHED) &&
	    dt_exchange_set_attr(x, "h2.pushed", "1"))
		return -ENOMEM;
	if (trailers_attr(x, "h2.trailers", &s->response.trailers, cleaned) ||
	    trailers_attr(x, "h2.request_trailers", &s->request.trailers,
			  cleaned) ||
	    reset_attrs(x, s) || undecodable_attr(x, s))
		return -ENOMEM;
	return grpc_attrs(x, s);
}

/* What the decoder could not see, as exchange flags. A header block it
 * could not decode is expected on a joined connection (the HPACK table
 * was missed) and a codec error otherwise. */
static uint32_t stream_flags(const struct dt_h2_stream *s, bool joined)
{
	uint32_t both = s->request.flags | s->response.flags;
	uint32_t flags = 0;

	if (s->flags & DT_H2_STREAM_INCOMPLETE)
		flags |= DT_XF_INCOMPLETE;
	if ((s->flags & DT_H2_STREAM_RESET) && s->rst_error &&
	    !(s->request.flags & s->response.flags & DT_H2_MSG_END_STREAM))
		flags |= DT_XF_INCOMPLETE;
	if (s->flags & DT_H2_STREAM_MIDSTREAM)
		flags |= DT_XF_MIDSTREAM | DT_XF_INCOMPLETE;
	if (both & DT_H2_MSG_UNDECODABLE)
		flags |= joined ? DT_XF_INCOMPLETE : DT_XF_MALFORMED;
	if (both & (DT_H2_MSG_BODY_TRUNCATED | DT_H2_MSG_FIELDS_TRUNCATED))
		flags |= DT_XF_TRUNCATED;
	if (!message_seen(&s->response))
		flags |= DT_XF_NO_RESPONSE;
	return flags;
}

int dt_h2_stream_to_exchange(const struct dt_h2_stream *s, bool joined,
			     struct dt_exchange *x)
{
	bool cleaned = false;

	dt_exchange_init(x);
	x->protocol = DT_PROTO_HTTP2;
	x->flags = stream_flags(s, joined);
	x->req_start_ns = s->request.first_ts;
	x->req_end_ns = s->request.last_ts;
	x->resp_start_ns = s->response.first_ts;
	x->resp_end_ns = s->response.last_ts;
	if (message_store(x, &s->request, true, &cleaned) ||
	    message_store(x, &s->response, false, &cleaned) ||
	    set_attrs(x, s, &cleaned)) {
		dt_exchange_release(x);
		return -ENOMEM;
	}
	if (cleaned)
		x->flags |= DT_XF_MALFORMED;
	return 0;
}
