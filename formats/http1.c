// SPDX-License-Identifier: MIT
/*
 * HTTP/1.x codec (RFC 9112): parsing a message head, framing messages in a
 * byte stream incrementally, and finding message starts in a stream joined
 * part-way through.
 *
 * Leniency, chosen to match what nginx accepts so that the recorder keeps
 * whatever the server it watches would have served:
 * - a bare LF ends a line anywhere a CRLF does (start line, field lines,
 *   chunk lines, trailers); a CR anywhere else is rejected;
 * - empty lines before a start line are skipped (RFC 9112 section 2.2: some
 *   clients send a CRLF after a POST body). They belong to the message that
 *   follows, so msg_len and head_len count them and no byte is lost;
 * - obs-fold (a field line starting with whitespace) is rejected.
 *
 * Methods are 1 to 20 characters of A-Z, 0-9, '-' and '_' starting with a
 * letter (nginx allows no more): a stricter rule than RFC 9110's token, which
 * keeps the recognition of message starts in arbitrary bytes meaningful.
 */
#include <errno.h>
#include <string.h>

#include "formats.h"

#define HTTP1_HEAD_LIMIT_DEFAULT (64 * 1024)
#define HTTP1_METHOD_MAX 20
/* Bodies and chunks beyond 2^62 bytes are not real traffic; refusing them
 * keeps every offset computation far from overflowing. */
#define HTTP1_LENGTH_MAX (UINT64_C(1) << 62)
/* Enough bytes to judge a start line early: a method, a space and the start
 * of the target, or a version and a status code. Judging a bounded prefix
 * keeps repeated scans of a growing head linear. */
#define HTTP1_EARLY_CHECK_BYTES 64

