// SPDX-License-Identifier: MIT
/* The graph as a Graphviz digraph (`dot -Tsvg`). */
#include <errno.h>
#include <math.h>

#include "topo/topo_int.h"

/* pids shown in a node's label; short-lived clients have many */
#define DOT_MAX_PIDS 4

/* Writes s inside a DOT double-quoted string. Names are clean (no control
 * characters), so only the quote and the backslash need escaping. */
static void dot_quoted(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void dot_node(FILE *out, const struct dt_topo_node *n)
{
	fputc('\t', out);
	fputc('"', out);
	dot_quoted(out, n->id);
	fputs("\" [label=\"", out);
	dot_quoted(out, n->id);
	if (n->npids) {
		fputs("\\npid", out);
		for (size_t i = 0; i < n->npids && i < DOT_MAX_PIDS; i++)
			fprintf(out, "%s%u", i ? "," : " ", n->pids[i]);
		if (n->npids > DOT_MAX_PIDS)
			fputs(",...", out);
	}
	if (n->unit[0]) {
		fputs("\\n", out);
		dot_quoted(out, n->unit);
	}
	if (n->container_id[0])
		fprintf(out, "\\ncontainer %.12s", n->container_id);
	fputs(n->external ? "\", shape=ellipse, style=dashed];\n" : "\"];\n",
	      out);
}

static void dot_edge_label(FILE *out, const struct dt_topo_edge_view *e)
{
	const struct dt_topo_tcp_facts *f = &e->tcp;
	uint64_t failed = f->refused + f->timeout + f->other_failures;

	fputs(e->protocol, out);
	if (e->app) {
		const struct dt_topo_edge *a = e->app;
		double p99 = dt_topo_histogram_quantile(&a->latency, 0.99);

		fprintf(out, "\\n%llu req, %.1f%% err",
			(unsigned long long)a->requests,
			a->requests ? 100.0 * a->errors / a->requests : 0.0);
		if (!isnan(p99))
			fprintf(out, "\\np99 %.3g ms", p99 * 1e3);
	} else {
		fprintf(out, "\\n%llu connects", (unsigned long long)f->connects);
	}
	if (failed)
		fprintf(out, "\\n%llu failed connects",
			(unsigned long long)failed);
	if (f->retransmits)
		fprintf(out, "\\n%llu retransmits",
			(unsigned long long)f->retransmits);
	if (f->resets)
		fprintf(out, "\\n%llu resets", (unsigned long long)f->resets);
}

static void dot_edge(FILE *out, const struct dt_topo_edge_view *e)
{
	bool failing = e->tcp.refused || e->tcp.timeout ||
		       e->tcp.other_failures ||
		       (e->app && e->app->errors);

	fputs("\t\"", out);
	dot_quoted(out, e->client);
	fputs("\" -> \"", out);
	dot_quoted(out, e->server);
	fputs("\" [label=\"", out);
	dot_edge_label(out, e);
	fprintf(out, "\"%s%s];\n", e->app ? "" : ", style=dashed",
		failing ? ", color=red" : "");
}

int dt_topo_render_dot(struct dt_topo *t, FILE *out)
{
	struct dt_topo_view v;
	int ret;

	ret = dt_topo_view_build(t, &v);
	if (ret)
		return ret;
	fputs("digraph deetune {\n"
	      "\trankdir=LR;\n"
	      "\tnode [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=10];\n", out);
	for (size_t i = 0; i < v.nnodes; i++)
		dot_node(out, v.nodes[i]);
	for (size_t i = 0; i < v.nedges; i++)
		dot_edge(out, &v.edges[i]);
	fputs("}\n", out);
	dt_topo_view_release(&v);
	return ferror(out) ? -EIO : 0;
}
