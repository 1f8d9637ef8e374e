// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket payload capture from the generic syscall tracepoints.
 *
 * sys_enter stashes the arguments of the socket I/O syscalls of selected
 * processes/sockets; sys_exit copies the bytes actually transferred into the
 * ring buffer in bounded chunks, each tagged with its stream offset so user
 * space can tell gaps from loss. One raw tracepoint pair instead of a
 * tracepoint per syscall: every syscall pays the hook either way, and the
 * raw hook is the cheaper one for socket syscalls (CAPTURE-NOTES).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "deetune.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1

/* Syscall numbers differ per architecture; vmlinux.h has none. */
#if defined(__TARGET_ARCH_x86)
#define NR_close 3
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#elif defined(__TARGET_ARCH_arm64)
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendfile 71
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#else
#error "unsupported architecture: add its syscall numbers"
#endif

/* The syscall number as sys_exit sees it (user registers). */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#endif

/* How a syscall passes its buffer. */
enum io_kind {
	IO_FLAT = 1,     /* (fd, buf, len) */
	IO_IOVEC = 2,    /* (fd, iov, iovcnt) */
	IO_MSGHDR = 3,   /* (fd, msghdr, flags) */
	IO_SENDFILE = 4, /* (out_fd, in_fd, ...): no user buffer */
	IO_CLOSE = 5,    /* (fd): ends a socket's tracking */
};

struct io_args {
	__u64 sk;        /* struct sock * as a number (map key) */
	__u64 buf;       /* user pointer: buffer or iovec array */
	__u32 iovcnt;
	__u32 fd;
	__u32 epoch;     /* dt_config.epoch at sys_enter */
	__u8 kind;       /* enum io_kind, 0 when no syscall is in flight */
	__u8 dir;        /* enum dt_dir */
};

/* A socket's addresses as events carry them (see struct dt_event). */
struct sock_tuple {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u16 family;
};

/* What the probes know about a socket they capture. */
struct sock_state {
	struct sock_tuple t; /* read once: a connected socket keeps it */
	__u64 conn_id;
	__u64 pos[2];       /* next stream offset per direction */
	__u64 start_pos[2];
	__u32 sel;          /* DT_SEL_* */
	__u8 peer_only;     /* the other end is traced: no payload here */
	__u8 first;         /* no event sent yet */
	__u8 unsure_start;  /* DT_EVF_UNSURE_START */
	/* TCP_CLOSE seen while a file still held the socket: reads may
	 * still return what it had received, so the entry stays until
	 * close() (or, when the process exits instead, LRU eviction) */
	__u8 closed;
	__u32 gen;          /* dt_config.gen when sel was decided */
	__u64 ino;          /* the socket's inode */
};

/* Which selectors match a socket, and whether its other end records it. */
struct selection {
	__u32 sel;          /* DT_SEL_*, 0 = not selected */
	__u8 peer_only;
};

/* A TCP socket whose opening the probes saw: which end it is and, for the
 * connecting end, who connected (TCP events happen later in softirq). */
struct tcp_sock_info {
	__u64 cgroup_id;
	__u32 tgid;
	__u32 tid;
	char comm[DT_COMM_LEN];
	__s8 role;          /* enum dt_tcp_role */
};

/* An event plus room for one chunk; the payload is written at an offset
 * below DT_CHUNK_SIZE and at most DT_CHUNK_SIZE long, so twice the chunk
 * keeps every access provably in bounds for the verifier. */
struct scratch {
	struct dt_event ev;
	__u8 data[2 * DT_CHUNK_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dt_config);
} dt_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} sel_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[DT_COMM_LEN]);
	__type(value, __u32);
} sel_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u32);
} sel_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct dt_port_key);
	__type(value, __u32);
} sel_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct dt_path_key);
	__type(value, __u32);
} sel_unix SEC(".maps");

/* The in-flight syscall of each thread: task storage is a pointer away
 * from the task (no hashing on the hot path) and goes with the task. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct io_args);
} inflight SEC(".maps");

/* LRU: a Unix socket closed by its process's exit leaves no trace the
 * probes see; such entries are the ones evicted when the map is full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_state);
} socks SEC(".maps");

/* One scratch per CPU, indexed by CPU number: a per-CPU array value is
 * limited to 32 KiB. User space sizes it to the number of CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_buf SEC(".maps");

/* Sockets found unselected, so that their next syscalls leave after one
 * look-up. Entries go at TCP_CLOSE; the socket's inode and the selection
 * generation tell stale entries apart; LRU bounds the rest. */
struct unselected {
	__u64 ino;
	__u32 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct unselected);
} unselected_socks SEC(".maps");

