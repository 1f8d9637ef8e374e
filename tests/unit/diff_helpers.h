/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the diff module's unit tests (tests/unit/test_diff_*):
 * building exchanges, running one comparison through the engine and
 * looking at what it reported. Include after cmocka.h.
 */
#ifndef DEETUNE_TEST_DIFF_HELPERS_H
#define DEETUNE_TEST_DIFF_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "diff/diff.h"

/* An exchange of protocol with copies of the request and response. */
static inline void xch_init(struct dt_exchange *x, uint32_t protocol,
			    uint64_t id, uint64_t link_id, const void *req,
			    size_t req_len, const void *resp, size_t resp_len)
{
	dt_exchange_init(x);
	x->protocol = protocol;
	x->id = id;
	x->link_id = link_id;
	assert_int_equal(dt_exchange_set_request(x, req, req_len), 0);
	assert_int_equal(dt_exchange_set_response(x, resp, resp_len), 0);
}

/* HTTP exchange from NUL-terminated request and response texts. */
static inline void xch_http(struct dt_exchange *x, uint64_t id,
			    uint64_t link_id, const char *req,
			    const char *resp)
{
	xch_init(x, DT_PROTO_HTTP1, id, link_id, req, strlen(req), resp,
		 strlen(resp));
}

static inline struct dt_diff_rules *rules_of(const char *json)
{
	struct dt_diff_rules *rules = NULL;
	char err[256] = "";

	if (dt_diff_rules_parse(json, strlen(json), &rules, err, sizeof(err)))
		fail_msg("rules did not parse: %s", err);
	return rules;
}

/*
 * Compares rec with rep (NULL: not replayed) under rules (NULL:
 * defaults), learning noise from rep and rep2 first when rep2 is given.
 * The report is the caller's (dt_diff_report_free).
 */
static inline struct dt_diff_report *
diff_pair(const struct dt_diff_rules *rules, bool unordered,
	  const struct dt_exchange *rec, const struct dt_exchange *rep,
	  const struct dt_exchange *rep2)
{
	struct dt_diff_opts opts = { .rules = rules,
				     .unordered_rows = unordered };
	struct dt_diff_report *report = NULL;
	struct dt_diff *d;

	assert_int_equal(dt_diff_new(&d, &opts), 0);
	if (rep2)
		assert_int_equal(dt_diff_learn(d, rec, rep, rep2), 0);
	assert_int_equal(dt_diff_add(d, rec, rep), 0);
	assert_int_equal(dt_diff_finish(d, &report), 0);
	assert_int_equal(report->exchanges, 1);
	return report;
}

/* The outcome of the only exchange of a report. */
static inline enum dt_diff_outcome
only_outcome(const struct dt_diff_report *r)
{
	for (int o = 0; o < DT_DIFF_NOUTCOMES; o++)
		if (r->counts[o])
			return (enum dt_diff_outcome)o;
	fail_msg("no outcome counted");
	return DT_DIFF_NOUTCOMES;
}

/* The only listed exchange of a report (one that did not compare the
 * same). */
static inline const struct dt_diff_exchange *
only_exchange(const struct dt_diff_report *r)
{
	assert_int_equal(r->nendpoints, 1);
	assert_int_equal(r->endpoints[0].nexchanges, 1);
	return &r->endpoints[0].exchanges[0];
}

/* The item of field in x, NULL when there is none. */
static inline const struct dt_diff_item *
find_item(const struct dt_diff_exchange *x, const char *field)
{
	for (size_t i = 0; i < x->nitems; i++)
		if (!strcmp(x->items[i].field, field))
			return &x->items[i];
	return NULL;
}

/* Asserts x has an item for field explained as why; returns it. */
static inline const struct dt_diff_item *
expect_item(const struct dt_diff_exchange *x, const char *field,
	    enum dt_diff_why why)
{
	const struct dt_diff_item *it = find_item(x, field);

	if (!it) {
		for (size_t i = 0; i < x->nitems; i++)
			print_message("item: %s\n", x->items[i].field);
		fail_msg("no item for %s", field);
	}
	assert_int_equal(it->why, why);
	return it;
}

/* Asserts an item's values as rendered (NULL: absent). */
static inline void expect_values(const struct dt_diff_item *it,
				 const char *expected, const char *actual)
{
	if (expected)
		assert_string_equal(it->expected, expected);
	else
		assert_null(it->expected);
	if (actual)
		assert_string_equal(it->actual, actual);
	else
		assert_null(it->actual);
}

#endif /* DEETUNE_TEST_DIFF_HELPERS_H */
