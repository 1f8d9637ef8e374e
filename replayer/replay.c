// SPDX-License-Identifier: MIT
/*
 * dt_replay_run(): loads the recorded session, checks there is a target
 * for each protocol in it, opens the output, runs one engine thread per
 * protocol, and meanwhile draws the progress line, flushes the output
 * about once a second and turns SIGINT/SIGTERM into an orderly stop
 * (nothing new starts; what is in flight completes or times out; the
 * output gets its trailer).
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <mariadb/mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replayer/replayer_int.h"

/* how soon the end of the engines is noticed */
#define TICK_NS 20000000ull
#define FLUSH_NS 1000000000ull
#define MAX_META 7

static const struct rp_engine_ops *const engines[3] = {
	&rp_http_engine, &rp_redis_engine, &rp_mysql_engine,
};

void dt_replay_opts_init(struct dt_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 64;
	o->speed = 1;
	o->timeout_ns = 10000000000ull;
}

/* ---- target state ---------------------------------------------------------- */

void rp_target_failed(struct rp_batch *b, const char *why)
{
	if (!atomic_load(&b->state.connected))
		atomic_store(&b->state.down, true);
	/* over the progress line, when there is one */
	if (!atomic_flag_test_and_set(&b->state.reported))
		fprintf(stderr, "%sdeetune replay: %s: %s\n",
			b->progress ? "\r\033[K" : "", b->target_text, why);
}

void rp_target_connected(struct rp_batch *b)
{
	atomic_store(&b->state.connected, true);
}

bool rp_target_down(struct rp_batch *b)
{
	return atomic_load(&b->state.down);
}

/* ---- setup ---------------------------------------------------------------- */

/* Gives each batch its target; a protocol with exchanges and no target
 * is an error. Returns 0 or -EINVAL after saying so. */
static int assign_targets(struct rp_session *s, const struct dt_replay_opts *o)
{
	int ret = 0;

	for (size_t i = 0; i < o->ntargets; i++) {
		struct rp_batch *b = rp_session_batch(s, o->targets[i].protocol);

		b->target = &o->targets[i];
		dt_target_format(b->target, b->target_text,
				 sizeof(b->target_text));
	}
	for (size_t i = 0; i < 3; i++) {
		struct rp_batch *b = &s->batch[i];

		b->progress = o->progress;
		atomic_init(&b->state.connected, false);
		atomic_init(&b->state.down, false);
		atomic_flag_clear(&b->state.reported);
		if (!b->n || b->target)
			continue;
		fprintf(stderr, "deetune replay: %s holds %zu %s exchanges but "
			"no %s:// target was given (add --target, or leave "
			"them out with --match)\n", o->session_label, b->n,
			dt_protocol_name(b->protocol),
			b->protocol == DT_PROTO_HTTP1 ? "http" :
			dt_protocol_name(b->protocol));
		ret = -EINVAL;
	}
	if (s->unknown)
		fprintf(stderr, "deetune replay: warning: %" PRIu64 " exchanges "
			"of an unknown protocol are left out\n", s->unknown);
	return ret;
}

static int open_output(struct rp_ctx *ctx)
{
	const struct dt_replay_opts *o = ctx->opts;
	char host[256] = "", start[32], targets[1024] = "";
	struct dt_attr meta[MAX_META];
	size_t used = 0;

	gethostname(host, sizeof(host) - 1);
	snprintf(start, sizeof(start), "%" PRIu64, rp_realtime());
	for (size_t i = 0; i < 3; i++) {
		const struct rp_batch *b = &ctx->session.batch[i];

		if (b->target && used < sizeof(targets))
			used += (size_t)snprintf(targets + used,
						 sizeof(targets) - used, "%s%s",
						 used ? "\n" : "",
						 b->target_text);
	}
	meta[0] = (struct dt_attr){ "tool_version", DEETUNE_VERSION };
	meta[1] = (struct dt_attr){ "host", host };
	meta[2] = (struct dt_attr){ "start_ns", start };
	meta[3] = (struct dt_attr){ "command",
				    (char *)(o->command ? o->command : "") };
	meta[4] = (struct dt_attr){ "source", (char *)o->session_label };
	meta[5] = (struct dt_attr){ "targets", targets };
	return rp_output_open(&ctx->out, o->output, meta, 6);
}

