// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for rules files (diff/rules.c, field.c, json_path.c,
 * normalize.c). The input is a rules file. When it parses, its sections
 * are applied as a diff would: to endpoints, header names and fields,
 * and its normalisers run over a fixed text and over the input itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"
#include "tests/fuzz/fuzz_check.h"

/* Normalising bytes of the input is bounded: regexes are the user's. */
#define NORMALIZE_INPUT_MAX 4096

static const char *const endpoints[] = {
	"GET /api/orders/12", "redis GET", "mysql SELECT 1", "",
};

static const struct {
	const char *name, *parent;
} fields[] = {
	{ "status", NULL },
	{ "header.x-request-id", NULL },
	{ "body", NULL },
	{ "$.items[3].price", "body" },
	{ "$['a b'][0].id", "value" },
	{ "columns[1].name", NULL },
	{ "$[2].updated_at", "rows" },
};

static void apply(const struct dt_diff_rules *rules, const char *endpoint,
		  const uint8_t *data, size_t size)
{
	static const char text[] = "id 0a1b2c3d-0000-4000-8000-123456789abc "
				   "at 2024-01-01T00:00:00Z\n\0tail";
	struct dt_sbuf out = { 0 };
	struct dt_rules_scope s;
	struct dt_field f;
	size_t i;

	if (dt_rules_scope_init(&s, rules, endpoint))
		return;
	dt_rules_header_skipped(&s, "date");
	dt_rules_header_skipped(&s, "x-request-id");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (dt_field_init(&f, fields[i].name, fields[i].parent))
			continue;
		dt_rules_ignore(&s, &f);
		dt_field_release(&f);
	}
	if (dt_rules_can_normalize(&s)) {
		if (!dt_rules_normalize(&s, text, sizeof(text) - 1, &out))
			CHECK(out.p && out.len <= DT_NORMALIZE_MAX);
		dt_rules_normalize(&s, data, size < NORMALIZE_INPUT_MAX ?
				   size : NORMALIZE_INPUT_MAX, &out);
	}
	dt_sbuf_release(&out);
	dt_rules_scope_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_diff_rules *rules = NULL;
	char err[256];
	size_t i;
	int ret;

	ret = dt_diff_rules_parse((const char *)data, size, &rules, err,
				  sizeof(err));
	if (ret) {
		CHECK(!rules);
		CHECK(strlen(err) > 0);
		return 0;
	}
	CHECK(rules && rules->nsections >= 1);
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		apply(rules, endpoints[i], data, size);
	dt_diff_rules_free(rules);
	return 0;
}
