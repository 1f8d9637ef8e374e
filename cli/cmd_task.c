// SPDX-License-Identifier: MIT
/* deetune task: start, list, show, stop and wait for recording tasks of
 * the daemon (see deetune-task(1)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/daemon_client.h"
#include "recorder/recorder.h"

static const char task_usage[] =
	"usage: deetune task [--socket PATH] <subcommand> [<args>]\n"
	"\n"
	"Starts and controls recording tasks of the recorder daemon\n"
	"(deetune daemon). Subcommands:\n"
	"  start   start a task; prints its id\n"
	"  list    list the tasks (running first, then ended, newest first)\n"
	"  show    a task's spec, state, exchanges, bytes and drops\n"
	"  stop    stop a task and finalize its file\n"
	"  wait    wait until a task has ended\n"
	"\n"
	"  --socket PATH  the daemon's control socket (default $DEETUNE_SOCKET,\n"
	"                 else " CLI_DAEMON_SOCKET_DEFAULT ")\n"
	"\n"
	"'deetune task <subcommand> --help' describes one; see deetune-task(1).\n";

static const char start_usage[] =
	"usage: deetune task start --server SEL [--server SEL...] [--client SEL...]\n"
	"                          [--duration D] [--count N] [--max-bytes SIZE]\n"
	"                          [--match EXPR...] [--sample P] [--redact RULE...]\n"
	"                          [--no-default-redaction] [--json] -o FILE\n"
	"\n"
	"Starts a recording task in the daemon and prints its id. The task\n"
	"records the selected services into the session file FILE until D\n"
	"elapses, N exchanges or SIZE bytes are written, or `task stop`.\n"
	"\n"
	"  -s, --server SEL       the service whose traffic to record (repeatable)\n"
	"  -c, --client SEL       keep only exchanges from these clients (repeatable)\n"
	"  -d, --duration D       end after D (e.g. 30s, 500ms, 10m)\n"
	"  -n, --count N          end after exactly N exchanges\n"
	"      --max-bytes SIZE   end once SIZE bytes are written (10K, 5M, 1G)\n"
	"  -m, --match EXPR       keep only matching requests (repeatable), as\n"
	"                         in deetune record\n"
	"      --sample P         keep a share P (0 < P <= 1) of the connections\n"
	"      --redact RULE      mask more: header:NAME, json:PATH, regex:ERE\n"
	"                         (repeatable)\n"
	"      --no-default-redaction\n"
	"                         drop the built-in rules (Authorization, Cookie,\n"
	"                         Set-Cookie headers, SQL password literals...)\n"
	"  -o, --output FILE      session file to write (created by the daemon as\n"
	"                         the calling user)\n"
	"      --json             print the task as JSON instead of its id\n"
	"      --socket PATH      the daemon's control socket\n"
	"  -h, --help             show this help\n"
	"\n"
	"SEL is one of: port:N  pid:N  comm:NAME  cgroup:PATH  addr:IP:PORT\n"
	"               unix:PATH  all\n";

static const char list_usage[] =
	"usage: deetune task list [--json] [--socket PATH]\n"
	"\n"
	"Lists the daemon's tasks, running first, then ended, newest first:\n"
	"ID STATE EXCHANGES BYTES AGE OUTPUT.\n"
	"\n"
	"  --json         print the daemon's JSON array of tasks\n"
	"  --socket PATH  the daemon's control socket\n"
	"  -h, --help     show this help\n";

static const char show_usage[] =
	"usage: deetune task show [--json] [--socket PATH] ID\n"
	"\n"
	"Shows a task: its state, exchanges and bytes written so far, drop\n"
	"counters and the spec it was started with.\n"
	"\n"
	"  --json         print the daemon's JSON object of the task\n"
	"  --socket PATH  the daemon's control socket\n"
	"  -h, --help     show this help\n";

static const char stop_usage[] =
	"usage: deetune task stop [--json] [--socket PATH] ID\n"
	"\n"
	"Stops a running task, waits until its file is finalized, and prints\n"
	"its final state. Stopping an ended task changes nothing.\n"
	"\n"
	"  --json         print the daemon's JSON object of the task\n"
	"  --socket PATH  the daemon's control socket\n"
	"  -h, --help     show this help\n";

static const char wait_usage[] =
	"usage: deetune task wait [--timeout D] [--json] [--socket PATH] ID\n"
	"\n"
	"Waits until the task has ended and prints its final state. Exits 0\n"
	"when it ended done or stopped, 1 when it failed or was interrupted,\n"
	"2 when the wait timed out or the daemon could not be asked.\n"
	"\n"
	"  -t, --timeout D    give up after D (e.g. 30s, 5m)\n"
	"      --json         print the daemon's JSON object of the task\n"
	"      --socket PATH  the daemon's control socket\n"
	"  -h, --help         show this help\n";

/* Options every subcommand takes, and its one positional argument. */
struct task_args {
	const char *socket;   /* --socket, NULL = environment or default */
	const char *command;  /* the whole command line, for start */
	bool json;
	uint64_t id;
	uint64_t timeout_ns;  /* wait --timeout, 0 = none */
};

