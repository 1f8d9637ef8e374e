// SPDX-License-Identifier: MIT
/* Parsing of --server/--client selectors and --match expressions. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/formats.h"
#include "recorder/recorder.h"

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "1.2.3.4:80", "[::1]:80" -> IPv6 or IPv4-mapped address and port. */
static int parse_addr_port(const char *s, uint8_t addr[16], uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	struct in_addr v4;
	uint32_t p;
	size_t n;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = close - s - 1;
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = colon - s;
	}
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (parse_u32(colon + 1, 65535, &p) || p == 0)
		return -EINVAL;
	*port = p;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, host, &v4) == 1) {
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, host, addr) == 1 ? 0 : -EINVAL;
}

static int parse_value(struct dt_selector *sel, const char *value, char *err,
		       size_t errlen)
{
	struct stat st;
	uint32_t v;

	switch (sel->kind) {
	case DT_SEL_ALL:
		goto bad;
	case DT_SEL_PORT:
		if (parse_u32(value, 65535, &v) || v == 0)
			goto bad;
		sel->port = v;
		return 0;
	case DT_SEL_PID:
		if (parse_u32(value, UINT32_MAX, &v) || v == 0)
			goto bad;
		sel->pid = v;
		return 0;
	case DT_SEL_COMM:
		if (!*value)
			goto bad;
		/* the kernel keeps only the first 15 bytes of a name */
		memcpy(sel->comm, value,
		       strnlen(value, sizeof(sel->comm) - 1));
		return 0;
	case DT_SEL_CGROUP:
		if (stat(value, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "selector '%s': %s is not a "
				 "cgroup directory", sel->text, value);
			return -EINVAL;
		}
		/* on cgroup v2 the id the probes see is the inode number */
		sel->cgroup_id = st.st_ino;
		return 0;
	case DT_SEL_ADDR:
		if (parse_addr_port(value, sel->addr, &sel->port))
			goto bad;
		return 0;
	case DT_SEL_UNIX:
		if (!*value || strlen(value) >= sizeof(sel->path))
			goto bad;
		strcpy(sel->path, value);
		return 0;
	}
bad:
	snprintf(err, errlen, "selector '%s': invalid value '%s'", sel->text,
		 value);
	return -EINVAL;
}

int dt_selector_parse(struct dt_selector *sel, const char *text, bool server,
		      char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum dt_selector_kind kind;
	} kinds[] = {
		{ "port:", DT_SEL_PORT },     { "pid:", DT_SEL_PID },
		{ "comm:", DT_SEL_COMM },     { "cgroup:", DT_SEL_CGROUP },
		{ "addr:", DT_SEL_ADDR },     { "unix:", DT_SEL_UNIX },
	};

	memset(sel, 0, sizeof(*sel));
	sel->server = server;
	snprintf(sel->text, sizeof(sel->text), "%s", text);
	if (!strcmp(text, "all")) {
		sel->kind = DT_SEL_ALL;
		return 0;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (!strncmp(text, kinds[i].prefix, n)) {
			sel->kind = kinds[i].kind;
			return parse_value(sel, text + n, err, errlen);
		}
	}
	snprintf(err, errlen, "selector '%s': expected all, port:N, pid:N, "
		 "comm:NAME, cgroup:PATH, addr:IP:PORT or unix:PATH", text);
	return -EINVAL;
}

bool dt_selector_match_endpoint(const struct dt_selector *sel,
				const struct dt_endpoint *ep)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	switch (sel->kind) {
	case DT_SEL_ALL:
		return true;
	case DT_SEL_PORT:
		return ep->family != DT_FAMILY_UNIX && ep->port == sel->port;
	case DT_SEL_UNIX:
		return ep->family == DT_FAMILY_UNIX &&
		       !strcmp(ep->path, sel->path);
	case DT_SEL_PID:
		return ep->pid == sel->pid;
	case DT_SEL_COMM:
		return ep->pid && !strncmp(ep->comm, sel->comm,
					   sizeof(sel->comm) - 1);
	case DT_SEL_CGROUP:
		return ep->cgroup_id == sel->cgroup_id;
	case DT_SEL_ADDR:
		if (ep->port != sel->port)
			return false;
		if (ep->family == DT_FAMILY_IPV4)
			return !memcmp(sel->addr, v4mapped, 12) &&
			       !memcmp(sel->addr + 12, ep->addr, 4);
		return !memcmp(sel->addr, ep->addr, 16);
	}
	return false;
}

/* Upper-case letters, '-', '_' and glob characters: an HTTP method. */
static bool is_method_glob(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(((struct dt_match *)0)->method))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && !strchr("-_*?", s[i]))
			return false;
	return true;
}

int dt_match_parse(struct dt_match *m, const char *text, char *err,
		   size_t errlen)
{
	const char *sp = strchr(text, ' ');
	const char *path;

	memset(m, 0, sizeof(*m));
	if (!*text || strlen(text) >= sizeof(m->text)) {
		snprintf(err, errlen, "--match '%s': expected an expression "
			 "of 1 to %zu bytes", text, sizeof(m->text) - 1);
		return -EINVAL;
	}
	strcpy(m->text, text);
	if (*text == '/') {
		strcpy(m->path_glob, text);
		m->http = true;
	} else if (!sp && is_method_glob(text, strlen(text))) {
		strcpy(m->method, text);
		m->http = true;
	} else if (sp && is_method_glob(text, sp - text)) {
		path = sp + 1;
		while (*path == ' ')
			path++;
		if (*path == '/' || (*path == '*' && !path[1])) {
			memcpy(m->method, text, sp - text);
			strcpy(m->path_glob, path);
			m->http = true;
		}
	}
	return 0;
}
