// SPDX-License-Identifier: MIT
/*
 * HTTP/1 and HTTP/2 responses: status, headers, trailers (HTTP/2) and
 * body; a gRPC call's status and messages (compare_grpc.c).
 *
 * An HTTP/2 response is read from its stored form (deetune-session(5)):
 * ":status" gives the status, the other pseudo-header fields are left
 * out, the regular fields are the headers; its trailers, stored in the
 * attribute h2.trailers, compare like headers as "trailer.<name>". For
 * gRPC, grpc-status and grpc-message compare as "grpc.status" and
 * "grpc.message" wherever the server put them (trailers, or the headers
 * of a trailers-only response), and the body message by message.
 *
 * Headers compare by lower-case name, the values of a repeated header
 * joined with ", " in order. Headers ignored by default (rules.c) are
 * skipped; Content-Length is left to the body comparison unless neither
 * response has a body (HEAD, 304), since the recorded bytes may be
 * chunked where the replay is not.
 *
 * Bodies are decoded first (http_body.c). When both are JSON they are
 * compared structurally, else byte for byte, with the place where they
 * start to differ. Bodies not stored whole in the recording (sendfile,
 * truncated) are not compared.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff/diff_int.h"

/* Bodies parsed as JSON up to this size; larger ones compare as bytes. */
#define JSON_BODY_MAX ((size_t)32 << 20)
/* Bytes shown before and after the first difference of two bodies. */
#define CONTEXT_BEFORE 16
#define CONTEXT_AFTER 48

struct http_side {
	struct dt_http1_head head;
	struct dt_http1_head *trailers;	/* HTTP/2; NULL for HTTP/1 */
	const uint8_t *raw_body;	/* as stored */
	size_t raw_len;
	const uint8_t *body;		/* decoded */
	size_t body_len;
	uint8_t *owned;
};

/* A :status value: three digits, else -1. */
static int h2_status(struct dt_slice v)
{
	if (v.len != 3 || !isdigit(v.ptr[0]) || !isdigit(v.ptr[1]) ||
	    !isdigit(v.ptr[2]))
		return -1;
	return (v.ptr[0] - '0') * 100 + (v.ptr[1] - '0') * 10 +
	       (v.ptr[2] - '0');
}

/* Stored HTTP/2 field lines at buf[0..len) into head: the regular
 * fields, and :status (-1 when absent). The bytes read, or -EBADMSG. */
static ssize_t h2_fields_parse(const uint8_t *buf, size_t len,
			       struct dt_http1_head *head, bool *blank)
{
	struct dt_http1_header *f = head->headers;
	ssize_t used;
	size_t n, kept = 0;

	used = dt_h2_stored_fields_parse(buf, len, f, DT_HTTP1_MAX_HEADERS,
					 &n, blank);
	head->status = -1;
	for (size_t i = 0; used >= 0 && i < n; i++) {
		if (f[i].name.len == 7 && !memcmp(f[i].name.ptr, ":status", 7))
			head->status = h2_status(f[i].value);
		else if (f[i].name.ptr[0] != ':')
			f[kept++] = f[i];
	}
	head->nheaders = kept;
	return used;
}

/* The trailers in the attribute h2.trailers; none when it does not
 * parse. 0 or -ENOMEM. */
static int h2_trailers_parse(const struct dt_exchange *x, struct http_side *s)
{
	const char *t = dt_exchange_attr(x, "h2.trailers");
	bool blank;

	s->trailers = calloc(1, sizeof(*s->trailers));
	if (!s->trailers)
		return -ENOMEM;
	if (t && h2_fields_parse((const uint8_t *)t, strlen(t), s->trailers,
				 &blank) < 0)
		s->trailers->nheaders = 0;
	return 0;
}

/* The head of the response, and where its body starts: -EBADMSG when it
 * is not HTTP/1.x, or not a stored HTTP/2 response. */
static ssize_t head_parse(const struct dt_exchange *x, struct http_side *s)
{
	ssize_t off;
	bool blank;

	if (x->protocol != DT_PROTO_HTTP2) {
		off = dt_http1_parse_final_response(x->response,
						    x->response_len, &s->head);
		return off < 0 ? -EBADMSG : off + (ssize_t)s->head.head_len;
	}
	off = h2_fields_parse(x->response, x->response_len, &s->head, &blank);
	if (off < 0 || !blank || s->head.status < 0)
		return -EBADMSG;
	return off;
}

