// SPDX-License-Identifier: MIT
/*
 * Client commands into request summaries, and their effect on the
 * connection's prepared statements: COM_STMT_EXECUTE parameters decode
 * with the statement's parameter count and the types of the last execute
 * that bound them; COM_STMT_SEND_LONG_DATA marks a parameter whose value
 * the next execute leaves out; COM_STMT_CLOSE forgets the statement.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

/* COM_STMT_EXECUTE flag (MySQL 8 query attributes): a parameter count
 * precedes the parameters. */
#define EXEC_PARAMETER_COUNT_AVAILABLE 0x08
/* Flag byte of a parameter type: the integer is unsigned. */
#define PARAM_UNSIGNED 0x80
/* Parameter counts tried when an execute's statement was prepared before
 * the recording started. */
#define INFER_PARAMS_MAX 64

bool dt_mysql_command_expects_response(unsigned cmd)
{
	return cmd != DT_MYSQL_COM_QUIT &&
	       cmd != DT_MYSQL_COM_STMT_SEND_LONG_DATA &&
	       cmd != DT_MYSQL_COM_STMT_CLOSE;
}

static int set_sql(struct dt_mysql_conn *c, struct dt_mysql_request *rq,
		   const uint8_t *p, size_t n, bool cut)
{
	size_t max = c->opts.max_sql;

	rq->sql = dt_mysql_strndup(p, n, max);
	if (!rq->sql)
		return -ENOMEM;
	rq->sql_len = n < max ? n : max;
	rq->sql_truncated = cut || n > max;
	return 0;
}

static int set_arg(char **dst, const uint8_t *p, size_t n)
{
	*dst = dt_mysql_strndup(p, n, MYSQL_STR_MAX);
	return *dst ? 0 : -ENOMEM;
}

static int set_number_arg(char **dst, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	return set_arg(dst, (const uint8_t *)buf, (size_t)n);
}

/* The statement's SQL (and id) on a statement command. */
static int use_stmt(struct dt_mysql_conn *c, struct dt_mysql_request *rq,
		    uint32_t id, struct mysql_stmt **out)
{
	struct mysql_stmt *s = dt_mysql_stmt_find(c, id);

	rq->has_stmt = true;
	rq->stmt_id = s ? s->id : id;
	*out = s;
	if (!s || !s->sql)
		return 0;
	return set_sql(c, rq, (const uint8_t *)s->sql, s->sql_len,
		       s->sql_truncated);
}

/*
 * Parameter values after the parameter count: null bitmap, "new params
 * bound" flag, types (with names for query attributes), values. Types not
 * bound here come from the statement. Leaves params_decoded false when
 * the types are unknown.
 */
struct param_types {
	const uint8_t *pairs;   /* count (type, flags) pairs */
	uint8_t *owned;         /* when copied out of a named list */
	bool bound;
};

static int read_param_types(struct mysql_cur *cur, uint32_t count,
			    bool named, struct param_types *t)
{
	uint32_t i;

	t->bound = mysql_cur_u8(cur) == 1;
	if (!t->bound || cur->bad)
		return 0;
	if (!named) {
		t->pairs = mysql_cur_take(cur, 2u * count);
		return 0;
	}
	if (2u * count > mysql_cur_left(cur)) {
		cur->bad = true;
		return 0;
	}
	t->owned = malloc(2u * count);
	if (!t->owned)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		const uint8_t *name;
		size_t name_len;

		t->owned[2 * i] = mysql_cur_u8(cur);
		t->owned[2 * i + 1] = mysql_cur_u8(cur);
		mysql_cur_lenenc_str(cur, &name, &name_len);
	}
	t->pairs = t->owned;
	return 0;
}

