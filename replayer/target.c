// SPDX-License-Identifier: MIT
/*
 * Target URLs and their credentials. Every message about a URL shows it
 * redacted: a password must not reach a terminal, a CI log or a session
 * file, even when the user put it on the command line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"
#include "replayer/replayer.h"

#define REDACTED "***"
/* Longest credentials file line; a password is at most 255 bytes. */
#define CRED_LINE_MAX 1024

struct scheme_info {
	const char *name;
	enum dt_target_scheme scheme;
	uint32_t protocol;
	uint16_t default_port;
	bool tls;
};

static const struct scheme_info schemes[] = {
	{ "http", DT_TARGET_HTTP, DT_PROTO_HTTP1, 80, false },
	{ "https", DT_TARGET_HTTP, DT_PROTO_HTTP1, 443, true },
	{ "redis", DT_TARGET_REDIS, DT_PROTO_REDIS, 6379, false },
	{ "mysql", DT_TARGET_MYSQL, DT_PROTO_MYSQL, 3306, false },
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static const struct scheme_info *scheme_of(const struct dt_target *t)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (schemes[i].scheme == t->scheme && schemes[i].tls == t->tls)
			return &schemes[i];
	return NULL;
}

/* The scheme ending at "://" in url; NULL when unknown. */
static const struct scheme_info *scheme_by_prefix(const char *url,
						  size_t len)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (strlen(schemes[i].name) == len &&
		    !strncasecmp(url, schemes[i].name, len))
			return &schemes[i];
	return NULL;
}

/* Where the authority of url ends: at the first '/' after the last '@'
 * (a password may hold '/' and '@' as they are) or at the first '/'. */
static const char *authority_end(const char *auth)
{
	const char *at = strrchr(auth, '@');
	const char *slash = strchr(at ? at : auth, '/');

	return slash ? slash : auth + strlen(auth);
}

/* The '@' ending the userinfo of [auth, end), NULL when there is none. */
static const char *userinfo_end(const char *auth, const char *end)
{
	const char *at = NULL;

	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	return at;
}

static void buf_append(char *buf, size_t size, size_t *used, const char *s,
		       size_t n)
{
	if (*used + 1 >= size)
		return;
	if (n > size - 1 - *used)
		n = size - 1 - *used;
	memcpy(buf + *used, s, n);
	*used += n;
	buf[*used] = '\0';
}

void dt_target_redact_url(const char *url, char *buf, size_t size)
{
	const char *sep = strstr(url, "://"), *auth, *end, *at, *colon;
	size_t used = 0;
	bool keep_user;

	if (!size)
		return;
	buf[0] = '\0';
	if (!sep) {
		/* not a URL: it may still hold a secret somewhere */
		at = strrchr(url, '@');
		if (at) {
			buf_append(buf, size, &used, REDACTED, strlen(REDACTED));
			url = at;
		}
		buf_append(buf, size, &used, url, strlen(url));
		return;
	}
	auth = sep + 3;
	end = authority_end(auth);
	at = userinfo_end(auth, end);
	buf_append(buf, size, &used, url, (size_t)(auth - url));
	if (at) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		/* mysql://user@host names a user; redis://secret@host is the
		 * legacy form of a password alone */
		keep_user = colon || ((size_t)(sep - url) == 5 &&
				      !strncasecmp(url, "mysql", 5));
		if (keep_user) {
			buf_append(buf, size, &used, auth,
				   (size_t)((colon ? colon : at) - auth));
			if (colon)
				buf_append(buf, size, &used, ":" REDACTED,
					   strlen(REDACTED) + 1);
		} else {
			buf_append(buf, size, &used, REDACTED,
				   strlen(REDACTED));
		}
		auth = at;
	}
	buf_append(buf, size, &used, auth, strlen(auth));
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (size bytes with the NUL). */
static int percent_decode(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;
	int hi, lo;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

struct parse_ctx {
	const char *url;
	char *err;
	size_t errlen;
};

static int parse_error(const struct parse_ctx *p, const char *what)
{
	char shown[512];

	dt_target_redact_url(p->url, shown, sizeof(shown));
	snprintf(p->err, p->errlen, "target '%s': %s", shown, what);
	return -EINVAL;
}

static int parse_userinfo(struct dt_target *t, const struct parse_ctx *p,
			  const char *s, const char *end)
{
	const char *colon = memchr(s, ':', (size_t)(end - s));
	const char *user_end = colon ? colon : end;

	if (!colon && t->scheme == DT_TARGET_REDIS) {
		/* legacy redis://password@host */
		colon = s - 1;
		user_end = s;
	}
	if (percent_decode(s, (size_t)(user_end - s), t->user,
			   sizeof(t->user)))
		return parse_error(p, "invalid user name");
	if (!colon)
		return 0;
	if (percent_decode(colon + 1, (size_t)(end - colon - 1), t->password,
			   sizeof(t->password)))
		return parse_error(p, "invalid password (percent-encode "
				      "special characters, at most 255 bytes)");
	t->has_password = true;
	return 0;
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static int parse_port(struct dt_target *t, const struct parse_ctx *p,
		      const char *s, const char *end)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return parse_error(p, "invalid port");
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return parse_error(p, "invalid port");
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (!v || v > 65535)
		return parse_error(p, "port out of range 1-65535");
	t->port = (uint16_t)v;
	return 0;
}

static int parse_hostport(struct dt_target *t, const struct parse_ctx *p,
			  const char *s, const char *end)
{
	const char *host_end, *port = NULL;
	size_t n;

	if (s < end && *s == '[') {
		host_end = memchr(s, ']', (size_t)(end - s));
		if (!host_end)
			return parse_error(p, "unterminated IPv6 address");
		s++;
		if (host_end + 1 < end) {
			if (host_end[1] != ':')
				return parse_error(p, "junk after IPv6 address");
			port = host_end + 2;
		}
		for (const char *c = s; c < host_end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' &&
			    *c != '.')
				return parse_error(p, "invalid IPv6 address");
	} else {
		host_end = memchr(s, ':', (size_t)(end - s));
		if (host_end)
			port = host_end + 1;
		else
			host_end = end;
		for (const char *c = s; c < host_end; c++)
			if (!host_char(*c))
				return parse_error(p, "invalid host name");
	}
	n = (size_t)(host_end - s);
	if (!n)
		return parse_error(p, "missing host");
	if (n >= sizeof(t->host))
		return parse_error(p, "host name too long");
	memcpy(t->host, s, n);
	t->host[n] = '\0';
	return port ? parse_port(t, p, port, end) : 0;
}

static int parse_redis_db(struct dt_target *t, const struct parse_ctx *p,
			  const char *s)
{
	long v = 0;

	if (strlen(s) > 9)
		return parse_error(p, "invalid Redis database number");
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return parse_error(p, "invalid Redis database number");
		v = v * 10 + (*c - '0');
	}
	t->redis_db = (int)v;
	return 0;
}

