// SPDX-License-Identifier: MIT
/*
 * Unit tests of the topology module: identity from a fixture /proc and
 * cgroupfs, edges and their counts per protocol, TCP facts and how their
 * sides are told, percentiles, bounds, and the JSON, dot, table and
 * Prometheus renderings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "topo/topo.h"

#define DOCKER_ID "0123456789abcdef0123456789abcdef" \
		  "0123456789abcdef0123456789abcdef"
#define POD_ID "fedcba9876543210fedcba9876543210" \
	       "fedcba9876543210fedcba9876543210"

/* ---------------------------------------------------------------------- */
/* Fixture trees: a /proc and a cgroupfs in a temporary directory          */
/* ---------------------------------------------------------------------- */

struct fixture {
	char root[64];
	char proc[128];
	char cgroup[128];
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *base, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void make_link(const char *base, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* A process: comm, exe and cgroup. */
static void fixture_proc(struct fixture *fx, unsigned pid, const char *comm,
			 const char *exe, const char *cgroup)
{
	char dir[256], line[512];

	snprintf(dir, sizeof(dir), "%u", pid);
	make_dir(fx->proc, dir);
	snprintf(dir, sizeof(dir), "%s/%u", fx->proc, pid);
	snprintf(line, sizeof(line), "%s\n", comm);
	write_file(dir, "comm", line);
	snprintf(line, sizeof(line), "0::%s\n", cgroup);
	write_file(dir, "cgroup", line);
	make_link(dir, "exe", exe);
}

/* net/tcp of the fixture: a listener on 127.0.0.1:8080 (inode 5000) and
 * an established connection 127.0.0.1:8080 <- 127.0.0.1:40000 (5001). */
static const char net_tcp[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
	"00000000     0        0 5000 1 0000000000000000 100 0 0 10 0\n"
	"   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 "
	"00000000     0        0 5001 1 0000000000000000 100 0 0 10 0\n"
	"   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 "
	"00000000     0        0 5002 1 0000000000000000 100 0 0 10 0\n";

static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char dir[256];

	assert_non_null(fx);
	snprintf(fx->root, sizeof(fx->root), "/tmp/test_topo.XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	snprintf(fx->proc, sizeof(fx->proc), "%s/proc", fx->root);
	snprintf(fx->cgroup, sizeof(fx->cgroup), "%s/cgroup", fx->root);
	make_dir(fx->root, "proc");
	make_dir(fx->root, "cgroup");
	make_dir(fx->proc, "net");
	snprintf(dir, sizeof(dir), "%s/net", fx->proc);
	write_file(dir, "tcp", net_tcp);
	write_file(dir, "tcp6", "  sl  local_address\n");
	fixture_proc(fx, 100, "curl", "/usr/bin/curl", "/user.slice/session-1.scope");
	fixture_proc(fx, 200, "nginx", "/usr/sbin/nginx",
		     "/system.slice/nginx.service");
	fixture_proc(fx, 300, "backend", "/opt/backend",
		     "/system.slice/docker-" DOCKER_ID ".scope");
	fixture_proc(fx, 400, "redis-server", "/usr/bin/redis-server",
		     "/system.slice/redis.service");
	fixture_proc(fx, 500, "mariadbd", "/usr/sbin/mariadbd",
		     "/system.slice/mariadb.service");
	*state = fx;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static struct dt_topo *topo_new(const struct fixture *fx,
				const struct dt_topo_rule *rules,
				size_t nrules)
{
	struct dt_topo_opts o = {
		.rules = rules, .nrules = nrules,
		.proc_root = fx->proc, .cgroup_root = fx->cgroup,
	};
	struct dt_topo *t;

	assert_int_equal(dt_topo_new(&t, &o), 0);
	return t;
}

/* ---------------------------------------------------------------------- */
/* Synthetic exchanges and events                                          */
/* ---------------------------------------------------------------------- */

static void ep_set(struct dt_endpoint *ep, const char *ip, uint16_t port,
		   uint32_t pid, const char *comm)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = DT_FAMILY_IPV4;
	assert_int_equal(inet_pton(AF_INET, ip, ep->addr), 1);
	ep->port = port;
	ep->pid = pid;
	snprintf(ep->comm, sizeof(ep->comm), "%s", comm);
}

/* Client pid cpid (port cport) -> server pid spid on 127.0.0.1:sport;
 * latency in microseconds; response NULL: none. */
static void feed_bytes(struct dt_topo *t, uint32_t protocol, uint32_t cpid,
		       const char *ccomm, uint16_t cport, uint32_t spid,
		       const char *scomm, uint16_t sport, const char *request,
		       size_t request_len, const char *response,
		       size_t response_len, uint64_t latency_us)
{
	struct dt_exchange x;

	dt_exchange_init(&x);
	x.protocol = protocol;
	ep_set(&x.client, "127.0.0.1", cport, cpid, ccomm);
	ep_set(&x.server, "127.0.0.1", sport, spid, scomm);
	x.req_start_ns = 1000000000ull;
	x.req_end_ns = x.req_start_ns + 1000;
	assert_int_equal(dt_exchange_set_request(&x, request, request_len),
			 0);
	if (response) {
		assert_int_equal(dt_exchange_set_response(&x, response,
							  response_len), 0);
		x.resp_start_ns = x.req_start_ns + latency_us * 500;
		x.resp_end_ns = x.req_start_ns + latency_us * 1000;
	} else {
		x.flags |= DT_XF_NO_RESPONSE;
	}
	dt_topo_add_exchange(t, &x);
	dt_exchange_release(&x);
}

static void feed(struct dt_topo *t, uint32_t protocol, uint32_t cpid,
		 const char *ccomm, uint16_t cport, uint32_t spid,
		 const char *scomm, uint16_t sport, const char *request,
		 const char *response, uint64_t latency_us)
{
	feed_bytes(t, protocol, cpid, ccomm, cport, spid, scomm, sport,
		   request, strlen(request), response,
		   response ? strlen(response) : 0, latency_us);
}

#define BYTES(s) s, sizeof(s) - 1

static void feed_tcp(struct dt_topo *t, enum dt_tcp_event_kind kind,
		     const char *lip, uint16_t lport, uint32_t lpid,
		     const char *lcomm, const char *rip, uint16_t rport,
		     int local_is_client, int error)
{
	struct dt_tcp_event ev = {
		.kind = kind, .local_is_client = local_is_client,
		.error = error,
	};

	ep_set(&ev.local, lip, lport, lpid, lcomm);
	ep_set(&ev.remote, rip, rport, 0, "");
	dt_topo_add_tcp_event(t, &ev);
}

/* The rendered JSON document, parsed. Owned by the caller. */
static json_t *render_json(struct dt_topo *t)
{
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *doc;

	assert_non_null(f);
	assert_int_equal(dt_topo_render_json(t, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(len > 0 && buf[len - 1] == '\n');
	doc = json_loads(buf, 0, &jerr);
	if (!doc)
		fail_msg("bad JSON: %s in %s", jerr.text, buf);
	free(buf);
	return doc;
}

/* Rendered text of a renderer; owned by the caller. */
static char *render_text(struct dt_topo *t,
			 int (*render)(struct dt_topo *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(render(t, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static int render_prom_plain(struct dt_topo *t, FILE *f)
{
	return dt_topo_render_prom(t, NULL, f);
}

static json_t *find_edge(json_t *doc, const char *client, const char *server,
			 const char *protocol)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(doc, "edges"), i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "client")),
			    client) &&
		    !strcmp(json_string_value(json_object_get(e, "server")),
			    server) &&
		    !strcmp(json_string_value(json_object_get(e, "protocol")),
			    protocol))
			return e;
	}
	return NULL;
}

static json_t *find_node(json_t *doc, const char *id)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(doc, "nodes"), i, n) {
		if (!strcmp(json_string_value(json_object_get(n, "id")), id))
			return n;
	}
	return NULL;
}

static json_int_t edge_int(json_t *e, const char *key)
{
	json_t *v = json_object_get(e, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* The three-tier traffic: curl -> nginx -> backend -> redis, mysql. */
static void feed_three_tier(struct dt_topo *t)
{
	for (int i = 0; i < 10; i++)
		feed(t, DT_PROTO_HTTP1, 100, "curl", 40000 + i, 200, "nginx",
		     8080, "GET / HTTP/1.1\r\n\r\n",
		     i < 2 ? "HTTP/1.1 503 Unavailable\r\n\r\n" :
		     i < 3 ? "HTTP/1.1 404 Not Found\r\n\r\n" :
			     "HTTP/1.1 200 OK\r\n\r\n", 1000 + 100 * i);
	for (int i = 0; i < 8; i++)
		feed(t, DT_PROTO_HTTP1, 200, "nginx", 41000, 300, "backend",
		     9090, "GET /orders HTTP/1.1\r\n\r\n",
		     i < 2 ? "HTTP/1.1 500 Oops\r\n\r\n" :
			     "HTTP/1.1 200 OK\r\n\r\n", 800);
	for (int i = 0; i < 6; i++)
		feed(t, DT_PROTO_REDIS, 300, "backend", 42000, 400,
		     "redis-server", 6379, "*1\r\n$4\r\nPING\r\n",
		     i == 0 ? "-ERR wrong\r\n" : i == 1 ? "!3\r\nbad\r\n" :
		     i == 2 ? NULL : "+PONG\r\n", 100);
	/* MySQL COM_QUERY answered by OK, then by ERR (decoded from the
	 * bytes: no attributes here) */
	feed_bytes(t, DT_PROTO_MYSQL, 300, "backend", 43000, 500, "mariadbd",
		   3306, BYTES("\x09\x00\x00\x00\x03SELECT 1"),
		   BYTES("\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"),
		   200);
	feed_bytes(t, DT_PROTO_MYSQL, 300, "backend", 43000, 500, "mariadbd",
		   3306, BYTES("\x09\x00\x00\x00\x03SELECT x"),
		   BYTES("\x0c\x00\x00\x01\xff\x28\x04#42000bad"), 300);
}

/* ---------------------------------------------------------------------- */
/* Identity                                                                */
/* ---------------------------------------------------------------------- */

static void test_container_id_layouts(void **state)
{
	static const struct {
		const char *path, *id;
	} cases[] = {
		{ "/system.slice/docker-" DOCKER_ID ".scope", DOCKER_ID },
		{ "/docker/" DOCKER_ID, DOCKER_ID },
		{ "/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-containerd:x", NULL },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
		  "pod0a1b.slice/cri-containerd-" POD_ID ".scope", POD_ID },
		{ "/kubepods.slice/kubepods-pod0a1b.slice/crio-" POD_ID ".scope",
		  POD_ID },
		{ "/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666/"
		  POD_ID, POD_ID },
		/* nested: the innermost container wins */
		{ "/docker/" DOCKER_ID "/docker/" POD_ID, POD_ID },
		{ "/system.slice/nginx.service", NULL },
		{ "/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef"
		  "0123456789abcdef", NULL },
		{ "/docker/0123", NULL },
		{ "/user.slice/" DOCKER_ID, NULL },
		{ "/system.slice/crio-conmon-" POD_ID ".scope", NULL },
		{ "", NULL },
	};
	char id[DT_TOPO_CONTAINER_ID_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool found = dt_topo_container_id(cases[i].path, id);

		if (!cases[i].id) {
			if (found)
				fail_msg("%s: unexpected id %s", cases[i].path,
					 id);
			continue;
		}
		if (!found)
			fail_msg("%s: no id", cases[i].path);
		assert_string_equal(id, cases[i].id);
	}
}

static void test_systemd_unit(void **state)
{
	char unit[32];

	(void)state;
	assert_true(dt_topo_systemd_unit("/system.slice/nginx.service", unit,
					 sizeof(unit)));
	assert_string_equal(unit, "nginx.service");
	assert_true(dt_topo_systemd_unit(
		"/user.slice/user-1000.slice/session-2.scope/x", unit,
		sizeof(unit)));
	assert_string_equal(unit, "session-2.scope");
	assert_false(dt_topo_systemd_unit("/user.slice", unit, sizeof(unit)));
	assert_false(dt_topo_systemd_unit("/.service", unit, sizeof(unit)));
	/* cut to the buffer */
	assert_true(dt_topo_systemd_unit("/a-very-long-name.service", unit, 8));
	assert_string_equal(unit, "a-very-");
}

static void test_node_identity(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc, *n;

	feed_three_tier(t);
	doc = render_json(t);
	n = find_node(doc, "nginx");
	assert_non_null(n);
	assert_string_equal(json_string_value(json_object_get(n, "kind")),
			    "service");
	assert_string_equal(json_string_value(json_object_get(n, "exe")),
			    "/usr/sbin/nginx");
	assert_string_equal(json_string_value(json_object_get(n, "cgroup")),
			    "/system.slice/nginx.service");
	assert_string_equal(json_string_value(json_object_get(n, "unit")),
			    "nginx.service");
	assert_true(json_is_null(json_object_get(n, "container_id")));
	assert_int_equal(json_array_size(json_object_get(n, "pids")), 1);
	assert_int_equal(json_integer_value(
		json_array_get(json_object_get(n, "pids"), 0)), 200);
	/* the fixture's listener on 127.0.0.1:8080 */
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(n, "listen"), 0)), "127.0.0.1:8080");
	n = find_node(doc, "backend");
	assert_non_null(n);
	assert_string_equal(json_string_value(json_object_get(n,
				"container_id")), DOCKER_ID);
	/* no listener in the fixture: the address the server was seen on */
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(n, "listen"), 0)), "127.0.0.1:9090");
	n = find_node(doc, "curl");
	assert_int_equal(json_array_size(json_object_get(n, "listen")), 0);
	json_decref(doc);
	dt_topo_free(t);
}