/* Every TCP socket of the host seen at SYN_SENT or SYN_RECV while the
 * probes are enabled. Entries outlive TCP_CLOSE, since a reset may be sent
 * after it (an aborting close()); the next socket at the same address
 * overwrites them when it opens, and LRU bounds the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tcp_sock_info);
} tcp_socks SEC(".maps");

/* Events other than payload chunks are built here, off the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dt_path_event);
} small_buf SEC(".maps");

/* Drop counters and statistics, indexed by enum dt_drop_reason/dt_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

__u64 next_conn_id = 0;

/* Wake the reader only once a batch has piled up; it also polls on a short
 * timer. A wakeup per event costs more than the copy itself. */
#define WAKEUP_BYTES (256 * 1024)

static __always_inline __u64 wakeup_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline struct dt_path_event *small_event(void)
{
	__u32 zero = 0;
	struct dt_path_event *pe = bpf_map_lookup_elem(&small_buf, &zero);

	if (pe)
		__builtin_memset(pe, 0, sizeof(*pe));
	return pe;
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

static __always_inline int classify(long nr, __u8 *kind, __u8 *dir)
{
	switch (nr) {
	case NR_read:
	case NR_recvfrom:
		*kind = IO_FLAT;
		*dir = DT_DIR_INGRESS;
		return 1;
	case NR_write:
	case NR_sendto:
		*kind = IO_FLAT;
		*dir = DT_DIR_EGRESS;
		return 1;
	case NR_readv:
		*kind = IO_IOVEC;
		*dir = DT_DIR_INGRESS;
		return 1;
	case NR_writev:
		*kind = IO_IOVEC;
		*dir = DT_DIR_EGRESS;
		return 1;
	case NR_recvmsg:
		*kind = IO_MSGHDR;
		*dir = DT_DIR_INGRESS;
		return 1;
	case NR_sendmsg:
		*kind = IO_MSGHDR;
		*dir = DT_DIR_EGRESS;
		return 1;
	case NR_sendfile:
		*kind = IO_SENDFILE;
		*dir = DT_DIR_EGRESS;
		return 1;
	case NR_close:
		*kind = IO_CLOSE;
		return 1;
	}
	return 0;
}

/* fd -> struct sock of a TCP socket over IPv4/IPv6 or of a Unix stream
 * socket, or NULL. Works for sockets opened before the recorder started. */
static __always_inline struct sock *fd_to_stream_sock(__u32 fd, __u64 *ino)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file;
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	if (BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
		return NULL;
	/* The socket's inode tells a reused struct sock apart: a Unix
	 * socket may go without a close() we see (process exit), and a
	 * TCP socket's state can race with its last syscalls. */
	*ino = BPF_CORE_READ(file, f_inode, i_ino);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_UNIX)
		return sk;
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	return sk;
}