/* The path after the authority: none for HTTP, "/N" for Redis, "/db" for
 * MySQL ("" or "/" alone: none). */
static int parse_path(struct dt_target *t, const struct parse_ctx *p,
		      const char *path)
{
	if (!*path || !strcmp(path, "/"))
		return 0;
	path++;
	switch (t->scheme) {
	case DT_TARGET_HTTP:
		return parse_error(p, "an http target takes no path (requests "
				      "keep their recorded paths)");
	case DT_TARGET_REDIS:
		return parse_redis_db(t, p, path);
	case DT_TARGET_MYSQL:
		if (percent_decode(path, strlen(path), t->db, sizeof(t->db)) ||
		    strchr(t->db, '/'))
			return parse_error(p, "invalid database name");
		return 0;
	}
	return 0;
}

int dt_target_parse(struct dt_target *t, const char *url, char *err,
		    size_t errlen)
{
	struct parse_ctx p = { url, err, errlen };
	const struct scheme_info *si;
	const char *sep = strstr(url, "://"), *auth, *end, *at;
	int ret;

	memset(t, 0, sizeof(*t));
	t->redis_db = -1;
	if (!sep)
		return parse_error(&p, "expected http://, https://, redis:// "
				       "or mysql://");
	si = scheme_by_prefix(url, (size_t)(sep - url));
	if (!si)
		return parse_error(&p, "unsupported scheme (expected http, "
				       "https, redis or mysql)");
	t->scheme = si->scheme;
	t->tls = si->tls;
	t->protocol = si->protocol;
	t->port = si->default_port;
	auth = sep + 3;
	end = authority_end(auth);
	at = userinfo_end(auth, end);
	if (at) {
		if (t->scheme == DT_TARGET_HTTP)
			return parse_error(&p, "an http target takes no "
					       "credentials");
		ret = parse_userinfo(t, &p, auth, at);
		if (ret)
			return ret;
		auth = at + 1;
	}
	if (strpbrk(auth, "?#"))
		return parse_error(&p, "query and fragment are not supported");
	ret = parse_hostport(t, &p, auth, end);
	return ret ? ret : parse_path(t, &p, end);
}

