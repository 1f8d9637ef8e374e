// SPDX-License-Identifier: MIT
/*
 * The recording task (recorder/task.c) without the probes: which
 * exchanges it keeps (selectors, --match, sampling), its policies (count,
 * max-bytes, duration), redaction before the file, and how it ends on a
 * write error: failed, the file cut back to whole frames and readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "recorder/task.h"

static const struct dt_task_counters zero;

struct fixture {
	char path[64];
	struct dt_task_spec spec;
	struct dt_task *task;
	struct dt_task_info ended;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[128];

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_task.XXXXXX");
	f->spec.fd = mkstemp(f->path);
	assert_true(f->spec.fd >= 0);
	assert_int_equal(dt_selector_parse(&f->spec.sels[0], "port:80", true,
					   err, sizeof(err)), 0);
	f->spec.nsels = 1;
	f->spec.output = f->path;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dt_task_free(f->task);
	unlink(f->path);
	free(f);
	return 0;
}

static void start(struct fixture *f)
{
	char err[256];

	assert_int_equal(dt_task_new(&f->task, &f->spec, 7, &zero, err,
				     sizeof(err)), 0);
}

static void finish(struct fixture *f)
{
	dt_task_finish(f->task, &zero, 0);
	dt_task_info(f->task, &zero, &f->ended);
}

/* An HTTP exchange on connection conn from a client port to server port. */
static void make_exchange(struct dt_exchange *x, uint64_t conn,
			  uint16_t cport, uint16_t sport, const char *path)
{
	char req[256];

	dt_exchange_init(x);
	x->conn_id = conn;
	x->protocol = DT_PROTO_HTTP1;
	x->client.family = x->server.family = DT_FAMILY_IPV4;
	x->client.addr[0] = x->server.addr[0] = 127;
	x->client.addr[3] = x->server.addr[3] = 1;
	x->client.port = cport;
	x->server.port = sport;
	x->client.pid = 4242;
	snprintf(x->client.comm, sizeof(x->client.comm), "curl");
	x->req_start_ns = 1000;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n"
		 "Authorization: Bearer s3cr3t-token\r\n\r\n", path);
	assert_int_equal(dt_exchange_set_request(x, req, strlen(req)), 0);
	assert_int_equal(dt_exchange_set_response(x, "HTTP/1.1 200 OK\r\n"
						  "Content-Length: 0\r\n\r\n",
						  38), 0);
	assert_int_equal(dt_exchange_set_attr(x, "method", "GET"), 0);
	assert_int_equal(dt_exchange_set_attr(x, "path", path), 0);
	assert_int_equal(dt_exchange_set_attr(x, "status", "200"), 0);
}

/* Offers one exchange as the engine does; true when the task kept it. */
static bool offer(struct dt_task *t, uint64_t conn, uint16_t sport,
		  const char *path)
{
	struct dt_exchange x;
	bool kept;

	make_exchange(&x, conn, 40000, sport, path);
	kept = dt_task_wants(t, &x);
	if (kept)
		dt_task_write(t, &x, true);
	dt_exchange_release(&x);
	return kept;
}

/* The whole file in memory; the caller frees *data. */
static size_t slurp(const char *path, uint8_t **data)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*data = malloc(st.st_size + 1);
	assert_non_null(*data);
	assert_int_equal(read(fd, *data, st.st_size), st.st_size);
	close(fd);
	return st.st_size;
}

/* Reads the session back: its exchanges' paths, joined by spaces, and
 * the value of one trailer statistic (or -1). */
static int read_back(const char *path, char *paths, size_t size,
		     const char *stat_key, long long *stat)
{
	struct dt_session_reader *r;
	struct dt_exchange x;
	const struct dt_attr *st;
	uint8_t *data;
	size_t len = slurp(path, &data), n = 0, used = 0;
	char err[128];
	int ret;

	assert_int_equal(dt_session_reader_open(&r, data, len, err,
						sizeof(err)), 0);
	dt_exchange_init(&x);
	paths[0] = '\0';
	while ((ret = dt_session_reader_next(r, &x)) == 1) {
		used += snprintf(paths + used, size - used, "%s%s",
				 used ? " " : "", dt_exchange_attr(&x, "path"));
		n++;
	}
	dt_exchange_release(&x);
	*stat = -1;
	st = dt_session_reader_stats(r, &len);
	for (size_t i = 0; st && i < len; i++)
		if (!strcmp(st[i].key, stat_key))
			*stat = atoll(st[i].value);
	dt_session_reader_free(r);
	free(data);
	return ret < 0 ? ret : (int)n;
}

