// SPDX-License-Identifier: MIT
/*
 * Password literals in SQL text (MySQL and MariaDB statements):
 *   IDENTIFIED BY [PASSWORD] 'x'          CREATE/ALTER USER, GRANT
 *   IDENTIFIED WITH|VIA plugin BY|AS|USING 'x' [OR plugin USING 'x'...]
 *   ... 'x' REPLACE 'old'                 ALTER USER, SET PASSWORD
 *   PASSWORD('x'), OLD_PASSWORD('x')
 *   SET PASSWORD [FOR user] = 'x'
 *   PASSWORD = 'x', MASTER_PASSWORD = 'x', SOURCE_PASSWORD = 'x'
 *                                         replication, and a password
 *                                         column compared or assigned
 * A token scanner (quotes, backquotes, comments) feeds a small state
 * machine, so keywords inside strings or comments do not count and the
 * quoted user of SET PASSWORD FOR 'u'@'h' is left alone. Strings end at
 * their quote, doubled quotes and backslash escapes included; a string
 * cut short by the end of the text runs to it.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "redact/redact_int.h"

enum sql_tok_kind {
	TOK_END,
	TOK_WORD,
	TOK_STRING,   /* off/len: the bytes between the quotes */
	TOK_IDENT,    /* `quoted identifier` */
	TOK_PUNCT,
};

struct sql_tok {
	enum sql_tok_kind kind;
	size_t off, len;
};

struct sql_lexer {
	const uint8_t *s;
	size_t len, pos;
};

/* Skips to the end of a comment starting at pos, or returns false. */
static bool skip_comment(struct sql_lexer *lx)
{
	const uint8_t *s = lx->s + lx->pos, *end;
	size_t left = lx->len - lx->pos;

	if (s[0] == '#' || (left >= 2 && s[0] == '-' && s[1] == '-' &&
			    (left == 2 || isspace(s[2])))) {
		end = memchr(s, '\n', left);
		lx->pos = end ? (size_t)(end - lx->s) + 1 : lx->len;
		return true;
	}
	if (left < 2 || s[0] != '/' || s[1] != '*')
		return false;
	/* executable comments run their content: scan it as SQL */
	if (left >= 3 && (s[2] == '!' || s[2] == '+')) {
		lx->pos += 3;
		while (lx->pos < lx->len && isdigit(lx->s[lx->pos]))
			lx->pos++;
		return true;
	}
	end = memmem(s + 2, left - 2, "*/", 2);
	lx->pos = end ? (size_t)(end - lx->s) + 2 : lx->len;
	return true;
}

static void skip_space(struct sql_lexer *lx)
{
	while (lx->pos < lx->len) {
		if (isspace(lx->s[lx->pos]))
			lx->pos++;
		else if (lx->len - lx->pos >= 2 && lx->s[lx->pos] == '*' &&
			 lx->s[lx->pos + 1] == '/')
			lx->pos += 2;   /* the end of an executable comment */
		else if (!skip_comment(lx))
			return;
	}
}

/* A quoted string or identifier at pos; t gets the bytes inside. */
static void lex_quoted(struct sql_lexer *lx, struct sql_tok *t)
{
	uint8_t q = lx->s[lx->pos];
	size_t i = lx->pos + 1;

	t->off = i;
	while (i < lx->len) {
		if (lx->s[i] == '\\' && q != '`') {
			i += 2;
		} else if (lx->s[i] == q) {
			if (i + 1 < lx->len && lx->s[i + 1] == q)
				i += 2;
			else
				break;
		} else {
			i++;
		}
	}
	if (i > lx->len)
		i = lx->len;
	t->len = i - t->off;
	lx->pos = i < lx->len ? i + 1 : lx->len;
}

static bool is_word_char(uint8_t ch)
{
	return isalnum(ch) || ch == '_' || ch == '$' || ch >= 0x80;
}

static void next_token(struct sql_lexer *lx, struct sql_tok *t)
{
	uint8_t ch;

	skip_space(lx);
	if (lx->pos >= lx->len) {
		t->kind = TOK_END;
		return;
	}
	ch = lx->s[lx->pos];
	if (ch == '\'' || ch == '"' || ch == '`') {
		lex_quoted(lx, t);
		t->kind = ch == '`' ? TOK_IDENT : TOK_STRING;
		return;
	}
	t->off = lx->pos;
	if (is_word_char(ch)) {
		while (lx->pos < lx->len && is_word_char(lx->s[lx->pos]))
			lx->pos++;
		t->kind = TOK_WORD;
	} else {
		lx->pos++;
		t->kind = TOK_PUNCT;
	}
	t->len = lx->pos - t->off;
}

