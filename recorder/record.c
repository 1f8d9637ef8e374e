// SPDX-License-Identifier: MIT
/* `deetune record`: capture until a policy or a signal ends it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recorder/recorder_int.h"

/* the probes wake us only for large batches: poll on a short timer */
#define POLL_MS 10
#define FLUSH_NS 1000000000ull

static volatile sig_atomic_t stop_requested;

struct recording {
	const struct dt_record_opts *opts;
	struct dt_assembler *asmb;
	struct dt_session_writer *writer;
	int fd;
	uint64_t next_id;
	int write_error;
	bool count_reached;
};

static void on_signal(int sig)
{
	stop_requested = sig;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int fd_write_all(void *ctx, const void *buf, size_t len)
{
	struct recording *r = ctx;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(r->fd, p, len);

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

/* The probes select sockets; an exchange is kept when its server is named
 * by a --server selector and, if any are given, its client by a --client
 * one (a process selected as server also makes calls as a client). */
static bool selected(const struct dt_record_opts *o,
		     const struct dt_exchange *x)
{
	bool server = false, client = false, any_client = false;

	for (size_t i = 0; i < o->nsels; i++) {
		const struct dt_selector *sel = &o->sels[i];

		if (sel->server) {
			server |= dt_selector_match_endpoint(sel, &x->server);
		} else {
			any_client = true;
			client |= dt_selector_match_endpoint(sel, &x->client);
		}
	}
	return server && (client || !any_client);
}

static int on_exchange(void *ctx, struct dt_exchange *x)
{
	struct recording *r = ctx;
	int ret;

	if (r->count_reached || r->write_error)
		return 1;
	if (!selected(r->opts, x) ||
	    !dt_match_exchange(r->opts->matches, r->opts->nmatches, x))
		return 0;
	x->id = ++r->next_id;
	ret = dt_session_writer_append(r->writer, x);
	if (ret) {
		r->write_error = ret;
		return 1;
	}
	if (r->opts->max_count && r->next_id >= r->opts->max_count) {
		r->count_reached = true;
		return 1;
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: the poll must return to see the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void selector_list(const struct dt_record_opts *o, bool server,
			  char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < o->nsels && used < size; i++) {
		if (o->sels[i].server != server)
			continue;
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? "," : "", o->sels[i].text);
	}
}

static int open_writer(struct recording *r)
{
	const struct dt_record_opts *o = r->opts;
	struct dt_session_sink sink = { .write = fd_write_all, .ctx = r };
	char host[256] = "", start[32], server[512], client[512], match[512];
	struct dt_attr meta[7];
	size_t used = 0;

	gethostname(host, sizeof(host) - 1);
	snprintf(start, sizeof(start), "%" PRIu64, now_ns(CLOCK_REALTIME));
	selector_list(o, true, server, sizeof(server));
	selector_list(o, false, client, sizeof(client));
	match[0] = '\0';
	for (size_t i = 0; i < o->nmatches && used < sizeof(match); i++)
		used += snprintf(match + used, sizeof(match) - used, "%s%s",
				 used ? "\n" : "", o->matches[i].text);
	meta[0] = (struct dt_attr){ "tool_version", DEETUNE_VERSION };
	meta[1] = (struct dt_attr){ "host", host };
	meta[2] = (struct dt_attr){ "start_ns", start };
	meta[3] = (struct dt_attr){ "command", (char *)(o->command ? o->command : "") };
	meta[4] = (struct dt_attr){ "server_selector", server };
	meta[5] = (struct dt_attr){ "client_selector", client };
	meta[6] = (struct dt_attr){ "match", match };
	return dt_session_writer_new(&r->writer, &sink, meta, 7, NULL);
}

#define MAX_STATS (DT_DROP_MAX + 8)

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

/* Final statistics for the trailer and the summary. */
static int finish_writer(struct recording *r, struct dt_capture *cap,
			 struct dt_assembler *asmb, struct dt_record_summary *sum)
{
	static const char *const drop_names[DT_DROP_MAX] = {
		[DT_DROP_RINGBUF_FULL] = "drops.ringbuf_full",
		[DT_DROP_TRUNCATED] = "drops.truncated",
		[DT_DROP_READ_FAILED] = "drops.read_failed",
		[DT_DROP_STATE_FULL] = "drops.state_full",
	};
	uint64_t bpf[DT_STAT_MAX] = { 0 };
	struct dt_assembler_stats as;
	struct stat_list l = { .n = 0 };
	int ret;

	dt_capture_stats(cap, bpf);
	dt_assembler_get_stats(asmb, &as);
	sum->dropped_events = 0;
	for (int i = 0; i < DT_DROP_MAX; i++) {
		sum->dropped_events += bpf[i];
		stat_put(&l, drop_names[i], bpf[i]);
	}
	stat_put(&l, "drops.gaps", as.gaps);
	stat_put(&l, "exchanges", r->next_id);
	stat_put(&l, "events", bpf[DT_STAT_EVENTS]);
	stat_put(&l, "bytes", bpf[DT_STAT_BYTES]);
	stat_put(&l, "incomplete", as.incomplete);
	stat_put(&l, "unpaired_responses", as.unpaired);
	stat_put(&l, "malformed_messages", as.malformed);
	ret = dt_session_writer_finish(r->writer, l.attrs, l.n);
	sum->exchanges = r->next_id;
	sum->incomplete = as.incomplete;
	sum->bytes_written = dt_session_writer_bytes(r->writer);
	return ret;
}

/* Poll until a stop condition; returns 0 or a negative errno. */
static int record_loop(struct recording *r, struct dt_capture *cap)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), last_flush = start;
	uint64_t deadline = r->opts->duration_ns ?
				    start + r->opts->duration_ns : UINT64_MAX;
	int ret;

	while (!stop_requested && !r->count_reached && !r->write_error) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		int timeout = POLL_MS;

		if (now >= deadline)
			break;
		if ((deadline - now) / 1000000 < (uint64_t)timeout)
			timeout = (deadline - now) / 1000000 + 1;
		ret = dt_capture_poll(cap, timeout);
		if (ret < 0 && ret != -EINTR)
			return ret;
		ret = dt_assembler_expire(r->asmb, now_ns(CLOCK_MONOTONIC));
		if (ret < 0)
			return ret;
		if (now - last_flush >= FLUSH_NS) {
			/* bound what a crash can lose to about a second */
			ret = dt_session_writer_flush(r->writer);
			if (ret)
				return ret;
			last_flush = now;
		}
	}
	/* what the kernel already captured belongs to the recording */
	while (!r->count_reached && !r->write_error &&
	       dt_capture_poll(cap, 0) > 0)
		;
	return r->write_error;
}