enum { OPT_SOCKET = 256, OPT_JSON, OPT_SAMPLE, OPT_MAX_BYTES, OPT_REDACT,
       OPT_NO_DEFAULT_REDACTION };

#define COMMON_OPTIONS \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "help", no_argument, NULL, 'h' }

/* --- talking to the daemon ------------------------------------------- */

/* Sends req (stolen) to the daemon; *resp as cli_daemon_request(). */
static int task_call(const struct task_args *a, json_t *req, int timeout_ms,
		     json_t **resp)
{
	struct cli_daemon d;
	int ret;

	*resp = NULL;
	if (!req)
		return cli_error("out of memory");
	ret = cli_daemon_connect(&d, cli_daemon_socket_path(a->socket));
	if (!ret)
		ret = cli_daemon_request(&d, req, timeout_ms, resp);
	cli_daemon_close(&d);
	json_decref(req);
	return ret;
}

static json_t *id_request(const char *op, uint64_t id)
{
	return json_pack("{s:s, s:I}", "op", op, "id", (json_int_t)id);
}

/* --- what tasks look like on the terminal ---------------------------- */

/* A string member of o made safe for the terminal ("" when missing). */
static const char *member_text(char *buf, size_t size, const json_t *o,
			       const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		s = "";
	cli_terminal_safe(buf, size, s, strlen(s));
	return buf;
}

static uint64_t member_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* "running", "done: count", "failed: disk full"; "stopped", not
 * "stopped: stopped". */
static const char *state_text(char *buf, size_t size, const json_t *task)
{
	char state[64], reason[256];

	member_text(state, sizeof(state), task, "state");
	member_text(reason, sizeof(reason), task, "reason");
	if (!strcmp(reason, state))
		reason[0] = '\0';
	snprintf(buf, size, "%s%s%s", state[0] ? state : "?",
		 reason[0] ? ": " : "", reason);
	return buf;
}

/* 512, 1.5K, 20.0M: sizes as --max-bytes reads them. */
static const char *size_text(char *buf, size_t size, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64, bytes);
		return buf;
	}
	while (v >= 1024 && units[u + 1]) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f%c", v, units[u]);
	return buf;
}

/* 250ms, 30s, 5m, 2h, or 1.500s when not a whole unit. */
static const char *duration_text(char *buf, size_t size, uint64_t ns)
{
	static const struct { uint64_t ns; const char *unit; } units[] = {
		{ 3600000000000ull, "h" }, { 60000000000ull, "m" },
		{ 1000000000ull, "s" }, { 1000000ull, "ms" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns >= units[i].ns && ns % units[i].ns == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", ns / units[i].ns,
				 units[i].unit);
			return buf;
		}
	}
	if (ns >= 1000000000ull)
		snprintf(buf, size, "%.3fs", (double)ns / 1e9);
	else
		snprintf(buf, size, "%" PRIu64 "ns", ns);
	return buf;
}

