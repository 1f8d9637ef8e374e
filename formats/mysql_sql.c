// SPDX-License-Identifier: MIT
/*
 * SQL text helpers for matching: normalisation (comments out, whitespace
 * collapsed, optionally keywords uppercased) and the statement kind from
 * the first keyword. A lexer just deep enough for that: quoted strings and
 * identifiers ('...', "...", `...`) are copied as they are, comments are
 * "-- " to the end of the line, "#" to the end of the line and / * * /.
 */
#include <stdlib.h>
#include <strings.h>

#include "formats/mysql_int.h"

/* Longest keyword in the table below. */
#define KEYWORD_MAX 16

/* Sorted: searched with bsearch. */
static const char *const keywords[] = {
	"ALL", "ALTER", "AND", "AS", "ASC", "BEGIN", "BETWEEN", "BY", "CALL",
	"CASE", "COMMIT", "CREATE", "CROSS", "DATABASE", "DEFAULT", "DELETE",
	"DESC", "DISTINCT", "DROP", "DUPLICATE", "ELSE", "END", "EXISTS",
	"EXPLAIN", "FOR", "FROM", "GROUP", "HAVING", "IF", "IGNORE", "IN",
	"INDEX", "INNER", "INSERT", "INTO", "IS", "JOIN", "KEY", "LEFT",
	"LIKE", "LIMIT", "LOCK", "NOT", "NULL", "OFFSET", "ON", "OR", "ORDER",
	"OUTER", "PRIMARY", "REPLACE", "RIGHT", "ROLLBACK", "SCHEMA",
	"SELECT", "SET", "SHARE", "SHOW", "START", "TABLE", "THEN",
	"TRANSACTION", "TRUNCATE", "UNION", "UNIQUE", "UPDATE", "USE",
	"USING", "VALUE", "VALUES", "VIEW", "WHEN", "WHERE", "WITH",
};

struct sql_out {
	char *buf;
	size_t size;
	size_t len;    /* full length, may exceed size - 1 */
};

static void out_char(struct sql_out *o, char ch)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = ch;
	o->len++;
}

static bool is_space(uint8_t b)
{
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' ||
	       b == '\v';
}

static bool is_word(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b >= '0' && b <= '9') || b == '_' || b == '$' || b >= 0x80;
}

static int keyword_cmp(const void *key, const void *elem)
{
	return strcasecmp(key, *(const char *const *)elem);
}

static bool is_keyword(const char *s, size_t n)
{
	char word[KEYWORD_MAX + 1];

	if (n > KEYWORD_MAX)
		return false;
	memcpy(word, s, n);
	word[n] = '\0';
	return bsearch(word, keywords, sizeof(keywords) / sizeof(keywords[0]),
		       sizeof(keywords[0]), keyword_cmp) != NULL;
}

/* Length of the comment starting at s[0..n), 0 when none starts there.
 * *executable: it is MySQL's / *! ... * / or / *M! ... * /. */
static size_t comment_len(const char *s, size_t n, bool *executable)
{
	const char *end;

	*executable = false;
	if (s[0] == '#' ||
	    (n >= 2 && s[0] == '-' && s[1] == '-' &&
	     (n == 2 || is_space((uint8_t)s[2])))) {
		end = memchr(s, '\n', n);
		return end ? (size_t)(end - s) + 1 : n;
	}
	if (n < 2 || s[0] != '/' || s[1] != '*')
		return 0;
	*executable = (n >= 3 && s[2] == '!') ||
		      (n >= 4 && s[2] == 'M' && s[3] == '!');
	end = memmem(s + 2, n - 2, "*/", 2);
	return end ? (size_t)(end - s) + 2 : n;
}

/* Length of the quoted string or identifier at s (to its closing quote,
 * or to the end): a doubled quote or, in strings, a backslash escapes. */
static size_t quoted_len(const char *s, size_t n)
{
	char q = s[0];
	size_t i;

	for (i = 1; i < n; i++) {
		if (s[i] == '\\' && q != '`') {
			i++;
		} else if (s[i] == q) {
			if (i + 1 < n && s[i + 1] == q)
				i++;
			else
				return i + 1;
		}
	}
	return n;
}

static void out_bytes(struct sql_out *o, const char *s, size_t n, bool upper)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (upper && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		out_char(o, ch);
	}
}

size_t dt_mysql_sql_normalize(const char *sql, size_t len, char *out,
			      size_t size, unsigned flags)
{
	struct sql_out o = { .buf = out, .size = size };
	bool space = false, executable;
	size_t i = 0, n;

	if (!sql)
		len = 0;
	while (i < len) {
		uint8_t b = (uint8_t)sql[i];

		if (is_space(b)) {
			space = o.len > 0;
			i++;
			continue;
		}
		n = comment_len(sql + i, len - i, &executable);
		if (n && !executable) {
			space = o.len > 0;
			i += n;
			continue;
		}
		if (space)
			out_char(&o, ' ');
		space = false;
		if (n) {
			out_bytes(&o, sql + i, n, false);
		} else if (b == '\'' || b == '"' || b == '`') {
			n = quoted_len(sql + i, len - i);
			out_bytes(&o, sql + i, n, false);
		} else if (is_word(b)) {
			for (n = 1; i + n < len && is_word((uint8_t)sql[i + n]);
			     n++)
				;
			out_bytes(&o, sql + i, n,
				  (flags & DT_MYSQL_SQL_UPPER_KEYWORDS) &&
					  is_keyword(sql + i, n));
		} else {
			n = 1;
			out_char(&o, (char)b);
		}
		i += n;
	}
	if (size)
		out[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

/* The word at sql[*i..) after whitespace, comments and '('; advances. */
static size_t next_word(const char *sql, size_t len, size_t *i,
			const char **word)
{
	bool executable;
	size_t n;

	while (*i < len) {
		uint8_t b = (uint8_t)sql[*i];

		if (is_space(b) || b == '(') {
			(*i)++;
			continue;
		}
		n = comment_len(sql + *i, len - *i, &executable);
		if (!n)
			break;
		*i += n;
	}
	*word = sql + *i;
	for (n = 0; *i < len && is_word((uint8_t)sql[*i]); n++)
		(*i)++;
	return n;
}

static bool word_is(const char *word, size_t n, const char *kw)
{
	return strlen(kw) == n && !strncasecmp(word, kw, n);
}

static const char *const kinds[] = {
	"select", "insert", "update", "delete", "replace", "create", "drop",
	"alter",  "set",    "show",   "begin",  "commit",  "rollback",
};

const char *dt_mysql_sql_kind(const char *sql, size_t len)
{
	const char *word;
	size_t i = 0, k, n;

	if (!sql) {
		sql = "";
		len = 0;
	}
	n = next_word(sql, len, &i, &word);

	if (word_is(word, n, "with") || word_is(word, n, "values") ||
	    word_is(word, n, "table"))
		return "select";
	if (word_is(word, n, "start")) {
		n = next_word(sql, len, &i, &word);
		return word_is(word, n, "transaction") ? "begin" : "other";
	}
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (word_is(word, n, kinds[k]))
			return kinds[k];
	return "other";
}