/* Addresses as 16 bytes, IPv4 mapped into ::ffff:0:0/96. */
static __always_inline void sock_addrs(struct sock *sk, __u16 family,
				       __u8 laddr[16], __u8 raddr[16])
{
	if (family == AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memset(laddr, 0, 16);
		__builtin_memset(raddr, 0, 16);
		laddr[10] = laddr[11] = raddr[10] = raddr[11] = 0xff;
		__builtin_memcpy(laddr + 12, &l, 4);
		__builtin_memcpy(raddr + 12, &r, 4);
	} else {
		/* an array parameter is a pointer: read all 16 bytes */
		bpf_core_read(laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline void read_tuple(struct sock_tuple *t, struct sock *sk)
{
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (t->family == AF_UNIX) {
		/* no addresses to tell connections apart: the socket and its
		 * peer are the identity of both ends */
		__u64 self = (__u64)sk;
		__u64 peer = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);

		__builtin_memset(t->laddr, 0, 16);
		__builtin_memset(t->raddr, 0, 16);
		__builtin_memcpy(t->laddr, &self, 8);
		__builtin_memcpy(t->raddr, &peer, 8);
		t->lport = t->rport = 0;
		return;
	}
	sock_addrs(sk, t->family, t->laddr, t->raddr);
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline int is_local_addr(const __u8 a[16], const __u8 l[16])
{
	int same = 1, lo6 = 1;

	/* 127.0.0.0/8 mapped into IPv6 */
	if (a[10] == 0xff && a[11] == 0xff && a[12] == 127)
		return 1;
	for (int i = 0; i < 16; i++) {
		if (a[i] != l[i])
			same = 0;
		if (a[i] != (i == 15 ? 1 : 0))
			lo6 = 0;
	}
	return same || lo6;
}

static __always_inline __u32 port_lookup(const __u8 addr[16], __u16 port)
{
	struct dt_port_key key = { .port = port };
	__u32 *v;

	v = bpf_map_lookup_elem(&sel_ports, &key);
	if (v)
		return *v;
	__builtin_memcpy(key.addr, addr, 16);
	v = bpf_map_lookup_elem(&sel_ports, &key);
	return v ? *v : 0;
}

/* Which selectors match the current process; 0 when none. */
static __always_inline __u32 match_process(const struct dt_config *cfg,
					   __u32 tgid)
{
	__u32 sel = 0, *v;

	if (cfg->have_pid) {
		v = bpf_map_lookup_elem(&sel_pids, &tgid);
		if (v)
			sel |= *v;
	}
	if (cfg->have_comm) {
		char comm[DT_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		v = bpf_map_lookup_elem(&sel_comms, comm);
		if (v)
			sel |= *v;
	}
	if (cfg->have_cgroup) {
		__u64 cg = bpf_get_current_cgroup_id();

		v = bpf_map_lookup_elem(&sel_cgroups, &cg);
		if (v)
			sel |= *v;
	}
	return sel;
}

static __always_inline struct sock_state *
insert_state(__u64 key, struct sock_state *st)
{
	st->conn_id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	if (bpf_map_update_elem(&socks, &key, st, BPF_NOEXIST)) {
		/* lost a race with another thread, or the map is full */
		struct sock_state *cur = bpf_map_lookup_elem(&socks, &key);

		if (!cur)
			stat_add(DT_DROP_STATE_FULL, 1);
		return cur;
	}
	return bpf_map_lookup_elem(&socks, &key);
}

/* A connected Unix socket's path: its own (the accepting end inherits the
 * listener's) or else its peer's. */
static __always_inline struct unix_address *unix_addr(struct sock *sk,
						      bool *own)
{
	struct unix_sock *u = (struct unix_sock *)sk;
	struct unix_address *addr = BPF_CORE_READ(u, addr);
	struct sock *peer;

	*own = addr != NULL;
	if (addr)
		return addr;
	peer = BPF_CORE_READ(u, peer);
	return peer ? BPF_CORE_READ((struct unix_sock *)peer, addr) : NULL;
}

static __always_inline void emit_unix_path(struct sock *sk,
					   struct sock_state *st,
					   struct unix_address *addr);

/* Copies the name's own bytes only (the allocation ends there), into a
 * zeroed buffer: the rest stays NUL, as in the selector keys. */
static __always_inline void read_unix_path(char path[DT_PATH_LEN],
					   struct unix_address *addr)
{
	__u64 n = BPF_CORE_READ(addr, len);

	n = n > sizeof(__u16) ? n - sizeof(__u16) : 0;
	barrier_var(n);
	if (n > DT_PATH_LEN)
		n = DT_PATH_LEN;
	barrier_var(n);
	if (n)
		bpf_probe_read_kernel(path, n, &addr->name[0].sun_path);
}

/* Unix stream sockets: selected by process or by path. With a path
 * selector both ends match; the end that owns the path records. Returns
 * the path to report, NULL for none. */
static __always_inline struct unix_address *
select_unix(struct sock *sk, __u32 proc_sel, const struct dt_config *cfg,
	    struct selection *s)
{
	struct unix_address *addr;
	struct dt_path_event *pe;
	__u32 usel = 0, *v;
	bool own;

	addr = unix_addr(sk, &own);
	if (addr && cfg->have_unix) {
		pe = small_event();
		if (pe) {
			read_unix_path(pe->path, addr);
			v = bpf_map_lookup_elem(&sel_unix, pe->path);
			usel = v ? *v : 0;
		}
	}
	s->sel = proc_sel | usel;
	s->peer_only = 0;
	if (usel)
		s->sel |= own ? DT_SEL_LOCAL_PORT : DT_SEL_REMOTE_PORT;
	if (usel && !own && !proc_sel && (usel & DT_SEL_SERVER))
		s->peer_only = 1;
	return addr;
}

/* `all` captures both ends of a loopback connection: as with port
 * selectors, the connecting end is kept as identity only, so each byte is
 * copied out once. Sockets opened before the probes were enabled have no
 * known role: user space decides from the listening sockets. */
static __always_inline void select_all_tcp(__u64 key,
					   const struct sock_tuple *t,
					   struct selection *s)
{
	struct tcp_sock_info *info = bpf_map_lookup_elem(&tcp_socks, &key);

	if (!info)
		return;
	if (info->role == DT_ROLE_SERVER) {
		s->sel |= DT_SEL_LOCAL_PORT;
		s->peer_only = 0;
	} else if (info->role == DT_ROLE_CLIENT) {
		s->sel |= DT_SEL_REMOTE_PORT;
		s->peer_only = is_local_addr(t->raddr, t->laddr);
	}
}

/* TCP sockets: selected by process or by port. With port selectors both
 * ends of a loopback connection match; the client end is then kept as
 * identity only, so each byte is copied out once. */
static __always_inline void select_tcp(__u64 key, const struct sock_tuple *t,
				       __u32 proc_sel,
				       const struct dt_config *cfg,
				       struct selection *s)
{
	__u32 lsel = 0, rsel = 0;

	if (cfg->have_port) {
		lsel = port_lookup(t->laddr, t->lport);
		rsel = port_lookup(t->raddr, t->rport);
	}
	s->sel = proc_sel | lsel | rsel;
	s->peer_only = 0;
	if (lsel)
		s->sel |= DT_SEL_LOCAL_PORT;
	if (rsel) {
		s->sel |= DT_SEL_REMOTE_PORT;
		/* the server end is selected by its port (or by `all`) */
		if ((!proc_sel || (proc_sel & DT_SEL_ANY)) && !lsel &&
		    (rsel & DT_SEL_SERVER) && is_local_addr(t->raddr, t->laddr))
			s->peer_only = 1;
	}
	if (proc_sel & DT_SEL_ANY)
		select_all_tcp(key, t, s);
}

static __always_inline struct sock_state *track_unix(struct sock *sk,
						     __u64 ino, __u32 proc_sel,
						     const struct dt_config *cfg)
{
	struct sock_state st = {
		.first = 1, .unsure_start = 1, .ino = ino, .gen = cfg->gen,
	};
	struct unix_address *addr;
	struct sock_state *cur;
	struct selection s;

	addr = select_unix(sk, proc_sel, cfg, &s);
	if (!s.sel)
		return NULL;
	read_tuple(&st.t, sk);
	st.sel = s.sel;
	st.peer_only = s.peer_only;
	cur = insert_state((__u64)sk, &st);
	if (cur && cur->first && addr)
		emit_unix_path(sk, cur, addr);
	return cur;
}

/* Starts tracking a socket that matched a selector. */
static __always_inline struct sock_state *track_sock(struct sock *sk,
						     __u64 ino, __u32 proc_sel,
						     const struct dt_config *cfg)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct sock_state st = { .first = 1, .ino = ino, .gen = cfg->gen };
	__u64 key = (__u64)sk;
	__u32 rcv_nxt, copied, snd_una, write_seq;
	struct selection s;

	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX)
		return track_unix(sk, ino, proc_sel, cfg);
	/* no TCP_CLOSE would come to end its tracking */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		return NULL;
	read_tuple(&st.t, sk);
	select_tcp(key, &st.t, proc_sel, cfg, &s);
	if (!s.sel)
		return NULL;
	st.sel = s.sel;
	st.peer_only = s.peer_only;
	/* Offsets of the bytes the application consumed before we looked,
	 * so that joining an open connection shows as a non-zero start. */
	rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
	copied = BPF_CORE_READ(tp, copied_seq);
	snd_una = BPF_CORE_READ(tp, snd_una);
	write_seq = BPF_CORE_READ(tp, write_seq);
	st.pos[DT_DIR_INGRESS] = BPF_CORE_READ(tp, bytes_received) -
				 (__u32)(rcv_nxt - copied);
	st.pos[DT_DIR_EGRESS] = BPF_CORE_READ(tp, bytes_acked) +
				(__u32)(write_seq - snd_una);
	st.start_pos[0] = st.pos[0];
	st.start_pos[1] = st.pos[1];
	return insert_state(key, &st);
}

static __always_inline void fill_event(struct dt_event *ev, __u32 type,
				       struct sock *sk, struct sock_state *st,
				       __u32 fd, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();

	ev->type = type;
	ev->tgid = id >> 32;
	ev->tid = (__u32)id;
	ev->fd = fd;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->conn_id = st->conn_id;
	ev->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	__builtin_memcpy(ev->laddr, st->t.laddr, 16);
	__builtin_memcpy(ev->raddr, st->t.raddr, 16);
	ev->lport = st->t.lport;
	ev->rport = st->t.rport;
	ev->family = st->t.family;
	ev->dir = dir;
	ev->flags = (st->first ? DT_EVF_FIRST : 0) |
		    (st->unsure_start ? DT_EVF_UNSURE_START : 0);
	ev->sel = st->sel;
	ev->len = 0;
	ev->msg_size = 0;
	ev->start_pos[0] = st->start_pos[0];
	ev->start_pos[1] = st->start_pos[1];
	st->first = 0;
}

static __always_inline void submit(struct scratch *s, __u64 len)
{
	/* hide len from the optimiser so the bound check stays where the
	 * verifier needs it */
	barrier_var(len);
	if (len > DT_CHUNK_SIZE)
		len = DT_CHUNK_SIZE;
	barrier_var(len);
	s->ev.len = len;
	if (bpf_ringbuf_output(&events, s, sizeof(s->ev) + len,
			       wakeup_flags())) {
		stat_add(DT_DROP_RINGBUF_FULL, 1);
		return;
	}
	stat_add(DT_STAT_EVENTS, 1);
	stat_add(DT_STAT_BYTES, len);
}

/* State of one copy loop: user segments are gathered into chunks. */
struct copy_ctx {
	struct scratch *s;
	const struct iovec *iov; /* user pointer, IO_IOVEC and IO_MSGHDR */
	__u64 seg;               /* user pointer of the current segment */
	__u64 seg_left;          /* bytes left in the current segment */
	__u64 left;              /* bytes of the syscall not yet copied */
	__u32 iov_idx;
	__u32 iovcnt;
	__u64 fill;              /* bytes in s->data */
	__u32 chunks;
	int failed;
};

static long copy_step(__u32 i, struct copy_ctx *c)
{
	__u32 n;

	if (!c->left || c->chunks >= DT_MAX_CHUNKS_PER_CALL)
		return 1;
	if (!c->seg_left) {
		struct iovec v;

		if (!c->iov || c->iov_idx >= c->iovcnt ||
		    c->iov_idx >= DT_MAX_IOV)
			return 1;
		if (bpf_probe_read_user(&v, sizeof(v), &c->iov[c->iov_idx])) {
			c->failed = 1;
			return 1;
		}
		c->iov_idx++;
		c->seg = (__u64)v.iov_base;
		c->seg_left = v.iov_len < c->left ? v.iov_len : c->left;
		return 0;
	}
	n = DT_CHUNK_SIZE - (c->fill & (DT_CHUNK_SIZE - 1));
	if (n > c->seg_left)
		n = c->seg_left;
	if (n > DT_CHUNK_SIZE)
		n = DT_CHUNK_SIZE;
	if (bpf_probe_read_user(c->s->data + (c->fill & (DT_CHUNK_SIZE - 1)),
				n, (const void *)c->seg)) {
		c->failed = 1;
		return 1;
	}
	c->fill += n;
	c->seg += n;
	c->seg_left -= n;
	c->left -= n;
	if (c->fill >= DT_CHUNK_SIZE || !c->left) {
		submit(c->s, c->fill);
		c->s->ev.pos += c->fill;
		c->fill = 0;
		c->chunks++;
	}
	return 0;
}

/* Copies the bytes a finished syscall moved, in chunks of at most
 * DT_CHUNK_SIZE; whatever does not fit the limits is counted and shows up
 * in user space as a gap, since ev.pos always advances by the full size. */
static __always_inline void copy_payload(struct scratch *s,
					 const struct io_args *a, __u64 size)
{
	struct copy_ctx c = {
		.s = s,
		.left = size,
	};

	if (a->kind == IO_FLAT) {
		c.seg = a->buf;
		c.seg_left = size;
	} else {
		c.iov = (const struct iovec *)a->buf;
		c.iovcnt = a->iovcnt;
	}
	bpf_loop(DT_MAX_CHUNKS_PER_CALL + DT_MAX_IOV + 1, copy_step, &c, 0);
	if (c.fill)
		submit(s, c.fill);
	if (c.failed)
		stat_add(DT_DROP_READ_FAILED, 1);
	else if (c.left)
		stat_add(DT_DROP_TRUNCATED, 1);
}

static __always_inline void emit_peer(struct sock *sk, struct sock_state *st,
				      __u32 fd)
{
	struct dt_path_event *pe = small_event();

	if (!pe)
		return;
	fill_event(&pe->ev, DT_EV_PEER, sk, st, fd, 0);
	if (bpf_ringbuf_output(&events, &pe->ev, sizeof(pe->ev),
			       wakeup_flags()))
		stat_add(DT_DROP_RINGBUF_FULL, 1);
}

static __always_inline void emit_unix_path(struct sock *sk,
					   struct sock_state *st,
					   struct unix_address *addr)
{
	struct dt_path_event *pe = small_event();

	if (!pe)
		return;
	fill_event(&pe->ev, DT_EV_UNIX_PATH, sk, st, 0, 0);
	/* the next event is still the socket's first for user space */
	st->first = 1;
	read_unix_path(pe->path, addr);
	if (bpf_ringbuf_output(&events, pe, sizeof(*pe), wakeup_flags()))
		stat_add(DT_DROP_RINGBUF_FULL, 1);
}

/* Ends the tracking of a socket that went without a TCP_CLOSE we saw. */
static __always_inline void end_tracking(__u64 key, struct sock_state *st)
{
	struct dt_path_event *pe = st->closed ? NULL : small_event();

	if (pe) {
		pe->ev.type = DT_EV_CLOSE;
		pe->ev.ts_ns = bpf_ktime_get_ns();
		pe->ev.conn_id = st->conn_id;
		if (bpf_ringbuf_output(&events, &pe->ev, sizeof(pe->ev),
				       wakeup_flags()))
			stat_add(DT_DROP_RINGBUF_FULL, 1);
	}
	bpf_map_delete_elem(&socks, &key);
}

/* The selection changed since the socket was tracked. A socket still
 * selected keeps its connection (only the bits change); one no longer
 * selected, or now to be recorded at the other end (or here instead),
 * ends: the caller then looks at it as a new socket. */
static __always_inline struct sock_state *
revalidate(struct sock *sk, __u64 key, struct sock_state *st, __u32 proc_sel,
	   const struct dt_config *cfg)
{
	struct selection s;

	if (st->t.family == AF_UNIX)
		select_unix(sk, proc_sel, cfg, &s);
	else
		select_tcp(key, &st->t, proc_sel, cfg, &s);
	if (s.sel && s.peer_only == st->peer_only) {
		st->sel = s.sel;
		st->gen = cfg->gen;
		return st;
	}
	end_tracking(key, st);
	return NULL;
}

/* close() of a tracked socket. A Unix socket's end is only seen here. A
 * TCP one's is told at TCP_CLOSE, where the entry goes once no file holds
 * the socket; when that came first, the entry goes now; an aborting
 * close() (SO_LINGER 0, unread data) reaches TCP_CLOSE before its file is
 * released: sys_exit looks again. */
static __always_inline void on_close_enter(struct sock_state *st,
					   struct io_args *a,
					   const struct dt_config *cfg)
{
	struct io_args *ap;

	if (st->t.family == AF_UNIX) {
		end_tracking(a->sk, st);
	} else if (st->closed) {
		bpf_map_delete_elem(&socks, &a->sk);
	} else {
		a->epoch = cfg->epoch;
		ap = bpf_task_storage_get(&inflight,
					  bpf_get_current_task_btf(), 0,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (ap)
			*ap = *a;
	}
}

/* Reports the ret bytes a finished syscall moved. */
static __always_inline void emit_payload(struct sock_state *st,
					 const struct io_args *a, long ret)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch_buf, &cpu);
	__u64 pos;

	if (!s)
		return;
	pos = __sync_fetch_and_add(&st->pos[a->dir & 1], ret);
	fill_event(&s->ev, a->kind == IO_SENDFILE ? DT_EV_SENDFILE : DT_EV_DATA,
		   (struct sock *)a->sk, st, a->fd, a->dir);
	s->ev.pos = pos;
	s->ev.msg_size = ret;
	if (a->kind == IO_SENDFILE)
		submit(s, 0);
	else
		copy_payload(s, a, ret);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(dt_sys_enter, struct pt_regs *regs, long nr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct io_args a = {};
	struct dt_config *cfg;
	struct sock_state *st;
	struct io_args *ap;
	struct sock *sk;
	__u32 zero = 0, proc_sel;
	__u64 ino = 0;

	/* most syscalls leave here, before any map is touched: cheaper
	 * than looking at the config first (bench measure 6d), idle or not */
	if (!classify(nr, &a.kind, &a.dir))
		return 0;
	cfg = bpf_map_lookup_elem(&dt_config, &zero);
	if (!cfg || !cfg->enabled || (id >> 32) == cfg->self_tgid)
		return 0;
	proc_sel = match_process(cfg, id >> 32) | cfg->sel_all;
	if (!proc_sel && !cfg->have_port && !cfg->have_unix)
		return 0;

	a.fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	sk = fd_to_stream_sock(a.fd, &ino);
	if (!sk)
		return 0;
	a.sk = (__u64)sk;
	st = bpf_map_lookup_elem(&socks, &a.sk);
	if (st && st->ino != ino) {
		/* an earlier socket at this address is gone */
		end_tracking(a.sk, st);
		st = NULL;
	}
	if (a.kind == IO_CLOSE) {
		if (st)
			on_close_enter(st, &a, cfg);
		return 0;
	}
	if (st && st->gen != cfg->gen)
		st = revalidate(sk, a.sk, st, proc_sel, cfg);
	if (!st) {
		struct unselected *u;

		u = bpf_map_lookup_elem(&unselected_socks, &a.sk);
		if (u && u->gen == cfg->gen && u->ino == ino)
			return 0;
		st = track_sock(sk, ino, proc_sel, cfg);
		if (!st) {
			struct unselected nu = { .ino = ino, .gen = cfg->gen };

			bpf_map_update_elem(&unselected_socks, &a.sk, &nu,
					    BPF_ANY);
			return 0;
		}
	}
	if (st->peer_only) {
		if (st->first)
			emit_peer(sk, st, a.fd);
		return 0;
	}

	a.epoch = cfg->epoch;
	a.buf = PT_REGS_PARM2_CORE_SYSCALL(regs);
	if (a.kind == IO_IOVEC) {
		a.iovcnt = PT_REGS_PARM3_CORE_SYSCALL(regs);
	} else if (a.kind == IO_MSGHDR) {
		struct user_msghdr msg;

		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a.buf))
			return 0;
		a.buf = (__u64)msg.msg_iov;
		a.iovcnt = msg.msg_iovlen;
	}
	ap = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ap)
		*ap = a;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(dt_sys_exit, struct pt_regs *regs, long ret)
{
	struct dt_config *cfg;
	struct sock_state *st;
	struct io_args *ap;
	struct io_args a;
	__u32 zero = 0;
	__u8 kind, dir;

	/* as in sys_enter: the syscall number first */
	if (!classify(SYSCALL_NR(regs), &kind, &dir))
		return 0;
	cfg = bpf_map_lookup_elem(&dt_config, &zero);
	if (!cfg || !cfg->enabled)
		return 0;
	ap = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	if (!ap || !ap->kind)
		return 0;
	a = *ap;
	ap->kind = 0;
	if (a.epoch != cfg->epoch)
		return 0;
	if (a.kind == IO_CLOSE) {
		st = bpf_map_lookup_elem(&socks, &a.sk);
		if (st && st->closed)
			bpf_map_delete_elem(&socks, &a.sk);
		return 0;
	}
	if (ret <= 0)
		return 0;
	st = bpf_map_lookup_elem(&socks, &a.sk);
	if (st)
		emit_payload(st, &a, ret);
	return 0;
}

