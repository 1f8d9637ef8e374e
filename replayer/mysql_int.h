/* SPDX-License-Identifier: MIT */
/*
 * Private to the MySQL engine (mysql_plan.c, mysql.c, mysql_result.c):
 * the operation decoded from a recorded exchange, and libmariadb results
 * turned into the formats codec's summary, so that a replayed exchange
 * carries the same attributes (dt_mysql_summary_to_attrs) as a recorded
 * one and the two compare field by field.
 */
#ifndef DEETUNE_REPLAYER_MYSQL_INT_H
#define DEETUNE_REPLAYER_MYSQL_INT_H

#include <mariadb/mysql.h>

#include "formats/formats.h"
#include "replayer/replayer_int.h"

/* What to replay for one recorded exchange (rp_item.op). */
struct rp_mysql_op {
	struct dt_mysql_summary *sum;   /* the recorded exchange, decoded */
};

/* ---- mysql_plan.c ---- */

/* Decodes the batch's recorded connections into operations (item->op)
 * and marks what cannot be replayed (item->skip). 0 or -ENOMEM. */
int rp_mysql_plan(struct rp_batch *b);
void rp_mysql_plan_release(struct rp_batch *b);

/* ---- mysql_result.c ---- */

/* True for libmariadb's own errors (lost connection, timeout...), as
 * opposed to an ERR the server sent. */
bool rp_mysql_client_error(unsigned code);

/*
 * A summary to fill for the replayed response of a request of command
 * cmd (its request part holds only the command). *out is owned by the
 * caller (dt_mysql_summary_free). 0 or -ENOMEM.
 */
int rp_mysql_summary_new(struct dt_mysql_summary **out, unsigned cmd,
			 const char *command_name);

/* Results appended to s->response, kept within the recorder's limits
 * (dt_mysql_opts_init): all return 0 or -ENOMEM. */
int rp_mysql_add_ok(struct dt_mysql_summary *s, MYSQL *db,
		    uint64_t affected_rows, uint64_t insert_id);
int rp_mysql_add_err(struct dt_mysql_summary *s, unsigned code,
		     const char *sql_state, const char *message);
/* A text-protocol result set (COM_QUERY) being read (mysql_use_result):
 * reads all its rows, keeps the preview. 0, -ENOMEM, or -EIO when
 * reading failed (the error is in db). */
int rp_mysql_add_text_resultset(struct dt_mysql_summary *s, MYSQL *db,
				MYSQL_RES *res);
/* The binary result set of an executed statement: reads all its rows
 * (unbuffered: only the preview stays in memory), frees it. 0, -ENOMEM,
 * or -EIO when libmariadb failed (its error is in the statement). */
int rp_mysql_add_stmt_resultset(struct dt_mysql_summary *s, MYSQL *db,
				MYSQL_STMT *stmt);
/* The columns of a prepared statement's result (COM_STMT_PREPARE). */
int rp_mysql_set_prepare(struct dt_mysql_summary *s, MYSQL_STMT *stmt);
/* The connection as the handshake's response. */
int rp_mysql_set_handshake(struct dt_mysql_summary *s, MYSQL *db);
/* A bare string (COM_STATISTICS). */
int rp_mysql_add_data(struct dt_mysql_summary *s, const char *text);
/* Sets response.kind the way the codec does; last_err: the response
 * ended in an error. */
void rp_mysql_finish(struct dt_mysql_summary *s, bool last_err);

/* ---- mysql_params.c ---- */

struct rp_mysql_param;

/* The recorded parameters of a COM_STMT_EXECUTE as libmariadb binds. */
struct rp_mysql_params {
	MYSQL_BIND *binds;
	struct rp_mysql_param *cells;
	size_t n;
};

/*
 * Binds rq's decoded parameters in their recorded types (values parsed
 * back from the codec's text: integers, floats, dates and times; strings,
 * blobs and decimals as their bytes). The binds borrow rq's texts: rq
 * must outlive them. 0 or -ENOMEM; release with rp_mysql_params_release.
 */
int rp_mysql_params_bind(struct rp_mysql_params *p,
			 const struct dt_mysql_request *rq);
void rp_mysql_params_release(struct rp_mysql_params *p);

/* Parses the codec's rendering of a temporal value of type into t.
 * 0 or -EINVAL. */
int rp_mysql_parse_time(const char *text, uint8_t type, MYSQL_TIME *t);

#endif /* DEETUNE_REPLAYER_MYSQL_INT_H */
