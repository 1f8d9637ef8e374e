// SPDX-License-Identifier: MIT
/* deetune export: a session as a pcap file (see deetune-export(1)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "recorder/pcap_io.h"

static const char export_usage[] =
	"usage: deetune export --pcap [--linktype ethernet|raw] [--protocol P...]\n"
	"                      [--match EXPR...] -o OUT SESSION\n"
	"\n"
	"Writes the exchanges of the session file SESSION (- for standard input)\n"
	"as TCP conversations in the pcap file OUT (- for standard output, to\n"
	"pipe into 'tshark -r -' or 'wireshark -k -i -'): handshake, segments of\n"
	"at most one MSS with their ACKs, FIN handshake; exchanges flagged\n"
	"incomplete show a hole (\"previous segment not captured\").\n"
	"\n"
	"      --pcap           write a pcap file (the only format so far)\n"
	"  -o, --output OUT     file to write (- for standard output)\n"
	"      --linktype L     ethernet (default) or raw (IP packets only)\n"
	"  -p, --protocol P     only exchanges of protocol P: http, http2,\n"
	"                       redis, mysql (repeatable)\n"
	"  -m, --match EXPR     only matching requests (repeatable: any may\n"
	"                       match), as for 'deetune record --match'\n"
	"  -h, --help           print this help\n"
	"\n"
	"See deetune-export(1).\n";

struct export_cli {
	struct dt_pcap_export_opts opts;
	const char *session;
	bool pcap;
};

static int add_protocol(struct dt_pcap_export_opts *o, const char *name)
{
	for (uint32_t p = DT_PROTO_HTTP1; p <= DT_PROTO_LAST; p++) {
		if (!strcmp(name, dt_protocol_name(p))) {
			o->protocols |= 1u << p;
			return 0;
		}
	}
	return cli_error("unknown protocol '%s' (http, http2, redis or mysql)",
			 name);
}

static int set_link(struct dt_pcap_export_opts *o, const char *name)
{
	if (!strcmp(name, "ethernet"))
		o->link = DT_PCAP_LINK_ETHERNET;
	else if (!strcmp(name, "raw"))
		o->link = DT_PCAP_LINK_RAW;
	else
		return cli_error("unknown link type '%s' (ethernet or raw)",
				 name);
	return 0;
}

/* Returns 0 to go on, -1 after --help, or an exit code. */
static int parse_options(struct export_cli *e, int argc, char **argv)
{
	static const struct option options[] = {
		{ "pcap", no_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "linktype", required_argument, NULL, 'L' },
		{ "protocol", required_argument, NULL, 'p' },
		{ "match", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:p:m:h", options, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case 'P':
			e->pcap = true;
			break;
		case 'o':
			e->opts.output = optarg;
			break;
		case 'L':
			ret = set_link(&e->opts, optarg);
			break;
		case 'p':
			ret = add_protocol(&e->opts, optarg);
			break;
		case 'm':
			ret = cli_add_match(e->opts.matches,
					    &e->opts.nmatches,
					    DT_RECORD_MAX_MATCHES, optarg);
			break;
		case 'h':
			fputs(export_usage, stdout);
			return -1;
		default:
			return cli_bad_usage(export_usage);
		}
		if (ret)
			return ret;
	}
	if (argc - optind != 1) {
		cli_warn("expected one session file, got %d arguments",
			 argc - optind);
		return cli_bad_usage(export_usage);
	}
	e->session = argv[optind];
	if (!e->pcap)
		return cli_error("choose the output format: --pcap");
	if (!e->opts.output)
		return cli_error("no output file: -o OUT (- for standard output)");
	if (!strcmp(e->opts.output, "-") && isatty(STDOUT_FILENO))
		return cli_error("refusing to write a pcap to a terminal; "
				 "redirect standard output");
	return 0;
}

static int run_export(struct export_cli *e)
{
	struct dt_pcap_export_summary sum;
	struct cli_file f;
	char err[512];
	int ret, code = 0;

	if (cli_file_open(&f, e->session) < 0)
		return EXIT_USAGE;
	e->opts.session = f.data;
	e->opts.session_len = f.len;
	ret = dt_pcap_export_run(&e->opts, &sum, err, sizeof(err));
	cli_file_close(&f);
	if (ret == -EINVAL) {
		cli_warn("%s: %s", cli_file_label(e->session), err);
		return EXIT_DATA;
	} else if (ret == -EBADMSG) {
		cli_warn("%s: %s; exported the exchanges before it",
			 cli_file_label(e->session), err);
		code = EXIT_DATA;
	} else if (ret) {
		return cli_error("%s", err);
	} else if (sum.no_trailer) {
		cli_warn("warning: %s has no trailer (recording was "
			 "interrupted)", cli_file_label(e->session));
	}
	fprintf(stderr, "exported: %" PRIu64 " exchanges (%" PRIu64
		" connections, %" PRIu64 " packets, %" PRIu64
		" with a hole) to %s\n", sum.exchanges, sum.conns,
		sum.packets, sum.holes,
		strcmp(e->opts.output, "-") ? e->opts.output : "<stdout>");
	return code;
}

int cmd_export(int argc, char **argv)
{
	struct export_cli e = { .opts.link = DT_PCAP_LINK_ETHERNET };
	int ret = parse_options(&e, argc, argv);

	if (ret < 0)
		return cli_finish_stdout(0);
	if (ret)
		return ret;
	return run_export(&e);
}
