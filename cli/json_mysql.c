// SPDX-License-Identifier: MIT
/*
 * `cat` fields of MySQL exchanges. The recorder stores the decoded summary
 * as attributes named after the fields they become ("request.sql",
 * "response.columns", ...); lists are stored as JSON text.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/formats.h"

static bool is_number_field(const char *name)
{
	static const char *const numbers[] = {
		"affected_rows", "last_insert_id", "warnings", "error_code",
		"stmt_id", "connection_id", "rows", "payload_len", "results",
		"params",
	};

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (!strcmp(name, numbers[i]))
			return true;
	return false;
}

static json_t *attr_value(const char *name, const char *value)
{
	json_t *v = NULL;

	if (value[0] == '[' || value[0] == '{')
		v = json_loads(value, JSON_DECODE_ANY, NULL);
	else if (is_number_field(name))
		v = json_loads(value, JSON_DECODE_ANY, NULL);
	if (v && (json_is_array(v) || json_is_object(v) ||
		  json_is_integer(v)))
		return v;
	json_decref(v);
	return cli_json_text(value, strlen(value));
}

int cli_mysql_message_to_json(json_t *o, const struct dt_exchange *x,
			      bool is_request)
{
	const char *prefix = is_request ? "request." : "response.";
	size_t plen = strlen(prefix);
	int rc = 0;

	for (size_t i = 0; i < x->nattrs; i++) {
		const char *key = x->attrs[i].key;

		if (strncmp(key, prefix, plen) || !key[plen])
			continue;
		rc |= json_object_set_new(o, key + plen,
					  attr_value(key + plen,
						     x->attrs[i].value));
	}
	return rc;
}
