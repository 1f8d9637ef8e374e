// SPDX-License-Identifier: MIT
/* BPF side of the recorder: load, configure, attach, drain the ring. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/deetune.skel.h"
#include "recorder/recorder_int.h"

/* About 100 ms of 150 MB/s of payload while the reader polls every 10. */
#define DEFAULT_RINGBUF_BYTES (16u << 20)
/* How stale the listening-socket table may get before a miss reloads it. */
#define LISTENERS_MAX_AGE_NS 1000000000ull

/* A listening TCP socket: address as in events (IPv4 mapped), 0 = any. */
struct listener {
	uint8_t addr[16];
	uint16_t port;
};

/* The listening sockets of our network namespace (/proc/net/tcp, tcp6),
 * to tell the server end of connections opened before the probes were. */
struct listen_table {
	struct listener *v;
	size_t n, cap;
	uint64_t loaded_ns;   /* CLOCK_MONOTONIC of the last load, 0 never */
};

struct dt_capture {
	struct deetune_bpf *skel;
	struct ring_buffer *rb;
	dt_event_fn fn;
	void *ctx;
	int ncpus;
	struct dt_config cfg;  /* as last written to the probes */
	struct listen_table listeners;
};

static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

/* libbpf is chatty on failure; keep its lines only when asked to. */
__attribute__((format(printf, 2, 0)))
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!getenv("DEETUNE_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int listen_table_add(struct listen_table *t, const uint8_t addr[16],
			    uint16_t port)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct listener *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	memcpy(t->v[t->n].addr, addr, 16);
	t->v[t->n].port = port;
	t->n++;
	return 0;
}

/* "0100007F" (IPv4) or 32 hex digits (IPv6): the kernel prints the
 * address as 32-bit words in host order. */
static int parse_proc_addr(const char *hex, uint8_t addr[16])
{
	size_t len = strlen(hex), words = len / 8;
	uint8_t *dst = addr;

	if (len != 8 && len != 32)
		return -EINVAL;
	memset(addr, 0, 16);
	if (len == 8) {
		memcpy(addr, v4mapped, sizeof(v4mapped));
		dst = addr + 12;
	}
	for (size_t i = 0; i < words; i++) {
		char word[9];
		uint32_t v;

		memcpy(word, hex + 8 * i, 8);
		word[8] = '\0';
		v = strtoul(word, NULL, 16);
		memcpy(dst + 4 * i, &v, 4);
	}
	return 0;
}

/* Adds the LISTEN entries of one /proc/net/tcp-format file. */
static int listen_table_read(struct listen_table *t, const char *path)
{
	char line[512], hex[40];
	unsigned int port, state;
	uint8_t addr[16];
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %*s %x", hex, &port,
			   &state) != 3 || state != 0x0A || port > 0xffff)
			continue;
		if (!parse_proc_addr(hex, addr))
			ret = listen_table_add(t, addr, port);
	}
	fclose(f);
	return ret;
}

static int listen_table_load(struct listen_table *t)
{
	int ret;

	t->n = 0;
	t->loaded_ns = monotonic_ns();
	ret = listen_table_read(t, "/proc/net/tcp");
	if (!ret)
		ret = listen_table_read(t, "/proc/net/tcp6");
	return ret;
}

static bool is_any_addr(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16) ||
	       (!memcmp(a, v4mapped, 12) && !memcmp(a + 12, zero, 4));
}

static bool listen_table_has(const struct listen_table *t,
			     const uint8_t addr[16], uint16_t port)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct listener *l = &t->v[i];

		if (l->port == port &&
		    (is_any_addr(l->addr) || !memcmp(l->addr, addr, 16)))
			return true;
	}
	return false;
}

/* Whether (addr, port) listens here; a miss reloads a table older than
 * LISTENERS_MAX_AGE_NS, so a look-up costs at most one read a second. */
static bool is_listening(struct listen_table *t, const uint8_t addr[16],
			 uint16_t port)
{
	if (listen_table_has(t, addr, port))
		return true;
	if (t->loaded_ns && monotonic_ns() - t->loaded_ns < LISTENERS_MAX_AGE_NS)
		return false;
	return !listen_table_load(t) && listen_table_has(t, addr, port);
}

/* The same test as the probes' is_local_addr: the peer is on this host. */
static bool is_local_peer(const uint8_t raddr[16], const uint8_t laddr[16])
{
	static const uint8_t lo6[16] = { [15] = 1 };

	return (!memcmp(raddr, v4mapped, 12) && raddr[12] == 127) ||
	       !memcmp(raddr, lo6, 16) || !memcmp(raddr, laddr, 16);
}

