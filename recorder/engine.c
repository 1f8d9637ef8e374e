// SPDX-License-Identifier: MIT
/*
 * engine.c: the recorder engine. One capture and one assembler serve every
 * task and the observer: the probes select the union of what they need
 * (nothing at all when no task runs and nothing is observed), each
 * assembled exchange goes to the observer, then to every task that keeps
 * it.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recorder/recorder_int.h"
#include "recorder/task.h"
#include "recorder/tls.h"

#define DEFAULT_RINGBUF_BYTES (16u << 20)
#define MIN_RINGBUF_BYTES (64u << 10)
#define MMAP_THRESHOLD (128 << 10)
/* what the kernel already captured belongs to the recording, but a busy
 * host must not keep the end of a task waiting forever */
#define MAX_DRAIN_ROUNDS 64

struct dt_recorder {
	struct dt_capture *cap;
	struct dt_tls *tls;            /* NULL: no TLS plaintext capture */
	struct dt_assembler *asmb;
	struct dt_observer observer;   /* zero: none */
	struct dt_selector *observe;
	size_t nobserve;
	bool tcp_events;
	/* tasks in start order; those ended are reaped at once */
	struct dt_task **tasks;
	struct dt_task **keepers;      /* scratch: tasks keeping an exchange */
	size_t ntasks, cap_tasks;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int on_exchange(void *ctx, struct dt_exchange *x)
{
	struct dt_recorder *r = ctx;
	size_t n = 0;

	if (r->observer.on_exchange)
		r->observer.on_exchange(r->observer.ctx, x);
	for (size_t i = 0; i < r->ntasks; i++)
		if (dt_task_wants(r->tasks[i], x))
			r->keepers[n++] = r->tasks[i];
	/* the last keeper may redact the assembler's exchange itself */
	for (size_t i = 0; i < n; i++)
		dt_task_write(r->keepers[i], x, i == n - 1);
	return 0;
}

/* The assembler's intake; TLS plaintext comes here directly. */
static int feed_assembler(void *ctx, const struct dt_event *ev,
			  const uint8_t *data)
{
	struct dt_recorder *r = ctx;
	int ret = dt_assembler_event(r->asmb, ev, data);

	/* a positive value stops the ring buffer drain */
	return ret < 0 ? ret : ret ? -ECANCELED : 0;
}

static int on_event(void *ctx, const struct dt_event *ev, const uint8_t *data)
{
	struct dt_recorder *r = ctx;
	struct dt_tcp_event te;
	int ret;

	if (ev->type == DT_EV_TCP) {
		if (r->observer.on_tcp_event &&
		    !dt_capture_tcp_event(ev, data, &te))
			r->observer.on_tcp_event(r->observer.ctx, &te);
		return 0;
	}
	/* the ciphertext of TLS connections stays out */
	ret = r->tls ? dt_tls_note_event(r->tls, ev, data) : 0;
	if (ret)
		return ret < 0 ? ret : 0;
	return feed_assembler(ctx, ev, data);
}

/* Plaintext the TLS probes lost counts as dropped events; their event
 * counts are not added: they include unselected processes. */
static void add_tls_drops(struct dt_tls *tls, struct dt_task_counters *tc)
{
	struct dt_tls_stats ts;

	dt_tls_get_stats(tls, &ts);
	tc->drops[DT_DROP_RINGBUF_FULL] += ts.probe[DT_TLS_DROP_RINGBUF_FULL];
	tc->drops[DT_DROP_TRUNCATED] += ts.probe[DT_TLS_DROP_TRUNCATED];
	tc->drops[DT_DROP_READ_FAILED] += ts.probe[DT_TLS_DROP_READ_FAILED];
}

static void counters(struct dt_recorder *r, struct dt_task_counters *tc,
		     struct dt_assembler_stats *as)
{
	uint64_t bpf[DT_STAT_MAX] = { 0 };

