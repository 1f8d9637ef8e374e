// SPDX-License-Identifier: MIT
/*
 * task.c: one recording task. Keeps the exchanges its selectors, --match
 * and sampling select, masks them with its redaction rules and writes
 * them to its session file under its policies (count, duration,
 * max-bytes), flushing a frame every second so that a crash loses little.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/deetune.h"
#include "recorder/task.h"
#include "redact/redact.h"

#define FLUSH_NS 1000000000ull
/* with --max-bytes, frames small enough that the file stops near it */
#define MIN_FRAME_BYTES 4096u
#define MAX_FRAME_BYTES (1u << 20)

struct dt_task {
	struct dt_task_spec spec;
	char *rules[DT_TASK_MAX_REDACT]; /* spec.redact points here */
	char *command, *output;
	uint64_t id;
	int fd;
	struct dt_session_writer *writer;
	struct dt_redactor *redactor;  /* NULL: nothing to mask */
	struct dt_task_counters base;
	enum dt_task_state state;
	char reason[96];
	uint64_t started_ns, ended_ns;
	uint64_t start_mono, last_flush;
	uint64_t incomplete, sampled_out;
	uint64_t buffered_max;
	uint64_t final_bytes;      /* file size once finished */
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *dt_task_state_name(enum dt_task_state st)
{
	static const char *const names[] = {
		[DT_TASK_RUNNING] = "running",
		[DT_TASK_DONE] = "done",
		[DT_TASK_STOPPED] = "stopped",
		[DT_TASK_FAILED] = "failed",
		[DT_TASK_INTERRUPTED] = "interrupted",
	};

	if ((unsigned)st >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[st];
}

static int fd_write_all(void *ctx, const void *buf, size_t len)
{
	struct dt_task *t = ctx;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(t->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void join_selectors(const struct dt_task_spec *s, bool server,
			   char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->nsels && used < size; i++) {
		if (s->sels[i].server != server)
			continue;
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? "," : "", s->sels[i].text);
	}
}

static void join_matches(const struct dt_task_spec *s, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->nmatches && used < size; i++)
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? "\n" : "", s->matches[i].text);
}

static int open_writer(struct dt_task *t)
{
	struct dt_session_sink sink = { .write = fd_write_all, .ctx = t };
	struct dt_session_writer_opts wo = { 0 };
	char host[256] = "", start[32], server[512], client[512], match[512];
	struct dt_attr meta[7];

	gethostname(host, sizeof(host) - 1);
	snprintf(start, sizeof(start), "%" PRIu64, t->started_ns);
	join_selectors(&t->spec, true, server, sizeof(server));
	join_selectors(&t->spec, false, client, sizeof(client));
	join_matches(&t->spec, match, sizeof(match));
	meta[0] = (struct dt_attr){ "tool_version", DEETUNE_VERSION };
	meta[1] = (struct dt_attr){ "host", host };
	meta[2] = (struct dt_attr){ "start_ns", start };
	meta[3] = (struct dt_attr){ "command",
				    t->command ? t->command : "" };
	meta[4] = (struct dt_attr){ "server_selector", server };
	meta[5] = (struct dt_attr){ "client_selector", client };
	meta[6] = (struct dt_attr){ "match", match };
	if (t->spec.max_bytes) {
		uint64_t fb = t->spec.max_bytes / 4;

		fb = fb < MIN_FRAME_BYTES ? MIN_FRAME_BYTES :
		     fb > MAX_FRAME_BYTES ? MAX_FRAME_BYTES : fb;
		wo.frame_bytes = fb;
	}
	return dt_session_writer_new(&t->writer, &sink, meta, 7, &wo);
}

/* The spec's strings become the task's own: the caller's may go away. */
static int copy_spec(struct dt_task *t, const struct dt_task_spec *spec)
{
	t->spec = *spec;
	t->spec.command = t->spec.output = NULL;
	if (spec->command && !(t->command = strdup(spec->command)))
		return -ENOMEM;
	if (spec->output && !(t->output = strdup(spec->output)))
		return -ENOMEM;
	t->spec.command = t->command;
	t->spec.output = t->output;
	for (size_t i = 0; i < spec->nredact; i++) {
		t->rules[i] = strdup(spec->redact[i]);
		if (!t->rules[i])
			return -ENOMEM;
		t->spec.redact[i] = t->rules[i];
	}
	return 0;
}

static int make_redactor(const struct dt_task_spec *s, struct dt_redactor **r,
			 char *err, size_t errlen)
{
	bool builtin = !s->no_default_redaction;

	*r = NULL;
	if (!builtin && !s->nredact)
		return 0;
	return dt_redactor_new(r, s->redact, s->nredact, builtin, err,
			       errlen);
}

