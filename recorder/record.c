// SPDX-License-Identifier: MIT
/* `deetune record`: the engine and one task, until a policy or a signal
 * ends it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "recorder/recorder.h"

/* the probes wake us only for large batches: poll on a short timer */
#define POLL_MS 10
#define TASK_ID 1

struct recording {
	struct dt_task_info info;
	bool ended;
};

static void on_task_end(void *ctx, const struct dt_task_info *info)
{
	struct recording *rec = ctx;

	rec->info = *info;
	rec->ended = true;
}

static int open_engine(struct dt_recorder **eng,
		       const struct dt_record_opts *opts)
{
	struct dt_recorder_opts ro = {
		.ringbuf_bytes = opts->ringbuf_bytes,
		.max_memory = opts->max_memory,
		.protocol = opts->protocol,
	};
	char err[512];
	int ret;

	ret = dt_recorder_open(eng, &ro, err, sizeof(err));
	if (ret)
		fprintf(stderr, "deetune record: %s\n", err);
	return ret;
}

static int start_task(struct dt_recorder *eng,
		      const struct dt_record_opts *opts,
		      struct recording *rec)
{
	struct dt_task_spec spec = opts->task;
	char err[512];
	int ret;

	spec.fd = open(spec.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0644);
	if (spec.fd < 0) {
		ret = -errno;
		fprintf(stderr, "deetune record: cannot create %s: %s\n",
			spec.output, strerror(errno));
		return ret;
	}
	spec.on_end = on_task_end;
	spec.ctx = rec;
	ret = dt_recorder_task_start(eng, &spec, TASK_ID, err, sizeof(err));
	if (ret)
		fprintf(stderr, "deetune record: %s\n", err);
	return ret;
}

static int record_loop(struct dt_recorder *eng, const struct recording *rec)
{
	int ret;

	while (!dt_stop_signal() && !rec->ended) {
		ret = dt_recorder_poll(eng, POLL_MS);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "deetune record: polling the ring "
				"buffer: %s\n", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void summarize(const struct dt_task_info *in,
		      struct dt_record_summary *sum)
{
	sum->exchanges = in->exchanges;
	sum->bytes_written = in->bytes_written;
	sum->incomplete = in->incomplete;
	sum->dropped_events = in->drops.ringbuf_full + in->drops.truncated +
			      in->drops.read_failed + in->drops.state_full;
}

int dt_record_run(const struct dt_record_opts *opts,
		  struct dt_record_summary *summary)
{
	struct recording rec = { .ended = false };
	struct dt_recorder *eng = NULL;
	int ret;

	memset(summary, 0, sizeof(*summary));
	ret = open_engine(&eng, opts);
	if (ret)
		return ret;
	ret = start_task(eng, opts, &rec);
	if (ret)
		goto out;
	dt_catch_stop_signals();
	fprintf(stderr, "recording: probes attached, writing %s\n",
		opts->task.output);
	ret = record_loop(eng, &rec);
out:
	/* stops the task if still running: its file gets its trailer */
	dt_recorder_close(eng);
	if (!ret && rec.info.state == DT_TASK_FAILED) {
		fprintf(stderr, "deetune record: writing %s: %s\n",
			opts->task.output, rec.info.reason);
		ret = -EIO;
	}
	summarize(&rec.info, summary);
	return ret;
}