static void test_identity_cache_bound(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo_opts o = {
		.proc_root = fx->proc, .cgroup_root = fx->cgroup,
		.max_identities = 4,
	};
	struct dt_topo_counts c;
	struct dt_topo *t;

	assert_int_equal(dt_topo_new(&t, &o), 0);
	for (uint32_t pid = 1000; pid < 1020; pid++)
		feed(t, DT_PROTO_HTTP1, pid, "worker", 40000, 200, "nginx",
		     8080, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
		     100);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.identities, 4);
	assert_int_equal(c.exchanges, 20);
	/* every pid still lands on the node of its comm */
	assert_int_equal(c.nodes, 2);
	dt_topo_free(t);
}

/* A node is named after its process, whichever thread used the socket;
 * the thread's name serves only when the process is gone from /proc. */
static void test_identity_thread_names(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc;

	feed(t, DT_PROTO_REDIS, 300, "MHD-worker", 40000, 400, "io_thd_1",
	     6379, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 10);
	feed(t, DT_PROTO_REDIS, 300, "backend", 40001, 400, "redis-server",
	     6379, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 10);
	feed(t, DT_PROTO_REDIS, 9999, "gone", 40002, 400, "redis-server",
	     6379, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 10);
	doc = render_json(t);
	assert_int_equal(json_array_size(json_object_get(doc, "edges")), 2);
	assert_int_equal(edge_int(find_edge(doc, "backend", "redis-server",
					    "redis"), "requests"), 2);
	assert_non_null(find_edge(doc, "gone", "redis-server", "redis"));
	json_decref(doc);
	dt_topo_free(t);
}

