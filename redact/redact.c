// SPDX-License-Identifier: MIT
/*
 * Redaction rules and their dispatch: compiling rule texts into a
 * dt_redactor, and running the protocol pass of an exchange, then the
 * attribute pass (secrets the protocol pass masked, wherever a summary
 * attribute repeats them), then the regex rules over everything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact/redact_int.h"

#define HEADER_NAME_MAX 255

static const char *const builtin_headers[] = {
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
};
#define NBUILTIN_HEADERS (sizeof(builtin_headers) / sizeof(builtin_headers[0]))

/* RFC 9110 token characters */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int check_header_name(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name);

	if (!n || n > HEADER_NAME_MAX) {
		snprintf(why, whylen, "a header name of 1 to %d characters "
			 "expected", HEADER_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)name[i])) {
			snprintf(why, whylen, "not a header name (letters, "
				 "digits and !#$%%&'*+-.^_`|~ only)");
			return -EINVAL;
		}
	return 0;
}

static int add_header(struct dt_redactor *r, const char *name)
{
	char *copy = strdup(name);

	if (!copy)
		return -ENOMEM;
	r->headers[r->nheaders++] = copy;
	return 0;
}

/* Compiles one rule into r (arrays sized for every rule by the caller);
 * why receives the reason of an -EINVAL. */
static int add_rule(struct dt_redactor *r, const char *rule, char *why,
		    size_t whylen)
{
	int ret;

	if (!strncmp(rule, "header:", 7)) {
		ret = check_header_name(rule + 7, why, whylen);
		return ret ? ret : add_header(r, rule + 7);
	}
	if (!strncmp(rule, "json:", 5)) {
		ret = dt_json_path_compile(rule + 5, &r->paths[r->npaths], why,
					   whylen);
		if (!ret)
			r->npaths++;
		return ret;
	}
	if (!strncmp(rule, "regex:", 6)) {
		ret = dt_redact_regex_compile(&r->regexes[r->nregexes],
					      rule + 6, why, whylen);
		if (!ret)
			r->nregexes++;
		return ret;
	}
	snprintf(why, whylen, "expected header:NAME, json:PATH or regex:ERE");
	return -EINVAL;
}

int dt_redactor_new(struct dt_redactor **out, const char *const *rules,
		    size_t n, bool builtin, char *err, size_t errlen)
{
	struct dt_redactor *r;
	char why[256];
	int ret = -ENOMEM;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->builtin = builtin;
	r->headers = calloc(n + NBUILTIN_HEADERS, sizeof(*r->headers));
	r->paths = calloc(n + 1, sizeof(*r->paths));
	r->regexes = calloc(n + 1, sizeof(*r->regexes));
	if (!r->headers || !r->paths || !r->regexes)
		goto fail;
	for (size_t i = 0; builtin && i < NBUILTIN_HEADERS; i++)
		if (add_header(r, builtin_headers[i]))
			goto fail;
	for (size_t i = 0; i < n; i++) {
		why[0] = '\0';
		ret = add_rule(r, rules[i], why, sizeof(why));
		if (ret == -EINVAL)
			snprintf(err, errlen, "redaction rule '%s': %s",
				 rules[i], why);
		if (ret)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	dt_redactor_free(r);
	return ret;
}

void dt_redactor_free(struct dt_redactor *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->headers && i < r->nheaders; i++)
		free(r->headers[i]);
	for (size_t i = 0; i < r->npaths; i++)
		dt_json_path_free(r->paths[i]);
	for (size_t i = 0; i < r->nregexes; i++)
		dt_redact_regex_release(&r->regexes[i]);
	free(r->headers);
	free(r->paths);
	free(r->regexes);
	free(r);
}

/* Exchanges of no known protocol (a pcap import) still get the HTTP rules
 * when their request reads as HTTP. */
static bool is_http(const struct dt_exchange *x)
{
	return x->protocol == DT_PROTO_HTTP1 ||
	       (x->protocol == DT_PROTO_UNKNOWN && x->request_len &&
		dt_http1_looks_like_request(x->request, x->request_len));
}

int dt_redactor_apply(const struct dt_redactor *r, struct dt_exchange *x)
{
	struct dt_redact_ctx c = { .r = r, .x = x };
	int ret;

	if (is_http(x))
		dt_redact_http(&c);
	else if (x->protocol == DT_PROTO_REDIS && r->builtin)
		dt_redact_resp(&c);
	else if (x->protocol == DT_PROTO_MYSQL && r->builtin)
		dt_redact_mysql(&c);
	dt_redact_attrs_secrets(&c);
	dt_redact_regexes(&c);
	ret = c.err ? c.err : c.spans > INT_MAX ? INT_MAX : (int)c.spans;
	dt_redact_ctx_release(&c);
	return ret;
}