static void test_selectors_and_match(void **state)
{
	struct fixture *f = *state;
	char err[128], paths[256];
	long long v;

	assert_int_equal(dt_selector_parse(&f->spec.sels[1], "comm:curl",
					   false, err, sizeof(err)), 0);
	f->spec.nsels = 2;
	assert_int_equal(dt_match_parse(&f->spec.matches[0], "GET /api/*",
					err, sizeof(err)), 0);
	f->spec.nmatches = 1;
	start(f);
	assert_true(offer(f->task, 1, 80, "/api/a"));
	assert_false(offer(f->task, 1, 81, "/api/b"));   /* other server */
	assert_false(offer(f->task, 1, 80, "/other"));   /* --match */
	assert_true(offer(f->task, 2, 80, "/api/c"));
	finish(f);
	assert_int_equal(f->ended.state, DT_TASK_STOPPED);
	assert_string_equal(f->ended.reason, "stopped");
	assert_int_equal(f->ended.exchanges, 2);
	assert_int_equal(read_back(f->path, paths, sizeof(paths),
				   "exchanges", &v), 2);
	assert_string_equal(paths, "/api/a /api/c");
	assert_int_equal(v, 2);
}

static void test_client_selector_filters(void **state)
{
	struct fixture *f = *state;
	char err[128];

	assert_int_equal(dt_selector_parse(&f->spec.sels[1], "comm:wget",
					   false, err, sizeof(err)), 0);
	f->spec.nsels = 2;
	start(f);
	assert_false(offer(f->task, 1, 80, "/"));
}

static void test_count_ends_done(void **state)
{
	struct fixture *f = *state;
	char paths[256];
	long long v;

	f->spec.max_count = 3;
	start(f);
	for (int i = 0; i < 3; i++)
		assert_true(offer(f->task, i, 80, "/x"));
	assert_false(dt_task_running(f->task));
	assert_false(offer(f->task, 9, 80, "/x"));
	finish(f);
	assert_int_equal(f->ended.state, DT_TASK_DONE);
	assert_string_equal(f->ended.reason, "count");
	assert_int_equal(read_back(f->path, paths, sizeof(paths),
				   "conns_open", &v), 3);
	assert_int_equal(v, 0);
}

static void test_duration_is_due(void **state)
{
	struct fixture *f = *state;
	struct timespec ts;
	uint64_t now;

	f->spec.duration_ns = 1000000;
	start(f);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	assert_true(dt_task_tick(f->task, now + 2000000, 123));
	/* the engine decides when to end it */
	assert_true(dt_task_running(f->task));
	dt_task_end(f->task, DT_TASK_DONE, "duration");
	finish(f);
	assert_int_equal(f->ended.state, DT_TASK_DONE);
	assert_string_equal(f->ended.reason, "duration");
}

static void test_max_bytes_ends_done(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	int n = 0;

	f->spec.max_bytes = 8192;
	start(f);
	while (dt_task_running(f->task) && n < 100000)
		offer(f->task, n++, 80, "/some/long/path/for/bytes");
	finish(f);
	assert_int_equal(f->ended.state, DT_TASK_DONE);
	assert_string_equal(f->ended.reason, "max-bytes");
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(st.st_size >= 8192);
	assert_int_equal(f->ended.bytes_written, st.st_size);
}

/* Whole connections are kept or left out, about a share P of them. */
static void test_sample_by_connection(void **state)
{
	struct fixture *f = *state;
	int kept = 0;

	f->spec.sample = 0.25;
	start(f);
	for (uint64_t conn = 1; conn <= 2000; conn++) {
		bool first = offer(f->task, conn, 80, "/a");

		assert_int_equal(offer(f->task, conn, 80, "/b"), first);
		kept += first;
	}
	assert_in_range(kept, 400, 600);
	finish(f);
	assert_int_equal(f->ended.drops.sampled_out, 2 * (2000 - kept));
	assert_int_equal(f->ended.exchanges, 2 * kept);
}

