// SPDX-License-Identifier: MIT
/* The graph, the observed services' cgroups and the daemon's own figures
 * in the Prometheus text exposition format (version 0.0.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "topo/topo_int.h"

static void prom_family(FILE *out, const char *name, const char *type,
			const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/* name{k1="v1",k2="v2"} from a NULL-terminated list of key, value */
static void prom_sample_start(FILE *out, const char *name,
			      const char *const *labels)
{
	fputs(name, out);
	for (size_t i = 0; labels[i]; i += 2) {
		fprintf(out, "%s%s=\"", i ? "," : "{", labels[i]);
		prom_escaped(out, labels[i + 1]);
		fputc('"', out);
	}
	if (labels[0])
		fputc('}', out);
}

static void prom_u64(FILE *out, const char *name, const char *const *labels,
		     uint64_t v)
{
	prom_sample_start(out, name, labels);
	fprintf(out, " %llu\n", (unsigned long long)v);
}

static void prom_f64(FILE *out, const char *name, const char *const *labels,
		     double v)
{
	prom_sample_start(out, name, labels);
	fprintf(out, " %.17g\n", v);
}

#define EDGE_LABELS(e) { "client", (e)->client, "server", (e)->server, \
			 "protocol", (e)->protocol, NULL }

/* The per-edge counters, read from the edge with an accessor. */
struct edge_counter {
	const char *name, *help;
	uint64_t (*get)(const struct dt_topo_edge *e);
};

static uint64_t get_requests(const struct dt_topo_edge *e)
{
	return e->requests;
}

static uint64_t get_sent(const struct dt_topo_edge *e)
{
	return e->bytes_sent;
}

static uint64_t get_received(const struct dt_topo_edge *e)
{
	return e->bytes_received;
}

static void prom_edge_counter(FILE *out, const struct dt_topo_view *v,
			      const struct edge_counter *c)
{
	prom_family(out, c->name, "counter", c->help);
	for (size_t i = 0; i < v->nedges; i++) {
		const struct dt_topo_edge_view *e = &v->edges[i];
		const char *labels[] = EDGE_LABELS(e);

		if (e->app)
			prom_u64(out, c->name, labels, c->get(e->app));
	}
}

static void prom_errors(FILE *out, const struct dt_topo_view *v)
{
	static const char name[] = "deetune_request_errors_total";

	prom_family(out, name, "counter",
		    "Failed requests: HTTP 4xx and 5xx, Redis error replies, "
		    "MySQL ERR packets, requests without a response (error).");
	for (size_t i = 0; i < v->nedges; i++) {
		const struct dt_topo_edge_view *e = &v->edges[i];
		const struct dt_topo_edge *a = e->app;
		const char *labels[] = { "client", e->client, "server",
					 e->server, "protocol", e->protocol,
					 "class", "error", NULL };

		if (!a)
			continue;
		prom_u64(out, name, labels,
			 a->errors - a->errors_4xx - a->errors_5xx);
		if (a->key.protocol != DT_PROTO_HTTP1 &&
		    a->key.protocol != DT_PROTO_HTTP2)
			continue;
		labels[7] = "4xx";
		prom_u64(out, name, labels, a->errors_4xx);
		labels[7] = "5xx";
		prom_u64(out, name, labels, a->errors_5xx);
	}
}

