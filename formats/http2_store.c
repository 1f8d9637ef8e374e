// SPDX-License-Identifier: MIT
/*
 * The stored form of an HTTP/2 message: text lines for its fields, so that
 * `cat`, diff and people read it like an HTTP/1 head, then the body as
 * received. Field lines cannot carry CR or LF, and a name no ": ", so those
 * bytes (which HTTP/2 forbids anyway, RFC 9113 section 8.2.1) are replaced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

static bool byte_breaks_line(uint8_t b)
{
	return b == '\r' || b == '\n' || b == '\0';
}

static bool byte_breaks_name(uint8_t b, size_t i)
{
	return byte_breaks_line(b) || b == ' ' || (b == ':' && i > 0);
}

/* Copies len bytes of src to dst, replacing those that break the line. */
static size_t put_clean(uint8_t *dst, const char *src, size_t len,
			bool is_name, bool *cleaned)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)src[i];

		if (is_name ? byte_breaks_name(b, i) : byte_breaks_line(b)) {
			b = '_';
			*cleaned = true;
		}
		dst[i] = b;
	}
	return len;
}

/* Bytes of the lines of fs; an empty name is stored as "_". */
static size_t fields_size(const struct dt_h2_fields *fs)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->n; i++)
		n += (fs->v[i].name_len ? fs->v[i].name_len : 1) +
		     fs->v[i].value_len + 4;
	return n;
}

static size_t put_fields(uint8_t *dst, const struct dt_h2_fields *fs,
			 bool *cleaned)
{
	size_t o = 0;

	for (size_t i = 0; i < fs->n; i++) {
		const struct dt_h2_field *f = &fs->v[i];

		if (f->name_len) {
			o += put_clean(dst + o, f->name, f->name_len, true,
				       cleaned);
		} else {
			dst[o++] = '_';
			*cleaned = true;
		}
		memcpy(dst + o, ": ", 2);
		o += 2;
		o += put_clean(dst + o, f->value, f->value_len, false, cleaned);
		memcpy(dst + o, "\r\n", 2);
		o += 2;
	}
	return o;
}

int dt_h2_store_message(const struct dt_h2_message *m, uint8_t **out,
			size_t *len, bool *cleaned)
{
	/* field bytes are bounded by the codec's max_fields, the body by
	 * max_body: no overflow */
	size_t n = fields_size(&m->pseudo) + fields_size(&m->headers) + 2 +
		   m->body_len;
	uint8_t *buf = malloc(n);
	size_t o;

	if (!buf)
		return -ENOMEM;
	o = put_fields(buf, &m->pseudo, cleaned);
	o += put_fields(buf + o, &m->headers, cleaned);
	memcpy(buf + o, "\r\n", 2);
	o += 2;
	if (m->body_len)
		memcpy(buf + o, m->body, m->body_len);
	*out = buf;
	*len = n;
	return 0;
}

int dt_h2_store_fields(const struct dt_h2_fields *fs, char **out,
		       bool *cleaned)
{
	size_t n = fields_size(fs);
	char *buf = malloc(n + 1);

	if (!buf)
		return -ENOMEM;
	put_fields((uint8_t *)buf, fs, cleaned);
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* One "name: value\r\n" line at buf[0..len): its length, or -EBADMSG. */
static ssize_t field_line_parse(const uint8_t *buf, size_t len,
				struct dt_http1_header *f)
{
	const uint8_t *eol = memchr(buf, '\n', len);
	size_t line, sep;

	if (!eol || eol == buf || eol[-1] != '\r')
		return -EBADMSG;
	line = (size_t)(eol - buf) - 1;
	for (sep = 1; sep + 1 < line; sep++)
		if (buf[sep] == ':' && buf[sep + 1] == ' ')
			break;
	if (sep + 1 >= line)
		return -EBADMSG;
	f->name = (struct dt_slice){ buf, sep };
	f->value = (struct dt_slice){ buf + sep + 2,
				      line > sep + 2 ? line - sep - 2 : 0 };
	return (ssize_t)line + 2;
}

ssize_t dt_h2_stored_fields_parse(const uint8_t *buf, size_t len,
				  struct dt_http1_header *fields, size_t max,
				  size_t *n, bool *blank)
{
	struct dt_http1_header f;
	size_t off = 0;
	ssize_t r;

	*n = 0;
	*blank = false;
	while (off < len) {
		if (len - off >= 2 && buf[off] == '\r' && buf[off + 1] == '\n') {
			*blank = true;
			return (ssize_t)off + 2;
		}
		r = field_line_parse(buf + off, len - off, &f);
		if (r < 0)
			return r;
		if (*n < max)
			fields[(*n)++] = f;
		off += (size_t)r;
	}
	return (ssize_t)off;
}
