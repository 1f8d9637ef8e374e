// SPDX-License-Identifier: MIT
/* The graph's tables: nodes, edges, TCP flows and learned endpoints, each
 * bounded, and how an endpoint becomes a node. */
#include <stdlib.h>
#include <string.h>

#include "topo/topo_int.h"

struct dt_topo_node *dt_topo_node_get(struct dt_topo *t, const char *id,
				      bool external)
{
	struct dt_topo_node *n;
	size_t len = strlen(id);

	HASH_FIND(hh, t->nodes, id, len, n);
	if (n)
		return n;
	if (t->nnodes >= t->max_nodes || len >= sizeof(n->id))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	memcpy(n->id, id, len);
	n->external = external;
	HASH_ADD(hh, t->nodes, id, len, n);
	t->nnodes++;
	return n;
}

struct dt_topo_edge *dt_topo_edge_get(struct dt_topo *t, const char *client,
				      const char *server, uint32_t protocol)
{
	struct dt_topo_edge_key k;
	struct dt_topo_edge *e;

	memset(&k, 0, sizeof(k));
	snprintf(k.client, sizeof(k.client), "%s", client);
	snprintf(k.server, sizeof(k.server), "%s", server);
	k.protocol = protocol;
	HASH_FIND(hh, t->edges, &k, sizeof(k), e);
	if (e || t->nedges >= t->max_edges)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = k;
	HASH_ADD(hh, t->edges, key, sizeof(k), e);
	t->nedges++;
	return e;
}

struct dt_topo_flow *dt_topo_flow_get(struct dt_topo *t, const char *client,
				      const char *server, bool named)
{
	struct dt_topo_flow_key k;
	struct dt_topo_flow *f;

	memset(&k, 0, sizeof(k));
	snprintf(k.client, sizeof(k.client), "%s", client);
	snprintf(k.server, sizeof(k.server), "%s", server);
	k.named = named;
	HASH_FIND(hh, t->flows, &k, sizeof(k), f);
	if (f || t->nedges >= t->max_edges)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = k;
	HASH_ADD(hh, t->flows, key, sizeof(k), f);
	t->nedges++;
	return f;
}

void dt_topo_where_set(struct dt_topo *t, const char *addr, const char *node)
{
	struct dt_topo_where *w;
	size_t len = strlen(addr);

	HASH_FIND(hh, t->where, addr, len, w);
	if (w) {
		snprintf(w->node, sizeof(w->node), "%s", node);
		return;
	}
	if (len >= sizeof(w->addr))
		return;
	if (t->nwhere >= DT_TOPO_MAX_WHERE) {
		/* head of the hash's list: the oldest entry */
		w = t->where;
		HASH_DEL(t->where, w);
		t->nwhere--;
	} else {
		w = malloc(sizeof(*w));
		if (!w)
			return;
	}
	memset(w, 0, sizeof(*w));
	memcpy(w->addr, addr, len);
	snprintf(w->node, sizeof(w->node), "%s", node);
	HASH_ADD(hh, t->where, addr, len, w);
	t->nwhere++;
}

const char *dt_topo_where_get(const struct dt_topo *t, const char *addr)
{
	struct dt_topo_where *w;

	HASH_FIND(hh, t->where, addr, strlen(addr), w);
	return w ? w->node : NULL;
}

#define FREE_TABLE(head, type)                                  \
	do {                                                    \
		type *el_, *tmp_;                               \
		HASH_ITER(hh, head, el_, tmp_) {                \
			HASH_DEL(head, el_);                    \
			free(el_);                              \
		}                                               \
	} while (0)

void dt_topo_graph_release(struct dt_topo *t)
{
	FREE_TABLE(t->nodes, struct dt_topo_node);
	FREE_TABLE(t->edges, struct dt_topo_edge);
	FREE_TABLE(t->flows, struct dt_topo_flow);
	FREE_TABLE(t->where, struct dt_topo_where);
	t->nnodes = t->nedges = t->nwhere = 0;
}

const struct dt_topo_rule *dt_topo_rule_for(const struct dt_topo *t,
					    const struct dt_endpoint *ep)
{
	for (size_t i = 0; i < t->nrules; i++)
		if (dt_selector_match_endpoint(&t->rules[i].sel, ep))
			return &t->rules[i];
	return NULL;
}

/* An external client is named by its address alone: its ports are
 * ephemeral and would make one node per connection. */