enum sql_state {
	S_NONE,
	S_IDENTIFIED,    /* IDENTIFIED */
	S_LITERAL,       /* the next string is a password */
	S_PLUGIN,        /* IDENTIFIED WITH|VIA: the plugin name */
	S_AUTH_KEYWORD,  /* after the plugin: BY, AS or USING */
	S_PASSWORD,      /* the word PASSWORD (or a *_PASSWORD) */
	S_FOR_USER,      /* SET PASSWORD FOR ...: up to '=' */
	S_AFTER,         /* after a password literal */
};

struct sql_scan {
	struct sql_lexer lx;
	enum sql_state state;
};

static bool word_is(const struct sql_scan *sc, const struct sql_tok *t,
		    const char *word)
{
	return t->kind == TOK_WORD && t->len == strlen(word) &&
	       !strncasecmp((const char *)sc->lx.s + t->off, word, t->len);
}

static bool punct_is(const struct sql_scan *sc, const struct sql_tok *t,
		     char ch)
{
	return t->kind == TOK_PUNCT && sc->lx.s[t->off] == ch;
}

static bool is_password_word(const struct sql_scan *sc,
			     const struct sql_tok *t)
{
	return word_is(sc, t, "PASSWORD") || word_is(sc, t, "OLD_PASSWORD") ||
	       word_is(sc, t, "MASTER_PASSWORD") ||
	       word_is(sc, t, "SOURCE_PASSWORD");
}

/* A charset introducer (_utf8mb4'x') or a bracket before the literal. */
static bool before_literal(const struct sql_scan *sc, const struct sql_tok *t)
{
	return (t->kind == TOK_WORD && sc->lx.s[t->off] == '_') ||
	       punct_is(sc, t, '(') || punct_is(sc, t, '=');
}

/* The state after token t in state S_NONE. */
static enum sql_state from_none(const struct sql_scan *sc,
				const struct sql_tok *t)
{
	if (word_is(sc, t, "IDENTIFIED"))
		return S_IDENTIFIED;
	if (is_password_word(sc, t))
		return S_PASSWORD;
	return S_NONE;
}

/* The state after token t; *mask set when t is a password literal. */
static enum sql_state sql_step(const struct sql_scan *sc,
			       const struct sql_tok *t, bool *mask)
{
	*mask = false;
	switch (sc->state) {
	case S_IDENTIFIED:
		if (word_is(sc, t, "BY"))
			return S_LITERAL;
		if (word_is(sc, t, "WITH") || word_is(sc, t, "VIA"))
			return S_PLUGIN;
		break;
	case S_LITERAL:
		if (t->kind == TOK_STRING) {
			*mask = true;
			return S_AFTER;
		}
		if (word_is(sc, t, "PASSWORD") || before_literal(sc, t))
			return S_LITERAL;
		break;
	case S_PLUGIN:
		if (t->kind != TOK_PUNCT)
			return S_AUTH_KEYWORD;
		break;
	case S_AUTH_KEYWORD:
		if (word_is(sc, t, "BY") || word_is(sc, t, "AS") ||
		    word_is(sc, t, "USING"))
			return S_LITERAL;
		break;
	case S_PASSWORD:
		if (punct_is(sc, t, '(') || punct_is(sc, t, '='))
			return S_LITERAL;
		if (word_is(sc, t, "FOR"))
			return S_FOR_USER;
		break;
	case S_FOR_USER:
		if (punct_is(sc, t, '='))
			return S_LITERAL;
		if (!punct_is(sc, t, ';'))
			return S_FOR_USER;
		break;
	case S_AFTER:
		if (word_is(sc, t, "REPLACE"))
			return S_LITERAL;
		if (word_is(sc, t, "OR"))
			return S_PLUGIN;
		break;
	case S_NONE:
		break;
	}
	/* the token did not continue the pattern: it may start one */
	return from_none(sc, t);
}

void dt_redact_sql_scan(const uint8_t *s, size_t len, dt_json_found_fn found,
			void *arg)
{
	struct sql_scan sc = { .lx = { .s = s, .len = len } };
	struct sql_tok t;
	bool mask;

	for (next_token(&sc.lx, &t); t.kind != TOK_END;
	     next_token(&sc.lx, &t)) {
		sc.state = sql_step(&sc, &t, &mask);
		if (mask)
			found(arg, t.off, t.len);
	}
}
