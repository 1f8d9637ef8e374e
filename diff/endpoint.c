// SPDX-License-Identifier: MIT
/*
 * How reports name what was asked: the endpoint an exchange is grouped
 * under, and a short label of the request itself. Both come from the
 * recorded exchange's summary attributes, or from its request bytes when
 * an attribute is missing.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

#define LABEL_MAX 200
#define SQL_ENDPOINT_MAX 80
#define MAX_ARGS 2

/* prefix, a space and words[0..n), escaped and cut to max bytes. */
static char *join_label(const char *prefix, const struct dt_slice *words,
			size_t n, size_t max)
{
	struct dt_sbuf raw = { 0 };
	char *label;
	size_t i;

	if (prefix)
		dt_sbuf_puts(&raw, prefix);
	for (i = 0; i < n; i++) {
		if (raw.len)
			dt_sbuf_putc(&raw, ' ');
		dt_sbuf_put(&raw, words[i].ptr,
			    words[i].len < max ? words[i].len : max);
	}
	label = raw.oom ? NULL : dt_text_plain(raw.p, raw.len, max);
	dt_sbuf_release(&raw);
	return label;
}

static struct dt_slice cstr(const char *s)
{
	return (struct dt_slice){ (const uint8_t *)s, strlen(s) };
}

/* "<method> <target>" of an HTTP request; the query left out for the
 * endpoint. */
static char *http_name(const struct dt_exchange *x, bool endpoint)
{
	const char *method = dt_exchange_attr(x, "method");
	const char *path = dt_exchange_attr(x, "path");
	struct dt_http1_head *head = NULL;
	struct dt_slice words[2];
	const uint8_t *q;
	char *name;

	if (method && path) {
		words[0] = cstr(method);
		words[1] = cstr(path);
	} else {
		head = malloc(sizeof(*head));
		if (!head)
			return NULL;
		if (dt_http1_parse_head(x->request, x->request_len, true, 0,
					head) <= 0) {
			free(head);
			return strdup("http (request not parsed)");
		}
		words[0] = head->method;
		words[1] = head->target;
	}
	if (endpoint && (q = memchr(words[1].ptr, '?', words[1].len)))
		words[1].len = (size_t)(q - words[1].ptr);
	name = join_label(NULL, words, 2, LABEL_MAX);
	free(head);
	return name;
}

/* The command in upper case and, for the label, its key. */
static char *redis_name(const struct dt_exchange *x, bool endpoint)
{
	const char *cmd = dt_exchange_attr(x, "command");
	const char *key = dt_exchange_attr(x, "key");
	struct dt_slice argv[MAX_ARGS], words[2];
	char upper[64];
	size_t argc = 0, i;

	if (cmd) {
		words[0] = cstr(cmd);
		if (key)
			words[1] = cstr(key);
		argc = key ? 2 : 1;
	} else if (dt_resp_parse_command(x->request, x->request_len, argv,
					 MAX_ARGS, &argc) > 0) {
		for (i = 0; i < argv[0].len && i < sizeof(upper) - 1; i++)
			upper[i] = (char)toupper(argv[0].ptr[i]);
		words[0] = (struct dt_slice){ (const uint8_t *)upper, i };
		words[1] = argc > 1 ? argv[1] : words[0];
		argc = argc > 1 ? 2 : 1;
	} else {
		return strdup(endpoint ? "redis (command not parsed)" :
					 "(command not parsed)");
	}
	if (endpoint)
		return join_label("redis", words, 1, LABEL_MAX);
	return join_label(NULL, words, argc, LABEL_MAX);
}

/* The SQL, normalised (comments out, blanks collapsed), or the command. */
static char *mysql_name(const struct dt_exchange *x, bool endpoint)
{
	const char *sql = dt_exchange_attr(x, "request.sql");
	const char *cmd = dt_exchange_attr(x, "request.command");
	size_t max = endpoint ? SQL_ENDPOINT_MAX : LABEL_MAX;
	struct dt_slice word;
	char *norm, *name;
	size_t len;

	if (!sql) {
		word = cstr(cmd ? cmd : "(command unknown)");
		return join_label(endpoint ? "mysql" : NULL, &word, 1, max);
	}
	len = strlen(sql);
	norm = malloc(len + 1);
	if (!norm)
		return NULL;
	dt_mysql_sql_normalize(sql, len, norm, len + 1, 0);
	word = cstr(norm);
	name = join_label(endpoint ? "mysql" : NULL, &word, 1, max);
	free(norm);
	return name;
}

static char *name_of(const struct dt_exchange *x, bool endpoint)
{
	switch (x->protocol) {
	case DT_PROTO_HTTP1:
	case DT_PROTO_HTTP2:
		return http_name(x, endpoint);
	case DT_PROTO_REDIS:
		return redis_name(x, endpoint);
	case DT_PROTO_MYSQL:
		return mysql_name(x, endpoint);
	default:
		return strdup(dt_protocol_name(x->protocol));
	}
}

char *dt_endpoint_name(const struct dt_exchange *x)
{
	return name_of(x, true);
}

char *dt_request_label(const struct dt_exchange *x)
{
	return name_of(x, false);
}