static void external_name(const struct dt_endpoint *ep, bool is_server,
			  char *buf, size_t size)
{
	struct dt_endpoint e = *ep;

	if (!is_server && e.family != DT_FAMILY_UNIX)
		e.port = 0;
	if (dt_endpoint_format(&e, buf, size) < 0)
		snprintf(buf, size, "-");
	/* "127.0.0.1:0" -> "127.0.0.1", "[::1]:0" -> "::1" */
	if (!is_server && e.family == DT_FAMILY_IPV4)
		buf[strcspn(buf, ":")] = '\0';
	else if (!is_server && e.family == DT_FAMILY_IPV6 && buf[0] == '[') {
		size_t n = strcspn(buf, "]");

		memmove(buf, buf + 1, n - 1);
		buf[n - 1] = '\0';
	}
}

static void node_add_pid(struct dt_topo_node *n, uint32_t pid)
{
	for (size_t i = 0; i < n->npids; i++)
		if (n->pids[i] == pid)
			return;
	if (n->npids < DT_TOPO_MAX_PIDS)
		n->pids[n->npids++] = pid;
}

static void node_add_details(struct dt_topo_node *n,
			     const struct dt_topo_ident *id)
{
	if (n->has_details)
		return;
	memcpy(n->comm, id->comm, sizeof(n->comm));
	memcpy(n->exe, id->exe, sizeof(n->exe));
	memcpy(n->cgroup, id->cgroup, sizeof(n->cgroup));
	memcpy(n->container_id, id->container_id, sizeof(n->container_id));
	memcpy(n->unit, id->unit, sizeof(n->unit));
	n->has_details = true;
}

static void node_add_listen(struct dt_topo *t, struct dt_topo_node *n,
			    const struct dt_endpoint *ep)
{
	const struct dt_topo_sock *s;
	char addr[DT_TOPO_ID_MAX];

	s = dt_topo_listener_for(&t->listeners, t->proc_root, ep);
	if (s)
		dt_topo_sock_format(s, addr, sizeof(addr));
	else if (dt_endpoint_format(ep, addr, sizeof(addr)) < 0)
		return;
	for (size_t i = 0; i < n->nlisten; i++)
		if (!strcmp(n->listen[i], addr))
			return;
	if (n->nlisten < DT_TOPO_MAX_LISTEN)
		snprintf(n->listen[n->nlisten++], DT_TOPO_ID_MAX, "%s", addr);
}

/* Where the id of an endpoint comes from, in order of precedence. */
static const struct dt_topo_ident *endpoint_id(struct dt_topo *t,
					       const struct dt_endpoint *ep,
					       bool is_server, char *id,
					       size_t size, bool *external)
{
	const struct dt_topo_rule *rule = dt_topo_rule_for(t, ep);
	const struct dt_topo_ident *ident = NULL;
	char addr[DT_TOPO_ID_MAX];
	const char *learned;

	*external = false;
	if (ep->pid)
		ident = dt_topo_ident_get(&t->idents, ep->pid, ep->comm);
	if (rule) {
		snprintf(id, size, "%s", rule->name);
	} else if (ident && ident->comm[0]) {
		snprintf(id, size, "%s", ident->comm);
	} else if (ep->pid) {
		snprintf(id, size, "pid:%u", ep->pid);
	} else if (dt_endpoint_format(ep, addr, sizeof(addr)) >= 0 &&
		   (learned = dt_topo_where_get(t, addr))) {
		snprintf(id, size, "%s", learned);
	} else {
		external_name(ep, is_server, id, size);
		*external = true;
	}
	return ident;
}

struct dt_topo_node *dt_topo_node_of(struct dt_topo *t,
				     const struct dt_endpoint *ep,
				     bool is_server)
{
	const struct dt_topo_ident *ident;
	char id[DT_TOPO_ID_MAX], clean[DT_TOPO_ID_MAX], addr[DT_TOPO_ID_MAX];
	struct dt_topo_node *n;
	bool external;

	ident = endpoint_id(t, ep, is_server, id, sizeof(id), &external);
	dt_topo_clean_text(clean, sizeof(clean), id);
	n = dt_topo_node_get(t, clean, external);
	if (!n || n->external)
		return n;
	if (ident) {
		node_add_pid(n, ep->pid);
		node_add_details(n, ident);
		if (ep->family != DT_FAMILY_UNIX &&
		    dt_endpoint_format(ep, addr, sizeof(addr)) >= 0)
			dt_topo_where_set(t, addr, n->id);
	}
	if (is_server)
		node_add_listen(t, n, ep);
	return n;
}
