// SPDX-License-Identifier: MIT
/* --match: which exchanges a recording keeps. */
#include <fnmatch.h>

#include "recorder/recorder_int.h"

static bool match_one(const struct dt_match *m, const struct dt_exchange *x)
{
	const char *method = dt_exchange_attr(x, "method");
	const char *path = dt_exchange_attr(x, "path");

	if (!path)
		return false;
	if (m->method[0] && (!method || fnmatch(m->method, method, 0)))
		return false;
	return fnmatch(m->path_glob, path, 0) == 0;
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
