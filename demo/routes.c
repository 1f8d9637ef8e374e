// SPDX-License-Identifier: MIT
/*
 * The demo backend's HTTP routes:
 *
 *   GET  /health           200, touches neither Redis nor MySQL
 *   GET  /api/items/<id>   200 from the cache (X-Cache: hit, one Redis GET)
 *                          or the database (X-Cache: miss: Redis GET, MySQL
 *                          SELECT, Redis SET); 404 for an unknown item
 *                          (Redis GET and MySQL SELECT)
 *   POST /api/orders       {"item_id":N,"qty":N}: MySQL INSERT, Redis
 *                          INCR, 201 {"id":N,"orders":N}; 400 for a bad body
 *                          (no server call)
 *   GET  /api/fail         one Redis INCR, then 500 on purpose (the
 *                          injected error)
 *
 * anything else 404, a known path with another method 405, a server that
 * fails 503. Every answer is JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "demo/backend.h"

/* Order bodies are a few dozen bytes; anything longer is refused. */
#define REQUEST_BODY_MAX 4096

struct demo_request {
	char body[REQUEST_BODY_MAX];
	size_t len;
	bool too_big;
};

struct route {
	const char *method;
	const char *path; /* ends in '/': a prefix, the rest its argument */
	enum MHD_Result (*handle)(struct demo_pool *pool,
				  struct MHD_Connection *conn, const char *arg,
				  const struct demo_request *req);
};

static enum MHD_Result respond(struct MHD_Connection *conn,
			       unsigned int status, const char *json,
			       const char *cache)
{
	struct MHD_Response *resp;
	enum MHD_Result ret = MHD_NO;

	resp = MHD_create_response_from_buffer(strlen(json), (void *)json,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "application/json") == MHD_YES &&
	    (!cache ||
	     MHD_add_response_header(resp, "X-Cache", cache) == MHD_YES))
		ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_unavailable(struct MHD_Connection *conn)
{
	return respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		       "{\"error\":\"a backend server failed\"}\n", NULL);
}

static enum MHD_Result handle_health(struct demo_pool *pool,
				     struct MHD_Connection *conn,
				     const char *arg,
				     const struct demo_request *req)
{
	return respond(conn, MHD_HTTP_OK, "{\"status\":\"ok\"}\n", NULL);
}

/* A positive decimal uint32 and nothing else; 0 when it is not one. */
static uint32_t parse_id(const char *text)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; text[i]; i++) {
		if (text[i] < '0' || text[i] > '9' || i >= 10)
			return 0;
		v = v * 10 + (unsigned long long)(text[i] - '0');
	}
	return v <= UINT32_MAX ? (uint32_t)v : 0;
}

static enum MHD_Result handle_item(struct demo_pool *pool,
				   struct MHD_Connection *conn,
				   const char *arg,
				   const struct demo_request *req)
{
	uint32_t id = parse_id(arg);
	struct demo_store *store;
	enum MHD_Result ret;
	char *json = NULL;
	bool cached;
	int err;

	if (!id)
		return respond(conn, MHD_HTTP_NOT_FOUND,
			       "{\"error\":\"no such item\"}\n", NULL);
	store = demo_pool_get(pool);
	err = demo_store_item(store, id, &json, &cached);
	demo_pool_put(pool, store);
	if (err == -ENOENT)
		ret = respond(conn, MHD_HTTP_NOT_FOUND,
			      "{\"error\":\"no such item\"}\n", NULL);
	else if (err < 0)
		ret = respond_unavailable(conn);
	else
		ret = respond(conn, MHD_HTTP_OK, json,
			      cached ? "hit" : "miss");
	free(json);
	return ret;
}

