// SPDX-License-Identifier: MIT
/*
 * TLS plaintext capture: loads bpf/tls.bpf.c, keeps its uprobes on the
 * libssl of the selected processes, and drains its ring into the
 * connection table (tls_conns.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/tls.skel.h"
#include "recorder/tls.h"

#define DEFAULT_RINGBUF_BYTES (16u << 20)

struct dt_tls {
	struct tls_bpf *skel;
	struct ring_buffer *rb;
	struct dt_tls_libs *libs;
	struct dt_tls_conns *conns;
	struct dt_tls_progs progs;
	int ncpus;
	struct dt_tls_config cfg;
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int dt_tls_note_event(struct dt_tls *t, const struct dt_event *ev,
		      const uint8_t *data)
{
	return dt_tls_conns_note(t->conns, ev, data);
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct dt_tls *t = ctx;
	const struct dt_tls_event *ev = data;

	if (size < sizeof(*ev) || ev->len > size - sizeof(*ev) ||
	    ev->len > DT_TLS_CHUNK_SIZE)
		return 0;
	return dt_tls_conns_plaintext(t->conns, ev,
				      (const uint8_t *)data + sizeof(*ev));
}

int dt_tls_poll(struct dt_tls *t)
{
	int ret;

	/* what waited since the last round first: its socket's events
	 * came with the main capture's poll */
	ret = dt_tls_conns_tick(t->conns, monotonic_ns());
	return ret ? ret : ring_buffer__consume(t->rb);
}

static bool pids_only(const struct dt_selector *sels, size_t nsels)
{
	for (size_t i = 0; i < nsels; i++)
		if (sels[i].kind != DT_SEL_PID)
			return false;
	return nsels > 0;
}

/* Empties a hash map of the probes, whatever its key. */
static int map_clear(struct bpf_map *map)
{
	size_t size = bpf_map__key_size(map);
	uint8_t key[64], next[64];
	bool more;
	int ret = 0;

	if (size > sizeof(key))
		return -EINVAL;
	more = !bpf_map__get_next_key(map, NULL, key, size);
	while (more && !ret) {
		more = !bpf_map__get_next_key(map, key, next, size);
		ret = bpf_map__delete_elem(map, key, size, 0);
		if (ret == -ENOENT)
			ret = 0;
		memcpy(key, next, size);
	}
	return ret;
}

/* The pids of pid selectors go to the probes' filter, and their libssl
 * gets probed. */
static int select_pids(struct dt_tls *t, const struct dt_selector *sels,
		       size_t nsels)
{
	__u8 one = 1;
	int ret;

	for (size_t i = 0; i < nsels; i++) {
		__u32 pid = sels[i].pid;

		ret = bpf_map__update_elem(t->skel->maps.tls_pids, &pid,
					   sizeof(pid), &one, sizeof(one),
					   BPF_ANY);
		if (ret)
			return ret;
		ret = dt_tls_libs_scan_pid(t->libs, pid);
		if (ret < 0 && ret != -ENOENT && ret != -EACCES)
			return ret;
	}
	return 0;
}

int dt_tls_set_selectors(struct dt_tls *t, const struct dt_selector *sels,
			 size_t nsels)
{
	struct dt_tls_config cfg = t->cfg;
	__u32 zero = 0;
	int ret;

	cfg.enabled = nsels > 0;
	cfg.have_pid = pids_only(sels, nsels);
	ret = map_clear(t->skel->maps.tls_pids);
	/* idle probes miss SSL_free: what they knew of SSL objects would go
	 * stale */
	if (!ret && !nsels) {
		dt_tls_libs_detach(t->libs);
		ret = map_clear(t->skel->maps.ssl_states);
	}
	if (ret)
		return ret;
	if (cfg.have_pid)
		ret = select_pids(t, sels, nsels);
	else if (nsels)
		ret = dt_tls_libs_scan_all(t->libs);
	if (ret)
		return ret;
	ret = bpf_map__update_elem(t->skel->maps.tls_config, &zero,
				   sizeof(zero), &cfg, sizeof(cfg), BPF_ANY);
	if (!ret)
		ret = dt_bpf_link_set(&t->skel->links.dt_tls_sys_enter,
				      t->skel->progs.dt_tls_sys_enter,
				      cfg.enabled);
	if (!ret)
		t->cfg = cfg;
	return ret;
}

/* The functions probed. SSL_do_handshake moves no application data but
 * tells the socket of objects whose first read is served from OpenSSL's
 * buffers; SSL_free tells that an address no longer is that object. */
