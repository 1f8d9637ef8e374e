// SPDX-License-Identifier: MIT
/*
 * requests.c: the control protocol's requests (deetune-daemon(8)):
 * start, list, show, stop, wait and status. Every field of a request is
 * checked here; the answers are the protocol's TASK objects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

json_t *dt_error_response(const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{sb ss ss}", "ok", 0, "code", code, "error", msg);
}

static json_t *task_response(const struct dt_stored_task *t)
{
	return json_pack("{sb so}", "ok", 1, "task", dt_stored_task_json(t));
}

/* While a task runs its counters live in the engine. */
static void refresh(struct dt_daemon *d, struct dt_stored_task *t)
{
	if (t->info.state == DT_TASK_RUNNING)
		dt_recorder_task_info(d->rec, t->id, &t->info);
}

/* ---- the SPEC object ---- */

static const char *const spec_keys[] = {
	"server", "client", "match", "duration_ns", "count", "max_bytes",
	"sample", "redact", "no_default_redaction", "output", "command",
};

static json_t *check_keys(const json_t *spec)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)spec, key, v) {
		size_t i = 0;

		while (i < sizeof(spec_keys) / sizeof(spec_keys[0]) &&
		       strcmp(key, spec_keys[i]))
			i++;
		if (i == sizeof(spec_keys) / sizeof(spec_keys[0]))
			return dt_error_response("invalid", "unknown spec "
						 "field \"%s\"", key);
	}
	return NULL;
}

/* An optional array of strings of at most max entries. */
static json_t *string_array(const json_t *spec, const char *key, size_t max,
			    size_t *n)
{
	json_t *a = json_object_get(spec, key), *v;
	size_t i;

	*n = 0;
	if (!a)
		return NULL;
	if (!json_is_array(a) || json_array_size(a) > max)
		return dt_error_response("invalid", "\"%s\" must be an array "
					 "of at most %zu strings", key, max);
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return dt_error_response("invalid", "\"%s\" must hold "
						 "strings", key);
	*n = json_array_size(a);
	return NULL;
}

static json_t *add_selectors(struct dt_task_spec *ts, const json_t *spec,
			     const char *key, bool server)
{
	size_t n;
	json_t *e = string_array(spec, key, DT_RECORD_MAX_SELECTORS, &n);
	char err[256];

	if (e)
		return e;
	if (ts->nsels + n > DT_RECORD_MAX_SELECTORS)
		return dt_error_response("invalid", "at most %d selectors",
					 DT_RECORD_MAX_SELECTORS);
	for (size_t i = 0; i < n; i++) {
		const char *text = json_string_value(
			json_array_get(json_object_get(spec, key), i));

		if (dt_selector_parse(&ts->sels[ts->nsels], text, server, err,
				      sizeof(err)))
			return dt_error_response("invalid", "%s", err);
		ts->nsels++;
	}
	return NULL;
}

static json_t *add_matches(struct dt_task_spec *ts, const json_t *spec)
{
	json_t *e = string_array(spec, "match", DT_RECORD_MAX_MATCHES,
				 &ts->nmatches);
	char err[256];

	for (size_t i = 0; !e && i < ts->nmatches; i++) {
		const char *text = json_string_value(
			json_array_get(json_object_get(spec, "match"), i));

		if (dt_match_parse(&ts->matches[i], text, err, sizeof(err)))
			e = dt_error_response("invalid", "%s", err);
	}
	return e;
}

/* The strings stay borrowed from spec, which outlives the task start. */
static json_t *add_redact(struct dt_task_spec *ts, const json_t *spec)
{
	json_t *e = string_array(spec, "redact", DT_TASK_MAX_REDACT,
				 &ts->nredact);

	for (size_t i = 0; !e && i < ts->nredact; i++)
		ts->redact[i] = json_string_value(
			json_array_get(json_object_get(spec, "redact"), i));
	return e;
}

static json_t *get_count(const json_t *spec, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(spec, key);

	*out = 0;
	if (!v)
		return NULL;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return dt_error_response("invalid", "\"%s\" must be a "
					 "non-negative integer", key);
	*out = (uint64_t)json_integer_value(v);
	return NULL;
}

