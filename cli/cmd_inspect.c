// SPDX-License-Identifier: MIT
/* deetune inspect: what a session file holds, in a few lines or one JSON
 * object (see deetune-inspect(1)). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/cli.h"
#include "formats/formats.h"

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((e)->add_failed = true)
#include <uthash.h>

static const char inspect_usage[] =
	"usage: deetune inspect [--json] FILE\n"
	"\n"
	"Summarises the session FILE (- for standard input): recording time,\n"
	"command, exchange counts by protocol and flag, drop counters and the\n"
	"client -> server endpoints seen.\n"
	"\n"
	"  --json      print the summary as one JSON object\n"
	"  -h, --help  print this help\n";

#define LABEL "%-13s"
/* Endpoint lines on the terminal; short-lived clients (one pid per curl)
 * make hundreds, which --json lists all. */
#define ENDPOINT_LINES 20
#define FLAG_BITS 32
#define COMM_LEN sizeof(((struct dt_endpoint *)0)->comm)
/* Room for every name dt_protocol_name() returns: it has one per known
 * protocol and maps all other numbers to "unknown". */
#define PROTOCOL_SLOTS 16

/* What the endpoint table groups by. Filled from a zeroed struct, with
 * only the meaningful bytes of addresses and names copied, so that equal
 * endpoints hash and compare equal as raw bytes. */
struct endpoint_key {
	uint32_t protocol;
	uint32_t client_pid;
	uint32_t server_pid;
	uint16_t server_port;
	uint8_t client_family;
	uint8_t server_family;
	uint8_t client_addr[16];
	uint8_t server_addr[16];
	char client_comm[COMM_LEN];
	char server_comm[COMM_LEN];
};

struct endpoint_stat {
	struct endpoint_key key;
	uint64_t exchanges;
	bool add_failed;
	UT_hash_handle hh;
};

struct protocol_count {
	const char *name;  /* static, from dt_protocol_name() */
	uint64_t exchanges;
};

struct inspect_summary {
	uint64_t exchanges;
	struct protocol_count protocols[PROTOCOL_SLOTS];
	size_t nprotocols;
	uint64_t flags[FLAG_BITS];
	uint64_t first_ns;  /* earliest request start, 0 when none */
	uint64_t last_ns;   /* latest timestamp of any exchange */
	struct endpoint_stat *endpoints;  /* uthash; owns its entries */
};

static void summary_free(struct inspect_summary *s)
{
	struct endpoint_stat *e, *tmp;

	HASH_ITER(hh, s->endpoints, e, tmp) {
		HASH_DEL(s->endpoints, e);
		free(e);
	}
}

static void summary_count_protocol(struct inspect_summary *s, uint32_t proto)
{
	const char *name = dt_protocol_name(proto);
	size_t i;

	for (i = 0; i < s->nprotocols; i++) {
		if (!strcmp(s->protocols[i].name, name))
			break;
	}
	if (i == s->nprotocols) {
		if (i == PROTOCOL_SLOTS)
			i--;  /* unreachable, see PROTOCOL_SLOTS */
		else
			s->protocols[s->nprotocols++].name = name;
	}
	s->protocols[i].exchanges++;
}

static void endpoint_key_side(uint8_t *family, uint8_t addr[16],
			      char comm[COMM_LEN], const struct dt_endpoint *ep)
{
	*family = ep->family;
	if (ep->family == DT_FAMILY_IPV4)
		memcpy(addr, ep->addr, 4);
	else if (ep->family == DT_FAMILY_IPV6)
		memcpy(addr, ep->addr, 16);
	memcpy(comm, ep->comm, strnlen(ep->comm, COMM_LEN));
}

static void endpoint_key_init(struct endpoint_key *k,
			      const struct dt_exchange *x)
{
	memset(k, 0, sizeof(*k));
	k->protocol = x->protocol;
	k->client_pid = x->client.pid;
	k->server_pid = x->server.pid;
	k->server_port = x->server.port;
	endpoint_key_side(&k->client_family, k->client_addr, k->client_comm,
			  &x->client);
	endpoint_key_side(&k->server_family, k->server_addr, k->server_comm,
			  &x->server);
}

static int summary_count_endpoint(struct inspect_summary *s,
				  const struct dt_exchange *x)
{
	struct endpoint_stat *e;
	struct endpoint_key k;

	endpoint_key_init(&k, x);
	HASH_FIND(hh, s->endpoints, &k, sizeof(k), e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = k;
		HASH_ADD(hh, s->endpoints, key, sizeof(e->key), e);
		if (e->add_failed) {
			free(e);
			return -ENOMEM;
		}
	}
	e->exchanges++;
	return 0;
}

