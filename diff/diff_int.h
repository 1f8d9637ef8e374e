/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces between the files of the diff module. Nothing outside
 * diff/ (and its unit tests and fuzz targets) includes this.
 */
#ifndef DEETUNE_DIFF_INT_H
#define DEETUNE_DIFF_INT_H

#include <jansson.h>
#include <regex.h>
#include <stdarg.h>

#include "diff/diff.h"

/* ---------------------------------------------------------------------- */
/* sbuf.c: a growable string, always NUL-terminated                        */
/* ---------------------------------------------------------------------- */

/* Largest string a dt_sbuf holds: inputs are bounded long before this. */
#define DT_SBUF_MAX ((size_t)256 << 20)

/*
 * Appending never fails visibly: after an allocation failure (or growth
 * past DT_SBUF_MAX) the buffer stops growing and oom is set, so a sequence
 * of appends needs one check at the end. Zero-initialise to start.
 */
struct dt_sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void dt_sbuf_put(struct dt_sbuf *b, const void *data, size_t len);
void dt_sbuf_puts(struct dt_sbuf *b, const char *s);
void dt_sbuf_putc(struct dt_sbuf *b, char c);
void dt_sbuf_printf(struct dt_sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Cuts the string back to len bytes (len <= b->len). */
void dt_sbuf_truncate(struct dt_sbuf *b, size_t len);
/* The string ("" when nothing was appended), owned by the caller from now
 * on; NULL after an allocation failure. The buffer is empty again. */
char *dt_sbuf_take(struct dt_sbuf *b);
void dt_sbuf_release(struct dt_sbuf *b);

/* ---------------------------------------------------------------------- */
/* text.c: bytes as safe text                                              */
/* ---------------------------------------------------------------------- */

bool dt_utf8_valid(const void *data, size_t len);

/*
 * Appends data[0..len) escaped: printable ASCII and well-formed UTF-8
 * other than C1 controls as they are, a backslash as \\, \n \r \t, other
 * bytes as \xNN; with quote, '"' as \". Different inputs give different
 * text, so escaped values compare as the bytes do.
 */
void dt_text_escape(struct dt_sbuf *b, const void *data, size_t len,
		    bool quote);
/*
 * data escaped, in double quotes (quoted) or not; cut after max input
 * bytes, which "..." then follows. New string owned by the caller, NULL
 * when out of memory.
 */
char *dt_text_quoted(const void *data, size_t len, size_t max);
char *dt_text_plain(const void *data, size_t len, size_t max);

/* ---------------------------------------------------------------------- */
/* json_path.c: JSON paths as the reports show them and rules match them  */
/* ---------------------------------------------------------------------- */

/* Appends a member or element step to a path being built: ".name" for
 * names of letters, digits, '_' and '-' not starting with a digit or '-',
 * else "['name']" with \\, \' and \uXXXX escapes; "[index]". */
void dt_jpath_put_key(struct dt_sbuf *b, const char *key, size_t len);
void dt_jpath_put_index(struct dt_sbuf *b, size_t index);

/* A parsed path or pattern: $, .name, ['name'], ["name"], [N], and the
 * wildcards .*, [*] and .. (any depth, also none). */
struct dt_jpath;

/* Longest path or pattern accepted, in bytes. */
#define DT_JPATH_MAX_TEXT 4096

/* On success *out is owned by the caller (dt_jpath_free). 0, -EINVAL
 * (err says where) or -ENOMEM. */
int dt_jpath_parse(const char *text, size_t len, struct dt_jpath **out,
		   char *err, size_t errlen);
void dt_jpath_free(struct dt_jpath *p);
/* True when pattern matches path or one of its ancestors (a pattern
 * covers what lies below it). path holds no wildcards. */
bool dt_jpath_match(const struct dt_jpath *pattern,
		    const struct dt_jpath *path);

/* ---------------------------------------------------------------------- */
/* field.c: patterns over difference fields                                */
/* ---------------------------------------------------------------------- */

/*
 * A pattern over dt_diff_item.field: a JSON path pattern when it starts
 * with '$', else a glob (fnmatch, case-insensitive) over field names that
 * also covers the fields below a match ("columns" covers
 * "columns[2].name"), and the JSON paths of a part ("body" covers every
 * path into the body). literal: no glob characters (learned fields).
 */
struct dt_field_pattern {
	char *text;
	struct dt_jpath *jpath;	/* NULL for names */
	bool literal;
};

/* A field to match, parsed once for all patterns. */
struct dt_field {
	const char *name;	/* dt_diff_item.field */
	const char *parent;	/* part holding a JSON path: "body", "value",
				   "rows"; NULL */
	struct dt_jpath *jpath;	/* parsed name when it is a path; owned */
};

/* 0, -EINVAL (err) or -ENOMEM; release with dt_field_pattern_release(). */
int dt_field_pattern_init(struct dt_field_pattern *p, const char *text,
			  bool literal, char *err, size_t errlen);
void dt_field_pattern_release(struct dt_field_pattern *p);
/* 0 or -ENOMEM; release with dt_field_release(). A path that does not
 * parse matches only name patterns. */
int dt_field_init(struct dt_field *f, const char *name, const char *parent);
void dt_field_release(struct dt_field *f);
bool dt_field_pattern_match(const struct dt_field_pattern *p,
			    const struct dt_field *f);

/* ---------------------------------------------------------------------- */
/* json_diff.c: structural comparison of JSON values                       */
/* ---------------------------------------------------------------------- */

/*
 * Called for each difference with its path ("$.a[2]", valid during the
 * call) and the two values there, NULL for a value absent on that side.
 * Returns 0 to go on, a negative errno to stop the diff with it.
 */
typedef int (*dt_json_diff_fn)(void *ctx, const char *path,
			       const json_t *expected, const json_t *actual);

/*
 * Reports every difference between expected and actual, with paths that
 * start with root ("$", or "$[3]" for a part of a larger document):
 * members present
 * on one side only, elements past the shorter array, values of different
 * types, different scalars (an integer and a real of the same value are
 * equal). Objects recurse member by member, arrays element by element.
 * Returns 0, fn's error or -ENOMEM.
 */
int dt_json_diff(const json_t *expected, const json_t *actual,
		 const char *root, dt_json_diff_fn fn, void *ctx);
/* Equality as dt_json_diff() sees it. */
bool dt_json_equal(const json_t *a, const json_t *b);
/* Compact JSON text of v (reals in their shortest exact form), cut after
 * max bytes with "..."; new string owned by the caller, NULL when out of
 * memory. */
char *dt_json_render(const json_t *v, size_t max);
/* The text a normaliser sees of a scalar: a string's bytes, a number's
 * JSON text; false for containers and null. Appends to b. */
bool dt_json_scalar_text(const json_t *v, struct dt_sbuf *b);

/* ---------------------------------------------------------------------- */
/* rules.c, normalize.c                                                    */
/* ---------------------------------------------------------------------- */

struct dt_normalizer {
	regex_t re;
	char *pattern;
	char *replace;
	size_t replace_len;
};

/* The top level of a rules file, or one of its "endpoints" entries. */
struct dt_rule_section {
	char *match;		/* endpoint glob; NULL at the top level */
	struct dt_field_pattern *ignore; /* "ignore_headers" included as
					    "header.<name>" */
	size_t nignore;
	char **compare_headers;	/* lower case */
	size_t ncompare_headers;
	struct dt_normalizer *normalize;
	size_t nnormalize;
};

struct dt_diff_rules {
	struct dt_rule_section *sections; /* [0]: the top level */
	size_t nsections;
};

/* The sections that apply to one endpoint (rules may be NULL). */
struct dt_rules_scope {
	const struct dt_rule_section **sections;
	size_t n;
};

/* 0 or -ENOMEM; release with dt_rules_scope_release(). */
int dt_rules_scope_init(struct dt_rules_scope *s,
			const struct dt_diff_rules *rules,
			const char *endpoint);
void dt_rules_scope_release(struct dt_rules_scope *s);

/* True when a header (name in lower case) is one of those ignored by
 * default and no "compare_headers" in scope names it: it is skipped
 * silently. Headers in "ignore_headers" are compared, and their
 * differences are noise. */
bool dt_rules_header_skipped(const struct dt_rules_scope *s,
			     const char *name);
/* True when an "ignore" pattern in scope covers f. */
bool dt_rules_ignore(const struct dt_rules_scope *s,
		     const struct dt_field *f);
/* True when the scope has normalisers. */
bool dt_rules_can_normalize(const struct dt_rules_scope *s);

/*
 * Runs every normaliser in scope, in order, over in[0..len): each
 * replaces every non-empty match with its replacement. The result goes to
 * out (emptied first; out->p is set, also for an empty result). Returns
 * 0, or -E2BIG when the result would grow past DT_NORMALIZE_MAX, -ENOMEM.
 */
#define DT_NORMALIZE_MAX ((size_t)64 << 20)
int dt_rules_normalize(const struct dt_rules_scope *s, const void *in,
		       size_t len, struct dt_sbuf *out);

/* ---------------------------------------------------------------------- */
/* compare.c: comparing one exchange                                       */
/* ---------------------------------------------------------------------- */

/* Fields kept per exchange while learning noise. */
#define DT_DIFF_MAX_LEARNED 4096

struct dt_cmp {
	/* in */
	const struct dt_exchange *rec;	/* what was asked (SQL, ...) */
	const struct dt_rules_scope *scope;
	const struct dt_field_pattern *learned;
	size_t nlearned;
	bool unordered_rows;
	size_t max_items;	/* items kept */
	/* out */
	size_t nitems;
	struct dt_diff_item *items;
	uint64_t differences, noise;
	enum dt_diff_outcome verdict; /* FAILED or SKIPPED set by a
					 comparator; else SAME */
	char *reason;		/* with the verdict */
};

/*
 * Adds a difference. expected, actual and note are new strings (or NULL)
 * that c takes over, also on failure. why is DT_DIFF_BY_NORMALIZER when
 * the caller found the values equal once normalised, else
 * DT_DIFF_UNEXPLAINED; rules and learned noise may explain it further.
 * parent: see struct dt_field. 0 or -ENOMEM.
 */
int dt_cmp_add(struct dt_cmp *c, const char *field, const char *parent,
	       char *expected, char *actual, char *note, enum dt_diff_why why);
/* Compares two strings (header values, ...) under the normalisers; adds
 * an item rendered quoted when they differ. NULL: absent. 0 or -ENOMEM. */
int dt_cmp_strings(struct dt_cmp *c, const char *field, const char *a,
		   size_t alen, const char *b, size_t blen);
/* Adds every difference between two JSON values of the part parent
 * ("body", ...), paths from root (see dt_json_diff()). */
int dt_cmp_json(struct dt_cmp *c, const json_t *a, const json_t *b,
		const char *parent, const char *root);
/* Sets the verdict (DT_DIFF_FAILED or DT_DIFF_SKIPPED) with a reason.
 * 0 or -ENOMEM. */
int dt_cmp_verdict(struct dt_cmp *c, enum dt_diff_outcome verdict,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void dt_cmp_release(struct dt_cmp *c);
/* Frees the strings of an item and clears it. */
void dt_diff_item_release(struct dt_diff_item *it);

/* Compares rec with rep (NULL: not replayed) into c: decides whether the
 * pair can be compared, then runs the protocol's comparator. */
int dt_cmp_exchange(struct dt_cmp *c, const struct dt_exchange *rec,
		    const struct dt_exchange *rep);

/* Protocol comparators: rec and rep have responses to compare. */
int dt_compare_http(struct dt_cmp *c, const struct dt_exchange *rec,
		    const struct dt_exchange *rep);
int dt_compare_redis(struct dt_cmp *c, const struct dt_exchange *rec,
		     const struct dt_exchange *rep);
int dt_compare_mysql(struct dt_cmp *c, const struct dt_exchange *rec,
		     const struct dt_exchange *rep);

/* compare_grpc.c: the attributes grpc.status and grpc.message, as the
 * fields "grpc.status" and "grpc.message". 0 or -ENOMEM. */
int dt_compare_grpc_status(struct dt_cmp *c, const struct dt_exchange *rec,
			   const struct dt_exchange *rep);
/*
 * Two gRPC response bodies (a recorded, b replayed), message by message,
 * each decoded as protobuf and compared field by field: differences named
 * "grpc.message[<i>].<field>[.<field>...]" (see compare_grpc.c). A body
 * that does not split into messages sets the verdict (recorded: skipped,
 * replayed: failed). 0 or -ENOMEM.
 */
int dt_compare_grpc_messages(struct dt_cmp *c, const uint8_t *a, size_t alen,
			     const uint8_t *b, size_t blen);

/*
 * rows_unordered.c: two arrays of MySQL rows as multisets. Rows equal on
 * both sides match; a row left over matches one of the other side when
 * they are equal once the rules and learned noise had their say (ignored
 * members left out, values normalised), and their members' differences
 * are reported under the recorded row's path ("$[2].updated"); the rows
 * still left are differences "$[<i>]", by their index on their own side.
 */
int dt_cmp_rows_unordered(struct dt_cmp *c, const json_t *a, const json_t *b);

/* ---------------------------------------------------------------------- */
/* http_body.c, resp_json.c, endpoint.c                                    */
/* ---------------------------------------------------------------------- */

/* Largest body decoded (de-chunked, decompressed) for comparing. */
#define DT_HTTP_BODY_MAX ((size_t)64 << 20)

/*
 * The body of a response as the client application saw it: de-chunked
 * when Transfer-Encoding is chunked, decompressed when Content-Encoding is
 * gzip or deflate. A step that fails (bytes not in that coding: a replay
 * client may have decoded them already) or would grow past
 * DT_HTTP_BODY_MAX leaves the bytes as they were. *out is body itself or
 * a new buffer stored in *owned too (free it). 0 or -ENOMEM.
 */
int dt_http_body_decode(const struct dt_http1_head *head, const uint8_t *body,
			size_t len, const uint8_t **out, size_t *out_len,
			uint8_t **owned);

/*
 * Parses the RESP2/RESP3 reply at buf[0..len) into JSON: strings as
 * strings (bytes that are not UTF-8 as {"binary": "<escaped>"}), integers,
 * doubles (inf and nan as strings), booleans, null, errors as {"error":
 * "<message>"}, arrays, sets and pushes as arrays, maps as objects (keys
 * as text). Attributes are skipped. *type is the value's type byte.
 * Returns the bytes used (> 0), -EBADMSG (incomplete or not RESP) or
 * -ENOMEM. On success *out is a new reference owned by the caller.
 */
ssize_t dt_resp_to_json(const uint8_t *buf, size_t len, json_t **out,
			int *type);

/* Endpoint name and request label of a recorded exchange (see struct
 * dt_diff_endpoint, dt_diff_exchange). New strings owned by the caller;
 * NULL when out of memory. */
char *dt_endpoint_name(const struct dt_exchange *x);
char *dt_request_label(const struct dt_exchange *x);

/* ---------------------------------------------------------------------- */
/* noise.c: learned noise                                                  */
/* ---------------------------------------------------------------------- */

struct dt_noise;

/* Remembers the fields in c's items as noise of recorded exchange id.
 * *noise starts NULL. 0 or -ENOMEM. */
int dt_noise_store(struct dt_noise **noise, uint64_t id,
		   const struct dt_cmp *c);
/* The learned fields of recorded exchange id (borrowed), n = 0: none. */
const struct dt_field_pattern *dt_noise_find(struct dt_noise *noise,
					     uint64_t id, size_t *n);
void dt_noise_free(struct dt_noise *noise);

#endif /* DEETUNE_DIFF_INT_H */