/* ---------------------------------------------------------------------- */
/* Rules                                                                   */
/* ---------------------------------------------------------------------- */

static void test_rule_parse(void **state)
{
	struct dt_topo_rule r;
	char err[256];

	(void)state;
	assert_int_equal(dt_topo_rule_parse(&r, "orders=comm:orders-api", err,
					    sizeof(err)), 0);
	assert_string_equal(r.name, "orders");
	assert_int_equal(r.sel.kind, DT_SEL_COMM);
	assert_string_equal(r.sel.comm, "orders-api");
	assert_int_equal(dt_topo_rule_parse(&r, "db=port:3306", err,
					    sizeof(err)), 0);
	assert_int_equal(r.sel.port, 3306);
	assert_int_equal(dt_topo_rule_parse(&r, "=port:1", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(dt_topo_rule_parse(&r, "noselector", err,
					    sizeof(err)), -EINVAL);
	assert_int_equal(dt_topo_rule_parse(&r, "a b=port:1", err,
					    sizeof(err)), -EINVAL);
	assert_int_equal(dt_topo_rule_parse(&r, "x=port:0", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "port:0"));
}

static void test_rules_file(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo_rule *rules = NULL;
	char path[256], err[256];
	size_t n = 0;

	write_file(fx->root, "rules",
		   "# services\n\n  web=comm:nginx  \napi=port:9090\n");
	snprintf(path, sizeof(path), "%s/rules", fx->root);
	assert_int_equal(dt_topo_rules_load(path, &rules, &n, err,
					    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rules[0].name, "web");
	assert_string_equal(rules[1].name, "api");
	write_file(fx->root, "bad", "ok=pid:1\nbroken\n");
	snprintf(path, sizeof(path), "%s/bad", fx->root);
	assert_int_equal(dt_topo_rules_load(path, &rules, &n, err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad:2:"));
	assert_int_equal(n, 3);
	free(rules);
	rules = NULL;
	n = 0;
	assert_int_equal(dt_topo_rules_load("/nonexistent/rules", &rules, &n,
					    err, sizeof(err)), -ENOENT);
	assert_null(rules);
}

static void test_rules_name_nodes(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo_rule rules[2];
	char err[256];
	struct dt_topo *t;
	json_t *doc;

	assert_int_equal(dt_topo_rule_parse(&rules[0], "web=comm:nginx", err,
					    sizeof(err)), 0);
	assert_int_equal(dt_topo_rule_parse(&rules[1], "orders=port:9090",
					    err, sizeof(err)), 0);
	t = topo_new(fx, rules, 2);
	feed_three_tier(t);
	doc = render_json(t);
	assert_non_null(find_edge(doc, "curl", "web", "http"));
	assert_non_null(find_edge(doc, "web", "orders", "http"));
	/* port rules name servers; the backend as a client is its comm */
	assert_non_null(find_edge(doc, "backend", "redis-server", "redis"));
	assert_null(find_node(doc, "nginx"));
	json_decref(doc);
	dt_topo_free(t);
}

/* ---------------------------------------------------------------------- */
/* Edges, errors, latency                                                  */
/* ---------------------------------------------------------------------- */

static void test_edges_and_errors(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	struct dt_topo_counts c;
	json_t *doc, *e;

	feed_three_tier(t);
	doc = render_json(t);
	assert_int_equal(json_array_size(json_object_get(doc, "edges")), 4);
	e = find_edge(doc, "curl", "nginx", "http");
	assert_non_null(e);
	assert_int_equal(edge_int(e, "requests"), 10);
	assert_int_equal(edge_int(e, "errors"), 3);
	assert_int_equal(edge_int(e, "errors_5xx"), 2);
	assert_int_equal(edge_int(e, "errors_4xx"), 1);
	assert_string_equal(json_string_value(json_object_get(e,
				"server_addr")), "127.0.0.1:8080");
	assert_int_equal(edge_int(e, "bytes_sent"),
			 10 * strlen("GET / HTTP/1.1\r\n\r\n"));
	e = find_edge(doc, "nginx", "backend", "http");
	assert_int_equal(edge_int(e, "requests"), 8);
	assert_int_equal(edge_int(e, "errors_5xx"), 2);
	assert_int_equal(edge_int(e, "errors"), 2);
	/* '-' and '!' replies and the missing reply */
	e = find_edge(doc, "backend", "redis-server", "redis");
	assert_int_equal(edge_int(e, "requests"), 6);
	assert_int_equal(edge_int(e, "errors"), 3);
	assert_int_equal(edge_int(e, "errors_4xx"), 0);
	e = find_edge(doc, "backend", "mariadbd", "mysql");
	assert_int_equal(edge_int(e, "requests"), 2);
	assert_int_equal(edge_int(e, "errors"), 1);
	json_decref(doc);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.exchanges, 26);
	assert_int_equal(c.nodes, 5);
	assert_int_equal(c.edges, 4);
	dt_topo_free(t);
}

/* The recorder's attributes take precedence over the bytes. */
static void test_errors_from_attrs(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	struct dt_topo_counts c;
	struct dt_exchange x;
	json_t *doc, *e;

	dt_exchange_init(&x);
	x.protocol = DT_PROTO_MYSQL;
	ep_set(&x.client, "127.0.0.1", 43000, 300, "backend");
	ep_set(&x.server, "127.0.0.1", 3306, 500, "mariadbd");
	assert_int_equal(dt_exchange_set_request(&x, "q", 1), 0);
	assert_int_equal(dt_exchange_set_response(&x, "r", 1), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "response.kind", "err"), 0);
	dt_topo_add_exchange(t, &x);
	assert_int_equal(dt_exchange_set_attr(&x, "response.kind", "ok"), 0);
	dt_topo_add_exchange(t, &x);
	/* connection management is not counted */
	assert_int_equal(dt_exchange_set_attr(&x, "request.command",
					      "handshake"), 0);
	dt_topo_add_exchange(t, &x);
	assert_int_equal(dt_exchange_set_attr(&x, "request.command",
					      "COM_QUIT"), 0);
	dt_topo_add_exchange(t, &x);
	/* a command without a response by design is no error */
	assert_int_equal(dt_exchange_set_attr(&x, "request.command",
					      "COM_STMT_CLOSE"), 0);
	free(x.response);
	x.response = NULL;
	x.response_len = 0;
	x.flags = DT_XF_NO_RESPONSE;
	dt_topo_add_exchange(t, &x);
	x.protocol = DT_PROTO_HTTP1;
	assert_int_equal(dt_exchange_set_response(&x, "junk", 4), 0);
	x.flags = 0;
	assert_int_equal(dt_exchange_set_attr(&x, "status", "502"), 0);
	dt_topo_add_exchange(t, &x);
	/* HTTP/2: status classes as HTTP/1; gRPC fails in its trailers */
	x.protocol = DT_PROTO_HTTP2;
	dt_topo_add_exchange(t, &x);
	assert_int_equal(dt_exchange_set_attr(&x, "status", "200"), 0);
	assert_int_equal(dt_exchange_set_attr(&x, "grpc.status", "5"), 0);
	dt_topo_add_exchange(t, &x);
	assert_int_equal(dt_exchange_set_attr(&x, "grpc.status", "0"), 0);
	dt_topo_add_exchange(t, &x);
	dt_exchange_release(&x);
	doc = render_json(t);
	e = find_edge(doc, "backend", "mariadbd", "http2");
	assert_int_equal(edge_int(e, "requests"), 3);
	assert_int_equal(edge_int(e, "errors"), 2);
	assert_int_equal(edge_int(e, "errors_5xx"), 1);
	e = find_edge(doc, "backend", "mariadbd", "mysql");
	assert_int_equal(edge_int(e, "requests"), 3);
	assert_int_equal(edge_int(e, "errors"), 1);
	e = find_edge(doc, "backend", "mariadbd", "http");
	assert_int_equal(edge_int(e, "errors_5xx"), 1);
	json_decref(doc);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.ignored, 2);
	dt_topo_free(t);
}

/* Requests the recorder flushes unanswered when the window ends were
 * cut by it: no errors. */
static void test_end_window(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	struct dt_topo_counts c;
	json_t *doc, *e;

	feed(t, DT_PROTO_REDIS, 300, "backend", 42000, 400, "redis-server",
	     6379, "*1\r\n$4\r\nPING\r\n", NULL, 100);
	dt_topo_end_window(t);
	feed(t, DT_PROTO_REDIS, 300, "backend", 42000, 400, "redis-server",
	     6379, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 100);
	feed(t, DT_PROTO_REDIS, 300, "backend", 42000, 400, "redis-server",
	     6379, "*1\r\n$4\r\nPING\r\n", NULL, 100);
	doc = render_json(t);
	e = find_edge(doc, "backend", "redis-server", "redis");
	assert_int_equal(edge_int(e, "requests"), 2);
	assert_int_equal(edge_int(e, "errors"), 1);
	json_decref(doc);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.ignored, 1);
	dt_topo_free(t);
}

static void test_histogram_quantiles(void **state)
{
	struct dt_topo_histogram h = { 0 };

	(void)state;
	assert_true(isnan(dt_topo_histogram_quantile(&h, 0.5)));
	/* 100 observations in (0.001, 0.0025]: uniform assumption */
	for (int i = 0; i < 100; i++)
		dt_topo_histogram_observe(&h, 0.002);
	assert_int_equal(h.counts[2], 100);
	assert_float_equal(dt_topo_histogram_quantile(&h, 0.5), 0.00175,
			   1e-12);
	assert_float_equal(dt_topo_histogram_quantile(&h, 0.9), 0.00235,
			   1e-12);
	/* 100 more at 0.3 s: the p99 is in (0.25, 0.5] */
	for (int i = 0; i < 100; i++)
		dt_topo_histogram_observe(&h, 0.3);
	assert_float_equal(dt_topo_histogram_quantile(&h, 0.5), 0.0025,
			   1e-12);
	assert_float_equal(dt_topo_histogram_quantile(&h, 0.99),
			   0.25 + 0.25 * 98 / 100, 1e-12);
	assert_float_equal(h.sum, 100 * 0.002 + 100 * 0.3, 1e-9);
	/* bounds are inclusive; +Inf answers the highest finite bound */
	dt_topo_histogram_observe(&h, 0.0005);
	assert_int_equal(h.counts[0], 1);
	for (int i = 0; i < 1000; i++)
		dt_topo_histogram_observe(&h, 60);
	assert_int_equal(h.counts[DT_TOPO_NBUCKETS], 1000);
	assert_float_equal(dt_topo_histogram_quantile(&h, 0.99), 10, 0);
}

static void test_latency_in_json(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc, *lat, *b;
	size_t i;

	/* 10 exchanges of 1.0 to 1.9 ms: all in (0.001, 0.0025] */
	feed_three_tier(t);
	doc = render_json(t);
	lat = json_object_get(find_edge(doc, "curl", "nginx", "http"),
			      "latency_seconds");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")),
			 10);
	assert_float_equal(json_real_value(json_object_get(lat, "sum")),
			   0.0145, 1e-9);
	/* 1.0 ms sits in the first bucket (le 0.001) */
	assert_float_equal(json_real_value(json_object_get(lat, "p50")),
			   0.001 + 0.0015 * (5.0 - 1) / 9, 1e-9);
	b = json_object_get(lat, "buckets");
	assert_int_equal(json_array_size(b), DT_TOPO_NBUCKETS + 1);
	json_array_foreach(b, i, lat) {
		json_t *le = json_object_get(lat, "le");

		if (i < DT_TOPO_NBUCKETS)
			assert_float_equal(json_real_value(le),
					   dt_topo_bucket_bounds[i], 1e-12);
		else
			assert_string_equal(json_string_value(le), "+Inf");
		assert_int_equal(json_integer_value(json_object_get(lat,
				 "count")), i == 0 ? 0 : i == 1 ? 1 : 10);
	}
	json_decref(doc);
	dt_topo_free(t);
}

