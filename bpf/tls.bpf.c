// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TLS plaintext from uprobes on OpenSSL's libssl.
 *
 * An SSL call's entry remembers, per thread, the SSL object and the
 * caller's buffer; the read/write syscalls the thread makes inside the
 * call tell which socket the SSL object uses (no OpenSSL struct offsets
 * needed), remembered per SSL object for later calls served from
 * OpenSSL's buffers. At the call's return the bytes it moved are copied
 * into the ring buffer with the object's plaintext offset.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tls.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The socket syscalls OpenSSL's BIOs (and curl's) use; vmlinux.h has no
 * syscall numbers. */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#elif defined(__TARGET_ARCH_arm64)
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#else
#error "unsupported architecture: add its syscall numbers"
#endif


/* An SSL call in progress on a thread. */
struct ssl_call {
	__u64 ssl;
	__u64 buf;       /* user pointer to the plaintext */
	__u64 size_out;  /* user pointer to the _ex count, 0 otherwise */
	__u32 kind;      /* enum dt_tls_call */
	__u32 fd;        /* last socket syscall inside the call */
};

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* What an SSL object told so far. */
struct ssl_state {
	__u64 pos[2];    /* next plaintext offset per enum dt_dir */
	__u32 fd;        /* DT_TLS_FD_UNKNOWN until a syscall is seen */
	__u32 pad;
};

/* An event plus room for one chunk. */
struct tls_scratch {
	struct dt_tls_event ev;
	__u8 data[DT_TLS_CHUNK_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by user space before load */
} tls_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dt_tls_config);
} tls_config SEC(".maps");

/* Selected processes when the selection names pids only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} tls_pids SEC(".maps");

/* By thread id: one SSL call at a time per thread. A thread that dies
 * inside a call leaves its entry: LRU bounds those. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* Entries go at SSL_free; LRU bounds those of processes that died. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct ssl_state);
} ssl_states SEC(".maps");

/* One scratch per CPU, indexed by CPU number (a per-CPU array value is
 * limited to 32 KiB); user space sizes it to the number of CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tls_scratch);
} tls_scratch_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DT_TLS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tls_stats SEC(".maps");

/* Wake the reader only once a batch has piled up; it polls on a timer. */
#define WAKEUP_BYTES (256 * 1024)

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&tls_stats, &idx);

	if (v)
		*v += n;
}

static __always_inline int traced(__u32 tgid)
{
	__u32 zero = 0;
	struct dt_tls_config *cfg = bpf_map_lookup_elem(&tls_config, &zero);

	if (!cfg || !cfg->enabled || tgid == cfg->self_tgid)
		return 0;
	return !cfg->have_pid || bpf_map_lookup_elem(&tls_pids, &tgid);
}

