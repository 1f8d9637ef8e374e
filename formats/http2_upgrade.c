// SPDX-License-Identifier: MIT
/*
 * The h2c upgrade (RFC 7540 section 3.2; RFC 9113 dropped it, servers and
 * curl still use it): an HTTP/1.1 request asks for HTTP/2, a 101 agrees,
 * and the request is stream 1, whose response comes in HTTP/2 frames. The
 * request is rewritten in the form an HTTP/2 client would have sent, so
 * that the stream is stored, shown and replayed like any other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/http2_int.h"

static bool slice_is(const struct dt_slice *s, const char *text)
{
	size_t len = strlen(text);

	return s->len == len && !strncasecmp((const char *)s->ptr, text, len);
}

/* Whether a comma-separated field value holds token (any case). */
static bool value_has_token(const struct dt_slice *v, const char *token)
{
	size_t i = 0, start, end;
	struct dt_slice t;

	while (i < v->len) {
		while (i < v->len && (v->ptr[i] == ' ' || v->ptr[i] == '\t' ||
				      v->ptr[i] == ','))
			i++;
		start = i;
		while (i < v->len && v->ptr[i] != ',')
			i++;
		end = i;
		while (end > start && (v->ptr[end - 1] == ' ' ||
				       v->ptr[end - 1] == '\t'))
			end--;
		t.ptr = v->ptr + start;
		t.len = end - start;
		if (t.len && slice_is(&t, token))
			return true;
	}
	return false;
}

static size_t count_fields(const struct dt_http1_head *h, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nheaders; i++)
		n += slice_is(&h->headers[i].name, name);
	return n;
}

bool dt_h2c_upgrade_agreed(const struct dt_http1_head *req,
			   const struct dt_http1_head *resp)
{
	const struct dt_http1_header *up = dt_http1_find_header(req, "Upgrade");
	const struct dt_http1_header *ok = dt_http1_find_header(resp,
								 "Upgrade");

	return req->is_request && !resp->is_request && resp->status == 101 &&
	       up && value_has_token(&up->value, "h2c") &&
	       count_fields(req, "HTTP2-Settings") == 1 && ok &&
	       value_has_token(&ok->value, "h2c");
}

static int base64url_value(uint8_t b)
{
	if (b >= 'A' && b <= 'Z')
		return b - 'A';
	if (b >= 'a' && b <= 'z')
		return b - 'a' + 26;
	if (b >= '0' && b <= '9')
		return b - '0' + 52;
	if (b == '-')
		return 62;
	return b == '_' ? 63 : -1;
}

/* Decodes base64url (padding allowed but not needed) into out, which has
 * room for src->len * 3 / 4 bytes. Returns the bytes or -EBADMSG. */
static ssize_t base64url_decode(const struct dt_slice *src, uint8_t *out)
{
	size_t len = src->len, n = 0, bits = 0;
	uint32_t acc = 0;
	int v;

	while (len && src->ptr[len - 1] == '=')
		len--;
	if (len % 4 == 1 || src->len - len > 2)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		v = base64url_value(src->ptr[i]);
		if (v < 0)
			return -EBADMSG;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (ssize_t)n;
}

/* HTTP2-Settings: the client's SETTINGS payload (RFC 7540 3.2.1). */
static int apply_settings_field(struct dt_h2_conn *c,
				const struct dt_http1_head *head)
{
	const struct dt_http1_header *f = dt_http1_find_header(head,
							       "HTTP2-Settings");
	uint8_t *buf = malloc(f->value.len * 3 / 4 + 1);
	struct dt_slice settings;
	ssize_t n;
	int rc = -EBADMSG;

	if (!buf)
		return -ENOMEM;
	n = base64url_decode(&f->value, buf);
	if (n >= 0 && n % 6 == 0) {
		settings.ptr = buf;
		settings.len = (size_t)n;
		rc = dt_h2_conn_apply_settings(c, DT_H2_CLIENT, &settings);
	}
	free(buf);
	return rc;
}

/* HTTP/1.1 fields HTTP/2 has no place for (RFC 9113 section 8.2.2), the
 * upgrade's own, and Host, which :authority carries. */
static bool field_dropped(const struct dt_http1_header *h)
{
	static const char *const names[] = {
		"Connection", "Keep-Alive", "Proxy-Connection",
		"Transfer-Encoding", "Upgrade", "HTTP2-Settings", "Host",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (slice_is(&h->name, names[i]))
			return true;
	return slice_is(&h->name, "TE") && !slice_is(&h->value, "trailers");
}

static int add_pseudo(struct dt_h2_fields *fs, const char *name,
		      const struct dt_slice *value)
{
	return dt_h2_fields_add(fs, (const uint8_t *)name, strlen(name),
				value->ptr, value->len);
}

static int message_from_head(struct dt_h2_message *m,
			     const struct dt_http1_head *head)
{
	const struct dt_http1_header *host = dt_http1_find_header(head, "Host");
	const struct dt_slice http = { (const uint8_t *)"http", 4 };
	const struct dt_http1_header *h;
	struct dt_h2_field *f;

	if (add_pseudo(&m->pseudo, ":method", &head->method) ||
	    add_pseudo(&m->pseudo, ":scheme", &http) ||
	    (host && add_pseudo(&m->pseudo, ":authority", &host->value)) ||
	    add_pseudo(&m->pseudo, ":path", &head->target))
		return -ENOMEM;
	for (size_t i = 0; i < head->nheaders; i++) {
		h = &head->headers[i];
		if (field_dropped(h))
			continue;
		if (dt_h2_fields_add(&m->headers, h->name.ptr, h->name.len,
				     h->value.ptr, h->value.len))
			return -ENOMEM;
		f = &m->headers.v[m->headers.n - 1];
		for (size_t j = 0; j < f->name_len; j++)
			if (f->name[j] >= 'A' && f->name[j] <= 'Z')
				f->name[j] += 'a' - 'A';
	}
	return 0;
}

static void message_fields_release(struct dt_h2_message *m)
{
	dt_h2_fields_release(&m->pseudo);
	dt_h2_fields_release(&m->headers);
}

int dt_h2_conn_upgrade(struct dt_h2_conn *c, const uint8_t *req, size_t len)
{
	struct dt_http1_head *head = malloc(sizeof(*head));
	struct dt_h2_message m = { 0 };
	struct dt_slice body;
	ssize_t hl;
	int rc = -ENOMEM;

	if (!head)
		return -ENOMEM;
	hl = dt_http1_parse_head(req, len, true, 0, head);
	if (hl <= 0 || dt_http1_find_header(head, "Transfer-Encoding") ||
	    count_fields(head, "HTTP2-Settings") != 1) {
		rc = -EBADMSG;
		goto out;
	}
	rc = apply_settings_field(c, head);
	if (!rc)
		rc = message_from_head(&m, head);
	body.ptr = req + hl;
	body.len = len - (size_t)hl;
	if (!rc)
		rc = dt_h2_conn_open_upgraded(c, &m, &body);
	message_fields_release(&m);
out:
	free(head);
	return rc;
}
