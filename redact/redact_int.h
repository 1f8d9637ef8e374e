/* SPDX-License-Identifier: MIT */
/*
 * Private interface of the redaction module: the compiled rules, the
 * masking context one dt_redactor_apply() call works with, and the
 * protocol passes (http.c, resp.c, mysql.c, regex.c) that mask through it.
 */
#ifndef DEETUNE_REDACT_INT_H
#define DEETUNE_REDACT_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"
#include "redact/redact.h"

/* ---------------------------------------------------------------------- */
/* JSON paths (json_path.c)                                                */
/* ---------------------------------------------------------------------- */

/* Steps of one path; the matcher keeps a state bit per step (and one for
 * "all steps matched") in a uint64_t. */
#define DT_JSON_PATH_MAX_STEPS 63
#define DT_JSON_PATH_MAX_LEN 1024

struct dt_json_step {
	bool descendant;  /* "..": the step may match at any depth below */
	bool any;         /* "*" or "[*]": any member or element */
	bool is_index;    /* "[N]" */
	uint64_t index;
	char *name;       /* member name (bytes as they appear in the JSON) */
	size_t name_len;
};

struct dt_json_path {
	size_t nsteps;
	struct dt_json_step *steps;
};

/* Compiles path text ("$.a[*].b", "$..password"); *out is owned by the
 * caller (dt_json_path_free). 0, -EINVAL with why in err, or -ENOMEM. */
int dt_json_path_compile(const char *text, struct dt_json_path **out,
			 char *err, size_t errlen);
void dt_json_path_free(struct dt_json_path *p);

/* Matcher states: bit s set when the location matches the first s steps. */
static inline uint64_t dt_json_path_root(void)
{
	return 1;
}

static inline bool dt_json_path_matched(const struct dt_json_path *p,
					uint64_t states)
{
	return states >> p->nsteps & 1;
}

/* States of a member (key[0..key_len), raw bytes between the quotes) or
 * of an array element (key NULL, index) of a location in states. */
uint64_t dt_json_path_child(const struct dt_json_path *p, uint64_t states,
			    const uint8_t *key, size_t key_len,
			    uint64_t index);

/* ---------------------------------------------------------------------- */
/* JSON scanning (json_scan.c)                                             */
/* ---------------------------------------------------------------------- */

/* Deepest nesting followed; deeper bodies stop the scan there. */
#define DT_JSON_SCAN_MAX_DEPTH 128

/* Called with the offset and length of a string's bytes between its
 * quotes, or of a number's characters. */
typedef void (*dt_json_found_fn)(void *arg, size_t off, size_t len);

/*
 * Scans the JSON text t[0..len) (one value, or several as in NDJSON) and
 * calls found for every string and number value at path p or inside a
 * container at p; p NULL only checks the syntax. The scanner is lenient
 * inside strings and never recurses. Returns 0 when t ends after a whole
 * value, -EAGAIN when t ends inside one (a value cut there is reported up
 * to the end of t), -EBADMSG when t is not JSON (values found before the
 * bad byte were reported), -E2BIG past DT_JSON_SCAN_MAX_DEPTH.
 */
int dt_json_scan(const uint8_t *t, size_t len, const struct dt_json_path *p,
		 dt_json_found_fn found, void *arg);

/* ---------------------------------------------------------------------- */
/* Rules (redact.c)                                                        */
/* ---------------------------------------------------------------------- */

struct dt_redact_regex {
	regex_t re;
	char *text;
};

struct dt_redactor {
	bool builtin;
	/* header names to mask (built-in ones first), NUL-terminated */
	char **headers;
	size_t nheaders;
	struct dt_json_path **paths;
	size_t npaths;
	struct dt_redact_regex *regexes;
	size_t nregexes;
};

/* ---------------------------------------------------------------------- */
/* Masking (mask.c)                                                        */
/* ---------------------------------------------------------------------- */

/* Secrets remembered per exchange for the attribute pass, at most. */
#define DT_REDACT_MAX_SECRETS 256