static __always_inline int call_enter(__u64 ssl, __u64 buf, __u64 size_out,
				      __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call c = {
		.ssl = ssl,
		.buf = buf,
		.size_out = size_out,
		.kind = kind,
		.fd = DT_TLS_FD_UNKNOWN,
	};
	__u32 tid = id;

	if (!traced(id >> 32))
		return 0;
	bpf_map_update_elem(&ssl_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* The state of the call's SSL object, created at its first call. */
static __always_inline struct ssl_state *ssl_state_of(const struct ssl_call *c,
						      __u32 tgid)
{
	struct ssl_key k = { .ssl = c->ssl, .tgid = tgid };
	struct ssl_state fresh = { .fd = DT_TLS_FD_UNKNOWN };
	struct ssl_state *st;

	st = bpf_map_lookup_elem(&ssl_states, &k);
	if (st)
		return st;
	bpf_map_update_elem(&ssl_states, &k, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ssl_states, &k);
}

struct copy_ctx {
	struct tls_scratch *s;
	__u64 src;      /* user pointer of the next byte */
	__u64 left;     /* bytes not yet copied */
	int failed;
};

static __always_inline __u64 wakeup_flags(void)
{
	return bpf_ringbuf_query(&tls_events, BPF_RB_AVAIL_DATA) >=
			       WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP :
					      BPF_RB_NO_WAKEUP;
}

static long copy_step(__u32 i, struct copy_ctx *c)
{
	__u64 n = c->left;

	if (!n)
		return 1;
	barrier_var(n);
	if (n > DT_TLS_CHUNK_SIZE)
		n = DT_TLS_CHUNK_SIZE;
	barrier_var(n);
	if (bpf_probe_read_user(c->s->data, n, (const void *)c->src)) {
		c->failed = 1;
		return 1;
	}
	c->s->ev.len = n;
	if (bpf_ringbuf_output(&tls_events, c->s, sizeof(c->s->ev) + n,
			       wakeup_flags())) {
		stat_add(DT_TLS_DROP_RINGBUF_FULL, 1);
	} else {
		stat_add(DT_TLS_STAT_EVENTS, 1);
		stat_add(DT_TLS_STAT_BYTES, n);
	}
	/* the offset moves even for a lost chunk: user space sees a gap */
	c->s->ev.pos += n;
	c->src += n;
	c->left -= n;
	return 0;
}

/* Sends size bytes at c->buf in chunks; the object's offset advances by
 * size whatever is lost, so that user space can tell. */
static __always_inline void emit_plaintext(const struct ssl_call *c,
					   struct ssl_state *st, __u64 size,
					   __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 cpu = bpf_get_smp_processor_id();
	struct tls_scratch *s = bpf_map_lookup_elem(&tls_scratch_buf, &cpu);
	struct copy_ctx cc = { .src = c->buf, .left = size };

	if (!s)
		return;
	cc.s = s;
	s->ev.ts_ns = bpf_ktime_get_ns();
	s->ev.ssl = c->ssl;
	s->ev.pos = __sync_fetch_and_add(&st->pos[dir & 1], size);
	s->ev.tgid = id >> 32;
	s->ev.tid = id;
	s->ev.fd = st->fd;
	s->ev.dir = dir;
	bpf_loop(DT_TLS_MAX_CHUNKS, copy_step, &cc, 0);
	if (cc.failed)
		stat_add(DT_TLS_DROP_READ_FAILED, 1);
	else if (cc.left)
		stat_add(DT_TLS_DROP_TRUNCATED, 1);
}

/* The byte count an SSL call returned, 0 when it moved nothing. Every
 * function returns an int: the upper half of the register is not its. */
static __always_inline __u64 call_result(const struct ssl_call *c, int ret)
{
	__u64 n = 0;

	if (ret <= 0)
		return 0;
	if (c->kind == DT_TLS_CALL_READ || c->kind == DT_TLS_CALL_WRITE)
		return ret;
	if (bpf_probe_read_user(&n, sizeof(n), (const void *)c->size_out))
		return 0;
	return n;
}

static __always_inline int call_exit(int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_state *st;
	struct ssl_call *cp;
	struct ssl_call c;
	__u32 tid = id;
	__u64 n;

	cp = bpf_map_lookup_elem(&ssl_calls, &tid);
	if (!cp)
		return 0;
	c = *cp;
	bpf_map_delete_elem(&ssl_calls, &tid);
	st = ssl_state_of(&c, id >> 32);
	if (!st)
		return 0;
	if (c.fd != DT_TLS_FD_UNKNOWN)
		st->fd = c.fd;
	if (c.kind == DT_TLS_CALL_HANDSHAKE)
		return 0;
	n = call_result(&c, ret);
	if (n)
		emit_plaintext(&c, st, n,
			       c.kind == DT_TLS_CALL_WRITE ||
			       c.kind == DT_TLS_CALL_WRITE_EX ?
				       DT_DIR_EGRESS : DT_DIR_INGRESS);
	return 0;
}

/* The same program on every function: the attach cookie (enum
 * dt_tls_call) tells which. */
SEC("uprobe")
int BPF_KPROBE(dt_ssl_entry, void *ssl, void *buf, size_t num,
	       size_t *size_out)
{
	__u64 kind = bpf_get_attach_cookie(ctx);
	struct ssl_key k;

	switch (kind) {
	case DT_TLS_CALL_READ:
	case DT_TLS_CALL_WRITE:
		return call_enter((__u64)ssl, (__u64)buf, 0, kind);
	case DT_TLS_CALL_READ_EX:
	case DT_TLS_CALL_WRITE_EX:
		return call_enter((__u64)ssl, (__u64)buf, (__u64)size_out,
				  kind);
	case DT_TLS_CALL_HANDSHAKE:
		return call_enter((__u64)ssl, 0, 0, kind);
	case DT_TLS_CALL_FREE:
		/* the address may serve a new SSL object next: forget the
		 * socket and the offsets */
		k.ssl = (__u64)ssl;
		k.tgid = bpf_get_current_pid_tgid() >> 32;
		k.pad = 0;
		bpf_map_delete_elem(&ssl_states, &k);
		return 0;
	}
	return 0;
}

/* One return probe serves every function: the entry said which. */
SEC("uretprobe")
int BPF_KRETPROBE(dt_ssl_ret, int ret)
{
	return call_exit(ret);
}

static __always_inline int is_socket_io(long nr)
{
	switch (nr) {
	case NR_read:
	case NR_write:
	case NR_readv:
	case NR_writev:
	case NR_sendto:
	case NR_recvfrom:
	case NR_sendmsg:
	case NR_recvmsg:
		return 1;
	}
	return 0;
}

/* A thread inside an SSL call: the fd of its I/O is the SSL object's. */
SEC("tp_btf/sys_enter")
int BPF_PROG(dt_tls_sys_enter, struct pt_regs *regs, long nr)
{
	struct ssl_call *cp;
	__u32 tid;

	if (!is_socket_io(nr))
		return 0;
	tid = bpf_get_current_pid_tgid();
	cp = bpf_map_lookup_elem(&ssl_calls, &tid);
	if (cp)
		cp->fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}
