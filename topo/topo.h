/* SPDX-License-Identifier: MIT */
/*
 * topo: the service graph and golden metrics the capture yields as a side
 * output. Exchanges and TCP events (the recorder's observer callbacks) go
 * in; a graph of service nodes and client -> server edges per protocol
 * (requests, errors, latency histogram, bytes, TCP facts) comes out as
 * JSON, Graphviz dot, a table or Prometheus text. The schema is
 * documented in deetune-topo(1).
 *
 * A struct dt_topo is not thread-safe: feed and render it from one thread
 * (the daemon's poll loop, or `deetune topo`). Memory is bounded by the
 * limits in struct dt_topo_opts; what does not fit is counted, not kept.
 */
#ifndef DEETUNE_TOPO_H
#define DEETUNE_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recorder/recorder.h"

/* ---------------------------------------------------------------------- */
/* Service naming rules: NAME=SELECTOR                                     */
/* ---------------------------------------------------------------------- */

#define DT_TOPO_NAME_MAX 64

struct dt_topo_rule {
	char name[DT_TOPO_NAME_MAX];   /* node id for matching endpoints */
	struct dt_selector sel;        /* any dt_selector_parse() syntax */
};

/* Parses "orders=comm:orders-api". NAME is 1 to 63 bytes of printable
 * ASCII without '=' or '"'. Returns 0, or -EINVAL with a message in err. */
int dt_topo_rule_parse(struct dt_topo_rule *rule, const char *text,
		       char *err, size_t errlen);

/*
 * Appends the rules of a file (one NAME=SELECTOR per line; blank lines and
 * lines starting with '#' are skipped; at most 1024 rules in all) to
 * *rules, an array of *n rules that this function reallocates: the caller
 * owns *rules (free()) also after a failure. Returns 0, or a negative
 * errno with "PATH:LINE: why" in err.
 */
int dt_topo_rules_load(const char *path, struct dt_topo_rule **rules,
		       size_t *n, char *err, size_t errlen);

/* ---------------------------------------------------------------------- */
/* Identity details from cgroup paths                                      */
/* ---------------------------------------------------------------------- */

#define DT_TOPO_CONTAINER_ID_LEN 64

/*
 * Container id (64 lower-case hex digits) in a cgroup v2 path, for the
 * layouts docker-<id>.scope, /docker/<id>, cri-containerd-<id>.scope,
 * crio-<id>.scope and kubepods .../pod<uid>/<id>. Writes it NUL-terminated
 * into out (at least DT_TOPO_CONTAINER_ID_LEN + 1 bytes); returns true
 * when found. The last matching path component wins.
 */
bool dt_topo_container_id(const char *cgroup_path, char *out);

/* The systemd unit of a cgroup path: its last component ending in
 * ".service" or ".scope", copied into out (cut to size); false if none. */
bool dt_topo_systemd_unit(const char *cgroup_path, char *out, size_t size);

/* ---------------------------------------------------------------------- */
/* Latency histogram (Prometheus buckets)                                   */
/* ---------------------------------------------------------------------- */

/* Upper bounds in seconds: .0005 .001 .0025 .005 .01 .025 .05 .1 .25 .5
 * 1 2.5 5 10, then +Inf. */
#define DT_TOPO_NBUCKETS 14
extern const double dt_topo_bucket_bounds[DT_TOPO_NBUCKETS];

struct dt_topo_histogram {
	uint64_t counts[DT_TOPO_NBUCKETS + 1]; /* per bucket, not cumulative;
						  the last one is +Inf */
	uint64_t count;
	double sum;                            /* seconds */
};

void dt_topo_histogram_observe(struct dt_topo_histogram *h, double seconds);

/* The q-quantile (0 <= q <= 1) by linear interpolation within the bucket
 * holding it, as Prometheus' histogram_quantile() does: the +Inf bucket
 * answers the highest finite bound. NaN when the histogram is empty. */
double dt_topo_histogram_quantile(const struct dt_topo_histogram *h,
				  double q);