/* `all` captured a socket whose opening the probes did not see: which end
 * it is, from the listening sockets (DT_SEL_LOCAL_PORT: the server end,
 * DT_SEL_REMOTE_PORT: the client end of a connection to this host, 0:
 * unknown, the protocol decoders decide). */
static uint32_t side_from_listeners(struct dt_capture *c,
				    const struct dt_event *ev)
{
	if (is_listening(&c->listeners, ev->laddr, ev->lport))
		return DT_SEL_LOCAL_PORT;
	if (is_local_peer(ev->raddr, ev->laddr) &&
	    is_listening(&c->listeners, ev->raddr, ev->rport))
		return DT_SEL_REMOTE_PORT;
	return 0;
}

static bool needs_side(const struct dt_event *ev)
{
	return (ev->sel & DT_SEL_ANY) &&
	       !(ev->sel & (DT_SEL_LOCAL_PORT | DT_SEL_REMOTE_PORT)) &&
	       (ev->type == DT_EV_DATA || ev->type == DT_EV_SENDFILE) &&
	       ev->family != AF_UNIX;
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct dt_capture *c = ctx;
	const struct dt_event *ev = data;
	const uint8_t *payload = (const uint8_t *)data + sizeof(*ev);

	if (size < sizeof(*ev) || ev->len > size - sizeof(*ev))
		return 0;
	if (ev->type == DT_EV_UNIX_PATH) {
		const struct dt_path_event *pe = data;

		if (size < sizeof(*pe))
			return 0;
		return c->fn(c->ctx, ev, (const uint8_t *)pe->path);
	}
	if (needs_side(ev)) {
		struct dt_event sided = *ev;

		sided.sel |= side_from_listeners(c, ev);
		return c->fn(c->ctx, &sided, payload);
	}
	return c->fn(c->ctx, ev, payload);
}

/* Key of one selector in its selection map. */
union sel_key {
	__u32 pid;
	__u64 cgroup_id;
	char comm[DT_COMM_LEN];
	struct dt_port_key port;
	struct dt_path_key path;
};

/* The map holding selector s and its key there (zero-padded); NULL for
 * `all`, which is a config bit. */
static struct bpf_map *selector_key(struct deetune_bpf *skel,
				    const struct dt_selector *s,
				    union sel_key *key)
{
	memset(key, 0, sizeof(*key));
	switch (s->kind) {
	case DT_SEL_PID:
		key->pid = s->pid;
		return skel->maps.sel_pids;
	case DT_SEL_COMM:
		memcpy(key->comm, s->comm, sizeof(key->comm) - 1);
		return skel->maps.sel_comms;
	case DT_SEL_CGROUP:
		key->cgroup_id = s->cgroup_id;
		return skel->maps.sel_cgroups;
	case DT_SEL_UNIX:
		/* the kernel's sun_path: an abstract name starts with NUL */
		memcpy(key->path.path, s->path,
		       strnlen(s->path, sizeof(key->path.path)));
		if (key->path.path[0] == '@')
			key->path.path[0] = '\0';
		return skel->maps.sel_unix;
	case DT_SEL_ADDR:
		memcpy(key->port.addr, s->addr, sizeof(key->port.addr));
		/* fall through */
	case DT_SEL_PORT:
		key->port.port = s->port;
		return skel->maps.sel_ports;
	case DT_SEL_ALL:
		return NULL;
	}
	return NULL;
}

static __u32 selector_bits(const struct dt_selector *s)
{
	return s->server ? DT_SEL_SERVER : DT_SEL_CLIENT;
}

/* Bits of every selector sharing map and key (e.g. --server and --client
 * on one port, or two tasks on one process): the map value is their OR. */
static __u32 key_bits(struct deetune_bpf *skel, const struct bpf_map *map,
		      const void *key, const struct dt_selector *sels,
		      size_t nsels)
{
	__u32 bits = 0;
	union sel_key k;

	for (size_t i = 0; i < nsels; i++) {
		if (selector_key(skel, &sels[i], &k) == map &&
		    !memcmp(&k, key, bpf_map__key_size(map)))
			bits |= selector_bits(&sels[i]);
	}
	return bits;
}

