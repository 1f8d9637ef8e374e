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

#include "formats/formats.h"

enum dt_selector_kind {
	DT_SEL_PORT = 1,   /* port:N */
	DT_SEL_PID,        /* pid:N */
	DT_SEL_COMM,       /* comm:NAME */
	DT_SEL_CGROUP,     /* cgroup:PATH */
	DT_SEL_ADDR,       /* addr:IP:PORT */
	DT_SEL_UNIX,       /* unix:PATH, unix:@ABSTRACT */
	DT_SEL_ALL,        /* all: every TCP and Unix stream socket */
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

/* Parses "all", "port:80", "pid:1234", "comm:nginx",
 * "cgroup:/sys/fs/cgroup/x", "addr:127.0.0.1:80", "addr:[::1]:80" or
 * "unix:/run/redis.sock".
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

/* ---------------------------------------------------------------------- */
/* Observers: side outputs (topology, metrics) fed by the same capture     */
/* ---------------------------------------------------------------------- */

/* TCP-level facts the probes report besides payload (tcp:* and
 * sock:inet_sock_set_state tracepoints). */
enum dt_tcp_event_kind {
	DT_TCP_CONNECT = 1,        /* connect() started (SYN_SENT) */
	DT_TCP_CONNECT_FAILED,     /* SYN_SENT -> CLOSE; error says why */
	DT_TCP_RETRANSMIT,         /* a segment was retransmitted */
	DT_TCP_RESET,              /* a reset was sent or received */
};

struct dt_tcp_event {
	enum dt_tcp_event_kind kind;
	/* local: the socket the kernel acted on; remote: its peer. Only
	 * local carries pid/comm/cgroup: the connecting process's, recorded
	 * at connect() and kept for the socket's later retransmits and
	 * resets; pid 0 and comm "" when unknown (a socket that accepted,
	 * or connected before the probes). Connect events have local port
	 * 0: the kernel picks it after SYN_SENT and releases it at CLOSE. */
	struct dt_endpoint local;
	struct dt_endpoint remote;
	/* 1: local is the connecting side, 0: it accepted, -1: unknown */
	int local_is_client;
	int error;                 /* CONNECT_FAILED: ECONNREFUSED, ETIMEDOUT...;
				      0 when the application gave up */
	bool sent;                 /* RESET: sent by local (else received) */
	uint64_t ts_ns;            /* CLOCK_REALTIME */
};

/* Called from the capture loop for every exchange the probes assemble
 * (whether or not a task keeps it; before redaction, so observers must
 * not store payload) and for every TCP event. Neither argument outlives
 * the call. */
struct dt_observer {
	void (*on_exchange)(void *ctx, const struct dt_exchange *x);
	void (*on_tcp_event)(void *ctx, const struct dt_tcp_event *ev);
	void *ctx;
};

/* ---------------------------------------------------------------------- */
/* The recorder engine: one capture and assembler shared by every task     */
/* and observer (the daemon runs one for its lifetime; `record` and `topo` */
/* run one per command).                                                   */
/* ---------------------------------------------------------------------- */

#define DT_RECORDER_DEFAULT_MAX_MEMORY (256u << 20)

struct dt_recorder_opts {
	size_t ringbuf_bytes;      /* 0 = default (16 MiB) */
	size_t max_memory;         /* bytes the assembler may buffer; past it
				      the oldest incomplete streams are dropped
				      and counted. 0 = 256 MiB */
	const char *protocol;      /* decode all as "http", "redis", "mysql";
				      NULL = detect per connection */
	const struct dt_observer *observer; /* NULL = none */
	/* server selectors captured for the observer even when no task runs
	 * (e.g. daemon --observe, topo) */
	const struct dt_selector *observe;
	size_t nobserve;
	bool tcp_events;           /* feed dt_tcp_event to the observer */
};

struct dt_recorder_stats {
	uint64_t drops[4];         /* by enum dt_drop_reason (bpf/deetune.h) */
	uint64_t events, bytes;    /* what the probes submitted */
	uint64_t gaps, incomplete, unpaired, malformed;
	uint64_t conns;            /* connections tracked now */
	uint64_t buffered_bytes;   /* bytes the assembler holds now */
	uint64_t evicted_streams;  /* dropped to stay under max_memory */
};

struct dt_recorder;

/* Loads and attaches the probes (idle until a task or an observe selector
 * needs them). *out is owned by the caller (dt_recorder_close). Returns 0,
 * or a negative errno with a one-line explanation in err: -EPERM when not
 * root, -ENOSYS/-EOPNOTSUPP when the kernel lacks a needed feature. */
int dt_recorder_open(struct dt_recorder **out,
		     const struct dt_recorder_opts *opts, char *err,
		     size_t errlen);
/* Drains the probes' events (waiting up to timeout_ms), ends connections,
 * enforces task policies, flushes files about once a second. Returns 0 or
 * a negative errno (-EINTR when a signal arrived). */
int dt_recorder_poll(struct dt_recorder *r, int timeout_ms);
void dt_recorder_get_stats(struct dt_recorder *r,
			   struct dt_recorder_stats *st);
/* Makes SIGINT and SIGTERM ask the loop driving an engine to stop instead
 * of killing the process; dt_stop_signal() then returns the signal (0
 * before one arrived). */
void dt_catch_stop_signals(void);
int dt_stop_signal(void);
/* Stops every running task (state "stopped"), finalizing its file. */
void dt_recorder_close(struct dt_recorder *r);

/* ---------------------------------------------------------------------- */
/* Recording tasks (engine.c, task.c): each writes the exchanges its       */
/* selectors and policies keep to its own session file. `record` runs one; */
/* the daemon runs many at once on one engine.                             */
/* ---------------------------------------------------------------------- */

#define DT_TASK_MAX_REDACT 32

enum dt_task_state {
	DT_TASK_RUNNING = 0,
	DT_TASK_DONE,          /* ended by its own policy: duration, count,
				  max-bytes */
	DT_TASK_STOPPED,       /* dt_recorder_task_stop() or engine closed */
	DT_TASK_FAILED,        /* the file could not be written */
	DT_TASK_INTERRUPTED,   /* found running after a daemon restart
				  (never set by the engine) */
};

/* "running", "done", "stopped", "failed", "interrupted". */
const char *dt_task_state_name(enum dt_task_state st);

/* What a task counted over its lifetime. The probe drops, gaps, evicted,
 * events and bytes are the shared engine's, counted since the task
 * started (the probes do not know which task a lost event was for). */
struct dt_task_drops {
	uint64_t ringbuf_full, truncated, read_failed, state_full;
	uint64_t gaps, evicted;
	uint64_t sampled_out;      /* this task's: kept out by sample */
};

struct dt_task_info {
	uint64_t id;
	enum dt_task_state state;
	/* "" while running, else "duration", "count", "max-bytes",
	 * "stopped", "disk full" or "write error: <strerror>" */
	char reason[96];
	uint64_t started_ns, ended_ns; /* CLOCK_REALTIME; ended 0 if running */
	uint64_t exchanges;        /* written to the file (failed: those in
				      whole frames, at least) */
	uint64_t incomplete;       /* of those, flagged incomplete */
	uint64_t bytes_written;    /* file bytes on disk (whole frames) */
	uint64_t events, bytes;    /* the probes' submissions, since start */
	struct dt_task_drops drops;
};

/* Called once when a task ends, after its file is finalized (or given
 * up on failure); info is borrowed for the call. It runs inside
 * dt_recorder_poll/task_stop/close and must not call into the recorder. */
typedef void (*dt_task_end_fn)(void *ctx, const struct dt_task_info *info);

struct dt_task_spec {
	struct dt_selector sels[DT_RECORD_MAX_SELECTORS]; /* >= 1 server */
	size_t nsels;
	struct dt_match matches[DT_RECORD_MAX_MATCHES];
	size_t nmatches;
	uint64_t duration_ns;      /* 0 = until stopped */
	uint64_t max_count;        /* 0 = unlimited */
	uint64_t max_bytes;        /* 0 = unlimited; ends at the first frame
				      that brings the file to this size */
	double sample;             /* keep this share of connections, (0, 1];
				      0 means 1 */
	const char *redact[DT_TASK_MAX_REDACT]; /* rules, see redact/redact.h */
	size_t nredact;
	bool no_default_redaction; /* leave out the built-in rules */
	/* session metadata: the command line, and the file's name */
	const char *command;
	const char *output;
	int fd;                    /* the open output file, see task_start */
	dt_task_end_fn on_end;     /* NULL = not told */
	void *ctx;
};

/* Checks spec as dt_recorder_task_start will (a server selector, the
 * limits, sample, the redaction rules), so that a caller can refuse it
 * before creating the output file. 0, or -EINVAL with a message in err,
 * or -ENOMEM. */
int dt_task_spec_check(const struct dt_task_spec *spec, char *err,
		       size_t errlen);
/*
 * Starts a task with the caller's id (unique among running tasks): writes
 * the session header to spec->fd and widens the probes' selection to the
 * task's selectors. The spec is copied; spec->fd belongs to the task from
 * this call on, also when it fails (it is closed). Returns 0, -EEXIST for
 * a running id, -EINVAL with a message in err (e.g. a bad redaction rule,
 * no server selector, sample outside (0, 1]), or another negative errno.
 */
int dt_recorder_task_start(struct dt_recorder *r,
			   const struct dt_task_spec *spec, uint64_t id,
			   char *err, size_t errlen);
/* Ends a running task now (state "stopped"): what the probes hold is
 * drained first, its file is finalized, on_end is called. 0 or -ENOENT. */
int dt_recorder_task_stop(struct dt_recorder *r, uint64_t id);
/* Progress of a running task. 0 or -ENOENT (ended tasks are gone: their
 * final info went to on_end). */
int dt_recorder_task_info(struct dt_recorder *r, uint64_t id,
			  struct dt_task_info *info);
/* Calls fn (unless NULL) for every running task, oldest first; fn must
 * not start or stop tasks. Returns the number of running tasks. */
size_t dt_recorder_task_foreach(struct dt_recorder *r,
				void (*fn)(void *ctx,
					   const struct dt_task_info *info),
				void *ctx);

/* ---------------------------------------------------------------------- */
/* `deetune record`: the engine and one task, in the foreground             */
/* ---------------------------------------------------------------------- */

struct dt_record_opts {
	struct dt_task_spec task;  /* fd, on_end and ctx are set by
				      dt_record_run; output names the file */
	const char *protocol;      /* "http", "redis", "mysql"; NULL = detect */
	size_t ringbuf_bytes;      /* 0 = default */
	size_t max_memory;         /* 0 = default */
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
