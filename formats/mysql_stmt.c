// SPDX-License-Identifier: MIT
/*
 * Prepared statements of one connection: id -> SQL, parameter count, the
 * parameter types of the last execute that bound them, parameters sent as
 * long data, and the columns (for binary rows sent without metadata).
 * Bounded in count and bytes: the oldest statements are forgotten first.
 * Lookups are linear: connections hold few statements.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

/* MariaDB's COM_STMT_EXECUTE with this id runs the statement prepared
 * last (pipelined prepare + execute). */
#define STMT_ID_LAST 0xffffffffu

static size_t columns_cost(const struct dt_mysql_column *cols, size_t n)
{
	size_t i, cost = n * sizeof(*cols);

	for (i = 0; i < n; i++)
		cost += (cols[i].schema ? strlen(cols[i].schema) + 1 : 0) +
			(cols[i].table ? strlen(cols[i].table) + 1 : 0) +
			(cols[i].name ? strlen(cols[i].name) + 1 : 0);
	return cost;
}

static size_t stmt_cost(const struct mysql_stmt *s)
{
	return sizeof(*s) + (s->sql ? s->sql_len + 1 : 0) +
	       (s->types ? 2u * s->nparams : 0) +
	       (s->long_data ? (s->nparams + 7u) / 8 : 0) +
	       columns_cost(s->cols, s->ncols);
}

static void stmt_free(struct mysql_stmt *s)
{
	free(s->sql);
	free(s->types);
	free(s->long_data);
	dt_mysql_columns_free(s->cols, s->ncols);
	free(s);
}

static void stmt_recost(struct dt_mysql_conn *c, struct mysql_stmt *s)
{
	c->stmt_bytes -= s->cost;
	s->cost = stmt_cost(s);
	c->stmt_bytes += s->cost;
}

struct mysql_stmt *dt_mysql_stmt_find(struct dt_mysql_conn *c, uint32_t id)
{
	struct mysql_stmt *s;

	if (id == STMT_ID_LAST) {
		if (!c->has_last_prepared)
			return NULL;
		id = c->last_prepared;
	}
	for (s = c->stmts; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void stmt_unlink(struct dt_mysql_conn *c, struct mysql_stmt **link)
{
	struct mysql_stmt *s = *link;

	*link = s->next;
	c->nstmts--;
	c->stmt_bytes -= s->cost;
	stmt_free(s);
}

void dt_mysql_stmt_remove(struct dt_mysql_conn *c, uint32_t id)
{
	struct mysql_stmt **link;

	if (id == STMT_ID_LAST && c->has_last_prepared)
		id = c->last_prepared;
	for (link = &c->stmts; *link; link = &(*link)->next) {
		if ((*link)->id == id) {
			stmt_unlink(c, link);
			return;
		}
	}
}

void dt_mysql_stmt_clear(struct dt_mysql_conn *c)
{
	while (c->stmts)
		stmt_unlink(c, &c->stmts);
	c->has_last_prepared = false;
}

/* Forgets the oldest statements (never keep) until slots more statements
 * and extra more bytes fit. */
static void stmt_evict(struct dt_mysql_conn *c, size_t slots, size_t extra,
		       const struct mysql_stmt *keep)
{
	struct mysql_stmt **link = &c->stmts;

	while (*link && (c->nstmts + slots > MYSQL_STMT_MAX ||
			 c->stmt_bytes + extra > MYSQL_STMT_BUDGET)) {
		if (*link == keep)
			link = &(*link)->next;
		else
			stmt_unlink(c, link);
	}
}

struct mysql_stmt *dt_mysql_stmt_add(struct dt_mysql_conn *c, uint32_t id,
				     const char *sql, size_t sql_len,
				     bool sql_truncated, uint16_t nparams)
{
	struct mysql_stmt *s, **link;

	dt_mysql_stmt_remove(c, id);
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (sql) {
		s->sql = dt_mysql_strndup((const uint8_t *)sql, sql_len,
					  sql_len);
		if (!s->sql) {
			free(s);
			return NULL;
		}
		s->sql_len = sql_len;
	}
	s->id = id;
	s->sql_truncated = sql_truncated;
	s->nparams = nparams;
	s->cost = stmt_cost(s);
	stmt_evict(c, 1, s->cost, NULL);
	for (link = &c->stmts; *link; link = &(*link)->next)
		;
	*link = s;
	c->nstmts++;
	c->stmt_bytes += s->cost;
	c->last_prepared = id;
	c->has_last_prepared = true;
	return s;
}

int dt_mysql_stmt_set_types(struct dt_mysql_conn *c, struct mysql_stmt *s,
			    const uint8_t *types)
{
	size_t n = 2u * s->nparams;

	if (!n)
		return 0;
	if (!s->types) {
		s->types = malloc(n);
		if (!s->types)
			return -ENOMEM;
	}
	memcpy(s->types, types, n);
	stmt_recost(c, s);
	stmt_evict(c, 0, 0, s);
	return 0;
}

int dt_mysql_stmt_set_columns(struct dt_mysql_conn *c, struct mysql_stmt *s,
			      const struct dt_mysql_column *cols,
			      size_t ncols)
{
	struct dt_mysql_column *copy;
	int ret = dt_mysql_columns_copy(&copy, cols, ncols);

	if (ret)
		return ret;
	dt_mysql_columns_free(s->cols, s->ncols);
	s->cols = copy;
	s->ncols = ncols;
	stmt_recost(c, s);
	stmt_evict(c, 0, 0, s);
	return 0;
}

int dt_mysql_stmt_mark_long_data(struct dt_mysql_conn *c,
				 struct mysql_stmt *s, uint16_t param)
{
	if (param >= s->nparams)
		return 0;
	if (!s->long_data) {
		s->long_data = calloc((s->nparams + 7u) / 8, 1);
		if (!s->long_data)
			return -ENOMEM;
		stmt_recost(c, s);
	}
	s->long_data[param / 8] |= (uint8_t)(1u << (param % 8));
	return 0;
}

void dt_mysql_stmt_reset_long_data(struct mysql_stmt *s)
{
	if (s->long_data)
		memset(s->long_data, 0, (s->nparams + 7u) / 8);
}

bool dt_mysql_stmt_has_long_data(const struct mysql_stmt *s, size_t param)
{
	return s->long_data && param < s->nparams &&
	       (s->long_data[param / 8] & (1u << (param % 8)));
}
