// SPDX-License-Identifier: MIT
/*
 * The server side of an exchange: which packets make up the response to
 * the request at the head of the queue.
 *
 *   OK | ERR | EOF                            one packet
 *   0xfb file name                            LOCAL INFILE: the client
 *                                             sends the file, then OK/ERR
 *   column count, column defs, [EOF], rows,   a result set; the terminator
 *   EOF or OK (0xfe)                          may announce more results
 *   prepare OK, param defs, [EOF],            COM_STMT_PREPARE
 *   column defs, [EOF]
 *   auth switch / more data ..., OK | ERR     handshake, COM_CHANGE_USER
 *
 * [EOF] is absent with CLIENT_DEPRECATE_EOF. When the capabilities are
 * unknown it is learnt from the packets: an EOF is 5 bytes, the 0xfe OK
 * that replaces it at the end of rows at least 7. An ERR ends a response
 * anywhere; MariaDB's progress reports (ERR 0xffff) do not.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

#define ERR_PROGRESS 0xffff

static int step(struct dt_mysql_conn *c, struct mysql_request *r,
		const struct mysql_payload *pl);

static struct dt_mysql_result *begin_result(struct dt_mysql_conn *c,
					    struct mysql_request *r,
					    enum dt_mysql_result_kind kind,
					    int *err)
{
	c->resp.last_kind = kind;
	return dt_mysql_summary_add_result(r->sum, kind, c->opts.max_results,
					   err);
}

static struct mysql_stmt *request_stmt(struct dt_mysql_conn *c,
				       const struct mysql_request *r)
{
	const struct dt_mysql_request *rq = &r->sum->request;

	return rq->has_stmt ? dt_mysql_stmt_find(c, rq->stmt_id) : NULL;
}

/* What a finished response teaches about the connection. */
static int finish(struct dt_mysql_conn *c, struct mysql_request *r)
{
	struct dt_mysql_response *rs = &r->sum->response;
	struct dt_mysql_result *first = rs->nresults ? &rs->results[0] : NULL;
	struct mysql_stmt *s;

	c->resp.state = RS_DONE;
	switch (r->cmd) {
	case DT_MYSQL_COM_STMT_PREPARE:
		s = rs->has_stmt ? dt_mysql_stmt_find(c, rs->stmt_id) : NULL;
		if (s && first && first->columns)
			return dt_mysql_stmt_set_columns(c, s, first->columns,
							 first->ncolumns);
		return 0;
	case DT_MYSQL_COM_STMT_EXECUTE:
		/* kept for results sent without metadata (MariaDB's cached
		 * metadata) and for COM_STMT_FETCH on a cursor */
		s = request_stmt(c, r);
		if (s && c->resp.got_metadata && first && first->columns &&
		    first->kind == DT_MYSQL_RESULT_RESULTSET &&
		    (!c->caps_known ||
		     (c->caps & DT_MYSQL_MARIADB_CLIENT_CACHE_METADATA) ||
		     r->sum->request.exec_flags))
			return dt_mysql_stmt_set_columns(c, s, first->columns,
							 first->ncolumns);
		return 0;
	case DT_MYSQL_COM_CHANGE_USER:
	case DT_MYSQL_COM_RESET_CONNECTION:
		/* the server dropped the session's statements */
		if (c->resp.last_kind == DT_MYSQL_RESULT_OK)
			dt_mysql_stmt_clear(c);
		return 0;
	case DT_MYSQL_CMD_HANDSHAKE:
		if (c->resp.last_kind == DT_MYSQL_RESULT_OK &&
		    (c->caps & (DT_MYSQL_CLIENT_COMPRESS |
				DT_MYSQL_CLIENT_ZSTD_COMPRESSION)))
			return dt_mysql_set_unsupported(c, "compression");
		return 0;
	default:
		return 0;
	}
}