/* How long ago a CLOCK_REALTIME instant was, coarsely: 5s, 3m, 2h, 4d. */
static const char *age_text(char *buf, size_t size, uint64_t then_ns)
{
	struct timespec ts;
	uint64_t now, s;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	s = now > then_ns ? (now - then_ns) / 1000000000ull : 0;
	if (s < 120)
		snprintf(buf, size, "%" PRIu64 "s", s);
	else if (s < 7200)
		snprintf(buf, size, "%" PRIu64 "m", s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%" PRIu64 "h", s / 3600);
	else
		snprintf(buf, size, "%" PRIu64 "d", s / 86400);
	return buf;
}

/* 2026-11-22 06:01:02 UTC */
static const char *time_text(char *buf, size_t size, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%F %T UTC", &tm))
		snprintf(buf, size, "%" PRIu64 " ns", ns);
	return buf;
}

/* Prints v compactly on one line (the --json output). */
static void print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_COMPACT) < 0 && !ferror(stdout))
		cli_warn("out of memory");
	putchar('\n');
}

/* "task 3: done: count (50 exchanges, 12345 bytes in /tmp/x.dts)" */
static void print_state_line(const json_t *task)
{
	char state[384], output[4096];

	printf("task %" PRIu64 ": %s (%" PRIu64 " exchanges, %" PRIu64
	       " bytes in %s)\n", member_u64(task, "id"),
	       state_text(state, sizeof(state), task),
	       member_u64(task, "exchanges"),
	       member_u64(task, "bytes_written"),
	       member_text(output, sizeof(output), task, "output"));
}

/* --- task start ------------------------------------------------------ */

/* The spec being built; every member ends up in the request. */
struct start_spec {
	json_t *server, *client, *match, *redact;
	uint64_t duration_ns, count, max_bytes;
	double sample;
	bool no_default_redaction;
	const char *output;
};

static int append_text(json_t *array, const char *text)
{
	if (json_array_append_new(array, json_string(text)))
		return cli_error("out of memory (or '%s' is not UTF-8)", text);
	return 0;
}

/* Selectors and match expressions are parsed here too, only for the
 * message: the daemon parses them again and decides. */
static int add_selector(struct start_spec *s, const char *text, bool server)
{
	struct dt_selector sel;
	char err[256];

	if (dt_selector_parse(&sel, text, server, err, sizeof(err)))
		return cli_error("%s", err);
	return append_text(server ? s->server : s->client, text);
}

static int add_match(struct start_spec *s, const char *text)
{
	struct dt_match m;
	char err[256];

	if (dt_match_parse(&m, text, err, sizeof(err)))
		return cli_error("%s", err);
	return append_text(s->match, text);
}

static int parse_sample(const char *text, double *p)
{
	char *end;

	errno = 0;
	*p = strtod(text, &end);
	if (errno || end == text || *end || !(*p > 0 && *p <= 1))
		return cli_error("--sample must be a number with 0 < P <= 1, "
				 "not '%s'", text);
	return 0;
}

static int parse_start_option(struct start_spec *s, struct task_args *a,
			      int opt)
{
	switch (opt) {
	case 's':
	case 'c':
		return add_selector(s, optarg, opt == 's');
	case 'm':
		return add_match(s, optarg);
	case 'd':
		if (cli_parse_duration(optarg, &s->duration_ns) ||
		    !s->duration_ns)
			return cli_error("invalid duration '%s'", optarg);
		return 0;
	case 'n':
		if (cli_parse_u64(optarg, &s->count) || !s->count ||
		    s->count > INT64_MAX)
			return cli_error("invalid count '%s'", optarg);
		return 0;
	case OPT_MAX_BYTES:
		if (cli_parse_size(optarg, &s->max_bytes) || !s->max_bytes ||
		    s->max_bytes > INT64_MAX)
			return cli_error("invalid size '%s' (e.g. 4096, 10K, "
					 "5M, 1G)", optarg);
		return 0;
	case OPT_SAMPLE:
		return parse_sample(optarg, &s->sample);
	case OPT_REDACT:
		return append_text(s->redact, optarg);
	case OPT_NO_DEFAULT_REDACTION:
		s->no_default_redaction = true;
		return 0;
	case 'o':
		s->output = optarg;
		return 0;
	case OPT_SOCKET:
		a->socket = optarg;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case 'h':
		fputs(start_usage, stdout);
		return -1;
	default:
		return cli_bad_usage(start_usage);
	}
}

