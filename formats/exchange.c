// SPDX-License-Identifier: MIT
/*
 * exchange.c: struct dt_exchange, one recorded request/response pair, and
 * the names and formatting of its fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/session_format.h"

const char *dt_protocol_name(uint32_t protocol)
{
	switch (protocol) {
	case DT_PROTO_HTTP1: return "http";
	case DT_PROTO_REDIS: return "redis";
	case DT_PROTO_MYSQL: return "mysql";
	case DT_PROTO_HTTP2: return "http2";
	default: return "unknown";
	}
}

const char *dt_exchange_flag_name(uint32_t bit)
{
	switch (bit) {
	case DT_XF_INCOMPLETE: return "incomplete";
	case DT_XF_TRUNCATED: return "truncated";
	case DT_XF_SENDFILE: return "sendfile";
	case DT_XF_NO_RESPONSE: return "no-response";
	case DT_XF_MALFORMED: return "malformed";
	case DT_XF_MIDSTREAM: return "midstream";
	case DT_XF_TLS: return "tls";
	default: return NULL;
	}
}

int dt_endpoint_format(const struct dt_endpoint *ep, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	switch (ep->family) {
	case DT_FAMILY_IPV4:
		inet_ntop(AF_INET, ep->addr, addr, sizeof(addr));
		n = snprintf(buf, size, "%s:%u", addr, ep->port);
		break;
	case DT_FAMILY_IPV6:
		inet_ntop(AF_INET6, ep->addr, addr, sizeof(addr));
		n = snprintf(buf, size, "[%s]:%u", addr, ep->port);
		break;
	case DT_FAMILY_UNIX:
		n = snprintf(buf, size, "unix:%.*s", (int)sizeof(ep->path),
			     ep->path);
		break;
	default:
		n = snprintf(buf, size, "-");
		break;
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

void dt_exchange_init(struct dt_exchange *x)
{
	memset(x, 0, sizeof(*x));
}

void dt_exchange_release(struct dt_exchange *x)
{
	dt_attrs_free(x->attrs, x->nattrs);
	free(x->request);
	free(x->response);
	dt_exchange_init(x);
}

static struct dt_attr *find_attr(const struct dt_exchange *x, const char *key)
{
	for (size_t i = 0; i < x->nattrs; i++)
		if (strcmp(x->attrs[i].key, key) == 0)
			return &x->attrs[i];
	return NULL;
}

int dt_exchange_set_attr(struct dt_exchange *x, const char *key,
			 const char *value)
{
	struct dt_attr *attr = find_attr(x, key), *attrs;
	char *v = strdup(value), *k = NULL;

	if (!v)
		return -ENOMEM;
	if (attr) {
		free(attr->value);
		attr->value = v;
		return 0;
	}
	k = strdup(key);
	attrs = k ? realloc(x->attrs, (x->nattrs + 1) * sizeof(*attrs)) : NULL;
	if (!attrs) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	attrs[x->nattrs].key = k;
	attrs[x->nattrs].value = v;
	x->attrs = attrs;
	x->nattrs++;
	return 0;
}

const char *dt_exchange_attr(const struct dt_exchange *x, const char *key)
{
	const struct dt_attr *attr = find_attr(x, key);

	return attr ? attr->value : NULL;
}

/* Replaces *dst with a copy of data; an empty copy is NULL. */
static int set_bytes(uint8_t **dst, size_t *dstlen, const void *data,
		     size_t len)
{
	uint8_t *copy = NULL;

	if (len) {
		if (!data)
			return -EINVAL;
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	free(*dst);
	*dst = copy;
	*dstlen = len;
	return 0;
}

int dt_exchange_set_request(struct dt_exchange *x, const void *data,
			    size_t len)
{
	return set_bytes(&x->request, &x->request_len, data, len);
}

int dt_exchange_set_response(struct dt_exchange *x, const void *data,
			     size_t len)
{
	return set_bytes(&x->response, &x->response_len, data, len);
}
