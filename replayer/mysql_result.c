// SPDX-License-Identifier: MIT
/*
 * libmariadb results as the formats codec's summary. libmariadb does not
 * expose the packets it reads, so a replayed MySQL response is stored as
 * this summary (dt_mysql_summary_to_attrs) rather than as wire bytes. To
 * compare like with like, it keeps what the recorder keeps (the default
 * dt_mysql_opts limits) and renders binary-protocol values as the codec
 * renders them (formats/mysql_values.c): integers in decimal, floats as
 * the shortest text that reads back the same, dates and times in their
 * SQL forms, everything else as its bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <mariadb/errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replayer/mysql_int.h"
#include "replayer/replayer_int.h"

/* The codec's caps on names, on other strings (messages, versions) and
 * on the values of one preview. */
#define NAME_MAX_BYTES 64
#define STR_MAX_BYTES 512
#define PREVIEW_VALUES_MAX 4096
#define TEXT_MAX 64

bool rp_mysql_client_error(unsigned code)
{
	return (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) ||
	       (code >= CER_MIN_ERROR && code <= CER_MAX_ERROR);
}

int rp_mysql_summary_new(struct dt_mysql_summary **out, unsigned cmd,
			 const char *command_name)
{
	struct dt_mysql_summary *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s)
		return -ENOMEM;
	s->request.command = cmd;
	s->request.command_name = command_name;
	s->response.kind = "none";
	return 0;
}

/* A new result at the end of the response; NULL with *err 0 when past
 * the results kept (it is still counted). */
