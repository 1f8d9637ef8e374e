// SPDX-License-Identifier: MIT
/* deetune cat: a session's exchanges as JSON lines (see deetune-cat(1)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/formats.h"

static const char cat_usage[] =
	"usage: deetune cat [--raw] FILE\n"
	"\n"
	"Prints every exchange of the session FILE (- for standard input) as\n"
	"one JSON object per line.\n"
	"\n"
	"  --raw       add the exact request and response bytes, base64\n"
	"  -h, --help  print this help\n";

/* Returns 0, or -ENOMEM. A failed write shows in cli_stdout_failed(). */
static int cat_print_exchange(const struct dt_exchange *x, bool with_raw)
{
	json_t *obj = cli_exchange_to_json(x, with_raw);
	int err = 0;

	if (!obj)
		return -ENOMEM;
	if (json_dumpf(obj, stdout, JSON_COMPACT) < 0 && !ferror(stdout))
		err = -ENOMEM;
	else
		putchar('\n');
	json_decref(obj);
	return err;
}

/* Prints exchanges until the end of the session, damage, or a failed
 * write; returns the exit code. */
static int cat_session(struct dt_session_reader *r, const char *label,
		       bool with_raw)
{
	struct dt_exchange x;
	uint64_t n = 0;
	int rc, code = 0;

	dt_exchange_init(&x);
	while ((rc = dt_session_reader_next(r, &x)) == 1) {
		n++;
		if (cat_print_exchange(&x, with_raw) < 0) {
			cli_warn("out of memory at exchange %" PRIu64, x.id);
			code = EXIT_USAGE;
			break;
		}
		if (cli_stdout_failed())
			break;
	}
	dt_exchange_release(&x);
	/* what was printed comes before what went wrong after it */
	cli_flush_stdout();
	if (rc < 0) {
		cli_warn("%s: %s", label, dt_session_reader_error(r));
		code = EXIT_DATA;
	} else if (rc == 0 && !dt_session_reader_has_trailer(r)) {
		cli_warn("warning: %s has no trailer (recording was "
			 "interrupted); read %" PRIu64 " exchanges", label, n);
	}
	return code;
}

static int cat_file(const char *path, bool with_raw)
{
	const char *label = cli_file_label(path);
	struct dt_session_reader *r;
	struct cli_file f;
	char err[256] = "";
	int rc, code;

	if (cli_file_open(&f, path) < 0)
		return EXIT_USAGE;
	rc = dt_session_reader_open(&r, f.data, f.len, err, sizeof(err));
	if (rc < 0) {
		cli_warn("%s: %s", label, err[0] ? err : strerror(-rc));
		code = EXIT_DATA;
		goto out_file;
	}
	code = cat_session(r, label, with_raw);
	dt_session_reader_free(r);
out_file:
	cli_file_close(&f);
	return code;
}

int cmd_cat(int argc, char **argv)
{
	static const struct option options[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool with_raw = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			with_raw = true;
			break;
		case 'h':
			fputs(cat_usage, stdout);
			return cli_finish_stdout(0);
		default:
			return cli_bad_usage(cat_usage);
		}
	}
	if (argc - optind != 1) {
		cli_warn("expected one session file, got %d arguments",
			 argc - optind);
		return cli_bad_usage(cat_usage);
	}
	return cli_finish_stdout(cat_file(argv[optind], with_raw));
}
