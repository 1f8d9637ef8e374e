// SPDX-License-Identifier: MIT
/* deetune import: a pcap/pcapng capture as a session (deetune-import(1)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "recorder/pcap_io.h"

static const char import_usage[] =
	"usage: deetune import [--filter EXPR] [--redact RULE...]\n"
	"                      [--no-default-redaction] -o SESSION CAPTURE\n"
	"\n"
	"Reads the pcap or pcapng file CAPTURE (- for standard input), taken by\n"
	"tcpdump, tshark or Wireshark, reassembles its TCP connections and\n"
	"decodes them as 'deetune record' does (HTTP/1, Redis, MySQL) into the\n"
	"session file SESSION (- for standard output). Bytes the capture lost\n"
	"make their exchanges incomplete. Link types: Ethernet (VLAN tags too),\n"
	"Linux cooked (SLL, SLL2), raw IP, BSD loopback.\n"
	"\n"
	"  -f, --filter EXPR    read only the packets EXPR selects, a capture\n"
	"                       filter such as 'tcp port 80' (pcap-filter(7))\n"
	"  -o, --output FILE    session file to write (- for standard output)\n"
	"  -r, --redact RULE    also mask what RULE names: header:NAME,\n"
	"                       json:PATH or regex:ERE (repeatable;\n"
	"                       deetune-redaction(7))\n"
	"      --no-default-redaction\n"
	"                       keep credentials the built-in rules mask\n"
	"  -h, --help           print this help\n"
	"\n"
	"See deetune-import(1).\n";

#define MAX_REDACT 32

/* Returns 0 to go on, -1 after --help, or an exit code. */
static int parse_options(struct dt_pcap_import_opts *o, const char **redact,
			 int argc, char **argv)
{
	static const struct option options[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "redact", required_argument, NULL, 'r' },
		{ "no-default-redaction", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:o:r:h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->nredact == MAX_REDACT)
				return cli_error("at most %d --redact rules",
						 MAX_REDACT);
			redact[o->nredact++] = optarg;
			break;
		case 'N':
			o->no_default_redaction = true;
			break;
		case 'f':
			o->filter = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(import_usage, stdout);
			return -1;
		default:
			return cli_bad_usage(import_usage);
		}
	}
	if (argc - optind != 1) {
		cli_warn("expected one capture file, got %d arguments",
			 argc - optind);
		return cli_bad_usage(import_usage);
	}
	o->input = argv[optind];
	if (!o->output)
		return cli_error("no session file: -o SESSION");
	return 0;
}

int cmd_import(int argc, char **argv)
{
	struct dt_pcap_import_opts o = { .filter = NULL };
	struct dt_pcap_import_summary sum;
	const char *redact[MAX_REDACT];
	char err[1024];
	int ret = parse_options(&o, redact, argc, argv);

	if (ret < 0)
		return cli_finish_stdout(0);
	if (ret)
		return ret;
	o.redact = redact;
	ret = dt_pcap_import_run(&o, &sum, err, sizeof(err));
	if (ret == -EBADMSG)
		cli_warn("%s; the session holds the %" PRIu64
			 " exchanges before it", err, sum.exchanges);
	else if (ret)
		return cli_error("%s", err);
	fprintf(stderr, "imported: %" PRIu64 " exchanges from %" PRIu64
		" packets (%" PRIu64 " connections, %" PRIu64
		" incomplete, %" PRIu64 " gaps)\n", sum.exchanges,
		sum.packets, sum.conns, sum.incomplete, sum.gaps);
	/* a capture cut short is an input error: exit 2, as for garbage */
	return cli_finish_stdout(ret ? EXIT_USAGE : 0);
}
