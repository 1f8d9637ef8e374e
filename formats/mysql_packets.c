// SPDX-License-Identifier: MIT
/*
 * Decoders of single MySQL packets into summary structs: the greeting, the
 * handshake response and COM_CHANGE_USER (walked by the redaction code
 * too), OK, ERR, EOF, column definitions and rows.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

/* Capability bit 0: set by MySQL, clear when MariaDB puts its extended
 * capabilities in the reserved bytes of the greeting and the handshake
 * response. */
#define CAPS_MYSQL 1ull

static int set_str(char **dst, const uint8_t *p, size_t n, size_t max)
{
	char *s = dt_mysql_strndup(p, n, max);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int dt_mysql_parse_greeting(const uint8_t *p, size_t len,
			    struct dt_mysql_response *out, uint64_t *caps)
{
	struct mysql_cur cur = mysql_cur_make(p, len);
	const uint8_t *version, *plugin = NULL;
	size_t version_len, plugin_len = 0;
	uint8_t auth_len;
	uint64_t c;

	if (mysql_cur_u8(&cur) != 10)
		return -EBADMSG;
	mysql_cur_nul_str(&cur, &version, &version_len);
	out->connection_id = mysql_cur_u32(&cur);
	mysql_cur_take(&cur, 9);   /* scramble part 1, filler */
	c = mysql_cur_u16(&cur);
	if (cur.bad)
		return -EBADMSG;
	if (mysql_cur_left(&cur)) {
		mysql_cur_take(&cur, 3);   /* charset, status */
		c |= (uint64_t)mysql_cur_u16(&cur) << 16;
		auth_len = mysql_cur_u8(&cur);
		mysql_cur_take(&cur, 6);
		if (c & CAPS_MYSQL)
			mysql_cur_take(&cur, 4);
		else
			c |= (uint64_t)mysql_cur_u32(&cur) << 32;
		/* scramble part 2: max(13, auth_len - 8) */
		if (c & DT_MYSQL_CLIENT_SECURE_CONNECTION)
			mysql_cur_take(&cur, auth_len > 21 ? auth_len - 8u
							   : 13);
		if (c & DT_MYSQL_CLIENT_PLUGIN_AUTH)
			mysql_cur_eof_str(&cur, &plugin, &plugin_len);
	}
	*caps = c;
	out->server_caps = c;
	if (set_str(&out->server_version, version, version_len, MYSQL_STR_MAX))
		return -ENOMEM;
	if (!cur.bad && plugin &&
	    set_str(&out->auth_plugin, plugin, plugin_len, MYSQL_STR_MAX))
		return -ENOMEM;
	return 0;
}

int dt_mysql_scan_handshake_response(const uint8_t *p, size_t len,
				     struct mysql_hs_response *h)
{
	struct mysql_cur cur = mysql_cur_make(p, len);
	uint64_t caps;

	memset(h, 0, sizeof(*h));
	caps = mysql_cur_u16(&cur);
	if (cur.bad)
		return -EBADMSG;
	if (!(caps & DT_MYSQL_CLIENT_PROTOCOL_41)) {
		/* protocol 320: caps(2) max_packet(3) user auth */
		h->caps = caps;
		mysql_cur_take(&cur, 3);
		mysql_cur_nul_str(&cur, &h->user, &h->user_len);
		h->auth_off = cur.pos;
		h->auth_len = mysql_cur_left(&cur);
		return cur.bad ? -EBADMSG : 0;
	}
	caps |= (uint64_t)mysql_cur_u16(&cur) << 16;
	mysql_cur_take(&cur, 4 + 1 + 19);   /* max packet, charset, filler */
	if (caps & CAPS_MYSQL)
		mysql_cur_take(&cur, 4);
	else
		caps |= (uint64_t)mysql_cur_u32(&cur) << 32;
	h->caps = caps;
	if (cur.bad)
		return -EBADMSG;
	if (!mysql_cur_left(&cur)) {
		h->ssl_request = true;
		return 0;
	}
	mysql_cur_nul_str(&cur, &h->user, &h->user_len);
	if (caps & DT_MYSQL_CLIENT_PLUGIN_AUTH_LENENC) {
		h->auth_len = (size_t)mysql_cur_lenenc(&cur);
	} else if (caps & DT_MYSQL_CLIENT_SECURE_CONNECTION) {
		h->auth_len = mysql_cur_u8(&cur);
	} else {
		const uint8_t *a;
		size_t n;

		h->auth_off = cur.pos;
		mysql_cur_nul_str(&cur, &a, &n);
		h->auth_len = n;
		goto rest;
	}
	h->auth_off = cur.pos;
	mysql_cur_take(&cur, h->auth_len);
rest:
	if (cur.bad)
		return -EBADMSG;
	if ((caps & DT_MYSQL_CLIENT_CONNECT_WITH_DB) && mysql_cur_left(&cur))
		mysql_cur_nul_str(&cur, &h->db, &h->db_len);
	if ((caps & DT_MYSQL_CLIENT_PLUGIN_AUTH) && mysql_cur_left(&cur))
		mysql_cur_nul_str(&cur, &h->plugin, &h->plugin_len);
	/* the fields after the credentials are optional: keep what parsed */
	if (cur.bad)
		h->db = h->plugin = NULL;
	return 0;
}

int dt_mysql_scan_change_user(const uint8_t *p, size_t len,
			      struct mysql_hs_response *h)
{
	struct mysql_cur cur = mysql_cur_make(p, len);

	memset(h, 0, sizeof(*h));
	if (mysql_cur_u8(&cur) != DT_MYSQL_COM_CHANGE_USER)
		return -EBADMSG;
	mysql_cur_nul_str(&cur, &h->user, &h->user_len);
	/* every 4.1+ client sends a length-prefixed auth response here */
	h->auth_len = mysql_cur_u8(&cur);
	h->auth_off = cur.pos;
	mysql_cur_take(&cur, h->auth_len);
	if (cur.bad)
		return -EBADMSG;
	if (mysql_cur_left(&cur))
		mysql_cur_nul_str(&cur, &h->db, &h->db_len);
	if (cur.bad)
		h->db = NULL;
	return 0;
}

int dt_mysql_parse_ok(const struct dt_mysql_conn *c, const uint8_t *p,
		      size_t len, struct dt_mysql_result *out)
{
	struct mysql_cur cur = mysql_cur_make(p, len);
	struct mysql_cur probe;
	const uint8_t *info = NULL;
	size_t info_len = 0;

	mysql_cur_u8(&cur);
	out->affected_rows = mysql_cur_lenenc(&cur);
	out->last_insert_id = mysql_cur_lenenc(&cur);
	out->status = mysql_cur_u16(&cur);
	out->warnings = mysql_cur_u16(&cur);
	if (cur.bad)
		return -EBADMSG;
	/* With CLIENT_SESSION_TRACK the message is length-encoded (state
	 * changes follow it); without, it runs to the end. Unknown caps:
	 * length-encoded when that fits. */
	probe = cur;
	if (!c->caps_known || (c->caps & DT_MYSQL_CLIENT_SESSION_TRACK))
		mysql_cur_lenenc_str(&probe, &info, &info_len);
	if (!info || probe.bad) {
		if (c->caps_known && (c->caps & DT_MYSQL_CLIENT_SESSION_TRACK))
			return 0;
		mysql_cur_eof_str(&cur, &info, &info_len);
	}
	if (info_len && set_str(&out->info, info, info_len, MYSQL_STR_MAX))
		return -ENOMEM;
	return 0;
}

int dt_mysql_parse_err(const uint8_t *p, size_t len,
		       struct dt_mysql_result *out)
{
	struct mysql_cur cur = mysql_cur_make(p, len);
	const uint8_t *state, *msg;
	size_t msg_len;
	uint8_t b;

	mysql_cur_u8(&cur);
	out->error_code = mysql_cur_u16(&cur);
	if (cur.bad)
		return -EBADMSG;
	if (mysql_cur_peek(&cur, &b) && b == '#') {
		mysql_cur_take(&cur, 1);
		state = mysql_cur_take(&cur, 5);
		if (!state)
			return -EBADMSG;
		memcpy(out->sql_state, state, 5);
		out->sql_state[5] = '\0';
	}
	mysql_cur_eof_str(&cur, &msg, &msg_len);
	return set_str(&out->message, msg, msg_len, MYSQL_STR_MAX);
}

void dt_mysql_parse_eof(const uint8_t *p, size_t len,
			struct dt_mysql_result *out)
{
	struct mysql_cur cur = mysql_cur_make(p, len);

	mysql_cur_u8(&cur);
	out->warnings = mysql_cur_u16(&cur);
	out->status = mysql_cur_u16(&cur);
	if (cur.bad)
		out->warnings = out->status = 0;
}

/* Length of the fixed fields at the end of a column definition. */
#define COLUMN_FIXED_LEN 0x0c

int dt_mysql_parse_column(const struct dt_mysql_conn *c, const uint8_t *p,
			  size_t len, struct dt_mysql_column *out)
{
	struct mysql_cur cur = mysql_cur_make(p, len);
	const uint8_t *s[6];
	size_t n[6], i, saved;
	uint64_t fixed;
	bool ext = c->caps_known &&
		   (c->caps & DT_MYSQL_MARIADB_CLIENT_EXTENDED_METADATA);

	for (i = 0; i < 6; i++)   /* catalog schema table org_table name
				     org_name */
		mysql_cur_lenenc_str(&cur, &s[i], &n[i]);
	saved = cur.pos;
	if (ext)
		mysql_cur_lenenc_str(&cur, &s[0], &n[0]);
	fixed = mysql_cur_lenenc(&cur);
	if (!c->caps_known && fixed != COLUMN_FIXED_LEN && !cur.bad) {
		/* MariaDB's extended metadata string, caps unknown */
		cur.pos = saved;
		mysql_cur_lenenc_str(&cur, &s[0], &n[0]);
		fixed = mysql_cur_lenenc(&cur);
	}
	if (fixed != COLUMN_FIXED_LEN || mysql_cur_left(&cur) < 10)
		return -EBADMSG;
	if (!out)
		return 0;
	out->charset = mysql_cur_u16(&cur);
	out->length = mysql_cur_u32(&cur);
	out->type = mysql_cur_u8(&cur);
	out->flags = mysql_cur_u16(&cur);
	out->decimals = mysql_cur_u8(&cur);
	if (set_str(&out->schema, s[1], n[1], MYSQL_NAME_MAX) ||
	    set_str(&out->table, s[2], n[2], MYSQL_NAME_MAX) ||
	    set_str(&out->name, s[4], n[4], MYSQL_NAME_MAX))
		return -ENOMEM;
	return 0;
}

/* Marks the values from i on as not decodable (prefix of a huge row,
 * malformed row). */
static void values_cut(struct dt_mysql_value *v, size_t i, size_t n)
{
	for (; i < n; i++)
		v[i].truncated = true;
}

static int text_row(struct mysql_cur *cur, size_t max,
		    struct dt_mysql_value *v, size_t n)
{
	size_t i;
	uint8_t b;
	int ret;

	for (i = 0; i < n; i++) {
		if (mysql_cur_peek(cur, &b) && b == MYSQL_LENENC_NULL) {
			mysql_cur_take(cur, 1);
			v[i].is_null = true;
			continue;
		}
		ret = dt_mysql_read_string_value(cur, max, &v[i]);
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			break;
	}
	values_cut(v, i, n);
	return 0;
}

static int binary_row(struct mysql_cur *cur, size_t max,
		      const struct dt_mysql_column *cols,
		      struct dt_mysql_value *v, size_t n)
{
	const uint8_t *nulls;
	size_t i = 0;
	int ret;

	mysql_cur_u8(cur);
	nulls = mysql_cur_take(cur, (n + 9) / 8);
	for (; nulls && i < n; i++) {
		/* the bitmap of a row starts at bit 2 */
		if (nulls[(i + 2) / 8] & (1u << ((i + 2) % 8))) {
			v[i].type = cols[i].type;
			v[i].is_null = true;
			continue;
		}
		ret = dt_mysql_read_binary_value(
			cur, cols[i].type,
			cols[i].flags & DT_MYSQL_FLAG_UNSIGNED, max, &v[i]);
		if (ret == -ENOMEM)
			return ret;
		if (ret)
			break;
	}
	values_cut(v, i, n);
	return 0;
}

static bool row_fits_preview(const struct dt_mysql_conn *c,
			     const struct dt_mysql_result *res)
{
	return res->ncolumns && res->nrows_kept < c->opts.max_rows &&
	       (res->nrows_kept + 1) * res->ncolumns <=
		       MYSQL_PREVIEW_VALUES_MAX;
}

int dt_mysql_parse_row(const struct dt_mysql_conn *c,
		       struct dt_mysql_result *res,
		       const struct mysql_payload *pl)
{
	struct mysql_cur cur = mysql_cur_make(pl->data, pl->len);
	struct dt_mysql_value *grown, *row;
	size_t n, i;

	cur.cut = pl->len < pl->total;
	res->nrows++;
	if (!row_fits_preview(c, res))
		return 0;
	n = res->ncolumns;
	grown = realloc(res->rows, (res->nrows_kept + 1) * n * sizeof(*row));
	if (!grown)
		return -ENOMEM;
	res->rows = grown;
	row = grown + res->nrows_kept * n;
	memset(row, 0, n * sizeof(*row));
	res->nrows_kept++;
	for (i = 0; i < n; i++) {
		row[i].type = res->columns[i].type;
		row[i].is_unsigned =
			res->columns[i].flags & DT_MYSQL_FLAG_UNSIGNED;
	}
	if (res->binary)
		return binary_row(&cur, c->opts.max_value, res->columns, row,
				  n);
	return text_row(&cur, c->opts.max_value, row, n);
}
