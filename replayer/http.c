// SPDX-License-Identifier: MIT
/*
 * HTTP engine: libcurl's multi interface in one thread. Each recorded
 * exchange becomes one transfer when it is due and the gate admits it;
 * curl keeps connections alive and reuses them, and opens up to
 * --concurrency of them. HTTP requests are independent: a recorded
 * connection's order is not kept (a request does not wait for the one
 * before it on that connection), only the recorded start times.
 *
 * The response is stored as received: the header callback hands over each
 * header line as it came (interim 1xx responses too), and transfer and
 * content decoding are off, so the body keeps its chunked framing and its
 * compression. The request stored is the bytes curl sent.
 *
 * HTTP/2 exchanges are replayed over HTTP/2 (prior knowledge for http://,
 * ALPN for https://) and stored in their stored form, as recorded: the
 * request as it was handed to curl (h2_request.c), the response from the
 * header lines and body curl gave (h2_response.c), trailers included.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replayer/replayer_int.h"

#define MAX_POLL_MS 100
#define NPORTS 65536

struct transfer {
	CURL *easy;
	struct http_engine *e;
	struct rp_item *item;
	struct rp_http_request req;
	struct curl_slist *headers;
	struct rp_buf resp;
	struct rp_buf hdr;           /* HTTP/2: header and trailer lines */
	struct rp_buf sent;
	uint64_t start_real;
	unsigned attempt;
	uint64_t retry_at;
	char errbuf[CURL_ERROR_SIZE];
	struct transfer *next;       /* waiting to retry */
	struct transfer *prev_live, *next_live;
};

struct http_engine {
	struct rp_ctx *ctx;
	struct rp_batch *b;
	CURLM *multi;
	char url[320];               /* the target's root URL */
	const char *scheme;          /* "http" or "https" */
	char host[300];              /* Host header value */
	size_t next;                 /* next item to start */
	unsigned active;             /* transfers started, not finished */
	uint64_t gate_retry;         /* rate: when the gate may admit */
	struct transfer *retries;
	struct transfer *live;       /* every transfer not freed yet */
	uint64_t *conn_of_port;      /* replay connection id by local port */
	bool stopping;
};

/* ---- transfer callbacks ---------------------------------------------- */

/* Header lines and body bytes alike: the response as it came. Past
 * RP_MAX_RESPONSE the bytes are dropped and the transfer goes on. */
static size_t on_response(char *p, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;

	return rp_buf_append(&t->resp, p, size * n) ? 0 : size * n;
}

/* HTTP/2: header blocks apart from the body, to be stored as fields. */
static size_t on_h2_header(char *p, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;

	return rp_buf_append(&t->hdr, p, size * n) ? 0 : size * n;
}

static int on_debug(CURL *easy, curl_infotype type, char *p, size_t n,
		    void *ctx)
{
	struct transfer *t = ctx;

	if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)
		rp_buf_append(&t->sent, p, n);
	return 0;
}

/* ---- building a transfer --------------------------------------------- */

/* The value of the first header called name, NULL when there is none. */
static const char *header_value(const struct rp_http_request *r,
				const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

/* The Host the request went with, for the "host" attribute. */
static const char *sent_host(const struct rp_http_request *r)
{
	return header_value(r, "Host");
}

static int slist_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

/* curl's header list: "Name;" sends an empty value ("Name:" would remove
 * the header), and "Name:" for the headers curl adds by itself keeps the
 * request as recorded. */
static int build_header_list(struct transfer *t)
{
	static const char *const curl_defaults[] = { "Accept", "Expect",
						     "Content-Type" };
	const struct rp_http_request *r = &t->req;
	char *line;
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nheaders; i++) {
		if (asprintf(&line, r->headers[i].value[0] ? "%s: %s" : "%s;",
			     r->headers[i].name, r->headers[i].value) < 0)
			return -ENOMEM;
		ret = slist_add(&t->headers, line);
		free(line);
	}
	for (size_t i = 0; !ret && i < 3; i++) {
		if (header_value(r, curl_defaults[i]))
			continue;
		if (asprintf(&line, "%s:", curl_defaults[i]) < 0)
			return -ENOMEM;
		ret = slist_add(&t->headers, line);
		free(line);
	}
	if (!ret && r->no_length)
		ret = slist_add(&t->headers, "Content-Length:");
	return ret;
}