static int read_param_values(struct dt_mysql_conn *c,
			     struct dt_mysql_request *rq,
			     struct mysql_cur *cur, uint32_t count,
			     const uint8_t *nulls, const uint8_t *types,
			     const struct mysql_stmt *s)
{
	size_t kept = count < c->opts.max_params ? count : c->opts.max_params;
	uint32_t i;
	int ret;

	rq->params = calloc(kept ? kept : 1, sizeof(*rq->params));
	if (!rq->params)
		return -ENOMEM;
	rq->nparams_kept = kept;
	for (i = 0; i < count; i++) {
		struct dt_mysql_value *v = i < kept ? &rq->params[i] : NULL;
		struct dt_mysql_value skip = { 0 };
		uint8_t type = types[2 * i];
		bool uns = types[2 * i + 1] & PARAM_UNSIGNED;

		if (!v)
			v = &skip;
		v->type = type;
		v->is_unsigned = uns;
		/* the server takes long data over the null bit, which
		 * libmariadb sets for such parameters */
		if (s && dt_mysql_stmt_has_long_data(s, i)) {
			v->long_data = true;
		} else if (nulls[i / 8] & (1u << (i % 8))) {
			v->is_null = true;
		} else {
			ret = dt_mysql_read_binary_value(
				cur, type, uns, c->opts.max_value,
				v == &skip ? NULL : v);
			if (ret == -ENOMEM)
				return ret;
			if (ret) {
				for (; i < kept; i++)
					rq->params[i].truncated = true;
				return 0;
			}
		}
	}
	rq->params_decoded = true;
	return 0;
}

static int decode_params(struct dt_mysql_conn *c, struct dt_mysql_request *rq,
			 struct mysql_cur *cur, uint32_t count, bool named,
			 struct mysql_stmt *s)
{
	struct param_types t = { 0 };
	const uint8_t *nulls;
	int ret;

	rq->nparams = count;
	if (!count) {
		rq->params_decoded = true;
		return 0;
	}
	nulls = mysql_cur_take(cur, (count + 7u) / 8);
	ret = read_param_types(cur, count, named, &t);
	if (ret)
		return ret;
	if (!t.bound && s && s->types && s->nparams == count)
		t.pairs = s->types;
	if (!cur->bad && t.pairs) {
		ret = 0;
		if (t.bound && s && s->nparams == count)
			ret = dt_mysql_stmt_set_types(c, s, t.pairs);
		if (!ret)
			ret = read_param_values(c, rq, cur, count, nulls,
						t.pairs, s);
	}
	free(t.owned);
	return ret;
}

/* Whether count parameters with bound types account for exactly the rest
 * of the packet. */
static bool params_fit(struct mysql_cur cur, uint32_t count)
{
	const uint8_t *nulls = mysql_cur_take(&cur, (count + 7u) / 8);
	const uint8_t *types;
	uint32_t i;

	if (mysql_cur_u8(&cur) != 1)
		return false;
	types = mysql_cur_take(&cur, 2u * count);
	for (i = 0; types && i < count; i++) {
		if (!dt_mysql_type_is_known(types[2 * i]) ||
		    (types[2 * i + 1] & ~PARAM_UNSIGNED))
			return false;
		if (nulls[i / 8] & (1u << (i % 8)))
			continue;
		if (dt_mysql_read_binary_value(&cur, types[2 * i],
					       false, 0, NULL))
			return false;
	}
	return !cur.bad && !mysql_cur_left(&cur);
}

/* A statement prepared before the recording started: infers its
 * parameter count from an execute that binds types, and remembers it. */
static struct mysql_stmt *infer_stmt(struct dt_mysql_conn *c, uint32_t id,
				     const struct mysql_cur *cur)
{
	uint32_t n;

	if (id == 0xffffffffu)
		return NULL;
	for (n = 1; n <= INFER_PARAMS_MAX; n++)
		if (params_fit(*cur, n))
			return dt_mysql_stmt_add(c, id, NULL, 0, false,
						 (uint16_t)n);
	return NULL;
}

/* MySQL 8 query attributes: named parameters on COM_QUERY and
 * COM_STMT_EXECUTE. */
static bool query_attributes(const struct dt_mysql_conn *c)
{
	return c->caps_known && (c->caps & DT_MYSQL_CLIENT_QUERY_ATTRIBUTES);
}

