// SPDX-License-Identifier: MIT
/*
 * regex: rules: POSIX extended regexes (glibc regcomp, REG_NEWLINE so that
 * "." and "[^x]" stop at line ends and "^"/"$" match at them) run over the
 * raw request and response bytes and over every attribute value. The
 * bytes may hold NULs, so matching uses glibc's REG_STARTEND, which takes
 * the end from the match bounds instead of a terminator. CR, LF and NUL
 * bytes inside a match are left alone: "token=.*" then stops short of the
 * line end, and HTTP heads and chunk-size lines keep their framing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact/redact_int.h"

/* Rules are written by people: longer patterns are mistakes or attacks. */
#define REGEX_MAX_LEN 4096

/*
 * glibc tries each start position in turn and follows it as long as the
 * pattern may still match there, so a search that fails costs up to the
 * length of the subject per start: "[a-z]+@x" over a 1 MiB base64 blob
 * would take hours. A search therefore looks REGEX_WINDOW bytes ahead at
 * most, windows overlapping so that every start is tried with at least
 * REGEX_LOOKAHEAD bytes after it (the worst case is then linear, a few
 * seconds per MiB for such a pattern), and a match that reaches the end
 * of its window is searched again from its start with up to
 * REGEX_MAX_MATCH bytes of room.
 */
#define REGEX_WINDOW 512
#define REGEX_LOOKAHEAD 256
#define REGEX_MAX_MATCH (64 * 1024)

int dt_redact_regex_compile(struct dt_redact_regex *rx, const char *re,
			    char *err, size_t errlen)
{
	size_t len = strlen(re);
	int ret;

	memset(rx, 0, sizeof(*rx));
	if (!len) {
		snprintf(err, errlen, "empty regex");
		return -EINVAL;
	}
	if (len > REGEX_MAX_LEN) {
		snprintf(err, errlen, "regex longer than %d characters",
			 REGEX_MAX_LEN);
		return -EINVAL;
	}
	ret = dt_regex_check(re, len, err, errlen);
	if (ret)
		return ret;
	ret = regcomp(&rx->re, re, REG_EXTENDED | REG_NEWLINE);
	if (ret) {
		regerror(ret, &rx->re, err, errlen);
		return ret == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	rx->text = strdup(re);
	if (!rx->text) {
		regfree(&rx->re);
		return -ENOMEM;
	}
	return 0;
}

void dt_redact_regex_release(struct dt_redact_regex *rx)
{
	if (!rx->text)
		return;
	regfree(&rx->re);
	free(rx->text);
	rx->text = NULL;
}

/* The first match in buf[pos..end), with the line context of buf[0..len)
 * around it: "^" and "$" hold at line ends, not at the window's ends. */
static bool search(const regex_t *re, const uint8_t *buf, size_t len,
		   size_t pos, size_t end, size_t *so, size_t *eo)
{
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)(end - pos) };
	int flags = REG_STARTEND;

	if (pos && buf[pos - 1] != '\n')
		flags |= REG_NOTBOL;
	if (end < len && buf[end] != '\n')
		flags |= REG_NOTEOL;
	if (regexec(re, (const char *)buf + pos, 1, &m, flags))
		return false;
	if (m.rm_so < 0 || m.rm_eo < m.rm_so ||
	    m.rm_eo > (regoff_t)(end - pos))
		return false;   /* not what REG_STARTEND promises */
	*so = pos + (size_t)m.rm_so;
	*eo = pos + (size_t)m.rm_eo;
	return true;
}

static void mask_matches(struct dt_redact_ctx *c, const regex_t *re,
			 uint8_t *buf, size_t len)
{
	size_t pos = 0, end, so, eo;

	while (pos < len) {
		end = len - pos > REGEX_WINDOW ? pos + REGEX_WINDOW : len;
		if (!search(re, buf, len, pos, end, &so, &eo)) {
			if (end == len)
				return;
			pos = end - REGEX_LOOKAHEAD;
			continue;
		}
		/* a match reaching the window's end may go on past it */
		if (eo == end && end < len)
			search(re, buf, len, so, len - so > REGEX_MAX_MATCH ?
			       so + REGEX_MAX_MATCH : len, &so, &eo);
		if (dt_redact_fill_text(buf + so, eo - so))
			c->spans++;
		/* an empty match would be found again at the same place */
		pos = eo + (eo == so);
	}
}

/* Sanitizers' regexec() interceptors read the subject up to a NUL
 * whatever REG_STARTEND says, so the exchange's bytes (not terminated)
 * are matched in a terminated copy, which then replaces them. */
static void mask_buffer(struct dt_redact_ctx *c, uint8_t *buf, size_t len)
{
	const struct dt_redactor *r = c->r;
	uint8_t *copy;

	if (!len)
		return;
	copy = malloc(len + 1);
	if (!copy) {
		c->err = -ENOMEM;
		return;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (size_t i = 0; i < r->nregexes; i++)
		mask_matches(c, &r->regexes[i].re, copy, len);
	memcpy(buf, copy, len);
	free(copy);
}

void dt_redact_regexes(struct dt_redact_ctx *c)
{
	const struct dt_redactor *r = c->r;
	struct dt_exchange *x = c->x;

	if (!r->nregexes)
		return;
	mask_buffer(c, x->request, x->request_len);
	mask_buffer(c, x->response, x->response_len);
	for (size_t j = 0; j < x->nattrs; j++)
		for (size_t i = 0; x->attrs[j].value && i < r->nregexes; i++)
			mask_matches(c, &r->regexes[i].re,
				     (uint8_t *)x->attrs[j].value,
				     strlen(x->attrs[j].value));
}
