// SPDX-License-Identifier: MIT
/* Exchange summaries: allocation, results of a response, release. */
#include <errno.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

char *dt_mysql_strndup(const uint8_t *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char *strdup_or_null(const char *s)
{
	return s ? dt_mysql_strndup((const uint8_t *)s, strlen(s), SIZE_MAX - 1)
		 : NULL;
}

void dt_mysql_values_free(struct dt_mysql_value *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		dt_mysql_value_release(&v[i]);
	free(v);
}

static void column_release(struct dt_mysql_column *col)
{
	free(col->schema);
	free(col->table);
	free(col->name);
	memset(col, 0, sizeof(*col));
}

void dt_mysql_columns_free(struct dt_mysql_column *cols, size_t n)
{
	size_t i;

	if (!cols)
		return;
	for (i = 0; i < n; i++)
		column_release(&cols[i]);
	free(cols);
}

int dt_mysql_columns_copy(struct dt_mysql_column **out,
			  const struct dt_mysql_column *cols, size_t n)
{
	struct dt_mysql_column *copy;
	size_t i;

	*out = NULL;
	if (!n)
		return 0;
	copy = calloc(n, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		copy[i] = cols[i];
		copy[i].schema = strdup_or_null(cols[i].schema);
		copy[i].table = strdup_or_null(cols[i].table);
		copy[i].name = strdup_or_null(cols[i].name);
		if ((cols[i].schema && !copy[i].schema) ||
		    (cols[i].table && !copy[i].table) ||
		    (cols[i].name && !copy[i].name)) {
			dt_mysql_columns_free(copy, i + 1);
			return -ENOMEM;
		}
	}
	*out = copy;
	return 0;
}

static void result_release(struct dt_mysql_result *r)
{
	free(r->info);
	free(r->message);
	dt_mysql_columns_free(r->columns, r->ncolumns);
	dt_mysql_values_free(r->rows, r->nrows_kept * r->ncolumns);
}

struct dt_mysql_summary *dt_mysql_summary_new(unsigned cmd)
{
	struct dt_mysql_summary *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->request.command = cmd;
	s->request.command_name = dt_mysql_command_name(cmd);
	s->response.kind = "none";
	return s;
}

void dt_mysql_summary_free(struct dt_mysql_summary *s)
{
	struct dt_mysql_request *rq;
	struct dt_mysql_response *rs;
	size_t i;

	if (!s)
		return;
	rq = &s->request;
	rs = &s->response;
	free(rq->sql);
	free(rq->schema);
	free(rq->user);
	free(rq->arg);
	dt_mysql_values_free(rq->params, rq->nparams_kept);
	for (i = 0; i < rs->nresults; i++)
		result_release(&rs->results[i]);
	free(rs->results);
	free(rs->server_version);
	free(rs->auth_plugin);
	free(s);
}

struct dt_mysql_result *dt_mysql_summary_add_result(
	struct dt_mysql_summary *s, enum dt_mysql_result_kind kind,
	size_t max, int *err)
{
	struct dt_mysql_response *rs = &s->response;
	struct dt_mysql_result *grown, *r;

	*err = 0;
	rs->results_total++;
	if (rs->nresults >= max)
		return NULL;
	grown = realloc(rs->results, (rs->nresults + 1) * sizeof(*grown));
	if (!grown) {
		*err = -ENOMEM;
		return NULL;
	}
	rs->results = grown;
	r = &rs->results[rs->nresults++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	return r;
}

static const char *result_kind_name(enum dt_mysql_result_kind kind)
{
	switch (kind) {
	case DT_MYSQL_RESULT_OK:
		return "ok";
	case DT_MYSQL_RESULT_ERR:
		return "err";
	case DT_MYSQL_RESULT_EOF:
		return "eof";
	case DT_MYSQL_RESULT_RESULTSET:
		return "resultset";
	case DT_MYSQL_RESULT_LOCAL_INFILE:
		return "local_infile";
	case DT_MYSQL_RESULT_DATA:
		return "data";
	default:
		return "none";
	}
}

/* An error anywhere ends a response, so a last ERR says the request
 * failed even after results (multi-statements, LOCAL INFILE). */
void dt_mysql_summary_finish(struct dt_mysql_summary *s,
			     enum dt_mysql_result_kind last_kind)
{
	struct dt_mysql_response *rs = &s->response;

	if (s->request.command == DT_MYSQL_CMD_HANDSHAKE)
		rs->kind = "handshake";
	else if (last_kind == DT_MYSQL_RESULT_ERR)
		rs->kind = "err";
	else if (rs->nresults)
		rs->kind = result_kind_name(rs->results[0].kind);
	else
		rs->kind = "none";
}
