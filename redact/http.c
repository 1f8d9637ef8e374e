// SPDX-License-Identifier: MIT
/*
 * HTTP/1 redaction: header rules mask field values in every head of the
 * request and the response (1xx interim heads, pipelined messages, chunk
 * trailers), json: rules mask values in JSON bodies, whether framed by
 * Content-Length or chunked (the chunk data is gathered into one text,
 * and matches map back across chunk boundaries, so chunk-size lines are
 * never touched).
 *
 * Heads are parsed with the formats codec. A head it refuses (cut short
 * by a capture limit, over 128 fields, obs-fold, bytes that are not quite
 * HTTP) is still scanned line by line, and with it the rest of the
 * buffer, whose framing is then unknown: a malformed message does not
 * carry a credential through. Bodies after such a head are not scanned
 * as JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact/redact_int.h"

struct http_framing {
	bool chunked;
	bool sized;          /* Content-Length known (else: to the end) */
	uint64_t length;
	bool compressed;     /* a content or transfer coding besides chunked */
	bool json;           /* Content-Type says JSON */
	bool typed;          /* there is a Content-Type */
};

static bool header_masked(const struct dt_redactor *r, const uint8_t *name,
			  size_t n)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strlen(r->headers[i]) == n &&
		    !strncasecmp(r->headers[i], (const char *)name, n))
			return true;
	return false;
}

static bool slice_eq_nocase(struct dt_slice s, const char *text)
{
	return s.len == strlen(text) &&
	       !strncasecmp((const char *)s.ptr, text, s.len);
}

static bool slice_contains_nocase(struct dt_slice s, const char *text)
{
	size_t n = strlen(text);

	for (size_t i = 0; i + n <= s.len; i++)
		if (!strncasecmp((const char *)s.ptr + i, text, n))
			return true;
	return false;
}

static void mask_head(struct dt_redact_ctx *c, const struct dt_http1_head *h)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (header_masked(c->r, h->headers[i].name.ptr,
				  h->headers[i].name.len))
			dt_redact_span(c, (uint8_t *)h->headers[i].value.ptr,
				       h->headers[i].value.len);
}

static bool is_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

/* The value of the field line buf[0..len) ("Name: value", or the
 * continuation of one), whitespace around it left out. CR and NUL bytes,
 * which made the codec refuse the head, stay: masking them would make the
 * head parse the next time, and give a second pass more to mask. */
static void mask_line_value(struct dt_redact_ctx *c, uint8_t *buf,
			    size_t len)
{
	size_t from = 0;

	while (from < len && is_blank(buf[from]))
		from++;
	while (len > from && is_blank(buf[len - 1]))
		len--;
	dt_redact_remember(c, buf + from, len - from);
	if (dt_redact_fill_text(buf + from, len - from))
		c->spans++;
}

/* One field line line[0..n) (no line end); masking tells whether the
 * field it may continue (obs-fold) was masked. Returns whether this
 * line's field is. */
static bool mask_field_line(struct dt_redact_ctx *c, uint8_t *line, size_t n,
			    bool masking)
{
	uint8_t *colon;
	size_t name;

	if (is_blank(line[0])) {
		if (masking)
			mask_line_value(c, line, n);
		return masking;
	}
	colon = memchr(line, ':', n);
	if (!colon)
		return false;
	name = (size_t)(colon - line);
	if (!header_masked(c->r, line, name))
		return false;
	mask_line_value(c, colon + 1, n - name - 1);
	return true;
}

/*
 * Masks the matching fields of the field lines at buf[0..len) up to the
 * first empty line, line by line, continuation lines (obs-fold) with the
 * field they continue. For heads the codec refuses and for chunk trailers.
 * Returns the offset just past the empty line, or len.
 */
static size_t mask_field_lines(struct dt_redact_ctx *c, uint8_t *buf,
			       size_t len)
{
	bool masking = false;
	size_t pos = 0;

	while (pos < len) {
		uint8_t *nl = memchr(buf + pos, '\n', len - pos);
		size_t next = nl ? (size_t)(nl - buf) + 1 : len;
		size_t end = nl ? next - 1 : len;

		if (end > pos && buf[end - 1] == '\r')
			end--;
		if (end == pos)
			return next;
		masking = mask_field_line(c, buf + pos, end - pos, masking);
		pos = next;
	}
	return len;
}