static int check_limits(const struct dt_task_spec *s, char *err,
			size_t errlen)
{
	bool server = false;

	for (size_t i = 0; i < s->nsels && i < DT_RECORD_MAX_SELECTORS; i++)
		server |= s->sels[i].server;
	if (!server || s->nsels > DT_RECORD_MAX_SELECTORS) {
		snprintf(err, errlen, "1 to %d selectors, at least one of "
			 "them a server selector", DT_RECORD_MAX_SELECTORS);
		return -EINVAL;
	}
	if (s->nmatches > DT_RECORD_MAX_MATCHES ||
	    s->nredact > DT_TASK_MAX_REDACT) {
		snprintf(err, errlen, "at most %d match expressions and %d "
			 "redaction rules", DT_RECORD_MAX_MATCHES,
			 DT_TASK_MAX_REDACT);
		return -EINVAL;
	}
	if (!(s->sample >= 0 && s->sample <= 1)) {
		snprintf(err, errlen, "sample must be above 0 and at most 1");
		return -EINVAL;
	}
	return 0;
}

int dt_task_spec_check(const struct dt_task_spec *spec, char *err,
		       size_t errlen)
{
	struct dt_redactor *r;
	int ret;

	ret = check_limits(spec, err, errlen);
	if (!ret)
		ret = make_redactor(spec, &r, err, errlen);
	if (!ret && r)
		dt_redactor_free(r);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int dt_task_new(struct dt_task **out, const struct dt_task_spec *spec,
		uint64_t id, const struct dt_task_counters *base,
		char *err, size_t errlen)
{
	struct dt_task *t;
	int ret;

	ret = check_limits(spec, err, errlen);
	if (ret) {
		close(spec->fd);
		return ret;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(spec->fd);
		return -ENOMEM;
	}
	t->fd = spec->fd;
	t->id = id;
	t->base = *base;
	t->state = DT_TASK_RUNNING;
	t->started_ns = clock_ns(CLOCK_REALTIME);
	t->start_mono = t->last_flush = clock_ns(CLOCK_MONOTONIC);
	snprintf(err, errlen, "out of memory");
	ret = copy_spec(t, spec);
	if (!ret)
		ret = make_redactor(&t->spec, &t->redactor, err, errlen);
	if (ret)
		goto fail;
	ret = open_writer(t);
	if (ret) {
		snprintf(err, errlen, "writing %s: %s",
			 t->output ? t->output : "the session file",
			 strerror(-ret));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	dt_task_free(t);
	return ret;
}

uint64_t dt_task_id(const struct dt_task *t)
{
	return t->id;
}

const struct dt_task_spec *dt_task_spec(const struct dt_task *t)
{
	return &t->spec;
}

bool dt_task_running(const struct dt_task *t)
{
	return t->state == DT_TASK_RUNNING;
}

void dt_task_end(struct dt_task *t, enum dt_task_state st, const char *reason)
{
	if (t->state != DT_TASK_RUNNING)
		return;
	t->state = st;
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
}

/* The probes select sockets; an exchange is kept when its server is named
 * by a server selector and, if any are given, its client by a client
 * one (a process selected as server also makes calls as a client). */
static bool selected(const struct dt_task_spec *s, const struct dt_exchange *x)
{
	bool server = false, client = false, any_client = false;

	for (size_t i = 0; i < s->nsels; i++) {
		const struct dt_selector *sel = &s->sels[i];

		if (sel->server) {
			server |= dt_selector_match_endpoint(sel, &x->server);
		} else {
			any_client = true;
			client |= dt_selector_match_endpoint(sel, &x->client);
		}
	}
	return server && (client || !any_client);
}

/* splitmix64's finalizer: connection ids are sequential, their hashes
 * spread evenly, so a share P of connections falls under P. */
static double conn_hash01(uint64_t id)
{
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ull;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebull;
	id ^= id >> 31;
	return (double)(id >> 11) / (double)(1ull << 53);
}

bool dt_task_wants(struct dt_task *t, const struct dt_exchange *x)
{
	double p = t->spec.sample;

	if (t->state != DT_TASK_RUNNING || !selected(&t->spec, x) ||
	    !dt_match_exchange(t->spec.matches, t->spec.nmatches, x))
		return false;
	/* whole connections, so keep-alive and prepared statements stay
	 * coherent in the file */
	if (p > 0 && p < 1 && conn_hash01(x->conn_id) >= p) {
		t->sampled_out++;
		return false;
	}
	return true;
}

static void end_on_write_error(struct dt_task *t, int err)
{
	char reason[96];

	if (err == -ENOSPC || err == -EDQUOT)
		snprintf(reason, sizeof(reason), "disk full");
	else
		snprintf(reason, sizeof(reason), "write error: %s",
			 strerror(-err));
	/* the frame that failed is not in the file: count only what is */
	dt_session_writer_recover(t->writer);
	dt_task_end(t, DT_TASK_FAILED, reason);
}

static void check_max_bytes(struct dt_task *t)
{
	if (t->spec.max_bytes &&
	    dt_session_writer_bytes(t->writer) >= t->spec.max_bytes)
		dt_task_end(t, DT_TASK_DONE, "max-bytes");
}

/* A deep copy of x for a redactor to mask while x stays intact for the
 * other tasks. */
static int exchange_copy(struct dt_exchange *dst, const struct dt_exchange *x)
{
	int ret = 0;

	*dst = *x;
	dst->nattrs = 0;
	dst->attrs = NULL;
	dst->request = dst->response = NULL;
	dst->request_len = dst->response_len = 0;
	for (size_t i = 0; i < x->nattrs && !ret; i++)
		ret = dt_exchange_set_attr(dst, x->attrs[i].key,
					   x->attrs[i].value);
	if (!ret)
		ret = dt_exchange_set_request(dst, x->request, x->request_len);
	if (!ret)
		ret = dt_exchange_set_response(dst, x->response,
					       x->response_len);
	if (ret)
		dt_exchange_release(dst);
	return ret;
}

static int append(struct dt_task *t, struct dt_exchange *x)
{
	int ret;

	x->id = dt_session_writer_exchanges(t->writer) + 1;
	ret = dt_session_writer_append(t->writer, x);
	if (ret)
		return ret;
	if (x->flags & DT_XF_INCOMPLETE)
		t->incomplete++;
	return 0;
}

void dt_task_write(struct dt_task *t, struct dt_exchange *x, bool may_modify)
{
	struct dt_exchange copy;
	int ret;

	if (t->state != DT_TASK_RUNNING)
		return;
	if (!t->redactor) {
		ret = append(t, x);
	} else if (may_modify) {
		ret = dt_redactor_apply(t->redactor, x);
		if (ret >= 0)
			ret = append(t, x);
	} else {
		ret = exchange_copy(&copy, x);
		if (ret)
			goto out;
		ret = dt_redactor_apply(t->redactor, &copy);
		if (ret >= 0)
			ret = append(t, &copy);
		dt_exchange_release(&copy);
	}
out:
	if (ret < 0) {
		end_on_write_error(t, ret);
		return;
	}
	if (t->spec.max_count &&
	    dt_session_writer_exchanges(t->writer) >= t->spec.max_count)
		dt_task_end(t, DT_TASK_DONE, "count");
	else
		check_max_bytes(t);
}

bool dt_task_tick(struct dt_task *t, uint64_t now_mono_ns, uint64_t buffered)
{
	int ret;

	if (buffered > t->buffered_max)
		t->buffered_max = buffered;
	if (t->state != DT_TASK_RUNNING)
		return false;
	if (now_mono_ns - t->last_flush >= FLUSH_NS) {
		/* bound what a crash can lose to about a second */
		ret = dt_session_writer_flush(t->writer);
		t->last_flush = now_mono_ns;
		if (ret) {
			end_on_write_error(t, ret);
			return false;
		}
		check_max_bytes(t);
	}
	return t->spec.duration_ns &&
	       now_mono_ns - t->start_mono >= t->spec.duration_ns;
}

static uint64_t since(uint64_t now, uint64_t base)
{
	return now >= base ? now - base : 0;
}

void dt_task_info(const struct dt_task *t, const struct dt_task_counters *now,
		  struct dt_task_info *info)
{
	const struct dt_task_counters *b = &t->base;

	memset(info, 0, sizeof(*info));
	info->id = t->id;
	info->state = t->state;
	snprintf(info->reason, sizeof(info->reason), "%s", t->reason);
	info->started_ns = t->started_ns;
	info->ended_ns = t->ended_ns;
	info->exchanges = dt_session_writer_exchanges(t->writer);
	info->incomplete = t->incomplete;
	info->bytes_written = t->final_bytes ? t->final_bytes :
			      dt_session_writer_bytes(t->writer);
	info->events = since(now->events, b->events);
	info->bytes = since(now->bytes, b->bytes);
	info->drops.ringbuf_full = since(now->drops[DT_DROP_RINGBUF_FULL],
					 b->drops[DT_DROP_RINGBUF_FULL]);
	info->drops.truncated = since(now->drops[DT_DROP_TRUNCATED],
				      b->drops[DT_DROP_TRUNCATED]);
	info->drops.read_failed = since(now->drops[DT_DROP_READ_FAILED],
					b->drops[DT_DROP_READ_FAILED]);
	info->drops.state_full = since(now->drops[DT_DROP_STATE_FULL],
				       b->drops[DT_DROP_STATE_FULL]);
	info->drops.gaps = since(now->gaps, b->gaps);
	info->drops.evicted = since(now->evicted, b->evicted);
	info->drops.sampled_out = t->sampled_out;
}

#define MAX_STATS 20

struct stat_list {
	struct dt_attr attrs[MAX_STATS];
	char vals[MAX_STATS][24];
	size_t n;
};

static void stat_put(struct stat_list *l, const char *key, uint64_t v)
{
	if (l->n == MAX_STATS)
		return;
	snprintf(l->vals[l->n], sizeof(l->vals[l->n]), "%" PRIu64, v);
	l->attrs[l->n] = (struct dt_attr){ (char *)key, l->vals[l->n] };
	l->n++;
}

static int write_trailer(struct dt_task *t, const struct dt_task_counters *now,
			 uint64_t conns_open)
{
	struct dt_task_info in;
	struct stat_list l = { .n = 0 };

	dt_task_info(t, now, &in);
	stat_put(&l, "drops.ringbuf_full", in.drops.ringbuf_full);
	stat_put(&l, "drops.truncated", in.drops.truncated);
	stat_put(&l, "drops.read_failed", in.drops.read_failed);
	stat_put(&l, "drops.state_full", in.drops.state_full);
	stat_put(&l, "drops.gaps", in.drops.gaps);
	stat_put(&l, "drops.evicted", in.drops.evicted);
	stat_put(&l, "drops.sampled_out", in.drops.sampled_out);
	stat_put(&l, "exchanges", in.exchanges);
	stat_put(&l, "events", in.events);
	stat_put(&l, "bytes", in.bytes);
	stat_put(&l, "incomplete", in.incomplete);
	stat_put(&l, "unpaired_responses", since(now->unpaired,
						 t->base.unpaired));
	stat_put(&l, "malformed_messages", since(now->malformed,
						 t->base.malformed));
	stat_put(&l, "conns_open", conns_open);
	stat_put(&l, "buffered_bytes_max", t->buffered_max);
	return dt_session_writer_finish(t->writer, l.attrs, l.n);
}

/* After a failed write the file may end inside a block: cut it back to
 * the last whole one, so that readers see every frame written before,
 * then give it its index and trailer if the space the cut freed allows. */
static int cut_file(int fd, uint64_t size)
{
	if (ftruncate(fd, (off_t)size))
		return -errno;
	/* the next write goes where the file now ends */
	return lseek(fd, (off_t)size, SEEK_SET) < 0 ? -errno : 0;
}

static void salvage_file(struct dt_task *t, const struct dt_task_counters *now,
			 uint64_t conns_open)
{
	uint64_t good = dt_session_writer_bytes(t->writer);

	if (cut_file(t->fd, good))
		goto out;
	if (write_trailer(t, now, conns_open) == 0)
		good = dt_session_writer_bytes(t->writer);
	else if (cut_file(t->fd, good))
		goto out;
	fsync(t->fd);
out:
	t->final_bytes = good;
}

void dt_task_finish(struct dt_task *t, const struct dt_task_counters *now,
		    uint64_t conns_open)
{
	int ret = 0;

	dt_task_end(t, DT_TASK_STOPPED, "stopped");
	if (t->state != DT_TASK_FAILED) {
		ret = write_trailer(t, now, conns_open);
		if (!ret && fsync(t->fd) && errno != EINVAL)
			ret = -errno;
		if (ret) {
			/* the policy's end stays visible in no file: the
			 * failure is what the user needs to know */
			t->state = DT_TASK_RUNNING;
			end_on_write_error(t, ret);
		}
	}
	if (t->state == DT_TASK_FAILED)
		salvage_file(t, now, conns_open);
	else
		t->final_bytes = dt_session_writer_bytes(t->writer);
	close(t->fd);
	t->fd = -1;
	t->ended_ns = clock_ns(CLOCK_REALTIME);
}

void dt_task_free(struct dt_task *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	dt_session_writer_free(t->writer);
	if (t->redactor)
		dt_redactor_free(t->redactor);
	for (size_t i = 0; i < DT_TASK_MAX_REDACT; i++)
		free(t->rules[i]);
	free(t->command);
	free(t->output);
	free(t);
}