	dt_capture_stats(r->cap, bpf);
	dt_assembler_get_stats(r->asmb, as);
	memset(tc, 0, sizeof(*tc));
	for (int i = 0; i < DT_DROP_MAX; i++)
		tc->drops[i] = bpf[i];
	tc->events = bpf[DT_STAT_EVENTS];
	tc->bytes = bpf[DT_STAT_BYTES];
	if (r->tls)
		add_tls_drops(r->tls, tc);
	tc->gaps = as->gaps;
	tc->unpaired = as->unpaired;
	tc->malformed = as->malformed;
	tc->evicted = as->evicted;
}

/* The probes' selection: the observed services and every running task's
 * selectors; none at all idles the probes. */
static int push_selectors(struct dt_recorder *r)
{
	size_t n = r->nobserve, used = 0;
	struct dt_selector *all;
	int ret;

	for (size_t i = 0; i < r->ntasks; i++)
		if (dt_task_running(r->tasks[i]))
			n += dt_task_spec(r->tasks[i])->nsels;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	if (r->nobserve)
		memcpy(all, r->observe, r->nobserve * sizeof(*all));
	used = r->nobserve;
	for (size_t i = 0; i < r->ntasks; i++) {
		const struct dt_task_spec *s = dt_task_spec(r->tasks[i]);

		if (!dt_task_running(r->tasks[i]))
			continue;
		memcpy(all + used, s->sels, s->nsels * sizeof(*all));
		used += s->nsels;
	}
	ret = dt_capture_set_selectors(r->cap, all, used);
	if (!ret && r->tls)
		ret = dt_tls_set_selectors(r->tls, all, used);
	free(all);
	/* idle probes forget their sockets: no close will come for the
	 * connections held, end them now */
	if (!ret && !used && !r->tcp_events)
		dt_assembler_finish(r->asmb);
	return ret;
}

/* One round of both rings: the main one first, since plaintext waits
 * for its socket's events. Returns the events read or a negative errno. */
static int poll_rings(struct dt_recorder *r, int timeout_ms)
{
	int polled = dt_capture_poll(r->cap, timeout_ms), tls;

	if (polled < 0 && polled != -EINTR && polled != -ECANCELED)
		return polled;
	tls = r->tls ? dt_tls_poll(r->tls) : 0;
	if (tls < 0 && tls != -ECANCELED)
		return tls;
	if (polled < 0)
		return polled;
	return polled + (tls > 0 ? tls : 0);
}

static void drain(struct dt_recorder *r)
{
	for (int i = 0; i < MAX_DRAIN_ROUNDS; i++)
		if (poll_rings(r, 0) <= 0)
			break;
}

static size_t running_tasks(const struct dt_recorder *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ntasks; i++)
		n += dt_task_running(r->tasks[i]);
	return n;
}

/* Finalizes every task that ended, tells its owner, forgets it and
 * narrows the probes' selection. */
static void reap_ended(struct dt_recorder *r, uint64_t conns_open)
{
	struct dt_assembler_stats as;
	struct dt_task_counters tc;
	struct dt_task_info info;
	size_t kept = 0, before = r->ntasks;

	counters(r, &tc, &as);
	for (size_t i = 0; i < r->ntasks; i++) {
		struct dt_task *t = r->tasks[i];
		const struct dt_task_spec *s = dt_task_spec(t);

		if (dt_task_running(t)) {
			r->tasks[kept++] = t;
			continue;
		}
		dt_task_finish(t, &tc, conns_open ? conns_open : as.conns);
		dt_task_info(t, &tc, &info);
		if (s->on_end)
			s->on_end(s->ctx, &info);
		dt_task_free(t);
	}
	r->ntasks = kept;
	/* a failure leaves a wider selection than needed: tasks filter */
	if (kept != before)
		push_selectors(r);
}

/*
 * Ends t for reason. When it is the last consumer of the assembler, the
 * open connections are ended first as at the end of a recording, so that
 * the task receives the requests still waiting for their responses.
 */
static void end_task(struct dt_recorder *r, struct dt_task *t,
		     enum dt_task_state st, const char *reason)
{
	struct dt_assembler_stats as = { 0 };
	bool last = running_tasks(r) == 1 && !r->nobserve &&
		    !r->observer.on_exchange && !r->observer.on_tcp_event;

	drain(r);
	if (last && dt_task_running(t)) {
		dt_assembler_get_stats(r->asmb, &as);
		dt_assembler_finish(r->asmb);
	}
	dt_task_end(t, st, reason);
	reap_ended(r, as.conns);
}

static int copy_observe(struct dt_recorder *r, const struct dt_recorder_opts *o)
{
	if (!o->nobserve)
		return 0;
	r->observe = calloc(o->nobserve, sizeof(*r->observe));
	if (!r->observe)
		return -ENOMEM;
	memcpy(r->observe, o->observe, o->nobserve * sizeof(*r->observe));
	r->nobserve = o->nobserve;
	return 0;
}

/*
 * What the process holds besides the assembler's buffers, against
 * --max-memory: a fixed base (binary, libraries, BPF maps, writer and zstd
 * buffers) and the two ring buffers (probes and TLS), each counted twice
 * because the kernel maps a ring's data pages twice and RSS sees both.
 * The assembler gets half of the rest: allocator slack (buffers grow by
 * doubling) can double what its byte count says.
 */