static void set_method(CURL *h, const struct rp_http_request *r)
{
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (r->has_body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 r->body ? (char *)r->body : "");
		if (strcmp(r->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
}

static long http_version(const struct http_engine *e,
			 const struct rp_http_request *r)
{
	if (r->h2)
		return e->b->target->tls ? CURL_HTTP_VERSION_2TLS :
					   CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
	return r->version_minor ? CURL_HTTP_VERSION_1_1 :
				  CURL_HTTP_VERSION_1_0;
}

static void setup_tls(CURL *h, const struct dt_replay_opts *o)
{
	if (o->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static int setup_easy(struct transfer *t)
{
	const struct dt_replay_opts *o = t->e->ctx->opts;
	long timeout_ms = (long)(o->timeout_ns / 1000000);
	CURL *h = curl_easy_init();

	if (!h)
		return -ENOMEM;
	t->easy = h;
	if (build_header_list(t))
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, t->e->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, t->e->scheme);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_REQUEST_TARGET, t->req.target);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, http_version(t->e, &t->req));
	/* libcurl 7.88 fails the second stream of a connection to a gRPC
	 * server ("Error in the HTTP2 framing layer", also curl(1)): one
	 * connection per HTTP/2 request */
	if (t->req.h2)
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	setup_tls(h, o);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
	set_method(h, &t->req);
	curl_easy_setopt(h, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
	curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION,
			 t->req.h2 ? on_h2_header : on_response);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_response);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, t);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_PRIVATE, t);
	if (timeout_ms > 0) {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	}
	return 0;
}

static struct transfer *transfer_new(struct http_engine *e,
				     struct rp_item *it)
{
	struct transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->e = e;
	t->item = it;
	t->next_live = e->live;
	if (e->live)
		e->live->prev_live = t;
	e->live = t;
	return t;
}

static void transfer_free(struct transfer *t)
{
	if (!t)
		return;
	if (t->prev_live)
		t->prev_live->next_live = t->next_live;
	else
		t->e->live = t->next_live;
	if (t->next_live)
		t->next_live->prev_live = t->prev_live;
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	rp_http_request_release(&t->req);
	rp_buf_release(&t->resp);
	rp_buf_release(&t->hdr);
	rp_buf_release(&t->sent);
	free(t);
}