struct dt_redact_secret {
	uint8_t *bytes;
	size_t len;
};

/* One dt_redactor_apply() call. */
struct dt_redact_ctx {
	const struct dt_redactor *r;
	struct dt_exchange *x;
	size_t spans;  /* spans in which a byte changed */
	int err;       /* first allocation failure, 0 when none */
	/* what the protocol rules masked, to hunt in attribute values */
	struct dt_redact_secret secrets[DT_REDACT_MAX_SECRETS];
	size_t nsecrets;
};

/* Sets p[0..len) to '*'; true when a byte changed. */
bool dt_redact_fill(uint8_t *p, size_t len);
/* The same but for CR, LF and NUL bytes, which keep lines where they are
 * and keep the HTTP codec refusing a head it refused. */
bool dt_redact_fill_text(uint8_t *p, size_t len);
/* Keeps a copy of p[0..len) for dt_redact_attrs_secrets() (duplicates and
 * bytes masked already are skipped). */
void dt_redact_remember(struct dt_redact_ctx *c, const uint8_t *p,
			size_t len);
/* Remembers p[0..len), then masks it as one span. */
void dt_redact_span(struct dt_redact_ctx *c, uint8_t *p, size_t len);
/* Masks, in every attribute value, the remembered secrets: occurrences of
 * those of 4 bytes or more, and values equal to a shorter one (as
 * dt_redact_fill_text() does). */
void dt_redact_attrs_secrets(struct dt_redact_ctx *c);
void dt_redact_ctx_release(struct dt_redact_ctx *c);

/*
 * A text made of pieces of a buffer (the data of HTTP chunks, the payloads
 * of MySQL packets), copied so that scanners see it contiguous; ranges of
 * the text map back to the buffer for masking.
 */
struct dt_redact_piece {
	size_t text_off, buf_off, len;
};

struct dt_redact_view {
	uint8_t *buf;              /* borrowed: the bytes being masked */
	uint8_t *text;             /* owned copy of the pieces */
	size_t len, cap;
	struct dt_redact_piece *pieces;
	size_t npieces, pieces_cap;
};

void dt_redact_view_init(struct dt_redact_view *v, uint8_t *buf);
/* Appends buf[off..off+len). 0 or -ENOMEM. */
int dt_redact_view_add(struct dt_redact_view *v, size_t off, size_t len);
/* Masks text[off..off+len) in the buffer as one span, remembered as a
 * secret when remember is set. */
void dt_redact_view_mask(struct dt_redact_ctx *c,
			 const struct dt_redact_view *v, size_t off,
			 size_t len, bool remember);
void dt_redact_view_release(struct dt_redact_view *v);

/* ---------------------------------------------------------------------- */
/* Protocol passes                                                         */
/* ---------------------------------------------------------------------- */

/* http.c: header rules (built-in and header:NAME) in every head, trailer
 * and interim response; json:PATH rules in bodies. */
void dt_redact_http(struct dt_redact_ctx *c);
/* resp.c: AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2, CONFIG SET and
 * ACL SETUSER secrets of every command in the request. */
void dt_redact_resp(struct dt_redact_ctx *c);
/* mysql.c: authentication data and SQL password literals. */
void dt_redact_mysql(struct dt_redact_ctx *c);

/* sql.c: calls found with the offset and length of each password literal
 * (the bytes between its quotes) in the SQL text s[0..len). */
void dt_redact_sql_scan(const uint8_t *s, size_t len, dt_json_found_fn found,
			void *arg);

/* regex.c: compiles rule text re into rx (released with
 * dt_redact_regex_release). 0, or -EINVAL with why in err, or -ENOMEM. */
int dt_redact_regex_compile(struct dt_redact_regex *rx, const char *re,
			    char *err, size_t errlen);
void dt_redact_regex_release(struct dt_redact_regex *rx);
/* Masks every match of every regex rule in request, response and
 * attribute values. */
void dt_redact_regexes(struct dt_redact_ctx *c);


#endif /* DEETUNE_REDACT_INT_H */
