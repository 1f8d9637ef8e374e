// SPDX-License-Identifier: MIT
/* The graph object's life cycle and its observer glue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo/topo_int.h"

#define DEFAULT_MAX_NODES 1024
#define DEFAULT_MAX_EDGES 4096
#define DEFAULT_MAX_IDENTITIES 1024

/* The cgroup v2 hierarchy: /sys/fs/cgroup, or its "unified" directory on
 * hosts that mount v1 controllers beside it (hybrid layout). */
static const char *default_cgroup_root(void)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) &&
	    !access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK))
		return "/sys/fs/cgroup/unified";
	return "/sys/fs/cgroup";
}

int dt_topo_new(struct dt_topo **out, const struct dt_topo_opts *opts)
{
	struct dt_topo *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->max_nodes = opts->max_nodes ? opts->max_nodes : DEFAULT_MAX_NODES;
	t->max_edges = opts->max_edges ? opts->max_edges : DEFAULT_MAX_EDGES;
	t->idents.max = opts->max_identities ? opts->max_identities :
					      DEFAULT_MAX_IDENTITIES;
	t->proc_root = strdup(opts->proc_root ? opts->proc_root : "/proc");
	t->cgroup_root = strdup(opts->cgroup_root ? opts->cgroup_root :
						    default_cgroup_root());
	if (opts->nrules) {
		t->rules = calloc(opts->nrules, sizeof(*t->rules));
		if (t->rules) {
			memcpy(t->rules, opts->rules,
			       opts->nrules * sizeof(*t->rules));
			t->nrules = opts->nrules;
		}
	}
	if (!t->proc_root || !t->cgroup_root ||
	    (opts->nrules && !t->rules)) {
		dt_topo_free(t);
		return -ENOMEM;
	}
	t->idents.proc_root = t->proc_root;
	clock_gettime(CLOCK_MONOTONIC, &t->created);
	*out = t;
	return 0;
}

void dt_topo_free(struct dt_topo *t)
{
	if (!t)
		return;
	dt_topo_graph_release(t);
	dt_topo_ident_cache_release(&t->idents);
	dt_topo_listeners_release(&t->listeners);
	free(t->rules);
	free(t->proc_root);
	free(t->cgroup_root);
	free(t);
}

void dt_topo_end_window(struct dt_topo *t)
{
	t->window_ended = true;
}

static void observe_exchange(void *ctx, const struct dt_exchange *x)
{
	dt_topo_add_exchange(ctx, x);
}

static void observe_tcp_event(void *ctx, const struct dt_tcp_event *ev)
{
	dt_topo_add_tcp_event(ctx, ev);
}

void dt_topo_observer(struct dt_topo *t, struct dt_observer *obs)
{
	obs->on_exchange = observe_exchange;
	obs->on_tcp_event = observe_tcp_event;
	obs->ctx = t;
}

void dt_topo_get_counts(const struct dt_topo *t, struct dt_topo_counts *c)
{
	*c = t->counts;
	c->nodes = t->nnodes;
	c->edges = t->nedges;
	c->identities = t->idents.n;
}