static int transfer_add(struct http_engine *e, struct transfer *t)
{
	t->start_real = rp_realtime();
	t->errbuf[0] = '\0';
	if (curl_multi_add_handle(e->multi, t->easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

/* ---- results ------------------------------------------------------------ */

static uint64_t conn_id_of(struct http_engine *e, CURL *h, long local_port)
{
	long connects = 0;

	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	if (local_port <= 0 || local_port >= NPORTS)
		return 0; /* never connected */
	if (connects > 0 || !e->conn_of_port[local_port])
		e->conn_of_port[local_port] = rp_output_conn_id(&e->ctx->out);
	return e->conn_of_port[local_port];
}

static void set_endpoints(struct http_engine *e, struct transfer *t,
			  struct dt_exchange *x)
{
	char *ip = NULL;
	long port = -1;

	curl_easy_getinfo(t->easy, CURLINFO_LOCAL_IP, &ip);
	curl_easy_getinfo(t->easy, CURLINFO_LOCAL_PORT, &port);
	rp_endpoint_from_ip(ip, port, true, &x->client);
	x->conn_id = conn_id_of(e, t->easy, port);
	ip = NULL;
	port = -1;
	curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_PORT, &port);
	rp_endpoint_from_ip(ip, port, false, &x->server);
}

static uint64_t info_ns(CURL *h, CURLINFO what, uint64_t base)
{
	curl_off_t us = 0;

	curl_easy_getinfo(h, what, &us);
	return us > 0 ? base + (uint64_t)us * 1000 : 0;
}

static void set_timings(struct transfer *t, struct dt_exchange *x)
{
	x->req_start_ns = t->start_real;
	x->req_end_ns = info_ns(t->easy, CURLINFO_PRETRANSFER_TIME_T,
				t->start_real);
	x->resp_start_ns = info_ns(t->easy, CURLINFO_STARTTRANSFER_TIME_T,
				   t->start_real);
	x->resp_end_ns = info_ns(t->easy, CURLINFO_TOTAL_TIME_T,
				 t->start_real);
}

static int set_status(struct dt_exchange *x)
{
	struct dt_http1_head *head = malloc(sizeof(*head));
	char status[8];
	int ret = 0;

	if (!head)
		return -ENOMEM;
	if (dt_http1_parse_final_response(x->response, x->response_len,
					  head) >= 0) {
		snprintf(status, sizeof(status), "%d", head->status);
		ret = dt_exchange_set_attr(x, "status", status);
	}
	free(head);
	return ret;
}

/* The bytes curl sent and the response as it came. */
static int store_http1(const struct transfer *t, struct dt_exchange *x)
{
	int ret = t->sent.len ? dt_exchange_set_request(x, t->sent.data,
							t->sent.len) : 0;

	if (!ret)
		ret = dt_exchange_set_response(x, t->resp.data, t->resp.len);
	return ret ? ret : set_status(x);
}

/* The request and response in their stored form. A response without a
 * final head (the transfer failed first) is left out. */
static int store_h2(const struct http_engine *e, const struct transfer *t,
		    struct dt_exchange *x)
{
	uint8_t *req;
	size_t len;
	int ret;

	if (rp_h2_request_store(&t->req, e->scheme, &req, &len))
		return -ENOMEM;
	free(x->request);
	x->request = req;
	x->request_len = len;
	ret = rp_h2_response_store(x, t->hdr.data, t->hdr.len, t->resp.data,
				   t->resp.len);
	return ret == -EBADMSG ? 0 : ret;
}

static const char *error_text(const struct transfer *t, CURLcode rc)
{
	return t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
}

/* Writes the replayed exchange: answered, or failed with what came. */
static void emit(struct http_engine *e, struct transfer *t, CURLcode rc)
{
	enum rp_outcome outcome = rc == CURLE_OK ? RP_ANSWERED : RP_FAILED;
	char why[CURL_ERROR_SIZE + 64];
	struct dt_exchange x;
	const char *host;
	int ret;

	if (rp_exchange_begin(&x, t->item)) {
		rp_output_emit(&e->ctx->out, NULL, outcome);
		return;
	}
	set_endpoints(e, t, &x);
	set_timings(t, &x);
	ret = t->req.h2 ? store_h2(e, t, &x) : store_http1(t, &x);
	if (!ret && (host = sent_host(&t->req)))
		ret = dt_exchange_set_attr(&x, "host", host);
	if (t->resp.overflow || t->hdr.overflow)
		x.flags |= DT_XF_TRUNCATED;
	if (!ret && rc != CURLE_OK) {
		x.flags |= x.response_len ? DT_XF_INCOMPLETE :
					    DT_XF_NO_RESPONSE;
		snprintf(why, sizeof(why), "%s %s: %s", t->req.method,
			 t->req.target, error_text(t, rc));
		ret = dt_exchange_set_attr(&x, RP_ATTR_ERROR, why);
	}
	rp_output_emit(&e->ctx->out, ret ? NULL : &x, outcome);
	dt_exchange_release(&x);
}

static bool is_connect_failure(CURL *h, CURLcode rc)
{
	curl_off_t connect_us = 0;

	/* a certificate the target fails to prove is a connection refused,
	 * as credentials a database refuses are */
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM)
		return true;
	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
	return rc == CURLE_OPERATION_TIMEDOUT && connect_us == 0;
}

static void schedule_retry(struct http_engine *e, struct transfer *t)
{
	t->retry_at = rp_now() + rp_retry_delay(t->attempt);
	t->attempt++;
	t->resp.len = 0;
	t->resp.overflow = false;
	t->hdr.len = 0;
	t->hdr.overflow = false;
	t->sent.len = 0;
	t->next = e->retries;
	e->retries = t;
}

static void finish(struct http_engine *e, struct transfer *t, CURLcode rc)
{
	const struct dt_replay_opts *o = e->ctx->opts;
	char why[CURL_ERROR_SIZE + 64];

	curl_multi_remove_handle(e->multi, t->easy);
	if (rc != CURLE_OK && t->attempt < o->retries && !e->stopping) {
		schedule_retry(e, t);
		return;
	}
	if (rc == CURLE_OK) {
		rp_target_connected(e->b);
	} else if (is_connect_failure(t->easy, rc)) {
		snprintf(why, sizeof(why), "cannot connect: %s",
			 error_text(t, rc));
		rp_target_failed(e->b, why);
	}
	emit(e, t, rc);
	e->active--;
	rp_gate_release(&e->ctx->gate);
	transfer_free(t);
}

static void collect(struct http_engine *e)
{
	struct transfer *t;
	char *priv;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(e->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		t = (struct transfer *)priv;
		finish(e, t, m->data.result);
	}
}

/* ---- starting transfers ------------------------------------------------- */

static void start_failed(struct http_engine *e, struct rp_item *it,
			 struct transfer *t, const char *why,
			 enum rp_outcome outcome)
{
	char text[320];

	snprintf(text, sizeof(text), "not replayed: %s", why);
	rp_emit_failure(e->ctx, it, NULL, NULL, 0, text, outcome);
	transfer_free(t);
	e->active--;
	rp_gate_release(&e->ctx->gate);
}

static void start(struct http_engine *e, struct rp_item *it)
{
	const struct dt_replay_opts *o = e->ctx->opts;
	struct transfer *t = transfer_new(e, it);
	char err[256];
	int ret;

	e->active++;
	if (!t) {
		start_failed(e, it, NULL, "out of memory", RP_FAILED);
		return;
	}
	if (it->rec.protocol == DT_PROTO_HTTP2)
		ret = rp_h2_request_build(&t->req, it->rec.request,
					  it->rec.request_len, e->host,
					  o->edits, o->nedits, err,
					  sizeof(err));
	else
		ret = rp_http_request_build(&t->req, it->rec.request,
					    it->rec.request_len, e->host,
					    o->edits, o->nedits, err,
					    sizeof(err));
	if (ret)
		start_failed(e, it, t, err,
			     ret == -EBADMSG ? RP_SKIPPED : RP_FAILED);
	else if (setup_easy(t) || transfer_add(e, t))
		start_failed(e, it, t, "out of memory", RP_FAILED);
}

/* Starts the due items the gate admits; returns when one must wait. */
static void dispatch(struct http_engine *e, uint64_t now)
{
	struct rp_item *it;
	int ret;

	e->gate_retry = 0;
	while (!e->stopping && e->next < e->b->n) {
		it = e->b->items[e->next];
		/* not worth waiting for: fail the rest at once */
		if (rp_target_down(e->b)) {
			rp_emit_failure(e->ctx, it, NULL, NULL, 0, RP_NOT_SENT,
					RP_FAILED);
			e->next++;
			continue;
		}
		if (it->due > now)
			return;
		ret = rp_gate_try(&e->ctx->gate, now, &e->gate_retry);
		if (ret < 0)
			e->stopping = true;
		if (ret <= 0)
			return;
		e->next++;
		start(e, it);
	}
}

static void restart_retries(struct http_engine *e, uint64_t now)
{
	struct transfer **pp = &e->retries, *t;

	while ((t = *pp)) {
		if (t->retry_at > now && !e->stopping) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		t->next = NULL;
		if (e->stopping || rp_target_down(e->b) ||
		    transfer_add(e, t)) {
			/* give up: report the last failure */
			t->attempt = UINT32_MAX;
			emit(e, t, CURLE_ABORTED_BY_CALLBACK);
			e->active--;
			rp_gate_release(&e->ctx->gate);
			transfer_free(t);
		}
	}
}

/* How long to sleep: until the next due item, the rate's next token or a
 * retry, at most MAX_POLL_MS; curl shortens it for its own timers. */
static int poll_timeout(const struct http_engine *e, uint64_t now)
{
	uint64_t until = now + MAX_POLL_MS * 1000000ull;
	const struct transfer *t;

	if (!e->stopping && e->next < e->b->n) {
		uint64_t due = e->b->items[e->next]->due;

		if (e->gate_retry && e->gate_retry != UINT64_MAX &&
		    e->gate_retry > due)
			due = e->gate_retry;
		if (e->gate_retry != UINT64_MAX && due < until)
			until = due;
	}
	for (t = e->retries; t; t = t->next)
		if (t->retry_at < until)
			until = t->retry_at;
	return rp_poll_timeout(now, until);
}

static int http_run(void *state)
{
	struct http_engine *e = state;
	int running;
	uint64_t now;

	while (e->next < e->b->n || e->active) {
		now = rp_now();
		if (!e->stopping && rp_gate_stopped(&e->ctx->gate))
			e->stopping = true;
		restart_retries(e, now);
		dispatch(e, now);
		if (e->stopping && e->next < e->b->n && !e->active)
			break;
		if (curl_multi_perform(e->multi, &running) != CURLM_OK)
			return -EIO;
		collect(e);
		if (curl_multi_poll(e->multi, NULL, 0,
				    poll_timeout(e, rp_now()), NULL) != CURLM_OK)
			return -EIO;
	}
	return 0;
}

/* ---- engine ----------------------------------------------------------- */

static void wake(void *ctx)
{
	struct http_engine *e = ctx;

	curl_multi_wakeup(e->multi);
}

static void format_host(const struct dt_target *t, char *buf, size_t size)
{
	bool v6 = strchr(t->host, ':') != NULL;

	snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", t->host,
		 v6 ? "]" : "", t->port);
}

