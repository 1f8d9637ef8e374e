// SPDX-License-Identifier: MIT
/*
 * gRPC over HTTP/2: the length-prefixed messages of a body, the method a
 * :path names and the status a response ends with.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"

#define GRPC_CONTENT_TYPE "application/grpc"

ssize_t dt_grpc_message_next(const uint8_t *buf, size_t len, uint32_t max_len,
			     struct dt_grpc_message *m)
{
	uint32_t length;
	size_t avail;

	memset(m, 0, sizeof(*m));
	m->data.ptr = buf;
	if (max_len == 0)
		max_len = DT_GRPC_DEFAULT_MAX_MESSAGE;
	if (len == 0)
		return 0;
	if (buf[0] > 1)
		return -EBADMSG;
	m->compressed = buf[0];
	if (len < DT_GRPC_PREFIX_LEN)
		return 0;
	length = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
		 (uint32_t)buf[3] << 8 | buf[4];
	if (length > max_len)
		return -E2BIG;
	m->length = length;
	avail = len - DT_GRPC_PREFIX_LEN;
	m->data.ptr = buf + DT_GRPC_PREFIX_LEN;
	m->data.len = avail < length ? avail : length;
	if (avail < length)
		return 0;
	return DT_GRPC_PREFIX_LEN + (ssize_t)length;
}

bool dt_grpc_is_grpc(const struct dt_h2_message *m)
{
	const struct dt_h2_field *ct = dt_h2_fields_find(&m->headers,
							 "content-type");
	size_t n = strlen(GRPC_CONTENT_TYPE);

	if (!ct || ct->value_len < n || strncmp(ct->value, GRPC_CONTENT_TYPE, n))
		return false;
	return ct->value_len == n || ct->value[n] == '+' || ct->value[n] == ';';
}

int dt_grpc_parse_path(const char *path, struct dt_slice *service,
		       struct dt_slice *method)
{
	const char *slash;

	if (path[0] != '/')
		return -EBADMSG;
	slash = strchr(path + 1, '/');
	if (!slash || slash == path + 1 || slash[1] == '\0' ||
	    strchr(slash + 1, '/'))
		return -EBADMSG;
	service->ptr = (const uint8_t *)path + 1;
	service->len = (size_t)(slash - path - 1);
	method->ptr = (const uint8_t *)slash + 1;
	method->len = strlen(slash + 1);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* grpc-message is percent-encoded; a '%' not followed by two hex digits
 * is kept as it is, as the gRPC spec asks of receivers. */
static void percent_decode(const struct dt_h2_field *f, char *out,
			   size_t outlen)
{
	const char *v = f->value;
	size_t i = 0, o = 0;
	int hi, lo;

	while (i < f->value_len && o + 1 < outlen) {
		hi = lo = -1;
		if (v[i] == '%' && f->value_len - i >= 3) {
			hi = hex_digit(v[i + 1]);
			lo = hex_digit(v[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			out[o++] = v[i++];
		}
	}
	out[o] = '\0';
}

int dt_grpc_status(const struct dt_h2_message *response, int *code,
		   char *msg, size_t msglen)
{
	const struct dt_h2_fields *fs = &response->trailers;
	const struct dt_h2_field *st, *text;

	if (msglen)
		msg[0] = '\0';
	if (!dt_h2_fields_find(fs, "grpc-status"))
		fs = &response->headers;	/* trailers-only response */
	st = dt_h2_fields_find(fs, "grpc-status");
	if (!st)
		return -ENOENT;
	if (st->value_len < 1 || st->value_len > 2 ||
	    st->value[0] < '0' || st->value[0] > '9' ||
	    (st->value_len == 2 && (st->value[1] < '0' || st->value[1] > '9')))
		return -EBADMSG;
	*code = st->value[0] - '0';
	if (st->value_len == 2)
		*code = *code * 10 + st->value[1] - '0';
	text = dt_h2_fields_find(fs, "grpc-message");
	if (text && msglen)
		percent_decode(text, msg, msglen);
	return 0;
}

const char *dt_grpc_status_name(int code)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
		"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[code];
}

int dt_grpc_set_status_attrs(struct dt_exchange *x,
			     const struct dt_h2_message *response)
{
	char msg[DT_GRPC_MESSAGE_MAX], num[12];
	int code;

	if (dt_grpc_status(response, &code, msg, sizeof(msg)))
		return 0;
	snprintf(num, sizeof(num), "%d", code);
	if (dt_exchange_set_attr(x, "grpc.status", num) ||
	    (msg[0] && dt_exchange_set_attr(x, "grpc.message", msg)))
		return -ENOMEM;
	return 0;
}
