/* SPDX-License-Identifier: MIT */
/* deetune: entry point; dispatches to one handler per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct dt_command commands[] = {
	{ "record", cmd_record, "record traffic of selected services with eBPF" },
	{ "inspect", cmd_inspect, "summarise a session file" },
	{ "cat", cmd_cat, "print a session's exchanges as JSON lines" },
	{ "replay", cmd_replay, "replay a session against targets, writing a new session" },
	{ "export", cmd_export, "write a session as a pcap file for Wireshark" },
	{ "import", cmd_import, "turn a pcap/pcapng capture into a session" },
	{ "diff", cmd_diff, "compare a replay with its recording" },
	{ "task", cmd_task, "start and control recording tasks in the daemon" },
	{ "daemon", cmd_daemon, "run the recorder as a host agent serving tasks" },
	{ "topo", cmd_topo, "capture for a while and print the service graph" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: deetune [--version] [--help] <command> [<args>]\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'deetune <command> --help' describes a command; "
		     "see also deetune(1).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return cli_finish_stdout(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("deetune %s\n", DEETUNE_VERSION);
		return cli_finish_stdout(0);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			/* messages and getopt's errors name the subcommand */
			cli_begin_command(argv + 1, commands[i].name);
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "deetune: '%s' is not a command; see 'deetune --help'\n",
		argv[1]);
	return EXIT_USAGE;
}
