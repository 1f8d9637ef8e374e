/* SPDX-License-Identifier: MIT */
/*
 * replayer: reissues the requests of a recorded session against targets
 * (HTTP through libcurl's multi interface, Redis through hiredis, MySQL
 * through libmariadb) under pacing, rate and concurrency controls, and
 * writes the responses as a new session whose exchanges link to the
 * recorded ones (dt_exchange.link_id).
 *
 * Credentials: a target's password comes from its URL, a credentials file
 * or the environment. It is never written to a message, a log line or the
 * output session; dt_target_format() and dt_target_redact_url() are the
 * only ways this module shows a target.
 */
#ifndef DEETUNE_REPLAYER_H
#define DEETUNE_REPLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dt_exchange;

/* ---------------------------------------------------------------------- */
/* Targets and credentials (target.c)                                      */
/* ---------------------------------------------------------------------- */

enum dt_target_scheme {
	DT_TARGET_HTTP = 1,   /* http[s]://host[:port]       HTTP/1, HTTP/2 */
	DT_TARGET_REDIS,      /* redis://[[user]:pass@]host[:port][/db] */
	DT_TARGET_MYSQL,      /* mysql://user[:pass]@host[:port][/db] */
};

struct dt_target {
	enum dt_target_scheme scheme;
	uint32_t protocol;     /* enum dt_protocol the target answers */
	char host[256];        /* name or address, IPv6 without brackets */
	uint16_t port;         /* the scheme's default when the URL has none */
	char user[128];        /* "" when none */
	char password[256];    /* "" when none; see has_password */
	bool has_password;
	char db[65];           /* MySQL schema, "" = the recorded one */
	int redis_db;          /* Redis database, -1 = not given */
	bool tls;              /* https:// */
};

/*
 * Parses a target URL (scheme and host case-insensitive, user and password
 * percent-decoded). Returns 0, or -EINVAL with a message in err that shows
 * the URL with its credentials replaced by "***".
 */
int dt_target_parse(struct dt_target *t, const char *url, char *err,
		    size_t errlen);

/* Writes the target as a URL without credentials ("mysql://app@db:3306/
 * shop" keeps the user, never the password). Returns the length, or
 * -ENOSPC when it does not fit (buf then holds a cut string). */
int dt_target_format(const struct dt_target *t, char *buf, size_t size);

/* Copies url into buf (NUL-terminated, cut to fit) with the password of
 * its userinfo, if any, replaced by "***": for command lines stored as
 * metadata and for messages about a URL that did not parse. */
void dt_target_redact_url(const char *url, char *buf, size_t size);

/*
 * Fills in the passwords (and MySQL users) the URLs left out, first from
 * a credentials file (path NULL: none), then from the environment
 * (DEETUNE_REDIS_PASSWORD, DEETUNE_MYSQL_PASSWORD). The file holds lines
 *   redis=PASSWORD          redis=USER:PASSWORD
 *   mysql=USER:PASSWORD
 * blank lines and lines starting with '#' are ignored; everything after
 * the first '=' (or the user's ':') up to the end of the line is the
 * password. A mysql line's USER applies when the URL names no user or the
 * same one. Returns 0, or a negative errno with a message in err (which
 * names the file and line, never the secret).
 */
int dt_credentials_apply(struct dt_target *targets, size_t n,
			 const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/* HTTP header edits (http_request.c)                                      */
/* ---------------------------------------------------------------------- */

/* --set-header "Name: value" (value set) or --drop-header Name (value
 * NULL). Both strings are owned by whoever made the edit. */
struct dt_header_edit {
	char *name;
	char *value;
};

/* Parses "Name: value" (--set-header; drop false) or "Name" (--drop-header)
 * into e, copying the parts (release with dt_header_edit_release). The name
 * must be an HTTP token; the value must not hold CR or LF. 0, -EINVAL
 * (message in err) or -ENOMEM. */
int dt_header_edit_parse(struct dt_header_edit *e, const char *text,
			 bool drop, char *err, size_t errlen);
void dt_header_edit_release(struct dt_header_edit *e);

/* ---------------------------------------------------------------------- */
/* Replaying (replay.c)                                                    */
/* ---------------------------------------------------------------------- */

/* Chooses the recorded exchanges to replay (--match); NULL: all. */
typedef bool (*dt_replay_select_fn)(const struct dt_exchange *x, void *ctx);

struct dt_replay_opts {
	const uint8_t *session;      /* the recorded session's bytes */
	size_t session_len;
	const char *session_label;   /* its name in messages and metadata */
	const char *output;          /* path of the session to write */
	const char *command;         /* command line for the metadata, with
					credentials already redacted */
	const struct dt_target *targets;
	size_t ntargets;             /* at most one per scheme */
	dt_replay_select_fn select;
	void *select_ctx;
	unsigned concurrency;        /* requests in flight at most (>= 1) */
	double rate;                 /* requests started per second, 0 = no cap */
	double speed;                /* recorded gaps divided by this, 0 = max */
	const struct dt_header_edit *edits;
	size_t nedits;
	const char *host;            /* Host header to send; NULL: the target's */
	uint64_t timeout_ns;         /* per request and per connection attempt */
	unsigned retries;            /* extra attempts after a failure to
					connect or to get a response */
	const char *cacert;          /* https: CA certificates (PEM file) to
					verify the target with; NULL: the
					system's */
	bool insecure;               /* https: no certificate verification */
	bool progress;               /* live progress line on stderr */
};

/* Sensible defaults: concurrency 64, speed 1, timeout 10 s, no retries. */
void dt_replay_opts_init(struct dt_replay_opts *o);

struct dt_replay_summary {
	uint64_t selected;           /* recorded exchanges chosen to replay */
	uint64_t replayed;           /* answered by the target */
	uint64_t failed;             /* sent (or due) but not answered */
	uint64_t skipped;            /* not replayable (recorded request
					incomplete, unsupported command) */
	uint64_t written;            /* exchanges in the output session */
	uint64_t elapsed_ns;
	bool unreachable;            /* a target never accepted a connection */
	bool interrupted;            /* SIGINT/SIGTERM stopped the replay */
};

/*
 * Replays the session. Messages go to stderr. Returns the exit code the
 * CLI uses: 0 every request was answered, 1 some failed, 2 the session or
 * the options are unusable, the output cannot be written, a target was
 * unreachable (no connection to it ever succeeded, e.g. it is down or
 * refuses the credentials) or the replay was interrupted. When the output
 * was opened, it is finished (readable) whatever the code.
 *
 * Call it from the main thread, one run at a time: it sets up and tears
 * down libcurl and libmariadb, and blocks SIGINT and SIGTERM while its
 * threads run, taking them itself (an orderly stop).
 */
int dt_replay_run(const struct dt_replay_opts *o, struct dt_replay_summary *s);

#endif /* DEETUNE_REPLAYER_H */