static json_t *get_scalars(struct dt_task_spec *ts, const json_t *spec)
{
	json_t *v, *e;

	if ((e = get_count(spec, "duration_ns", &ts->duration_ns)) ||
	    (e = get_count(spec, "count", &ts->max_count)) ||
	    (e = get_count(spec, "max_bytes", &ts->max_bytes)))
		return e;
	ts->sample = 1;
	v = json_object_get(spec, "sample");
	if (v && (!json_is_number(v) || !(json_number_value(v) > 0 &&
					  json_number_value(v) <= 1)))
		return dt_error_response("invalid", "\"sample\" must be a "
					 "number above 0 and at most 1");
	if (v)
		ts->sample = json_number_value(v);
	v = json_object_get(spec, "no_default_redaction");
	if (v && !json_is_boolean(v))
		return dt_error_response("invalid", "\"no_default_redaction\" "
					 "must be true or false");
	ts->no_default_redaction = json_is_true(v);
	v = json_object_get(spec, "command");
	if (v && !json_is_string(v))
		return dt_error_response("invalid", "\"command\" must be a "
					 "string");
	ts->command = json_string_value(v);
	ts->output = json_string_value(json_object_get(spec, "output"));
	if (!ts->output || ts->output[0] != '/')
		return dt_error_response("invalid", "\"output\" must be an "
					 "absolute path");
	return NULL;
}

/* Fills ts from spec (borrowing its strings); NULL when valid, else the
 * error response. */
static json_t *parse_spec(struct dt_task_spec *ts, const json_t *spec)
{
	char err[256];
	json_t *e;

	memset(ts, 0, sizeof(*ts));
	if (!json_is_object(spec))
		return dt_error_response("invalid", "\"spec\" must be an "
					 "object");
	if ((e = check_keys(spec)) || (e = add_selectors(ts, spec, "server",
							 true)))
		return e;
	if (!ts->nsels)
		return dt_error_response("invalid", "at least one server "
					 "selector is required");
	if ((e = add_selectors(ts, spec, "client", false)) ||
	    (e = add_matches(ts, spec)) || (e = add_redact(ts, spec)))
		return e;
	if ((e = get_scalars(ts, spec)))
		return e;
	/* e.g. a bad redaction rule, refused before the file is created */
	if (dt_task_spec_check(ts, err, sizeof(err)))
		return dt_error_response("invalid", "%s", err);
	return NULL;
}

/* The spec as stored and shown: every field present. */
static json_t *normalized_spec(const json_t *spec, const struct dt_task_spec *ts)
{
	json_t *n = json_deep_copy(spec);
	static const char *const arrays[] = { "client", "match", "redact" };

	if (!n)
		return NULL;
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		if (!json_object_get(n, arrays[i]))
			json_object_set_new(n, arrays[i], json_array());
	json_object_set_new(n, "duration_ns", json_integer(ts->duration_ns));
	json_object_set_new(n, "count", json_integer(ts->max_count));
	json_object_set_new(n, "max_bytes", json_integer(ts->max_bytes));
	json_object_set_new(n, "sample", json_real(ts->sample));
	json_object_set_new(n, "no_default_redaction",
			    json_boolean(ts->no_default_redaction));
	if (!json_object_get(n, "command"))
		json_object_set_new(n, "command", json_string(""));
	return n;
}

/* ---- requests ---- */

/* Two tasks writing one file would leave garbage in it. */
static json_t *check_output_free(struct dt_daemon *d, const char *output)
{
	struct dt_stored_task *t;

	for (t = dt_taskstore_tasks(d->store); t; t = t->next)
		if (t->info.state == DT_TASK_RUNNING &&
		    !strcmp(t->output, output))
			return dt_error_response("invalid", "%s is the output "
						 "of running task %" PRIu64,
						 output, t->id);
	return NULL;
}

static void on_task_end(void *ctx, const struct dt_task_info *info);

static json_t *op_start(struct dt_daemon *d, const struct dt_peer *peer,
			json_t *req)
{
	json_t *spec = json_object_get(req, "spec"), *e;
	uint64_t id = dt_taskstore_next_id(d->store);
	struct dt_stored_task *t;
	struct dt_task_spec ts;
	struct dt_task_info info;
	char err[512];
	int ret;

	e = parse_spec(&ts, spec);
	if (!e)
		e = check_output_free(d, ts.output);
	if (e)
		return e;
	ts.fd = dt_output_open(ts.output, peer);
	if (ts.fd < 0)
		return dt_error_response("invalid", "cannot create %s: %s",
					 ts.output, strerror(-ts.fd));
	ts.on_end = on_task_end;
	ts.ctx = d;
	ret = dt_recorder_task_start(d->rec, &ts, id, err, sizeof(err));
	if (ret)
		return dt_error_response(ret == -EINVAL ? "invalid" :
					 "internal", "%s", err);
	dt_recorder_task_info(d->rec, id, &info);
	t = dt_taskstore_add(d->store, normalized_spec(spec, &ts), ts.output,
			     peer->uid, &info);
	if (!t) {
		dt_recorder_task_stop(d->rec, id);
		return dt_error_response("internal", "out of memory");
	}
	return task_response(t);
}

/* The end of a task (called by the engine): its final state is saved
 * and whoever waits for it is told. */