/* ---- engine threads ------------------------------------------------------- */

struct engine_thread {
	const struct rp_engine_ops *ops;
	struct rp_batch *batch;
	void *state;
	pthread_t thread;
	bool prepared, started;
	int ret;
	atomic_int *running;
};

static void *engine_main(void *arg)
{
	struct engine_thread *t = arg;

	t->ret = t->ops->run(t->state);
	atomic_fetch_sub(t->running, 1);
	return NULL;
}

static int prepare_engines(struct rp_ctx *ctx, struct engine_thread *t,
			   atomic_int *running)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < 3; i++) {
		t[i].ops = engines[i];
		t[i].batch = &ctx->session.batch[i];
		t[i].running = running;
		if (!t[i].batch->n)
			continue;
		t[i].prepared = true;
		ret = t[i].ops->prepare(ctx, t[i].batch, &t[i].state);
	}
	if (ret)
		fprintf(stderr, "deetune replay: cannot set up the replay: %s\n",
			strerror(-ret));
	return ret;
}

static int start_engines(struct engine_thread *t)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < 3; i++) {
		if (!t[i].prepared)
			continue;
		atomic_fetch_add(t[i].running, 1);
		ret = -pthread_create(&t[i].thread, NULL, engine_main, &t[i]);
		t[i].started = !ret;
		if (ret)
			atomic_fetch_sub(t[i].running, 1);
	}
	return ret;
}

/* Joins the started engines; returns the first engine error. */
static int join_engines(struct engine_thread *t)
{
	int ret = 0;

	for (size_t i = 0; i < 3; i++) {
		if (!t[i].started)
			continue;
		pthread_join(t[i].thread, NULL);
		if (t[i].ret && !ret)
			ret = t[i].ret;
	}
	return ret;
}

static void release_engines(struct engine_thread *t)
{
	for (size_t i = 0; i < 3; i++)
		if (t[i].prepared)
			t[i].ops->release(t[i].state);
}

/* ---- the run ---------------------------------------------------------- */

static uint64_t last_due(const struct rp_session *s)
{
	uint64_t last = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].due > last)
			last = s->items[i].due;
	return last;
}

/* Until the engines end: signals, progress, periodic flushes. Returns
 * true when a signal stopped the replay. */
static bool supervise(struct rp_ctx *ctx, atomic_int *running,
		      const sigset_t *signals)
{
	const struct timespec tick = { 0, (long)TICK_NS };
	uint64_t start = rp_now(), last_flush = start, end_due, done, failed;
	struct rp_progress p;
	bool interrupted = false;

	end_due = last_due(&ctx->session);
	rp_progress_init(&p, ctx->opts->progress, start);
	while (atomic_load(running) > 0) {
		if (sigtimedwait(signals, NULL, &tick) > 0 && !interrupted) {
			interrupted = true;
			rp_progress_end(&p);
			fprintf(stderr, "deetune replay: interrupted; waiting "
				"for the requests in flight\n");
			rp_gate_stop(&ctx->gate);
		}
		done = rp_output_done(&ctx->out, &failed);
		if (!interrupted)
			rp_progress_update(&p, done, failed, ctx->session.n,
					   end_due, rp_now());
		if (rp_now() - last_flush >= FLUSH_NS) {
			rp_output_flush(&ctx->out);
			last_flush = rp_now();
		}
	}
	rp_progress_end(&p);
	return interrupted;
}

static void stat_put(struct dt_attr *a, char (*v)[24], size_t *n,
		     const char *key, uint64_t value)
{
	snprintf(v[*n], sizeof(v[*n]), "%" PRIu64, value);
	a[*n] = (struct dt_attr){ (char *)key, v[*n] };
	(*n)++;
}