static int side_parse(const struct dt_exchange *x, struct http_side *s)
{
	ssize_t off = head_parse(x, s);
	size_t start;

	if (off < 0)
		return -EBADMSG;
	if (x->protocol == DT_PROTO_HTTP2 && h2_trailers_parse(x, s))
		return -ENOMEM;
	start = (size_t)off;
	s->raw_body = x->response + start;
	s->raw_len = x->response_len - start;
	return dt_http_body_decode(&s->head, s->raw_body, s->raw_len,
				   &s->body, &s->body_len, &s->owned);
}

static int compare_status(struct dt_cmp *c, const struct http_side *a,
			  const struct http_side *b)
{
	struct dt_sbuf ea = { 0 }, eb = { 0 };

	if (a->head.status == b->head.status)
		return 0;
	dt_sbuf_printf(&ea, "%d", a->head.status);
	dt_sbuf_printf(&eb, "%d", b->head.status);
	if (ea.oom || eb.oom) {
		dt_sbuf_release(&ea);
		dt_sbuf_release(&eb);
		return -ENOMEM;
	}
	return dt_cmp_add(c, "status", NULL, dt_sbuf_take(&ea),
			  dt_sbuf_take(&eb), NULL, DT_DIFF_UNEXPLAINED);
}

/* Two lists of header fields to compare. */
struct fields_cmp {
	const struct dt_http1_head *a, *b;
	const char *prefix;	/* "header." or "trailer." */
	bool bodies;		/* Content-Length left to the bodies */
	bool grpc;		/* grpc-status, grpc-message compared apart */
};

/* "<prefix><name>", lower case, escaped. */
static char *header_field(const char *prefix, struct dt_slice name)
{
	struct dt_sbuf lower = { 0 }, field = { 0 };
	size_t i;

	for (i = 0; i < name.len; i++)
		dt_sbuf_putc(&lower, (char)tolower(name.ptr[i]));
	dt_sbuf_puts(&field, prefix);
	if (!lower.oom)
		dt_text_escape(&field, lower.p, lower.len, false);
	dt_sbuf_release(&lower);
	return dt_sbuf_take(&field);
}

static bool same_name(struct dt_slice a, struct dt_slice b)
{
	return a.len == b.len &&
	       !strncasecmp((const char *)a.ptr, (const char *)b.ptr, a.len);
}

/* The values of every header called name, joined with ", ". Returns
 * false when there is none. */
static bool header_values(const struct dt_http1_head *h, struct dt_slice name,
			  struct dt_sbuf *out)
{
	bool found = false;
	size_t i;

	for (i = 0; i < h->nheaders; i++) {
		if (!same_name(h->headers[i].name, name))
			continue;
		if (found)
			dt_sbuf_puts(out, ", ");
		dt_sbuf_put(out, h->headers[i].value.ptr,
			    h->headers[i].value.len);
		found = true;
	}
	return found;
}

static bool header_in(const struct dt_http1_head *h, struct dt_slice name)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (same_name(h->headers[i].name, name))
			return true;
	return false;
}

/* True when name appeared in h before index i: compared already. */
static bool seen_before(const struct dt_http1_head *h, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (same_name(h->headers[k].name, h->headers[i].name))
			return true;
	return false;
}

/* Names compared elsewhere, or not at all. */
static bool header_skipped(const struct dt_cmp *c, const struct fields_cmp *fc,
			   const char *name)
{
	return dt_rules_header_skipped(c->scope, name) ||
	       (fc->bodies && !strcmp(name, "content-length")) ||
	       (fc->grpc && (!strcmp(name, "grpc-status") ||
			     !strcmp(name, "grpc-message")));
}