static const struct dt_tls_probe probes[] = {
	{ "SSL_read", DT_TLS_CALL_READ, true, true },
	{ "SSL_write", DT_TLS_CALL_WRITE, true, true },
	{ "SSL_read_ex", DT_TLS_CALL_READ_EX, true, false },
	{ "SSL_write_ex", DT_TLS_CALL_WRITE_EX, true, false },
	{ "SSL_do_handshake", DT_TLS_CALL_HANDSHAKE, true, false },
	{ "SSL_free", DT_TLS_CALL_FREE, false, false },
};

static int load_skel(struct dt_tls *t, size_t ringbuf_bytes, bool multi)
{
	t->skel = tls_bpf__open();
	if (!t->skel)
		return -errno;
	bpf_map__set_max_entries(t->skel->maps.tls_events,
				 ringbuf_bytes ? ringbuf_bytes :
						 DEFAULT_RINGBUF_BYTES);
	bpf_map__set_max_entries(t->skel->maps.tls_scratch_buf, t->ncpus);
	if (multi) {
		bpf_program__set_expected_attach_type(
			t->skel->progs.dt_ssl_entry, DT_ATTACH_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(
			t->skel->progs.dt_ssl_ret, DT_ATTACH_UPROBE_MULTI);
	}
	t->progs.entry = t->skel->progs.dt_ssl_entry;
	t->progs.ret = t->skel->progs.dt_ssl_ret;
	t->progs.multi = multi;
	return tls_bpf__load(t->skel);
}

/* The programs loaded for uprobe_multi when the kernel has it, else for
 * perf events. */
static int load(struct dt_tls *t, size_t ringbuf_bytes)
{
	int ret = load_skel(t, ringbuf_bytes, true);

	if (ret || !dt_tls_uprobe_multi_works(t->progs.entry)) {
		tls_bpf__destroy(t->skel);
		ret = load_skel(t, ringbuf_bytes, false);
	}
	if (ret)
		return ret;
	/* the uprobes attach per library file (tls_attach.c), the syscall
	 * program while something is selected (dt_tls_set_selectors) */
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.tls_events),
				 on_ring_record, t, NULL);
	return t->rb ? 0 : -errno;
}

int dt_tls_open(struct dt_tls **out, const struct dt_selector *sels,
		size_t nsels, size_t ringbuf_bytes, dt_event_fn fn, void *ctx,
		char *err, size_t errlen)
{
	struct dt_tls *t;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ncpus = libbpf_num_possible_cpus();
	ret = t->ncpus > 0 ? load(t, ringbuf_bytes) : -EINVAL;
	if (ret) {
		snprintf(err, errlen, "cannot load the TLS probes: %s",
			 strerror(-ret));
		goto fail;
	}
	ret = dt_tls_libs_new(&t->libs, &t->progs, probes,
			      sizeof(probes) / sizeof(probes[0]));
	if (!ret)
		ret = dt_tls_conns_new(&t->conns, t->libs, fn, ctx);
	t->cfg.self_tgid = getpid();
	if (!ret)
		ret = dt_tls_set_selectors(t, sels, nsels);
	if (ret) {
		snprintf(err, errlen, "cannot probe libssl: %s",
			 strerror(-ret));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	dt_tls_close(t);
	return ret;
}

void dt_tls_get_stats(struct dt_tls *t, struct dt_tls_stats *st)
{
	__u64 *vals = calloc(t->ncpus, sizeof(*vals));

	memset(st, 0, sizeof(*st));
	dt_tls_conns_get_stats(t->conns, &st->seam);
	st->libs = dt_tls_libs_count(t->libs);
	for (__u32 i = 0; vals && i < DT_TLS_STAT_MAX; i++) {
		if (bpf_map__lookup_elem(t->skel->maps.tls_stats, &i,
					 sizeof(i), vals,
					 sizeof(*vals) * t->ncpus, 0))
			break;
		for (int cpu = 0; cpu < t->ncpus; cpu++)
			st->probe[i] += vals[cpu];
	}
	free(vals);
}

void dt_tls_close(struct dt_tls *t)
{
	if (!t)
		return;
	/* links first: they hold the programs */
	dt_tls_libs_free(t->libs);
	ring_buffer__free(t->rb);
	tls_bpf__destroy(t->skel);
	dt_tls_conns_free(t->conns);
	free(t);
}