static void config_mark_map(struct dt_config *cfg,
			    const struct deetune_bpf *skel,
			    const struct bpf_map *map)
{
	if (map == skel->maps.sel_pids)
		cfg->have_pid = 1;
	else if (map == skel->maps.sel_comms)
		cfg->have_comm = 1;
	else if (map == skel->maps.sel_cgroups)
		cfg->have_cgroup = 1;
	else if (map == skel->maps.sel_ports)
		cfg->have_port = 1;
	else if (map == skel->maps.sel_unix)
		cfg->have_unix = 1;
}

/* Writes every selector's key with its final value; the probes never see
 * a selector missing that stays selected. */
static int selection_write(struct deetune_bpf *skel, struct dt_config *cfg,
			   const struct dt_selector *sels, size_t nsels)
{
	for (size_t i = 0; i < nsels; i++) {
		struct bpf_map *map;
		union sel_key key;
		__u32 bits;
		int err;

		map = selector_key(skel, &sels[i], &key);
		if (!map) {
			if (sels[i].kind != DT_SEL_ALL)
				return -EINVAL;
			cfg->sel_all |= selector_bits(&sels[i]) | DT_SEL_ANY;
			continue;
		}
		bits = key_bits(skel, map, &key, sels, nsels);
		err = bpf_map__update_elem(map, &key, bpf_map__key_size(map),
					   &bits, sizeof(bits), BPF_ANY);
		if (err)
			return err;
		config_mark_map(cfg, skel, map);
	}
	return 0;
}

/* Deletes the keys of map that no selector holds any more. The doomed
 * keys are gathered first: deleting while walking restarts the walk. */
static int selection_prune(struct deetune_bpf *skel, struct bpf_map *map,
			   const struct dt_selector *sels, size_t nsels)
{
	size_t ksz = bpf_map__key_size(map), n = 0;
	union sel_key key, *doomed;
	void *prev = NULL;
	int ret = 0;

	doomed = calloc(bpf_map__max_entries(map), sizeof(*doomed));
	if (!doomed)
		return -ENOMEM;
	while (n < bpf_map__max_entries(map) &&
	       !bpf_map__get_next_key(map, prev, &doomed[n], ksz)) {
		prev = &doomed[n];
		if (!key_bits(skel, map, prev, sels, nsels)) {
			n++;
		} else {
			/* kept: walk on from a copy */
			memcpy(&key, prev, ksz);
			prev = &key;
		}
	}
	for (size_t i = 0; i < n && !ret; i++) {
		ret = bpf_map__delete_elem(map, &doomed[i], ksz, 0);
		if (ret == -ENOENT)
			ret = 0;
	}
	free(doomed);
	return ret;
}

/* Empties a map keyed by socket (the probes are idle when this is
 * called). Each key is deleted once the walk has moved past it. */
static int map_clear(struct bpf_map *map)
{
	__u64 key, next;
	bool more;
	int ret = 0;

	if (bpf_map__key_size(map) != sizeof(key))
		return -EINVAL;
	more = !bpf_map__get_next_key(map, NULL, &key, sizeof(key));
	while (more && !ret) {
		more = !bpf_map__get_next_key(map, &key, &next, sizeof(key));
		ret = bpf_map__delete_elem(map, &key, sizeof(key), 0);
		if (ret == -ENOENT)
			ret = 0;
		key = next;
	}
	return ret;
}

/* Writes cfg to the probes. Idle probes see no socket close: what they
 * know of sockets would go stale, so it is forgotten. */
int dt_bpf_link_set(struct bpf_link **link, struct bpf_program *prog,
		    bool on)
{
	if (on == (*link != NULL))
		return 0;
	if (!on) {
		bpf_link__destroy(*link);
		*link = NULL;
		return 0;
	}
	*link = bpf_program__attach(prog);
	return *link ? 0 : -errno;
}

/* The syscall programs run only while something is selected; an epoch
 * change on re-enabling (config_apply) voids what a syscall entered while
 * detached left in flight. */
static int syscall_probes_set(struct dt_capture *c, bool on)
{
	struct deetune_bpf *s = c->skel;
	int ret;

	ret = dt_bpf_link_set(&s->links.dt_sys_enter, s->progs.dt_sys_enter,
			      on);
	if (!ret)
		ret = dt_bpf_link_set(&s->links.dt_sys_exit,
				      s->progs.dt_sys_exit, on);
	return ret;
}

