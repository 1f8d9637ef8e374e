/* SPDX-License-Identifier: MIT */
/*
 * recorder: loads the BPF probes, turns their events into exchanges and
 * writes them to a session file under the recording policies.
 */
#ifndef DEETUNE_RECORDER_H
#define DEETUNE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dt_selector_kind {
	DT_SEL_PORT = 1,   /* port:N */
	DT_SEL_PID,        /* pid:N */
	DT_SEL_COMM,       /* comm:NAME */
	DT_SEL_CGROUP,     /* cgroup:PATH */
	DT_SEL_ADDR,       /* addr:IP:PORT */
	DT_SEL_UNIX,       /* unix:PATH, unix:@ABSTRACT */
};

struct dt_selector {
	enum dt_selector_kind kind;
	bool server;           /* --server (true) or --client (false) */
	uint16_t port;         /* PORT, ADDR */
	uint8_t addr[16];      /* ADDR: IPv6 or IPv4-mapped */
	uint32_t pid;          /* PID */
	uint64_t cgroup_id;    /* CGROUP */
	char comm[16];         /* COMM */
	char path[108];        /* UNIX, "@name" for abstract sockets */
	char text[128];        /* as the user wrote it */
};

/* Parses "port:80", "pid:1234", "comm:nginx", "cgroup:/sys/fs/cgroup/x",
 * "addr:127.0.0.1:80", "addr:[::1]:80" or "unix:/run/redis.sock".
 * Returns 0, or -EINVAL with a message in err. */
int dt_selector_parse(struct dt_selector *sel, const char *text, bool server,
		      char *err, size_t errlen);

/* True when the endpoint (of the matching role) is what sel names. */
struct dt_endpoint;
bool dt_selector_match_endpoint(const struct dt_selector *sel,
				const struct dt_endpoint *ep);

/*
 * A --match expression, read per protocol:
 *   HTTP   "METHOD /path-glob", "/path-glob" or "METHOD"
 *   Redis  a command glob ("GET", "H*"), any case
 *   MySQL  a glob on the normalised SQL ("SELECT * FROM orders*") or a
 *          statement kind ("select", "insert", ...), any case
 */
struct dt_match {
	char text[256];
	char method[32];       /* HTTP: "" = any method */
	char path_glob[256];   /* HTTP: "" = any path */
	bool http;             /* text has one of the HTTP forms */
};
int dt_match_parse(struct dt_match *m, const char *text, char *err,
		   size_t errlen);

/* True when x matches one of the n expressions (or n is 0). */
struct dt_exchange;
bool dt_match_exchange(const struct dt_match *m, size_t n,
		       const struct dt_exchange *x);

#define DT_RECORD_MAX_SELECTORS 64
#define DT_RECORD_MAX_MATCHES 16

struct dt_record_opts {
	struct dt_selector sels[DT_RECORD_MAX_SELECTORS];
	size_t nsels;
	struct dt_match matches[DT_RECORD_MAX_MATCHES];
	size_t nmatches;
	uint64_t duration_ns;  /* 0 = until stopped */
	uint64_t max_count;    /* 0 = unlimited */
	const char *output;    /* session file path */
	const char *protocol;  /* "http", "redis", "mysql"; NULL = detect */
	const char *command;   /* the command line, stored as metadata */
	size_t ringbuf_bytes;  /* 0 = default */
	bool quiet;
};

struct dt_record_summary {
	uint64_t exchanges;
	uint64_t bytes_written;
	uint64_t incomplete;
	uint64_t dropped_events;
};

/*
 * Records until a policy or a signal ends it (SIGINT/SIGTERM set a flag
 * polled by the loop). Prints "recording: ..." on stderr once attached.
 * Returns 0, or a negative errno after printing one clear message;
 * -EPERM/-ENOSYS/-EOPNOTSUPP mean BPF is unavailable here.
 */
int dt_record_run(const struct dt_record_opts *opts,
		  struct dt_record_summary *summary);

/* pcap export and import */
#include "recorder/pcap_io.h"

#endif /* DEETUNE_RECORDER_H */
