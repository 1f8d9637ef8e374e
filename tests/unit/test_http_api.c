// SPDX-License-Identifier: MIT
/*
 * Unit tests of the daemon's HTTP API, driven as the daemon drives it: one
 * thread, its poll fd handed to curl_multi_poll next to libcurl's own
 * sockets, dt_http_api_run after each wait. Routes, status codes, content
 * types, HEAD, keep-alive, callback failures, bodies larger than a socket
 * buffer, and bad or busy listen addresses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "daemon/http_api.h"

#define BIG_BODY_BYTES (4u << 20)
#define FETCH_TIMEOUT_S 10

/* What the callbacks see and count. */
struct fake_daemon {
	unsigned int metrics_calls;
	unsigned int topology_calls;
};

static int render_metrics(void *ctx, FILE *out)
{
	struct fake_daemon *d = ctx;

	d->metrics_calls++;
	fprintf(out, "# HELP deetune_test_total Test counter.\n"
		     "# TYPE deetune_test_total counter\n"
		     "deetune_test_total %u\n",
		d->metrics_calls);
	return 0;
}

static int render_topology(void *ctx, FILE *out)
{
	struct fake_daemon *d = ctx;

	d->topology_calls++;
	fputs("{\"nodes\":[],\"edges\":[]}\n", out);
	return 0;
}

static int render_failure(void *ctx, FILE *out)
{
	fputs("half a body", out);
	return -EIO;
}

/* A body of BIG_BODY_BYTES: a pattern the client checks byte by byte. */
static int render_big(void *ctx, FILE *out)
{
	unsigned int i;

	for (i = 0; i < BIG_BODY_BYTES; i++)
		fputc('a' + (int)(i % 26), out);
	return 0;
}

struct reply {
	long status;
	char content_type[128];
	char allow[64];
	curl_off_t content_length;
	long connects;
	char *body;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct reply *r = userp;
	char *grown = realloc(r->body, r->len + size * n + 1);

	assert_non_null(grown);
	r->body = grown;
	memcpy(r->body + r->len, data, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	struct reply *r = userp;
	size_t len = size * n;

	if (len > 6 && !strncasecmp(data, "Allow:", 6))
		snprintf(r->allow, sizeof(r->allow), "%.*s",
			 (int)(len - 6), data + 6);
	return len;
}

static void reply_free(struct reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Runs the transfer of easy to its end, the server on the same thread.
 * Connections stay in multi's cache for the next transfer.
 */
static void drive(struct dt_http_api *api, CURLM *multi, CURL *easy)
{
	struct curl_waitfd extra = { .fd = dt_http_api_poll_fd(api),
				     .events = CURL_WAIT_POLLIN };
	time_t deadline = time(NULL) + FETCH_TIMEOUT_S;
	int running = 1, timeout;
	CURLMsg *msg;
	int left;

	assert_int_equal(curl_multi_add_handle(multi, easy), CURLM_OK);
	while (running) {
		assert_true(time(NULL) < deadline);
		assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
		timeout = dt_http_api_timeout_ms(api);
		if (timeout < 0 || timeout > 100)
			timeout = 100;
		assert_int_equal(curl_multi_poll(multi, &extra, 1, timeout,
						 NULL),
				 CURLM_OK);
		assert_int_equal(dt_http_api_run(api), 0);
	}
	msg = curl_multi_info_read(multi, &left);
	assert_non_null(msg);
	assert_int_equal(msg->data.result, CURLE_OK);
	curl_multi_remove_handle(multi, easy);
}

static CURL *request(struct dt_http_api *api, const char *method,
		     const char *path, struct reply *r)
{
	char url[256];
	CURL *easy = curl_easy_init();

	assert_non_null(easy);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
		 dt_http_api_port(api), path);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, r);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	else if (!strcmp(method, "POST"))
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "{}");
	else if (strcmp(method, "GET"))
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	return easy;
}

static void collect(CURL *easy, struct reply *r)
{
	char *type = NULL;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
	snprintf(r->content_type, sizeof(r->content_type), "%s",
		 type ? type : "");
	curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			  &r->content_length);
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &r->connects);
}