/* Reports a TCP event of the host. sk may be a full, request or timewait
 * socket: only its sock_common fields are read. */
static __always_inline void emit_tcp(const struct sock *sk,
				     const struct tcp_sock_info *info,
				     __u8 kind, __u32 error, __u8 sent,
				     const struct dt_config *cfg)
{
	struct sock_tuple t;
	struct dt_tcp_msg *m;

	if (info && info->tgid == cfg->self_tgid)
		return;
	read_tuple(&t, (struct sock *)sk);
	m = bpf_ringbuf_reserve(&events, sizeof(*m), 0);
	if (!m) {
		stat_add(DT_DROP_RINGBUF_FULL, 1);
		return;
	}
	__builtin_memset(m, 0, sizeof(*m));
	m->ev.type = DT_EV_TCP;
	m->ev.ts_ns = bpf_ktime_get_ns();
	if (info) {
		m->ev.tgid = info->tgid;
		m->ev.tid = info->tid;
		m->ev.cgroup_id = info->cgroup_id;
		__builtin_memcpy(m->ev.comm, info->comm, DT_COMM_LEN);
	}
	__builtin_memcpy(m->ev.laddr, t.laddr, 16);
	__builtin_memcpy(m->ev.raddr, t.raddr, 16);
	m->ev.lport = t.lport;
	m->ev.rport = t.rport;
	m->ev.family = t.family;
	m->ev.len = sizeof(m->tcp);
	m->tcp.kind = kind;
	m->tcp.role = info ? info->role : DT_ROLE_UNKNOWN;
	m->tcp.sent = sent;
	m->tcp.error = error;
	bpf_ringbuf_submit(m, wakeup_flags());
	stat_add(DT_STAT_EVENTS, 1);
}

