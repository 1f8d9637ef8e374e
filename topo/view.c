// SPDX-License-Identifier: MIT
/*
 * The graph as rendered: nodes and edges in a stable order, TCP flows
 * resolved to their server nodes and merged into the edge carrying
 * requests between the same nodes (else shown as "tcp" edges).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo_int.h"

static int cmp_node(const void *a, const void *b)
{
	const struct dt_topo_node *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int cmp_pair(const struct dt_topo_edge_view *x,
		    const struct dt_topo_edge_view *y)
{
	int c = strcmp(x->client, y->client);

	return c ? c : strcmp(x->server, y->server);
}

static int cmp_edge(const void *a, const void *b)
{
	const struct dt_topo_edge_view *x = a, *y = b;
	int c = cmp_pair(x, y);

	return c ? c : strcmp(x->protocol, y->protocol);
}

/* The first edge view between client and server among the sorted views
 * with requests, NULL when none. */
static struct dt_topo_edge_view *find_pair(struct dt_topo_edge_view *v,
					   size_t n, const char *client,
					   const char *server)
{
	struct dt_topo_edge_view key = { .client = client, .server = server };
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_pair(&v[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !cmp_pair(&v[lo], &key) ? &v[lo] : NULL;
}

static void facts_add(struct dt_topo_tcp_facts *to,
		      const struct dt_topo_tcp_facts *from)
{
	to->connects += from->connects;
	to->refused += from->refused;
	to->timeout += from->timeout;
	to->other_failures += from->other_failures;
	to->retransmits += from->retransmits;
	to->resets += from->resets;
}

/* The server node of a flow: named at ingest, or the node its address
 * was seen with, or an external node of that address. */
static struct dt_topo_node *flow_server(struct dt_topo *t,
					const struct dt_topo_flow *f)
{
	const char *learned;

	if (f->key.named)
		return dt_topo_node_get(t, f->key.server, false);
	learned = dt_topo_where_get(t, f->key.server);
	if (learned)
		return dt_topo_node_get(t, learned, false);
	return dt_topo_node_get(t, f->key.server, true);
}

/* Adds a flow's facts to its edge view with requests, or to the TCP-only
 * view of the same nodes (tcp[0..*ntcp), searched linearly: flows are
 * few and bounded). */
static void place_flow(struct dt_topo *t, const struct dt_topo_flow *f,
		       struct dt_topo_view *v, size_t napp,
		       struct dt_topo_edge_view *tcp, size_t *ntcp)
{
	struct dt_topo_node *server = flow_server(t, f);
	struct dt_topo_edge_view *e;

	/* past max_nodes the flow stays out of the picture */
	if (!server)
		return;
	e = find_pair(v->edges, napp, f->key.client, server->id);
	for (size_t i = 0; !e && i < *ntcp; i++)
		if (!strcmp(tcp[i].client, f->key.client) &&
		    !strcmp(tcp[i].server, server->id))
			e = &tcp[i];
	if (!e) {
		e = &tcp[(*ntcp)++];
		memset(e, 0, sizeof(*e));
		e->client = f->key.client;
		e->server = server->id;
		e->protocol = "tcp";
		e->server_addr = f->key.named ? "" : f->key.server;
	}
	facts_add(&e->tcp, &f->tcp);
}

static size_t app_views(struct dt_topo *t, struct dt_topo_edge_view *out)
{
	struct dt_topo_edge *e, *tmp;
	size_t n = 0;

	HASH_ITER(hh, t->edges, e, tmp) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].client = e->key.client;
		out[n].server = e->key.server;
		out[n].protocol = dt_protocol_name(e->key.protocol);
		out[n].server_addr = e->server_addr;
		out[n].app = e;
		n++;
	}
	qsort(out, n, sizeof(*out), cmp_edge);
	return n;
}

static int collect_nodes(struct dt_topo *t, struct dt_topo_view *v)
{
	struct dt_topo_node *n, *tmp;

	v->nodes = calloc(t->nnodes ? t->nnodes : 1, sizeof(*v->nodes));
	if (!v->nodes)
		return -ENOMEM;
	HASH_ITER(hh, t->nodes, n, tmp)
		v->nodes[v->nnodes++] = n;
	qsort(v->nodes, v->nnodes, sizeof(*v->nodes), cmp_node);
	return 0;
}

int dt_topo_view_build(struct dt_topo *t, struct dt_topo_view *v)
{
	size_t total = t->nedges ? t->nedges : 1, napp, ntcp = 0;
	struct dt_topo_flow *f, *tmp;
	struct timespec now;

	memset(v, 0, sizeof(*v));
	v->edges = calloc(total, sizeof(*v->edges));
	if (!v->edges)
		return -ENOMEM;
	napp = app_views(t, v->edges);
	/* TCP-only views go after the others: pointers into the sorted
	 * part stay valid while flows are placed */
	HASH_ITER(hh, t->flows, f, tmp)
		place_flow(t, f, v, napp, v->edges + napp, &ntcp);
	v->nedges = napp + ntcp;
	qsort(v->edges, v->nedges, sizeof(*v->edges), cmp_edge);
	/* nodes last: placing flows may add external servers */
	if (collect_nodes(t, v)) {
		dt_topo_view_release(v);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	v->window_s = (now.tv_sec - t->created.tv_sec) +
		      (now.tv_nsec - t->created.tv_nsec) / 1e9;
	return 0;
}

void dt_topo_view_release(struct dt_topo_view *v)
{
	free(v->nodes);
	free(v->edges);
	memset(v, 0, sizeof(*v));
}