static int compare_header(struct dt_cmp *c, struct dt_slice name,
			  const struct fields_cmp *fc)
{
	struct dt_sbuf va = { 0 }, vb = { 0 };
	char *field = header_field(fc->prefix, name);
	bool in_a, in_b;
	int ret = 0;

	if (!field)
		return -ENOMEM;
	/* field is the prefix + the escaped lower-case name */
	if (header_skipped(c, fc, field + strlen(fc->prefix)))
		goto out;
	in_a = header_values(fc->a, name, &va);
	in_b = header_values(fc->b, name, &vb);
	if (va.oom || vb.oom) {
		ret = -ENOMEM;
		goto out;
	}
	ret = dt_cmp_strings(c, field, in_a ? va.p : NULL, va.len,
			     in_b ? vb.p : NULL, vb.len);
out:
	dt_sbuf_release(&va);
	dt_sbuf_release(&vb);
	free(field);
	return ret;
}

/* Every name of a in its order, then the names only b has. */
static int compare_headers(struct dt_cmp *c, const struct fields_cmp *fc)
{
	const struct dt_http1_header *h;
	size_t i;
	int ret;

	for (i = 0; i < fc->a->nheaders; i++) {
		h = &fc->a->headers[i];
		if (seen_before(fc->a, i))
			continue;
		ret = compare_header(c, h->name, fc);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < fc->b->nheaders; i++) {
		h = &fc->b->headers[i];
		if (seen_before(fc->b, i) || header_in(fc->a, h->name))
			continue;
		ret = compare_header(c, h->name, fc);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* `..."<bytes around off>"...` */
static char *context(const uint8_t *p, size_t len, size_t off)
{
	size_t start = off > CONTEXT_BEFORE ? off - CONTEXT_BEFORE : 0;
	size_t end = len - off > CONTEXT_AFTER ? off + CONTEXT_AFTER : len;
	struct dt_sbuf b = { 0 };

	if (start)
		dt_sbuf_puts(&b, "...");
	dt_sbuf_putc(&b, '"');
	dt_text_escape(&b, p + start, end - start, true);
	dt_sbuf_putc(&b, '"');
	if (end < len)
		dt_sbuf_puts(&b, "...");
	return dt_sbuf_take(&b);
}

static size_t first_difference(const uint8_t *a, size_t alen,
			       const uint8_t *b, size_t blen)
{
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

/* Two bodies differ byte-wise: one item "body" showing where. When the
 * normalisers leave a difference, that is the one shown. */
static int compare_bytes(struct dt_cmp *c, const struct http_side *a,
			 const struct http_side *b)
{
	struct dt_sbuf na = { 0 }, nb = { 0 }, note = { 0 };
	const uint8_t *pa = a->body, *pb = b->body;
	size_t la = a->body_len, lb = b->body_len, off;
	enum dt_diff_why why = DT_DIFF_UNEXPLAINED;
	bool normalized = false;
	char *ea, *eb;

	if (dt_rules_can_normalize(c->scope) &&
	    !dt_rules_normalize(c->scope, pa, la, &na) &&
	    !dt_rules_normalize(c->scope, pb, lb, &nb)) {
		normalized = true;
		if (na.len == nb.len && !memcmp(na.p, nb.p, na.len)) {
			why = DT_DIFF_BY_NORMALIZER;
		} else {
			pa = (const uint8_t *)na.p;
			la = na.len;
			pb = (const uint8_t *)nb.p;
			lb = nb.len;
		}
	}
	off = first_difference(pa, la, pb, lb);
	dt_sbuf_printf(&note, "%s differ from byte %zu (%zu and %zu bytes)",
		       normalized && why == DT_DIFF_UNEXPLAINED ?
			       "normalised bodies" : "bodies",
		       off, a->body_len, b->body_len);
	ea = context(pa, la, off);
	eb = context(pb, lb, off);
	dt_sbuf_release(&na);
	dt_sbuf_release(&nb);
	if (!ea || !eb || note.oom) {
		free(ea);
		free(eb);
		dt_sbuf_release(&note);
		return -ENOMEM;
	}
	return dt_cmp_add(c, "body", NULL, ea, eb, dt_sbuf_take(&note), why);
}

/* A JSON body: Content-Type says so, or it starts like an object or an
 * array. NULL when it does not parse. */
static json_t *body_json(const struct http_side *s)
{
	const struct dt_http1_header *ct;
	size_t i = 0;
	bool json_type;

	if (!s->body_len || s->body_len > JSON_BODY_MAX)
		return NULL;
	ct = dt_http1_find_header(&s->head, "Content-Type");
	json_type = ct && memmem(ct->value.ptr, ct->value.len, "json", 4);
	while (i < s->body_len && isspace(s->body[i]))
		i++;
	if (!json_type && (i == s->body_len ||
			   (s->body[i] != '{' && s->body[i] != '[')))
		return NULL;
	return json_loadb((const char *)s->body, s->body_len,
			  JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

static int compare_body(struct dt_cmp *c, const struct http_side *a,
			const struct http_side *b)
{
	json_t *ja, *jb;
	int ret;

	if (a->body_len == b->body_len &&
	    !memcmp(a->body, b->body, a->body_len))
		return 0;
	ja = body_json(a);
	jb = ja ? body_json(b) : NULL;
	if (ja && jb)
		ret = dt_cmp_json(c, ja, jb, "body", "$");
	else
		ret = compare_bytes(c, a, b);
	json_decref(ja);
	json_decref(jb);
	return ret;
}

static void side_release(struct http_side *s)
{
	if (s) {
		free(s->owned);
		free(s->trailers);
	}
	free(s);
}

/* application/grpc, application/grpc+proto, ...; as dt_grpc_is_grpc(). */
static bool is_grpc(const struct http_side *s)
{
	const struct dt_http1_header *ct =
		dt_http1_find_header(&s->head, "content-type");
	const size_t n = strlen("application/grpc");

	return s->trailers && ct && ct->value.len >= n &&
	       !strncasecmp((const char *)ct->value.ptr, "application/grpc",
			    n) &&
	       (ct->value.len == n || ct->value.ptr[n] == '+' ||
		ct->value.ptr[n] == ';');
}

/* Headers, trailers, and the gRPC status. */
static int compare_fields(struct dt_cmp *c, const struct dt_exchange *rec,
			  const struct dt_exchange *rep,
			  const struct http_side *a, const struct http_side *b,
			  bool bodies, bool grpc)
{
	struct fields_cmp fc = { &a->head, &b->head, "header.", bodies, grpc };
	int ret = compare_headers(c, &fc);

	if (!ret && a->trailers && b->trailers) {
		fc = (struct fields_cmp){ a->trailers, b->trailers,
					  "trailer.", false, grpc };
		ret = compare_headers(c, &fc);
	}
	if (!ret && grpc)
		ret = dt_compare_grpc_status(c, rec, rep);
	return ret;
}

static const char *version(const struct dt_exchange *x)
{
	return x->protocol == DT_PROTO_HTTP2 ? "a stored HTTP/2 response" :
					       "HTTP/1.x";
}

int dt_compare_http(struct dt_cmp *c, const struct dt_exchange *rec,
		    const struct dt_exchange *rep)
{
	struct http_side *a = calloc(1, sizeof(*a));
	struct http_side *b = calloc(1, sizeof(*b));
	bool with_body = !(rec->flags & (DT_XF_SENDFILE | DT_XF_TRUNCATED));
	bool grpc;
	int ret = -ENOMEM;

	if (!a || !b)
		goto out;
	ret = side_parse(rec, a);
	if (ret == -EBADMSG) {
		ret = dt_cmp_verdict(c, DT_DIFF_SKIPPED, "recorded response "
				     "is not %s", version(rec));
		goto out;
	}
	if (!ret)
		ret = side_parse(rep, b);
	if (ret == -EBADMSG) {
		ret = dt_cmp_verdict(c, DT_DIFF_FAILED, "replayed response "
				     "is not %s", version(rep));
		goto out;
	}
	grpc = is_grpc(a);
	if (!ret)
		ret = compare_status(c, a, b);
	if (!ret)
		ret = compare_fields(c, rec, rep, a, b,
				     with_body && (a->raw_len || b->raw_len),
				     grpc);
	if (!ret && with_body && grpc)
		ret = dt_compare_grpc_messages(c, a->body, a->body_len,
					       b->body, b->body_len);
	else if (!ret && with_body)
		ret = compare_body(c, a, b);
out:
	side_release(a);
	side_release(b);
	return ret;
}