static void summary_count_times(struct inspect_summary *s,
				const struct dt_exchange *x)
{
	const uint64_t t[] = { x->req_start_ns, x->req_end_ns,
			       x->resp_start_ns, x->resp_end_ns };

	if (x->req_start_ns && (!s->first_ns || x->req_start_ns < s->first_ns))
		s->first_ns = x->req_start_ns;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i] > s->last_ns)
			s->last_ns = t[i];
	}
}

static int summary_add(struct inspect_summary *s, const struct dt_exchange *x)
{
	s->exchanges++;
	summary_count_protocol(s, x->protocol);
	for (unsigned int bit = 0; bit < FLAG_BITS; bit++) {
		if (x->flags & (1u << bit))
			s->flags[bit]++;
	}
	summary_count_times(s, x);
	return summary_count_endpoint(s, x);
}

/* Biggest first; HASH_SORT is stable, so ties keep the order of first
 * appearance. */
static int endpoint_cmp(struct endpoint_stat *a, struct endpoint_stat *b)
{
	if (a->exchanges != b->exchanges)
		return a->exchanges > b->exchanges ? -1 : 1;
	return 0;
}

/*
 * Reads every exchange into s. Returns 0 at the clean end of the session,
 * 1 when the session is damaged (*damage then points at the reader's
 * message), -ENOMEM.
 */
static int summary_collect(struct inspect_summary *s,
			   struct dt_session_reader *r, const char **damage)
{
	struct dt_exchange x;
	int rc;

	dt_exchange_init(&x);
	while ((rc = dt_session_reader_next(r, &x)) == 1) {
		if (summary_add(s, &x) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	dt_exchange_release(&x);
	HASH_SORT(s->endpoints, endpoint_cmp);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		*damage = dt_session_reader_error(r);
		return 1;
	}
	return 0;
}

/* ---- formatting ---------------------------------------------------- */

/* "2024-05-01T12:00:00.123Z" */
static void format_time(char *buf, size_t size, uint64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&secs, &tm) ||
	    !(n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, size, "%" PRIu64 "ns", ns);
		return;
	}
	snprintf(buf + n, size - n, ".%03uZ",
		 (unsigned int)(ns / 1000000u % 1000u));
}

/* "350us", "850ms", "12.345s", "3m07.250s", "2h05m09s" */
static void format_duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t ms = ns / 1000000u, s = ms / 1000u;

	if (ns < 1000000u)
		snprintf(buf, size, "%" PRIu64 "us", ns / 1000u);
	else if (s == 0)
		snprintf(buf, size, "%" PRIu64 "ms", ms);
	else if (s < 60)
		snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "s", s,
			 ms % 1000u);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 ".%03" PRIu64 "s",
			 s / 60, s % 60, ms % 1000u);
	else
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s",
			 s / 3600, s / 60 % 60, s % 60);
}

/* "127.0.0.1", "::1", or "-" without an address */
static void format_ip(char *buf, size_t size, uint8_t family,
		      const uint8_t *addr)
{
	int af = family == DT_FAMILY_IPV4 ? AF_INET :
		 family == DT_FAMILY_IPV6 ? AF_INET6 : AF_UNSPEC;

	if (af == AF_UNSPEC || !inet_ntop(af, addr, buf, (socklen_t)size))
		snprintf(buf, size, "-");
}

/* "nginx[999]", "nginx", "[999]" or "?" */
static void format_process(char *buf, size_t size, const char *comm,
			   uint32_t pid)
{
	char safe[COMM_LEN + 1];

	cli_terminal_safe(safe, sizeof(safe), comm, strnlen(comm, COMM_LEN));
	if (pid)
		snprintf(buf, size, "%s[%" PRIu32 "]", safe, pid);
	else
		snprintf(buf, size, "%s", safe[0] ? safe : "?");
}

static void endpoint_server_addr(char *buf, size_t size,
				 const struct endpoint_key *k)
{
	struct dt_endpoint ep = { .family = k->server_family,
				  .port = k->server_port };

	memcpy(ep.addr, k->server_addr, sizeof(ep.addr));
	if (dt_endpoint_format(&ep, buf, size) < 0)
		snprintf(buf, size, "-");
}

/* The value of a metadata or statistics key; NULL when absent. */
static const char *attr_find(const struct dt_attr *attrs, size_t n,
			     const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(attrs[i].key, key))
			return attrs[i].value;
	}
	return NULL;
}

/* ---- the report ---------------------------------------------------- */

