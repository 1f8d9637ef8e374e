/* SPDX-License-Identifier: MIT */
/* topo internals shared by its files; not for other modules. */
#ifndef DEETUNE_TOPO_INT_H
#define DEETUNE_TOPO_INT_H

#include <time.h>
#include <uthash.h>

#include "topo/topo.h"

/* "unix:" + a socket path, or "[v6]:port": every node id fits */
#define DT_TOPO_ID_MAX 128
#define DT_TOPO_MAX_PIDS 16
#define DT_TOPO_MAX_LISTEN 8
/* learned endpoint -> node entries (client ports churn: FIFO bound) */
#define DT_TOPO_MAX_WHERE 16384

/* ---------------------------------------------------------------------- */
/* text.c                                                                  */
/* ---------------------------------------------------------------------- */

/* Copies src into dst (NUL-terminated, cut to size on a character
 * boundary) with control characters and bytes that are not UTF-8 turned
 * into '?': names from /proc and the wire are safe in every output. */
void dt_topo_clean_text(char *dst, size_t size, const char *src);

/* ---------------------------------------------------------------------- */
/* procnet.c: /proc/net/tcp{,6}                                            */
/* ---------------------------------------------------------------------- */

#define DT_TOPO_TCP_ESTABLISHED 1
#define DT_TOPO_TCP_LISTEN 10

struct dt_topo_sock {
	uint8_t family;        /* DT_FAMILY_IPV4 or DT_FAMILY_IPV6 */
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	int state;             /* DT_TOPO_TCP_* (kernel TCP states) */
	uint64_t inode;
};

/* Calls fn for each socket line of a /proc/net/tcp or tcp6 file (at most
 * 1 << 20 lines); fn returns nonzero to stop. Returns 0 or a negative
 * errno when the file cannot be opened. */
int dt_topo_procnet_scan(const char *path,
			 int (*fn)(void *ctx, const struct dt_topo_sock *s),
			 void *ctx);

/* Listening TCP sockets of this host (this network namespace), re-read
 * at most once a second. */
#define DT_TOPO_MAX_LISTENERS 4096

struct dt_topo_listeners {
	struct dt_topo_sock *socks;  /* owned */
	size_t n;
	struct timespec read_at;
	bool valid;
};

/* The listener that accepts connections to ep (same port, same address
 * or a wildcard one), NULL when none. */
const struct dt_topo_sock *
dt_topo_listener_for(struct dt_topo_listeners *l, const char *proc_root,
		     const struct dt_endpoint *ep);
void dt_topo_listeners_release(struct dt_topo_listeners *l);

/* Formats a socket's local address as "127.0.0.1:80" / "[::]:80". */
void dt_topo_sock_format(const struct dt_topo_sock *s, char *buf,
			 size_t size);

/* ---------------------------------------------------------------------- */
/* identity.c: /proc details per pid, cached                               */
/* ---------------------------------------------------------------------- */

/* seconds a pid's details are trusted before /proc is read again */
#define DT_TOPO_IDENT_TTL_S 10

struct dt_topo_ident {
	uint32_t pid;
	struct timespec read_at;   /* CLOCK_MONOTONIC */
	char comm[16];
	char exe[256];
	char cgroup[256];
	char container_id[DT_TOPO_CONTAINER_ID_LEN + 1];
	char unit[128];
	UT_hash_handle hh;
};

struct dt_topo_ident_cache {
	struct dt_topo_ident *by_pid;  /* insertion order = eviction order */
	size_t n, max;
	const char *proc_root;
};

/* The details of pid, read again once DT_TOPO_IDENT_TTL_S old (comm: the
 * event's thread name, used when /proc has no process comm any more).
 * The result is borrowed from the cache until the next call. NULL when
 * out of memory. */
const struct dt_topo_ident *
dt_topo_ident_get(struct dt_topo_ident_cache *c, uint32_t pid,
		  const char *comm);
void dt_topo_ident_cache_release(struct dt_topo_ident_cache *c);

/* ---------------------------------------------------------------------- */
/* graph.c: nodes, edges, TCP flows, learned endpoints                     */
/* ---------------------------------------------------------------------- */

struct dt_topo_node {
	char id[DT_TOPO_ID_MAX];
	bool external;
	bool has_details;          /* comm..unit filled from a pid */
	char comm[16];
	char exe[256];
	char cgroup[256];
	char container_id[DT_TOPO_CONTAINER_ID_LEN + 1];
	char unit[128];
	uint32_t pids[DT_TOPO_MAX_PIDS];
	size_t npids;
	char listen[DT_TOPO_MAX_LISTEN][DT_TOPO_ID_MAX];
	size_t nlisten;
	UT_hash_handle hh;
};

struct dt_topo_tcp_facts {
	uint64_t connects;
	uint64_t refused, timeout, other_failures;
	uint64_t retransmits, resets;
};

struct dt_topo_edge_key {
	char client[DT_TOPO_ID_MAX];
	char server[DT_TOPO_ID_MAX];
	uint32_t protocol;         /* enum dt_protocol */
};

