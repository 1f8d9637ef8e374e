// SPDX-License-Identifier: MIT
/* deetune diff: compare a replay with its recording (see deetune-diff(1)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "diff/diff.h"

static const char diff_usage[] =
	"usage: deetune diff [options] RECORDED REPLAYED\n"
	"\n"
	"Compares the responses of the session REPLAYED, a replay of RECORDED,\n"
	"with the recorded ones. Exits 0 when nothing differs but noise, 1 when\n"
	"exchanges differ or were not replayed, 2 on errors.\n"
	"\n"
	"  --rules FILE        noise rules: ignored headers and JSON paths,\n"
	"                      regex normalisers (JSON, see deetune-diff(1))\n"
	"  --learn-noise FILE  a second replay of RECORDED against the same\n"
	"                      target: what differs between the two replays\n"
	"                      is noise\n"
	"  --unordered-rows    MySQL rows of SQL without ORDER BY compare in\n"
	"                      any order\n"
	"  --json FILE         write a JSON report (- for standard output)\n"
	"  --junit FILE        write a JUnit XML report\n"
	"  -q, --quiet         no report on standard output\n"
	"  -h, --help          print this help\n";

struct diff_args {
	const char *recorded, *replayed;
	const char *rules;	/* --rules, NULL for none */
	const char *noise;	/* --learn-noise: a second replay, or NULL */
	const char *json, *junit; /* report paths, "-": stdout, NULL: none */
	bool unordered_rows;
	bool quiet;
};

typedef int (*report_writer)(FILE *out, const struct dt_diff_report *r);

/* Writes a report to path ("-": standard output); 0 or EXIT_USAGE. */
static int write_report(const char *path, const char *what,
			report_writer writer, const struct dt_diff_report *r)
{
	FILE *out = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int ret;

	if (!out) {
		cli_warn("cannot write the %s report to %s: %s", what, path,
			 strerror(errno));
		return EXIT_USAGE;
	}
	ret = writer(out, r);
	if (out != stdout && fclose(out) && !ret)
		ret = -errno;
	if (ret) {
		cli_warn("cannot write the %s report to %s: %s", what,
			 cli_file_label(path), strerror(-ret));
		return EXIT_USAGE;
	}
	return 0;
}

static bool to_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

static int write_reports(const struct diff_args *a,
			 const struct dt_diff_report *r)
{
	int code = 0;
	size_t i;

	for (i = 0; i < r->nwarnings; i++)
		cli_warn("warning: %s", r->warnings[i]);
	if (a->json)
		code = write_report(a->json, "JSON", dt_diff_write_json, r);
	if (!code && a->junit)
		code = write_report(a->junit, "JUnit", dt_diff_write_junit, r);
	/* a report written to standard output replaces the text */
	if (!code && !a->quiet && !to_stdout(a->json) && !to_stdout(a->junit) &&
	    dt_diff_write_text(stdout, r) == -ENOMEM)
		code = cli_error("out of memory");
	return code;
}

static int diff_run(const struct diff_args *a)
{
	struct dt_diff_session_opts opts = {
		.rules_path = a->rules,
		.noise_path = a->noise,
		.unordered_rows = a->unordered_rows,
	};
	struct dt_diff_report *r;
	char err[512];
	int code;

	if (dt_diff_sessions(&opts, a->recorded, a->replayed, &r, err,
			     sizeof(err)))
		return cli_error("%s", err);
	code = write_reports(a, r);
	if (!code)
		code = dt_diff_exit_code(r);
	dt_diff_report_free(r);
	return code;
}

int cmd_diff(int argc, char **argv)
{
	enum { OPT_RULES = 256, OPT_LEARN, OPT_UNORDERED, OPT_JSON,
	       OPT_JUNIT };
	static const struct option options[] = {
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "learn-noise", required_argument, NULL, OPT_LEARN },
		{ "unordered-rows", no_argument, NULL, OPT_UNORDERED },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diff_args a = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
		switch (c) {
		case OPT_RULES:
			a.rules = optarg;
			break;
		case OPT_LEARN:
			a.noise = optarg;
			break;
		case OPT_UNORDERED:
			a.unordered_rows = true;
			break;
		case OPT_JSON:
			a.json = optarg;
			break;
		case OPT_JUNIT:
			a.junit = optarg;
			break;
		case 'q':
			a.quiet = true;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return cli_finish_stdout(0);
		default:
			return cli_bad_usage(diff_usage);
		}
	}
	if (argc - optind != 2) {
		cli_warn("expected RECORDED and REPLAYED, got %d arguments",
			 argc - optind);
		return cli_bad_usage(diff_usage);
	}
	if (to_stdout(a.json) && to_stdout(a.junit)) {
		cli_warn("--json and --junit cannot both go to standard "
			 "output");
		return cli_bad_usage(diff_usage);
	}
	a.recorded = argv[optind];
	a.replayed = argv[optind + 1];
	return cli_finish_stdout(diff_run(&a));
}