static int config_apply(struct dt_capture *c, struct dt_config *cfg)
{
	struct deetune_bpf *skel = c->skel;
	__u32 zero = 0;
	int ret;

	cfg->enabled = cfg->sel_all || cfg->have_pid || cfg->have_comm ||
		       cfg->have_cgroup || cfg->have_port || cfg->have_unix ||
		       cfg->tcp_events;
	if (cfg->enabled && !c->cfg.enabled)
		cfg->epoch++;
	cfg->gen++;
	ret = bpf_map__update_elem(skel->maps.dt_config, &zero, sizeof(zero),
				   cfg, sizeof(*cfg), BPF_ANY);
	if (ret)
		return ret;
	c->cfg = *cfg;
	ret = syscall_probes_set(c, cfg->enabled);
	if (ret || cfg->enabled)
		return ret;
	ret = map_clear(skel->maps.socks);
	if (!ret)
		ret = map_clear(skel->maps.tcp_socks);
	return ret;
}

int dt_capture_set_selectors(struct dt_capture *c,
			     const struct dt_selector *sels, size_t nsels)
{
	struct bpf_map *maps[] = {
		c->skel->maps.sel_pids,  c->skel->maps.sel_comms,
		c->skel->maps.sel_cgroups, c->skel->maps.sel_ports,
		c->skel->maps.sel_unix,
	};
	struct dt_config cfg = c->cfg;
	int ret;

	cfg.have_pid = cfg.have_comm = cfg.have_cgroup = 0;
	cfg.have_port = cfg.have_unix = 0;
	cfg.sel_all = 0;
	ret = selection_write(c->skel, &cfg, sels, nsels);
	for (size_t i = 0; !ret && i < sizeof(maps) / sizeof(maps[0]); i++)
		ret = selection_prune(c->skel, maps[i], sels, nsels);
	if (!ret)
		ret = config_apply(c, &cfg);
	return ret;
}

int dt_capture_set_tcp_events(struct dt_capture *c, bool on)
{
	struct dt_config cfg = c->cfg;

	cfg.tcp_events = on;
	return config_apply(c, &cfg);
}

static void endpoint_set(struct dt_endpoint *ep, const uint8_t addr[16],
			 uint16_t port)
{
	if (!memcmp(addr, v4mapped, sizeof(v4mapped))) {
		ep->family = DT_FAMILY_IPV4;
		memcpy(ep->addr, addr + 12, 4);
	} else {
		ep->family = DT_FAMILY_IPV6;
		memcpy(ep->addr, addr, 16);
	}
	ep->port = port;
}

int dt_capture_tcp_event(const struct dt_event *ev, const uint8_t *data,
			 struct dt_tcp_event *out)
{
	static const enum dt_tcp_event_kind kinds[] = {
		[DT_TCPK_CONNECT] = DT_TCP_CONNECT,
		[DT_TCPK_CONNECT_FAILED] = DT_TCP_CONNECT_FAILED,
		[DT_TCPK_RETRANSMIT] = DT_TCP_RETRANSMIT,
		[DT_TCPK_RESET] = DT_TCP_RESET,
	};
	struct dt_tcp_info info;

	if (ev->type != DT_EV_TCP || ev->len < sizeof(info))
		return -EINVAL;
	memcpy(&info, data, sizeof(info));
	if (info.kind >= sizeof(kinds) / sizeof(kinds[0]) || !kinds[info.kind])
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->kind = kinds[info.kind];
	endpoint_set(&out->local, ev->laddr, ev->lport);
	out->local.pid = ev->tgid;
	memcpy(out->local.comm, ev->comm, sizeof(out->local.comm) - 1);
	out->local.cgroup_id = ev->cgroup_id;
	endpoint_set(&out->remote, ev->raddr, ev->rport);
	out->local_is_client = info.role == DT_ROLE_CLIENT ? 1 :
			       info.role == DT_ROLE_SERVER ? 0 : -1;
	out->error = info.error;
	out->sent = info.sent;
	out->ts_ns = ev->ts_ns + dt_clock_realtime_offset();
	return 0;
}

static void explain(int err, const char *what, char *msg, size_t len)
{
	/* root without the capabilities (a container, a bounding set) is
	 * refused like a user: it is not the kernel's fault */
	if (geteuid() != 0 || err == -EPERM || err == -EACCES)
		snprintf(msg, len, "%s: permission denied: recording needs "
			 "root with CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)",
			 what);
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
	c->cfg.self_tgid = getpid();
	ret = dt_capture_set_selectors(c, sels, nsels);
	if (ret) {
		explain(ret, "cannot fill the selector maps", err, errlen);
		goto fail;
	}
	ret = deetune_bpf__attach(c->skel);
	/* attached whole: idle ones go again */
	if (!ret)
		ret = syscall_probes_set(c, c->cfg.enabled);
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
	free(c->listeners.v);
	free(c);
}