/* ---------------------------------------------------------------------- */
/* Characters, slices and lists                                           */
/* ---------------------------------------------------------------------- */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 section 5.6.2 */
static bool is_tchar(uint8_t c)
{
	if (is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_method_char(uint8_t c, size_t index)
{
	if (index == 0)
		return is_upper(c);
	return is_upper(c) || is_digit(c) || c == '-' || c == '_';
}

/* Visible ASCII or obs-text: no whitespace, no control characters. */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

static bool is_reason_char(uint8_t c)
{
	return is_ows(c) || is_target_char(c);
}

static int hex_value(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint8_t ascii_lower(uint8_t c)
{
	return is_upper(c) ? c - 'A' + 'a' : c;
}

static bool slice_eq_nocase(struct dt_slice s, const char *str)
{
	size_t i, n = strlen(str);

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (ascii_lower(s.ptr[i]) != ascii_lower((uint8_t)str[i]))
			return false;
	return true;
}

static struct dt_slice ows_trim(struct dt_slice s)
{
	while (s.len && is_ows(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len && is_ows(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

/*
 * Splits the next member off a comma-separated field value (RFC 9110
 * section 5.6.1), trimmed of OWS; members may be empty. rest->ptr becomes
 * NULL after the last member. Returns false once the list is exhausted.
 */
static bool list_next(struct dt_slice *rest, struct dt_slice *member)
{
	const uint8_t *comma;

	if (!rest->ptr)
		return false;
	comma = memchr(rest->ptr, ',', rest->len);
	member->ptr = rest->ptr;
	member->len = comma ? (size_t)(comma - rest->ptr) : rest->len;
	if (comma) {
		rest->len -= member->len + 1;
		rest->ptr = comma + 1;
	} else {
		rest->ptr = NULL;
	}
	*member = ows_trim(*member);
	return true;
}

/* 1*DIGIT no larger than HTTP1_LENGTH_MAX. */
static int decimal_parse(struct dt_slice s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!s.len)
		return -EBADMSG;
	for (i = 0; i < s.len; i++) {
		if (!is_digit(s.ptr[i]))
			return -EBADMSG;
		if (v > (HTTP1_LENGTH_MAX - (s.ptr[i] - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (s.ptr[i] - '0');
	}
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Start lines                                                            */
/* ---------------------------------------------------------------------- */

/*
 * Start-line matchers judge a prefix: LINE_PARTIAL means every byte seen so
 * far fits and the buffer ended first. A LINE_BAD verdict only ever rests on
 * a byte that is present, so a prefix of a valid line is never rejected.
 */
enum line_match {
	LINE_BAD = -1,
	LINE_PARTIAL = 0,
	LINE_OK = 1,
};

struct start_line {
	struct dt_slice method;
	struct dt_slice target;
	int version_minor;
	int status;
	/* requests: bytes up to and including the LF; responses: up to and
	 * excluding the byte after the status code (SP, CR or LF) */
	size_t len;
};

static int literal_match(const uint8_t *buf, size_t len, size_t *pos,
			 const char *lit)
{
	size_t i = *pos;

	for (; *lit; lit++, i++) {
		if (i == len)
			return LINE_PARTIAL;
		if (buf[i] != (uint8_t)*lit)
			return LINE_BAD;
	}
	*pos = i;
	return LINE_OK;
}

static int version_match(const uint8_t *buf, size_t len, size_t *pos,
			 int *minor)
{
	int rc = literal_match(buf, len, pos, "HTTP/1.");

	if (rc != LINE_OK)
		return rc;
	if (*pos == len)
		return LINE_PARTIAL;
	if (!is_digit(buf[*pos]))
		return LINE_BAD;
	*minor = buf[(*pos)++] - '0';
	return LINE_OK;
}

static int line_end_match(const uint8_t *buf, size_t len, size_t *pos)
{
	size_t i = *pos;

	if (i < len && buf[i] == '\r')
		i++;
	if (i == len)
		return LINE_PARTIAL;
	if (buf[i] != '\n')
		return LINE_BAD;
	*pos = i + 1;
	return LINE_OK;
}

/* METHOD SP request-target SP HTTP/1.d CRLF */
static int request_line_match(const uint8_t *buf, size_t len,
			      struct start_line *sl)
{
	size_t i = 0, target;
	int rc;

	while (i < len && i < HTTP1_METHOD_MAX && is_method_char(buf[i], i))
		i++;
	if (i == len)
		return LINE_PARTIAL;
	if (i == 0 || buf[i] != ' ')
		return LINE_BAD;
	sl->method = (struct dt_slice){ buf, i };

	target = ++i;
	while (i < len && is_target_char(buf[i]))
		i++;
	if (i == len)
		return LINE_PARTIAL;
	if (i == target || buf[i] != ' ')
		return LINE_BAD;
	sl->target = (struct dt_slice){ buf + target, i - target };

	i++;
	rc = version_match(buf, len, &i, &sl->version_minor);
	if (rc != LINE_OK)
		return rc;
	rc = line_end_match(buf, len, &i);
	if (rc != LINE_OK)
		return rc;
	sl->len = i;
	return LINE_OK;
}

/* HTTP/1.d SP 3DIGIT, then SP, CR or LF */
static int status_line_match(const uint8_t *buf, size_t len,
			     struct start_line *sl)
{
	size_t i = 0;
	int rc, k, status = 0;

	rc = version_match(buf, len, &i, &sl->version_minor);
	if (rc != LINE_OK)
		return rc;
	rc = literal_match(buf, len, &i, " ");
	if (rc != LINE_OK)
		return rc;
	for (k = 0; k < 3; k++, i++) {
		if (i == len)
			return LINE_PARTIAL;
		if (!is_digit(buf[i]) || (k == 0 && buf[i] == '0'))
			return LINE_BAD;
		status = status * 10 + (buf[i] - '0');
	}
	if (i == len)
		return LINE_PARTIAL;
	if (buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
		return LINE_BAD;
	sl->status = status;
	sl->len = i;
	return LINE_OK;
}

static int start_line_match(const uint8_t *buf, size_t len, bool is_request,
			    struct start_line *sl)
{
	if (is_request)
		return request_line_match(buf, len, sl);
	return status_line_match(buf, len, sl);
}

/* Judges only a bounded prefix, so calling it on every scan stays cheap. */
static bool start_line_hopeless(const uint8_t *buf, size_t len,
				bool is_request)
{
	struct start_line sl;

	if (len > HTTP1_EARLY_CHECK_BYTES)
		len = HTTP1_EARLY_CHECK_BYTES;
	return start_line_match(buf, len, is_request, &sl) == LINE_BAD;
}

size_t dt_http1_resync(const uint8_t *buf, size_t len, bool is_request)
{
	struct start_line sl;
	size_t i;

	/*
	 * Every offset is a candidate: a body need not end with a newline.
	 * The cost stays linear: a method is at most 20 bytes, and the targets
	 * scanned from different candidates end at different spaces, each
	 * shared by at most 20 candidates.
	 */
	for (i = 0; i < len; i++)
		if (start_line_match(buf + i, len - i, is_request, &sl) !=
		    LINE_BAD)
			return i;
	return len;
}

bool dt_http1_looks_like_request(const uint8_t *buf, size_t len)
{
	struct start_line sl;

	return len > 0 && request_line_match(buf, len, &sl) != LINE_BAD;
}

/* ---------------------------------------------------------------------- */
/* Heads                                                                  */
/* ---------------------------------------------------------------------- */

static size_t empty_lines_skip(const uint8_t *buf, size_t pos, size_t len)
{
	for (;;) {
		if (pos < len && buf[pos] == '\n')
			pos++;
		else if (pos + 1 < len && buf[pos] == '\r' &&
			 buf[pos + 1] == '\n')
			pos += 2;
		else
			return pos;
	}
}

/* True when buf[pos..len) may still complete an empty line. */
static bool empty_line_pending(const uint8_t *buf, size_t pos, size_t len)
{
	return pos == len || (pos + 1 == len && buf[pos] == '\r');
}

/*
 * Looks for the empty line ending a head ("\n\n" or "\n\r\n") in
 * buf[*pos..len). Returns the offset just past it, or 0 with *pos set to
 * where the search must resume once more bytes arrive.
 */
static size_t head_end_find(const uint8_t *buf, size_t len, size_t *pos)
{
	const uint8_t *nl;
	size_t i = *pos;

	while (i < len) {
		nl = memchr(buf + i, '\n', len - i);
		if (!nl) {
			i = len;
			break;
		}
		i = (size_t)(nl - buf);
		if (i + 1 == len)
			break;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r') {
			if (i + 2 == len)
				break;
			if (buf[i + 2] == '\n')
				return i + 3;
		}
		i++;
	}
	*pos = i;
	return 0;
}

/*
 * Looks for the end of a head in buf[0..len). *start (offset of the start
 * line) and *pos (search position) are 0 on the first call; the framer
 * keeps them between calls so that a head arriving piecewise is scanned
 * once. Returns the head length, 0 when more bytes are needed, -EBADMSG when
 * the start line cannot be one, -E2BIG past limit bytes.
 */
static ssize_t head_locate(const uint8_t *buf, size_t len, bool is_request,
			   size_t limit, size_t *start, size_t *pos)
{
	size_t n = len < limit ? len : limit;
	size_t end;

	/* pos moves past start only once the start line has begun */
	if (*pos == *start) {
		*start = *pos = empty_lines_skip(buf, *start, n);
		if (empty_line_pending(buf, *start, n))
			return len >= limit ? -E2BIG : 0;
	}
	end = head_end_find(buf, n, pos);
	if (end)
		return (ssize_t)end;
	if (start_line_hopeless(buf + *start, len - *start, is_request))
		return -EBADMSG;
	return len >= limit ? -E2BIG : 0;
}

/* The line at buf[pos..end) without its CRLF or LF; *pos moves past it. */
static struct dt_slice line_next(const uint8_t *buf, size_t *pos, size_t end)
{
	const uint8_t *nl = memchr(buf + *pos, '\n', end - *pos);
	struct dt_slice line = { buf + *pos, 0 };

	/* callers only pass ranges that end with an LF */
	line.len = (size_t)(nl - line.ptr);
	if (line.len && line.ptr[line.len - 1] == '\r')
		line.len--;
	*pos += (size_t)(nl - line.ptr) + 1;
	return line;
}

/* The rest of the status line after the code: [SP reason] CRLF. */
static int reason_parse(const uint8_t *buf, size_t *pos, size_t end,
			struct dt_slice *reason)
{
	size_t i;

	if (buf[*pos] == ' ')
		(*pos)++;
	*reason = line_next(buf, pos, end);
	for (i = 0; i < reason->len; i++)
		if (!is_reason_char(reason->ptr[i]))
			return -EBADMSG;
	return 0;
}

/* field-name ":" OWS field-value OWS; whitespace before the colon and
 * obs-fold are rejected (RFC 9112 sections 5.1 and 5.2). */
static int field_parse(struct dt_slice line, struct dt_http1_header *h)
{
	size_t i = 0;

	while (i < line.len && is_tchar(line.ptr[i]))
		i++;
	if (i == 0 || i == line.len || line.ptr[i] != ':')
		return -EBADMSG;
	h->name = (struct dt_slice){ line.ptr, i };
	h->value = ows_trim((struct dt_slice){ line.ptr + i + 1,
					       line.len - i - 1 });
	/* RFC 9110 section 5.5: NUL and CR must not pass as field data */
	for (i = 0; i < h->value.len; i++)
		if (h->value.ptr[i] == '\0' || h->value.ptr[i] == '\r')
			return -EBADMSG;
	return 0;
}

/* Parses the complete head buf[start..end), end just past its empty line. */
static ssize_t head_parse(const uint8_t *buf, size_t start, size_t end,
			  bool is_request, struct dt_http1_head *head)
{
	struct start_line sl = { 0 };
	struct dt_slice line;
	size_t pos;
	int rc;

	memset(head, 0, offsetof(struct dt_http1_head, headers));
	head->is_request = is_request;
	if (start_line_match(buf + start, end - start, is_request, &sl) !=
	    LINE_OK)
		return -EBADMSG;
	pos = start + sl.len;
	if (!is_request) {
		rc = reason_parse(buf, &pos, end, &head->reason);
		if (rc < 0)
			return rc;
	}
	head->method = sl.method;
	head->target = sl.target;
	head->version_minor = sl.version_minor;
	head->status = sl.status;

	for (;;) {
		line = line_next(buf, &pos, end);
		if (!line.len)
			break;
		if (head->nheaders == DT_HTTP1_MAX_HEADERS)
			return -E2BIG;
		rc = field_parse(line, &head->headers[head->nheaders]);
		if (rc < 0)
			return rc;
		head->nheaders++;
	}
	head->head_len = end;
	return (ssize_t)end;
}

ssize_t dt_http1_parse_head(const uint8_t *buf, size_t len, bool is_request,
			    size_t limit, struct dt_http1_head *head)
{
	size_t start = 0, pos = 0;
	ssize_t end;

	if (!limit)
		limit = HTTP1_HEAD_LIMIT_DEFAULT;
	end = head_locate(buf, len, is_request, limit, &start, &pos);
	if (end <= 0)
		return end;
	return head_parse(buf, start, (size_t)end, is_request, head);
}

const struct dt_http1_header *
dt_http1_find_header(const struct dt_http1_head *head, const char *name)
{
	size_t i;

	for (i = 0; i < head->nheaders; i++)
		if (slice_eq_nocase(head->headers[i].name, name))
			return &head->headers[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Message framing (RFC 9112 section 6.3)                                 */
/* ---------------------------------------------------------------------- */

/*
 * Framer states. The private fields mean:
 * - FR_HEAD: head_len is the offset of the start line (after skipped empty
 *   lines), pos where the search for the head's end resumes;
 * - after the head: head_len is the head's length, pos the next byte to
 *   look at; remaining counts body or chunk bytes still expected, the value
 *   of a chunk size being read, or in FR_TRAILER the bytes the trailer
 *   section may still take (head_limit in all).
 */
enum framer_state {
	FR_HEAD = 0,
	FR_BODY,		/* Content-Length body */
	FR_CHUNK_SIZE_FIRST,	/* first hex digit of a chunk size */
	FR_CHUNK_SIZE,		/* further hex digits */
	FR_CHUNK_SIZE_WS,	/* BWS between the size and ';' or CRLF */
	FR_CHUNK_EXT,		/* chunk extensions, up to LF */
	FR_CHUNK_SIZE_LF,	/* LF ending the chunk-size line */
	FR_CHUNK_DATA,
	FR_CHUNK_DATA_CR,	/* CRLF after chunk data */
	FR_CHUNK_DATA_LF,
	FR_TRAILER,		/* trailer section up to its empty line */
	FR_UNTIL_CLOSE,		/* body delimited by connection close */
	FR_DONE,
	FR_BAD,
	FR_TOO_BIG,
};

static size_t framer_head_limit(const struct dt_http1_framer *f)
{
	return f->head_limit ? f->head_limit : HTTP1_HEAD_LIMIT_DEFAULT;
}

void dt_http1_framer_init(struct dt_http1_framer *f, bool is_request)
{
	memset(f, 0, sizeof(*f));
	f->is_request = is_request;
}

void dt_http1_framer_reset(struct dt_http1_framer *f)
{
	bool is_request = f->is_request;
	size_t head_limit = f->head_limit;

	dt_http1_framer_init(f, is_request);
	f->head_limit = head_limit;
}

static int message_done(struct dt_http1_framer *f, size_t msg_len)
{
	f->msg_len = msg_len;
	f->state = FR_DONE;
	return DT_HTTP1_COMPLETE;
}

/* Last member of all Transfer-Encoding lines is "chunked" (parameters and
 * case aside). */
static bool te_final_is_chunked(const struct dt_http1_head *h)
{
	struct dt_slice rest, member, last = { NULL, 0 };
	size_t i, n;

	for (i = 0; i < h->nheaders; i++) {
		if (!slice_eq_nocase(h->headers[i].name, "transfer-encoding"))
			continue;
		rest = h->headers[i].value;
		while (list_next(&rest, &member))
			if (member.len)
				last = member;
	}
	for (n = 0; n < last.len && is_tchar(last.ptr[n]); n++)
		;
	return slice_eq_nocase((struct dt_slice){ last.ptr, n }, "chunked");
}

/*
 * RFC 9110 section 8.6: every Content-Length line and list member must carry
 * the same value ("42, 42" is allowed). Returns 1 with *out set, 0 when there
 * is none, -EBADMSG otherwise.
 */
static int content_length_parse(const struct dt_http1_head *h, uint64_t *out)
{
	struct dt_slice rest, member;
	uint64_t v, first = 0;
	bool found = false;
	size_t i;

	for (i = 0; i < h->nheaders; i++) {
		if (!slice_eq_nocase(h->headers[i].name, "content-length"))
			continue;
		rest = h->headers[i].value;
		while (list_next(&rest, &member)) {
			if (decimal_parse(member, &v) < 0)
				return -EBADMSG;
			if (found && v != first)
				return -EBADMSG;
			first = v;
			found = true;
		}
	}
	*out = first;
	return found;
}

static void until_close(struct dt_http1_framer *f)
{
	f->body_until_close = true;
	f->state = FR_UNTIL_CLOSE;
}

/*
 * RFC 9112 section 6.3 items 3 and 4: Transfer-Encoding wins over
 * Content-Length. The framing is faulty when the final coding is not
 * chunked, or in an HTTP/1.0 message (section 6.1): a request then cannot
 * be framed, a response runs until the connection closes.
 */
static int transfer_coding_framing(struct dt_http1_framer *f,
				   const struct dt_http1_head *h)
{
	if (h->version_minor > 0 && te_final_is_chunked(h)) {
		f->state = FR_CHUNK_SIZE_FIRST;
		return 0;
	}
	if (f->is_request)
		return -EBADMSG;
	until_close(f);
	return 0;
}

/* Sets the state for the body that follows the head h. */
static int body_framing_choose(struct dt_http1_framer *f,
			       const struct dt_http1_head *h)
{
	int status = h->status;
	uint64_t length;
	int rc;

	f->head_len = h->head_len;
	f->pos = h->head_len;
	if (!f->is_request) {
		f->status = status;
		f->upgraded = status == 101 ||
			      (f->request_was_connect && status / 100 == 2);
		if (f->upgraded || status / 100 == 1 || status == 204 ||
		    status == 304 || f->request_was_head)
			return message_done(f, h->head_len);
	}
	if (dt_http1_find_header(h, "transfer-encoding"))
		return transfer_coding_framing(f, h);
	rc = content_length_parse(h, &length);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		f->remaining = length;
		f->state = FR_BODY;
	} else if (f->is_request) {
		return message_done(f, h->head_len);
	} else {
		until_close(f);
	}
	return 0;
}

static int head_scan(struct dt_http1_framer *f, const uint8_t *buf,
		     size_t len)
{
	struct dt_http1_head head;
	ssize_t end;

	end = head_locate(buf, len, f->is_request, framer_head_limit(f),
			  &f->head_len, &f->pos);
	if (end <= 0)
		return (int)end;
	end = head_parse(buf, f->head_len, (size_t)end, f->is_request, &head);
	if (end < 0)
		return (int)end;
	return body_framing_choose(f, &head);
}

/* Consumes body or chunk bytes; true once none remain. */
static bool body_skip(struct dt_http1_framer *f, size_t len)
{
	size_t n = len - f->pos;

	if (f->remaining < n)
		n = (size_t)f->remaining;
	f->pos += n;
	f->remaining -= n;
	return f->remaining == 0;
}

static void chunk_size_done(struct dt_http1_framer *f)
{
	if (f->remaining) {
		f->state = FR_CHUNK_DATA;
		return;
	}
	/* last-chunk: the trailer section ends at the first empty line, and
	 * the LF just consumed is what the search for it starts from */
	f->state = FR_TRAILER;
	f->pos--;
	f->remaining = framer_head_limit(f);
}

static int chunk_size_delimiter(struct dt_http1_framer *f, uint8_t c)
{
	switch (c) {
	case ' ':
	case '\t':
		f->state = FR_CHUNK_SIZE_WS;
		return 0;
	case ';':
		f->state = FR_CHUNK_EXT;
		return 0;
	case '\r':
		f->state = FR_CHUNK_SIZE_LF;
		return 0;
	case '\n':
		chunk_size_done(f);
		return 0;
	}
	return -EBADMSG;
}

/* One byte of the chunk-size line or of the CRLF after chunk data; the
 * framer's pos is already past c. */
static int chunk_byte(struct dt_http1_framer *f, uint8_t c)
{
	int digit = hex_value(c);

	switch (f->state) {
	case FR_CHUNK_SIZE_FIRST:
	case FR_CHUNK_SIZE:
		if (digit >= 0) {
			if (f->remaining > (HTTP1_LENGTH_MAX - digit) >> 4)
				return -EBADMSG;
			f->remaining = f->remaining << 4 | (uint64_t)digit;
			f->state = FR_CHUNK_SIZE;
			return 0;
		}
		if (f->state == FR_CHUNK_SIZE_FIRST)
			return -EBADMSG;
		return chunk_size_delimiter(f, c);
	case FR_CHUNK_SIZE_WS:
		return chunk_size_delimiter(f, c);
	case FR_CHUNK_SIZE_LF:
		if (c != '\n')
			return -EBADMSG;
		chunk_size_done(f);
		return 0;
	default: /* FR_CHUNK_DATA_CR, FR_CHUNK_DATA_LF */
		if (c == '\r' && f->state == FR_CHUNK_DATA_CR) {
			f->state = FR_CHUNK_DATA_LF;
			return 0;
		}
		/* a bare LF after the data is accepted too */
		if (c != '\n')
			return -EBADMSG;
		f->state = FR_CHUNK_SIZE_FIRST;
		return 0;
	}
}

/* Chunk extensions are skipped unparsed: framing does not depend on them. */
static void chunk_ext_skip(struct dt_http1_framer *f, const uint8_t *buf,
			   size_t len)
{
	const uint8_t *nl = memchr(buf + f->pos, '\n', len - f->pos);

	if (!nl) {
		f->pos = len;
		return;
	}
	f->pos = (size_t)(nl - buf) + 1;
	chunk_size_done(f);
}

static int trailer_scan(struct dt_http1_framer *f, const uint8_t *buf,
			size_t len)
{
	size_t from = f->pos;
	size_t n = len - from < f->remaining ? len : from + f->remaining;
	size_t end = head_end_find(buf, n, &f->pos);

	if (end)
		return message_done(f, end);
	if (f->remaining <= len - from)
		return -E2BIG;
	f->remaining -= f->pos - from;
	return DT_HTTP1_NEED_MORE;
}

static int chunked_scan(struct dt_http1_framer *f, const uint8_t *buf,
			size_t len)
{
	int rc;

	while (f->pos < len) {
		switch (f->state) {
		case FR_TRAILER:
			return trailer_scan(f, buf, len);
		case FR_CHUNK_DATA:
			if (body_skip(f, len))
				f->state = FR_CHUNK_DATA_CR;
			break;
		case FR_CHUNK_EXT:
			chunk_ext_skip(f, buf, len);
			break;
		default:
			rc = chunk_byte(f, buf[f->pos++]);
			if (rc < 0)
				return rc;
		}
	}
	return DT_HTTP1_NEED_MORE;
}

static int framer_step(struct dt_http1_framer *f, const uint8_t *buf,
		       size_t len)
{
	int rc;

	if (f->state == FR_HEAD) {
		rc = head_scan(f, buf, len);
		if (rc < 0 || f->state == FR_HEAD)
			return rc;
	}
	switch (f->state) {
	case FR_DONE:
		return DT_HTTP1_COMPLETE;
	case FR_BAD:
		return -EBADMSG;
	case FR_TOO_BIG:
		return -E2BIG;
	case FR_UNTIL_CLOSE:
		f->pos = len;
		return DT_HTTP1_NEED_MORE;
	case FR_BODY:
		if (body_skip(f, len))
			return message_done(f, f->pos);
		return DT_HTTP1_NEED_MORE;
	default:
		return chunked_scan(f, buf, len);
	}
}

int dt_http1_framer_scan(struct dt_http1_framer *f, const uint8_t *buf,
			 size_t len)
{
	int rc;

	/* the framer resumes at pos: the buffer must not have shrunk */
	if (len < f->pos)
		return -EINVAL;
	rc = framer_step(f, buf, len);
	if (rc == -EBADMSG)
		f->state = FR_BAD;
	else if (rc == -E2BIG)
		f->state = FR_TOO_BIG;
	return rc;
}

int dt_http1_framer_eof(struct dt_http1_framer *f, size_t len)
{
	if (f->state == FR_UNTIL_CLOSE && len >= f->head_len)
		return message_done(f, len);
	return f->state == FR_DONE ? DT_HTTP1_COMPLETE : DT_HTTP1_NEED_MORE;
}

ssize_t dt_http1_parse_final_response(const uint8_t *buf, size_t len,
				      struct dt_http1_head *head)
{
	size_t off = 0;
	ssize_t n;

	for (;;) {
		n = dt_http1_parse_head(buf + off, len - off, false, 0, head);
		if (n <= 0)
			return n ? n : -ENODATA;
		/* interim responses have no body: the next one follows */
		if (head->status >= 200 || head->status == 101 ||
		    (size_t)n >= len - off)
			return off;
		off += n;
	}
}
