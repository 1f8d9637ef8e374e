// SPDX-License-Identifier: MIT
/*
 * JSON values for the cli: exchanges as `deetune cat` prints them, and the
 * text, integer and base64 values they are made of.
 *
 * The builders chain json_object_set_new() and collect its return codes:
 * it takes a NULL value (a failed allocation) or a NULL object and then
 * fails without leaking, so one check at the end of each builder covers
 * every allocation in it.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/formats.h"

static bool utf8_is_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, step;

	while (i < n) {
		step = dt_utf8_seq_len(p + i, n - i);
		if (!step)
			return false;
		i += step;
	}
	return true;
}

/*
 * Returns bytes themselves when they are well-formed UTF-8; otherwise a
 * malloc'd copy in which each stray byte is replaced with U+FFFD, also
 * stored in *copy for the caller to free. NULL when out of memory.
 */
static const char *utf8_clean(const void *bytes, size_t len, size_t *out_len,
			      char **copy)
{
	const uint8_t *in = bytes;
	char *out, *o;
	size_t i = 0, step;

	*copy = NULL;
	*out_len = len;
	if (!len)
		return ""; /* bytes may be NULL, which jansson rejects */
	if (utf8_is_valid(in, len))
		return bytes;
	if (len > SIZE_MAX / 3)
		return NULL;
	out = malloc(len * 3);
	if (!out)
		return NULL;
	o = out;
	while (i < len) {
		step = dt_utf8_seq_len(in + i, len - i);
		if (step) {
			memcpy(o, in + i, step);
			o += step;
			i += step;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*copy = out;
	*out_len = (size_t)(o - out);
	return out;
}

json_t *cli_json_text(const void *bytes, size_t len)
{
	const char *text;
	char *copy;
	json_t *s;

	text = utf8_clean(bytes, len, &len, &copy);
	if (!text)
		return NULL;
	s = json_stringn(text, len);
	free(copy);
	return s;
}

int cli_json_set_text_key(json_t *obj, const void *key, size_t len,
			  json_t *value)
{
	const char *text;
	char *copy;
	int rc;

	text = utf8_clean(key, len, &len, &copy);
	if (!text) {
		json_decref(value);
		return -1;
	}
	rc = json_object_setn_new(obj, text, len, value);
	free(copy);
	return rc;
}

json_t *cli_json_bytes(const void *data, size_t len)
{
	if (utf8_is_valid(data, len))
		return json_stringn(data, len);
	return json_pack("{s:o}", "base64", cli_json_base64(data, len));
}

json_t *cli_json_u64(uint64_t value)
{
	if (value > INT64_MAX)
		return json_real((double)value);
	return json_integer((json_int_t)value);
}

json_t *cli_json_base64(const void *data, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *in = data;
	size_t out_len, i;
	char *out, *o;
	uint32_t v;
	json_t *s;

	if (len / 3 >= SIZE_MAX / 4 - 1)
		return NULL;
	out_len = (len + 2) / 3 * 4;
	out = malloc(out_len ? out_len : 1);
	if (!out)
		return NULL;
	o = out;
	for (i = 0; len - i >= 3; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (len - i) {
		v = (uint32_t)in[i] << 16;
		if (len - i == 2)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = len - i == 2 ? alphabet[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	s = json_stringn_nocheck(out, out_len);
	free(out);
	return s;
}

static json_t *endpoint_to_json(const struct dt_endpoint *ep)
{
	json_t *o = json_object(), *addr;
	char buf[64];
	int n, rc = 0;

	n = dt_endpoint_format(ep, buf, sizeof(buf));
	if (ep->family == DT_FAMILY_NONE || n < 0)
		addr = json_null();
	else
		addr = cli_json_text(buf, (size_t)n);
	rc |= json_object_set_new(o, "addr", addr);
	rc |= json_object_set_new(o, "pid", json_integer(ep->pid));
	rc |= json_object_set_new(o, "comm", cli_json_text(ep->comm,
				  strnlen(ep->comm, sizeof(ep->comm))));
	rc |= json_object_set_new(o, "cgroup_id", cli_json_u64(ep->cgroup_id));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *timing_to_json(const struct dt_exchange *x)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= json_object_set_new(o, "req_start_ns",
				  cli_json_u64(x->req_start_ns));
	rc |= json_object_set_new(o, "req_end_ns",
				  cli_json_u64(x->req_end_ns));
	rc |= json_object_set_new(o, "resp_start_ns",
				  cli_json_u64(x->resp_start_ns));
	rc |= json_object_set_new(o, "resp_end_ns",
				  cli_json_u64(x->resp_end_ns));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int cli_json_header_add(json_t *o, const struct dt_http1_header *h)
{
	json_t *value, *prev, *list;
	const char *name;
	char *copy;
	size_t len;
	int rc;

	value = cli_json_text(h->value.ptr, h->value.len);
	name = utf8_clean(h->name.ptr, h->name.len, &len, &copy);
	if (!name || !value) {
		json_decref(value);
		free(copy);
		return -1;
	}
	prev = json_object_getn(o, name, len);
	if (!prev) {
		rc = json_object_setn_new(o, name, len, value);
	} else if (json_is_array(prev)) {
		rc = json_array_append_new(prev, value);
	} else {
		list = json_array();
		rc = json_array_append(list, prev);
		rc |= json_array_append_new(list, value);
		rc |= json_object_setn_new(o, name, len, list);
	}
	free(copy);
	return rc;
}

static json_t *http_headers_to_json(const struct dt_http1_head *head)
{
	json_t *o = json_object();
	int rc = 0;

	for (size_t i = 0; i < head->nheaders && !rc; i++)
		rc |= cli_json_header_add(o, &head->headers[i]);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Adds the parsed start line and headers of an HTTP/1 message to o;
 * adds nothing when the bytes do not hold a complete, valid head. */
static int http_message_to_json(json_t *o, const uint8_t *buf, size_t len,
				bool is_request)
{
	struct dt_http1_head head;
	char version[16];
	ssize_t off = 0;
	int rc = 0;

	/* a response shows its final status; 1xx ones stay in "raw" */
	if (!is_request) {
		off = dt_http1_parse_final_response(buf, len, &head);
		if (off < 0)
			return 0;
		buf += off;
		len -= off;
	} else if (dt_http1_parse_head(buf, len, true, len, &head) <= 0) {
		return 0;
	}
	snprintf(version, sizeof(version), "HTTP/1.%d", head.version_minor);
	if (is_request) {
		rc |= json_object_set_new(o, "method",
			cli_json_text(head.method.ptr, head.method.len));
		rc |= json_object_set_new(o, "path",
			cli_json_text(head.target.ptr, head.target.len));
	} else {
		rc |= json_object_set_new(o, "status",
					  json_integer(head.status));
		rc |= json_object_set_new(o, "reason",
			cli_json_text(head.reason.ptr, head.reason.len));
	}
	rc |= json_object_set_new(o, "version", json_string(version));
	rc |= json_object_set_new(o, "headers", http_headers_to_json(&head));
	rc |= json_object_set_new(o, "body_len",
				  cli_json_u64(len - head.head_len));
	return rc;
}

/* The request or response object; JSON null when there are no bytes. */
static json_t *message_to_json(const struct dt_exchange *x, bool is_request,
			       bool with_raw)
{
	const uint8_t *buf = is_request ? x->request : x->response;
	size_t len = is_request ? x->request_len : x->response_len;
	json_t *o;
	int rc = 0;

	if (!len)
		return json_null();
	o = json_object();
	if (x->protocol == DT_PROTO_HTTP1)
		rc |= http_message_to_json(o, buf, len, is_request);
	else if (x->protocol == DT_PROTO_REDIS)
		rc |= cli_redis_message_to_json(o, buf, len, is_request);
	else if (x->protocol == DT_PROTO_MYSQL)
		rc |= cli_mysql_message_to_json(o, x, is_request);
	else if (x->protocol == DT_PROTO_HTTP2)
		rc |= cli_http2_message_to_json(o, x, is_request);
	rc |= json_object_set_new(o, "len", cli_json_u64(len));
	if (with_raw)
		rc |= json_object_set_new(o, "raw", cli_json_base64(buf, len));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *attrs_to_json(const struct dt_exchange *x)
{
	const struct dt_attr *a;
	json_t *o = json_object();
	int rc = 0;

	for (size_t i = 0; i < x->nattrs && !rc; i++) {
		a = &x->attrs[i];
		rc |= cli_json_set_text_key(o, a->key, strlen(a->key),
				cli_json_text(a->value, strlen(a->value)));
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Flag names in bit order; a bit without a name shows as "0x40". */
static json_t *flags_to_json(uint32_t flags)
{
	json_t *a = json_array();
	const char *name;
	char hex[16];
	int rc = 0;

	for (uint32_t bit = 1; bit && !rc; bit <<= 1) {
		if (!(flags & bit))
			continue;
		name = dt_exchange_flag_name(bit);
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%x", bit);
			name = hex;
		}
		rc |= json_array_append_new(a, json_string(name));
	}
	if (rc) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static uint64_t exchange_duration_ns(const struct dt_exchange *x)
{
	if (!x->response_len || x->resp_end_ns < x->req_start_ns)
		return 0;
	return x->resp_end_ns - x->req_start_ns;
}

json_t *cli_exchange_to_json(const struct dt_exchange *x, bool with_raw)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= json_object_set_new(o, "id", cli_json_u64(x->id));
	rc |= json_object_set_new(o, "conn_id", cli_json_u64(x->conn_id));
	if (x->link_id)
		rc |= json_object_set_new(o, "link_id",
					  cli_json_u64(x->link_id));
	rc |= json_object_set_new(o, "protocol",
				  json_string(dt_protocol_name(x->protocol)));
	rc |= json_object_set_new(o, "client", endpoint_to_json(&x->client));
	rc |= json_object_set_new(o, "server", endpoint_to_json(&x->server));
	rc |= json_object_set_new(o, "start_ns", cli_json_u64(x->req_start_ns));
	rc |= json_object_set_new(o, "duration_ns",
				  cli_json_u64(exchange_duration_ns(x)));
	rc |= json_object_set_new(o, "timing", timing_to_json(x));
	rc |= json_object_set_new(o, "request",
				  message_to_json(x, true, with_raw));
	rc |= json_object_set_new(o, "response",
				  message_to_json(x, false, with_raw));
	rc |= json_object_set_new(o, "attrs", attrs_to_json(x));
	rc |= json_object_set_new(o, "flags", flags_to_json(x->flags));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}