static void prom_histogram(FILE *out, const struct dt_topo_view *v)
{
	static const char name[] = "deetune_request_duration_seconds";

	prom_family(out, name, "histogram",
		    "Time from the first request byte to the last response "
		    "byte, seconds.");
	for (size_t i = 0; i < v->nedges; i++) {
		const struct dt_topo_edge_view *e = &v->edges[i];
		const struct dt_topo_histogram *h;
		char le[32];
		const char *labels[] = { "client", e->client, "server",
					 e->server, "protocol", e->protocol,
					 "le", le, NULL };
		uint64_t cum = 0;

		if (!e->app)
			continue;
		h = &e->app->latency;
		for (size_t b = 0; b <= DT_TOPO_NBUCKETS; b++) {
			if (b < DT_TOPO_NBUCKETS)
				snprintf(le, sizeof(le), "%g",
					 dt_topo_bucket_bounds[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			cum += h->counts[b];
			prom_u64(out, "deetune_request_duration_seconds_bucket",
				 labels, cum);
		}
		labels[6] = NULL;
		prom_f64(out, "deetune_request_duration_seconds_sum", labels,
			 h->sum);
		prom_u64(out, "deetune_request_duration_seconds_count", labels,
			 h->count);
	}
}

/* TCP facts are per client and server: one sample per pair, from the
 * first edge view of the pair (the one holding them). */
static bool first_of_pair(const struct dt_topo_view *v, size_t i)
{
	return !i || strcmp(v->edges[i].client, v->edges[i - 1].client) ||
	       strcmp(v->edges[i].server, v->edges[i - 1].server);
}

struct tcp_counter {
	const char *name, *help;
	uint64_t (*get)(const struct dt_topo_tcp_facts *f);
};

static uint64_t get_connects(const struct dt_topo_tcp_facts *f)
{
	return f->connects;
}

static uint64_t get_retransmits(const struct dt_topo_tcp_facts *f)
{
	return f->retransmits;
}

static uint64_t get_resets(const struct dt_topo_tcp_facts *f)
{
	return f->resets;
}

static void prom_tcp_counter(FILE *out, const struct dt_topo_view *v,
			     const struct tcp_counter *c)
{
	prom_family(out, c->name, "counter", c->help);
	for (size_t i = 0; i < v->nedges; i++) {
		const struct dt_topo_edge_view *e = &v->edges[i];
		const char *labels[] = { "client", e->client, "server",
					 e->server, NULL };

		if (first_of_pair(v, i))
			prom_u64(out, c->name, labels, c->get(&e->tcp));
	}
}

static void prom_connect_failures(FILE *out, const struct dt_topo_view *v)
{
	static const char name[] = "deetune_tcp_connect_failures_total";

	prom_family(out, name, "counter",
		    "Connection attempts that failed, by reason.");
	for (size_t i = 0; i < v->nedges; i++) {
		const struct dt_topo_edge_view *e = &v->edges[i];
		const char *labels[] = { "client", e->client, "server",
					 e->server, "reason", "refused", NULL };

		if (!first_of_pair(v, i))
			continue;
		prom_u64(out, name, labels, e->tcp.refused);
		labels[5] = "timeout";
		prom_u64(out, name, labels, e->tcp.timeout);
		labels[5] = "other";
		prom_u64(out, name, labels, e->tcp.other_failures);
	}
}

static void prom_edges(FILE *out, const struct dt_topo_view *v)
{
	static const struct edge_counter counters[] = {
		{ "deetune_requests_total", "Requests from client to server.",
		  get_requests },
		{ "deetune_sent_bytes_total",
		  "Request bytes the client sent.", get_sent },
		{ "deetune_received_bytes_total",
		  "Response bytes the client received.", get_received },
	};
	static const struct tcp_counter tcp[] = {
		{ "deetune_tcp_connects_total", "TCP connection attempts.",
		  get_connects },
		{ "deetune_tcp_retransmits_total",
		  "TCP segments retransmitted on the connections.",
		  get_retransmits },
		{ "deetune_tcp_resets_total",
		  "TCP resets sent or received on the connections.",
		  get_resets },
	};

	prom_edge_counter(out, v, &counters[0]);
	prom_errors(out, v);
	prom_histogram(out, v);
	prom_edge_counter(out, v, &counters[1]);
	prom_edge_counter(out, v, &counters[2]);
	prom_tcp_counter(out, v, &tcp[0]);
	prom_connect_failures(out, v);
	prom_tcp_counter(out, v, &tcp[1]);
	prom_tcp_counter(out, v, &tcp[2]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct cgroup_row {
	const char *path;
	struct dt_topo_cgroup_stats st;
};

/* The distinct cgroups of the service nodes that still exist, with their
 * figures. *rows is owned by the caller (free). */
static int cgroup_rows(struct dt_topo *t, const struct dt_topo_view *v,
		       struct cgroup_row **rows, size_t *n)
{
	const char **paths = calloc(v->nnodes + 1, sizeof(*paths));
	size_t np = 0;

	*n = 0;
	*rows = calloc(v->nnodes + 1, sizeof(**rows));
	if (!paths || !*rows) {
		free(paths);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->nnodes; i++)
		if (v->nodes[i]->cgroup[0])
			paths[np++] = v->nodes[i]->cgroup;
	qsort(paths, np, sizeof(*paths), cmp_str);
	for (size_t i = 0; i < np; i++) {
		struct cgroup_row *r = &(*rows)[*n];

		if (i && !strcmp(paths[i], paths[i - 1]))
			continue;
		if (dt_topo_cgroup_stats_read(t->cgroup_root, t->proc_root,
					      paths[i], &r->st))
			continue;
		r->path = paths[i];
		(*n)++;
	}
	free(paths);
	return 0;
}

static void prom_cgroups(FILE *out, const struct cgroup_row *rows, size_t n)
{
	prom_family(out, "deetune_cgroup_cpu_seconds_total", "counter",
		    "CPU time used by an observed service's cgroup.");
	for (size_t i = 0; i < n; i++) {
		const char *labels[] = { "cgroup", rows[i].path, NULL };

		if (rows[i].st.has_cpu)
			prom_f64(out, "deetune_cgroup_cpu_seconds_total",
				 labels, rows[i].st.cpu_seconds);
	}
	prom_family(out, "deetune_cgroup_memory_bytes", "gauge",
		    "Memory charged to an observed service's cgroup.");
	for (size_t i = 0; i < n; i++) {
		const char *labels[] = { "cgroup", rows[i].path, NULL };

		if (rows[i].st.has_memory)
			prom_u64(out, "deetune_cgroup_memory_bytes", labels,
				 rows[i].st.memory_bytes);
	}
	prom_family(out, "deetune_cgroup_processes", "gauge",
		    "Processes in an observed service's cgroup.");
	for (size_t i = 0; i < n; i++) {
		const char *labels[] = { "cgroup", rows[i].path, NULL };

		prom_u64(out, "deetune_cgroup_processes", labels,
			 rows[i].st.processes);
	}
	prom_family(out, "deetune_cgroup_tcp_connections", "gauge",
		    "Established TCP connections of an observed service's "
		    "processes.");
	for (size_t i = 0; i < n; i++) {
		const char *labels[] = { "cgroup", rows[i].path, NULL };

		prom_u64(out, "deetune_cgroup_tcp_connections", labels,
			 rows[i].st.tcp_connections);
	}
}

static void prom_recorder(FILE *out, const struct dt_recorder_stats *st)
{
	static const char *const reasons[] = {
		"ringbuf_full", "truncated", "read_failed", "state_full",
	};
	static const char *const none[] = { NULL };

	prom_family(out, "deetune_recorder_dropped_events_total", "counter",
		    "Events the probes could not deliver, by reason.");
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		const char *labels[] = { "reason", reasons[i], NULL };

		prom_u64(out, "deetune_recorder_dropped_events_total", labels,
			 st->drops[i]);
	}
	prom_family(out, "deetune_recorder_events_total", "counter",
		    "Events the probes submitted.");
	prom_u64(out, "deetune_recorder_events_total", none, st->events);
	prom_family(out, "deetune_recorder_buffered_bytes", "gauge",
		    "Bytes the assembler holds for incomplete exchanges.");
	prom_u64(out, "deetune_recorder_buffered_bytes", none,
		 st->buffered_bytes);
	prom_family(out, "deetune_recorder_evicted_streams_total", "counter",
		    "Streams dropped to stay under the memory limit.");
	prom_u64(out, "deetune_recorder_evicted_streams_total", none,
		 st->evicted_streams);
}

static void prom_daemon(FILE *out, const struct dt_topo_daemon_metrics *dm)
{
	static const char *const none[] = { NULL };
	struct rusage ru;
	unsigned long long size = 0, resident = 0;
	FILE *statm;

	prom_recorder(out, &dm->recorder);
	prom_family(out, "deetune_tasks", "gauge", "Recording tasks by state.");
	for (size_t i = 0; i < dm->ntasks; i++) {
		const char *labels[] = { "state", dm->tasks[i].state, NULL };

		prom_u64(out, "deetune_tasks", labels, dm->tasks[i].count);
	}
	getrusage(RUSAGE_SELF, &ru);
	prom_family(out, "deetune_process_cpu_seconds_total", "counter",
		    "CPU time the daemon used, user and system.");
	prom_f64(out, "deetune_process_cpu_seconds_total", none,
		 ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	statm = fopen("/proc/self/statm", "re");
	if (statm) {
		if (fscanf(statm, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		fclose(statm);
	}
	prom_family(out, "deetune_process_resident_memory_bytes", "gauge",
		    "Resident memory of the daemon.");
	prom_u64(out, "deetune_process_resident_memory_bytes", none,
		 resident * (uint64_t)sysconf(_SC_PAGESIZE));
}

int dt_topo_render_prom(struct dt_topo *t,
			const struct dt_topo_daemon_metrics *dm, FILE *out)
{
	struct cgroup_row *rows;
	struct dt_topo_view v;
	size_t nrows;
	int ret;

	ret = dt_topo_view_build(t, &v);
	if (ret)
		return ret;
	ret = cgroup_rows(t, &v, &rows, &nrows);
	if (!ret) {
		prom_edges(out, &v);
		prom_cgroups(out, rows, nrows);
		if (dm)
			prom_daemon(out, dm);
		free(rows);
		ret = ferror(out) ? -EIO : 0;
	}
	dt_topo_view_release(&v);
	return ret;
}
