// SPDX-License-Identifier: MIT
/*
 * A MySQL exchange summary as exchange attributes: the keys `cat`, `--match`
 * and `diff` read. Lists (parameters, columns, preview rows) are JSON
 * arrays; bytes that are not UTF-8 appear as \u00XX (their Latin-1 code
 * point) so that every value is valid JSON text. A JSON list stops growing
 * at ATTR_JSON_MAX bytes (the raw bytes stay in the exchange).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

#define ATTR_JSON_MAX (64 * 1024)

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->oom = true;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void jb_puts(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

static void jb_string(struct jbuf *b, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	char esc[8];
	size_t i = 0, u;

	jb_put(b, "\"", 1);
	while (i < n) {
		if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			jb_put(b, esc, 2);
			i++;
		} else if (s[i] >= 0x20 && s[i] < 0x7f) {
			jb_put(b, (const char *)s + i, 1);
			i++;
		} else if (s[i] >= 0x80 && (u = dt_utf8_seq_len(s + i, n - i))) {
			jb_put(b, (const char *)s + i, u);
			i += u;
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			jb_put(b, esc, 6);
			i++;
		}
	}
	jb_put(b, "\"", 1);
}

static void jb_cstring(struct jbuf *b, const char *s)
{
	if (s)
		jb_string(b, s, strlen(s));
	else
		jb_puts(b, "null");
}

static void jb_type(struct jbuf *b, uint8_t type, bool is_unsigned)
{
	char name[48];

	snprintf(name, sizeof(name), "%s%s", dt_mysql_type_name(type),
		 is_unsigned ? " UNSIGNED" : "");
	jb_cstring(b, name);
}

static void jb_value(struct jbuf *b, const struct dt_mysql_value *v)
{
	if (v->text)
		jb_string(b, v->text, v->len);
	else
		jb_puts(b, "null");
}

static bool jb_full(const struct jbuf *b)
{
	return b->len >= ATTR_JSON_MAX;
}

static void params_json(struct jbuf *b, const struct dt_mysql_request *rq)
{
	size_t i;

	jb_puts(b, "[");
	for (i = 0; i < rq->nparams_kept && !jb_full(b); i++) {
		const struct dt_mysql_value *v = &rq->params[i];

		jb_puts(b, i ? ",{\"type\":" : "{\"type\":");
		jb_type(b, v->type, v->is_unsigned);
		jb_puts(b, ",\"value\":");
		jb_value(b, v);
		if (v->long_data)
			jb_puts(b, ",\"long_data\":true");
		if (v->truncated)
			jb_puts(b, ",\"truncated\":true");
		jb_puts(b, "}");
	}
	jb_puts(b, "]");
}

static void columns_json(struct jbuf *b, const struct dt_mysql_result *r)
{
	size_t i;

	jb_puts(b, "[");
	for (i = 0; i < r->ncolumns && !jb_full(b); i++) {
		const struct dt_mysql_column *col = &r->columns[i];

		jb_puts(b, i ? ",{\"name\":" : "{\"name\":");
		jb_cstring(b, col->name);
		jb_puts(b, ",\"type\":");
		jb_type(b, col->type, col->flags & DT_MYSQL_FLAG_UNSIGNED);
		jb_puts(b, ",\"table\":");
		jb_cstring(b, col->table);
		jb_puts(b, ",\"schema\":");
		jb_cstring(b, col->schema);
		jb_puts(b, "}");
	}
	jb_puts(b, "]");
}

static void preview_json(struct jbuf *b, const struct dt_mysql_result *r)
{
	size_t i, k;

	jb_puts(b, "[");
	for (i = 0; i < r->nrows_kept && !jb_full(b); i++) {
		jb_puts(b, i ? ",[" : "[");
		for (k = 0; k < r->ncolumns; k++) {
			if (k)
				jb_puts(b, ",");
			jb_value(b, &r->rows[i * r->ncolumns + k]);
		}
		jb_puts(b, "]");
	}
	jb_puts(b, "]");
}

typedef void (*json_fn)(struct jbuf *b, const void *what);

static int set_json(struct dt_exchange *x, const char *key, json_fn fn,
		    const void *what)
{
	struct jbuf b = { 0 };
	int ret;

	fn(&b, what);
	ret = b.oom ? -ENOMEM : dt_exchange_set_attr(x, key, b.p);
	free(b.p);
	return ret;
}

static void params_fn(struct jbuf *b, const void *what)
{
	params_json(b, what);
}

static void columns_fn(struct jbuf *b, const void *what)
{
	columns_json(b, what);
}

static void preview_fn(struct jbuf *b, const void *what)
{
	preview_json(b, what);
}

static int set_u64(struct dt_exchange *x, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return dt_exchange_set_attr(x, key, buf);
}

static int set_hex(struct dt_exchange *x, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return dt_exchange_set_attr(x, key, buf);
}

static int set_opt(struct dt_exchange *x, const char *key, const char *v)
{
	return v ? dt_exchange_set_attr(x, key, v) : 0;
}

static int request_attrs(const struct dt_mysql_request *rq,
			 struct dt_exchange *x)
{
	int ret = dt_exchange_set_attr(x, "request.command", rq->command_name);

	if (!ret && rq->sql)
		ret = dt_exchange_set_attr(x, "request.sql", rq->sql);
	if (!ret && rq->sql)
		ret = dt_exchange_set_attr(x, "request.kind",
					   dt_mysql_sql_kind(rq->sql,
							     rq->sql_len));
	if (!ret)
		ret = set_opt(x, "request.schema", rq->schema);
	if (!ret)
		ret = set_opt(x, "request.user", rq->user);
	if (!ret)
		ret = set_opt(x, "request.arg", rq->arg);
	if (!ret && rq->client_caps)
		ret = set_hex(x, "request.client_caps", rq->client_caps);
	if (!ret && rq->has_stmt)
		ret = set_u64(x, "request.stmt_id", rq->stmt_id);
	if (!ret && rq->params_decoded && rq->nparams)
		ret = set_json(x, "request.params", params_fn, rq);
	return ret;
}

/* The first result of a kind, NULL when none. */
static const struct dt_mysql_result *
find_result(const struct dt_mysql_response *rs, enum dt_mysql_result_kind k)
{
	size_t i;

	for (i = 0; i < rs->nresults; i++)
		if (rs->results[i].kind == k)
			return &rs->results[i];
	return NULL;
}