/* One request on a connection of its own; the reply is the caller's. */
static void fetch(struct dt_http_api *api, const char *method,
		  const char *path, struct reply *r)
{
	CURLM *multi = curl_multi_init();
	CURL *easy;

	assert_non_null(multi);
	memset(r, 0, sizeof(*r));
	easy = request(api, method, path, r);
	drive(api, multi, easy);
	collect(easy, r);
	curl_easy_cleanup(easy);
	curl_multi_cleanup(multi);
}

static struct dt_http_api *start(struct fake_daemon *d,
				 const struct dt_http_api_routes *routes)
{
	struct dt_http_api *api = NULL;
	char err[256] = "";

	memset(d, 0, sizeof(*d));
	assert_int_equal(dt_http_api_start(&api, "127.0.0.1:0", routes, err,
					   sizeof(err)),
			 0);
	assert_non_null(api);
	assert_string_equal(err, "");
	assert_true(dt_http_api_port(api) > 0);
	assert_true(dt_http_api_poll_fd(api) >= 0);
	return api;
}

static struct dt_http_api *start_default(struct fake_daemon *d)
{
	struct dt_http_api_routes routes = { .metrics = render_metrics,
					     .topology = render_topology,
					     .tasks = render_failure,
					     .ctx = d };

	return start(d, &routes);
}

static void test_metrics_is_prometheus_text(void **state)
{
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply r;

	(void)state;
	fetch(api, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type,
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(r.body, "# HELP deetune_test_total Test counter.\n"
				    "# TYPE deetune_test_total counter\n"
				    "deetune_test_total 1\n");
	reply_free(&r);
	/* rendered afresh for every scrape */
	fetch(api, "GET", "/metrics?x=1", &r);
	assert_non_null(strstr(r.body, "deetune_test_total 2\n"));
	assert_int_equal(d.metrics_calls, 2);
	reply_free(&r);
	dt_http_api_stop(api);
}

static void test_topology_is_json(void **state)
{
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply r;

	(void)state;
	fetch(api, "GET", "/api/v1/topology", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body, "{\"nodes\":[],\"edges\":[]}\n");
	assert_int_equal(d.topology_calls, 1);
	assert_int_equal(d.metrics_calls, 0);
	reply_free(&r);
	dt_http_api_stop(api);
}

static void test_failing_callback_answers_500(void **state)
{
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply r;

	(void)state;
	fetch(api, "GET", "/api/v1/tasks", &r);
	assert_int_equal(r.status, 500);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body, "{\"error\":\"internal error\"}\n");
	reply_free(&r);
	dt_http_api_stop(api);
}

static void test_unknown_path_answers_404(void **state)
{
	static const char *const paths[] = { "/", "/metrics/", "/api/v1",
					     "/api/v1/topology/x",
					     "/METRICS" };
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		fetch(api, "GET", paths[i], &r);
		assert_int_equal(r.status, 404);
		assert_string_equal(r.content_type, "application/json");
		assert_string_equal(r.body, "{\"error\":\"not found\"}\n");
		reply_free(&r);
	}
	assert_int_equal(d.metrics_calls + d.topology_calls, 0);
	dt_http_api_stop(api);
}

static void test_missing_callback_answers_404(void **state)
{
	struct fake_daemon d;
	struct dt_http_api_routes routes = { .metrics = render_metrics,
					     .ctx = &d };
	struct dt_http_api *api = start(&d, &routes);
	struct reply r;

	(void)state;
	routes.ctx = NULL; /* copied at start */
	fetch(api, "GET", "/api/v1/tasks", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	fetch(api, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(d.metrics_calls, 1);
	reply_free(&r);
	dt_http_api_stop(api);
}

static void test_other_methods_answer_405(void **state)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE",
					       "OPTIONS" };
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		fetch(api, methods[i], "/metrics", &r);
		assert_int_equal(r.status, 405);
		assert_string_equal(r.content_type, "application/json");
		assert_non_null(strstr(r.allow, "GET, HEAD"));
		reply_free(&r);
	}
	assert_int_equal(d.metrics_calls, 0);
	dt_http_api_stop(api);
}

static void test_head_has_length_but_no_body(void **state)
{
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply get, head;

	(void)state;
	fetch(api, "GET", "/api/v1/topology", &get);
	fetch(api, "HEAD", "/api/v1/topology", &head);
	assert_int_equal(head.status, 200);
	assert_string_equal(head.content_type, "application/json");
	assert_int_equal(head.len, 0);
	assert_int_equal(head.content_length, (curl_off_t)get.len);
	reply_free(&get);
	reply_free(&head);
	dt_http_api_stop(api);
}