/* connect(): who is connecting, kept for the events that follow in
 * softirq context (failed connect, retransmits, resets). */
static __always_inline void on_syn_sent(const struct sock *sk,
					const struct dt_config *cfg)
{
	struct tcp_sock_info info = { .role = DT_ROLE_CLIENT };
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)sk;

	info.tgid = id >> 32;
	info.tid = (__u32)id;
	info.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(info.comm, sizeof(info.comm));
	bpf_map_update_elem(&tcp_socks, &key, &info, BPF_ANY);
	if (cfg->tcp_events)
		emit_tcp(sk, &info, DT_TCPK_CONNECT, 0, 0, cfg);
}

/* A connection is up: its role. A connecting end keeps what SYN_SENT
 * stored (it has the process); without it, the connect() came before the
 * probes were enabled (and idling emptied the map). */
static __always_inline void on_established(const struct sock *sk,
					   int oldstate)
{
	struct tcp_sock_info info = { .role = DT_ROLE_SERVER };
	__u64 key = (__u64)sk;

	if (oldstate == TCP_SYN_RECV) {
		bpf_map_update_elem(&tcp_socks, &key, &info, BPF_ANY);
	} else if (oldstate == TCP_SYN_SENT) {
		info.role = DT_ROLE_CLIENT;
		bpf_map_update_elem(&tcp_socks, &key, &info, BPF_NOEXIST);
	}
}

