// SPDX-License-Identifier: MIT
/* deetune replay: reissue a session's requests against targets and write
 * the responses as a new session (see deetune-replay(1)); with --diff,
 * compare them with the recorded ones in the same run. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "formats/formats.h"
#include "recorder/recorder.h"
/* dt_match_exchange(): --match reads as it does for `record` */
#include "recorder/recorder.h"
#include "replayer/replayer.h"

#define MAX_TARGETS 3
#define MAX_EDITS 64

static const char replay_usage[] =
	"usage: deetune replay SESSION --target URL [--target URL...] -o OUT\n"
	"                      [--concurrency N] [--rate R] [--speed X|max]\n"
	"                      [--match EXPR...] [--set-header 'Name: value'...]\n"
	"                      [--drop-header NAME...] [--host HOST]\n"
	"                      [--timeout D] [--retries N]\n"
	"                      [--credentials-file FILE] [--cacert FILE]\n"
	"                      [--insecure] [--quiet]\n"
	"                      [--diff [--rules FILE] [--json FILE]\n"
	"                       [--junit FILE] [--unordered-rows] [--learn-noise]]\n"
	"\n"
	"Replays the requests of the session file SESSION against the targets\n"
	"and writes the responses to the session file OUT, each exchange linked\n"
	"to the recorded one it replays.\n"
	"\n"
	"  -t, --target URL        http[s]://HOST[:PORT]  redis://[[USER]:PASS@]HOST[:PORT][/DB]\n"
	"                          mysql://USER[:PASS]@HOST[:PORT][/DB]; one per protocol\n"
	"  -o, --output OUT        session file to write\n"
	"  -c, --concurrency N     requests in flight at most (default 64)\n"
	"  -r, --rate R            start at most R requests a second (R or R/s)\n"
	"  -s, --speed X|max       recorded gaps divided by X (default 1); max: no gaps\n"
	"  -m, --match EXPR        replay only matching exchanges (repeatable), read\n"
	"                          as by deetune record --match\n"
	"      --set-header 'N: V' set an HTTP header (replaces any of that name)\n"
	"      --drop-header NAME  remove an HTTP header\n"
	"      --host HOST         Host header to send (default: the target's)\n"
	"      --timeout D         per request and connection attempt (default 10s)\n"
	"      --retries N         extra attempts after a failure to connect or, for\n"
	"                          HTTP, to get a response (default 0)\n"
	"      --credentials-file FILE  passwords: lines redis=PASS, mysql=USER:PASS\n"
	"                          (also DEETUNE_REDIS_PASSWORD, DEETUNE_MYSQL_PASSWORD)\n"
	"      --cacert FILE       https: verify the target with these CA certificates\n"
	"                          (PEM) instead of the system's\n"
	"  -k, --insecure          https: do not verify the target's certificate\n"
	"  -q, --quiet             no progress line, no summary, no diff report on\n"
	"                          standard output\n"
	"      --diff              then compare OUT with SESSION as deetune diff does;\n"
	"                          --rules, --json, --junit, --unordered-rows as there;\n"
	"                          --learn-noise replays once more into OUT.noise and\n"
	"                          counts what differs between the two replays as noise\n"
	"  -h, --help              show this help\n"
	"\n"
	"Exit status: 0 all answered (with --diff: no unexplained difference),\n"
	"1 some requests failed (--diff: differences), 2 usage error, unusable\n"
	"session, unreachable target or interrupted. See deetune-replay(1).\n";

struct replay_cli {
	struct dt_replay_opts opts;
	const char *session_path;
	struct dt_target targets[MAX_TARGETS];
	size_t ntargets;
	struct dt_header_edit edits[MAX_EDITS];
	size_t nedits;
	struct dt_match matches[DT_RECORD_MAX_MATCHES];
	size_t nmatches;
	const char *credentials;
	bool quiet;
	bool diff;
	bool learn_noise;
	bool unordered_rows;
	const char *rules_path;
	const char *json_path;
	const char *junit_path;
};

enum {
	OPT_SET_HEADER = 256, OPT_DROP_HEADER, OPT_HOST, OPT_TIMEOUT,
	OPT_RETRIES, OPT_CREDENTIALS, OPT_DIFF, OPT_RULES, OPT_JSON,
	OPT_JUNIT, OPT_UNORDERED, OPT_LEARN, OPT_CACERT,
};

