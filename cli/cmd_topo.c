// SPDX-License-Identifier: MIT
/* deetune topo: capture for a while, print the service graph. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "recorder/recorder.h"
#include "topo/topo.h"

#define DEFAULT_DURATION_NS (10ull * 1000000000ull)
/* the probes wake us only for large batches: poll on a short timer */
#define POLL_MS 50

static const char topo_usage[] =
	"usage: deetune topo [--server SEL...] [--duration D]\n"
	"                    [--format table|json|dot] [--service NAME=SEL...]\n"
	"                    [--services FILE] [-o FILE]\n"
	"\n"
	"Observes the selected services (every TCP and Unix stream socket when\n"
	"no --server is given) with eBPF for D, or until SIGINT/SIGTERM, and\n"
	"prints who calls whom: nodes (services, external peers) and edges\n"
	"client -> server per protocol with requests, errors, latency\n"
	"percentiles, bytes and TCP facts (connects, failed connects,\n"
	"retransmits, resets).\n"
	"\n"
	"  -s, --server SEL       observe this service (repeatable)\n"
	"  -d, --duration D       observe for D (default 10s; e.g. 500ms, 2m)\n"
	"  -f, --format F         table (default), json, or dot for Graphviz:\n"
	"                         deetune topo -f dot | dot -Tsvg > topo.svg\n"
	"  -S, --service NAME=SEL name the endpoints SEL selects NAME\n"
	"                         (repeatable; the first matching rule wins)\n"
	"      --services FILE    read NAME=SEL rules from FILE, one a line\n"
	"  -o, --output FILE      write the graph to FILE instead of stdout\n"
	"  -h, --help             show this help\n"
	"\n"
	"SEL is one of: all  port:N  pid:N  comm:NAME  cgroup:PATH\n"
	"               addr:IP:PORT  unix:PATH\n"
	"See deetune-topo(1).\n";

enum topo_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_DOT };

struct topo_opts {
	struct dt_selector sels[DT_RECORD_MAX_SELECTORS];
	size_t nsels;
	struct dt_topo_rule *rules;  /* owned */
	size_t nrules;
	uint64_t duration_ns;
	enum topo_format format;
	const char *output;
};

static int add_rule(struct topo_opts *o, const char *text)
{
	struct dt_topo_rule r, *grown;
	char err[512];

	if (dt_topo_rule_parse(&r, text, err, sizeof(err)))
		return cli_error("%s", err);
	grown = realloc(o->rules, (o->nrules + 1) * sizeof(*o->rules));
	if (!grown)
		return cli_error("out of memory");
	grown[o->nrules++] = r;
	o->rules = grown;
	return 0;
}

static int load_rules(struct topo_opts *o, const char *path)
{
	char err[512];

	if (dt_topo_rules_load(path, &o->rules, &o->nrules, err, sizeof(err)))
		return cli_error("%s", err);
	return 0;
}

static int parse_format(struct topo_opts *o, const char *s)
{
	if (!strcmp(s, "table"))
		o->format = FORMAT_TABLE;
	else if (!strcmp(s, "json"))
		o->format = FORMAT_JSON;
	else if (!strcmp(s, "dot"))
		o->format = FORMAT_DOT;
	else
		return cli_error("--format must be table, json or dot");
	return 0;
}