struct inspect_report {
	const char *label;
	bool has_trailer;
	const char *damage;           /* reader's message, NULL when sound */
	const struct dt_attr *meta;
	size_t nmeta;
	const struct dt_attr *stats;  /* NULL without a trailer */
	size_t nstats;
	uint64_t start_ns;            /* 0 when unknown */
	const struct inspect_summary *sum;
};

/* The end of the recording as far as the exchanges tell: the latest of
 * their timestamps. False when unknown. */
static bool report_end_ns(const struct inspect_report *rep, uint64_t *end_ns)
{
	*end_ns = rep->sum->last_ns;
	return rep->start_ns && rep->sum->exchanges && *end_ns >= rep->start_ns;
}

/* A metadata value made safe for a terminal; "-" when absent. */
static void meta_text(char *buf, size_t size, const struct inspect_report *rep,
		      const char *key)
{
	const char *v = attr_find(rep->meta, rep->nmeta, key);

	if (!v)
		v = "-";
	cli_terminal_safe(buf, size, v, strlen(v));
}

static void print_session_line(const struct inspect_report *rep)
{
	char label[1024];

	cli_terminal_safe(label, sizeof(label), rep->label, strlen(rep->label));
	printf(LABEL "%s (format v%d, %s", "session:", label,
	       DT_SESSION_VERSION, rep->has_trailer ? "trailer ok" :
	       "no trailer: recording was interrupted");
	if (rep->damage)
		printf(", damaged after %" PRIu64 " exchanges",
		       rep->sum->exchanges);
	printf(")\n");
}

static void print_time_line(const struct inspect_report *rep)
{
	char start[40], end[40], took[40];
	uint64_t end_ns;

	if (!rep->start_ns) {
		printf(LABEL "unknown\n", "recorded:");
		return;
	}
	format_time(start, sizeof(start), rep->start_ns);
	if (!report_end_ns(rep, &end_ns)) {
		printf(LABEL "%s .. ?%s\n", "recorded:", start,
		       rep->sum->exchanges ? "" : "  (no exchanges)");
		return;
	}
	format_time(end, sizeof(end), end_ns);
	format_duration(took, sizeof(took), end_ns - rep->start_ns);
	printf(LABEL "%s .. %s  (%s)\n", "recorded:", start, end, took);
}

static void print_meta_lines(const struct inspect_report *rep)
{
	char text[1024], version[64];

	meta_text(text, sizeof(text), rep, "command");
	printf(LABEL "%s\n", "command:", text);
	meta_text(text, sizeof(text), rep, "host");
	meta_text(version, sizeof(version), rep, "tool_version");
	printf(LABEL "%s   tool: deetune %s\n", "host:", text, version);
}

static void print_count_lines(const struct inspect_summary *s)
{
	const char *name;

	printf(LABEL "%" PRIu64, "exchanges:", s->exchanges);
	for (size_t i = 0; i < s->nprotocols; i++)
		printf("%s%s %" PRIu64, i ? ", " : "  (",
		       s->protocols[i].name, s->protocols[i].exchanges);
	printf("%s\n", s->nprotocols ? ")" : "");

	printf(LABEL, "flags:");
	for (unsigned int bit = 0, n = 0; bit < FLAG_BITS; bit++) {
		name = dt_exchange_flag_name(1u << bit);
		if (name)
			printf("%s%s %" PRIu64, n++ ? ", " : "", name,
			       s->flags[bit]);
		else if (s->flags[bit])
			printf("%s0x%x %" PRIu64, n++ ? ", " : "", 1u << bit,
			       s->flags[bit]);
	}
	printf("\n");
}

#define DROP_PREFIX "drops."

static void print_drops_line(const struct inspect_report *rep)
{
	size_t plen = strlen(DROP_PREFIX);
	char key[64], value[32];
	int n = 0;

	printf(LABEL, "drops:");
	if (!rep->stats) {
		printf("unknown (no trailer)\n");
		return;
	}
	for (size_t i = 0; i < rep->nstats; i++) {
		const struct dt_attr *a = &rep->stats[i];

		if (strncmp(a->key, DROP_PREFIX, plen))
			continue;
		cli_terminal_safe(key, sizeof(key), a->key + plen,
				  strlen(a->key + plen));
		cli_terminal_safe(value, sizeof(value), a->value,
				  strlen(a->value));
		printf("%s%s %s", n++ ? ", " : "", key, value);
	}
	printf("%s\n", n ? "" : "none recorded");
}