static bool select_match(const struct dt_exchange *x, void *ctx)
{
	const struct replay_cli *r = ctx;

	return dt_match_exchange(r->matches, r->nmatches, x);
}

/* ---- option values ----------------------------------------------------- */

/* A positive decimal number ("2", "0.5"); rate: an optional "/s". */
static int parse_positive(const char *s, bool rate, double *out)
{
	char *end;
	double v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (rate && !strcmp(end, "/s"))
		end += 2;
	if (errno || *end || end == s || !(v > 0) || v > 1e9)
		return -EINVAL;
	*out = v;
	return 0;
}

static int add_target(struct replay_cli *r, const char *url)
{
	struct dt_target t;
	char err[600];

	if (dt_target_parse(&t, url, err, sizeof(err)))
		return cli_error("%s", err);
	for (size_t i = 0; i < r->ntargets; i++)
		if (r->targets[i].scheme == t.scheme)
			return cli_error("one --target per protocol: two %.*s "
					 "targets given",
					 (int)(strstr(url, "://") - url), url);
	r->targets[r->ntargets++] = t;
	/* the parsed copy is all that is kept */
	memset(&t, 0, sizeof(t));
	return 0;
}

static int add_edit(struct replay_cli *r, const char *text, bool drop)
{
	char err[300];

	if (r->nedits == MAX_EDITS)
		return cli_error("at most %d header edits", MAX_EDITS);
	if (dt_header_edit_parse(&r->edits[r->nedits], text, drop, err,
				 sizeof(err)))
		return cli_error("%s", err);
	r->nedits++;
	return 0;
}

static int add_match(struct replay_cli *r, const char *text)
{
	char err[256];

	if (r->nmatches == DT_RECORD_MAX_MATCHES)
		return cli_error("at most %d --match expressions",
				 DT_RECORD_MAX_MATCHES);
	if (dt_match_parse(&r->matches[r->nmatches], text, err, sizeof(err)))
		return cli_error("%s", err);
	r->nmatches++;
	return 0;
}

static int set_speed(struct replay_cli *r, const char *s)
{
	if (!strcmp(s, "max")) {
		r->opts.speed = 0;
		return 0;
	}
	if (parse_positive(s, false, &r->opts.speed))
		return cli_error("invalid --speed '%s' (a positive number or "
				 "max)", s);
	return 0;
}

static int set_count(const char *s, const char *what, uint64_t min,
		     uint64_t max, unsigned *out)
{
	uint64_t v;

	if (cli_parse_u64(s, &v) || v < min || v > max)
		return cli_error("invalid %s '%s' (%" PRIu64 " to %" PRIu64 ")",
				 what, s, min, max);
	*out = (unsigned)v;
	return 0;
}

/* ---- the command line -------------------------------------------------- */

static int parse_option(struct replay_cli *r, int opt, const char *arg)
{
	switch (opt) {
	case 't':
		if (r->ntargets == MAX_TARGETS)
			return cli_error("at most %d targets (one per "
					 "protocol)", MAX_TARGETS);
		return add_target(r, arg);
	case 'o':
		r->opts.output = arg;
		return 0;
	case 'c':
		return set_count(arg, "--concurrency", 1, 100000,
				 &r->opts.concurrency);
	case 'r':
		if (parse_positive(arg, true, &r->opts.rate))
			return cli_error("invalid --rate '%s' (requests a "
					 "second, e.g. 200 or 200/s)", arg);
		return 0;
	case 's':
		return set_speed(r, arg);
	case 'm':
		return add_match(r, arg);
	case OPT_SET_HEADER:
	case OPT_DROP_HEADER:
		return add_edit(r, arg, opt == OPT_DROP_HEADER);
	case OPT_HOST:
		if (!*arg || strpbrk(arg, "\r\n"))
			return cli_error("invalid --host '%s'", arg);
		r->opts.host = arg;
		return 0;
	case OPT_TIMEOUT:
		if (cli_parse_duration(arg, &r->opts.timeout_ns) ||
		    r->opts.timeout_ns < 1000000)
			return cli_error("invalid --timeout '%s' (e.g. 10s, "
					 "500ms)", arg);
		return 0;
	case OPT_RETRIES:
		return set_count(arg, "--retries", 0, 100, &r->opts.retries);
	case OPT_CREDENTIALS:
		r->credentials = arg;
		return 0;
	case OPT_CACERT:
		/* curl would fail each request alike: say it once, now */
		if (access(arg, R_OK))
			return cli_error("--cacert %s: %s", arg,
					 strerror(errno));
		r->opts.cacert = arg;
		return 0;
	case 'k':
		r->opts.insecure = true;
		return 0;
	case 'q':
		r->quiet = true;
		return 0;
	case OPT_DIFF:
		r->diff = true;
		return 0;
	case OPT_RULES:
		r->rules_path = arg;
		return 0;
	case OPT_JSON:
		r->json_path = arg;
		return 0;
	case OPT_JUNIT:
		r->junit_path = arg;
		return 0;
	case OPT_UNORDERED:
		r->unordered_rows = true;
		return 0;
	case OPT_LEARN:
		r->learn_noise = true;
		return 0;
	}
	return cli_bad_usage(replay_usage);
}

