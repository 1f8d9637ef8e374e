// SPDX-License-Identifier: MIT
/* deetune record: record exchanges in the foreground. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/daemon_client.h"
#include "recorder/recorder.h"

static const char record_usage[] =
	"usage: deetune record --server SEL [--server SEL...] [--client SEL...]\n"
	"                      [--duration D] [--count N] [--match EXPR...]\n"
	"                      [--sample P] [--max-bytes SIZE] [--redact RULE...]\n"
	"                      [--no-default-redaction] [--max-memory SIZE]\n"
	"                      [--ringbuf-size BYTES] [--protocol P] -o FILE\n"
	"\n"
	"Records request/response exchanges of the selected services with eBPF\n"
	"into the session file FILE, until D elapses, N exchanges are written,\n"
	"the file reaches SIZE, or SIGINT/SIGTERM arrives. Credentials are\n"
	"masked before they reach the file (see deetune-redaction(7)). Prints 'recording: ...' on stderr once the\n"
	"probes are attached and a 'recorded: ...' summary at the end.\n"
	"\n"
	"  -s, --server SEL     the service whose traffic to record (repeatable)\n"
	"  -c, --client SEL     keep only exchanges from these clients (repeatable)\n"
	"  -d, --duration D     stop after D (e.g. 30s, 500ms, 10m)\n"
	"  -n, --count N        stop after exactly N exchanges\n"
	"  -m, --match EXPR     keep only matching requests (repeatable: any may\n"
	"                       match): HTTP 'GET /api/*', '/health', 'POST';\n"
	"                       Redis command glob 'H*'; MySQL SQL glob\n"
	"                       'SELECT * FROM orders*' or kind 'select'\n"
	"      --sample P       keep a share P (0 < P <= 1) of the connections,\n"
	"                       each with all its exchanges\n"
	"      --max-bytes SIZE stop once the file reaches SIZE (10K, 5M, 1G)\n"
	"      --redact RULE    also mask header:NAME, json:PATH or regex:ERE\n"
	"                       (repeatable)\n"
	"      --no-default-redaction\n"
	"                       leave out the built-in rules (Authorization,\n"
	"                       Cookie, Set-Cookie, Redis AUTH, MySQL passwords)\n"
	"      --max-memory SIZE  memory for the ring buffer and buffered\n"
	"                       streams (default 256M); past it the oldest\n"
	"                       incomplete streams are dropped and counted\n"
	"      --ringbuf-size B ring buffer bytes, power of two (default 16 MiB)\n"
	"      --protocol P     decode every connection as http, http2,\n"
	"                       redis or mysql instead of detecting it from\n"
	"                       the first bytes\n"
	"  -o, --output FILE    session file to write\n"
	"  -h, --help           show this help\n"
	"\n"
	"SEL is one of: port:N  pid:N  comm:NAME  cgroup:PATH  addr:IP:PORT\n"
	"               unix:PATH (a Unix socket; unix:@NAME if abstract)\n"
	"See deetune-record(1).\n";

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* Joins the command line into one string for the session's metadata;
 * argv[0] is "deetune record". The caller frees the result. */