int dt_target_format(const struct dt_target *t, char *buf, size_t size)
{
	const struct scheme_info *si = scheme_of(t);
	bool v6 = strchr(t->host, ':') != NULL;
	bool mysql = t->scheme == DT_TARGET_MYSQL;
	char redis_db[16] = "";
	int n;

	if (t->scheme == DT_TARGET_REDIS && t->redis_db >= 0)
		snprintf(redis_db, sizeof(redis_db), "/%d", t->redis_db);
	n = snprintf(buf, size, "%s://%s%s%s%s%s:%u%s%s%s",
		     si ? si->name : "unknown", t->user,
		     t->user[0] ? "@" : "", v6 ? "[" : "", t->host,
		     v6 ? "]" : "", t->port, redis_db,
		     mysql && t->db[0] ? "/" : "", mysql ? t->db : "");
	if (n < 0)
		return -EINVAL;
	return (size_t)n < size ? n : -ENOSPC;
}

/* ---- credentials ------------------------------------------------------ */

struct cred_ctx {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
};

static int cred_error(const struct cred_ctx *c, const char *what)
{
	snprintf(c->err, c->errlen, "%s:%u: %s", c->path, c->line, what);
	return -EINVAL;
}

static struct dt_target *target_of(struct dt_target *targets, size_t n,
				   enum dt_target_scheme s)
{
	for (size_t i = 0; i < n; i++)
		if (targets[i].scheme == s)
			return &targets[i];
	return NULL;
}

static int set_secret(struct dt_target *t, const char *s, size_t n)
{
	if (n >= sizeof(t->password))
		return -ENAMETOOLONG;
	memcpy(t->password, s, n);
	t->password[n] = '\0';
	t->has_password = true;
	return 0;
}

/* "USER:PASSWORD" for the target t (or "PASSWORD" when users are
 * optional); the URL's values win. */
static int cred_apply(const struct cred_ctx *c, struct dt_target *t,
		      const char *v, bool user_required)
{
	const char *colon = strchr(v, ':');
	size_t ulen;

	if (!colon && user_required)
		return cred_error(c, "expected mysql=USER:PASSWORD");
	if (colon) {
		ulen = (size_t)(colon - v);
		if (ulen >= sizeof(t->user))
			return cred_error(c, "user name too long");
		if (t->user[0] && (strlen(t->user) != ulen ||
				   strncmp(t->user, v, ulen)))
			return 0; /* for another user than the target's */
		memcpy(t->user, v, ulen);
		t->user[ulen] = '\0';
		v = colon + 1;
	}
	if (t->has_password)
		return 0;
	if (set_secret(t, v, strlen(v)))
		return cred_error(c, "password longer than 255 bytes");
	return 0;
}

static int cred_line(struct cred_ctx *c, char *line, struct dt_target *t,
		     size_t n)
{
	char *eq = strchr(line, '=');
	struct dt_target *target;

	if (!eq)
		return cred_error(c, "expected KEY=VALUE (keys: redis, mysql)");
	*eq = '\0';
	if (!strcmp(line, "redis")) {
		target = target_of(t, n, DT_TARGET_REDIS);
		return target ? cred_apply(c, target, eq + 1, false) : 0;
	}
	if (!strcmp(line, "mysql")) {
		target = target_of(t, n, DT_TARGET_MYSQL);
		return target ? cred_apply(c, target, eq + 1, true) : 0;
	}
	return cred_error(c, "unknown key (expected redis or mysql)");
}

static int cred_file(struct dt_target *t, size_t n, const char *path,
		     char *err, size_t errlen)
{
	struct cred_ctx c = { path, 0, err, errlen };
	char line[CRED_LINE_MAX + 2];
	FILE *f = fopen(path, "re");
	size_t len;
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		c.line++;
		len = strlen(line);
		if (len > CRED_LINE_MAX ||
		    (len == CRED_LINE_MAX && line[len - 1] != '\n')) {
			ret = cred_error(&c, "line too long");
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		ret = cred_line(&c, line, t, n);
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "cannot read %s", path);
		ret = -EIO;
	}
	/* the buffer held a secret */
	memset(line, 0, sizeof(line));
	fclose(f);
	return ret;
}

static int cred_env(struct dt_target *t, const char *var, char *err,
		    size_t errlen)
{
	const char *v = getenv(var);

	if (!t || t->has_password || !v)
		return 0;
	if (set_secret(t, v, strlen(v))) {
		snprintf(err, errlen, "%s is longer than 255 bytes", var);
		return -EINVAL;
	}
	return 0;
}

int dt_credentials_apply(struct dt_target *targets, size_t n,
			 const char *path, char *err, size_t errlen)
{
	int ret = 0;

	if (path)
		ret = cred_file(targets, n, path, err, errlen);
	if (!ret)
		ret = cred_env(target_of(targets, n, DT_TARGET_REDIS),
			       "DEETUNE_REDIS_PASSWORD", err, errlen);
	if (!ret)
		ret = cred_env(target_of(targets, n, DT_TARGET_MYSQL),
			       "DEETUNE_MYSQL_PASSWORD", err, errlen);
	return ret;
}
