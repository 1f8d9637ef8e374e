// SPDX-License-Identifier: MIT
/*
 * MySQL engine: a thread per recorded connection, each with its own
 * libmariadb connection, replaying the connection's exchanges in recorded
 * order, one at a time (the protocol is strictly request/response), each
 * when due and admitted by the gate. The blocking libmariadb API keeps
 * this simple; the threads only share the gate and the output.
 *
 * The connection is opened for the first exchange, with the schema the
 * target URL names, else the one of the recorded handshake. Prepared
 * statements are prepared again and executed with their recorded
 * parameters; a recorded statement id maps to the statement prepared in
 * its place. A statement executed but not prepared in the recording (it
 * was prepared before the recording began) is prepared from its recorded
 * SQL first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replayer/mysql_int.h"
#include "replayer/replayer_int.h"

/* Server errors that retrying will not fix: bad credentials, no such
 * schema, no access to it. */
#define ER_DBACCESS_DENIED_ERROR 1044
#define ER_ACCESS_DENIED_ERROR 1045
#define ER_BAD_DB_ERROR 1049

struct stmt_entry {
	uint32_t rec_id;
	MYSQL_STMT *stmt;
};

struct mysql_engine;

struct mysql_worker {
	struct mysql_engine *e;
	struct rp_conn *rec;
	pthread_t thread;
	bool started;
	int ret;
	MYSQL *db;
	uint64_t conn_id;
	struct dt_endpoint client, server;
	struct stmt_entry *stmts;
	size_t nstmts;
	unsigned long client_flags;  /* from the recorded handshake */
	const char *schema;          /* of the recorded handshake */
	char why[512];               /* the last failure */
};

struct mysql_engine {
	struct rp_ctx *ctx;
	struct rp_batch *b;
	struct mysql_worker *w;
	size_t n;
};

/* ---- statements ---------------------------------------------------------- */

static struct stmt_entry *stmt_find(struct mysql_worker *w, uint32_t id)
{
	for (size_t i = 0; i < w->nstmts; i++)
		if (w->stmts[i].rec_id == id)
			return &w->stmts[i];
	return NULL;
}

static void stmt_forget(struct mysql_worker *w, uint32_t id)
{
	struct stmt_entry *s = stmt_find(w, id);

	if (!s)
		return;
	mysql_stmt_close(s->stmt);
	*s = w->stmts[--w->nstmts];
}

