/* SPDX-License-Identifier: MIT */
/*
 * cli: the `deetune` tool. main.c dispatches to one file per subcommand
 * (cmd_<name>.c); helpers shared by the subcommands live in util.c.
 *
 * Exit codes for every subcommand:
 *   0  success
 *   1  the input was read but is bad (corrupt or truncated session file)
 *   2  usage error, or the environment cannot do it (no BPF, no root)
 */
#ifndef DEETUNE_CLI_H
#define DEETUNE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_DATA 1
#define EXIT_USAGE 2

struct dt_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int cmd_record(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_task(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_topo(int argc, char **argv);

/* Print "deetune <cmd>: <message>" to stderr ("deetune: " before a
 * subcommand is known); cli_error() returns EXIT_USAGE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A whole file mapped read-only (or read from stdin when path is "-"). */
struct cli_file {
	const uint8_t *data;
	size_t len;
	int mapped;   /* private: munmap() vs free() */
};
/* Returns 0, or a negative errno after printing why. Release with
 * cli_file_close(). */
int cli_file_open(struct cli_file *f, const char *path);
void cli_file_close(struct cli_file *f);

/* Parses "30s", "500ms", "2m", "1h", "10" (seconds) into nanoseconds.
 * Returns 0 or -EINVAL. */
int cli_parse_duration(const char *s, uint64_t *ns);

/* Parses a selector (--server when server, else --client) into
 * sels[*n] and counts it, or a --match expression into m[*n]; at most max.
 * Returns 0, or EXIT_USAGE after printing why. */
struct dt_selector;
struct dt_match;
int cli_add_selector(struct dt_selector *sels, size_t *n, size_t max,
		     const char *text, bool server);
int cli_add_match(struct dt_match *m, size_t *n, size_t max,
		  const char *text);

/* Flushes stdout and reports a write error (e.g. EPIPE, ENOSPC) the way
 * git does; returns the exit code to use. */
int cli_finish_stdout(int code);

/* ---------------------------------------------------------------------- */
/* Added for `cat` and `inspect` (util.c, json_out.c)                      */
/* ---------------------------------------------------------------------- */

#include <stdbool.h>

struct json_t;
struct dt_exchange;

/*
 * Called first by a subcommand: cli_warn() then prints "deetune <name>: ",
 * and argv[0] becomes "deetune <name>" so that getopt_long()'s own
 * messages ("deetune cat: unrecognized option '--x'") say the same.
 */
void cli_begin_command(char **argv, const char *name);
/* Prints usage to stderr after a bad command line; returns EXIT_USAGE. */
int cli_bad_usage(const char *usage);

/* How messages name an input: "<stdin>" for "-", else the path itself. */
const char *cli_file_label(const char *path);

/* Parses a whole string of decimal digits (no sign, no spaces).
 * Returns 0 or -EINVAL (also past UINT64_MAX). */
int cli_parse_u64(const char *s, uint64_t *value);


/* Copies src[0..len) into dst (NUL-terminated, cut to fit size) for a
 * terminal: control characters (C0, DEL, C1), with which a hostile file
 * could send escape sequences, and bytes that are not UTF-8 become '?'. */
void cli_terminal_safe(char *dst, size_t size, const void *src, size_t len);

/* True once a write to stdout has failed; remembers the errno for
 * cli_finish_stdout(). Commands writing much output call it after each
 * record, to stop early instead of writing into the void. */
bool cli_stdout_failed(void);
/* Flushes stdout now, so that a message on stderr comes after the output
 * it follows; a failure is remembered as by cli_stdout_failed(). */
void cli_flush_stdout(void);

/*
 * JSON values for what `deetune cat` and `inspect --json` print. Each
 * returns a new reference owned by the caller (json_decref()), or NULL when
 * out of memory.
 *
 * cli_json_text: a JSON string of arbitrary bytes. Each byte that is not
 * part of a well-formed UTF-8 sequence becomes U+FFFD; NUL is kept
 * (escaped as \u0000). The exact bytes are in "raw" (base64) instead.
 * cli_json_u64: an integer; values above INT64_MAX (only in hostile files)
 * become a JSON real, rounded, rather than a negative number.
 * cli_json_base64: standard alphabet, padded.
 * cli_exchange_to_json: one line of `deetune cat` (see deetune-cat(1));
 * with_raw adds the base64 "raw" bytes of request and response.
 */
struct json_t *cli_json_text(const void *bytes, size_t len);
struct json_t *cli_json_u64(uint64_t value);
struct json_t *cli_json_base64(const void *data, size_t len);
/* Sets obj[key] for a key of arbitrary bytes, cleaned like cli_json_text().
 * Steals value, also on failure (as json_object_set_new()); 0 or -1. */
int cli_json_set_text_key(struct json_t *obj, const void *key, size_t len,
			  struct json_t *value);
struct json_t *cli_exchange_to_json(const struct dt_exchange *x, bool with_raw);

/* A JSON string when the bytes are UTF-8, else {"base64": "..."}:
 * binary-safe without hiding that the bytes were not text. */
struct json_t *cli_json_bytes(const void *data, size_t len);

/* Adds one header to o; a name seen before collects its values into an
 * array, in order. Returns 0 or -1. */
struct dt_http1_header;
int cli_json_header_add(struct json_t *o, const struct dt_http1_header *h);

/* json_http2.c: HTTP/2 fields of one side of x (pseudo-headers, headers,
 * trailers, body; gRPC call, status and decoded messages), added to o. */
struct dt_exchange;
int cli_http2_message_to_json(struct json_t *o, const struct dt_exchange *x,
			      bool is_request);
/* Names the fields of the gRPC messages in exchange, the `cat` JSON of x,
 * by the input and output types d gives x's method; nothing when d does
 * not declare the method. Returns 0 or -1 (out of memory). */
struct dt_pb_descriptors;
int cli_http2_name_grpc_fields(struct json_t *exchange,
			       const struct dt_exchange *x,
			       const struct dt_pb_descriptors *d);

/* json_redis.c: Redis fields of a request or reply (command, args; type,
 * summary, error) added to o; nothing when the bytes don't parse. */
int cli_redis_message_to_json(struct json_t *o, const uint8_t *buf,
			      size_t len,
			      bool is_request);

/* json_mysql.c: MySQL fields (command, sql, params; kind, columns,
 * rows, error...) of one side of x, added to o. */
struct dt_exchange;
int cli_mysql_message_to_json(struct json_t *o, const struct dt_exchange *x,
			      bool is_request);

#endif /* DEETUNE_CLI_H */