static void test_keep_alive_reuses_the_connection(void **state)
{
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d);
	struct reply first, second;
	CURLM *multi = curl_multi_init();
	CURL *easy;

	(void)state;
	assert_non_null(multi);
	memset(&first, 0, sizeof(first));
	memset(&second, 0, sizeof(second));
	easy = request(api, "GET", "/metrics", &first);
	drive(api, multi, easy);
	collect(easy, &first);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &second);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &second);
	drive(api, multi, easy);
	collect(easy, &second);
	curl_easy_cleanup(easy);
	curl_multi_cleanup(multi);
	assert_int_equal(first.connects, 1);
	assert_int_equal(second.connects, 0);
	assert_int_equal(second.status, 200);
	assert_non_null(strstr(second.body, "deetune_test_total 2\n"));
	reply_free(&first);
	reply_free(&second);
	dt_http_api_stop(api);
}

static void test_big_body_arrives_whole(void **state)
{
	struct fake_daemon d;
	struct dt_http_api_routes routes = { .metrics = render_big,
					     .ctx = &d };
	struct dt_http_api *api = start(&d, &routes);
	struct reply r;
	size_t i;

	(void)state;
	fetch(api, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, BIG_BODY_BYTES);
	for (i = 0; i < r.len; i++) {
		if (r.body[i] != 'a' + (int)(i % 26))
			fail_msg("byte %zu is %d", i, r.body[i]);
	}
	reply_free(&r);
	dt_http_api_stop(api);
}

static void test_bad_addresses_are_refused(void **state)
{
	static const char *const addrs[] = { "", "127.0.0.1", ":9464",
					     "127.0.0.1:", "127.0.0.1:x",
					     "127.0.0.1:65536",
					     "127.0.0.1:-1", "localhost:9464",
					     "::1:9464", "[::1]", "[]:80",
					     "[127.0.0.1:80",
					     "1.2.3.4.5:80" };
	struct dt_http_api_routes routes = { .metrics = render_metrics };
	struct dt_http_api *api;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		err[0] = '\0';
		api = (struct dt_http_api *)&routes;
		assert_int_equal(dt_http_api_start(&api, addrs[i], &routes,
						   err, sizeof(err)),
				 -EINVAL);
		assert_null(api);
		assert_non_null(strstr(err, "bad HTTP address"));
	}
}

static void test_busy_port_is_reported(void **state)
{
	struct fake_daemon d;
	struct dt_http_api *api = start_default(&d), *second = NULL;
	struct dt_http_api_routes routes = { .metrics = render_metrics };
	char addr[64], err[256] = "";

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", dt_http_api_port(api));
	assert_int_equal(dt_http_api_start(&second, addr, &routes, err,
					   sizeof(err)),
			 -EADDRINUSE);
	assert_null(second);
	assert_non_null(strstr(err, addr));
	dt_http_api_stop(api);
	dt_http_api_stop(NULL);
}

static void test_ipv6_loopback(void **state)
{
	struct dt_http_api_routes routes = { .metrics = render_metrics };
	struct dt_http_api *api = NULL;
	char err[256] = "";
	int ret;

	(void)state;
	ret = dt_http_api_start(&api, "[::1]:0", &routes, err, sizeof(err));
	if (ret == -EADDRNOTAVAIL || ret == -EAFNOSUPPORT)
		skip();
	assert_int_equal(ret, 0);
	assert_true(dt_http_api_port(api) > 0);
	dt_http_api_stop(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_is_prometheus_text),
		cmocka_unit_test(test_topology_is_json),
		cmocka_unit_test(test_failing_callback_answers_500),
		cmocka_unit_test(test_unknown_path_answers_404),
		cmocka_unit_test(test_missing_callback_answers_404),
		cmocka_unit_test(test_other_methods_answer_405),
		cmocka_unit_test(test_head_has_length_but_no_body),
		cmocka_unit_test(test_keep_alive_reuses_the_connection),
		cmocka_unit_test(test_big_body_arrives_whole),
		cmocka_unit_test(test_bad_addresses_are_refused),
		cmocka_unit_test(test_busy_port_is_reported),
		cmocka_unit_test(test_ipv6_loopback),
	};
	int ret;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