/* A head the codec refused, and everything after it: with the framing
 * unknown, every line that reads as a field line of a masked field is
 * masked, in whatever heads may follow. */
static void mask_unparsed(struct dt_redact_ctx *c, uint8_t *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len)
		pos += mask_field_lines(c, buf + pos, len - pos);
}

/* Content-Length digits; false when malformed. */
static bool parse_length(struct dt_slice v, uint64_t *out)
{
	uint64_t n = 0;

	if (!v.len)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (!isdigit(v.ptr[i]) || n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(v.ptr[i] - '0');
	}
	*out = n;
	return true;
}

/* Transfer-Encoding: chunked when it is the last coding; another coding
 * before it compresses. */
static void transfer_coding(struct dt_slice te, struct http_framing *f)
{
	size_t i = te.len;
	struct dt_slice last;

	while (i && te.ptr[i - 1] != ',')
		i--;
	last = (struct dt_slice){ te.ptr + i, te.len - i };
	while (last.len && is_blank(last.ptr[0])) {
		last.ptr++;
		last.len--;
	}
	f->chunked = slice_eq_nocase(last, "chunked");
	f->compressed |= !f->chunked || i > 0;
}

/*
 * How the body after head h is framed (RFC 9112 section 6.3). Returns
 * false when its end cannot be known (a request's transfer coding other
 * than chunked, a bad Content-Length): the rest of the buffer is then
 * scanned as a refused head is.
 */
static bool body_framing(const struct dt_http1_head *h, bool no_body,
			 struct http_framing *f)
{
	const struct dt_http1_header *te, *cl, *ce, *ct;

	memset(f, 0, sizeof(*f));
	f->sized = true;
	if (no_body)
		return true;
	ct = dt_http1_find_header(h, "Content-Type");
	f->typed = ct != NULL;
	f->json = ct && slice_contains_nocase(ct->value, "json");
	ce = dt_http1_find_header(h, "Content-Encoding");
	f->compressed = ce && ce->value.len &&
			!slice_eq_nocase(ce->value, "identity");
	te = dt_http1_find_header(h, "Transfer-Encoding");
	cl = dt_http1_find_header(h, "Content-Length");
	if (te) {
		transfer_coding(te->value, f);
		if (!f->chunked && h->is_request)
			return false;
		f->sized = f->chunked;
		return true;
	}
	if (cl)
		return parse_length(cl->value, &f->length);
	/* a request without either has no body; a response runs to the end */
	f->sized = h->is_request;
	return true;
}

static uint64_t hex_value(uint8_t ch)
{
	return isdigit(ch) ? (uint64_t)(ch - '0') :
			     (uint64_t)(tolower(ch) - 'a' + 10);
}

/* Adds chunk data from buf[pos..len) to v (NULL: only find the end) and
 * masks the trailer fields; returns the offset past the message, or len
 * when it is cut short or malformed. */
static size_t walk_chunks(struct dt_redact_ctx *c, uint8_t *buf, size_t len,
			  size_t pos, struct dt_redact_view *v)
{
	for (;;) {
		uint64_t size = 0;
		uint8_t *nl;
		size_t n;

		if (pos >= len || !isxdigit(buf[pos]))
			return len;
		for (; pos < len && isxdigit(buf[pos]); pos++) {
			if (size >> 60)
				return len;
			size = size << 4 | hex_value(buf[pos]);
		}
		nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return len;
		pos = (size_t)(nl - buf) + 1;
		if (!size)
			return pos + mask_field_lines(c, buf + pos, len - pos);
		n = size < len - pos ? (size_t)size : len - pos;
		if (v && dt_redact_view_add(v, pos, n)) {
			c->err = -ENOMEM;
			return len;
		}
		pos += n;
		if (pos < len && buf[pos] == '\r')
			pos++;
		if (pos < len && buf[pos] == '\n')
			pos++;
	}
}

struct json_hit {
	struct dt_redact_ctx *c;
	const struct dt_redact_view *v;
};

static void on_json_value(void *arg, size_t off, size_t len)
{
	struct json_hit *h = arg;

	dt_redact_view_mask(h->c, h->v, off, len, true);
}