static int parse_start(struct start_spec *s, struct task_args *a, int argc,
		       char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
		{ "match", required_argument, NULL, 'm' },
		{ "sample", required_argument, NULL, OPT_SAMPLE },
		{ "redact", required_argument, NULL, OPT_REDACT },
		{ "no-default-redaction", no_argument, NULL,
		  OPT_NO_DEFAULT_REDACTION },
		{ "output", required_argument, NULL, 'o' },
		COMMON_OPTIONS,
		{ 0 },
	};
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "s:c:d:n:m:o:h", longopts,
				  NULL)) != -1) {
		ret = parse_start_option(s, a, opt);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s'", argv[optind]);
	if (!json_array_size(s->server) || !s->output) {
		fputs(start_usage, stderr);
		return cli_error("--server and -o are required");
	}
	if (!*s->output)
		return cli_error("-o needs a file name");
	return 0;
}

/* The output path the daemon opens: relative ones are the caller's, so
 * they are made absolute here. Returns a string owned by the caller, or
 * NULL after printing why. */
static char *absolute_output(const char *path)
{
	char *cwd, *abs = NULL;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		cli_error("cannot resolve %s: %s", path, strerror(errno));
		return NULL;
	}
	if (asprintf(&abs, "%s/%s", cwd, path) < 0) {
		cli_error("out of memory");
		abs = NULL;
	}
	free(cwd);
	return abs;
}

/* argv as a shell would need it typed: words with anything but
 * [A-Za-z0-9_./:=@%+,-] are single-quoted. Owned by the caller. */
static char *command_line(int argc, char **argv)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				    "nopqrstuvwxyz0123456789_./:=@%+,-";
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fputs("deetune task", f);
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		fputc(' ', f);
		if (*w && w[strspn(w, plain)] == '\0') {
			fputs(w, f);
			continue;
		}
		fputc('\'', f);
		for (; *w; w++) {
			if (*w == '\'')
				fputs("'\\''", f);
			else
				fputc(*w, f);
		}
		fputc('\'', f);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static json_t *start_request(const struct start_spec *s, const char *output,
			     const char *command)
{
	json_t *spec = json_pack(
		"{s:O, s:O, s:O, s:I, s:I, s:I, s:f, s:O, s:b, s:s, s:s}",
		"server", s->server, "client", s->client, "match", s->match,
		"duration_ns", (json_int_t)s->duration_ns,
		"count", (json_int_t)s->count,
		"max_bytes", (json_int_t)s->max_bytes,
		"sample", s->sample, "redact", s->redact,
		"no_default_redaction", (int)s->no_default_redaction,
		"output", output, "command", command);

	if (!spec)
		return NULL;
	return json_pack("{s:s, s:o}", "op", "start", "spec", spec);
}

static int task_start(int argc, char **argv, struct task_args *a)
{
	struct start_spec s = {
		.server = json_array(), .client = json_array(),
		.match = json_array(), .redact = json_array(), .sample = 1.0,
	};
	char *output = NULL;
	json_t *resp = NULL, *task;
	int ret;

	if (!s.server || !s.client || !s.match || !s.redact) {
		ret = cli_error("out of memory");
		goto out;
	}
	ret = parse_start(&s, a, argc, argv);
	if (ret) {
		ret = ret < 0 ? cli_finish_stdout(0) : ret;
		goto out;
	}
	output = absolute_output(s.output);
	if (!output) {
		ret = EXIT_USAGE;
		goto out;
	}
	ret = task_call(a, start_request(&s, output, a->command),
			CLI_DAEMON_TIMEOUT_MS, &resp);
	if (ret)
		goto out;
	task = json_object_get(resp, "task");
	if (a->json)
		print_json(task);
	else
		printf("%" PRIu64 "\n", member_u64(task, "id"));
	ret = cli_finish_stdout(0);
out:
	json_decref(resp);
	json_decref(s.server);
	json_decref(s.client);
	json_decref(s.match);
	json_decref(s.redact);
	free(output);
	return ret;
}