static struct dt_mysql_result *add_result(struct dt_mysql_summary *s,
					  enum dt_mysql_result_kind kind,
					  int *err)
{
	struct dt_mysql_response *rs = &s->response;
	struct dt_mysql_opts o;
	struct dt_mysql_result *grown, *r;

	dt_mysql_opts_init(&o);
	*err = 0;
	rs->results_total++;
	if (rs->nresults >= o.max_results)
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

static int dup_opt(char **dst, const char *src, size_t max)
{
	if (!src)
		return 0;
	*dst = strndup(src, max);
	return *dst ? 0 : -ENOMEM;
}

int rp_mysql_add_ok(struct dt_mysql_summary *s, MYSQL *db,
		    uint64_t affected_rows, uint64_t insert_id)
{
	struct dt_mysql_result *r;
	int err;

	r = add_result(s, DT_MYSQL_RESULT_OK, &err);
	if (!r)
		return err;
	r->affected_rows = affected_rows;
	r->last_insert_id = insert_id;
	r->warnings = (uint16_t)mysql_warning_count(db);
	r->status = (uint16_t)db->server_status;
	return dup_opt(&r->info, mysql_info(db), STR_MAX_BYTES);
}

int rp_mysql_add_err(struct dt_mysql_summary *s, unsigned code,
		     const char *sql_state, const char *message)
{
	struct dt_mysql_result *r;
	int err;

	r = add_result(s, DT_MYSQL_RESULT_ERR, &err);
	if (!r)
		return err;
	r->error_code = (uint16_t)code;
	snprintf(r->sql_state, sizeof(r->sql_state), "%s",
		 sql_state ? sql_state : "");
	return dup_opt(&r->message, message, STR_MAX_BYTES);
}

static int set_columns(struct dt_mysql_result *r, const MYSQL_FIELD *f,
		       unsigned n)
{
	int ret = 0;

	if (!n)
		return 0;
	r->columns = calloc(n, sizeof(*r->columns));
	if (!r->columns)
		return -ENOMEM;
	r->ncolumns = n;
	for (unsigned i = 0; !ret && i < n; i++) {
		struct dt_mysql_column *c = &r->columns[i];

		c->type = (uint8_t)f[i].type;
		c->flags = (uint16_t)f[i].flags;
		c->decimals = (uint8_t)f[i].decimals;
		c->charset = (uint16_t)f[i].charsetnr;
		c->length = (uint32_t)f[i].length;
		ret = dup_opt(&c->schema, f[i].db, NAME_MAX_BYTES);
		if (!ret)
			ret = dup_opt(&c->table, f[i].table, NAME_MAX_BYTES);
		if (!ret)
			ret = dup_opt(&c->name, f[i].name, NAME_MAX_BYTES);
	}
	return ret;
}

static int set_value_text(struct dt_mysql_value *v, const void *p, size_t len)
{
	struct dt_mysql_opts o;
	size_t n;

	dt_mysql_opts_init(&o);
	n = len < o.max_value ? len : o.max_value;
	v->text = malloc(n + 1);
	if (!v->text)
		return -ENOMEM;
	if (n)
		memcpy(v->text, p, n);
	v->text[n] = '\0';
	v->len = n;
	v->truncated = len > o.max_value;
	return 0;
}

/* Room for the next preview row; NULL when the preview is full. */
static struct dt_mysql_value *preview_row(struct dt_mysql_result *r,
					  int *err)
{
	struct dt_mysql_opts o;
	struct dt_mysql_value *grown, *row;
	size_t n = r->ncolumns;

	dt_mysql_opts_init(&o);
	*err = 0;
	if (!n || r->nrows_kept >= o.max_rows ||
	    (r->nrows_kept + 1) * n > PREVIEW_VALUES_MAX)
		return NULL;
	grown = realloc(r->rows, (r->nrows_kept + 1) * n * sizeof(*row));
	if (!grown) {
		*err = -ENOMEM;
		return NULL;
	}
	r->rows = grown;
	row = grown + r->nrows_kept * n;
	memset(row, 0, n * sizeof(*row));
	r->nrows_kept++;
	for (size_t i = 0; i < n; i++) {
		row[i].type = r->columns[i].type;
		row[i].is_unsigned = r->columns[i].flags & DT_MYSQL_FLAG_UNSIGNED;
	}
	return row;
}

static void set_terminator(struct dt_mysql_result *r, MYSQL *db)
{
	r->warnings = (uint16_t)mysql_warning_count(db);
	r->status = (uint16_t)db->server_status;
}

/* Copies a text row into the preview, if it has room. */
static int keep_text_row(struct dt_mysql_result *r, MYSQL_ROW values,
			 const unsigned long *lens)
{
	struct dt_mysql_value *row;
	int err;

	row = preview_row(r, &err);
	for (size_t i = 0; row && !err && i < r->ncolumns; i++) {
		if (values[i])
			err = set_value_text(&row[i], values[i], lens[i]);
		else
			row[i].is_null = true;
	}
	return err;
}

int rp_mysql_add_text_resultset(struct dt_mysql_summary *s, MYSQL *db,
				MYSQL_RES *res)
{
	struct dt_mysql_result *r, scratch = { 0 };
	MYSQL_ROW values;
	int err;

	r = add_result(s, DT_MYSQL_RESULT_RESULTSET, &err);
	if (err)
		return err;
	/* past the results kept: counted, not shown */
	if (!r)
		r = &scratch;
	else
		err = set_columns(r, mysql_fetch_fields(res),
				  mysql_num_fields(res));
	/* rows are read as they come: only the preview stays in memory */
	while (!err && (values = mysql_fetch_row(res))) {
		r->nrows++;
		if (r != &scratch)
			err = keep_text_row(r, values, mysql_fetch_lengths(res));
	}
	if (!err && mysql_errno(db))
		err = -EIO;
	set_terminator(r, db);
	return err;
}

/* ---- binary results ----------------------------------------------------- */

/* One column's fetch buffer. */
struct cell {
	union {
		uint64_t u;
		float f;
		double d;
		MYSQL_TIME t;
		char bytes[1024];
	};
	unsigned long length;
	my_bool is_null;
	my_bool error;
};

static bool is_int_type(enum enum_field_types t)
{
	return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT ||
	       t == MYSQL_TYPE_LONG || t == MYSQL_TYPE_INT24 ||
	       t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_YEAR;
}

static bool is_time_type(enum enum_field_types t)
{
	return t == MYSQL_TYPE_DATE || t == MYSQL_TYPE_NEWDATE ||
	       t == MYSQL_TYPE_DATETIME || t == MYSQL_TYPE_TIMESTAMP ||
	       t == MYSQL_TYPE_TIME;
}

/* Integers, floats and temporal values are fetched in their C forms and
 * rendered below; the rest as bytes (all the codec keeps fits). */
static void bind_cell(MYSQL_BIND *b, struct cell *c, const MYSQL_FIELD *f)
{
	struct dt_mysql_opts o;

	dt_mysql_opts_init(&o);
	memset(b, 0, sizeof(*b));
	b->length = &c->length;
	b->is_null = &c->is_null;
	b->error = &c->error;
	if (is_int_type(f->type)) {
		b->buffer_type = MYSQL_TYPE_LONGLONG;
		b->is_unsigned = (f->flags & UNSIGNED_FLAG) ||
				 f->type == MYSQL_TYPE_YEAR;
		b->buffer = &c->u;
	} else if (f->type == MYSQL_TYPE_FLOAT || f->type == MYSQL_TYPE_DOUBLE) {
		b->buffer_type = f->type;
		b->buffer = f->type == MYSQL_TYPE_FLOAT ? (void *)&c->f :
							  (void *)&c->d;
	} else if (is_time_type(f->type)) {
		b->buffer_type = f->type == MYSQL_TYPE_NEWDATE ?
					 MYSQL_TYPE_DATE : f->type;
		b->buffer = &c->t;
	} else {
		b->buffer_type = MYSQL_TYPE_STRING;
		b->buffer = c->bytes;
		b->buffer_length = o.max_value < sizeof(c->bytes) ?
					   o.max_value : sizeof(c->bytes);
	}
}

/* Shortest %g rendering that reads back as the same value. */
static int render_float(char *buf, size_t size, double d, bool single)
{
	int digits_max = single ? 9 : 17, n = -1;

	for (int prec = 1; prec <= digits_max; prec++) {
		n = snprintf(buf, size, "%.*g", prec, d);
		if (single ? strtof(buf, NULL) == (float)d :
			     strtod(buf, NULL) == d)
			break;
	}
	return n;
}

static int render_time(char *buf, size_t size, const MYSQL_TIME *t,
		       enum enum_field_types type)
{
	uint64_t hours;

	if (type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_NEWDATE)
		return snprintf(buf, size, "%04u-%02u-%02u", t->year, t->month,
				t->day);
	if (type != MYSQL_TYPE_TIME) {
		if (t->second_part)
			return snprintf(buf, size, "%04u-%02u-%02u "
					"%02u:%02u:%02u.%06lu", t->year,
					t->month, t->day, t->hour, t->minute,
					t->second, t->second_part);
		return snprintf(buf, size, "%04u-%02u-%02u %02u:%02u:%02u",
				t->year, t->month, t->day, t->hour, t->minute,
				t->second);
	}
	hours = (uint64_t)t->day * 24 + t->hour;
	if (t->second_part)
		return snprintf(buf, size, "%s%02" PRIu64 ":%02u:%02u.%06lu",
				t->neg ? "-" : "", hours, t->minute, t->second,
				t->second_part);
	return snprintf(buf, size, "%s%02" PRIu64 ":%02u:%02u",
			t->neg ? "-" : "", hours, t->minute, t->second);
}

static int render_cell(struct dt_mysql_value *v, const struct cell *c,
		       const MYSQL_FIELD *f, const MYSQL_BIND *b)
{
	char text[TEXT_MAX];
	int n;

	if (c->is_null) {
		v->is_null = true;
		return 0;
	}
	if (b->buffer_type == MYSQL_TYPE_STRING) {
		bool cut = c->length > b->buffer_length;
		int ret = set_value_text(v, c->bytes, cut ? b->buffer_length :
							    c->length);

		v->truncated = cut;
		return ret;
	}
	if (b->buffer_type == MYSQL_TYPE_LONGLONG)
		n = b->is_unsigned ?
			    snprintf(text, sizeof(text), "%" PRIu64, c->u) :
			    snprintf(text, sizeof(text), "%" PRId64,
				     (int64_t)c->u);
	else if (b->buffer_type == MYSQL_TYPE_FLOAT)
		n = render_float(text, sizeof(text), c->f, true);
	else if (b->buffer_type == MYSQL_TYPE_DOUBLE)
		n = render_float(text, sizeof(text), c->d, false);
	else
		n = render_time(text, sizeof(text), &c->t, f->type);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EINVAL;
	return set_value_text(v, text, (size_t)n);
}

struct fetch {
	MYSQL_RES *meta;
	MYSQL_FIELD *fields;
	unsigned n;
	MYSQL_BIND *binds;
	struct cell *cells;
};

static void fetch_release(struct fetch *f)
{
	if (f->meta)
		mysql_free_result(f->meta);
	free(f->binds);
	free(f->cells);
}

static int fetch_bind(struct fetch *f, MYSQL_STMT *stmt)
{
	f->meta = mysql_stmt_result_metadata(stmt);
	if (!f->meta)
		return -EIO;
	f->fields = mysql_fetch_fields(f->meta);
	f->n = mysql_num_fields(f->meta);
	f->binds = calloc(f->n, sizeof(*f->binds));
	f->cells = calloc(f->n, sizeof(*f->cells));
	if (!f->binds || !f->cells)
		return -ENOMEM;
	for (unsigned i = 0; i < f->n; i++)
		bind_cell(&f->binds[i], &f->cells[i], &f->fields[i]);
	return mysql_stmt_bind_result(stmt, f->binds) ? -EIO : 0;
}

/* Reads every row, rendering those the preview keeps. */
static int fetch_rows(struct dt_mysql_result *r, struct fetch *f,
		      MYSQL_STMT *stmt)
{
	struct dt_mysql_value *row;
	int err = 0, rc;

	while (!err) {
		rc = mysql_stmt_fetch(stmt);
		if (rc == MYSQL_NO_DATA)
			return 0;
		if (rc == 1)
			return -EIO;
		r->nrows++;
		row = preview_row(r, &err);
		for (unsigned i = 0; row && !err && i < f->n; i++)
			err = render_cell(&row[i], &f->cells[i], &f->fields[i],
					  &f->binds[i]);
	}
	return err;
}

int rp_mysql_add_stmt_resultset(struct dt_mysql_summary *s, MYSQL *db,
				MYSQL_STMT *stmt)
{
	struct dt_mysql_result *r, scratch = { 0 };
	struct fetch f = { 0 };
	int err;

	r = add_result(s, DT_MYSQL_RESULT_RESULTSET, &err);
	if (err)
		return err;
	/* past the results kept: counted, not shown */
	if (!r)
		r = &scratch;
	r->binary = true;
	err = fetch_bind(&f, stmt);
	if (!err && r != &scratch)
		err = set_columns(r, f.fields, f.n);
	if (!err)
		err = fetch_rows(r, &f, stmt);
	set_terminator(r, db);
	mysql_stmt_free_result(stmt);
	fetch_release(&f);
	return err;
}

int rp_mysql_set_prepare(struct dt_mysql_summary *s, MYSQL_STMT *stmt)
{
	struct dt_mysql_response *rs = &s->response;
	struct dt_mysql_result *r;
	MYSQL_RES *meta;
	int err;

	rs->has_stmt = true;
	rs->stmt_id = (uint32_t)stmt->stmt_id;
	rs->nparams = (uint16_t)mysql_stmt_param_count(stmt);
	rs->ncolumns = (uint16_t)mysql_stmt_field_count(stmt);
	r = add_result(s, DT_MYSQL_RESULT_OK, &err);
	if (!r)
		return err;
	r->warnings = (uint16_t)mysql_stmt_warning_count(stmt);
	meta = mysql_stmt_result_metadata(stmt);
	if (!meta)
		return 0;
	err = set_columns(r, mysql_fetch_fields(meta), mysql_num_fields(meta));
	mysql_free_result(meta);
	return err;
}

int rp_mysql_set_handshake(struct dt_mysql_summary *s, MYSQL *db)
{
	struct dt_mysql_response *rs = &s->response;
	unsigned long caps = 0, ext = 0;
	int err;

	mariadb_get_infov(db, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps);
	mariadb_get_infov(db, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES,
			  &ext);
	rs->server_caps = (uint64_t)caps | (uint64_t)ext << 32;
	rs->connection_id = (uint32_t)mysql_thread_id(db);
	err = dup_opt(&rs->server_version, mysql_get_server_info(db),
		      STR_MAX_BYTES);
	return err ? err : rp_mysql_add_ok(s, db, 0, 0);
}

int rp_mysql_add_data(struct dt_mysql_summary *s, const char *text)
{
	struct dt_mysql_result *r;
	int err;

	r = add_result(s, DT_MYSQL_RESULT_DATA, &err);
	return r ? dup_opt(&r->info, text, STR_MAX_BYTES) : err;
}

void rp_mysql_finish(struct dt_mysql_summary *s, bool last_err)
{
	static const char *const kinds[] = {
		[DT_MYSQL_RESULT_OK] = "ok",
		[DT_MYSQL_RESULT_ERR] = "err",
		[DT_MYSQL_RESULT_EOF] = "eof",
		[DT_MYSQL_RESULT_RESULTSET] = "resultset",
		[DT_MYSQL_RESULT_LOCAL_INFILE] = "local_infile",
		[DT_MYSQL_RESULT_DATA] = "data",
	};
	struct dt_mysql_response *rs = &s->response;

	if (s->request.command == DT_MYSQL_CMD_HANDSHAKE)
		rs->kind = "handshake";
	else if (last_err)
		rs->kind = "err";
	else if (rs->nresults)
		rs->kind = kinds[rs->results[0].kind];
	else
		rs->kind = "none";
}