static int parse_execute(struct dt_mysql_conn *c, struct dt_mysql_request *rq,
			 const struct mysql_payload *pl)
{
	struct mysql_cur cur = mysql_cur_make(pl->data, pl->len);
	struct mysql_stmt *s;
	uint32_t id, count;
	int ret;

	cur.cut = pl->len < pl->total;
	mysql_cur_u8(&cur);
	id = mysql_cur_u32(&cur);
	rq->exec_flags = mysql_cur_u8(&cur);
	mysql_cur_u32(&cur);   /* iteration count, always 1 */
	if (cur.bad)
		return 0;
	ret = use_stmt(c, rq, id, &s);
	if (ret)
		return ret;
	if (!s && pl->len == pl->total) {
		s = infer_stmt(c, id, &cur);
		if (!s && !mysql_cur_left(&cur))
			rq->params_decoded = true;   /* no parameters */
		if (!s)
			return 0;
	}
	if (!s)
		return 0;
	count = s->nparams;
	if (query_attributes(c) &&
	    (rq->exec_flags & EXEC_PARAMETER_COUNT_AVAILABLE))
		count = (uint32_t)mysql_cur_lenenc(&cur);
	if (cur.bad || count > DT_MYSQL_MAX_PARAMS)
		return 0;
	ret = decode_params(c, rq, &cur, count, query_attributes(c), s);
	dt_mysql_stmt_reset_long_data(s);
	return ret;
}

/* COM_QUERY: with query attributes (MySQL 8), a parameter count, a
 * parameter set count and the attributes precede the SQL. Caps unknown:
 * the common "no attributes" prefix 00 01 is recognised. */
static int parse_query(struct dt_mysql_conn *c, struct dt_mysql_request *rq,
		       const struct mysql_payload *pl)
{
	struct mysql_cur cur = mysql_cur_make(pl->data + 1, pl->len - 1);
	bool cut = pl->len < pl->total;

	cur.cut = cut;
	if (query_attributes(c)) {
		uint64_t count = mysql_cur_lenenc(&cur);
		int ret;

		mysql_cur_lenenc(&cur);   /* parameter set count: 1 */
		if (cur.bad || count > DT_MYSQL_MAX_PARAMS)
			return set_sql(c, rq, pl->data + 1, pl->len - 1, cut);
		ret = decode_params(c, rq, &cur, (uint32_t)count, true, NULL);
		if (ret)
			return ret;
		if (cur.bad)
			return 0;
	} else if (!c->caps_known && pl->len >= 3 && pl->data[1] == 0 &&
		   pl->data[2] == 1) {
		mysql_cur_take(&cur, 2);
	}
	return set_sql(c, rq, cur.p + cur.pos, mysql_cur_left(&cur), cut);
}

static int parse_change_user(struct dt_mysql_request *rq,
			     const struct mysql_payload *pl)
{
	struct mysql_hs_response h;

	rq->has_auth = true;
	if (dt_mysql_scan_change_user(pl->data, pl->len, &h))
		return 0;
	if (set_arg(&rq->user, h.user, h.user_len))
		return -ENOMEM;
	if (h.db && set_arg(&rq->schema, h.db, h.db_len))
		return -ENOMEM;
	return 0;
}

static int parse_stmt_command(struct dt_mysql_conn *c,
			      struct dt_mysql_request *rq,
			      const struct mysql_payload *pl)
{
	struct mysql_cur cur = mysql_cur_make(pl->data + 1, pl->len - 1);
	uint32_t id = mysql_cur_u32(&cur);
	struct mysql_stmt *s;
	int ret;

	if (cur.bad)
		return 0;
	ret = use_stmt(c, rq, id, &s);
	if (ret)
		return ret;
	switch (rq->command) {
	case DT_MYSQL_COM_STMT_CLOSE:
		dt_mysql_stmt_remove(c, id);
		return 0;
	case DT_MYSQL_COM_STMT_RESET:
		if (s)
			dt_mysql_stmt_reset_long_data(s);
		return 0;
	case DT_MYSQL_COM_STMT_SEND_LONG_DATA:
		rq->param_id = mysql_cur_u16(&cur);
		if (!s || cur.bad)
			return 0;
		return dt_mysql_stmt_mark_long_data(c, s, rq->param_id);
	case DT_MYSQL_COM_STMT_FETCH:
		return set_number_arg(&rq->arg, mysql_cur_u32(&cur));
	default:
		return 0;
	}
}