#define BASE_MEMORY (32u << 20)
#define RING_MAPPINGS 4

/* A small memory bound gets a smaller ring buffer by default (rings take
 * at most half of what the base leaves); an explicit size must fit. */
static int split_memory(const struct dt_recorder_opts *o, size_t *ring,
			size_t *limit, char *err, size_t errlen)
{
	size_t max = o->max_memory ? o->max_memory :
				     DT_RECORDER_DEFAULT_MAX_MEMORY;
	size_t spare = max > BASE_MEMORY ? max - BASE_MEMORY : 0;

	*ring = o->ringbuf_bytes;
	if (!*ring)
		for (*ring = DEFAULT_RINGBUF_BYTES; *ring > MIN_RINGBUF_BYTES &&
		     (size_t)RING_MAPPINGS * *ring > spare / 2; *ring /= 2)
			;
	if (spare <= (size_t)RING_MAPPINGS * *ring) {
		snprintf(err, errlen, "max memory (%zu bytes) must exceed "
			 "%u MiB plus %u times the ring buffer's %zu bytes",
			 max, BASE_MEMORY >> 20, RING_MAPPINGS, *ring);
		return -EINVAL;
	}
	*limit = (spare - RING_MAPPINGS * *ring) / 2;
	return 0;
}

static int open_assembler(struct dt_recorder *r,
			  const struct dt_recorder_opts *o, size_t limit,
			  char *err, size_t errlen)
{
	int ret;

	ret = dt_assembler_new(&r->asmb, 0, on_exchange, r);
	if (ret) {
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	dt_assembler_set_memory_limit(r->asmb, limit);
	if (o->protocol && dt_assembler_force_protocol(r->asmb, o->protocol)) {
		snprintf(err, errlen, "unknown protocol '%s' (http, http2, "
			 "redis or mysql)", o->protocol);
		return -EINVAL;
	}
	return 0;
}

int dt_recorder_open(struct dt_recorder **out,
		     const struct dt_recorder_opts *opts, char *err,
		     size_t errlen)
{
	struct dt_recorder *r;
	size_t ring, limit;
	int ret;

	/* Stream buffers come and go in sizes up to megabytes: mapped, a
	 * freed one goes back to the kernel instead of staying in the heap
	 * where --max-memory cannot see it. */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (opts->observer)
		r->observer = *opts->observer;
	ret = copy_observe(r, opts);
	if (ret) {
		snprintf(err, errlen, "%s", strerror(-ret));
		goto fail;
	}
	ret = split_memory(opts, &ring, &limit, err, errlen);
	if (!ret)
		ret = open_assembler(r, opts, limit, err, errlen);
	if (ret)
		goto fail;
	ret = dt_capture_open(&r->cap, r->observe, r->nobserve, ring,
			      on_event, r, err, errlen);
	if (ret)
		goto fail;
	ret = dt_tls_open(&r->tls, r->observe, r->nobserve, ring,
			  feed_assembler, r, err, errlen);
	if (ret) {
		/* cleartext recording goes on without it */
		fprintf(stderr, "deetune: TLS plaintext will not be recorded: "
			"%s\n", err);
		r->tls = NULL;
	}
	r->tcp_events = opts->tcp_events;
	if (opts->tcp_events) {
		ret = dt_capture_set_tcp_events(r->cap, true);
		if (ret) {
			snprintf(err, errlen, "cannot enable TCP events: %s",
				 strerror(-ret));
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	dt_tls_close(r->tls);
	dt_capture_close(r->cap);
	dt_assembler_free(r->asmb);
	free(r->observe);
	free(r);
	return ret;
}

int dt_recorder_poll(struct dt_recorder *r, int timeout_ms)
{
	struct dt_assembler_stats as;
	int ret, polled;
	uint64_t now;

	polled = poll_rings(r, timeout_ms);
	if (polled < 0 && polled != -EINTR && polled != -ECANCELED)
		return polled;
	now = mono_ns();
	ret = dt_assembler_expire(r->asmb, now);
	if (ret < 0)
		return ret;
	dt_assembler_get_stats(r->asmb, &as);
	for (size_t i = 0; i < r->ntasks; i++) {
		struct dt_task *t = r->tasks[i];

		if (dt_task_tick(t, now, as.buffered)) {
			end_task(r, t, DT_TASK_DONE, "duration");
			/* reaping reshaped the list: start over (a second
			 * tick within the same poll changes nothing) */
			i = (size_t)-1;
		}
	}
	reap_ended(r, 0);
	return polled == -EINTR ? -EINTR : 0;
}

void dt_recorder_get_stats(struct dt_recorder *r, struct dt_recorder_stats *st)
{
	struct dt_assembler_stats as;
	struct dt_task_counters tc;

	counters(r, &tc, &as);
	memset(st, 0, sizeof(*st));
	memcpy(st->drops, tc.drops, sizeof(st->drops));
	st->events = tc.events;
	st->bytes = tc.bytes;
	st->gaps = as.gaps;
	st->incomplete = as.incomplete;
	st->unpaired = as.unpaired;
	st->malformed = as.malformed;
	st->conns = as.conns;
	st->buffered_bytes = as.buffered;
	st->evicted_streams = as.evicted;
}

static struct dt_task *running_task(struct dt_recorder *r, uint64_t id)
{
	for (size_t i = 0; i < r->ntasks; i++)
		if (dt_task_id(r->tasks[i]) == id &&
		    dt_task_running(r->tasks[i]))
			return r->tasks[i];
	return NULL;
}

static int grow_tasks(struct dt_recorder *r)
{
	size_t cap = r->cap_tasks ? r->cap_tasks * 2 : 8;
	struct dt_task **tasks, **keepers;

	if (r->ntasks < r->cap_tasks)
		return 0;
	tasks = realloc(r->tasks, cap * sizeof(*tasks));
	if (!tasks)
		return -ENOMEM;
	r->tasks = tasks;
	keepers = realloc(r->keepers, cap * sizeof(*keepers));
	if (!keepers)
		return -ENOMEM;
	r->keepers = keepers;
	r->cap_tasks = cap;
	return 0;
}

int dt_recorder_task_start(struct dt_recorder *r,
			   const struct dt_task_spec *spec, uint64_t id,
			   char *err, size_t errlen)
{
	struct dt_assembler_stats as;
	struct dt_task_counters tc;
	struct dt_task *t;
	int ret;

	ret = running_task(r, id) ? -EEXIST : grow_tasks(r);
	if (ret == -EEXIST)
		snprintf(err, errlen, "task %" PRIu64 " is running", id);
	else if (ret)
		snprintf(err, errlen, "out of memory");
	if (ret) {
		close(spec->fd);
		return ret;
	}
	counters(r, &tc, &as);
	ret = dt_task_new(&t, spec, id, &tc, err, errlen);
	if (ret)
		return ret;
	r->tasks[r->ntasks++] = t;
	ret = push_selectors(r);
	if (ret) {
		snprintf(err, errlen, "cannot select the sockets: %s",
			 strerror(-ret));
		r->ntasks--;
		dt_task_free(t);
		push_selectors(r);
	}
	return ret;
}

int dt_recorder_task_stop(struct dt_recorder *r, uint64_t id)
{
	struct dt_task *t = running_task(r, id);

	if (!t)
		return -ENOENT;
	end_task(r, t, DT_TASK_STOPPED, "stopped");
	return 0;
}

int dt_recorder_task_info(struct dt_recorder *r, uint64_t id,
			  struct dt_task_info *info)
{
	struct dt_task *t = running_task(r, id);
	struct dt_assembler_stats as;
	struct dt_task_counters tc;

	if (!t)
		return -ENOENT;
	counters(r, &tc, &as);
	dt_task_info(t, &tc, info);
	return 0;
}

size_t dt_recorder_task_foreach(struct dt_recorder *r,
				void (*fn)(void *ctx,
					   const struct dt_task_info *info),
				void *ctx)
{
	struct dt_assembler_stats as;
	struct dt_task_counters tc;
	struct dt_task_info info;
	size_t n = 0;

	counters(r, &tc, &as);
	for (size_t i = 0; i < r->ntasks; i++) {
		if (!dt_task_running(r->tasks[i]))
			continue;
		if (fn) {
			dt_task_info(r->tasks[i], &tc, &info);
			fn(ctx, &info);
		}
		n++;
	}
	return n;
}

void dt_recorder_close(struct dt_recorder *r)
{
	struct dt_assembler_stats as;

	if (!r)
		return;
	drain(r);
	dt_assembler_get_stats(r->asmb, &as);
	/* the end of the recording: pending requests go out unanswered */
	dt_assembler_finish(r->asmb);
	for (size_t i = 0; i < r->ntasks; i++)
		dt_task_end(r->tasks[i], DT_TASK_STOPPED, "stopped");
	reap_ended(r, as.conns);
	dt_tls_close(r->tls);
	dt_capture_close(r->cap);
	dt_assembler_free(r->asmb);
	free(r->tasks);
	free(r->keepers);
	free(r->observe);
	free(r);
}
