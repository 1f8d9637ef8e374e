// SPDX-License-Identifier: MIT
/* --match: which exchanges a recording keeps. */
#include <fnmatch.h>
#include <string.h>

#include "recorder/recorder_int.h"

static bool match_http(const struct dt_match *m, const struct dt_exchange *x)
{
	const char *method = dt_exchange_attr(x, "method");
	const char *path = dt_exchange_attr(x, "path");

	if (!m->http || !method || !path)
		return false;
	if (m->method[0] && fnmatch(m->method, method, 0))
		return false;
	return !m->path_glob[0] || fnmatch(m->path_glob, path, 0) == 0;
}

static bool match_attr(const char *glob, const struct dt_exchange *x,
		       const char *key)
{
	const char *v = dt_exchange_attr(x, key);

	return v && fnmatch(glob, v, FNM_CASEFOLD) == 0;
}

/* SQL globs are matched against the normalised text: comments gone,
 * whitespace collapsed. */
static bool match_sql(const char *glob, const struct dt_exchange *x)
{
	const char *sql = dt_exchange_attr(x, "request.sql");
	char norm[4096];

	if (!sql)
		return false;
	dt_mysql_sql_normalize(sql, strlen(sql), norm, sizeof(norm), 0);
	return fnmatch(glob, norm, FNM_CASEFOLD) == 0;
}

static bool match_one(const struct dt_match *m, const struct dt_exchange *x)
{
	switch (x->protocol) {
	case DT_PROTO_HTTP1:
	case DT_PROTO_HTTP2:
		return match_http(m, x);
	case DT_PROTO_REDIS:
		return match_attr(m->text, x, "command");
	case DT_PROTO_MYSQL:
		return match_sql(m->text, x) ||
		       match_attr(m->text, x, "request.kind");
	}
	return false;
}

bool dt_match_exchange(const struct dt_match *m, size_t n,
		       const struct dt_exchange *x)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (match_one(&m[i], x))
			return true;
	return false;
}
