// SPDX-License-Identifier: MIT
/* The graph as text columns for a terminal. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "topo/topo_int.h"

#define NAME_WIDTH_MAX 32

static int name_width(const struct dt_topo_view *v)
{
	size_t w = strlen("CLIENT");

	for (size_t i = 0; i < v->nnodes; i++) {
		size_t n = strlen(v->nodes[i]->id);

		w = n > w ? n : w;
	}
	return w > NAME_WIDTH_MAX ? NAME_WIDTH_MAX : (int)w;
}

static void table_nodes(FILE *out, const struct dt_topo_view *v, int w)
{
	fprintf(out, "%-*s  %-8s  %-16s  %-24s  %s\n", w, "NODE", "KIND",
		"COMM", "UNIT", "LISTEN");
	for (size_t i = 0; i < v->nnodes; i++) {
		const struct dt_topo_node *n = v->nodes[i];

		fprintf(out, "%-*.*s  %-8s  %-16s  %-24s  ", w, w, n->id,
			n->external ? "external" : "service",
			n->comm[0] ? n->comm : "-",
			n->unit[0] ? n->unit : "-");
		for (size_t j = 0; j < n->nlisten; j++)
			fprintf(out, "%s%s", j ? "," : "", n->listen[j]);
		fputs(n->nlisten ? "\n" : "-\n", out);
	}
}

/* A latency in milliseconds, "-" without observations. */
static void table_ms(FILE *out, const struct dt_topo_histogram *h, double q)
{
	double v = dt_topo_histogram_quantile(h, q);

	if (isnan(v))
		fprintf(out, "  %8s", "-");
	else
		fprintf(out, "  %8.2f", v * 1e3);
}

static void table_edge(FILE *out, const struct dt_topo_edge_view *e, int w)
{
	static const struct dt_topo_edge none;
	const struct dt_topo_edge *a = e->app ? e->app : &none;
	const struct dt_topo_tcp_facts *f = &e->tcp;

	fprintf(out, "%-*.*s  %-*.*s  %-5s  %8llu  %6llu", w, w, e->client, w,
		w, e->server, e->protocol, (unsigned long long)a->requests,
		(unsigned long long)a->errors);
	table_ms(out, &a->latency, 0.5);
	table_ms(out, &a->latency, 0.9);
	table_ms(out, &a->latency, 0.99);
	fprintf(out, "  %10llu  %10llu  %6llu  %6llu  %6llu  %6llu\n",
		(unsigned long long)a->bytes_sent,
		(unsigned long long)a->bytes_received,
		(unsigned long long)f->connects,
		(unsigned long long)(f->refused + f->timeout +
				     f->other_failures),
		(unsigned long long)f->retransmits,
		(unsigned long long)f->resets);
}

int dt_topo_render_table(struct dt_topo *t, FILE *out)
{
	struct dt_topo_view v;
	int ret, w;

	ret = dt_topo_view_build(t, &v);
	if (ret)
		return ret;
	w = name_width(&v);
	table_nodes(out, &v, w);
	fprintf(out, "\n%-*s  %-*s  %-5s  %8s  %6s  %8s  %8s  %8s  %10s  %10s"
		"  %6s  %6s  %6s  %6s\n", w, "CLIENT", w, "SERVER", "PROTO",
		"REQS", "ERRS", "P50_MS", "P90_MS", "P99_MS", "SENT", "RECV",
		"CONN", "FAIL", "RETR", "RST");
	for (size_t i = 0; i < v.nedges; i++)
		table_edge(out, &v.edges[i], w);
	fprintf(out, "\n%zu nodes, %zu edges in %.1f s\n", v.nnodes, v.nedges,
		v.window_s);
	dt_topo_view_release(&v);
	return ferror(out) ? -EIO : 0;
}