int dt_mysql_request_parse(struct dt_mysql_conn *c, struct mysql_request *r,
			   const struct mysql_payload *pl)
{
	struct dt_mysql_request *rq = &r->sum->request;
	const uint8_t *arg = pl->data + 1;
	size_t arg_len = pl->len - 1;
	bool cut = pl->len < pl->total;

	r->no_response = !dt_mysql_command_expects_response(r->cmd);
	r->resp_seq = (uint8_t)(pl->last_seq + 1);
	rq->payload_len = pl->total;
	switch (r->cmd) {
	case DT_MYSQL_COM_QUERY:
		return parse_query(c, rq, pl);
	case DT_MYSQL_COM_STMT_PREPARE:
		return set_sql(c, rq, arg, arg_len, cut);
	case DT_MYSQL_COM_INIT_DB:
		return set_arg(&rq->schema, arg, arg_len);
	case DT_MYSQL_COM_FIELD_LIST:
		arg_len = strnlen((const char *)arg, arg_len);
		return set_arg(&rq->arg, arg, arg_len);
	case DT_MYSQL_COM_PROCESS_KILL:
		return arg_len >= 4 ? set_number_arg(&rq->arg, mysql_le(arg, 4))
				    : 0;
	case DT_MYSQL_COM_SET_OPTION:
		return arg_len >= 2 ? set_number_arg(&rq->arg, mysql_le(arg, 2))
				    : 0;
	case DT_MYSQL_COM_CHANGE_USER:
		return parse_change_user(rq, pl);
	case DT_MYSQL_COM_STMT_EXECUTE:
		return parse_execute(c, rq, pl);
	case DT_MYSQL_COM_STMT_SEND_LONG_DATA:
	case DT_MYSQL_COM_STMT_CLOSE:
	case DT_MYSQL_COM_STMT_RESET:
	case DT_MYSQL_COM_STMT_FETCH:
		return parse_stmt_command(c, rq, pl);
	default:
		return 0;
	}
}

/* The first client packet of a handshake: the handshake response, or the
 * SSL request that starts TLS. */
static int parse_handshake_response(struct dt_mysql_conn *c,
				    struct mysql_request *r,
				    const struct mysql_payload *pl)
{
	struct dt_mysql_request *rq = &r->sum->request;
	struct mysql_hs_response h;

	rq->has_auth = true;
	if (dt_mysql_scan_handshake_response(pl->data, pl->len, &h))
		return dt_mysql_malformed(c, DT_MYSQL_CLIENT);
	rq->client_caps = h.caps;
	if (h.ssl_request || (h.caps & DT_MYSQL_CLIENT_SSL))
		return dt_mysql_set_unsupported(c, "tls");
	if (!(h.caps & DT_MYSQL_CLIENT_PROTOCOL_41))
		return dt_mysql_set_unsupported(c, "protocol-320");
	if (set_arg(&rq->user, h.user, h.user_len))
		return -ENOMEM;
	if (h.db && set_arg(&rq->schema, h.db, h.db_len))
		return -ENOMEM;
	c->caps = h.caps & c->server_caps;
	c->caps_known = true;
	c->deprecate_eof = (c->caps & DT_MYSQL_CLIENT_DEPRECATE_EOF) ? 1 : 0;
	return 0;
}

int dt_mysql_request_continue(struct dt_mysql_conn *c,
			      struct mysql_request *r,
			      const struct mysql_payload *pl)
{
	if (!r->has_bytes) {
		r->has_bytes = true;
		r->start = pl->start;
	}
	r->end = pl->end;
	if (c->resp.client_packets++ == 0 && r->cmd == DT_MYSQL_CMD_HANDSHAKE)
		return parse_handshake_response(c, r, pl);
	return 0;
}