/* Requests between two nodes over one protocol. */
struct dt_topo_edge {
	struct dt_topo_edge_key key;   /* zero-padded: hashed as bytes */
	char server_addr[DT_TOPO_ID_MAX];
	uint64_t requests, errors, errors_4xx, errors_5xx;
	struct dt_topo_histogram latency;
	uint64_t bytes_sent, bytes_received;
	UT_hash_handle hh;
};

/*
 * TCP facts of a client node towards a server. The server is kept as its
 * address until the graph is rendered (server names come from exchanges,
 * which arrive after the connect), unless a rule or a pid named it.
 */
struct dt_topo_flow_key {
	char client[DT_TOPO_ID_MAX];
	char server[DT_TOPO_ID_MAX];   /* node id, or address when !named */
	bool named;
};

struct dt_topo_flow {
	struct dt_topo_flow_key key;
	struct dt_topo_tcp_facts tcp;
	UT_hash_handle hh;
};

/* An endpoint address seen with a local process: which node it was. */
struct dt_topo_where {
	char addr[DT_TOPO_ID_MAX];
	char node[DT_TOPO_ID_MAX];
	UT_hash_handle hh;
};

struct dt_topo {
	struct dt_topo_rule *rules;
	size_t nrules;
	size_t max_nodes, max_edges;
	char *proc_root, *cgroup_root;
	struct timespec created;
	bool window_ended;         /* dt_topo_end_window() */
	struct dt_topo_ident_cache idents;
	struct dt_topo_listeners listeners;
	struct dt_topo_node *nodes;
	size_t nnodes;
	struct dt_topo_edge *edges;
	struct dt_topo_flow *flows;
	size_t nedges;             /* edges + flows */
	struct dt_topo_where *where;
	size_t nwhere;
	struct dt_topo_counts counts;
};

/* Finds or creates; NULL past max_nodes/max_edges or out of memory. */
struct dt_topo_node *dt_topo_node_get(struct dt_topo *t, const char *id,
				      bool external);
struct dt_topo_edge *dt_topo_edge_get(struct dt_topo *t, const char *client,
				      const char *server, uint32_t protocol);
struct dt_topo_flow *dt_topo_flow_get(struct dt_topo *t, const char *client,
				      const char *server, bool named);
/* Remembers that addr belongs to node (oldest entry dropped when full). */
void dt_topo_where_set(struct dt_topo *t, const char *addr, const char *node);
const char *dt_topo_where_get(const struct dt_topo *t, const char *addr);
void dt_topo_graph_release(struct dt_topo *t);

/* The node of an endpoint (rules, then the process, then a learned
 * address, else an external node), created or updated with the pid, its
 * details and, for a server, the listening address. NULL when it does not
 * fit. */
struct dt_topo_node *dt_topo_node_of(struct dt_topo *t,
				     const struct dt_endpoint *ep,
				     bool is_server);
/* The rule naming ep, NULL when none. */
const struct dt_topo_rule *dt_topo_rule_for(const struct dt_topo *t,
					    const struct dt_endpoint *ep);

/* ---------------------------------------------------------------------- */
/* view.c: the graph as the renderers show it                              */
/* ---------------------------------------------------------------------- */

/* One edge as rendered: an edge with requests (app != NULL) carrying the
 * TCP facts of its client and server, or a TCP-only edge. */
struct dt_topo_edge_view {
	const char *client, *server;       /* borrowed from the graph */
	const char *protocol;              /* "http", "redis", "mysql", "tcp" */
	const char *server_addr;           /* "" when unknown */
	const struct dt_topo_edge *app;    /* NULL for "tcp" */
	struct dt_topo_tcp_facts tcp;
};

struct dt_topo_view {
	struct dt_topo_node **nodes;       /* sorted by id */
	size_t nnodes;
	struct dt_topo_edge_view *edges;   /* sorted by client, server,
					      protocol */
	size_t nedges;
	double window_s;
};

/* Resolves the TCP flows' servers and builds the view (arrays owned by
 * view: dt_topo_view_release). 0 or -ENOMEM. */
int dt_topo_view_build(struct dt_topo *t, struct dt_topo_view *view);
void dt_topo_view_release(struct dt_topo_view *view);

/* ---------------------------------------------------------------------- */
/* cgroup_stats.c                                                          */
/* ---------------------------------------------------------------------- */

struct dt_topo_cgroup_stats {
	bool has_cpu, has_memory;
	double cpu_seconds;        /* cpu.stat usage_usec */
	uint64_t memory_bytes;     /* memory.current */
	uint64_t processes;        /* lines of cgroup.procs */
	uint64_t tcp_connections;  /* established, of those processes */
};

/* Reads the statistics of the cgroup at path (as in /proc/PID/cgroup)
 * under cgroup_root. Work is bounded: at most 256 processes and 4096 fds
 * per process are looked at. 0, or -ENOENT when the cgroup is gone. */
int dt_topo_cgroup_stats_read(const char *cgroup_root, const char *proc_root,
			      const char *path,
			      struct dt_topo_cgroup_stats *st);

#endif /* DEETUNE_TOPO_INT_H */
