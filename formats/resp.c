// SPDX-License-Identifier: MIT
/*
 * Redis RESP2/RESP3 codec: framing, command decoding, push classification,
 * resynchronisation and reply summaries.
 *
 * One grammar serves every function: the header-line machine (line_step)
 * judges a type byte's line one byte at a time, so the incremental framer
 * and the whole-buffer readers reject exactly the same bytes, and a bad
 * byte is rejected as soon as it is seen. Payloads are skipped by length,
 * never scanned.
 *
 * Strictness: lines end with CRLF; simple strings and errors hold no CR or
 * LF; lengths and integers are decimal digits with at most one sign where
 * the type allows one (integers and big numbers; "-1" for RESP2 null bulk
 * strings and arrays). Requests are arrays of bulk strings, as Redis
 * requires, or inline lines: a line ends at LF, a CR before it is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "formats.h"
#include "resp.h"

/* 19 digits hold any int64; one more tolerates a leading zero. Bounding the
 * digits bounds the work spent on any header line of a number. */
#define RESP_MAX_DIGITS 20
#define RESP_NAME_MAX 32
#define RESP_RESYNC_ARGS 16
#define RESP_PREVIEW_BYTES 64

_Static_assert(DT_RESP_MAX_DEPTH <= 64, "attributes holds one bit per level");
_Static_assert(DT_RESP_MAX_LINE < UINT32_MAX, "line index is 32 bits");

/* ---------------------------------------------------------------------- */
/* Characters and types                                                   */
/* ---------------------------------------------------------------------- */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Redis splits inline commands on isspace() (sdssplitargs); LF ends the
 * line before splitting. */
static bool is_inline_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool type_in(uint8_t t, const char *set)
{
	return t != '\0' && strchr(set, t) != NULL;
}

/* What each type byte introduces; switches, as these run for every byte
 * of a header line. */
static bool type_is_reply(uint8_t t)
{
	switch (t) {
	case '+': case '-': case ':': case '$': case '*': case '_': case ',':
	case '#': case '!': case '=': case '(': case '%': case '~': case '>':
	case '|':
		return true;
	}
	return false;
}

/* A length, then that many payload bytes and CRLF. */
static bool type_is_blob(uint8_t t)
{
	return t == '$' || t == '!' || t == '=';
}

static bool type_is_aggregate(uint8_t t)
{
	switch (t) {
	case '*': case '%': case '~': case '>': case '|':
		return true;
	}
	return false;
}

static bool type_has_number(uint8_t t)
{
	return t == ':' || type_is_blob(t) || type_is_aggregate(t);
}

/* ---------------------------------------------------------------------- */
/* Header lines                                                           */
/* ---------------------------------------------------------------------- */

enum line_result {
	LINE_MORE = 0,
	LINE_DONE = 1,
};

static void line_begin(struct dt_resp_line *l, uint8_t type)
{
	memset(l, 0, sizeof(*l));
	l->type = type;
}

static bool sign_allowed(const struct dt_resp_line *l, uint8_t c)
{
	if (l->index != 0)
		return false;
	if (c == '-')
		return type_in(l->type, ":$*");
	return c == '+' && l->type == ':';
}

/* Largest value the digits may reach. */
static uint64_t number_limit(const struct dt_resp_line *l)
{
	if (l->type == ':')
		return l->sign == '-' ? UINT64_C(1) << 63 : INT64_MAX;
	if (l->sign == '-')
		return 1; /* the RESP2 nulls $-1 and *-1 */
	if (type_is_blob(l->type))
		return DT_RESP_MAX_BULK;
	return DT_RESP_MAX_ELEMENTS;
}

static int number_byte(struct dt_resp_line *l, uint8_t c)
{
	uint64_t limit;
	unsigned d;

	if (sign_allowed(l, c)) {
		l->sign = c;
		return 0;
	}
	if (!is_digit(c) || l->index - (l->sign != 0) >= RESP_MAX_DIGITS)
		return -EBADMSG;
	d = c - '0';
	limit = number_limit(l);
	if (d > limit || l->num > (limit - d) / 10)
		return l->type == ':' || l->sign ? -EBADMSG : -E2BIG;
	l->num = l->num * 10 + d;
	return 0;
}

