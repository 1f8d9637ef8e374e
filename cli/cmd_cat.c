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
	"usage: deetune cat [--raw] [--proto-descriptors SET] FILE\n"
	"\n"
	"Prints every exchange of the session FILE (- for standard input) as\n"
	"one JSON object per line.\n"
	"\n"
	"  --raw                    add the exact request and response bytes,\n"
	"                           base64\n"
	"  --proto-descriptors SET  name the protobuf fields of gRPC messages\n"
	"                           from SET, a FileDescriptorSet (protoc\n"
	"                           --descriptor_set_out=SET --include_imports)\n"
	"  -h, --help               print this help\n";

struct cat_opts {
	bool with_raw;
	const struct dt_pb_descriptors *descriptors;	/* or NULL */
};

/* Returns 0, or -ENOMEM. A failed write shows in cli_stdout_failed(). */
static int cat_print_exchange(const struct dt_exchange *x,
			      const struct cat_opts *o)
{
	json_t *obj = cli_exchange_to_json(x, o->with_raw);
	int err = 0;

	if (!obj)
		return -ENOMEM;
	if (o->descriptors &&
	    cli_http2_name_grpc_fields(obj, x, o->descriptors) < 0) {
		json_decref(obj);
		return -ENOMEM;
	}
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
		       const struct cat_opts *o)
{
	struct dt_exchange x;
	uint64_t n = 0;
	int rc, code = 0;

	dt_exchange_init(&x);
	while ((rc = dt_session_reader_next(r, &x)) == 1) {
		n++;
		if (cat_print_exchange(&x, o) < 0) {
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

static int cat_file(const char *path, const struct cat_opts *o)
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
	code = cat_session(r, label, o);
	dt_session_reader_free(r);
out_file:
	cli_file_close(&f);
	return code;
}

/* *out = the descriptor set in path, owned by the caller; 0, or the
 * exit code after saying what was wrong. */
static int cat_load_descriptors(const char *path,
				struct dt_pb_descriptors **out)
{
	struct cli_file f;
	char err[256] = "";
	int rc;

	if (cli_file_open(&f, path) < 0)
		return EXIT_USAGE;
	rc = dt_pb_descriptors_load(f.data, f.len, out, err, sizeof(err));
	cli_file_close(&f);
	if (rc < 0) {
		cli_warn("%s: %s", cli_file_label(path),
			 err[0] ? err : strerror(-rc));
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_cat(int argc, char **argv)
{
	static const struct option options[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "proto-descriptors", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dt_pb_descriptors *descriptors = NULL;
	struct cat_opts o = { .with_raw = false };
	const char *descriptors_path = NULL;
	int c, code;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.with_raw = true;
			break;
		case 'p':
			descriptors_path = optarg;
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
	if (descriptors_path && !strcmp(descriptors_path, "-") &&
	    !strcmp(argv[optind], "-")) {
		cli_warn("the session and the descriptor set cannot both be "
			 "standard input");
		return cli_bad_usage(cat_usage);
	}
	if (descriptors_path) {
		code = cat_load_descriptors(descriptors_path, &descriptors);
		if (code)
			return code;
		o.descriptors = descriptors;
	}
	code = cat_file(argv[optind], &o);
	dt_pb_descriptors_free(descriptors);
	return cli_finish_stdout(code);
}