static void test_json_schema(void **state)
{
	static const char *const node_keys[] = {
		"id", "kind", "comm", "exe", "pids", "cgroup", "container_id",
		"unit", "listen",
	};
	static const char *const edge_keys[] = {
		"client", "server", "protocol", "server_addr", "requests",
		"errors", "errors_4xx", "errors_5xx", "latency_seconds",
		"bytes_sent", "bytes_received", "connects",
		"connect_failures", "retransmits", "resets",
	};
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc, *v, *f;
	size_t i;

	feed_three_tier(t);
	feed_tcp(t, DT_TCP_CONNECT_FAILED, "127.0.0.1", 45000, 100, "curl",
		 "127.0.0.1", 1, 1, ECONNREFUSED);
	doc = render_json(t);
	assert_true(json_is_real(json_object_get(doc, "window_s")));
	assert_int_equal(json_object_size(doc), 3);
	json_array_foreach(json_object_get(doc, "nodes"), i, v) {
		assert_int_equal(json_object_size(v), 9);
		for (size_t k = 0; k < 9; k++)
			assert_non_null(json_object_get(v, node_keys[k]));
	}
	json_array_foreach(json_object_get(doc, "edges"), i, v) {
		assert_int_equal(json_object_size(v), 15);
		for (size_t k = 0; k < 15; k++)
			assert_non_null(json_object_get(v, edge_keys[k]));
		f = json_object_get(v, "connect_failures");
		assert_int_equal(json_object_size(f), 3);
		assert_non_null(json_object_get(f, "refused"));
		assert_non_null(json_object_get(f, "timeout"));
		assert_non_null(json_object_get(f, "other"));
		f = json_object_get(v, "latency_seconds");
		assert_int_equal(json_object_size(f), 6);
	}
	/* a TCP-only edge: no latency observed, null percentiles */
	v = find_edge(doc, "curl", "127.0.0.1:1", "tcp");
	assert_non_null(v);
	assert_true(json_is_null(json_object_get(json_object_get(v,
				"latency_seconds"), "p99")));
	v = find_node(doc, "127.0.0.1:1");
	assert_string_equal(json_string_value(json_object_get(v, "kind")),
			    "external");
	assert_true(json_is_null(json_object_get(v, "exe")));
	json_decref(doc);
	dt_topo_free(t);
}