/* --- list, show, stop, wait ------------------------------------------ */

/* Parses the options of list/show/stop/wait; ID when want_id, --timeout
 * when is_wait. Returns 0,
 * -1 after --help, or EXIT_USAGE. */
static int parse_simple(struct task_args *a, int argc, char **argv,
			const char *usage, bool want_id, bool is_wait)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		COMMON_OPTIONS,
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, is_wait ? "t:h" : "h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 't':
			if (!is_wait)
				return cli_error("--timeout is for `task wait` "
						 "only");
			if (cli_parse_duration(optarg, &a->timeout_ns) ||
			    !a->timeout_ns)
				return cli_error("invalid duration '%s'",
						 optarg);
			break;
		case OPT_SOCKET:
			a->socket = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return cli_bad_usage(usage);
		}
	}
	if (!want_id) {
		if (optind < argc)
			return cli_error("unexpected argument '%s'",
					 argv[optind]);
		return 0;
	}
	if (optind >= argc)
		return cli_bad_usage(usage);
	if (cli_parse_u64(argv[optind], &a->id) || !a->id ||
	    a->id > INT64_MAX)
		return cli_error("invalid task id '%s'", argv[optind]);
	if (optind + 1 < argc)
		return cli_error("unexpected argument '%s'", argv[optind + 1]);
	return 0;
}

/* The STATE column fits the longest state ("interrupted: daemon
 * restarted"), within reason. */
static int state_width(const json_t *tasks)
{
	char state[384];
	const json_t *task;
	size_t i, width = strlen("STATE");

	json_array_foreach(tasks, i, task) {
		size_t n = strlen(state_text(state, sizeof(state), task));

		if (n > width)
			width = n;
	}
	return width > 40 ? 40 : (int)width;
}

static void print_task_row(const json_t *task, int width)
{
	char state[384], bytes[32], age[32], output[4096];

	printf("%-5" PRIu64 " %-*s %10" PRIu64 " %7s %5s %s\n",
	       member_u64(task, "id"), width,
	       state_text(state, sizeof(state), task),
	       member_u64(task, "exchanges"),
	       size_text(bytes, sizeof(bytes),
			 member_u64(task, "bytes_written")),
	       age_text(age, sizeof(age), member_u64(task, "started_ns")),
	       member_text(output, sizeof(output), task, "output"));
}

static int task_list(int argc, char **argv, struct task_args *a)
{
	json_t *resp, *tasks, *task;
	size_t i;
	int ret, width;

	ret = parse_simple(a, argc, argv, list_usage, false, false);
	if (ret)
		return ret < 0 ? cli_finish_stdout(0) : ret;
	ret = task_call(a, json_pack("{s:s}", "op", "list"),
			CLI_DAEMON_TIMEOUT_MS, &resp);
	if (ret)
		return ret;
	tasks = json_object_get(resp, "tasks");
	if (a->json) {
		if (tasks)
			print_json(tasks);
		else
			puts("[]");
	} else {
		width = state_width(tasks);
		printf("%-5s %-*s %10s %7s %5s %s\n", "ID", width, "STATE",
		       "EXCHANGES", "BYTES", "AGE", "OUTPUT");
		json_array_foreach(tasks, i, task)
			print_task_row(task, width);
	}
	json_decref(resp);
	return cli_finish_stdout(0);
}

