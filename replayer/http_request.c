// SPDX-License-Identifier: MIT
/*
 * A recorded HTTP/1 request rebuilt for sending: its start line, its
 * headers minus those the client library manages itself, Host rewritten,
 * the user's edits applied, and its body with the chunked framing
 * removed (the library frames it again with a Content-Length).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replayer/replayer_int.h"

/* Hop-by-hop and framing headers: libcurl writes its own. */
static const char *const managed_headers[] = {
	"Host", "Connection", "Keep-Alive", "Proxy-Connection", "TE",
	"Trailer", "Upgrade", "Transfer-Encoding", "Content-Length",
};
#define NMANAGED (sizeof(managed_headers) / sizeof(managed_headers[0]))

static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool slice_is(struct dt_slice s, const char *name)
{
	return s.len == strlen(name) &&
	       !strncasecmp((const char *)s.ptr, name, s.len);
}

int dt_header_edit_parse(struct dt_header_edit *e, const char *text,
			 bool drop, char *err, size_t errlen)
{
	const char *colon = drop ? NULL : strchr(text, ':');
	const char *value;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (!drop && !colon) {
		snprintf(err, errlen, "--set-header '%s': expected 'Name: value'",
			 text);
		return -EINVAL;
	}
	n = colon ? (size_t)(colon - text) : strlen(text);
	for (size_t i = 0; i < n; i++) {
		if (!is_tchar(text[i])) {
			snprintf(err, errlen, "header name '%.*s' is not an "
				 "HTTP token", (int)n, text);
			return -EINVAL;
		}
	}
	if (!n) {
		snprintf(err, errlen, "empty header name");
		return -EINVAL;
	}
	if (colon) {
		value = colon + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		if (strpbrk(value, "\r\n")) {
			snprintf(err, errlen, "header value of '%.*s' holds a "
				 "line break", (int)n, text);
			return -EINVAL;
		}
		e->value = strdup(value);
	}
	e->name = strndup(text, n);
	if (!e->name || (colon && !e->value)) {
		dt_header_edit_release(e);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void dt_header_edit_release(struct dt_header_edit *e)
{
	free(e->name);
	free(e->value);
	e->name = e->value = NULL;
}

/* ---- chunked bodies ----------------------------------------------------- */

/* Offset just past the LF ending the line that starts at pos, or 0. */
static size_t line_end(const uint8_t *buf, size_t len, size_t pos)
{
	const uint8_t *lf = memchr(buf + pos, '\n', len - pos);

	return lf ? (size_t)(lf - buf) + 1 : 0;
}

/* Reads the hex chunk size at buf[pos..]; extensions after it are
 * ignored. -EBADMSG when there is none or it overflows. */
static int chunk_size(const uint8_t *buf, size_t end, size_t pos,
		      uint64_t *size)
{
	uint64_t v = 0;
	size_t digits = 0;

	for (; pos < end && isxdigit(buf[pos]); pos++, digits++) {
		if (v >> 60)
			return -EBADMSG;
		v = v << 4 | (uint64_t)(isdigit(buf[pos]) ?
					buf[pos] - '0' :
					(tolower(buf[pos]) - 'a' + 10));
	}
	if (!digits)
		return -EBADMSG;
	*size = v;
	return 0;
}

int rp_http_dechunk(const uint8_t *buf, size_t len, struct rp_buf *out)
{
	size_t pos = 0, eol;
	uint64_t size;
	int ret;

	for (;;) {
		eol = pos < len ? line_end(buf, len, pos) : 0;
		if (!eol || chunk_size(buf, eol, pos, &size))
			return -EBADMSG;
		pos = eol;
		if (!size)
			return 0; /* the trailer is not forwarded */
		if (size > len - pos)
			return -EBADMSG;
		ret = rp_buf_append(out, buf + pos, (size_t)size);
		if (ret)
			return ret;
		if (out->overflow)
			return -E2BIG;
		pos += (size_t)size;
		eol = pos < len ? line_end(buf, len, pos) : 0;
		/* the CRLF after the data, nothing else */
		if (!eol || eol - pos > 2)
			return -EBADMSG;
		pos = eol;
	}
}

/* ---- building ----------------------------------------------------------- */

bool rp_http_header_managed(struct dt_slice name)
{
	for (size_t i = 0; i < NMANAGED; i++)
		if (slice_is(name, managed_headers[i]))
			return true;
	return false;
}

int rp_http_header_add(struct rp_http_request *r, const char *name,
		       size_t nlen, const char *value, size_t vlen)
{
	struct rp_header *grown, *h;

	grown = realloc(r->headers, (r->nheaders + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->headers = grown;
	h = &r->headers[r->nheaders];
	h->name = strndup(name, nlen);
	h->value = strndup(value, vlen);
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		return -ENOMEM;
	}
	r->nheaders++;
	return 0;
}

static void header_remove(struct rp_http_request *r, size_t i)
{
	free(r->headers[i].name);
	free(r->headers[i].value);
	memmove(&r->headers[i], &r->headers[i + 1],
		(r->nheaders - i - 1) * sizeof(r->headers[0]));
	r->nheaders--;
}

/* --set-header replaces the first header of that name in place (so the
 * order stays as recorded) and removes the others; --drop-header removes
 * them all. */
static int apply_edit(struct rp_http_request *r,
		      const struct dt_header_edit *e)
{
	bool placed = false;
	char *v;

	for (size_t i = 0; i < r->nheaders;) {
		if (strcasecmp(r->headers[i].name, e->name)) {
			i++;
			continue;
		}
		if (!e->value || placed) {
			header_remove(r, i);
			continue;
		}
		v = strdup(e->value);
		if (!v)
			return -ENOMEM;
		free(r->headers[i].value);
		r->headers[i].value = v;
		placed = true;
		i++;
	}
	if (e->value && !placed)
		return rp_http_header_add(r, e->name, strlen(e->name),
					  e->value, strlen(e->value));
	return 0;
}

int rp_http_request_edit(struct rp_http_request *r,
			 const struct dt_header_edit *edits, size_t nedits)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < nedits; i++)
		ret = apply_edit(r, &edits[i]);
	return ret;
}

static int copy_headers(struct rp_http_request *r,
			const struct dt_http1_head *head, const char *host)
{
	int ret = rp_http_header_add(r, "Host", 4, host, strlen(host));

	for (size_t i = 0; !ret && i < head->nheaders; i++) {
		const struct dt_http1_header *h = &head->headers[i];

		if (rp_http_header_managed(h->name))
			continue;
		ret = rp_http_header_add(r, (const char *)h->name.ptr,
					 h->name.len, (const char *)h->value.ptr,
					 h->value.len);
	}
	return ret;
}

static bool is_chunked(const struct dt_http1_head *head)
{
	const struct dt_http1_header *te =
		dt_http1_find_header(head, "Transfer-Encoding");

	/* the framer accepted the message: chunked is its last coding */
	return te && te->value.len >= 7 &&
	       !strncasecmp((const char *)te->value.ptr + te->value.len - 7,
			    "chunked", 7);
}

static int copy_body(struct rp_http_request *r, const struct dt_http1_head *head,
		     const uint8_t *body, size_t len)
{
	struct rp_buf b = { .max = len };
	int ret;

	if (is_chunked(head)) {
		ret = rp_http_dechunk(body, len, &b);
		if (ret) {
			rp_buf_release(&b);
			return ret;
		}
	} else if (len) {
		ret = rp_buf_append(&b, body, len);
		if (ret)
			return ret;
	}
	r->body = b.data;
	r->body_len = b.len;
	r->has_body = is_chunked(head) ||
		      dt_http1_find_header(head, "Content-Length");
	return 0;
}

static int set_start_line(struct rp_http_request *r,
			  const struct dt_http1_head *head)
{
	r->method = strndup((const char *)head->method.ptr, head->method.len);
	r->target = strndup((const char *)head->target.ptr, head->target.len);
	r->version_minor = head->version_minor;
	return r->method && r->target ? 0 : -ENOMEM;
}

/* The whole message at buf: its length, or -EBADMSG when cut short or
 * not a request. */
static ssize_t message_length(const uint8_t *buf, size_t len, char *err,
			      size_t errlen)
{
	struct dt_http1_framer f;
	int rc;

	dt_http1_framer_init(&f, true);
	rc = dt_http1_framer_scan(&f, buf, len);
	if (rc == DT_HTTP1_COMPLETE)
		return (ssize_t)f.msg_len;
	snprintf(err, errlen, rc == DT_HTTP1_NEED_MORE ?
			      "the recorded request is incomplete" :
			      "the recorded request is not HTTP/1");
	return -EBADMSG;
}

int rp_http_request_build(struct rp_http_request *r, const uint8_t *buf,
			  size_t len, const char *host,
			  const struct dt_header_edit *edits, size_t nedits,
			  char *err, size_t errlen)
{
	struct dt_http1_head *head = malloc(sizeof(*head));
	ssize_t msg_len, head_len;
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	if (!head)
		goto fail;
	msg_len = message_length(buf, len, err, errlen);
	head_len = msg_len < 0 ? msg_len :
				 dt_http1_parse_head(buf, (size_t)msg_len, true,
						     0, head);
	if (head_len <= 0) {
		if (msg_len >= 0)
			snprintf(err, errlen, "the recorded request is not "
				 "HTTP/1");
		ret = -EBADMSG;
		goto fail;
	}
	ret = set_start_line(r, head);
	if (!ret)
		ret = copy_headers(r, head, host);
	if (!ret)
		ret = rp_http_request_edit(r, edits, nedits);
	if (!ret)
		ret = copy_body(r, head, buf + head_len,
				(size_t)(msg_len - head_len));
	if (ret == -EBADMSG)
		snprintf(err, errlen, "the recorded request's chunked body "
			 "does not decode");
	if (ret)
		goto fail;
	free(head);
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(head);
	rp_http_request_release(r);
	return ret;
}

void rp_http_request_release(struct rp_http_request *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->method);
	free(r->target);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