/* True when both paths name one existing file. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return strcmp(a, "-") && !stat(a, &sa) && !stat(b, &sb) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool has_https_target(const struct replay_cli *r)
{
	for (size_t i = 0; i < r->ntargets; i++)
		if (r->targets[i].tls)
			return true;
	return false;
}

static int check_options(struct replay_cli *r, int argc, char **argv)
{
	bool diff_opts = r->rules_path || r->json_path || r->junit_path ||
			 r->unordered_rows || r->learn_noise;

	if (argc - optind != 1) {
		cli_warn("expected one session file, got %d arguments",
			 argc - optind);
		return cli_bad_usage(replay_usage);
	}
	r->session_path = argv[optind];
	if (!r->ntargets || !r->opts.output) {
		cli_warn("--target and -o are required");
		return cli_bad_usage(replay_usage);
	}
	if (diff_opts && !r->diff)
		return cli_error("--rules, --json, --junit, --unordered-rows "
				 "and --learn-noise go with --diff");
	if (r->diff && !strcmp(r->session_path, "-"))
		return cli_error("--diff reads SESSION again: give a file, "
				 "not standard input");
	if ((r->opts.cacert || r->opts.insecure) && !has_https_target(r))
		return cli_error("--cacert and --insecure go with an https:// "
				 "target");
	if (same_file(r->session_path, r->opts.output))
		return cli_error("-o %s would overwrite the session to replay",
				 r->opts.output);
	return 0;
}

static int parse_args(struct replay_cli *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 's' },
		{ "match", required_argument, NULL, 'm' },
		{ "set-header", required_argument, NULL, OPT_SET_HEADER },
		{ "drop-header", required_argument, NULL, OPT_DROP_HEADER },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "credentials-file", required_argument, NULL, OPT_CREDENTIALS },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "insecure", no_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "diff", no_argument, NULL, OPT_DIFF },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "unordered-rows", no_argument, NULL, OPT_UNORDERED },
		{ "learn-noise", no_argument, NULL, OPT_LEARN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "t:o:c:r:s:m:qkh", longopts,
				  NULL)) != -1) {
		if (opt == 'h') {
			fputs(replay_usage, stdout);
			return -1;
		}
		if (opt == '?')
			return cli_bad_usage(replay_usage);
		ret = parse_option(r, opt, optarg);
		if (ret)
			return ret;
	}
	return check_options(r, argc, argv);
}

/* The command line for the output's metadata, with every password in a
 * URL argument replaced by "***". The caller frees it. */
static char *redacted_command(int argc, char **argv)
{
	size_t len = 1, used = 0;
	char *s, *arg;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	arg = malloc(len);
	if (!s || !arg) {
		free(s);
		free(arg);
		return NULL;
	}
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (strstr(argv[i], "://"))
			dt_target_redact_url(argv[i], arg, len);
		else
			snprintf(arg, len, "%s", argv[i]);
		used += (size_t)snprintf(s + used, len - used, "%s%s",
					 i ? " " : "", arg);
	}
	free(arg);
	return s;
}

/* ---- running ----------------------------------------------------------- */

static void print_summary(const struct dt_replay_summary *s, const char *out)
{
	fprintf(stderr, "replayed: %" PRIu64 " exchanges in %.2f s (%" PRIu64
		" answered, %" PRIu64 " failed, %" PRIu64 " skipped) -> %s\n",
		s->written, (double)s->elapsed_ns / 1e9, s->replayed,
		s->failed, s->skipped, out);
}