/* "port:80, port:8080", or "-" for an empty list. */
static void print_text_list(const char *label, const json_t *array)
{
	char item[512];
	const json_t *v;
	size_t i;

	printf("%-13s", label);
	if (!json_array_size(array))
		fputs("-", stdout);
	json_array_foreach(array, i, v) {
		const char *s = json_string_value(v);

		cli_terminal_safe(item, sizeof(item), s ? s : "?",
				  s ? strlen(s) : 1);
		printf("%s%s", i ? ", " : "", item);
	}
	putchar('\n');
}

static void print_limit(const char *label, const json_t *spec,
			const char *key)
{
	uint64_t v = member_u64(spec, key);
	char buf[64], size[32];

	if (!v)
		snprintf(buf, sizeof(buf), "none");
	else if (!strcmp(key, "duration_ns"))
		duration_text(buf, sizeof(buf), v);
	else if (!strcmp(key, "max_bytes"))
		snprintf(buf, sizeof(buf), "%" PRIu64 " (%s)", v,
			 size_text(size, sizeof(size), v));
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
	printf("%-13s%s\n", label, buf);
}

static void print_spec(const json_t *spec)
{
	const json_t *sample = json_object_get(spec, "sample");
	char command[4096];

	print_text_list("server:", json_object_get(spec, "server"));
	print_text_list("client:", json_object_get(spec, "client"));
	print_text_list("match:", json_object_get(spec, "match"));
	print_limit("duration:", spec, "duration_ns");
	print_limit("count:", spec, "count");
	print_limit("max bytes:", spec, "max_bytes");
	printf("%-13s%g\n", "sample:",
	       json_is_number(sample) ? json_number_value(sample) : 1.0);
	printf("%-13s%s\n", "redaction:",
	       json_is_true(json_object_get(spec, "no_default_redaction")) ?
	       "no built-in rules" : "built-in rules");
	print_text_list("redact:", json_object_get(spec, "redact"));
	printf("%-13s%s\n", "command:",
	       member_text(command, sizeof(command), spec, "command"));
}

/* Every drop counter the daemon sends, in its order, so that new kinds
 * show without a change here. */
static void print_drops(const json_t *drops)
{
	char key[64];
	const char *k;
	json_t *v;
	bool first = true;

	printf("%-13s", "drops:");
	json_object_foreach((json_t *)drops, k, v) {
		cli_terminal_safe(key, sizeof(key), k, strlen(k));
		printf("%s%s %" JSON_INTEGER_FORMAT, first ? "" : ", ", key,
		       json_integer_value(v));
		first = false;
	}
	puts(first ? "-" : "");
}

static void print_task(const json_t *task)
{
	char text[4096], when[64], bytes[32];
	uint64_t started = member_u64(task, "started_ns");
	uint64_t ended = member_u64(task, "ended_ns");
	uint64_t written = member_u64(task, "bytes_written");

	printf("%-13s%" PRIu64 "\n", "task:", member_u64(task, "id"));
	printf("%-13s%s\n", "state:", state_text(text, sizeof(text), task));
	printf("%-13s%s\n", "output:",
	       member_text(text, sizeof(text), task, "output"));
	printf("%-13s%" PRIu64 "\n", "owner uid:",
	       member_u64(task, "owner_uid"));
	printf("%-13s%s (%s ago)\n", "started:",
	       time_text(when, sizeof(when), started),
	       age_text(text, sizeof(text), started));
	if (ended)
		printf("%-13s%s (after %.1fs)\n", "ended:",
		       time_text(when, sizeof(when), ended),
		       ended > started ? (double)(ended - started) / 1e9 : 0.0);
	printf("%-13s%" PRIu64 "\n", "exchanges:",
	       member_u64(task, "exchanges"));
	printf("%-13s%" PRIu64 " (%s)\n", "bytes:", written,
	       size_text(bytes, sizeof(bytes), written));
	print_drops(json_object_get(task, "drops"));
	print_spec(json_object_get(task, "spec"));
}

