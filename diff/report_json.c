// SPDX-License-Identifier: MIT
/*
 * The JSON report (man/deetune-diff.1, JSON REPORT): the whole report as
 * one document. Builders collect json_object_set_new()'s return codes:
 * it fails without leaking on a NULL value or object, so one check per
 * builder covers every allocation in it.
 */
#include <errno.h>

#include "diff/diff_int.h"

static const char *const count_keys[DT_DIFF_NOUTCOMES] = {
	[DT_DIFF_SAME] = "same",
	[DT_DIFF_NOISE_ONLY] = "noise_only",
	[DT_DIFF_DIFFER] = "differ",
	[DT_DIFF_FAILED] = "failed",
	[DT_DIFF_SKIPPED] = "skipped",
};

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *count(uint64_t n)
{
	return json_integer((json_int_t)(n > INT64_MAX ? INT64_MAX : n));
}

static int set_counts(json_t *o, const uint64_t *counts)
{
	int i, err = 0;

	for (i = 0; i < DT_DIFF_NOUTCOMES; i++)
		err |= json_object_set_new(o, count_keys[i], count(counts[i]));
	return err;
}

static json_t *item_json(const struct dt_diff_item *it)
{
	bool noise = it->why != DT_DIFF_UNEXPLAINED;

	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:o}",
			 "field", it->field,
			 "expected", text_or_null(it->expected),
			 "actual", text_or_null(it->actual),
			 "note", text_or_null(it->note),
			 "noise", noise,
			 "explained_by", noise ?
				 json_string(dt_diff_why_name(it->why)) :
				 json_null());
}

static json_t *exchange_json(const struct dt_diff_exchange *x)
{
	json_t *o = json_object(), *items = json_array();
	int err = 0;
	size_t i;

	for (i = 0; i < x->nitems; i++)
		err |= json_array_append_new(items, item_json(&x->items[i]));
	err |= json_object_set_new(o, "id", count(x->recorded_id));
	err |= json_object_set_new(o, "replay_id", x->replayed_id ?
				   count(x->replayed_id) : json_null());
	err |= json_object_set_new(o, "request", json_string(x->request));
	err |= json_object_set_new(o, "outcome",
				   json_string(dt_diff_outcome_name(x->outcome)));
	err |= json_object_set_new(o, "reason", text_or_null(x->reason));
	err |= json_object_set_new(o, "differences", count(x->differences));
	err |= json_object_set_new(o, "noise", count(x->noise));
	err |= json_object_set_new(o, "items", items);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *endpoint_json(const struct dt_diff_endpoint *ep)
{
	json_t *o = json_object(), *list = json_array();
	int err = 0;
	size_t i;

	for (i = 0; i < ep->nexchanges; i++)
		err |= json_array_append_new(list,
					     exchange_json(&ep->exchanges[i]));
	err |= json_object_set_new(o, "name", json_string(ep->name));
	err |= json_object_set_new(o, "protocol",
				   json_string(dt_protocol_name(ep->protocol)));
	err |= set_counts(o, ep->counts);
	err |= json_object_set_new(o, "unlisted", count(ep->unlisted));
	err |= json_object_set_new(o, "exchanges", list);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *report_json(const struct dt_diff_report *r)
{
	json_t *o = json_object(), *summary = json_object();
	json_t *endpoints = json_array(), *warnings = json_array();
	int err = 0;
	size_t i;

	err |= json_object_set_new(summary, "exchanges", count(r->exchanges));
	err |= set_counts(summary, r->counts);
	err |= json_object_set_new(summary, "unmatched_replays",
				   count(r->unmatched_replays));
	for (i = 0; i < r->nendpoints; i++)
		err |= json_array_append_new(endpoints,
					     endpoint_json(&r->endpoints[i]));
	for (i = 0; i < r->nwarnings; i++)
		err |= json_array_append_new(warnings,
					     json_string(r->warnings[i]));
	err |= json_object_set_new(o, "recorded",
				   text_or_null(r->recorded_label));
	err |= json_object_set_new(o, "replayed",
				   text_or_null(r->replayed_label));
	err |= json_object_set_new(o, "noise_from",
				   text_or_null(r->noise_label));
	err |= json_object_set_new(o, "exit_code",
				   json_integer(dt_diff_exit_code(r)));
	err |= json_object_set_new(o, "summary", summary);
	err |= json_object_set_new(o, "endpoints", endpoints);
	err |= json_object_set_new(o, "warnings", warnings);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int dt_diff_write_json(FILE *out, const struct dt_diff_report *r)
{
	json_t *doc = report_json(r);
	int ret = 0;

	if (!doc)
		return -ENOMEM;
	if (json_dumpf(doc, out, JSON_INDENT(2)) < 0)
		ret = ferror(out) ? -EIO : -ENOMEM;
	else if (fputc('\n', out) == EOF || ferror(out))
		ret = -EIO;
	json_decref(doc);
	return ret;
}