static void print_endpoint_line(const struct endpoint_stat *e)
{
	const struct endpoint_key *k = &e->key;
	char client[40], client_ip[INET6_ADDRSTRLEN], server[40], addr[64];

	format_process(client, sizeof(client), k->client_comm, k->client_pid);
	format_ip(client_ip, sizeof(client_ip), k->client_family,
		  k->client_addr);
	format_process(server, sizeof(server), k->server_comm, k->server_pid);
	endpoint_server_addr(addr, sizeof(addr), k);
	printf("    %s %s -> %s %s  %s  %" PRIu64 " exchange%s\n", client,
	       client_ip, server, addr, dt_protocol_name(k->protocol),
	       e->exchanges, e->exchanges == 1 ? "" : "s");
}

static void print_endpoints(const struct inspect_summary *s)
{
	const struct endpoint_stat *e = s->endpoints;
	unsigned int n;

	if (!e) {
		printf(LABEL "none\n", "endpoints:");
		return;
	}
	printf("endpoints:\n");
	for (n = 0; e && n < ENDPOINT_LINES && !cli_stdout_failed(); n++) {
		print_endpoint_line(e);
		e = e->hh.next;
	}
	if (e)
		printf("    ... %u more (--json lists them all)\n",
		       HASH_COUNT(s->endpoints) - n);
}

static void print_report(const struct inspect_report *rep)
{
	print_session_line(rep);
	print_time_line(rep);
	print_meta_lines(rep);
	print_count_lines(rep->sum);
	print_drops_line(rep);
	print_endpoints(rep->sum);
}

/* ---- the report as JSON -------------------------------------------- */

/* The attrs whose key starts with prefix, keyed without it; with
 * as_numbers, decimal values become JSON integers. */