static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, argv[0]);
	for (int i = 1; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int add_redact(struct dt_task_spec *t, const char *rule)
{
	if (t->nredact == DT_TASK_MAX_REDACT)
		return cli_error("at most %d --redact rules",
				 DT_TASK_MAX_REDACT);
	t->redact[t->nredact++] = rule;
	return 0;
}

/* Refused before the output file is created (e.g. a bad --redact). */
static int check_spec(const struct dt_task_spec *t)
{
	char err[256];

	if (dt_task_spec_check(t, err, sizeof(err)))
		return cli_error("%s", err);
	return 0;
}

static int parse_sample(const char *s, double *p)
{
	char *end;

	errno = 0;
	*p = strtod(s, &end);
	if (errno || end == s || *end || !(*p > 0 && *p <= 1))
		return cli_error("--sample must be a number above 0 and at "
				 "most 1");
	return 0;
}

static int parse_size_opt(const char *name, const char *s, uint64_t *v)
{
	if (cli_parse_size(s, v) || !*v)
		return cli_error("invalid %s '%s' (bytes, or 10K, 5M, 1G)",
				 name, s);
	return 0;
}

static int parse_options(struct dt_record_opts *o, int argc, char **argv)
{
	struct dt_task_spec *t = &o->task;
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "match", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "ringbuf-size", required_argument, NULL, 'R' },
		{ "protocol", required_argument, NULL, 'P' },
		{ "sample", required_argument, NULL, 'S' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "redact", required_argument, NULL, 'r' },
		{ "no-default-redaction", no_argument, NULL, 'N' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "s:c:d:n:m:o:h", longopts,
				  NULL)) != -1) {
		ret = 0;
		switch (opt) {
		case 's':
		case 'c':
			ret = cli_add_selector(t->sels, &t->nsels,
					       DT_RECORD_MAX_SELECTORS, optarg,
					       opt == 's');
			break;
		case 'd':
			if (cli_parse_duration(optarg, &t->duration_ns) ||
			    !t->duration_ns)
				ret = cli_error("invalid duration '%s'",
						optarg);
			break;
		case 'n':
			if (parse_u64(optarg, &t->max_count) || !t->max_count)
				ret = cli_error("invalid count '%s'",
						optarg);
			break;
		case 'm':
			ret = cli_add_match(t->matches, &t->nmatches,
					    DT_RECORD_MAX_MATCHES, optarg);
			break;
		case 'o':
			t->output = optarg;
			break;
		case 'S':
			ret = parse_sample(optarg, &t->sample);
			break;
		case 'B':
			ret = parse_size_opt("--max-bytes", optarg,
					     &t->max_bytes);
			break;
		case 'r':
			ret = add_redact(t, optarg);
			break;
		case 'N':
			t->no_default_redaction = true;
			break;
		case 'M':
			ret = parse_size_opt("--max-memory", optarg, &v);
			o->max_memory = v;
			break;
		case 'R':
			if (parse_u64(optarg, &v) || v < 4096 ||
			    (v & (v - 1)) || v > (1ull << 30))
				ret = cli_error("--ringbuf-size must be a "
						"power of two from 4096 to 1 GiB");
			o->ringbuf_bytes = v;
			break;
		case 'P':
			/* the engine knows the decoders: it refuses an
			 * unknown name before loading any probe */
			o->protocol = optarg;
			break;
		case 'h':
			fputs(record_usage, stdout);
			return -1;
		default:
			fputs(record_usage, stderr);
			return EXIT_USAGE;
		}
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s'", argv[optind]);
	if (!t->nsels || !t->output) {
		fputs(record_usage, stderr);
		return cli_error("--server and -o are required");
	}
	for (size_t i = 0; i < t->nsels; i++)
		if (t->sels[i].server)
			return check_spec(t);
	return cli_error("at least one --server selector is required");
}

int cmd_record(int argc, char **argv)
{
	struct dt_record_opts *o = calloc(1, sizeof(*o));
	struct dt_record_summary sum;
	char *command = NULL;
	int ret;

	if (!o)
		return cli_error("out of memory");
	ret = parse_options(o, argc, argv);
	if (ret) {
		ret = ret < 0 ? cli_finish_stdout(0) : ret;
		goto out;
	}
	command = join_args(argc, argv);
	o->task.command = command;
	ret = dt_record_run(o, &sum);
	if (ret) {
		ret = EXIT_USAGE;
		goto out;
	}
	fprintf(stderr, "recorded: %" PRIu64 " exchanges, %" PRIu64
		" bytes written, %" PRIu64 " dropped events, %" PRIu64
		" incomplete\n", sum.exchanges, sum.bytes_written,
		sum.dropped_events, sum.incomplete);
out:
	free(command);
	free(o);
	return ret;
}