static int on_event(void *ctx, const struct dt_event *ev, const uint8_t *data)
{
	struct dt_assembler *a = ctx;
	int ret = dt_assembler_event(a, ev, data);

	/* a positive value stops the ring buffer drain */
	return ret < 0 ? ret : ret ? -ECANCELED : 0;
}

int dt_record_run(const struct dt_record_opts *opts,
		  struct dt_record_summary *summary)
{
	struct recording r = { .opts = opts, .fd = -1 };
	struct dt_assembler *asmb = NULL;
	struct dt_capture *cap = NULL;
	char err[512];
	int ret;

	memset(summary, 0, sizeof(*summary));
	ret = dt_assembler_new(&asmb, 0, on_exchange, &r);
	if (ret)
		goto out;
	r.asmb = asmb;
	if (opts->protocol &&
	    (ret = dt_assembler_force_protocol(asmb, opts->protocol))) {
		fprintf(stderr, "deetune record: unknown protocol '%s' "
			"(http, redis or mysql)\n", opts->protocol);
		goto out;
	}
	ret = dt_capture_open(&cap, opts->sels, opts->nsels,
			      opts->ringbuf_bytes, on_event, asmb, err,
			      sizeof(err));
	if (ret) {
		fprintf(stderr, "deetune record: %s\n", err);
		goto out;
	}
	r.fd = open(opts->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (r.fd < 0) {
		ret = -errno;
		fprintf(stderr, "deetune record: cannot create %s: %s\n",
			opts->output, strerror(errno));
		goto out;
	}
	ret = open_writer(&r);
	if (ret)
		goto write_failed;
	install_signals();
	fprintf(stderr, "recording: probes attached, writing %s\n",
		opts->output);
	ret = record_loop(&r, cap);
	if (ret == -ECANCELED)
		ret = 0;
	if (ret && !r.write_error) {
		fprintf(stderr, "deetune record: polling the ring buffer: %s\n",
			strerror(-ret));
		goto out;
	}
	if (!r.count_reached && !r.write_error)
		dt_assembler_finish(asmb);
	if (r.write_error) {
		ret = r.write_error;
		goto write_failed;
	}
	ret = finish_writer(&r, cap, asmb, summary);
	if (ret)
		goto write_failed;
	if (fsync(r.fd) && errno != EINVAL) {
		ret = -errno;
		goto write_failed;
	}
	goto out;
write_failed:
	fprintf(stderr, "deetune record: writing %s: %s\n", opts->output,
		strerror(-ret));
out:
	dt_session_writer_free(r.writer);
	if (r.fd >= 0)
		close(r.fd);
	dt_capture_close(cap);
	dt_assembler_free(asmb);
	return ret;
}