static int ok_attrs(const struct dt_mysql_result *r, struct dt_exchange *x)
{
	int ret = set_u64(x, "response.affected_rows", r->affected_rows);

	if (!ret)
		ret = set_u64(x, "response.last_insert_id", r->last_insert_id);
	if (!ret)
		ret = set_u64(x, "response.warnings", r->warnings);
	if (!ret)
		ret = set_opt(x, "response.info", r->info);
	return ret;
}

static int err_attrs(const struct dt_mysql_result *r, struct dt_exchange *x)
{
	int ret = set_u64(x, "response.error_code", r->error_code);

	if (!ret && r->sql_state[0])
		ret = dt_exchange_set_attr(x, "response.sql_state",
					   r->sql_state);
	if (!ret)
		ret = set_opt(x, "response.error_message", r->message);
	return ret;
}

static int resultset_attrs(const struct dt_mysql_result *r,
			   struct dt_exchange *x)
{
	int ret = 0;

	if (r->ncolumns)
		ret = set_json(x, "response.columns", columns_fn, r);
	if (!ret && r->kind == DT_MYSQL_RESULT_RESULTSET)
		ret = set_u64(x, "response.rows", r->nrows);
	if (!ret && r->nrows_kept)
		ret = set_json(x, "response.preview", preview_fn, r);
	return ret;
}

/* COM_STMT_PREPARE: the statement and its columns (in results[0]). */
static int prepare_attrs(const struct dt_mysql_response *rs,
			 struct dt_exchange *x)
{
	int ret = set_u64(x, "response.stmt_id", rs->stmt_id);

	if (!ret)
		ret = set_u64(x, "response.params", rs->nparams);
	if (!ret && rs->nresults)
		ret = resultset_attrs(&rs->results[0], x);
	return ret;
}

static int response_attrs(const struct dt_mysql_summary *s,
			  struct dt_exchange *x)
{
	const struct dt_mysql_response *rs = &s->response;
	const struct dt_mysql_result *r;
	int ret = dt_exchange_set_attr(x, "response.kind", rs->kind);

	if (!ret && rs->has_stmt)
		ret = prepare_attrs(rs, x);
	else if (!ret && (r = find_result(rs, DT_MYSQL_RESULT_OK)))
		ret = ok_attrs(r, x);
	if (!ret && (r = find_result(rs, DT_MYSQL_RESULT_ERR)))
		ret = err_attrs(r, x);
	if (!ret && (r = find_result(rs, DT_MYSQL_RESULT_RESULTSET)))
		ret = resultset_attrs(r, x);
	if (!ret && rs->results_total > 1)
		ret = set_u64(x, "response.results", rs->results_total);
	if (!ret)
		ret = set_opt(x, "response.server_version",
			      rs->server_version);
	if (!ret && rs->server_version)
		ret = set_u64(x, "response.connection_id", rs->connection_id);
	if (!ret && rs->server_version)
		ret = set_hex(x, "response.server_caps", rs->server_caps);
	if (!ret)
		ret = set_opt(x, "response.auth_plugin", rs->auth_plugin);
	if (!ret)
		ret = set_opt(x, "response.unsupported", s->unsupported);
	return ret;
}

int dt_mysql_summary_to_attrs(const struct dt_mysql_summary *s,
			      struct dt_exchange *x)
{
	int ret = request_attrs(&s->request, x);

	return ret ? ret : response_attrs(s, x);
}