static int after_result(struct dt_mysql_conn *c, struct mysql_request *r,
			uint16_t status)
{
	if (status & DT_MYSQL_STATUS_MORE_RESULTS) {
		c->resp.state = RS_FIRST;
		c->resp.cur = NULL;
		return 0;
	}
	return finish(c, r);
}

static int on_ok(struct dt_mysql_conn *c, struct mysql_request *r,
		 const struct mysql_payload *pl)
{
	struct dt_mysql_result scratch = { 0 }, *res;
	uint16_t status;
	int ret;

	res = begin_result(c, r, DT_MYSQL_RESULT_OK, &ret);
	if (ret)
		return ret;
	if (!res)
		res = &scratch;
	ret = dt_mysql_parse_ok(c, pl->data, pl->len, res);
	status = res->status;
	free(scratch.info);
	if (ret == -EBADMSG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	if (ret)
		return ret;
	if (r->cmd == DT_MYSQL_CMD_HANDSHAKE ||
	    r->cmd == DT_MYSQL_COM_CHANGE_USER)
		return finish(c, r);
	return after_result(c, r, status);
}

static int on_err(struct dt_mysql_conn *c, struct mysql_request *r,
		  const struct mysql_payload *pl)
{
	struct dt_mysql_result scratch = { 0 }, *res;
	int ret;

	if (pl->len >= 3 && mysql_le(pl->data + 1, 2) == ERR_PROGRESS)
		return 0;
	res = begin_result(c, r, DT_MYSQL_RESULT_ERR, &ret);
	if (ret)
		return ret;
	if (!res)
		res = &scratch;
	ret = dt_mysql_parse_err(pl->data, pl->len, res);
	free(scratch.message);
	if (ret == -EBADMSG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	if (ret)
		return ret;
	return finish(c, r);
}

/* Whether a 0xfe packet that ends a block is the 5-byte EOF rather than
 * an OK packet (CLIENT_DEPRECATE_EOF). */
static bool eof_form(const struct dt_mysql_conn *c,
		     const struct mysql_payload *pl)
{
	if (c->deprecate_eof >= 0)
		return !c->deprecate_eof && pl->total < 9;
	return pl->total < 7;
}

/* A 0xfe packet ending rows or a response: EOF or OK form. Fills res and
 * returns its status; learns CLIENT_DEPRECATE_EOF when unknown. */
static int read_terminator(struct dt_mysql_conn *c,
			   const struct mysql_payload *pl,
			   struct dt_mysql_result *res, uint16_t *status)
{
	struct dt_mysql_result scratch = { 0 };
	int ret = 0;

	if (!res)
		res = &scratch;
	if (eof_form(c, pl)) {
		dt_mysql_parse_eof(pl->data, pl->len, res);
		if (c->deprecate_eof < 0)
			c->deprecate_eof = 0;
	} else {
		ret = dt_mysql_parse_ok(c, pl->data, pl->len, res);
		if (c->deprecate_eof < 0)
			c->deprecate_eof = 1;
	}
	*status = res->status;
	free(scratch.info);
	return ret;
}

static int on_eof(struct dt_mysql_conn *c, struct mysql_request *r,
		  const struct mysql_payload *pl)
{
	enum dt_mysql_result_kind kind = eof_form(c, pl) ?
						 DT_MYSQL_RESULT_EOF :
						 DT_MYSQL_RESULT_OK;
	struct dt_mysql_result *res;
	uint16_t status;
	int ret;

	res = begin_result(c, r, kind, &ret);
	if (ret)
		return ret;
	ret = read_terminator(c, pl, res, &status);
	if (ret == -EBADMSG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	if (ret)
		return ret;
	return after_result(c, r, status);
}

static int on_local_infile(struct dt_mysql_conn *c, struct mysql_request *r,
			   const struct mysql_payload *pl)
{
	struct dt_mysql_result *res;
	int ret;

	res = begin_result(c, r, DT_MYSQL_RESULT_LOCAL_INFILE, &ret);
	if (ret)
		return ret;
	if (res) {
		res->info = dt_mysql_strndup(pl->data + 1, pl->len - 1,
					     MYSQL_STR_MAX);
		if (!res->info)
			return -ENOMEM;
	}
	c->resp.state = RS_INFILE;
	return 0;
}

static int after_coldefs(struct dt_mysql_conn *c)
{
	c->resp.state = c->deprecate_eof == 1 ? RS_ROWS : RS_COLDEFS_EOF;
	return 0;
}

/* Columns of a result set sent without metadata: the statement's. */
static int columns_from_stmt(struct dt_mysql_conn *c, struct mysql_request *r,
			     struct dt_mysql_result *res, uint64_t n)
{
	struct mysql_stmt *s = request_stmt(c, r);

	if (!s || s->ncols != n)
		return 0;
	res->ncolumns = s->ncols;
	return dt_mysql_columns_copy(&res->columns, s->cols, s->ncols);
}

/* The column count packet may carry one more byte: "metadata follows"
 * (MariaDB's cached metadata, MySQL's optional metadata). */
static int on_column_count(struct dt_mysql_conn *c, struct mysql_request *r,
			   const struct mysql_payload *pl)
{
	struct mysql_cur cur = mysql_cur_make(pl->data, pl->len);
	uint64_t n = mysql_cur_lenenc(&cur);
	bool metadata = true;
	struct dt_mysql_result *res;
	int ret;

	if (mysql_cur_left(&cur) == 1)
		metadata = mysql_cur_u8(&cur) != 0;
	if (cur.bad || mysql_cur_left(&cur) || !n || n > DT_MYSQL_MAX_COLUMNS)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	res = begin_result(c, r, DT_MYSQL_RESULT_RESULTSET, &ret);
	if (ret)
		return ret;
	c->resp.cur = res;
	c->resp.ncols = (uint32_t)n;
	c->resp.remaining = metadata ? (uint32_t)n : 0;
	c->resp.got_metadata |= metadata;
	if (res) {
		res->binary = c->resp.binary;
		if (metadata) {
			res->columns = calloc(n, sizeof(*res->columns));
			if (!res->columns)
				return -ENOMEM;
			res->ncolumns = n;
		} else {
			ret = columns_from_stmt(c, r, res, n);
			if (ret)
				return ret;
		}
	}
	if (metadata) {
		c->resp.state = RS_COLDEFS;
		return 0;
	}
	return after_coldefs(c);
}

static int on_prepare_ok(struct dt_mysql_conn *c, struct mysql_request *r,
			 const struct mysql_payload *pl);

static int step_first(struct dt_mysql_conn *c, struct mysql_request *r,
		      const struct mysql_payload *pl)
{
	uint8_t b = pl->data[0];

	if (b == 0xff)
		return on_err(c, r, pl);
	if (b == 0x00 && r->cmd == DT_MYSQL_COM_STMT_PREPARE)
		return on_prepare_ok(c, r, pl);
	if (b == 0x00)
		return on_ok(c, r, pl);
	if (b == 0xfe && pl->total < MYSQL_MAX_PACKET)
		return on_eof(c, r, pl);
	if (b == MYSQL_LENENC_NULL && r->cmd == DT_MYSQL_COM_QUERY)
		return on_local_infile(c, r, pl);
	return on_column_count(c, r, pl);
}

static int step_coldef(struct dt_mysql_conn *c, struct mysql_request *r,
		       const struct mysql_payload *pl)
{
	struct dt_mysql_result *res = c->resp.cur;
	struct dt_mysql_column *col = NULL;
	int ret;

	if (res && res->columns)
		col = &res->columns[c->resp.ncols - c->resp.remaining];
	ret = dt_mysql_parse_column(c, pl->data, pl->len, col);
	if (ret == -EBADMSG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	if (ret)
		return ret;
	if (--c->resp.remaining == 0)
		return after_coldefs(c);
	return 0;
}

static int step_row(struct dt_mysql_conn *c, struct mysql_request *r,
		    const struct mysql_payload *pl)
{
	uint8_t b = pl->data[0];
	uint16_t status;
	int ret;

	if (b == 0xfe && pl->total < MYSQL_MAX_PACKET) {
		ret = read_terminator(c, pl, c->resp.cur, &status);
		if (ret == -EBADMSG)
			return dt_mysql_malformed(c, DT_MYSQL_SERVER);
		if (ret)
			return ret;
		return after_result(c, r, status);
	}
	if (b == 0xff)
		return on_err(c, r, pl);
	return c->resp.cur ? dt_mysql_parse_row(c, c->resp.cur, pl) : 0;
}

/* After the column definitions: an EOF (which ends the response when it
 * opens a cursor), or, without one, the rows. */
static int step_coldefs_eof(struct dt_mysql_conn *c, struct mysql_request *r,
			    const struct mysql_payload *pl)
{
	struct dt_mysql_result scratch = { 0 };

	if (pl->data[0] == 0xfe && eof_form(c, pl)) {
		c->deprecate_eof = 0;
		dt_mysql_parse_eof(pl->data, pl->len, &scratch);
		if (scratch.status & DT_MYSQL_STATUS_CURSOR_EXISTS)
			return finish(c, r);
		c->resp.state = RS_ROWS;
		return 0;
	}
	if (c->deprecate_eof == 0)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	c->deprecate_eof = 1;
	c->resp.state = RS_ROWS;
	return step_row(c, r, pl);
}

/* COM_STMT_PREPARE: block 0 holds the parameter definitions, block 1 the
 * column definitions; an empty block has no EOF. */
static int prep_enter_block(struct dt_mysql_conn *c, struct mysql_request *r,
			    uint8_t block)
{
	const struct dt_mysql_response *rs = &r->sum->response;

	for (; block < 2; block++) {
		uint32_t n = block == 0 ? rs->nparams : c->resp.prep_ncols;

		if (n) {
			c->resp.prep_block = block;
			c->resp.remaining = n;
			c->resp.state = RS_PREP_DEFS;
			return 0;
		}
	}
	return finish(c, r);
}

static int on_prepare_ok(struct dt_mysql_conn *c, struct mysql_request *r,
			 const struct mysql_payload *pl)
{
	struct dt_mysql_response *rs = &r->sum->response;
	const struct dt_mysql_request *rq = &r->sum->request;
	struct mysql_cur cur = mysql_cur_make(pl->data, pl->len);
	struct dt_mysql_result *res;
	bool metadata = true;
	int ret;

	mysql_cur_u8(&cur);
	rs->stmt_id = mysql_cur_u32(&cur);
	rs->ncolumns = mysql_cur_u16(&cur);
	rs->nparams = mysql_cur_u16(&cur);
	mysql_cur_u8(&cur);
	if (cur.bad || rs->ncolumns > DT_MYSQL_MAX_COLUMNS)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	rs->has_stmt = true;
	res = begin_result(c, r, DT_MYSQL_RESULT_OK, &ret);
	if (ret)
		return ret;
	if (mysql_cur_left(&cur) >= 2) {
		uint16_t warnings = mysql_cur_u16(&cur);

		if (res)
			res->warnings = warnings;
	}
	/* MySQL 8 optional metadata: "metadata follows" */
	if (mysql_cur_left(&cur) >= 1)
		metadata = mysql_cur_u8(&cur) != 0;
	if (res && rs->ncolumns && metadata) {
		res->columns = calloc(rs->ncolumns, sizeof(*res->columns));
		if (!res->columns)
			return -ENOMEM;
		res->ncolumns = rs->ncolumns;
	}
	c->resp.cur = res;
	c->resp.prep_ncols = rs->ncolumns;
	if (!dt_mysql_stmt_add(c, rs->stmt_id, rq->sql, rq->sql_len,
			       rq->sql_truncated, rs->nparams))
		return -ENOMEM;
	if (!metadata)
		return finish(c, r);
	return prep_enter_block(c, r, 0);
}

static int step_prep_def(struct dt_mysql_conn *c, struct mysql_request *r,
			 const struct mysql_payload *pl)
{
	struct dt_mysql_result *res = c->resp.cur;
	struct dt_mysql_column *col = NULL;
	int ret;

	if (c->resp.prep_block == 1 && res && res->columns)
		col = &res->columns[c->resp.prep_ncols - c->resp.remaining];
	ret = dt_mysql_parse_column(c, pl->data, pl->len, col);
	if (ret == -EBADMSG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	if (ret)
		return ret;
	if (--c->resp.remaining)
		return 0;
	if (c->deprecate_eof == 1)
		return prep_enter_block(c, r, c->resp.prep_block + 1);
	/* caps unknown after the last block: only a later packet tells
	 * whether an EOF follows (dt_mysql_response_settle) */
	if (c->deprecate_eof < 0 &&
	    (c->resp.prep_block == 1 || !c->resp.prep_ncols))
		c->resp.state = RS_PREP_AMBIG;
	else
		c->resp.state = RS_PREP_EOF;
	return 0;
}

static int step_prep_eof(struct dt_mysql_conn *c, struct mysql_request *r,
			 const struct mysql_payload *pl)
{
	int ret;

	if (pl->data[0] == 0xfe && eof_form(c, pl)) {
		c->deprecate_eof = 0;
		return prep_enter_block(c, r, c->resp.prep_block + 1);
	}
	if (c->deprecate_eof == 0 || c->resp.state == RS_PREP_AMBIG)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	/* caps unknown, a column definition: no EOFs on this connection */
	c->deprecate_eof = 1;
	ret = prep_enter_block(c, r, 1);
	return ret ? ret : step(c, r, pl);
}

int dt_mysql_response_settle(struct dt_mysql_conn *c)
{
	if (!c->head || c->resp.state != RS_PREP_AMBIG)
		return 0;
	c->deprecate_eof = 1;
	return finish(c, c->head);
}

static int step_auth(struct dt_mysql_conn *c, struct mysql_request *r,
		     const struct mysql_payload *pl)
{
	struct mysql_cur cur = mysql_cur_make(pl->data, pl->len);
	struct dt_mysql_response *rs = &r->sum->response;
	const uint8_t *plugin;
	size_t n;

	switch (pl->data[0]) {
	case 0x00:
		return on_ok(c, r, pl);
	case 0xff:
		return on_err(c, r, pl);
	case 0xfe:   /* auth switch request: plugin name, plugin data */
		mysql_cur_u8(&cur);
		mysql_cur_nul_str(&cur, &plugin, &n);
		if (cur.bad || !n)
			return 0;
		free(rs->auth_plugin);
		rs->auth_plugin = dt_mysql_strndup(plugin, n, MYSQL_STR_MAX);
		return rs->auth_plugin ? 0 : -ENOMEM;
	default:     /* 0x01: more authentication data */
		return 0;
	}
}

/* COM_FIELD_LIST: column definitions until EOF. */
static int step_field(struct dt_mysql_conn *c, struct mysql_request *r,
		      const struct mysql_payload *pl)
{
	struct dt_mysql_result *res = c->resp.cur;
	struct dt_mysql_column *grown;
	uint16_t status;
	int ret;

	if (pl->data[0] == 0xff)
		return on_err(c, r, pl);
	if (pl->data[0] == 0xfe && pl->total < MYSQL_MAX_PACKET) {
		ret = read_terminator(c, pl, NULL, &status);
		return ret == -EBADMSG ? dt_mysql_malformed(c, DT_MYSQL_SERVER)
				       : ret ? ret : finish(c, r);
	}
	if (!res)
		return dt_mysql_parse_column(c, pl->data, pl->len, NULL) ?
			       dt_mysql_malformed(c, DT_MYSQL_SERVER) :
			       0;
	if (res->ncolumns >= DT_MYSQL_MAX_COLUMNS)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	grown = realloc(res->columns, (res->ncolumns + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	res->columns = grown;
	memset(&grown[res->ncolumns], 0, sizeof(*grown));
	res->ncolumns++;
	ret = dt_mysql_parse_column(c, pl->data, pl->len,
				    &grown[res->ncolumns - 1]);
	return ret == -EBADMSG ? dt_mysql_malformed(c, DT_MYSQL_SERVER) : ret;
}

static int step_single(struct dt_mysql_conn *c, struct mysql_request *r,
		       const struct mysql_payload *pl)
{
	struct dt_mysql_result *res;
	int ret;

	if (pl->data[0] == 0xff)
		return on_err(c, r, pl);
	res = begin_result(c, r, DT_MYSQL_RESULT_DATA, &ret);
	if (ret)
		return ret;
	if (res) {
		res->info = dt_mysql_strndup(pl->data, pl->len, MYSQL_STR_MAX);
		if (!res->info)
			return -ENOMEM;
	}
	return finish(c, r);
}

static int step(struct dt_mysql_conn *c, struct mysql_request *r,
		const struct mysql_payload *pl)
{
	switch (c->resp.state) {
	case RS_FIRST:
		return step_first(c, r, pl);
	case RS_COLDEFS:
		return step_coldef(c, r, pl);
	case RS_COLDEFS_EOF:
		return step_coldefs_eof(c, r, pl);
	case RS_ROWS:
		return step_row(c, r, pl);
	case RS_PREP_DEFS:
		return step_prep_def(c, r, pl);
	case RS_PREP_EOF:
	case RS_PREP_AMBIG:
		return step_prep_eof(c, r, pl);
	case RS_AUTH:
		return step_auth(c, r, pl);
	case RS_FIELDS:
		return step_field(c, r, pl);
	case RS_SINGLE:
		return step_single(c, r, pl);
	default:   /* RS_INFILE: the client's turn; RS_DONE */
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	}
}

int dt_mysql_response_step(struct dt_mysql_conn *c, struct mysql_request *r,
			   const struct mysql_payload *pl)
{
	if (!pl->len)
		return dt_mysql_malformed(c, DT_MYSQL_SERVER);
	return step(c, r, pl);
}

int dt_mysql_response_start(struct dt_mysql_conn *c, struct mysql_request *r)
{
	struct dt_mysql_result *res;
	struct mysql_stmt *s;
	int ret;

	memset(&c->resp, 0, sizeof(c->resp));
	c->resp.seq_next = r->resp_seq;
	if (r->no_response) {
		c->resp.state = RS_DONE;
		return 0;
	}
	switch (r->cmd) {
	case DT_MYSQL_COM_STMT_EXECUTE:
		c->resp.binary = true;
		c->resp.state = RS_FIRST;
		return 0;
	case DT_MYSQL_COM_STMT_FETCH:
		/* rows of the cursor the execute opened, then EOF */
		c->resp.binary = true;
		c->resp.state = RS_ROWS;
		res = begin_result(c, r, DT_MYSQL_RESULT_RESULTSET, &ret);
		if (ret || !res)
			return ret;
		res->binary = true;
		c->resp.cur = res;
		s = request_stmt(c, r);
		if (!s)
			return 0;
		return columns_from_stmt(c, r, res, s->ncols);
	case DT_MYSQL_COM_FIELD_LIST:
		c->resp.state = RS_FIELDS;
		res = begin_result(c, r, DT_MYSQL_RESULT_RESULTSET, &ret);
		c->resp.cur = res;
		return ret;
	case DT_MYSQL_COM_STATISTICS:
		c->resp.state = RS_SINGLE;
		return 0;
	case DT_MYSQL_COM_CHANGE_USER:
	case DT_MYSQL_CMD_HANDSHAKE:
		c->resp.state = RS_AUTH;
		return 0;
	default:
		c->resp.state = RS_FIRST;
		return 0;
	}
}