static int finish_output(struct rp_ctx *ctx, struct dt_replay_summary *s)
{
	struct dt_attr stats[5];
	char vals[5][24];
	size_t n = 0;
	int ret;

	s->replayed = ctx->out.count[RP_ANSWERED];
	s->failed = ctx->out.count[RP_FAILED];
	s->skipped = ctx->out.count[RP_SKIPPED];
	s->written = ctx->out.next_id;
	stat_put(stats, vals, &n, "exchanges", s->written);
	stat_put(stats, vals, &n, "replayed", s->replayed);
	stat_put(stats, vals, &n, "failed", s->failed);
	stat_put(stats, vals, &n, "skipped", s->skipped);
	stat_put(stats, vals, &n, "elapsed_ns", s->elapsed_ns);
	ret = rp_output_finish(&ctx->out, stats, n);
	if (ret)
		fprintf(stderr, "deetune replay: cannot write %s: %s\n",
			ctx->opts->output, strerror(-ret));
	return ret;
}

static bool any_down(struct rp_session *s)
{
	for (size_t i = 0; i < 3; i++)
		if (s->batch[i].n && rp_target_down(&s->batch[i]))
			return true;
	return false;
}

/* Runs the engines with SIGINT/SIGTERM blocked in every thread: the
 * supervisor takes them with sigtimedwait(). */
static int run_engines(struct rp_ctx *ctx, struct dt_replay_summary *s)
{
	const struct timespec no_wait = { 0, 0 };
	struct engine_thread t[3] = { 0 };
	atomic_int running;
	sigset_t signals, old;
	uint64_t start;
	int ret;

	atomic_init(&running, 0);
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	ret = prepare_engines(ctx, t, &running);
	if (ret)
		goto out;
	rp_pacer_init(&ctx->pacer, ctx->session.rec_t0, rp_now(),
		      ctx->opts->speed);
	rp_session_schedule(&ctx->session, &ctx->pacer);
	pthread_sigmask(SIG_BLOCK, &signals, &old);
	start = rp_now();
	ret = start_engines(t);
	if (ret) {
		fprintf(stderr, "deetune replay: cannot start a thread: %s\n",
			strerror(-ret));
		rp_gate_stop(&ctx->gate);
	}
	s->interrupted = supervise(ctx, &running, &signals);
	if (!ret)
		ret = join_engines(t);
	else
		join_engines(t);
	s->elapsed_ns = rp_now() - start;
	/* a signal that came at the very end must not kill us before the
	 * output is finished */
	while (sigtimedwait(&signals, NULL, &no_wait) > 0)
		s->interrupted = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		fprintf(stderr, "deetune replay: replay failed: %s\n",
			strerror(-ret));
out:
	release_engines(t);
	return ret;
}

static int exit_code(struct rp_ctx *ctx, struct dt_replay_summary *s,
		     int run_ret, int out_ret)
{
	s->unreachable = any_down(&ctx->session);
	if (run_ret || out_ret || s->unreachable || s->interrupted)
		return 2;
	return s->failed ? 1 : 0;
}

int dt_replay_run(const struct dt_replay_opts *o, struct dt_replay_summary *s)
{
	struct rp_ctx *ctx = calloc(1, sizeof(*ctx));
	int code = 2, ret, out_ret;

	memset(s, 0, sizeof(*s));
	if (!ctx) {
		fprintf(stderr, "deetune replay: out of memory\n");
		return 2;
	}
	ctx->opts = o;
	if (rp_session_load(&ctx->session, o))
		goto out_free;
	s->selected = ctx->session.n;
	if (assign_targets(&ctx->session, o) ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out_session;
	if (mysql_library_init(0, NULL, NULL))
		goto out_curl;
	if (rp_gate_init(&ctx->gate, o->concurrency, o->rate))
		goto out_mysql;
	if (open_output(ctx))
		goto out_gate;
	ret = run_engines(ctx, s);
	out_ret = finish_output(ctx, s);
	rp_output_close(&ctx->out);
	code = exit_code(ctx, s, ret, out_ret);
out_gate:
	rp_gate_destroy(&ctx->gate);
out_mysql:
	mysql_library_end();
out_curl:
	curl_global_cleanup();
out_session:
	rp_session_release(&ctx->session);
out_free:
	free(ctx);
	return code;
}