/* {"item_id":N,"qty":N} with both in 1..UINT32_MAX; 0 or -EINVAL. */
static int parse_order(const struct demo_request *req, uint32_t *item_id,
		       uint32_t *qty)
{
	json_int_t item = 0, n = 0;
	json_t *root;
	int ret;

	if (req->too_big)
		return -EINVAL;
	root = json_loadb(req->body, req->len, 0, NULL);
	if (!root)
		return -EINVAL;
	ret = json_unpack(root, "{s:I,s:I}", "item_id", &item, "qty", &n);
	json_decref(root);
	if (ret < 0 || item < 1 || item > UINT32_MAX || n < 1 ||
	    n > UINT32_MAX)
		return -EINVAL;
	*item_id = (uint32_t)item;
	*qty = (uint32_t)n;
	return 0;
}

static enum MHD_Result handle_order(struct demo_pool *pool,
				    struct MHD_Connection *conn,
				    const char *arg,
				    const struct demo_request *req)
{
	struct demo_store *store;
	uint32_t item_id, qty;
	uint64_t order_id;
	int64_t count;
	char json[128];
	int err;

	if (parse_order(req, &item_id, &qty) < 0)
		return respond(conn, MHD_HTTP_BAD_REQUEST,
			       "{\"error\":\"want {\\\"item_id\\\":N,"
			       "\\\"qty\\\":N}\"}\n",
			       NULL);
	store = demo_pool_get(pool);
	err = demo_store_order(store, item_id, qty, &order_id, &count);
	demo_pool_put(pool, store);
	if (err < 0)
		return respond_unavailable(conn);
	snprintf(json, sizeof(json),
		 "{\"id\":%" PRIu64 ",\"orders\":%" PRId64 "}\n", order_id,
		 count);
	return respond(conn, MHD_HTTP_CREATED, json, NULL);
}

static enum MHD_Result handle_fail(struct demo_pool *pool,
				   struct MHD_Connection *conn,
				   const char *arg,
				   const struct demo_request *req)
{
	struct demo_store *store;
	int err;

	store = demo_pool_get(pool);
	err = demo_store_count_failure(store);
	demo_pool_put(pool, store);
	if (err < 0)
		return respond_unavailable(conn);
	return respond(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		       "{\"error\":\"injected failure\"}\n", NULL);
}

static const struct route routes[] = {
	{ "GET", "/health", handle_health },
	{ "GET", "/api/items/", handle_item },
	{ "POST", "/api/orders", handle_order },
	{ "GET", "/api/fail", handle_fail },
};

/* Sets *arg to what follows a prefix route's path. */
static bool route_matches(const struct route *r, const char *url,
			  const char **arg)
{
	size_t len = strlen(r->path);

	if (r->path[len - 1] != '/') {
		*arg = "";
		return !strcmp(url, r->path);
	}
	if (strncmp(url, r->path, len))
		return false;
	*arg = url + len;
	return true;
}

static enum MHD_Result dispatch(struct demo_pool *pool,
				struct MHD_Connection *conn, const char *url,
				const char *method,
				const struct demo_request *req)
{
	bool path_known = false;
	const char *arg;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_matches(&routes[i], url, &arg))
			continue;
		if (!strcmp(method, routes[i].method))
			return routes[i].handle(pool, conn, arg, req);
		path_known = true;
	}
	if (path_known)
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			       "{\"error\":\"method not allowed\"}\n", NULL);
	return respond(conn, MHD_HTTP_NOT_FOUND,
		       "{\"error\":\"not found\"}\n", NULL);
}

/*
 * libmicrohttpd calls this once when the headers are in, once per piece
 * of body, and once more at the end, when the request is answered.
 */
enum MHD_Result demo_answer(void *cls, struct MHD_Connection *conn,
			    const char *url, const char *method,
			    const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls)
{
	struct demo_request *req = *con_cls;
	size_t n = *upload_data_size;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req; /* freed by demo_request_done */
		return MHD_YES;
	}
	if (n) {
		if (n > sizeof(req->body) - req->len) {
			req->too_big = true;
		} else {
			memcpy(req->body + req->len, upload_data, n);
			req->len += n;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(cls, conn, url, method, req);
}

void demo_request_done(void *cls, struct MHD_Connection *conn,
		       void **con_cls, enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}