/* ---------------------------------------------------------------------- */
/* TCP events                                                              */
/* ---------------------------------------------------------------------- */

/* Connects happen before the first exchange names the server: they end
 * up on the edge with requests, not on a "tcp" edge of their own. */
static void test_tcp_facts_merge_into_edge(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc, *e, *f;

	feed_tcp(t, DT_TCP_CONNECT, "127.0.0.1", 41000, 200, "nginx",
		 "127.0.0.1", 9090, 1, 0);
	feed_tcp(t, DT_TCP_CONNECT, "127.0.0.1", 41001, 200, "nginx",
		 "127.0.0.1", 9090, 1, 0);
	feed_three_tier(t);
	/* in softirq context: no pid; the client port was seen with nginx */
	feed_tcp(t, DT_TCP_RETRANSMIT, "127.0.0.1", 41000, 0, "",
		 "127.0.0.1", 9090, -1, 0);
	/* seen from the server's socket: 8080 is a listening port */
	feed_tcp(t, DT_TCP_RESET, "127.0.0.1", 8080, 0, "", "127.0.0.1",
		 40000, -1, 0);
	feed_tcp(t, DT_TCP_CONNECT_FAILED, "127.0.0.1", 41002, 200, "nginx",
		 "127.0.0.1", 9090, 1, ETIMEDOUT);
	feed_tcp(t, DT_TCP_CONNECT_FAILED, "127.0.0.1", 41003, 200, "nginx",
		 "127.0.0.1", 9090, 1, -EHOSTUNREACH);
	doc = render_json(t);
	assert_int_equal(json_array_size(json_object_get(doc, "edges")), 4);
	e = find_edge(doc, "nginx", "backend", "http");
	assert_int_equal(edge_int(e, "connects"), 2);
	assert_int_equal(edge_int(e, "retransmits"), 1);
	f = json_object_get(e, "connect_failures");
	assert_int_equal(edge_int(f, "timeout"), 1);
	assert_int_equal(edge_int(f, "other"), 1);
	assert_int_equal(edge_int(f, "refused"), 0);
	e = find_edge(doc, "curl", "nginx", "http");
	assert_int_equal(edge_int(e, "resets"), 1);
	json_decref(doc);
	dt_topo_free(t);
}

