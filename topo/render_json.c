// SPDX-License-Identifier: MIT
/* The graph as the JSON document of deetune-topo(1). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "topo/topo_int.h"

/* "" is unknown: null */
static json_t *string_or_null(const char *s)
{
	return *s ? json_string(s) : json_null();
}

static json_t *node_to_json(const struct dt_topo_node *n)
{
	json_t *o = json_object(), *pids = json_array(), *listen = json_array();

	if (!o || !pids || !listen)
		goto fail;
	for (size_t i = 0; i < n->npids; i++)
		if (json_array_append_new(pids, json_integer(n->pids[i])))
			goto fail;
	for (size_t i = 0; i < n->nlisten; i++)
		if (json_array_append_new(listen, json_string(n->listen[i])))
			goto fail;
	if (json_object_set_new(o, "id", json_string(n->id)) ||
	    json_object_set_new(o, "kind", json_string(n->external ?
						       "external" : "service")) ||
	    json_object_set_new(o, "comm", string_or_null(n->comm)) ||
	    json_object_set_new(o, "exe", string_or_null(n->exe)) ||
	    json_object_set_new(o, "pids", pids) ||
	    json_object_set_new(o, "cgroup", string_or_null(n->cgroup)) ||
	    json_object_set_new(o, "container_id",
				string_or_null(n->container_id)) ||
	    json_object_set_new(o, "unit", string_or_null(n->unit)) ||
	    json_object_set_new(o, "listen", listen)) {
		pids = listen = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(pids);
	json_decref(listen);
	json_decref(o);
	return NULL;
}

static json_t *quantile_json(const struct dt_topo_histogram *h, double q)
{
	double v = dt_topo_histogram_quantile(h, q);

	return isnan(v) ? json_null() : json_real(v);
}

static json_t *buckets_to_json(const struct dt_topo_histogram *h)
{
	json_t *buckets = json_array();
	uint64_t cum = 0;

	if (!buckets)
		return NULL;
	for (size_t i = 0; i <= DT_TOPO_NBUCKETS; i++) {
		json_t *le = i < DT_TOPO_NBUCKETS ?
				     json_real(dt_topo_bucket_bounds[i]) :
				     json_string("+Inf");

		cum += h->counts[i];
		if (json_array_append_new(buckets,
					  json_pack("{s:o,s:I}", "le", le,
						    "count", (json_int_t)cum))) {
			json_decref(buckets);
			return NULL;
		}
	}
	return buckets;
}

static json_t *latency_to_json(const struct dt_topo_histogram *h)
{
	return json_pack("{s:o,s:o,s:o,s:f,s:I,s:o}",
			 "p50", quantile_json(h, 0.5),
			 "p90", quantile_json(h, 0.9),
			 "p99", quantile_json(h, 0.99),
			 "sum", h->sum, "count", (json_int_t)h->count,
			 "buckets", buckets_to_json(h));
}

static json_t *edge_to_json(const struct dt_topo_edge_view *e)
{
	static const struct dt_topo_edge none;
	const struct dt_topo_edge *a = e->app ? e->app : &none;
	const struct dt_topo_tcp_facts *f = &e->tcp;

	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:I,s:I,"
			 "s:I,s:{s:I,s:I,s:I},s:I,s:I}",
			 "client", e->client, "server", e->server,
			 "protocol", e->protocol,
			 "server_addr", e->server_addr,
			 "requests", (json_int_t)a->requests,
			 "errors", (json_int_t)a->errors,
			 "errors_4xx", (json_int_t)a->errors_4xx,
			 "errors_5xx", (json_int_t)a->errors_5xx,
			 "latency_seconds", latency_to_json(&a->latency),
			 "bytes_sent", (json_int_t)a->bytes_sent,
			 "bytes_received", (json_int_t)a->bytes_received,
			 "connects", (json_int_t)f->connects,
			 "connect_failures",
			 "refused", (json_int_t)f->refused,
			 "timeout", (json_int_t)f->timeout,
			 "other", (json_int_t)f->other_failures,
			 "retransmits", (json_int_t)f->retransmits,
			 "resets", (json_int_t)f->resets);
}

static json_t *view_to_json(const struct dt_topo_view *v)
{
	json_t *nodes = json_array(), *edges = json_array();

	if (!nodes || !edges)
		goto fail;
	for (size_t i = 0; i < v->nnodes; i++)
		if (json_array_append_new(nodes, node_to_json(v->nodes[i])))
			goto fail;
	for (size_t i = 0; i < v->nedges; i++)
		if (json_array_append_new(edges, edge_to_json(&v->edges[i])))
			goto fail;
	return json_pack("{s:f,s:o,s:o}", "window_s", v->window_s,
			 "nodes", nodes, "edges", edges);
fail:
	json_decref(nodes);
	json_decref(edges);
	return NULL;
}

int dt_topo_render_json(struct dt_topo *t, FILE *out)
{
	struct dt_topo_view v;
	json_t *doc;
	int ret;

	ret = dt_topo_view_build(t, &v);
	if (ret)
		return ret;
	doc = view_to_json(&v);
	dt_topo_view_release(&v);
	if (!doc)
		return -ENOMEM;
	ret = json_dumpf(doc, out, JSON_COMPACT | JSON_REAL_PRECISION(9)) ||
			      fputc('\n', out) == EOF ? -EIO : 0;
	json_decref(doc);
	return ret;
}
