/* SPDX-License-Identifier: MIT */
/*
 * diff: compares replayed responses with recorded ones and reports what
 * changed. HTTP (status, headers, body; JSON bodies structurally), Redis
 * (reply type and value) and MySQL (result kind, error code, columns, rows,
 * affected rows).
 *
 * Three layers:
 *   - the engine (dt_diff_new, dt_diff_learn, dt_diff_add, dt_diff_finish)
 *     compares exchanges held in memory and builds a report; pure code;
 *   - dt_diff_sessions() reads a recorded and a replayed session file
 *     (and a second replay for learned noise, and a rules file), pairs the
 *     exchanges (replayed.link_id == recorded.id) and runs the engine: the
 *     only function here that touches files;
 *   - report writers: a terminal summary, JSON and JUnit XML.
 *
 * Every string in a report is safe to print: bytes from the sessions are
 * escaped (C-style escapes for control characters and bytes that are not
 * UTF-8), so the text is valid UTF-8 without control characters.
 *
 * Errors are negative errno codes; functions that can fail for a reason
 * worth showing fill a caller-provided message buffer.
 */
#ifndef DEETUNE_DIFF_H
#define DEETUNE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/formats.h"

/* ---------------------------------------------------------------------- */
/* Rules (format: man/deetune-diff.1, RULES FILE)                          */
/* ---------------------------------------------------------------------- */

struct dt_diff_rules;

/* Longest rules file dt_diff_sessions() reads. */
#define DT_DIFF_RULES_MAX (4u << 20)

/*
 * Parses the JSON text of a rules file. Syntax errors name the line and
 * column ("3:14: ..."), other errors the entry ("normalize[1].regex: ...").
 * On success *out is owned by the caller (dt_diff_rules_free). 0, -EINVAL
 * (message in err) or -ENOMEM.
 */
int dt_diff_rules_parse(const char *text, size_t len,
			struct dt_diff_rules **out, char *err, size_t errlen);
void dt_diff_rules_free(struct dt_diff_rules *rules);

/* ---------------------------------------------------------------------- */
/* Reports                                                                 */
/* ---------------------------------------------------------------------- */

enum dt_diff_outcome {
	DT_DIFF_SAME = 0,	/* no difference */
	DT_DIFF_NOISE_ONLY,	/* every difference explained as noise */
	DT_DIFF_DIFFER,		/* at least one unexplained difference */
	DT_DIFF_FAILED,		/* not replayed, or the replay failed */
	DT_DIFF_SKIPPED,	/* the recording holds nothing to compare */
	DT_DIFF_NOUTCOMES,
};

/* "same", "noise-only", "differ", "failed", "skipped". */
const char *dt_diff_outcome_name(enum dt_diff_outcome outcome);

/* Why a difference counts as noise. */
enum dt_diff_why {
	DT_DIFF_UNEXPLAINED = 0,
	DT_DIFF_BY_RULE,	/* an "ignore" pattern or ignored header */
	DT_DIFF_BY_NORMALIZER,	/* equal once the regex normalisers ran */
	DT_DIFF_BY_LEARNED,	/* also differs between two replays */
};

/* "difference", "rule", "normalizer", "learned". */
const char *dt_diff_why_name(enum dt_diff_why why);

/*
 * One difference. field names what differs in the words rules use:
 * "status", "header.<name>" (lower case), "body" (bytes), "type" (Redis),
 * "kind", "error_code", "affected_rows", "columns", "columns[<i>].name",
 * "columns[<i>].type", "rows" (MySQL), or a JSON path into the HTTP body,
 * the Redis reply or the MySQL rows ("$.items[3].price", "$[2].name");
 * HTTP/2 also "trailer.<name>", gRPC "grpc.status", "grpc.message" and
 * protobuf fields by number "grpc.message[<i>].<n>[.<n>...]" (a repeated
 * field's occurrences indexed: "grpc.message[0].3[1]").
 * expected (recorded) and actual (replayed) are short renderings of the
 * values, NULL for a value absent on that side; note adds context (where
 * two bodies start to differ) or is NULL.
 */
struct dt_diff_item {
	char *field;
	char *expected;
	char *actual;
	char *note;
	enum dt_diff_why why;
};

/* Differences kept per exchange; the others are only counted. */
#define DT_DIFF_MAX_ITEMS 32

/* An exchange that did not compare the same. */
struct dt_diff_exchange {
	uint64_t recorded_id;
	uint64_t replayed_id;	/* 0 when not replayed */
	char *request;		/* "GET /a?b=1", "SET k", SQL (shortened) */
	enum dt_diff_outcome outcome;
	char *reason;		/* failed, skipped: why; else NULL */
	size_t nitems;
	struct dt_diff_item *items;
	uint64_t differences;	/* unexplained, including those not kept */
	uint64_t noise;		/* explained, including those not kept */
};

/* Exchanges kept per endpoint and in all; the others are only counted. */
#define DT_DIFF_MAX_LISTED 100
#define DT_DIFF_MAX_LISTED_TOTAL 10000

