// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the redaction module (all of redact/). Input:
 *   byte 0          protocol (low 2 bits: unknown, http, redis, mysql);
 *                   bit 2 set: built-in rules off
 *   a line          rule texts separated by tabs (rules that do not
 *                   compile are dropped: the rest still run)
 *   2 bytes         request length, big-endian (cut to what is left)
 *   the rest        request bytes, then response bytes
 * The exchange also gets summary attributes cut from the request, as the
 * recorder sets them. Checked: nothing crashes or leaks, lengths stay,
 * every byte that changed became '*', in the bytes and the attributes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "redact/redact.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_RULES 4
#define MAX_RULE_LINE 512
#define ATTR_MAX 256

static const char *const attr_keys[] = {
	"path", "host", "key", "request.sql", "request.user",
};
#define NATTRS (sizeof(attr_keys) / sizeof(attr_keys[0]))

/* Splits the rule line at tabs into rules[] (pointers into line). */
static size_t split_rules(char *line, const char **rules)
{
	size_t n = 0;

	for (char *p = line; n < MAX_RULES; p++) {
		char *tab = strchr(p, '\t');

		rules[n++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab;
	}
	return n;
}

/* Compiles what compiles of the rules; *regex is set when a regex rule
 * is among them. */
static struct dt_redactor *redactor_make(const char **rules, size_t n,
					 bool builtin, bool *regex)
{
	struct dt_redactor *r = NULL;
	const char *good[MAX_RULES];
	size_t ngood = 0;
	char err[128];

	*regex = false;
	for (size_t i = 0; i < n; i++) {
		int ret = dt_redactor_new(&r, &rules[i], 1, builtin, err,
					  sizeof(err));

		CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
		CHECK(ret != -EINVAL || !strncmp(err, "redaction rule '", 16));
		if (!ret) {
			good[ngood++] = rules[i];
			*regex |= !strncmp(rules[i], "regex:", 6);
		}
		dt_redactor_free(r);
	}
	if (dt_redactor_new(&r, good, ngood, builtin, err, sizeof(err)))
		return NULL;
	return r;
}

/* Attribute i: a NUL-free piece of the request, as summaries copy one. */
static void attrs_make(struct dt_exchange *x, const uint8_t *req, size_t len)
{
	char value[ATTR_MAX + 1];

	for (size_t i = 0; i < NATTRS; i++) {
		size_t from = len ? (i * 7) % len : 0, n = 0;

		while (from + n < len && n < ATTR_MAX && req[from + n])
			n++;
		memcpy(value, req + from, n);
		value[n] = '\0';
		CHECK(!dt_exchange_set_attr(x, attr_keys[i], value));
	}
}

static void check_masked(const uint8_t *before, const uint8_t *after,
			 size_t len)
{
	for (size_t i = 0; i < len; i++)
		CHECK(after[i] == before[i] || after[i] == '*');
}

static void run(const struct dt_redactor *r, bool regex, uint32_t protocol,
		const uint8_t *req, size_t req_len, const uint8_t *resp,
		size_t resp_len)
{
	struct dt_exchange x, orig;
	int ret;

	dt_exchange_init(&x);
	dt_exchange_init(&orig);
	x.protocol = protocol;
	CHECK(!dt_exchange_set_request(&x, req, req_len));
	CHECK(!dt_exchange_set_response(&x, resp, resp_len));
	attrs_make(&x, req, req_len);
	attrs_make(&orig, req, req_len);

	ret = dt_redactor_apply(r, &x);
	CHECK(ret >= 0 || ret == -ENOMEM);
	CHECK(x.request_len == req_len && x.response_len == resp_len);
	check_masked(req, x.request, req_len);
	check_masked(resp, x.response, resp_len);
	CHECK(x.nattrs == orig.nattrs);
	for (size_t i = 0; i < x.nattrs; i++) {
		size_t n = strlen(orig.attrs[i].value);

		CHECK(strlen(x.attrs[i].value) == n);
		check_masked((const uint8_t *)orig.attrs[i].value,
			     (const uint8_t *)x.attrs[i].value, n);
	}
	/* Without regex rules (which may star framing bytes), masking is
	 * idempotent: a second pass finds nothing left to change. */
	if (!regex && ret >= 0)
		CHECK(dt_redactor_apply(r, &x) == 0);
	dt_exchange_release(&orig);
	dt_exchange_release(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rules[MAX_RULES];
	char line[MAX_RULE_LINE + 1];
	const uint8_t *nl, *p, *end = data + size;
	struct dt_redactor *r;
	size_t n, req_len;
	bool regex;

	if (size < 1)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	if (!nl || (size_t)(nl - data - 1) > MAX_RULE_LINE ||
	    end - nl - 1 < 2)
		return 0;
	n = (size_t)(nl - data - 1);
	memcpy(line, data + 1, n);
	line[n] = '\0';
	/* a NUL inside the line would hide the rules after it */
	r = redactor_make(rules, strlen(line) == n ? split_rules(line, rules) :
						     0, !(data[0] & 4), &regex);
	if (!r)
		return 0;
	p = nl + 3;
	req_len = (size_t)nl[1] << 8 | nl[2];
	if (req_len > (size_t)(end - p))
		req_len = (size_t)(end - p);
	run(r, regex, data[0] & 3, p, req_len, p + req_len,
	    (size_t)(end - p) - req_len);
	dt_redactor_free(r);
	return 0;
}
