// SPDX-License-Identifier: MIT
/* deetune record: record exchanges in the foreground. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "recorder/recorder.h"

static const char record_usage[] =
	"usage: deetune record --server SEL [--server SEL...] [--client SEL...]\n"
	"                      [--duration D] [--count N] [--match EXPR...]\n"
	"                      [--ringbuf-size BYTES] [--protocol P] -o FILE\n"
	"\n"
	"Records request/response exchanges of the selected services with eBPF\n"
	"into the session file FILE, until D elapses, N exchanges are written,\n"
	"or SIGINT/SIGTERM arrives. Prints 'recording: ...' on stderr once the\n"
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
	"      --ringbuf-size B ring buffer bytes, power of two (default 16 MiB)\n"
	"      --protocol P     decode every connection as http, redis or mysql\n"
	"                       instead of detecting it from the first bytes\n"
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

static int add_selector(struct dt_record_opts *o, const char *text,
			bool server)
{
	char err[256];

	if (o->nsels == DT_RECORD_MAX_SELECTORS)
		return cli_error("at most %d selectors",
				 DT_RECORD_MAX_SELECTORS);
	if (dt_selector_parse(&o->sels[o->nsels], text, server, err,
			      sizeof(err)))
		return cli_error("%s", err);
	o->nsels++;
	return 0;
}

static int add_match(struct dt_record_opts *o, const char *text)
{
	char err[256];

	if (o->nmatches == DT_RECORD_MAX_MATCHES)
		return cli_error("at most %d --match expressions",
				 DT_RECORD_MAX_MATCHES);
	if (dt_match_parse(&o->matches[o->nmatches], text, err, sizeof(err)))
		return cli_error("%s", err);
	o->nmatches++;
	return 0;
}

static int parse_options(struct dt_record_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "match", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "ringbuf-size", required_argument, NULL, 'R' },
		{ "protocol", required_argument, NULL, 'P' },
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
			ret = add_selector(o, optarg, opt == 's');
			break;
		case 'd':
			if (cli_parse_duration(optarg, &o->duration_ns) ||
			    !o->duration_ns)
				ret = cli_error("invalid duration '%s'",
						optarg);
			break;
		case 'n':
			if (parse_u64(optarg, &o->max_count) || !o->max_count)
				ret = cli_error("invalid count '%s'",
						optarg);
			break;
		case 'm':
			ret = add_match(o, optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'R':
			if (parse_u64(optarg, &v) || v < 4096 ||
			    (v & (v - 1)) || v > (1ull << 30))
				ret = cli_error("--ringbuf-size must be a "
						"power of two from 4096 to 1 GiB");
			o->ringbuf_bytes = v;
			break;
		case 'P':
			if (strcmp(optarg, "http") && strcmp(optarg, "redis") &&
			    strcmp(optarg, "mysql"))
				ret = cli_error("--protocol must be http, redis "
						"or mysql");
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
	if (!o->nsels || !o->output) {
		fputs(record_usage, stderr);
		return cli_error("--server and -o are required");
	}
	for (size_t i = 0; i < o->nsels; i++)
		if (o->sels[i].server)
			return 0;
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
	o->command = command;
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