/* ---------------------------------------------------------------------- */
/* The graph                                                               */
/* ---------------------------------------------------------------------- */

struct dt_topo_opts {
	const struct dt_topo_rule *rules; /* copied */
	size_t nrules;
	size_t max_nodes;        /* 0 = 1024 */
	size_t max_edges;        /* 0 = 4096 (TCP-only flows included) */
	size_t max_identities;   /* pids whose /proc details are cached;
				    0 = 1024 */
	/* where to read process and cgroup details; NULL = "/proc" and
	 * the cgroup v2 mount ("/sys/fs/cgroup", or "/sys/fs/cgroup/unified"
	 * on hybrid hosts); tests point them at fixture trees */
	const char *proc_root;
	const char *cgroup_root;
};

/* What was fed in and what did not fit. */
struct dt_topo_counts {
	uint64_t exchanges;        /* counted on an edge */
	uint64_t tcp_events;       /* counted on an edge */
	uint64_t ignored;          /* no protocol, connection management
				      (MySQL handshake, COM_QUIT), or cut
				      by the end of the window */
	uint64_t dropped;          /* exchanges/events past max_nodes or
				      max_edges */
	size_t nodes, edges;
	size_t identities;         /* pids in the identity cache */
};

struct dt_topo;

/* On success *out is owned by the caller (dt_topo_free). 0 or -ENOMEM. */
int dt_topo_new(struct dt_topo **out, const struct dt_topo_opts *opts);
void dt_topo_free(struct dt_topo *t);

/* Counts one exchange on its edge. Nothing of x is kept but names and
 * addresses (never payload). */
void dt_topo_add_exchange(struct dt_topo *t, const struct dt_exchange *x);
/* Counts one connect, failed connect, retransmit or reset on the edge of
 * its client and server (see deetune-topo(1) for how they are told). */
void dt_topo_add_tcp_event(struct dt_topo *t, const struct dt_tcp_event *ev);

/* The observation is ending (call it before dt_recorder_close()): the
 * requests the recorder then flushes unanswered were cut by the end, not
 * failed, and are left out (counted as ignored). */
void dt_topo_end_window(struct dt_topo *t);

/* An observer feeding t (for struct dt_recorder_opts.observer); t must
 * outlive the recorder. */
void dt_topo_observer(struct dt_topo *t, struct dt_observer *obs);

void dt_topo_get_counts(const struct dt_topo *t, struct dt_topo_counts *c);

/* ---------------------------------------------------------------------- */
/* Renderers: each writes the whole graph to out and returns 0, -ENOMEM or */
/* -EIO (a write failed). window_s is the time since dt_topo_new().        */
/* ---------------------------------------------------------------------- */

/* The JSON document of deetune-topo(1), one line, newline-terminated. */
int dt_topo_render_json(struct dt_topo *t, FILE *out);
/* A Graphviz digraph for `dot -Tsvg`. */
int dt_topo_render_dot(struct dt_topo *t, FILE *out);
/* Nodes and edges as aligned text columns for a terminal. */
int dt_topo_render_table(struct dt_topo *t, FILE *out);

/* The daemon's own series for /metrics, filled by the daemon. */
struct dt_topo_task_count {
	const char *state;         /* "running", "stopped", ... (borrowed) */
	uint64_t count;
};

struct dt_topo_daemon_metrics {
	struct dt_recorder_stats recorder;
	const struct dt_topo_task_count *tasks; /* borrowed */
	size_t ntasks;
};

/*
 * Prometheus text exposition (version 0.0.4) of the edges (deetune_
 * requests_total, ..._errors_total, ..._duration_seconds, bytes, TCP
 * facts) and of the cgroups of the observed services (read from cgroupfs
 * now). With dm, also the recorder's, the tasks' and this process's own
 * series (deetune_recorder_*, deetune_tasks, deetune_process_*).
 */
int dt_topo_render_prom(struct dt_topo *t,
			const struct dt_topo_daemon_metrics *dm, FILE *out);

#endif /* DEETUNE_TOPO_H */
