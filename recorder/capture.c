// SPDX-License-Identifier: MIT
/* BPF side of the recorder: load, configure, attach, drain the ring. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/deetune.skel.h"
#include "recorder/recorder_int.h"

/* About 100 ms of 150 MB/s of payload while the reader polls every 10. */
#define DEFAULT_RINGBUF_BYTES (16u << 20)

struct dt_capture {
	struct deetune_bpf *skel;
	struct ring_buffer *rb;
	dt_event_fn fn;
	void *ctx;
	int ncpus;
};

/* libbpf is chatty on failure; keep its lines only when asked to. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!getenv("DEETUNE_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct dt_capture *c = ctx;
	const struct dt_event *ev = data;

	if (size < sizeof(*ev) || ev->len > size - sizeof(*ev))
		return 0;
	if (ev->type == DT_EV_UNIX_PATH) {
		const struct dt_path_event *pe = data;

		if (size < sizeof(*pe))
			return 0;
		return c->fn(c->ctx, ev, (const uint8_t *)pe->path);
	}
	return c->fn(c->ctx, ev, (const uint8_t *)data + sizeof(*ev));
}

static int map_put(struct bpf_map *map, const void *key, __u32 bits)
{
	__u32 v = 0;

	/* several selectors may share a key (e.g. --server and --client) */
	bpf_map__lookup_elem(map, key, bpf_map__key_size(map), &v, sizeof(v), 0);
	v |= bits;
	return bpf_map__update_elem(map, key, bpf_map__key_size(map), &v,
				    sizeof(v), BPF_ANY);
}

static int put_selector(struct deetune_bpf *skel, struct dt_config *cfg,
			const struct dt_selector *s)
{
	__u32 bits = s->server ? DT_SEL_SERVER : DT_SEL_CLIENT;
	struct dt_port_key pk = {};
	struct dt_path_key path = {};
	char comm[DT_COMM_LEN] = {};

	switch (s->kind) {
	case DT_SEL_PID:
		cfg->have_pid = 1;
		return map_put(skel->maps.sel_pids, &s->pid, bits);
	case DT_SEL_COMM:
		cfg->have_comm = 1;
		memcpy(comm, s->comm, sizeof(comm) - 1);
		return map_put(skel->maps.sel_comms, comm, bits);
	case DT_SEL_CGROUP:
		cfg->have_cgroup = 1;
		return map_put(skel->maps.sel_cgroups, &s->cgroup_id, bits);
	case DT_SEL_UNIX:
		cfg->have_unix = 1;
		/* the kernel's sun_path: an abstract name starts with NUL */
		memcpy(path.path, s->path, strlen(s->path));
		if (path.path[0] == '@')
			path.path[0] = '\0';
		return map_put(skel->maps.sel_unix, &path, bits);
	case DT_SEL_ADDR:
		memcpy(pk.addr, s->addr, sizeof(pk.addr));
		/* fall through */
	case DT_SEL_PORT:
		cfg->have_port = 1;
		pk.port = s->port;
		return map_put(skel->maps.sel_ports, &pk, bits);
	case DT_SEL_ALL:
		return -EOPNOTSUPP;
	}
	return -EINVAL;
}

static int configure(struct deetune_bpf *skel, const struct dt_selector *sels,
		     size_t nsels)
{
	struct dt_config cfg = { .self_tgid = getpid(), .enabled = 1, .gen = 1 };
	__u32 zero = 0;
	int err;

	for (size_t i = 0; i < nsels; i++) {
		err = put_selector(skel, &cfg, &sels[i]);
		if (err)
			return err;
	}
	return bpf_map__update_elem(skel->maps.dt_config, &zero, sizeof(zero),
				    &cfg, sizeof(cfg), BPF_ANY);
}

static void explain(int err, const char *what, char *msg, size_t len)
{
	if (geteuid() != 0)
		snprintf(msg, len, "%s: permission denied: recording needs "
			 "root (CAP_BPF, CAP_PERFMON)", what);
	else
		snprintf(msg, len, "%s: %s (needs a kernel with BTF at "
			 "/sys/kernel/btf/vmlinux, BPF ring buffers and BTF "
			 "raw tracepoints, 5.17 or newer; DEETUNE_DEBUG=1 "
			 "shows libbpf's log)", what, strerror(-err));
}

int dt_capture_open(struct dt_capture **out, const struct dt_selector *sels,
		    size_t nsels, size_t ringbuf_bytes, dt_event_fn fn,
		    void *ctx, char *err, size_t errlen)
{
	struct dt_capture *c;
	int ret;

	libbpf_set_print(libbpf_print);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		ret = c->ncpus ? c->ncpus : -EINVAL;
		explain(ret, "cannot count CPUs", err, errlen);
		goto fail;
	}
	c->skel = deetune_bpf__open();
	if (!c->skel) {
		ret = -errno;
		explain(ret, "cannot open the BPF object", err, errlen);
		goto fail;
	}
	bpf_map__set_max_entries(c->skel->maps.events,
				 ringbuf_bytes ? ringbuf_bytes :
						 DEFAULT_RINGBUF_BYTES);
	bpf_map__set_max_entries(c->skel->maps.scratch_buf, c->ncpus);
	ret = deetune_bpf__load(c->skel);
	if (ret) {
		explain(ret, "cannot load the BPF probes", err, errlen);
		goto fail;
	}
	ret = configure(c->skel, sels, nsels);
	if (ret) {
		explain(ret, "cannot fill the selector maps", err, errlen);
		goto fail;
	}
	ret = deetune_bpf__attach(c->skel);
	if (ret) {
		explain(ret, "cannot attach the BPF probes", err, errlen);
		goto fail;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events),
				 on_ring_record, c, NULL);
	if (!c->rb) {
		ret = -errno;
		explain(ret, "cannot open the ring buffer", err, errlen);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	dt_capture_close(c);
	return ret;
}

int dt_capture_poll(struct dt_capture *c, int timeout_ms)
{
	int waited, consumed;

	/* The probes skip most wakeups, so epoll can't tell whether data is
	 * waiting: wait for a wakeup or the timeout, then always look. */
	waited = ring_buffer__poll(c->rb, timeout_ms);
	if (waited < 0 && waited != -EINTR)
		return waited;
	consumed = ring_buffer__consume(c->rb);
	if (consumed < 0)
		return consumed;
	return waited > 0 ? waited + consumed : consumed;
}

int dt_capture_stats(struct dt_capture *c, uint64_t out[DT_STAT_MAX])
{
	__u64 *vals;
	int ret = 0;

	vals = calloc(c->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < DT_STAT_MAX; i++) {
		out[i] = 0;
		ret = bpf_map__lookup_elem(c->skel->maps.stats, &i, sizeof(i),
					   vals, sizeof(*vals) * c->ncpus, 0);
		if (ret)
			break;
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			out[i] += vals[cpu];
	}
	free(vals);
	return ret;
}

void dt_capture_close(struct dt_capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	deetune_bpf__destroy(c->skel);
	free(c);
}
