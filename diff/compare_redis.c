// SPDX-License-Identifier: MIT
/*
 * Redis replies: the type first (a nil is its own type, whichever RESP
 * spelling carries it; an error is an error whether simple or blob), then
 * the value, structurally, with paths into arrays and maps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

struct reply {
	json_t *value;
	const char *type;
};

static const char *type_name(int type, const json_t *v)
{
	return json_is_null(v) ? "nil" : dt_resp_type_name((uint8_t)type);
}

/*
 * The replies stored for one command: one, or several for a command
 * answered more than once (SUBSCRIBE to many channels), then held in an
 * array of type "replies".
 */
static int parse_replies(const struct dt_exchange *x, struct reply *r)
{
	size_t pos = 0, n = 0;
	json_t *all = NULL, *v;
	ssize_t used;
	int type = 0, ret = 0;

	while (pos < x->response_len) {
		used = dt_resp_to_json(x->response + pos, x->response_len - pos,
				       &v, &type);
		if (used < 0) {
			ret = (int)used;
			break;
		}
		pos += (size_t)used;
		if (n++ == 0) {
			r->value = v;
			r->type = type_name(type, v);
			continue;
		}
		if (!all) {
			all = json_array();
			if (!all || json_array_append_new(all, r->value)) {
				json_decref(v);
				ret = -ENOMEM;
				break;
			}
			r->value = all;
			r->type = "replies";
		}
		if (json_array_append_new(all, v)) {
			ret = -ENOMEM;
			break;
		}
	}
	if (!ret && !n)
		ret = -EBADMSG;
	if (ret) {
		json_decref(r->value);
		r->value = NULL;
	}
	return ret;
}

static int compare_type(struct dt_cmp *c, const struct reply *a,
			const struct reply *b)
{
	char *ea = dt_json_render(a->value, 120);
	char *eb = dt_json_render(b->value, 120);
	struct dt_sbuf ta = { 0 }, tb = { 0 };

	bool oom = !ea || !eb;

	dt_sbuf_printf(&ta, "%s %s", a->type, ea ? ea : "");
	dt_sbuf_printf(&tb, "%s %s", b->type, eb ? eb : "");
	free(ea);
	free(eb);
	if (oom || ta.oom || tb.oom) {
		dt_sbuf_release(&ta);
		dt_sbuf_release(&tb);
		return -ENOMEM;
	}
	return dt_cmp_add(c, "type", NULL, dt_sbuf_take(&ta),
			  dt_sbuf_take(&tb), NULL, DT_DIFF_UNEXPLAINED);
}

int dt_compare_redis(struct dt_cmp *c, const struct dt_exchange *rec,
		     const struct dt_exchange *rep)
{
	struct reply a = { 0 }, b = { 0 };
	int ret;

	ret = parse_replies(rec, &a);
	if (ret == -EBADMSG)
		return dt_cmp_verdict(c, DT_DIFF_SKIPPED, "recorded reply is "
				      "not RESP");
	if (!ret)
		ret = parse_replies(rep, &b);
	if (ret == -EBADMSG)
		ret = dt_cmp_verdict(c, DT_DIFF_FAILED, "replayed reply is "
				     "not RESP");
	else if (!ret && strcmp(a.type, b.type))
		ret = compare_type(c, &a, &b);
	else if (!ret)
		ret = dt_cmp_json(c, a.value, b.value, "value", "$");
	json_decref(a.value);
	json_decref(b.value);
	return ret;
}