static void test_tcp_side_by_port(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc, *e;

	/* neither side listens here: the lower port is the server */
	feed_tcp(t, DT_TCP_RETRANSMIT, "10.0.0.1", 50000, 0, "", "10.0.0.2",
		 5432, -1, 0);
	feed_tcp(t, DT_TCP_RETRANSMIT, "10.0.0.2", 5432, 0, "", "10.0.0.1",
		 50001, -1, 0);
	/* local_is_client 0: the local side accepted */
	feed_tcp(t, DT_TCP_RESET, "10.0.0.2", 5432, 0, "", "10.0.0.1", 50002,
		 0, 0);
	doc = render_json(t);
	assert_int_equal(json_array_size(json_object_get(doc, "edges")), 1);
	e = find_edge(doc, "10.0.0.1", "10.0.0.2:5432", "tcp");
	assert_non_null(e);
	assert_int_equal(edge_int(e, "retransmits"), 2);
	assert_int_equal(edge_int(e, "resets"), 1);
	assert_int_equal(edge_int(e, "requests"), 0);
	json_decref(doc);
	dt_topo_free(t);
}

/* ---------------------------------------------------------------------- */
/* Bounds                                                                  */
/* ---------------------------------------------------------------------- */

static void test_edge_bound(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo_opts o = {
		.proc_root = fx->proc, .cgroup_root = fx->cgroup,
		.max_edges = 3,
	};
	struct dt_topo_counts c;
	struct dt_topo *t;

	assert_int_equal(dt_topo_new(&t, &o), 0);
	feed_three_tier(t);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.edges, 3);
	/* the 2 MySQL requests found no room */
	assert_int_equal(c.dropped, 2);
	feed_tcp(t, DT_TCP_CONNECT, "127.0.0.1", 45000, 100, "curl",
		 "127.0.0.1", 1, 1, 0);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.dropped, 3);
	dt_topo_free(t);
}

static void test_node_bound(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo_opts o = {
		.proc_root = fx->proc, .cgroup_root = fx->cgroup,
		.max_nodes = 2,
	};
	struct dt_topo_counts c;
	struct dt_topo *t;

	assert_int_equal(dt_topo_new(&t, &o), 0);
	feed_three_tier(t);
	dt_topo_get_counts(t, &c);
	assert_int_equal(c.nodes, 2);
	assert_int_equal(c.exchanges, 10);
	assert_int_equal(c.dropped, 16);
	dt_topo_free(t);
}

/* ---------------------------------------------------------------------- */
/* Renderings                                                              */
/* ---------------------------------------------------------------------- */

/* Every sample's family was announced by HELP and TYPE before it, each
 * family once; counters end in _total; no blank or malformed line. */
