// SPDX-License-Identifier: MIT
/* Service naming rules: NAME=SELECTOR, from flags or a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

#define RULES_MAX 1024

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= DT_TOPO_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"')
			return false;
	return true;
}

int dt_topo_rule_parse(struct dt_topo_rule *rule, const char *text,
		       char *err, size_t errlen)
{
	const char *eq = strchr(text, '=');

	memset(rule, 0, sizeof(*rule));
	if (!eq || !name_ok(text, eq - text)) {
		snprintf(err, errlen, "service rule '%s': expected NAME=SELECTOR "
			 "with a NAME of 1 to %d printable characters",
			 text, DT_TOPO_NAME_MAX - 1);
		return -EINVAL;
	}
	memcpy(rule->name, text, eq - text);
	/* a rule names either side: the selector's role does not matter */
	return dt_selector_parse(&rule->sel, eq + 1, true, err, errlen);
}

static int rules_append(struct dt_topo_rule **rules, size_t *n,
			const struct dt_topo_rule *r)
{
	struct dt_topo_rule *grown;

	if (*n >= RULES_MAX)
		return -E2BIG;
	grown = realloc(*rules, (*n + 1) * sizeof(**rules));
	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = *r;
	*rules = grown;
	return 0;
}

/* Strips leading and trailing blanks in place. */
static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

int dt_topo_rules_load(const char *path, struct dt_topo_rule **rules,
		       size_t *n, char *err, size_t errlen)
{
	char line[1024], why[256];
	struct dt_topo_rule r;
	unsigned lineno = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line);

		lineno++;
		if (!*s || *s == '#')
			continue;
		ret = dt_topo_rule_parse(&r, s, why, sizeof(why));
		if (!ret)
			ret = rules_append(rules, n, &r);
		if (ret == -E2BIG)
			snprintf(why, sizeof(why), "more than %d rules",
				 RULES_MAX);
		else if (ret == -ENOMEM)
			snprintf(why, sizeof(why), "out of memory");
		if (ret) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			break;
		}
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	fclose(f);
	return ret;
}
