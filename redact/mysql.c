// SPDX-License-Identifier: MIT
/*
 * MySQL redaction of the client bytes of an exchange:
 * - authentication data of the handshake response, COM_CHANGE_USER and
 *   the authentication packets after them (auth switch responses,
 *   cleartext passwords). The formats codec knows where they are:
 *   dt_mysql_redact_auth() zeroes them in a scratch copy, and the bytes
 *   it changed (with any zero bytes between them in the same packet,
 *   since it zeroes one range per packet) are starred in the exchange;
 * - password literals in the SQL of COM_QUERY and COM_STMT_PREPARE (see
 *   sql.c), across the packets of a statement longer than 16 MiB, and in
 *   the request.sql attribute, which holds the same SQL.
 * Masking keeps every packet length.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redact/redact_int.h"

#define PACKET_HEADER 4
#define PACKET_MAX_PAYLOAD 0xffffffu

struct mysql_packet {
	size_t off;     /* payload offset in the buffer */
	size_t len;     /* payload bytes present (cut at the buffer's end) */
	size_t declared;
};

/* The packet at *pos, advancing *pos past it; false at the end. */
static bool next_packet(const uint8_t *buf, size_t len, size_t *pos,
			struct mysql_packet *p)
{
	if (len - *pos < PACKET_HEADER)
		return false;
	p->declared = (size_t)buf[*pos] | (size_t)buf[*pos + 1] << 8 |
		      (size_t)buf[*pos + 2] << 16;
	p->off = *pos + PACKET_HEADER;
	p->len = len - p->off < p->declared ? len - p->off : p->declared;
	*pos = p->off + p->len;
	return true;
}

/* Stars, packet by packet, the range where scratch differs from buf. */
static void mask_changed(struct dt_redact_ctx *c, uint8_t *buf,
			 const uint8_t *scratch, size_t len)
{
	struct mysql_packet p;
	size_t pos = 0;

	while (next_packet(buf, len, &pos, &p)) {
		size_t first = p.off + p.len, last = 0;

		for (size_t i = p.off; i < p.off + p.len; i++)
			if (buf[i] != scratch[i]) {
				if (first > i)
					first = i;
				last = i;
			}
		if (first <= last)
			dt_redact_span(c, buf + first, last + 1 - first);
	}
}

/* What dt_mysql_redact_auth() takes for an authentication (a first
 * packet with sequence id 1, or COM_CHANGE_USER): checked first to spare
 * every query a copy. */
static bool is_auth(const uint8_t *buf, size_t len)
{
	return len > PACKET_HEADER &&
	       (buf[3] == 1 ||
		(buf[3] == 0 && buf[4] == DT_MYSQL_COM_CHANGE_USER));
}

static void redact_auth(struct dt_redact_ctx *c)
{
	struct dt_exchange *x = c->x;
	uint8_t *scratch;

	if (!is_auth(x->request, x->request_len))
		return;
	scratch = malloc(x->request_len);
	if (!scratch) {
		c->err = -ENOMEM;
		return;
	}
	memcpy(scratch, x->request, x->request_len);
	if (dt_mysql_redact_auth(scratch, x->request_len))
		mask_changed(c, x->request, scratch, x->request_len);
	free(scratch);
}

struct sql_hit {
	struct dt_redact_ctx *c;
	const struct dt_redact_view *v;
	uint8_t *text;   /* NULL: mask through v */
};

static void on_literal(void *arg, size_t off, size_t len)
{
	struct sql_hit *h = arg;

	if (!h->text) {
		dt_redact_view_mask(h->c, h->v, off, len, true);
		return;
	}
	dt_redact_remember(h->c, h->text + off, len);
	if (dt_redact_fill(h->text + off, len))
		h->c->spans++;
}

/* The SQL of a COM_QUERY or COM_STMT_PREPARE: the first packet after its
 * command byte, and the packets continuing it (a full packet is always
 * followed by one). */
static int gather_sql(struct dt_redact_view *v, const uint8_t *buf,
		      size_t len)
{
	struct mysql_packet p;
	size_t pos = 0;

	if (!next_packet(buf, len, &pos, &p) || buf[3] != 0 || !p.len ||
	    (buf[p.off] != DT_MYSQL_COM_QUERY &&
	     buf[p.off] != DT_MYSQL_COM_STMT_PREPARE))
		return 0;
	if (dt_redact_view_add(v, p.off + 1, p.len - 1))
		return -ENOMEM;
	while (p.declared == PACKET_MAX_PAYLOAD &&
	       next_packet(buf, len, &pos, &p))
		if (dt_redact_view_add(v, p.off, p.len))
			return -ENOMEM;
	return 0;
}

static void redact_sql(struct dt_redact_ctx *c)
{
	struct dt_exchange *x = c->x;
	struct dt_redact_view v;
	struct sql_hit hit = { .c = c, .v = &v };

	dt_redact_view_init(&v, x->request);
	if (gather_sql(&v, x->request, x->request_len))
		c->err = -ENOMEM;
	else if (v.len)
		dt_redact_sql_scan(v.text, v.len, on_literal, &hit);
	dt_redact_view_release(&v);
}

static void redact_sql_attr(struct dt_redact_ctx *c)
{
	struct dt_exchange *x = c->x;
	struct sql_hit hit = { .c = c };

	for (size_t i = 0; i < x->nattrs; i++) {
		if (!x->attrs[i].value || !x->attrs[i].key ||
		    strcmp(x->attrs[i].key, "request.sql"))
			continue;
		hit.text = (uint8_t *)x->attrs[i].value;
		dt_redact_sql_scan(hit.text, strlen(x->attrs[i].value),
				   on_literal, &hit);
	}
}

void dt_redact_mysql(struct dt_redact_ctx *c)
{
	redact_auth(c);
	redact_sql(c);
	redact_sql_attr(c);
}