static void check_prom_structure(const char *text)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum",
						"_count" };
	char family[128] = "", type[16] = "", help[160];
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		char name[128];
		bool known = false;

		assert_non_null(end);
		assert_true(end > line);
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", family), 1);
			/* each family announced once */
			snprintf(help, sizeof(help), "# HELP %s ", family);
			assert_null(strstr(end, help));
		} else if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s %15s", name,
						type), 2);
			assert_string_equal(name, family);
			if (!strcmp(type, "counter"))
				assert_non_null(strstr(family, "_total"));
		} else {
			size_t n = strcspn(line, "{ ");

			assert_true(n < sizeof(name));
			memcpy(name, line, n);
			name[n] = '\0';
			for (size_t i = 0; i < 4; i++) {
				char full[160];

				snprintf(full, sizeof(full), "%s%s", family,
					 suffixes[i]);
				known |= !strcmp(name, full) &&
					 (!i || !strcmp(type, "histogram"));
			}
			if (!known)
				fail_msg("sample %s outside family %s", name,
					 family);
			assert_non_null(memchr(line, ' ', end - line));
		}
		line = end + 1;
	}
}

static void test_prom_text(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	char *text;

	feed_three_tier(t);
	feed_tcp(t, DT_TCP_CONNECT_FAILED, "127.0.0.1", 45000, 100, "curl",
		 "127.0.0.1", 1, 1, ECONNREFUSED);
	text = render_text(t, render_prom_plain);
	check_prom_structure(text);
	assert_non_null(strstr(text, "deetune_requests_total{client=\"curl\","
				     "server=\"nginx\",protocol=\"http\"} 10\n"));
	assert_non_null(strstr(text,
		"deetune_request_errors_total{client=\"curl\",server=\"nginx\","
		"protocol=\"http\",class=\"5xx\"} 2\n"));
	assert_non_null(strstr(text,
		"deetune_request_errors_total{client=\"backend\",server="
		"\"redis-server\",protocol=\"redis\",class=\"error\"} 3\n"));
	/* no 4xx/5xx series for protocols without them */
	assert_null(strstr(text, "protocol=\"redis\",class=\"4xx\""));
	assert_non_null(strstr(text,
		"deetune_request_duration_seconds_bucket{client=\"curl\","
		"server=\"nginx\",protocol=\"http\",le=\"+Inf\"} 10\n"));
	assert_non_null(strstr(text,
		"deetune_request_duration_seconds_count{client=\"curl\","
		"server=\"nginx\",protocol=\"http\"} 10\n"));
	assert_non_null(strstr(text,
		"deetune_tcp_connect_failures_total{client=\"curl\",server="
		"\"127.0.0.1:1\",reason=\"refused\"} 1\n"));
	/* without the daemon's figures none of its series */
	assert_null(strstr(text, "deetune_recorder_"));
	assert_null(strstr(text, "deetune_process_"));
	free(text);
	dt_topo_free(t);
}

