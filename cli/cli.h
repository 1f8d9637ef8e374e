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

/* Prints "deetune: <message>" to stderr; returns EXIT_USAGE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "deetune <cmd>: <message>" to stderr. */
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

/* Flushes stdout and reports a write error (e.g. EPIPE, ENOSPC) the way
 * git does; returns the exit code to use. */
int cli_finish_stdout(int code);

#endif /* DEETUNE_CLI_H */