static bool looks_like_json(const struct dt_redact_view *v)
{
	size_t i = 0;
	int ret;

	while (i < v->len && (is_blank(v->text[i]) || v->text[i] == '\r' ||
			      v->text[i] == '\n'))
		i++;
	if (i == v->len || (v->text[i] != '{' && v->text[i] != '['))
		return false;
	/* cut short or nested past the scanner's depth: JSON as far as it
	 * can tell */
	ret = dt_json_scan(v->text, v->len, NULL, NULL, NULL);
	return ret == 0 || ret == -EAGAIN || ret == -E2BIG;
}

static void mask_json_body(struct dt_redact_ctx *c,
			   const struct dt_redact_view *v,
			   const struct http_framing *f)
{
	struct json_hit hit = { .c = c, .v = v };

	if (f->compressed) {
		/* compressed bytes cannot be masked value by value */
		if (f->json || !f->typed)
			dt_redact_view_mask(c, v, 0, v->len, false);
		return;
	}
	if (!f->json && !looks_like_json(v))
		return;
	for (size_t i = 0; i < c->r->npaths; i++)
		dt_json_scan(v->text, v->len, c->r->paths[i], on_json_value,
			     &hit);
}

/* The body at buf[pos..len): json rules; returns the offset past it. */
static size_t redact_body(struct dt_redact_ctx *c, uint8_t *buf, size_t len,
			  size_t pos, const struct http_framing *f)
{
	struct dt_redact_view v, *vp = c->r->npaths ? &v : NULL;
	size_t end;

	dt_redact_view_init(&v, buf);
	if (f->chunked) {
		end = walk_chunks(c, buf, len, pos, vp);
	} else {
		end = f->sized && f->length <= len - pos ?
			      pos + (size_t)f->length : len;
		if (vp && dt_redact_view_add(vp, pos, end - pos))
			c->err = -ENOMEM;
	}
	if (vp && v.len)
		mask_json_body(c, &v, f);
	dt_redact_view_release(&v);
	return end;
}

/* What the request method means for the response's framing. */
struct http_method {
	bool head, connect;
};

static bool status_has_no_body(int status, const struct http_method *m)
{
	return m->head || status / 100 == 1 || status == 204 ||
	       status == 304;
}

/* After a 101, or a 2xx answering CONNECT, the bytes are not HTTP. */
static bool status_ends_http(int status, const struct http_method *m)
{
	return status == 101 || (m->connect && status / 100 == 2);
}

/*
 * The messages of one direction, one after the other: a request (and any
 * pipelined after it), or interim responses and the final one. *m is set
 * from a request and read for its response.
 */
static void redact_messages(struct dt_redact_ctx *c, uint8_t *buf,
			    size_t len, bool is_request,
			    struct dt_http1_head *h, struct http_method *m)
{
	struct http_framing f;
	size_t pos = 0;
	ssize_t hl;

	while (pos < len) {
		hl = dt_http1_parse_head(buf + pos, len - pos, is_request, 0,
					 h);
		if (hl <= 0) {
			mask_unparsed(c, buf + pos, len - pos);
			return;
		}
		mask_head(c, h);
		pos += (size_t)hl;
		if (is_request) {
			m->head = slice_eq_nocase(h->method, "HEAD");
			m->connect = slice_eq_nocase(h->method, "CONNECT");
		} else if (status_ends_http(h->status, m)) {
			return;
		}
		if (!body_framing(h, !is_request &&
				  status_has_no_body(h->status, m), &f)) {
			mask_unparsed(c, buf + pos, len - pos);
			return;
		}
		pos = redact_body(c, buf, len, pos, &f);
	}
}

void dt_redact_http(struct dt_redact_ctx *c)
{
	struct dt_exchange *x = c->x;
	struct http_method m = { 0 };
	struct dt_http1_head *h;

	if (!c->r->nheaders && !c->r->npaths)
		return;
	h = malloc(sizeof(*h));
	if (!h) {
		c->err = -ENOMEM;
		return;
	}
	redact_messages(c, x->request, x->request_len, true, h, &m);
	redact_messages(c, x->response, x->response_len, false, h, &m);
	free(h);
}