static __always_inline void on_tcp_close(const struct sock *sk, int oldstate,
					 const struct dt_config *cfg)
{
	__u64 key = (__u64)sk;
	struct tcp_sock_info *info;
	struct dt_path_event *pe;
	struct sock_state *st;

	if (oldstate == TCP_SYN_SENT && cfg->tcp_events) {
		info = bpf_map_lookup_elem(&tcp_socks, &key);
		emit_tcp(sk, info, DT_TCPK_CONNECT_FAILED,
			 BPF_CORE_READ(sk, sk_err), 0, cfg);
	}
	bpf_map_delete_elem(&unselected_socks, &key);
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st)
		return;
	pe = small_event();
	if (pe) {
		/* softirq or any task: no process fields here */
		pe->ev.type = DT_EV_CLOSE;
		pe->ev.ts_ns = bpf_ktime_get_ns();
		pe->ev.conn_id = st->conn_id;
		pe->ev.pos = st->pos[DT_DIR_EGRESS];
		pe->ev.msg_size = st->pos[DT_DIR_INGRESS];
		pe->ev.sel = st->sel;
		if (bpf_ringbuf_output(&events, &pe->ev, sizeof(pe->ev),
				       wakeup_flags()))
			stat_add(DT_DROP_RINGBUF_FULL, 1);
	}
	/* orphaned: its file is gone, no syscall can come any more */
	if (!BPF_CORE_READ(sk, sk_socket))
		bpf_map_delete_elem(&socks, &key);
	else
		st->closed = 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(dt_sock_state, const struct sock *sk, int oldstate, int newstate)
{
	struct dt_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&dt_config, &zero);
	if (!cfg || !cfg->enabled)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT:
		on_syn_sent(sk, cfg);
		break;
	case TCP_ESTABLISHED:
		on_established(sk, oldstate);
		break;
	case TCP_CLOSE:
		on_tcp_close(sk, oldstate, cfg);
		break;
	}
	return 0;
}