static int http_prepare(struct rp_ctx *ctx, struct rp_batch *b, void **state)
{
	const struct dt_replay_opts *o = ctx->opts;
	struct http_engine *e = calloc(1, sizeof(*e));
	char hostport[300];

	if (!e)
		return -ENOMEM;
	e->ctx = ctx;
	e->b = b;
	e->multi = curl_multi_init();
	e->conn_of_port = calloc(NPORTS, sizeof(*e->conn_of_port));
	if (!e->multi || !e->conn_of_port) {
		curl_multi_cleanup(e->multi);
		free(e->conn_of_port);
		free(e);
		return -ENOMEM;
	}
	format_host(b->target, hostport, sizeof(hostport));
	e->scheme = b->target->tls ? "https" : "http";
	snprintf(e->url, sizeof(e->url), "%s://%s/", e->scheme, hostport);
	snprintf(e->host, sizeof(e->host), "%s", o->host ? o->host : hostport);
	curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)o->concurrency);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency);
	*state = e;
	return rp_gate_add_waker(&ctx->gate, wake, e);
}

static void http_release(void *state)
{
	struct http_engine *e = state;

	if (!e)
		return;
	/* left by a failed run: still in the multi handle or retrying */
	while (e->live) {
		curl_multi_remove_handle(e->multi, e->live->easy);
		transfer_free(e->live);
	}
	curl_multi_cleanup(e->multi);
	free(e->conn_of_port);
	free(e);
}

const struct rp_engine_ops rp_http_engine = {
	.prepare = http_prepare,
	.run = http_run,
	.release = http_release,
};