static int replay_once(struct replay_cli *r, const char *output)
{
	struct dt_replay_summary sum;
	int code;

	r->opts.output = output;
	code = dt_replay_run(&r->opts, &sum);
	if (!r->quiet && sum.selected)
		print_summary(&sum, output);
	if (!sum.selected && code == 0)
		cli_warn("warning: %s", r->nmatches ?
			 "no exchange matches --match" :
			 "the session holds no exchange");
	return code;
}

/* `deetune diff SESSION OUT` with the --diff options: the same options,
 * reports and exit codes as the diff command, by running it. */
static int run_diff(struct replay_cli *r, const char *noise_path)
{
	char *argv[14];
	int argc = 0;

	argv[argc++] = "deetune diff";
	if (r->quiet)
		argv[argc++] = "--quiet";
	if (r->rules_path) {
		argv[argc++] = "--rules";
		argv[argc++] = (char *)r->rules_path;
	}
	if (noise_path) {
		argv[argc++] = "--learn-noise";
		argv[argc++] = (char *)noise_path;
	}
	if (r->unordered_rows)
		argv[argc++] = "--unordered-rows";
	if (r->json_path) {
		argv[argc++] = "--json";
		argv[argc++] = (char *)r->json_path;
	}
	if (r->junit_path) {
		argv[argc++] = "--junit";
		argv[argc++] = (char *)r->junit_path;
	}
	argv[argc++] = (char *)r->session_path;
	argv[argc++] = (char *)r->opts.output;
	argv[argc] = NULL;
	optind = 0; /* getopt starts afresh */
	return cmd_diff(argc, argv);
}

/* Replays (twice with --learn-noise), then diffs. */
static int replay_and_diff(struct replay_cli *r)
{
	char *noise = NULL;
	int code, ncode;

	code = replay_once(r, r->opts.output);
	if (!r->diff || code == EXIT_USAGE)
		return code;
	if (r->learn_noise) {
		const char *main_output = r->opts.output;

		if (asprintf(&noise, "%s.noise", main_output) < 0)
			return cli_error("out of memory");
		ncode = replay_once(r, noise);
		r->opts.output = main_output;
		if (ncode == EXIT_USAGE) {
			free(noise);
			return ncode;
		}
	}
	code = run_diff(r, noise);
	free(noise);
	return code;
}

static int load_and_run(struct replay_cli *r, int argc, char **argv)
{
	struct cli_file f;
	char err[600];
	int code;

	if (dt_credentials_apply(r->targets, r->ntargets, r->credentials, err,
				 sizeof(err)))
		return cli_error("%s", err);
	if (cli_file_open(&f, r->session_path) < 0)
		return EXIT_USAGE;
	r->opts.command = redacted_command(argc, argv);
	r->opts.session = f.data;
	r->opts.session_len = f.len;
	r->opts.session_label = cli_file_label(r->session_path);
	code = r->opts.command ? replay_and_diff(r) : cli_error("out of memory");
	free((char *)r->opts.command);
	cli_file_close(&f);
	return code;
}

static void replay_cli_release(struct replay_cli *r)
{
	for (size_t i = 0; i < r->nedits; i++)
		dt_header_edit_release(&r->edits[i]);
	/* wipe the passwords */
	memset(r->targets, 0, sizeof(r->targets));
}

int cmd_replay(int argc, char **argv)
{
	struct replay_cli *r = calloc(1, sizeof(*r));
	int code;

	if (!r)
		return cli_error("out of memory");
	dt_replay_opts_init(&r->opts);
	code = parse_args(r, argc, argv);
	if (code) {
		code = code < 0 ? cli_finish_stdout(0) : code;
		goto out;
	}
	r->opts.targets = r->targets;
	r->opts.ntargets = r->ntargets;
	r->opts.edits = r->edits;
	r->opts.nedits = r->nedits;
	if (r->nmatches) {
		r->opts.select = select_match;
		r->opts.select_ctx = r;
	}
	r->opts.progress = !r->quiet && isatty(STDERR_FILENO);
	code = cli_finish_stdout(load_and_run(r, argc, argv));
out:
	replay_cli_release(r);
	free(r);
	return code;
}