static json_t *attrs_to_json(const struct dt_attr *attrs, size_t n,
			     const char *prefix, bool as_numbers)
{
	size_t plen = strlen(prefix);
	json_t *o = json_object(), *v;
	uint64_t num;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		const struct dt_attr *a = &attrs[i];

		if (strncmp(a->key, prefix, plen))
			continue;
		if (as_numbers && !cli_parse_u64(a->value, &num))
			v = cli_json_u64(num);
		else
			v = cli_json_text(a->value, strlen(a->value));
		rc |= cli_json_set_text_key(o, a->key + plen,
					    strlen(a->key + plen), v);
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *time_to_json(uint64_t ns)
{
	char buf[40];

	format_time(buf, sizeof(buf), ns);
	return json_string(buf);
}

static json_t *counts_to_json(const struct inspect_summary *s)
{
	json_t *protocols = json_object(), *flags = json_object(), *o;
	const char *name;
	char hex[16];
	int rc = 0;

	for (size_t i = 0; i < s->nprotocols; i++)
		rc |= json_object_set_new(protocols, s->protocols[i].name,
			cli_json_u64(s->protocols[i].exchanges));
	for (unsigned int bit = 0; bit < FLAG_BITS; bit++) {
		name = dt_exchange_flag_name(1u << bit);
		if (!name && !s->flags[bit])
			continue;
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%x", 1u << bit);
			name = hex;
		}
		rc |= json_object_set_new(flags, name,
					  cli_json_u64(s->flags[bit]));
	}
	o = json_object();
	rc |= json_object_set_new(o, "exchanges", cli_json_u64(s->exchanges));
	rc |= json_object_set_new(o, "protocols", protocols);
	rc |= json_object_set_new(o, "flags", flags);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *endpoint_side_to_json(const char *comm, uint32_t pid,
				     const char *addr_key, const char *addr)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= json_object_set_new(o, "comm",
				  cli_json_text(comm, strnlen(comm, COMM_LEN)));
	rc |= json_object_set_new(o, "pid", json_integer(pid));
	rc |= json_object_set_new(o, addr_key, strcmp(addr, "-") ?
				  json_string(addr) : json_null());
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *endpoints_to_json(const struct inspect_summary *s)
{
	char ip[INET6_ADDRSTRLEN], addr[64];
	const struct endpoint_stat *e;
	json_t *list = json_array(), *o;
	int rc = 0;

	for (e = s->endpoints; e && !rc; e = e->hh.next) {
		const struct endpoint_key *k = &e->key;

		format_ip(ip, sizeof(ip), k->client_family, k->client_addr);
		endpoint_server_addr(addr, sizeof(addr), k);
		o = json_object();
		rc |= json_object_set_new(o, "client", endpoint_side_to_json(
			k->client_comm, k->client_pid, "ip", ip));
		rc |= json_object_set_new(o, "server", endpoint_side_to_json(
			k->server_comm, k->server_pid, "addr", addr));
		rc |= json_object_set_new(o, "protocol", json_string(
			dt_protocol_name(k->protocol)));
		rc |= json_object_set_new(o, "exchanges",
					  cli_json_u64(e->exchanges));
		rc |= json_array_append_new(list, o);
	}
	if (rc) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static json_t *report_to_json(const struct inspect_report *rep)
{
	uint64_t end_ns;
	bool has_end = report_end_ns(rep, &end_ns);
	json_t *o = json_object();
	int rc = 0;

	rc |= json_object_set_new(o, "file", cli_json_text(rep->label,
				  strlen(rep->label)));
	rc |= json_object_set_new(o, "format_version",
				  json_integer(DT_SESSION_VERSION));
	rc |= json_object_set_new(o, "trailer", json_boolean(rep->has_trailer));
	rc |= json_object_set_new(o, "damaged", rep->damage ?
		cli_json_text(rep->damage, strlen(rep->damage)) : json_null());
	rc |= json_object_set_new(o, "start", rep->start_ns ?
				  time_to_json(rep->start_ns) : json_null());
	rc |= json_object_set_new(o, "end", has_end ?
				  time_to_json(end_ns) : json_null());
	rc |= json_object_set_new(o, "start_ns", rep->start_ns ?
				  cli_json_u64(rep->start_ns) : json_null());
	rc |= json_object_set_new(o, "end_ns", has_end ?
				  cli_json_u64(end_ns) : json_null());
	rc |= json_object_set_new(o, "duration_ns", has_end ?
		cli_json_u64(end_ns - rep->start_ns) : json_null());
	rc |= json_object_set_new(o, "metadata",
		attrs_to_json(rep->meta, rep->nmeta, "", false));
	rc |= json_object_set_new(o, "stats", rep->stats ?
		attrs_to_json(rep->stats, rep->nstats, "", true) : json_null());
	rc |= json_object_update_new(o, counts_to_json(rep->sum));
	rc |= json_object_set_new(o, "drops", rep->stats ?
		attrs_to_json(rep->stats, rep->nstats, DROP_PREFIX, true) :
		json_null());
	rc |= json_object_set_new(o, "endpoints", endpoints_to_json(rep->sum));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Returns 0 or -ENOMEM. */
static int print_report_json(const struct inspect_report *rep)
{
	json_t *o = report_to_json(rep);
	int err = 0;

	if (!o)
		return -ENOMEM;
	if (json_dumpf(o, stdout, JSON_COMPACT) < 0 && !ferror(stdout))
		err = -ENOMEM;
	else
		putchar('\n');
	json_decref(o);
	return err;
}

/* ---- the command --------------------------------------------------- */

static void report_init(struct inspect_report *rep, struct dt_session_reader *r)
{
	const char *start;

	rep->has_trailer = dt_session_reader_has_trailer(r);
	rep->meta = dt_session_reader_meta(r, &rep->nmeta);
	rep->stats = dt_session_reader_stats(r, &rep->nstats);
	start = attr_find(rep->meta, rep->nmeta, "start_ns");
	if (!start || cli_parse_u64(start, &rep->start_ns) < 0)
		rep->start_ns = rep->sum->first_ns;
}

static int inspect_file(const char *path, bool as_json)
{
	struct inspect_summary sum = { 0 };
	struct inspect_report rep = { .label = cli_file_label(path),
				      .sum = &sum };
	struct dt_session_reader *r;
	struct cli_file f;
	char err[256] = "";
	int rc, code = 0;

	if (cli_file_open(&f, path) < 0)
		return EXIT_USAGE;
	rc = dt_session_reader_open(&r, f.data, f.len, err, sizeof(err));
	if (rc < 0) {
		cli_warn("%s: %s", rep.label, err[0] ? err : strerror(-rc));
		code = EXIT_DATA;
		goto out_file;
	}
	rc = summary_collect(&sum, r, &rep.damage);
	if (rc >= 0) {
		report_init(&rep, r);
		if (as_json)
			rc = print_report_json(&rep);
		else
			print_report(&rep);
	}
	cli_flush_stdout();
	if (rc < 0) {
		cli_warn("out of memory");
		code = EXIT_USAGE;
	} else if (rep.damage) {
		cli_warn("%s: %s", rep.label, rep.damage);
		code = EXIT_DATA;
	}
	summary_free(&sum);
	dt_session_reader_free(r);
out_file:
	cli_file_close(&f);
	return code;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'h':
			fputs(inspect_usage, stdout);
			return cli_finish_stdout(0);
		default:
			return cli_bad_usage(inspect_usage);
		}
	}
	if (argc - optind != 1) {
		cli_warn("expected one session file, got %d arguments",
			 argc - optind);
		return cli_bad_usage(inspect_usage);
	}
	return cli_finish_stdout(inspect_file(argv[optind], as_json));
}