static void test_prom_label_escaping(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	char *text;

	feed(t, DT_PROTO_REDIS, 0, "", 40000, 0, "", 6379,
	     "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 10);
	feed(t, DT_PROTO_REDIS, 9999, "a\"b\\c\n", 40000, 400,
	     "redis-server", 6379, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", 10);
	text = render_text(t, render_prom_plain);
	check_prom_structure(text);
	/* the newline was cleaned to '?', quote and backslash escaped */
	assert_non_null(strstr(text, "client=\"a\\\"b\\\\c?\""));
	/* an unknown local client is its address, the server its address
	 * and port */
	assert_non_null(strstr(text, "deetune_requests_total{client="
				     "\"127.0.0.1\",server=\"127.0.0.1:6379\""));
	free(text);
	dt_topo_free(t);
}

static void test_prom_daemon_series(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	struct dt_topo_task_count tasks[] = {
		{ "running", 2 }, { "stopped", 1 },
	};
	struct dt_topo_daemon_metrics dm = {
		.recorder = { .drops = { 1, 2, 3, 4 }, .events = 99,
			      .buffered_bytes = 4096, .evicted_streams = 7 },
		.tasks = tasks, .ntasks = 2,
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(dt_topo_render_prom(t, &dm, f), 0);
	assert_int_equal(fclose(f), 0);
	check_prom_structure(text);
	assert_non_null(strstr(text, "deetune_recorder_dropped_events_total"
				     "{reason=\"state_full\"} 4\n"));
	assert_non_null(strstr(text, "deetune_recorder_events_total 99\n"));
	assert_non_null(strstr(text, "deetune_recorder_buffered_bytes 4096\n"));
	assert_non_null(strstr(text,
			       "deetune_recorder_evicted_streams_total 7\n"));
	assert_non_null(strstr(text, "deetune_tasks{state=\"running\"} 2\n"));
	assert_non_null(strstr(text, "# TYPE deetune_process_cpu_seconds_total "
				     "counter\n"));
	assert_non_null(strstr(text, "deetune_process_resident_memory_bytes "));
	assert_null(strstr(text, "deetune_process_resident_memory_bytes 0\n"));
	free(text);
	dt_topo_free(t);
}

static void test_prom_cgroups(void **state)
{
	struct fixture *fx = *state;
	char dir[256], *text;
	struct dt_topo *t;

	/* nginx's cgroup: two processes, 200 owning two sockets of which
	 * one is established in the fixture's net/tcp */
	make_dir(fx->cgroup, "system.slice");
	make_dir(fx->cgroup, "system.slice/nginx.service");
	snprintf(dir, sizeof(dir), "%s/system.slice/nginx.service",
		 fx->cgroup);
	write_file(dir, "cgroup.procs", "200\n201\n");
	write_file(dir, "cpu.stat", "usage_usec 2500000\nuser_usec 1\n");
	write_file(dir, "memory.current", "1048576\n");
	snprintf(dir, sizeof(dir), "%s/200", fx->proc);
	make_dir(dir, "fd");
	make_dir(dir, "ns");
	make_dir(dir, "net");
	make_link(dir, "fd/3", "socket:[5000]");
	make_link(dir, "fd/4", "socket:[5001]");
	make_link(dir, "fd/5", "/dev/null");
	make_link(dir, "ns/net", "net:[4026531840]");
	snprintf(dir, sizeof(dir), "%s/200/net", fx->proc);
	write_file(dir, "tcp", net_tcp);
	t = topo_new(fx, NULL, 0);
	feed_three_tier(t);
	text = render_text(t, render_prom_plain);
	check_prom_structure(text);
	assert_non_null(strstr(text, "deetune_cgroup_cpu_seconds_total{cgroup="
				     "\"/system.slice/nginx.service\"} 2.5\n"));
	assert_non_null(strstr(text, "deetune_cgroup_memory_bytes{cgroup="
				     "\"/system.slice/nginx.service\"} 1048576\n"));
	assert_non_null(strstr(text, "deetune_cgroup_processes{cgroup="
				     "\"/system.slice/nginx.service\"} 2\n"));
	assert_non_null(strstr(text, "deetune_cgroup_tcp_connections{cgroup="
				     "\"/system.slice/nginx.service\"} 1\n"));
	/* cgroups that do not exist (here: all others) are left out */
	assert_null(strstr(text, "redis.service"));
	free(text);
	dt_topo_free(t);
}

static void test_dot(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	char *text;
	size_t arrows = 0, open = 0, close = 0;

	feed_three_tier(t);
	feed(t, DT_PROTO_HTTP1, 9999, "we\"ird\\", 40000, 200, "nginx", 8080,
	     "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", 10);
	for (uint32_t pid = 1000; pid < 1005; pid++)
		feed(t, DT_PROTO_HTTP1, pid, "worker", 40000, 200, "nginx",
		     8080, "GET / HTTP/1.1\r\n\r\n",
		     "HTTP/1.1 200 OK\r\n\r\n", 10);
	feed_tcp(t, DT_TCP_CONNECT_FAILED, "127.0.0.1", 45000, 100, "curl",
		 "127.0.0.1", 1, 1, ECONNREFUSED);
	text = render_text(t, dt_topo_render_dot);
	assert_int_equal(strncmp(text, "digraph deetune {\n", 18), 0);
	for (const char *p = text; (p = strstr(p, " -> ")); p++)
		arrows++;
	assert_int_equal(arrows, 7);
	for (const char *p = text; *p; p++) {
		open += *p == '{';
		close += *p == '}';
	}
	assert_int_equal(open, 1);
	assert_int_equal(close, 1);
	assert_non_null(strstr(text, "\"curl\" -> \"nginx\" [label=\"http\\n"
				     "10 req, 30.0% err\\np99 "));
	assert_non_null(strstr(text, "\"we\\\"ird\\\\\" -> \"nginx\""));
	assert_non_null(strstr(text, "\"nginx\" [label=\"nginx\\npid 200\\n"
				     "nginx.service\"];\n"));
	/* at most 4 pids in a label */
	assert_non_null(strstr(text, "\"worker\" [label=\"worker\\npid "
				     "1000,1001,1002,1003,...\"];\n"));
	assert_non_null(strstr(text, "\"127.0.0.1:1\" [label=\"127.0.0.1:1\", "
				     "shape=ellipse, style=dashed];\n"));
	assert_non_null(strstr(text, "1 failed connects\", style=dashed, "
				     "color=red];\n"));
	free(text);
	dt_topo_free(t);
}

static void test_table(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	char *text;

	feed_three_tier(t);
	text = render_text(t, dt_topo_render_table);
	assert_non_null(strstr(text, "NODE "));
	assert_non_null(strstr(text, "CLIENT "));
	assert_non_null(strstr(text, "5 nodes, 4 edges in "));
	assert_non_null(strstr(text, "nginx.service"));
	free(text);
	dt_topo_free(t);
}

/* An empty graph renders in every format. */
static void test_empty_graph(void **state)
{
	struct fixture *fx = *state;
	struct dt_topo *t = topo_new(fx, NULL, 0);
	json_t *doc = render_json(t);
	char *text;

	assert_int_equal(json_array_size(json_object_get(doc, "nodes")), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "edges")), 0);
	json_decref(doc);
	text = render_text(t, dt_topo_render_dot);
	assert_string_equal(text, "digraph deetune {\n\trankdir=LR;\n"
			    "\tnode [shape=box, style=rounded, fontname="
			    "\"Helvetica\"];\n\tedge [fontname=\"Helvetica\", "
			    "fontsize=10];\n}\n");
	free(text);
	text = render_text(t, render_prom_plain);
	check_prom_structure(text);
	free(text);
	dt_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_id_layouts),
		cmocka_unit_test(test_systemd_unit),
		cmocka_unit_test(test_histogram_quantiles),
		cmocka_unit_test(test_rule_parse),
#define FX(f) cmocka_unit_test_setup_teardown(f, fixture_setup, \
					       fixture_teardown)
		FX(test_node_identity),
		FX(test_identity_cache_bound),
		FX(test_identity_thread_names),
		FX(test_rules_file),
		FX(test_rules_name_nodes),
		FX(test_edges_and_errors),
		FX(test_errors_from_attrs),
		FX(test_end_window),
		FX(test_latency_in_json),
		FX(test_json_schema),
		FX(test_tcp_facts_merge_into_edge),
		FX(test_tcp_side_by_port),
		FX(test_edge_bound),
		FX(test_node_bound),
		FX(test_prom_text),
		FX(test_prom_label_escaping),
		FX(test_prom_daemon_series),
		FX(test_prom_cgroups),
		FX(test_dot),
		FX(test_table),
		FX(test_empty_graph),
#undef FX
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
