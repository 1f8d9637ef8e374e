// SPDX-License-Identifier: MIT
/*
 * What one exchange or TCP event adds to the graph: requests, errors per
 * protocol, latency and bytes on the client -> server edge; connects,
 * failures, retransmits and resets on the client's flow to its server.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo_int.h"

/* MySQL exchanges that manage the connection rather than ask anything:
 * the handshake (connects count those) and COM_QUIT, which gets no
 * answer. */
static bool is_connection_management(const struct dt_exchange *x)
{
	const char *cmd = dt_exchange_attr(x, "request.command");

	return x->protocol == DT_PROTO_MYSQL && cmd &&
	       (!strcmp(cmd, "handshake") || !strcmp(cmd, "COM_QUIT"));
}

/* MySQL commands that get no response by design. */
static bool mysql_expects_no_response(const struct dt_exchange *x)
{
	const char *cmd = dt_exchange_attr(x, "request.command");

	return cmd && (!strcmp(cmd, "COM_STMT_CLOSE") ||
		       !strcmp(cmd, "COM_STMT_SEND_LONG_DATA"));
}

/* The final status code, from the recorder's attribute or the bytes;
 * 0 when unknown. */
static int http_status(const struct dt_exchange *x)
{
	const char *attr = dt_exchange_attr(x, "status");
	struct dt_http1_head *head;
	int status = 0;

	if (attr)
		return atoi(attr);
	head = malloc(sizeof(*head));
	if (!head)
		return 0;
	if (dt_http1_parse_final_response(x->response, x->response_len,
					  head) >= 0)
		status = head->status;
	free(head);
	return status;
}

static bool redis_error(const struct dt_exchange *x)
{
	const char *attr = dt_exchange_attr(x, "error");

	if (attr)
		return !strcmp(attr, "1");
	return x->response[0] == '-' || x->response[0] == '!';
}

static bool mysql_error(const struct dt_exchange *x)
{
	const char *kind = dt_exchange_attr(x, "response.kind");
	struct dt_mysql_summary *s;
	bool err = false;

	if (kind)
		return !strcmp(kind, "err");
	if (dt_mysql_decode_exchange(x->request, x->request_len, x->response,
				     x->response_len, 0, NULL, &s))
		return false;
	for (size_t i = 0; i < s->response.nresults; i++)
		err |= s->response.results[i].kind == DT_MYSQL_RESULT_ERR;
	dt_mysql_summary_free(s);
	return err;
}

static void count_errors(struct dt_topo_edge *e, const struct dt_exchange *x)
{
	const char *grpc;
	int status;

	if (!x->response_len || (x->flags & DT_XF_NO_RESPONSE)) {
		if (!(x->protocol == DT_PROTO_MYSQL &&
		      mysql_expects_no_response(x)))
			e->errors++;
		return;
	}
	switch (x->protocol) {
	case DT_PROTO_HTTP2:
		/* a failed gRPC call says so in its trailers, over HTTP 200 */
		grpc = dt_exchange_attr(x, "grpc.status");
		if (grpc && strcmp(grpc, "0")) {
			e->errors++;
			return;
		}
		/* fall through */
	case DT_PROTO_HTTP1:
		status = http_status(x);
		if (status >= 400 && status < 500)
			e->errors_4xx++;
		else if (status >= 500 && status < 600)
			e->errors_5xx++;
		else
			return;
		e->errors++;
		break;
	case DT_PROTO_REDIS:
		e->errors += redis_error(x);
		break;
	case DT_PROTO_MYSQL:
		e->errors += mysql_error(x);
		break;
	}
}

void dt_topo_add_exchange(struct dt_topo *t, const struct dt_exchange *x)
{
	struct dt_topo_node *client, *server;
	struct dt_topo_edge *e;

	bool unanswered = !x->response_len || (x->flags & DT_XF_NO_RESPONSE);

	if (x->protocol == DT_PROTO_UNKNOWN ||
	    x->protocol > DT_PROTO_LAST || is_connection_management(x) ||
	    (unanswered && t->window_ended)) {
		t->counts.ignored++;
		return;
	}
	client = dt_topo_node_of(t, &x->client, false);
	server = dt_topo_node_of(t, &x->server, true);
	e = client && server ? dt_topo_edge_get(t, client->id, server->id,
						 x->protocol) : NULL;
	if (!e) {
		t->counts.dropped++;
		return;
	}
	if (!e->server_addr[0] &&
	    dt_endpoint_format(&x->server, e->server_addr,
			       sizeof(e->server_addr)) < 0)
		e->server_addr[0] = '\0';
	e->requests++;
	count_errors(e, x);
	if (x->req_start_ns && x->resp_end_ns >= x->req_start_ns &&
	    x->response_len)
		dt_topo_histogram_observe(&e->latency,
					  (x->resp_end_ns - x->req_start_ns) /
						  1e9);
	e->bytes_sent += x->request_len;
	e->bytes_received += x->response_len;
	t->counts.exchanges++;
}

static bool is_listening(struct dt_topo *t, const struct dt_endpoint *ep)
{
	return dt_topo_listener_for(&t->listeners, t->proc_root, ep) != NULL;
}

/* Which side of the event's connection is the server. */
static bool local_is_server(struct dt_topo *t, const struct dt_tcp_event *ev)
{
	if (ev->local_is_client >= 0)
		return !ev->local_is_client;
	if (is_listening(t, &ev->local))
		return true;
	if (is_listening(t, &ev->remote))
		return false;
	return ev->local.port < ev->remote.port;
}

static void count_tcp(struct dt_topo_tcp_facts *f,
		      const struct dt_tcp_event *ev)
{
	switch (ev->kind) {
	case DT_TCP_CONNECT:
		f->connects++;
		break;
	case DT_TCP_CONNECT_FAILED:
		if (abs(ev->error) == ECONNREFUSED)
			f->refused++;
		else if (abs(ev->error) == ETIMEDOUT)
			f->timeout++;
		else
			f->other_failures++;
		break;
	case DT_TCP_RETRANSMIT:
		f->retransmits++;
		break;
	case DT_TCP_RESET:
		f->resets++;
		break;
	}
}

void dt_topo_add_tcp_event(struct dt_topo *t, const struct dt_tcp_event *ev)
{
	bool srv_local = local_is_server(t, ev);
	const struct dt_endpoint *cep = srv_local ? &ev->remote : &ev->local;
	const struct dt_endpoint *sep = srv_local ? &ev->local : &ev->remote;
	struct dt_topo_node *client, *server = NULL;
	char addr[DT_TOPO_ID_MAX];
	struct dt_topo_flow *f = NULL;

	client = dt_topo_node_of(t, cep, false);
	/* a server known by rule or process now; else by address, named
	 * when the graph is rendered */
	if (sep->pid || dt_topo_rule_for(t, sep))
		server = dt_topo_node_of(t, sep, true);
	if (client && server)
		f = dt_topo_flow_get(t, client->id, server->id, true);
	else if (client && dt_endpoint_format(sep, addr, sizeof(addr)) >= 0)
		f = dt_topo_flow_get(t, client->id, addr, false);
	if (!f) {
		t->counts.dropped++;
		return;
	}
	count_tcp(&f->tcp, ev);
	t->counts.tcp_events++;
}