static int stmt_remember(struct mysql_worker *w, uint32_t id,
			 MYSQL_STMT *stmt)
{
	struct stmt_entry *grown;

	stmt_forget(w, id);
	grown = realloc(w->stmts, (w->nstmts + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	w->stmts = grown;
	w->stmts[w->nstmts++] = (struct stmt_entry){ id, stmt };
	return 0;
}

static void stmts_clear(struct mysql_worker *w)
{
	while (w->nstmts)
		mysql_stmt_close(w->stmts[--w->nstmts].stmt);
}

/* ---- the connection ------------------------------------------------------ */

static void disconnect(struct mysql_worker *w)
{
	stmts_clear(w);
	if (w->db)
		mysql_close(w->db);
	w->db = NULL;
}

static MYSQL *connect_once(struct mysql_worker *w)
{
	const struct dt_target *t = w->e->b->target;
	uint64_t timeout_ns = w->e->ctx->opts->timeout_ns;
	unsigned timeout_s = (unsigned)((timeout_ns + 999999999) / 1000000000);
	unsigned protocol = MYSQL_PROTOCOL_TCP;
	my_bool no = 0;
	MYSQL *db = mysql_init(NULL);

	if (!db) {
		snprintf(w->why, sizeof(w->why), "out of memory");
		return NULL;
	}
	if (!timeout_s)
		timeout_s = 1;
	/* "localhost" would mean the Unix socket to libmariadb */
	mysql_options(db, MYSQL_OPT_PROTOCOL, &protocol);
	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
	mysql_options(db, MYSQL_OPT_LOCAL_INFILE, &no);
	mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(db, t->host, t->user[0] ? t->user : NULL,
			       t->has_password ? t->password : NULL,
			       t->db[0] ? t->db : w->schema, t->port, NULL,
			       w->client_flags))
		return db;
	snprintf(w->why, sizeof(w->why), "cannot connect: %s",
		 mysql_error(db));
	if (mysql_errno(db) == ER_ACCESS_DENIED_ERROR ||
	    mysql_errno(db) == ER_DBACCESS_DENIED_ERROR ||
	    mysql_errno(db) == ER_BAD_DB_ERROR)
		w->ret = -EACCES;
	mysql_close(db);
	return NULL;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull),
			       (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Connects, retrying as --retries allows; on failure w->why says why. */
static bool connect_target(struct mysql_worker *w)
{
	const struct dt_replay_opts *o = w->e->ctx->opts;

	for (unsigned attempt = 0;; attempt++) {
		w->ret = 0;
		w->db = connect_once(w);
		if (w->db)
			break;
		if (w->ret == -EACCES || attempt >= o->retries ||
		    rp_gate_stopped(&w->e->ctx->gate))
			return false;
		sleep_ns(rp_retry_delay(attempt));
	}
	w->ret = 0;
	rp_endpoint_from_fd(mysql_get_socket(w->db), false, &w->client);
	rp_endpoint_from_fd(mysql_get_socket(w->db), true, &w->server);
	w->conn_id = rp_output_conn_id(&w->e->ctx->out);
	rp_target_connected(w->e->b);
	return true;
}

/* ---- requests ------------------------------------------------------------ */

/*
 * Each exec_* replays one request into s. They return 0 when the target
 * answered (with an ERR too), -EIO when libmariadb failed (w->why says
 * why; the connection is unusable), -ENOMEM.
 */
static int db_failed(struct mysql_worker *w, unsigned code, const char *msg,
		     const char *state, struct dt_mysql_summary *s,
		     bool *last_err)
{
	if (rp_mysql_client_error(code)) {
		snprintf(w->why, sizeof(w->why), "%s", msg);
		return -EIO;
	}
	*last_err = true;
	return rp_mysql_add_err(s, code, state, msg);
}

static int db_error(struct mysql_worker *w, struct dt_mysql_summary *s,
		    bool *last_err)
{
	return db_failed(w, mysql_errno(w->db), mysql_error(w->db),
			 mysql_sqlstate(w->db), s, last_err);
}

static int stmt_error(struct mysql_worker *w, MYSQL_STMT *stmt,
		      struct dt_mysql_summary *s, bool *last_err)
{
	return db_failed(w, mysql_stmt_errno(stmt), mysql_stmt_error(stmt),
			 mysql_stmt_sqlstate(stmt), s, last_err);
}

/* One result of a COM_QUERY (of several with multi-statements). */
static int query_result(struct mysql_worker *w, struct dt_mysql_summary *s,
			bool *last_err)
{
	MYSQL_RES *res;
	int ret;

	if (!mysql_field_count(w->db))
		return rp_mysql_add_ok(s, w->db, mysql_affected_rows(w->db),
				       mysql_insert_id(w->db));
	res = mysql_use_result(w->db);
	if (!res)
		return db_error(w, s, last_err);
	ret = rp_mysql_add_text_resultset(s, w->db, res);
	if (ret == -EIO)
		ret = db_error(w, s, last_err);
	mysql_free_result(res);
	return ret;
}

static int exec_query(struct mysql_worker *w, const struct dt_mysql_request *rq,
		      struct dt_mysql_summary *s, bool *last_err)
{
	int ret, more;

	if (mysql_real_query(w->db, rq->sql, rq->sql_len))
		return db_error(w, s, last_err);
	for (;;) {
		ret = query_result(w, s, last_err);
		if (ret || *last_err)
			return ret;
		more = mysql_next_result(w->db);
		if (more < 0)
			return 0;
		if (more > 0)
			return db_error(w, s, last_err);
	}
}

static int exec_simple(struct mysql_worker *w,
		       const struct dt_mysql_request *rq,
		       struct dt_mysql_summary *s, bool *last_err)
{
	const char *stats;
	int rc;

	switch (rq->command) {
	case DT_MYSQL_COM_INIT_DB:
		rc = mysql_select_db(w->db, rq->schema);
		break;
	case DT_MYSQL_COM_PING:
		rc = mysql_ping(w->db);
		break;
	case DT_MYSQL_COM_RESET_CONNECTION:
		/* the server drops the statements with the session */
		rc = mysql_reset_connection(w->db);
		if (!rc)
			stmts_clear(w);
		break;
	default: /* COM_STATISTICS */
		stats = mysql_stat(w->db);
		return stats ? rp_mysql_add_data(s, stats) :
			       db_error(w, s, last_err);
	}
	return rc ? db_error(w, s, last_err) : rp_mysql_add_ok(s, w->db, 0, 0);
}

/* Prepares sql; *out is NULL (and s holds the ERR) when the server
 * refused it. */
static int prepare(struct mysql_worker *w, const struct dt_mysql_request *rq,
		   struct dt_mysql_summary *s, bool *last_err,
		   MYSQL_STMT **out)
{
	MYSQL_STMT *stmt = mysql_stmt_init(w->db);
	int ret;

	*out = NULL;
	if (!stmt)
		return -ENOMEM;
	if (!mysql_stmt_prepare(stmt, rq->sql, rq->sql_len)) {
		*out = stmt;
		return 0;
	}
	ret = stmt_error(w, stmt, s, last_err);
	mysql_stmt_close(stmt);
	return ret;
}

static int exec_prepare(struct mysql_worker *w,
			const struct dt_mysql_summary *rec,
			struct dt_mysql_summary *s, bool *last_err)
{
	MYSQL_STMT *stmt;
	int ret = prepare(w, &rec->request, s, last_err, &stmt);

	if (ret || !stmt)
		return ret;
	ret = rp_mysql_set_prepare(s, stmt);
	/* a statement the recording could not prepare has no id to map */
	if (!ret && rec->response.has_stmt)
		return stmt_remember(w, rec->response.stmt_id, stmt);
	mysql_stmt_close(stmt);
	return ret;
}

/* One result of an executed statement. */
static int stmt_result(struct mysql_worker *w, MYSQL_STMT *stmt,
		       struct dt_mysql_summary *s, bool *last_err)
{
	int ret;

	if (!mysql_stmt_field_count(stmt))
		return rp_mysql_add_ok(s, w->db, mysql_stmt_affected_rows(stmt),
				       mysql_stmt_insert_id(stmt));
	ret = rp_mysql_add_stmt_resultset(s, w->db, stmt);
	return ret == -EIO ? stmt_error(w, stmt, s, last_err) : ret;
}

static int run_stmt(struct mysql_worker *w, MYSQL_STMT *stmt,
		    const struct dt_mysql_request *rq,
		    struct dt_mysql_summary *s, bool *last_err)
{
	struct rp_mysql_params p;
	int ret, more;

	if (mysql_stmt_param_count(stmt) != rq->nparams) {
		snprintf(w->why, sizeof(w->why), "the statement takes %lu "
			 "parameters on the target, %" PRIu32 " were recorded",
			 mysql_stmt_param_count(stmt), rq->nparams);
		return -EINVAL;
	}
	ret = rp_mysql_params_bind(&p, rq);
	if (ret)
		return ret;
	if ((p.n && mysql_stmt_bind_param(stmt, p.binds)) ||
	    mysql_stmt_execute(stmt)) {
		ret = stmt_error(w, stmt, s, last_err);
		goto out;
	}
	for (;;) {
		ret = stmt_result(w, stmt, s, last_err);
		if (ret || *last_err || !mysql_stmt_more_results(stmt))
			break;
		more = mysql_stmt_next_result(stmt);
		if (more < 0)
			break;
		if (more > 0) {
			ret = stmt_error(w, stmt, s, last_err);
			break;
		}
	}
out:
	rp_mysql_params_release(&p);
	return ret;
}

static int exec_execute(struct mysql_worker *w,
			const struct dt_mysql_summary *rec,
			struct dt_mysql_summary *s, bool *last_err)
{
	const struct dt_mysql_request *rq = &rec->request;
	struct stmt_entry *e = stmt_find(w, rq->stmt_id);
	MYSQL_STMT *stmt;
	int ret;

	if (e)
		return run_stmt(w, e->stmt, rq, s, last_err);
	if (!rq->sql) {
		snprintf(w->why, sizeof(w->why), "statement %" PRIu32 " was "
			 "prepared before the recording; its SQL is unknown",
			 rq->stmt_id);
		return -EINVAL;
	}
	ret = prepare(w, rq, s, last_err, &stmt);
	if (ret || !stmt)
		return ret;
	ret = stmt_remember(w, rq->stmt_id, stmt);
	if (ret) {
		mysql_stmt_close(stmt);
		return ret;
	}
	return run_stmt(w, stmt, rq, s, last_err);
}

static int exec_stmt_command(struct mysql_worker *w,
			     const struct dt_mysql_request *rq,
			     struct dt_mysql_summary *s, bool *last_err)
{
	struct stmt_entry *e = stmt_find(w, rq->stmt_id);

	if (rq->command == DT_MYSQL_COM_STMT_CLOSE) {
		/* no response, as recorded */
		stmt_forget(w, rq->stmt_id);
		return 0;
	}
	if (!e) {
		snprintf(w->why, sizeof(w->why), "statement %" PRIu32 " is "
			 "not prepared", rq->stmt_id);
		return -EINVAL;
	}
	if (mysql_stmt_reset(e->stmt))
		return stmt_error(w, e->stmt, s, last_err);
	return rp_mysql_add_ok(s, w->db, 0, 0);
}

static int exec(struct mysql_worker *w, const struct dt_mysql_summary *rec,
		struct dt_mysql_summary *s)
{
	bool last_err = false;
	int ret;

	switch (rec->request.command) {
	case DT_MYSQL_CMD_HANDSHAKE:
		ret = rp_mysql_set_handshake(s, w->db);
		break;
	case DT_MYSQL_COM_QUERY:
		ret = exec_query(w, &rec->request, s, &last_err);
		break;
	case DT_MYSQL_COM_STMT_PREPARE:
		ret = exec_prepare(w, rec, s, &last_err);
		break;
	case DT_MYSQL_COM_STMT_EXECUTE:
		ret = exec_execute(w, rec, s, &last_err);
		break;
	case DT_MYSQL_COM_STMT_CLOSE:
	case DT_MYSQL_COM_STMT_RESET:
		ret = exec_stmt_command(w, &rec->request, s, &last_err);
		break;
	case DT_MYSQL_COM_QUIT:
		disconnect(w);
		ret = 0;
		break;
	default:
		ret = exec_simple(w, &rec->request, s, &last_err);
		break;
	}
	rp_mysql_finish(s, last_err);
	return ret;
}

/* ---- one exchange ---------------------------------------------------------- */

static void emit_answer(struct mysql_worker *w, const struct rp_item *it,
			const struct dt_mysql_summary *s, uint64_t start,
			uint64_t end)
{
	struct dt_exchange x;
	int ret;

	if (rp_exchange_begin(&x, it)) {
		rp_output_emit(&w->e->ctx->out, NULL, RP_ANSWERED);
		return;
	}
	x.conn_id = w->conn_id;
	x.client = w->client;
	x.server = w->server;
	x.req_start_ns = x.req_end_ns = start;
	x.resp_start_ns = x.resp_end_ns = end;
	ret = dt_mysql_summary_to_attrs(s, &x);
	rp_output_emit(&w->e->ctx->out, ret ? NULL : &x, RP_ANSWERED);
	dt_exchange_release(&x);
}

static void emit_failed(struct mysql_worker *w, const struct rp_item *it,
			uint64_t start, const char *prefix)
{
	char text[600];

	snprintf(text, sizeof(text), "%s%s", prefix, w->why);
	rp_emit_failure(w->e->ctx, it, w->db ? &w->client : NULL,
			w->db ? &w->server : NULL, start, text, RP_FAILED);
}

/* Replays one admitted exchange on the (connected) worker; start: when
 * it began, connecting included. */
static void replay_one(struct mysql_worker *w, const struct rp_item *it,
		       uint64_t start)
{
	const struct rp_mysql_op *op = it->op;
	struct dt_mysql_summary *s;
	int ret;

	ret = rp_mysql_summary_new(&s, op->sum->request.command,
				   op->sum->request.command_name);
	if (!ret)
		ret = exec(w, op->sum, s);
	if (!ret) {
		emit_answer(w, it, s, start, rp_realtime());
	} else {
		if (ret == -ENOMEM)
			snprintf(w->why, sizeof(w->why), "out of memory");
		emit_failed(w, it, start, "");
		if (ret == -EIO)
			disconnect(w); /* lost, or out of step */
	}
	dt_mysql_summary_free(s);
}

static void run_item(struct mysql_worker *w, const struct rp_item *it)
{
	const struct rp_mysql_op *op = it->op;
	struct rp_ctx *ctx = w->e->ctx;
	uint64_t start = rp_realtime();

	if (!w->db && op->sum->request.command == DT_MYSQL_COM_QUIT) {
		/* nothing to close: the exchange is done */
		rp_emit_failure(ctx, it, NULL, NULL, 0,
				"not sent: no connection to close", RP_SKIPPED);
		return;
	}
	if (!w->db && !connect_target(w)) {
		rp_target_failed(w->e->b, w->why);
		emit_failed(w, it, 0, "not sent: ");
		return;
	}
	replay_one(w, it, start);
}

static void *worker_main(void *arg)
{
	struct mysql_worker *w = arg;
	struct rp_ctx *ctx = w->e->ctx;
	int ret;

	mysql_thread_init();
	for (size_t i = 0; i < w->rec->n; i++) {
		const struct rp_item *it = w->rec->items[i];

		if (it->skip) {
			rp_emit_failure(ctx, it, NULL, NULL, 0, it->skip,
					RP_SKIPPED);
			continue;
		}
		ret = rp_gate_wait(&ctx->gate, it->due, &w->e->b->state.down);
		if (ret == -EHOSTDOWN) {
			rp_emit_failure(ctx, it, NULL, NULL, 0, RP_NOT_SENT,
					RP_FAILED);
			continue;
		}
		if (ret < 0)
			break;
		run_item(w, it);
		rp_gate_release(&ctx->gate);
	}
	disconnect(w);
	mysql_thread_end();
	return NULL;
}

/* ---- engine --------------------------------------------------------------- */

/* The recorded handshake's schema and the client flags that change what
 * the server answers (found rows, multi-statements). */
static void learn_handshake(struct mysql_worker *w)
{
	const struct rp_mysql_op *op = w->rec->n ? w->rec->items[0]->op : NULL;
	const struct dt_mysql_request *rq;
	unsigned long keep = CLIENT_FOUND_ROWS | CLIENT_IGNORE_SPACE |
			     CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS |
			     CLIENT_PS_MULTI_RESULTS;

	w->client_flags = CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS;
	if (!op || op->sum->request.command != DT_MYSQL_CMD_HANDSHAKE)
		return;
	rq = &op->sum->request;
	w->schema = rq->schema;
	w->client_flags |= (unsigned long)rq->client_caps & keep;
}

static int mysql_prepare(struct rp_ctx *ctx, struct rp_batch *b, void **state)
{
	struct mysql_engine *e = calloc(1, sizeof(*e));
	int ret;

	*state = e;
	if (!e)
		return -ENOMEM;
	e->ctx = ctx;
	e->b = b;
	e->n = b->nconns;
	e->w = calloc(e->n, sizeof(*e->w));
	if (!e->w)
		return -ENOMEM;
	ret = rp_mysql_plan(b);
	for (size_t i = 0; !ret && i < e->n; i++) {
		e->w[i].e = e;
		e->w[i].rec = &b->conns[i];
		learn_handshake(&e->w[i]);
	}
	return ret;
}

static int mysql_run(void *state)
{
	struct mysql_engine *e = state;
	int ret = 0;

	for (size_t i = 0; !ret && i < e->n; i++) {
		ret = -pthread_create(&e->w[i].thread, NULL, worker_main,
				      &e->w[i]);
		e->w[i].started = !ret;
	}
	if (ret)
		rp_gate_stop(&e->ctx->gate);
	for (size_t i = 0; i < e->n; i++)
		if (e->w[i].started)
			pthread_join(e->w[i].thread, NULL);
	return ret;
}

static void mysql_release(void *state)
{
	struct mysql_engine *e = state;

	if (!e)
		return;
	for (size_t i = 0; e->w && i < e->n; i++)
		free(e->w[i].stmts);
	rp_mysql_plan_release(e->b);
	free(e->w);
	free(e);
}

const struct rp_engine_ops rp_mysql_engine = {
	.prepare = mysql_prepare,
	.run = mysql_run,
	.release = mysql_release,
}; 