/*
 * Exchanges grouped by endpoint: "GET /path" (query left out) for HTTP,
 * "redis <COMMAND>", "mysql <SQL>" (normalised, shortened) or
 * "mysql <COM_...>" for MySQL.
 */
struct dt_diff_endpoint {
	char *name;
	uint32_t protocol;	/* enum dt_protocol */
	uint64_t counts[DT_DIFF_NOUTCOMES];
	size_t nexchanges;	/* listed: every outcome but same */
	struct dt_diff_exchange *exchanges; /* in recorded order */
	uint64_t unlisted;	/* past the listing limits */
};

struct dt_diff_report {
	uint64_t exchanges;	/* recorded exchanges compared */
	uint64_t counts[DT_DIFF_NOUTCOMES];
	uint64_t unmatched_replays; /* replays of no recorded exchange */
	size_t nendpoints;
	struct dt_diff_endpoint *endpoints; /* in order of first exchange */
	size_t nwarnings;
	char **warnings;	/* e.g. a session without trailer */
	/* what was compared, for the reports (NULL when unknown) */
	char *recorded_label;
	char *replayed_label;
	char *noise_label;
};

void dt_diff_report_free(struct dt_diff_report *report);

/* 1 when an exchange differs or failed, else 0: the exit code of
 * `deetune diff` for a report. */
int dt_diff_exit_code(const struct dt_diff_report *report);

/*
 * Report writers. Each returns 0, or a negative errno when writing failed
 * (ferror) or memory ran out. text: details of the exchanges that did not
 * compare the same, a table of the endpoints and a summary line. json: the
 * whole report (man/deetune-diff.1, JSON REPORT). junit: one testcase per
 * endpoint, a <failure> per differing exchange, an <error> per failed one.
 * The text report leaves the warnings to the caller (stderr).
 */
int dt_diff_write_text(FILE *out, const struct dt_diff_report *report);
int dt_diff_write_json(FILE *out, const struct dt_diff_report *report);
int dt_diff_write_junit(FILE *out, const struct dt_diff_report *report);

/* ---------------------------------------------------------------------- */
/* The engine: exchanges in memory                                         */
/* ---------------------------------------------------------------------- */

struct dt_diff_opts {
	const struct dt_diff_rules *rules; /* NULL: default rules; borrowed,
					      must outlive the dt_diff */
	bool unordered_rows;	/* MySQL rows of SQL without ORDER BY compare
				   as a multiset */
};

struct dt_diff;

/* On success *out is owned by the caller: dt_diff_finish() or
 * dt_diff_free(). 0 or -ENOMEM. */
int dt_diff_new(struct dt_diff **out, const struct dt_diff_opts *opts);

/*
 * Learns noise for the recorded exchange rec from two replays of it, a and
 * b: every field in which a and b differ is noise when rec is compared by
 * dt_diff_add() later. Call it before dt_diff_add(rec). 0 or -ENOMEM.
 */
int dt_diff_learn(struct dt_diff *d, const struct dt_exchange *rec,
		  const struct dt_exchange *a, const struct dt_exchange *b);

/* Compares the recorded exchange rec with its replay rep (NULL when it was
 * not replayed). Both stay owned by the caller. 0 or -ENOMEM. */
int dt_diff_add(struct dt_diff *d, const struct dt_exchange *rec,
		const struct dt_exchange *rep);

/* Counts a replayed exchange whose link_id names no recorded exchange. */
void dt_diff_add_unmatched(struct dt_diff *d);

/* Adds a warning to the report (copied, escaped). 0 or -ENOMEM. */
int dt_diff_warn(struct dt_diff *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets the labels the reports show (copied, escaped; NULL: none).
 * 0 or -ENOMEM. */
int dt_diff_set_labels(struct dt_diff *d, const char *recorded,
		       const char *replayed, const char *noise);

/* Ends the diff and frees d, also on failure. On success *out is owned by
 * the caller (dt_diff_report_free). 0 or -ENOMEM. */
int dt_diff_finish(struct dt_diff *d, struct dt_diff_report **out);
void dt_diff_free(struct dt_diff *d);

/* ---------------------------------------------------------------------- */
/* Session files                                                           */
/* ---------------------------------------------------------------------- */

struct dt_diff_session_opts {
	const char *rules_path;	/* NULL: default rules */
	const char *noise_path;	/* second replay to learn noise, or NULL */
	bool unordered_rows;
};

/*
 * Diffs the session file replayed_path (a replay of recorded_path: each
 * exchange's link_id is the id of the recorded exchange it replays)
 * against recorded_path. Sessions without a trailer are read up to their
 * last complete frame, with a warning in the report. On success *out is
 * owned by the caller (dt_diff_report_free). Returns 0, or a negative
 * errno with a message in err: a file that cannot be read, is not a
 * session or is damaged, a bad rules file, -ENOMEM.
 */
int dt_diff_sessions(const struct dt_diff_session_opts *opts,
		     const char *recorded_path, const char *replayed_path,
		     struct dt_diff_report **out, char *err, size_t errlen);

#endif /* DEETUNE_DIFF_H */