static bool double_char(uint8_t c)
{
	/* digits, '.', exponents, signs, "inf" and "nan" */
	return is_digit(c) || is_alpha(c) || c == '.' || c == '+' || c == '-';
}

static int text_byte(struct dt_resp_line *l, uint8_t c)
{
	bool ok;

	if (l->index >= DT_RESP_MAX_LINE)
		return -E2BIG;
	switch (l->type) {
	case '_':
		ok = false;
		break;
	case '#':
		ok = l->index == 0 && (c == 't' || c == 'f');
		break;
	case ',':
		ok = double_char(c);
		break;
	case '(':
		ok = is_digit(c);
		if (l->index == 0 && (c == '+' || c == '-')) {
			l->sign = c;
			ok = true;
		}
		break;
	default: /* simple strings and errors */
		ok = c != '\n';
	}
	return ok ? 0 : -EBADMSG;
}

/* The line is complete up to its CR: is it whole? */
static int line_end_check(const struct dt_resp_line *l)
{
	uint32_t digits = l->index - (l->sign != 0);

	switch (l->type) {
	case '+':
	case '-':
	case '_':
		return 0;
	case '#':
		return l->index == 1 ? 0 : -EBADMSG;
	case ',':
		return l->index ? 0 : -EBADMSG;
	}
	if (!digits)
		return -EBADMSG;
	/* negative lengths: only -1, the RESP2 null */
	if (l->sign == '-' && type_has_number(l->type) && l->type != ':' &&
	    l->num != 1)
		return -EBADMSG;
	return 0;
}

/* Feeds the byte after the type byte, or a later one. Returns LINE_MORE,
 * LINE_DONE once the LF is in, or a negative errno. */