/* The config when TCP events are wanted, else NULL. */
static __always_inline struct dt_config *tcp_events_config(void)
{
	__u32 zero = 0;
	struct dt_config *cfg = bpf_map_lookup_elem(&dt_config, &zero);

	return cfg && cfg->enabled && cfg->tcp_events ? cfg : NULL;
}

/* Reports a retransmit or reset of a socket that has a peer. */
static __always_inline void emit_tcp_sock_event(const struct sock *sk,
						__u8 kind, __u8 sent,
						const struct dt_config *cfg)
{
	__u64 key = (__u64)sk;

	if (!sk || !BPF_CORE_READ(sk, __sk_common.skc_dport))
		return;
	emit_tcp(sk, bpf_map_lookup_elem(&tcp_socks, &key), kind, 0, sent,
		 cfg);
}

/* Newer kernels also trace retransmits that failed to go out (err). */
struct trace_event_raw_tcp_retransmit_skb___err {
	int err;
} __attribute__((preserve_access_index));

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(dt_tcp_retransmit, const struct sock *sk)
{
	struct dt_config *cfg = tcp_events_config();

	if (!cfg)
		return 0;
	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err,
				  err) && ctx[2])
		return 0;
	emit_tcp_sock_event(sk, DT_TCPK_RETRANSMIT, 0, cfg);
	return 0;
}

/* sk is NULL for a reset answering a segment no socket owns (a closed
 * port): the peer's failed connect reports that. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(dt_tcp_send_reset, const struct sock *sk)
{
	struct dt_config *cfg = tcp_events_config();

	if (cfg)
		emit_tcp_sock_event(sk, DT_TCPK_RESET, 1, cfg);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(dt_tcp_receive_reset, struct sock *sk)
{
	struct dt_config *cfg = tcp_events_config();

	/* in SYN_SENT the reset refuses the connect: reported as such */
	if (cfg && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
		emit_tcp_sock_event(sk, DT_TCPK_RESET, 0, cfg);
	return 0;
}
