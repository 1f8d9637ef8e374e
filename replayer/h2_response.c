// SPDX-License-Identifier: MIT
/*
 * An HTTP/2 response received through libcurl, stored as the recorder
 * stores one (deetune-session(5)) so that diff compares like with like.
 *
 * libcurl hands every header block to the header callback as HTTP/1-style
 * lines: "HTTP/2 200" and field lines ending with a blank line, interim
 * (1xx) blocks included, and the trailers, which come after the body, as
 * more field lines. What follows the final block's blank line is
 * therefore the trailers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replayer/replayer_int.h"

enum block_state {
	BEFORE_STATUS,	/* a status line starts the next block */
	INTERIM,	/* inside a 1xx block: dropped */
	HEAD,		/* inside the final block */
	TRAILERS,	/* past the final block */
};

struct h2_response {
	enum block_state state;
	char status[4];
	struct dt_h2_message m;
	struct dt_h2_field status_field;
};

/* "HTTP/2 200 ..." -> 200; -1 when the line is not a status line. */
static int status_line(const char *line, char digits[4])
{
	const char *sp = strchr(line, ' ');

	if (strncmp(line, "HTTP/", 5) || !sp || sp[1] < '1' || sp[1] > '5' ||
	    sp[2] < '0' || sp[2] > '9' || sp[3] < '0' || sp[3] > '9' ||
	    (sp[4] && sp[4] != ' '))
		return -1;
	memcpy(digits, sp + 1, 3);
	digits[3] = '\0';
	return atoi(digits);
}

/* Splits "name: value" in place into f; false when there is no colon
 * past the first byte. */
static bool field_line(char *line, struct dt_h2_field *f)
{
	char *colon = line[0] ? strchr(line + 1, ':') : NULL;
	char *v;

	if (!colon)
		return false;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	f->name = line;
	f->name_len = (size_t)(colon - line);
	f->value = v;
	f->value_len = strlen(v);
	return true;
}

static void fields_add(struct dt_h2_fields *fs, char *line)
{
	if (field_line(line, &fs->v[fs->n]))
		fs->n++;
}

/* One line, CR LF stripped and NUL terminated. */
static void take_line(struct h2_response *r, char *line)
{
	int status;

	switch (r->state) {
	case BEFORE_STATUS:
		status = status_line(line, r->status);
		if (status >= 200)
			r->state = HEAD;
		else if (status >= 100)
			r->state = INTERIM;
		break;
	case INTERIM:
		if (!line[0])
			r->state = BEFORE_STATUS;
		break;
	case HEAD:
		if (!line[0])
			r->state = TRAILERS;
		else
			fields_add(&r->m.headers, line);
		break;
	case TRAILERS:
		if (line[0])
			fields_add(&r->m.trailers, line);
		break;
	}
}

/* Splits text (NUL terminated, modified) into lines. */
static void take_lines(struct h2_response *r, char *text)
{
	char *line = text, *nl;
	size_t n;

	while (*line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		take_line(r, line);
		if (!nl)
			break;
		line = nl + 1;
	}
}

static int trailers_attr(struct dt_exchange *x, const struct dt_h2_fields *fs)
{
	bool cleaned = false;
	char *lines;
	int ret;

	if (!fs->n)
		return 0;
	if (dt_h2_store_fields(fs, &lines, &cleaned))
		return -ENOMEM;
	ret = dt_exchange_set_attr(x, "h2.trailers", lines);
	free(lines);
	return ret;
}

static int grpc_attrs(struct dt_exchange *x, const struct dt_h2_message *m)
{
	return dt_grpc_is_grpc(m) ? dt_grpc_set_status_attrs(x, m) : 0;
}

static int store(struct dt_exchange *x, struct h2_response *r)
{
	bool cleaned = false;
	uint8_t *buf;
	size_t len;

	if (dt_h2_store_message(&r->m, &buf, &len, &cleaned))
		return -ENOMEM;
	free(x->response);
	x->response = buf;
	x->response_len = len;
	if (cleaned)
		x->flags |= DT_XF_MALFORMED;
	if (dt_exchange_set_attr(x, "status", r->status) ||
	    trailers_attr(x, &r->m.trailers))
		return -ENOMEM;
	return grpc_attrs(x, &r->m);
}

int rp_h2_response_store(struct dt_exchange *x, const uint8_t *hdr,
			 size_t hlen, const uint8_t *body, size_t blen)
{
	struct h2_response r = { .state = BEFORE_STATUS };
	char *text = malloc(hlen + 1);
	/* a field per line at most */
	size_t lines = 1;
	int ret = -ENOMEM;

	for (size_t i = 0; i < hlen; i++)
		lines += hdr[i] == '\n';
	r.m.headers.v = calloc(lines, sizeof(struct dt_h2_field));
	r.m.trailers.v = calloc(lines, sizeof(struct dt_h2_field));
	if (!text || !r.m.headers.v || !r.m.trailers.v)
		goto out;
	/* a NUL inside a line ends it early: the fields stay C strings */
	memcpy(text, hdr, hlen);
	text[hlen] = '\0';
	take_lines(&r, text);
	if (r.state == BEFORE_STATUS || r.state == INTERIM) {
		ret = -EBADMSG;
		goto out;
	}
	r.status_field = (struct dt_h2_field){ ":status", r.status, 7, 3 };
	r.m.pseudo = (struct dt_h2_fields){ .n = 1, .v = &r.status_field };
	r.m.body = (uint8_t *)body;
	r.m.body_len = blen;
	ret = store(x, &r);
out:
	free(r.m.headers.v);
	free(r.m.trailers.v);
	free(text);
	return ret;
}