/* show, stop and wait: one request about one task, answered by the task. */
struct task_op {
	const char *op;
	const char *usage;
	void (*print)(const json_t *task);
	bool waits;   /* takes --timeout; exit code says how the task ended */
};

static const struct task_op task_ops[] = {
	{ "show", show_usage, print_task, false },
	{ "stop", stop_usage, print_state_line, false },
	{ "wait", wait_usage, print_state_line, true },
};
#define NTASK_OPS (sizeof(task_ops) / sizeof(task_ops[0]))

/* wait's exit code: how the task ended. */
static int wait_status(const json_t *task)
{
	const char *state = json_string_value(json_object_get(task, "state"));

	if (state && (!strcmp(state, "done") || !strcmp(state, "stopped")))
		return 0;
	if (state && (!strcmp(state, "failed") ||
		      !strcmp(state, "interrupted")))
		return EXIT_DATA;
	return cli_error("the daemon answered the wait with a task that has "
			 "not ended");
}

static int timeout_ms(const struct task_args *a, const struct task_op *op)
{
	if (!op->waits)
		return CLI_DAEMON_TIMEOUT_MS;
	if (!a->timeout_ns)
		return -1;
	if (a->timeout_ns / 1000000 >= INT_MAX)
		return INT_MAX;
	return (int)(a->timeout_ns / 1000000);
}

static int task_one(int argc, char **argv, struct task_args *a,
		    const struct task_op *op)
{
	json_t *resp, *task;
	int ret;

	ret = parse_simple(a, argc, argv, op->usage, true, op->waits);
	if (ret)
		return ret < 0 ? cli_finish_stdout(0) : ret;
	ret = task_call(a, id_request(op->op, a->id), timeout_ms(a, op),
			&resp);
	if (ret)
		return ret;
	task = json_object_get(resp, "task");
	if (a->json)
		print_json(task);
	else
		op->print(task);
	ret = op->waits ? wait_status(task) : 0;
	json_decref(resp);
	return cli_finish_stdout(ret);
}

/* --- dispatch -------------------------------------------------------- */

/* Takes a leading --socket PATH (or --socket=PATH) before the
 * subcommand; returns how many arguments it used, or -1. */
static int leading_socket(int argc, char **argv, const char **socket)
{
	if (argc > 1 && !strncmp(argv[1], "--socket=", 9)) {
		*socket = argv[1] + 9;
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "--socket")) {
		if (argc < 3)
			return -1;
		*socket = argv[2];
		return 2;
	}
	return 0;
}

static int run_subcommand(const char *sub, int argc, char **argv,
			  struct task_args *a)
{
	if (!strcmp(sub, "start"))
		return task_start(argc, argv, a);
	if (!strcmp(sub, "list"))
		return task_list(argc, argv, a);
	for (size_t i = 0; i < NTASK_OPS; i++)
		if (!strcmp(sub, task_ops[i].op))
			return task_one(argc, argv, a, &task_ops[i]);
	return cli_error("'%s' is not a task subcommand; see 'deetune task "
			 "--help'", sub);
}

int cmd_task(int argc, char **argv)
{
	static char prog[32];
	struct task_args a = { 0 };
	char *command;
	const char *sub;
	int skip, ret;

	skip = leading_socket(argc, argv, &a.socket);
	if (skip < 0)
		return cli_error("--socket needs a path");
	if (argc <= 1 + skip)
		return cli_bad_usage(task_usage);
	sub = argv[1 + skip];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") ||
	    !strcmp(sub, "help")) {
		fputs(task_usage, stdout);
		return cli_finish_stdout(0);
	}
	command = command_line(argc, argv);
	if (!command)
		return cli_error("out of memory");
	a.command = command;
	/* getopt's messages name the subcommand: "deetune task start: ..." */
	snprintf(prog, sizeof(prog), "deetune task %s", sub);
	argv[1 + skip] = prog;
	ret = run_subcommand(sub, argc - 1 - skip, argv + 1 + skip, &a);
	free(command);
	return ret;
}
