// SPDX-License-Identifier: MIT
/* deetune daemon: the recorder as a host agent serving recording tasks. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/daemon_client.h"
#include "daemon/daemon.h"

#define MAX_OBSERVE 64

static const char daemon_usage[] =
	"usage: deetune daemon [--socket PATH] [--state-dir DIR] [--group NAME]\n"
	"                      [--max-memory SIZE] [--observe SEL...]\n"
	"                      [--http ADDR:PORT | --no-http]\n"
	"\n"
	"Runs the recorder as a host agent: loads the probes once and runs the\n"
	"recording tasks that `deetune task` starts, stops and lists over a\n"
	"control socket, until SIGTERM or SIGINT (which stop the running tasks\n"
	"and finalize their files). Prints 'listening: SOCKET' on stderr once\n"
	"ready. Needs root.\n"
	"\n"
	"      --socket PATH    control socket (default " DT_DAEMON_SOCKET ")\n"
	"      --state-dir DIR  where tasks are kept across restarts\n"
	"                       (default " DT_DAEMON_STATE_DIR ")\n"
	"      --group NAME     members of this group may use the socket besides\n"
	"                       root (default " DT_DAEMON_GROUP ")\n"
	"      --max-memory SIZE  memory for the ring buffer and buffered\n"
	"                       streams (default 256M; 10K, 5M, 1G); past it the\n"
	"                       oldest incomplete streams are dropped and counted\n"
	"      --observe SEL    also observe this service for the topology and\n"
	"                       metrics when no task records it (repeatable;\n"
	"                       'all' for every TCP and Unix stream socket)\n"
	"      --http ADDR:PORT serve /metrics, /api/v1/topology and\n"
	"                       /api/v1/tasks (default 127.0.0.1:9464)\n"
	"      --no-http        no HTTP server (and no topology)\n"
	"  -h, --help           show this help\n"
	"See deetune-daemon(8) and deetune-task(1).\n";

struct daemon_args {
	struct dt_daemon_opts opts;
	struct dt_selector observe[MAX_OBSERVE];
};

static int parse_options(struct daemon_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "state-dir", required_argument, NULL, 'D' },
		{ "group", required_argument, NULL, 'G' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "observe", required_argument, NULL, 'O' },
		{ "http", required_argument, NULL, 'H' },
		{ "no-http", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int opt, ret;

	a->opts.observe = a->observe;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		ret = 0;
		switch (opt) {
		case 'S':
			a->opts.socket_path = optarg;
			break;
		case 'D':
			a->opts.state_dir = optarg;
			break;
		case 'G':
			a->opts.group = optarg;
			break;
		case 'M':
			if (cli_parse_size(optarg, &v) || !v || v > SIZE_MAX)
				ret = cli_error("invalid --max-memory '%s' "
						"(bytes, or 10K, 5M, 1G)",
						optarg);
			a->opts.max_memory = v;
			break;
		case 'O':
			ret = cli_add_selector(a->observe, &a->opts.nobserve,
					       MAX_OBSERVE, optarg, true);
			break;
		case 'H':
			if (!*optarg)
				ret = cli_error("--http needs ADDR:PORT");
			a->opts.http_listen = optarg;
			break;
		case 'N':
			a->opts.http_listen = "";
			break;
		case 'h':
			fputs(daemon_usage, stdout);
			return -1;
		default:
			return cli_bad_usage(daemon_usage);
		}
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon_args *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return cli_error("out of memory");
	ret = parse_options(a, argc, argv);
	if (ret)
		ret = ret < 0 ? cli_finish_stdout(0) : ret;
	else
		ret = dt_daemon_run(&a->opts) ? EXIT_USAGE : 0;
	free(a);
	return ret;
}