static int line_step(struct dt_resp_line *l, uint8_t c)
{
	int rc;

	if (l->cr)
		return c == '\n' ? LINE_DONE : -EBADMSG;
	if (c == '\r') {
		l->cr = true;
		return line_end_check(l);
	}
	if (type_has_number(l->type))
		rc = number_byte(l, c);
	else
		rc = text_byte(l, c);
	l->index++;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Framing                                                                */
/* ---------------------------------------------------------------------- */

enum framer_state {
	FR_VALUE = 0,	/* type byte of the next value, or a request's first */
	FR_LINE,	/* rest of a header line */
	FR_INLINE,	/* inline command, up to LF */
	FR_BLOB,	/* payload of a bulk string, bulk error or verbatim */
	FR_BLOB_CR,	/* CRLF after the payload */
	FR_BLOB_LF,
	FR_DONE,
	FR_BAD,
	FR_TOO_BIG,
};

void dt_resp_framer_init(struct dt_resp_framer *f, bool is_request)
{
	/* pending[d] is written when aggregate d opens, before any read:
	 * clearing it would cost more than the rest of a small message */
	memset(f, 0, offsetof(struct dt_resp_framer, pending));
	f->is_request = is_request;
}

void dt_resp_framer_reset(struct dt_resp_framer *f)
{
	dt_resp_framer_init(f, f->is_request);
}

static int message_done(struct dt_resp_framer *f)
{
	f->msg_len = f->pos;
	f->state = FR_DONE;
	return DT_RESP_COMPLETE;
}

/* A value ended: it counts for the aggregate around it, which may end in
 * turn. An attribute ending does not count: the value it annotates comes
 * next. */
static int value_done(struct dt_resp_framer *f)
{
	uint64_t bit;

	f->state = FR_VALUE;
	while (f->depth) {
		if (--f->pending[f->depth - 1])
			return 0;
		f->depth--;
		bit = UINT64_C(1) << f->depth;
		if (f->attributes & bit) {
			f->attributes &= ~bit;
			return 0;
		}
	}
	return message_done(f);
}

static int aggregate_open(struct dt_resp_framer *f)
{
	const struct dt_resp_line *l = &f->line;
	bool is_attribute = l->type == '|';
	uint64_t n = l->num;

	if (l->sign == '-')
		return value_done(f);
	if (l->type == '%' || is_attribute)
		n *= 2;
	if (!n) {
		f->state = FR_VALUE;
		return is_attribute ? 0 : value_done(f);
	}
	if (f->depth == DT_RESP_MAX_DEPTH)
		return -E2BIG;
	if (is_attribute)
		f->attributes |= UINT64_C(1) << f->depth;
	f->pending[f->depth++] = (uint32_t)n;
	f->state = FR_VALUE;
	return 0;
}

static int blob_open(struct dt_resp_framer *f)
{
	if (f->line.sign == '-')
		return value_done(f);
	f->remaining = f->line.num;
	f->state = f->remaining ? FR_BLOB : FR_BLOB_CR;
	return 0;
}

static int request_header_done(struct dt_resp_framer *f)
{
	const struct dt_resp_line *l = &f->line;

	if (l->type == '$')
		/* Redis: "invalid bulk length" */
		return l->sign ? -EBADMSG : blob_open(f);
	if (l->sign || !l->num) {
		f->state = FR_VALUE;
		return 0;
	}
	return aggregate_open(f);
}

static int header_done(struct dt_resp_framer *f)
{
	uint8_t t = f->line.type;

	if (f->is_request)
		return request_header_done(f);
	if (type_is_blob(t))
		return blob_open(f);
	if (type_is_aggregate(t))
		return aggregate_open(f);
	return value_done(f);
}

static int inline_begin(struct dt_resp_framer *f, uint8_t c)
{
	if (c == '\n')
		return 0;
	f->blank = is_inline_space(c);
	f->state = FR_INLINE;
	return 0;
}

static int inline_byte(struct dt_resp_framer *f, uint8_t c)
{
	if (c == '\n') {
		if (!f->blank)
			return message_done(f);
		f->state = FR_VALUE;
		return 0;
	}
	if (f->pos - f->start > DT_RESP_MAX_INLINE)
		return -E2BIG;
	f->blank = f->blank && is_inline_space(c);
	return 0;
}

static bool type_expected(const struct dt_resp_framer *f, uint8_t c)
{
	if (!f->is_request)
		return type_is_reply(c);
	/* Redis reads commands as arrays of bulk strings only */
	return c == (f->depth ? '$' : '*');
}

static int value_begin(struct dt_resp_framer *f, uint8_t c)
{
	if (f->is_request && !f->depth) {
		f->start = f->pos - 1;
		if (c != '*')
			return inline_begin(f, c);
	}
	if (!type_expected(f, c))
		return -EBADMSG;
	line_begin(&f->line, c);
	f->state = FR_LINE;
	return 0;
}

/* One byte; f->pos is already past it. */
static int byte_step(struct dt_resp_framer *f, uint8_t c)
{
	int rc;

	switch (f->state) {
	case FR_VALUE:
		return value_begin(f, c);
	case FR_LINE:
		rc = line_step(&f->line, c);
		return rc == LINE_DONE ? header_done(f) : rc;
	case FR_INLINE:
		return inline_byte(f, c);
	case FR_BLOB_CR:
		f->state = FR_BLOB_LF;
		return c == '\r' ? 0 : -EBADMSG;
	default: /* FR_BLOB_LF */
		return c == '\n' ? value_done(f) : -EBADMSG;
	}
}

static void blob_skip(struct dt_resp_framer *f, size_t len)
{
	size_t n = len - f->pos;

	if (f->remaining < n)
		n = (size_t)f->remaining;
	f->pos += n;
	f->remaining -= n;
	if (!f->remaining)
		f->state = FR_BLOB_CR;
}

static int framer_run(struct dt_resp_framer *f, const uint8_t *buf,
		      size_t len)
{
	int rc;

	while (f->pos < len) {
		if (f->state == FR_BLOB) {
			blob_skip(f, len);
			continue;
		}
		rc = byte_step(f, buf[f->pos++]);
		if (rc)
			return rc;
	}
	return DT_RESP_NEED_MORE;
}

int dt_resp_framer_scan(struct dt_resp_framer *f, const uint8_t *buf,
			size_t len)
{
	int rc;

	/* the framer resumes at pos: the buffer must not have shrunk */
	if (len < f->pos)
		return -EINVAL;
	switch (f->state) {
	case FR_DONE:
		return DT_RESP_COMPLETE;
	case FR_BAD:
		return -EBADMSG;
	case FR_TOO_BIG:
		return -E2BIG;
	}
	rc = framer_run(f, buf, len);
	if (rc == -EBADMSG)
		f->state = FR_BAD;
	else if (rc == -E2BIG)
		f->state = FR_TOO_BIG;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Reading values in a buffer                                             */
/* ---------------------------------------------------------------------- */

/*
 * Reads the header line of the value at buf[*pos..len) into l and moves
 * *pos past its LF. Returns LINE_DONE, LINE_MORE when buf ends first, or a
 * negative errno.
 */
static int header_read(const uint8_t *buf, size_t len, size_t *pos,
		       struct dt_resp_line *l)
{
	size_t i = *pos;
	int rc = LINE_MORE;

	if (i >= len)
		return LINE_MORE;
	if (!type_is_reply(buf[i]))
		return -EBADMSG;
	line_begin(l, buf[i++]);
	while (rc == LINE_MORE && i < len)
		rc = line_step(l, buf[i++]);
	if (rc == LINE_DONE)
		*pos = i;
	return rc;
}

/* The text of the header line read last, *pos being just past it. */
static struct dt_slice line_text(const uint8_t *buf, size_t pos,
				 const struct dt_resp_line *l)
{
	return (struct dt_slice){ buf + pos - 2 - l->index, l->index };
}

/* Moves *pos past one whole value. Returns DT_RESP_COMPLETE, NEED_MORE
 * when buf ends first, or a negative errno. */
static int value_skip(const uint8_t *buf, size_t len, size_t *pos)
{
	struct dt_resp_framer f;
	int rc;

	dt_resp_framer_init(&f, false);
	rc = dt_resp_framer_scan(&f, buf + *pos, len - *pos);
	if (rc == DT_RESP_COMPLETE)
		*pos += f.msg_len;
	return rc;
}

/* Reads the header of the value at buf[*pos..len) past any attributes,
 * whose pairs are added up in *attr_pairs. Returns as header_read(). */
static int value_header_read(const uint8_t *buf, size_t len, size_t *pos,
			     struct dt_resp_line *l, uint64_t *attr_pairs)
{
	uint64_t k;
	int rc;

	*attr_pairs = 0;
	for (;;) {
		rc = header_read(buf, len, pos, l);
		if (rc != LINE_DONE || l->type != '|')
			return rc;
		*attr_pairs += l->num;
		for (k = 0; k < 2 * l->num; k++) {
			rc = value_skip(buf, len, pos);
			if (rc != DT_RESP_COMPLETE)
				return rc;
		}
	}
}

/* A string element at buf[*pos..len): a bulk or simple string. */
static int string_read(const uint8_t *buf, size_t len, size_t *pos,
		       struct dt_slice *s)
{
	struct dt_resp_line l;
	int rc = header_read(buf, len, pos, &l);

	if (rc != LINE_DONE)
		return rc < 0 ? rc : -EBADMSG;
	if (l.type == '+') {
		*s = line_text(buf, *pos, &l);
		return 0;
	}
	if (l.type != '$' || l.sign || len - *pos < l.num + 2 ||
	    memcmp(buf + *pos + l.num, "\r\n", 2))
		return -EBADMSG;
	*s = (struct dt_slice){ buf + *pos, (size_t)l.num };
	*pos += l.num + 2;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Commands                                                               */
/* ---------------------------------------------------------------------- */

/* The words of the array command at buf[pos..len), framed already. */
static int multibulk_args(const uint8_t *buf, size_t len, size_t pos,
			  struct dt_slice *argv, size_t max_argv,
			  size_t *argc)
{
	struct dt_resp_line l;
	size_t i, n;
	int rc;

	if (header_read(buf, len, &pos, &l) != LINE_DONE)
		return -EBADMSG;
	n = (size_t)l.num;
	for (i = 0; i < n && i < max_argv; i++) {
		rc = string_read(buf, len, &pos, &argv[i]);
		if (rc < 0)
			return rc;
	}
	*argc = n;
	return 0;
}

/*
 * The word at line[*pos..len), which starts with a non-space; *pos moves
 * past it. Follows Redis' sdssplitargs for quotes at the start of a word:
 * in double quotes a backslash escapes the next byte, in single quotes only
 * a quote; a closing quote must end the word.
 */
static int word_next(const uint8_t *line, size_t len, size_t *pos,
		     struct dt_slice *word)
{
	uint8_t quote = line[*pos];
	size_t i = *pos, start = i;

	if (quote != '"' && quote != '\'') {
		while (i < len && !is_inline_space(line[i]))
			i++;
		*word = (struct dt_slice){ line + start, i - start };
		*pos = i;
		return 0;
	}
	start = ++i;
	while (i < len && line[i] != quote) {
		if (line[i] == '\\' && i + 1 < len &&
		    (quote == '"' || line[i + 1] == '\''))
			i++;
		i++;
	}
	if (i == len)
		return -EBADMSG;
	*word = (struct dt_slice){ line + start, i - start };
	i++;
	if (i < len && !is_inline_space(line[i]))
		return -EBADMSG;
	*pos = i;
	return 0;
}

/* The words of the inline command line[0..len), len including its LF. */
static int inline_args(const uint8_t *line, size_t len, struct dt_slice *argv,
		       size_t max_argv, size_t *argc)
{
	struct dt_slice word;
	size_t i = 0, n = 0;
	int rc;

	len--;
	if (len && line[len - 1] == '\r')
		len--;
	for (;;) {
		while (i < len && is_inline_space(line[i]))
			i++;
		if (i == len)
			break;
		rc = word_next(line, len, &i, &word);
		if (rc < 0)
			return rc;
		if (n < max_argv)
			argv[n] = word;
		n++;
	}
	*argc = n;
	return 0;
}

ssize_t dt_resp_parse_command(const uint8_t *buf, size_t len,
			      struct dt_slice *argv, size_t max_argv,
			      size_t *argc)
{
	struct dt_resp_framer f;
	int rc;

	*argc = 0;
	dt_resp_framer_init(&f, true);
	rc = dt_resp_framer_scan(&f, buf, len);
	if (rc != DT_RESP_COMPLETE)
		return rc;
	if (buf[f.start] == '*')
		rc = multibulk_args(buf, f.msg_len, f.start, argv, max_argv,
				    argc);
	else
		rc = inline_args(buf + f.start, f.msg_len - f.start, argv,
				 max_argv, argc);
	return rc < 0 ? rc : (ssize_t)f.msg_len;
}

/* ---------------------------------------------------------------------- */
/* Resynchronisation                                                      */
/* ---------------------------------------------------------------------- */

/* Like the HTTP/1 start-line matchers: CAND_PARTIAL means every byte seen
 * fits and buf ended first; CAND_BAD only ever rests on a present byte. */
enum candidate {
	CAND_BAD = -1,
	CAND_PARTIAL = 0,
	CAND_OK = 1,
};

static int candidate_of(int header_rc)
{
	return header_rc < 0 ? CAND_BAD : CAND_PARTIAL;
}

/* n bytes of a command name, of which the first avail are in buf. */
static bool name_plausible(const uint8_t *p, size_t avail, uint64_t n)
{
	size_t i;

	if (n == 0 || n > RESP_NAME_MAX || (avail && !is_alpha(p[0])))
		return false;
	for (i = 1; i < avail; i++)
		if (!is_alpha(p[i]) && !is_digit(p[i]) &&
		    !type_in(p[i], "-_.:|"))
			return false;
	return true;
}

static int crlf_match(const uint8_t *buf, size_t len, size_t pos)
{
	if (pos < len && buf[pos] != '\r')
		return CAND_BAD;
	if (pos + 1 < len && buf[pos + 1] != '\n')
		return CAND_BAD;
	return pos + 2 <= len ? CAND_OK : CAND_PARTIAL;
}

/* One bulk string argument at buf[*pos..len); *pos moves past it. */
static int argument_match(const uint8_t *buf, size_t len, size_t *pos,
			  bool is_name)
{
	struct dt_resp_line l;
	size_t avail;
	int rc;

	if (*pos == len)
		return CAND_PARTIAL;
	if (buf[*pos] != '$')
		return CAND_BAD;
	rc = header_read(buf, len, pos, &l);
	if (rc != LINE_DONE)
		return candidate_of(rc);
	if (l.sign)
		return CAND_BAD;
	avail = len - *pos < l.num ? len - *pos : (size_t)l.num;
	if (is_name && !name_plausible(buf + *pos, avail, l.num))
		return CAND_BAD;
	if (avail < l.num)
		return CAND_PARTIAL;
	*pos += avail;
	rc = crlf_match(buf, len, *pos);
	*pos += 2;
	return rc;
}

/* Judges the command that may start at buf[0..len), buf[0] being '*'. */
static int command_match(const uint8_t *buf, size_t len)
{
	struct dt_resp_line l;
	size_t pos = 0;
	uint64_t i;
	int rc;

	rc = header_read(buf, len, &pos, &l);
	if (rc != LINE_DONE)
		return candidate_of(rc);
	if (l.sign || !l.num)
		return CAND_BAD;
	for (i = 0; i < l.num && i < RESP_RESYNC_ARGS; i++) {
		rc = argument_match(buf, len, &pos, i == 0);
		if (rc != CAND_OK)
			return rc;
	}
	return CAND_OK;
}

size_t dt_resp_resync(const uint8_t *buf, size_t len)
{
	const uint8_t *star;
	size_t i = 0;

	/* Each candidate costs a bounded amount of work: numbers have at most
	 * RESP_MAX_DIGITS digits, names RESP_NAME_MAX bytes, payloads are
	 * skipped, and RESP_RESYNC_ARGS arguments are looked at. */
	while (i < len) {
		star = memchr(buf + i, '*', len - i);
		if (!star)
			break;
		i = (size_t)(star - buf);
		if (command_match(buf + i, len - i) != CAND_BAD)
			return i;
		i++;
	}
	return len;
}

bool dt_resp_looks_like_request(const uint8_t *buf, size_t len)
{
	return len > 0 && buf[0] == '*' && command_match(buf, len) != CAND_BAD;
}

/* ---------------------------------------------------------------------- */
/* Pushes                                                                 */
/* ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	enum dt_resp_push kind;
} push_kinds[] = {
	{ "message", DT_RESP_PUSH_MESSAGE },
	{ "pmessage", DT_RESP_PUSH_MESSAGE },
	{ "smessage", DT_RESP_PUSH_MESSAGE },
	{ "subscribe", DT_RESP_PUSH_SUBSCRIPTION },
	{ "psubscribe", DT_RESP_PUSH_SUBSCRIPTION },
	{ "ssubscribe", DT_RESP_PUSH_SUBSCRIPTION },
	{ "unsubscribe", DT_RESP_PUSH_SUBSCRIPTION },
	{ "punsubscribe", DT_RESP_PUSH_SUBSCRIPTION },
	{ "sunsubscribe", DT_RESP_PUSH_SUBSCRIPTION },
};

static bool slice_eq_nocase(struct dt_slice s, const char *str)
{
	size_t n = strlen(str);

	return s.len == n && !strncasecmp((const char *)s.ptr, str, n);
}

static enum dt_resp_push push_kind_of(struct dt_slice name)
{
	size_t i;

	for (i = 0; i < sizeof(push_kinds) / sizeof(push_kinds[0]); i++)
		if (slice_eq_nocase(name, push_kinds[i].name))
			return push_kinds[i].kind;
	return DT_RESP_REPLY;
}

static int64_t line_int64(const struct dt_resp_line *l)
{
	if (l->sign != '-')
		return (int64_t)l->num;
	/* -(2^63) has no positive counterpart */
	return l->num ? -(int64_t)(l->num - 1) - 1 : 0;
}

/* The count ending a subscription push whose kind was read up to *pos:
 * the channel comes next, then the count. */
static int64_t subscription_count(const uint8_t *buf, size_t len, size_t pos)
{
	struct dt_resp_line l;

	if (value_skip(buf, len, &pos) != DT_RESP_COMPLETE)
		return -1;
	if (header_read(buf, len, &pos, &l) != LINE_DONE || l.type != ':')
		return -1;
	return line_int64(&l);
}

enum dt_resp_push dt_resp_push_classify(const uint8_t *buf, size_t len,
					bool subscribed,
					int64_t *subscriptions)
{
	enum dt_resp_push kind, fallback; /* fallback: no pub/sub kind */
	struct dt_resp_line l;
	struct dt_slice name;
	uint64_t attr_pairs;
	size_t pos = 0;

	if (subscriptions)
		*subscriptions = -1;
	if (value_header_read(buf, len, &pos, &l, &attr_pairs) != LINE_DONE)
		return DT_RESP_REPLY;
	if (l.type == '>')
		fallback = DT_RESP_PUSH_OTHER;
	else if (l.type == '*' && subscribed)
		fallback = DT_RESP_REPLY;
	else
		return DT_RESP_REPLY;
	if (l.sign || !l.num || string_read(buf, len, &pos, &name) < 0)
		return fallback;
	kind = push_kind_of(name);
	if (kind == DT_RESP_REPLY)
		return fallback;
	if (kind == DT_RESP_PUSH_SUBSCRIPTION && l.num >= 3 && subscriptions)
		*subscriptions = subscription_count(buf, len, pos);
	return kind;
}

bool dt_resp_is_push(const uint8_t *buf, size_t len, bool subscribed)
{
	return dt_resp_push_classify(buf, len, subscribed, NULL) !=
	       DT_RESP_REPLY;
}

int dt_resp_reply_type(const uint8_t *buf, size_t len)
{
	struct dt_resp_line l;
	uint64_t attr_pairs;
	size_t pos = 0;

	if (value_header_read(buf, len, &pos, &l, &attr_pairs) != LINE_DONE)
		return -EBADMSG;
	return l.type;
}

/* ---------------------------------------------------------------------- */
/* Summaries                                                              */
/* ---------------------------------------------------------------------- */

/* Output that stops at its capacity. */
struct summary {
	char *out;
	size_t cap;	/* bytes available, without the NUL */
	size_t len;
};

static void summary_add(struct summary *s, const char *str, size_t n)
{
	if (n > s->cap - s->len)
		n = s->cap - s->len;
	memcpy(s->out + s->len, str, n);
	s->len += n;
}

static void summary_puts(struct summary *s, const char *str)
{
	summary_add(s, str, strlen(str));
}

static void summary_byte(struct summary *s, uint8_t c)
{
	char esc[5];

	switch (c) {
	case '"':
	case '\\':
		esc[0] = '\\';
		esc[1] = (char)c;
		summary_add(s, esc, 2);
		return;
	case '\r':
		summary_puts(s, "\\r");
		return;
	case '\n':
		summary_puts(s, "\\n");
		return;
	case '\t':
		summary_puts(s, "\\t");
		return;
	}
	if (c >= 0x20 && c < 0x7f) {
		esc[0] = (char)c;
		summary_add(s, esc, 1);
		return;
	}
	snprintf(esc, sizeof(esc), "\\x%02x", c);
	summary_add(s, esc, 4);
}

/* Previews n bytes of text, of which p holds avail. */
static void summary_text(struct summary *s, const uint8_t *p, size_t avail,
			 uint64_t n, bool quoted)
{
	size_t i, shown = avail < RESP_PREVIEW_BYTES ? avail
						      : RESP_PREVIEW_BYTES;

	if (quoted)
		summary_puts(s, "\"");
	for (i = 0; i < shown; i++)
		summary_byte(s, p[i]);
	if (quoted)
		summary_puts(s, "\"");
	if (shown < n)
		summary_puts(s, "...");
}

const char *dt_resp_type_name(uint8_t t)
{
	switch (t) {
	case '+':
		return "status";
	case '-':
	case '!':
		return "error";
	case ':':
		return "integer";
	case '$':
		return "bulk";
	case '*':
		return "array";
	case ',':
		return "double";
	case '#':
		return "boolean";
	case '=':
		return "verbatim";
	case '(':
		return "bignum";
	case '%':
		return "map";
	case '~':
		return "set";
	default: /* '>' */
		return "push";
	}
}

/* Bulk strings, bulk errors, verbatim strings and aggregates: a length,
 * then for blobs the payload at buf[pos..len). */
static void summary_sized(struct summary *s, const uint8_t *buf, size_t len,
			  size_t pos, const struct dt_resp_line *l)
{
	char head[48];
	size_t avail;

	snprintf(head, sizeof(head), "%s(%" PRIu64 ")", dt_resp_type_name(l->type),
		 l->num);
	summary_puts(s, head);
	if (!type_is_blob(l->type))
		return;
	avail = len - pos < l->num ? len - pos : (size_t)l->num;
	summary_puts(s, " ");
	summary_text(s, buf + pos, avail, l->num, true);
}

/* RESP3 null, or the RESP2 null bulk string and array */
static bool line_is_null(const struct dt_resp_line *l)
{
	return l->type == '_' || (l->sign == '-' && type_in(l->type, "$*"));
}

static void summary_value(struct summary *s, const uint8_t *buf, size_t len,
			  size_t pos, const struct dt_resp_line *l)
{
	struct dt_slice text = line_text(buf, pos, l);

	if (line_is_null(l)) {
		summary_puts(s, "nil");
		return;
	}
	if (l->type == '#') {
		summary_puts(s, text.ptr[0] == 't' ? "boolean true"
						   : "boolean false");
		return;
	}
	if (type_has_number(l->type) && l->type != ':') {
		summary_sized(s, buf, len, pos, l);
		return;
	}
	summary_puts(s, dt_resp_type_name(l->type));
	summary_puts(s, " ");
	summary_text(s, text.ptr, text.len, text.len,
		     l->type == '+' || l->type == '-');
}

int dt_resp_summarize(const uint8_t *buf, size_t len, char *out,
		      size_t outlen)
{
	struct summary s = { out, 0, 0 };
	struct dt_resp_line l;
	uint64_t attr_pairs;
	size_t pos = 0;
	char head[40];

	if (!outlen)
		return -EINVAL;
	s.cap = outlen - 1;
	out[0] = '\0';
	if (value_header_read(buf, len, &pos, &l, &attr_pairs) != LINE_DONE)
		return -EBADMSG;
	if (attr_pairs) {
		snprintf(head, sizeof(head), "attribute(%" PRIu64 ") ",
			 attr_pairs);
		summary_puts(&s, head);
	}
	summary_value(&s, buf, len, pos, &l);
	out[s.len] = '\0';
	return (int)s.len;
}
