/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one header shared by bpf/deetune.bpf.c and user space (recorder/).
 * Fixed-width kernel-style types only; no pointers.
 */
#ifndef DEETUNE_BPF_H
#define DEETUNE_BPF_H

#define DT_COMM_LEN 16
/* sizeof(sockaddr_un.sun_path) */
#define DT_PATH_LEN 108
/* Payload bytes carried by one ring-buffer event (power of two). */
#define DT_CHUNK_SIZE 16384
/* Chunks one syscall may emit; the rest is counted as truncated. */
#define DT_MAX_CHUNKS_PER_CALL 256
/* iovec entries walked per readv/writev/sendmsg/recvmsg. */
#define DT_MAX_IOV 32

enum dt_event_type {
	DT_EV_DATA = 1,     /* payload chunk of a read or write */
	DT_EV_SENDFILE = 2, /* bytes sent with sendfile(): size only */
	DT_EV_CLOSE = 3,    /* socket reached TCP_CLOSE */
	DT_EV_PEER = 4,     /* a socket whose other end is traced instead:
			       identity only, sent once, no payload */
	DT_EV_UNIX_PATH = 5,/* struct dt_path_event: a Unix socket's path,
			       sent before its first other event */
	DT_EV_TCP = 6,      /* struct dt_tcp_msg: a TCP connect, failed
			       connect, retransmit or reset, host-wide */
};

enum dt_dir {
	DT_DIR_EGRESS = 0,  /* the traced process wrote these bytes */
	DT_DIR_INGRESS = 1, /* the traced process read these bytes */
};

/* Bits of dt_event.flags */
#define DT_EVF_FIRST 0x1 /* first event of this socket seen by the probes */
/* Unix sockets keep no byte counters: whether the probes saw the stream
 * from its first byte is unknown. */
#define DT_EVF_UNSURE_START 0x2

/* Why the probes left something out; indexes the per-CPU drop counters. */
enum dt_drop_reason {
	DT_DROP_RINGBUF_FULL = 0,  /* bpf_ringbuf_output failed: data lost */
	DT_DROP_TRUNCATED = 1,     /* syscall larger than chunks*iov limits */
	DT_DROP_READ_FAILED = 2,   /* bpf_probe_read_user failed */
	DT_DROP_STATE_FULL = 3,    /* a state map was full */
	DT_DROP_MAX,
};

/* Per-CPU statistics besides drops (same array, after the drop slots). */
enum dt_stat {
	DT_STAT_EVENTS = DT_DROP_MAX, /* events submitted */
	DT_STAT_BYTES,                /* payload bytes submitted */
	DT_STAT_MAX,
};

/*
 * Socket selection, filled by user space. The probes look at the process
 * first (pid, comm, cgroup), then at the socket's ports/addresses; a
 * socket matching any entry is captured. A port entry with a zero address
 * matches any address.
 */
struct dt_port_key {
	__u8 addr[16]; /* all zero = any address; IPv4 as ::ffff:a.b.c.d */
	__u16 port;    /* host byte order */
	__u16 pad;
};

/* Values of the selection maps, and dt_event.sel: which selector matched
 * and, for port selectors, on which side of the socket. */
#define DT_SEL_SERVER 0x1      /* a --server selector */
#define DT_SEL_CLIENT 0x2      /* a --client selector */
#define DT_SEL_LOCAL_PORT 0x4  /* the socket's own address matched */
#define DT_SEL_REMOTE_PORT 0x8 /* the socket's peer address matched */
/* An `all` selector matched. With it, LOCAL_PORT marks the server end of a
 * connection and REMOTE_PORT the client end, when the probes know (they
 * saw the connection open); otherwise user space decides. */
#define DT_SEL_ANY 0x10

struct dt_config {
	__u32 self_tgid;    /* never trace the recorder itself */
	__u32 enabled;      /* 0: probes return at once */
	/* which selection maps hold entries, so empty ones cost nothing */
	__u32 have_pid;
	__u32 have_comm;
	__u32 have_cgroup;
	__u32 have_port;
	__u32 have_unix;
	/* DT_SEL_* bits of `all` selectors (with DT_SEL_ANY), 0 when none */
	__u32 sel_all;
	/* report DT_EV_TCP events */
	__u32 tcp_events;
	/* bumped whenever the selection changes: the probes then forget
	 * which sockets they found unselected and look again at the ones
	 * they capture */
	__u32 gen;
	/* bumped whenever enabled goes from 0 to 1: what a syscall stashed
	 * at sys_enter before the probes were idled is stale */
	__u32 epoch;
};

/* Key of sel_unix: a socket path, NUL-padded (abstract: leading NUL). */
struct dt_path_key {
	char path[DT_PATH_LEN];
};

/* Common prefix of every event. */
struct dt_event {
	__u32 type;     /* enum dt_event_type */
	__u32 tgid;
	__u32 tid;
	__u32 fd;
	__u64 ts_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 conn_id;  /* unique per socket for the probes' lifetime */
	__u64 cgroup_id;
	char comm[DT_COMM_LEN];
	/* socket 4-tuple from the traced process's point of view; for Unix
	 * sockets the first 8 bytes of laddr/raddr identify this socket and
	 * its peer, so both ends of one connection can be told apart */
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u16 family;   /* AF_INET, AF_INET6 or AF_UNIX */
	__u8 dir;       /* enum dt_dir (DATA, SENDFILE) */
	__u8 flags;     /* DT_EVF_* */
	__u32 sel;      /* DT_SEL_* bits that matched this socket */
	__u32 len;      /* payload bytes following this struct */
	__u64 pos;      /* stream offset of the first byte in direction dir */
	__u64 msg_size; /* bytes the whole syscall moved */
	/* initial stream offsets when the probes first saw this socket */
	__u64 start_pos[2];
};

/* DT_EV_UNIX_PATH */
struct dt_path_event {
	struct dt_event ev;
	char path[DT_PATH_LEN];
};

/* What a DT_EV_TCP event reports (dt_capture_tcp_event gives it as enum
 * dt_tcp_event_kind of recorder/recorder.h). */
enum dt_tcp_kind {
	/* SYN_SENT and SYN_SENT -> CLOSE: lport is 0 (not chosen yet, or
	 * released already) */
	DT_TCPK_CONNECT = 1,
	DT_TCPK_CONNECT_FAILED = 2,
	DT_TCPK_RETRANSMIT = 3,
	/* sent or received by a socket; a refused connect is reported as
	 * CONNECT_FAILED instead, and a reset the kernel sends for no
	 * socket (to a closed port) not at all */
	DT_TCPK_RESET = 4,
};

/* Which end of its connection a socket is. */
enum dt_tcp_role {
	DT_ROLE_UNKNOWN = -1, /* opened before the probes were enabled */
	DT_ROLE_SERVER = 0,   /* accepted */
	DT_ROLE_CLIENT = 1,   /* connected */
};

/* The payload of a DT_EV_TCP event (dt_event.len bytes). The event's tuple
 * is the socket's; its process fields come from the connect() of the
 * socket when the probes saw it, else they are zero (softirq context). */
struct dt_tcp_info {
	__u8 kind;      /* enum dt_tcp_kind */
	__s8 role;      /* enum dt_tcp_role */
	__u8 sent;      /* RESET: sent by this socket (else received) */
	__u8 pad;
	__u32 error;    /* CONNECT_FAILED: sk_err, 0 when the application
			   gave up (closed the socket) */
};

/* DT_EV_TCP */
struct dt_tcp_msg {
	struct dt_event ev;
	struct dt_tcp_info tcp;
};

#endif /* DEETUNE_BPF_H */