static bool file_contains(const char *path, const char *needle)
{
	struct dt_session_reader *r;
	struct dt_exchange x;
	uint8_t *data;
	size_t len = slurp(path, &data);
	char err[128];
	bool found = false;

	assert_int_equal(dt_session_reader_open(&r, data, len, err,
						sizeof(err)), 0);
	dt_exchange_init(&x);
	while (dt_session_reader_next(r, &x) == 1)
		found |= memmem(x.request, x.request_len, needle,
				strlen(needle)) != NULL;
	dt_exchange_release(&x);
	dt_session_reader_free(r);
	free(data);
	return found;
}

/* The default rules mask the Authorization header in the file; an
 * exchange other tasks still look at is left as it was. */
static void test_redacts_a_copy(void **state)
{
	struct fixture *f = *state;
	struct dt_exchange x;

	start(f);
	make_exchange(&x, 1, 40000, 80, "/");
	assert_true(dt_task_wants(f->task, &x));
	dt_task_write(f->task, &x, false);
	assert_non_null(memmem(x.request, x.request_len, "s3cr3t-token", 12));
	dt_exchange_release(&x);
	finish(f);
	assert_false(file_contains(f->path, "s3cr3t-token"));
}

static void test_no_default_redaction(void **state)
{
	struct fixture *f = *state;

	f->spec.no_default_redaction = true;
	start(f);
	assert_true(offer(f->task, 1, 80, "/"));
	finish(f);
	assert_true(file_contains(f->path, "s3cr3t-token"));
}

static void test_bad_rule_refused(void **state)
{
	struct fixture *f = *state;
	char err[256];

	f->spec.redact[0] = "nonsense:x";
	f->spec.nredact = 1;
	assert_int_equal(dt_task_new(&f->task, &f->spec, 1, &zero, err,
				     sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nonsense"));
	/* the task owned the fd: it is closed */
	assert_int_equal(fcntl(f->spec.fd, F_GETFD), -1);
}

static void test_disk_full_fails(void **state)
{
	struct fixture *f = *state;
	int full = open("/dev/full", O_WRONLY);

	if (full < 0)
		skip();
	start(f);
	/* the disk fills up under the task */
	assert_int_equal(dup2(full, f->spec.fd), f->spec.fd);
	close(full);
	assert_true(offer(f->task, 1, 80, "/"));
	assert_false(dt_task_tick(f->task, UINT64_MAX / 2, 0));
	assert_false(dt_task_running(f->task));
	finish(f);
	assert_int_equal(f->ended.state, DT_TASK_FAILED);
	assert_string_equal(f->ended.reason, "disk full");
	assert_int_equal(f->ended.exchanges, 0);
}

/* A write cut short leaves a file with whole frames only. */
static void test_write_error_cuts_to_whole_frames(void **state)
{
	struct fixture *f = *state;
	struct rlimit old, lim = { 6000, 6000 };
	char paths[16384];
	long long v;
	struct stat st;
	int n = 0, got;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	f->spec.max_bytes = 16384; /* small frames */
	start(f);
	while (dt_task_running(f->task) && n < 100000) {
		char path[64];

		snprintf(path, sizeof(path), "/p%d/%08x", n, n * 2654435761u);
		offer(f->task, n++, 80, path);
	}
	finish(f);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(f->ended.state, DT_TASK_FAILED);
	assert_string_equal(f->ended.reason, "write error: File too large");
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(f->ended.bytes_written, st.st_size);
	got = read_back(f->path, paths, sizeof(paths), "exchanges", &v);
	assert_true(got > 0);
	assert_true((uint64_t)got >= f->ended.exchanges);
	assert_int_equal(v, -1); /* no trailer */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_selectors_and_match,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_selector_filters,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_ends_done, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duration_is_due, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_max_bytes_ends_done,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_by_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_redacts_a_copy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_default_redaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rule_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_write_error_cuts_to_whole_frames, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