/* Returns 0, -1 after --help, or an exit code. */
static int parse_options(struct topo_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "service", required_argument, NULL, 'S' },
		{ "services", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, ret;

	o->duration_ns = DEFAULT_DURATION_NS;
	while ((opt = getopt_long(argc, argv, "s:d:f:S:o:h", longopts,
				  NULL)) != -1) {
		ret = 0;
		switch (opt) {
		case 's':
			ret = cli_add_selector(o->sels, &o->nsels,
					       DT_RECORD_MAX_SELECTORS, optarg,
					       true);
			break;
		case 'd':
			if (cli_parse_duration(optarg, &o->duration_ns) ||
			    !o->duration_ns)
				ret = cli_error("invalid duration '%s'",
						optarg);
			break;
		case 'f':
			ret = parse_format(o, optarg);
			break;
		case 'S':
			ret = add_rule(o, optarg);
			break;
		case 'F':
			ret = load_rules(o, optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(topo_usage, stdout);
			return -1;
		default:
			return cli_bad_usage(topo_usage);
		}
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s'", argv[optind]);
	if (!o->nsels)
		return cli_add_selector(o->sels, &o->nsels,
					DT_RECORD_MAX_SELECTORS, "all", true);
	return 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Feeds t until the duration ends or a signal arrives. Returns 0 or an
 * exit code. */
static int observe(const struct topo_opts *o, struct dt_topo *t)
{
	struct dt_observer obs;
	struct dt_recorder_opts ro = {
		.observer = &obs,
		.observe = o->sels,
		.nobserve = o->nsels,
		.tcp_events = true,
	};
	struct dt_recorder *eng;
	uint64_t deadline;
	char err[512];
	int ret;

	dt_topo_observer(t, &obs);
	if (dt_recorder_open(&eng, &ro, err, sizeof(err)))
		return cli_error("%s", err);
	dt_catch_stop_signals();
	fprintf(stderr, "observing: %s%s for %.1f s\n", o->sels[0].text,
		o->nsels > 1 ? " and more" : "", o->duration_ns / 1e9);
	deadline = monotonic_ns() + o->duration_ns;
	ret = 0;
	while (!dt_stop_signal() && monotonic_ns() < deadline) {
		ret = dt_recorder_poll(eng, POLL_MS);
		if (ret < 0 && ret != -EINTR) {
			ret = cli_error("polling the ring buffer: %s",
					strerror(-ret));
			break;
		}
		ret = 0;
	}
	/* what the probes still hold reaches t on close; requests cut by
	 * the end of the window come unanswered */
	dt_topo_end_window(t);
	dt_recorder_close(eng);
	return ret;
}

static int render(const struct topo_opts *o, struct dt_topo *t, FILE *out)
{
	switch (o->format) {
	case FORMAT_JSON:
		return dt_topo_render_json(t, out);
	case FORMAT_DOT:
		return dt_topo_render_dot(t, out);
	case FORMAT_TABLE:
		break;
	}
	return dt_topo_render_table(t, out);
}

/* Renders to the -o file (closing it), or to stdout when file is NULL. */
static int write_graph(const struct topo_opts *o, struct dt_topo *t,
		       FILE *file)
{
	int ret;

	if (!file)
		return render(o, t, stdout) == -ENOMEM ?
			       cli_error("out of memory") : cli_finish_stdout(0);
	ret = render(o, t, file);
	if (fclose(file) && !ret)
		ret = -EIO;
	if (ret)
		return cli_error("writing %s: %s", o->output, strerror(-ret));
	return 0;
}

int cmd_topo(int argc, char **argv)
{
	struct topo_opts *o = calloc(1, sizeof(*o));
	struct dt_topo_opts to = { 0 };
	struct dt_topo *t = NULL;
	struct dt_topo_counts c;
	FILE *file = NULL;  /* -o */
	int ret;

	if (!o)
		return cli_error("out of memory");
	ret = parse_options(o, argc, argv);
	if (ret) {
		ret = ret < 0 ? cli_finish_stdout(0) : ret;
		goto out;
	}
	/* a bad -o path fails before the capture, not after it */
	if (o->output && !(file = fopen(o->output, "we"))) {
		ret = cli_error("cannot create %s: %s", o->output,
				strerror(errno));
		goto out;
	}
	to.rules = o->rules;
	to.nrules = o->nrules;
	if (dt_topo_new(&t, &to)) {
		ret = cli_error("out of memory");
		goto out;
	}
	ret = observe(o, t);
	if (ret)
		goto out;
	dt_topo_get_counts(t, &c);
	if (c.dropped)
		cli_warn("%llu exchanges or TCP events did not fit the graph's "
			 "limits", (unsigned long long)c.dropped);
	ret = write_graph(o, t, file);
	file = NULL;
out:
	if (file)
		fclose(file);
	dt_topo_free(t);
	free(o->rules);
	free(o);
	return ret;
}