static void on_task_end(void *ctx, const struct dt_task_info *info)
{
	struct dt_daemon *d = ctx;
	struct dt_stored_task *t = dt_taskstore_find(d->store, info->id);
	json_t *o;

	/* a task whose start is being answered is not stored yet */
	if (!t)
		return;
	t->info = *info;
	if (dt_taskstore_save(d->store, t))
		fprintf(stderr, "deetune daemon: cannot save task %" PRIu64
			"\n", t->id);
	o = dt_stored_task_json(t);
	if (o && d->control)
		dt_control_task_ended(d->control, t->id, o);
	json_decref(o);
}

static json_t *find_task(struct dt_daemon *d, json_t *req,
			 struct dt_stored_task **out)
{
	json_t *id = json_object_get(req, "id");

	if (!json_is_integer(id) || json_integer_value(id) <= 0)
		return dt_error_response("invalid", "\"id\" must be a task "
					 "id");
	*out = dt_taskstore_find(d->store, json_integer_value(id));
	if (!*out)
		return dt_error_response("not_found", "no task %" JSON_INTEGER_FORMAT,
					 json_integer_value(id));
	refresh(d, *out);
	return NULL;
}

static json_t *op_show(struct dt_daemon *d, json_t *req)
{
	struct dt_stored_task *t;
	json_t *e = find_task(d, req, &t);

	return e ? e : task_response(t);
}

static json_t *op_stop(struct dt_daemon *d, json_t *req)
{
	struct dt_stored_task *t;
	json_t *e = find_task(d, req, &t);

	if (e)
		return e;
	/* finalizes the file and calls on_task_end before returning */
	if (t->info.state == DT_TASK_RUNNING)
		dt_recorder_task_stop(d->rec, t->id);
	return task_response(t);
}

static json_t *op_wait(struct dt_daemon *d, json_t *req, uint64_t *wait_id)
{
	struct dt_stored_task *t;
	json_t *e = find_task(d, req, &t);

	if (e)
		return e;
	if (t->info.state != DT_TASK_RUNNING)
		return task_response(t);
	*wait_id = t->id;
	return NULL;
}

json_t *dt_tasks_json(struct dt_daemon *d)
{
	json_t *tasks = json_array();
	struct dt_stored_task *t;

	for (int running = 1; tasks && running >= 0; running--) {
		for (t = dt_taskstore_tasks(d->store); t; t = t->next) {
			refresh(d, t);
			if ((t->info.state == DT_TASK_RUNNING) == running &&
			    json_array_append_new(tasks,
						  dt_stored_task_json(t))) {
				json_decref(tasks);
				return NULL;
			}
		}
	}
	return tasks;
}

static json_t *op_list(struct dt_daemon *d)
{
	return json_pack("{sb so}", "ok", 1, "tasks", dt_tasks_json(d));
}

static uint64_t rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static json_t *op_status(struct dt_daemon *d)
{
	struct dt_recorder_stats st;
	size_t running;
	json_t *drops;

	dt_recorder_get_stats(d->rec, &st);
	running = dt_recorder_task_foreach(d->rec, NULL, NULL);
	drops = json_pack("{sI sI sI sI sI sI}",
			  "ringbuf_full", (json_int_t)st.drops[0],
			  "truncated", (json_int_t)st.drops[1],
			  "read_failed", (json_int_t)st.drops[2],
			  "state_full", (json_int_t)st.drops[3],
			  "gaps", (json_int_t)st.gaps,
			  "evicted", (json_int_t)st.evicted_streams);
	return json_pack("{sb s{sI ss sI sI sI sI sI so}}", "ok", 1, "daemon",
			 "pid", (json_int_t)getpid(),
			 "version", DEETUNE_VERSION,
			 "uptime_s", (json_int_t)((mono_ns() -
						   d->started_mono_ns) /
						  1000000000ull),
			 "rss_bytes", (json_int_t)rss_bytes(),
			 "max_memory", (json_int_t)d->max_memory,
			 "buffered_bytes", (json_int_t)st.buffered_bytes,
			 "tasks_running", (json_int_t)running,
			 "drops", drops);
}

json_t *dt_request_handle(struct dt_daemon *d, const struct dt_peer *peer,
			  json_t *req, uint64_t *wait_id)
{
	const char *op = json_string_value(json_object_get(req, "op"));

	*wait_id = 0;
	if (!json_is_object(req) || !op)
		return dt_error_response("invalid", "a request is a JSON "
					 "object with an \"op\"");
	if (!strcmp(op, "start"))
		return op_start(d, peer, req);
	if (!strcmp(op, "list"))
		return op_list(d);
	if (!strcmp(op, "show"))
		return op_show(d, req);
	if (!strcmp(op, "stop"))
		return op_stop(d, req);
	if (!strcmp(op, "wait"))
		return op_wait(d, req, wait_id);
	if (!strcmp(op, "status"))
		return op_status(d);
	return dt_error_response("invalid", "unknown op \"%s\"", op);
}
