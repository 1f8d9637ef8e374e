/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by bpf/tls.bpf.c and recorder/tls.c: plaintext of OpenSSL calls,
 * taken by uprobes on libssl. Fixed-width kernel-style types only.
 */
#ifndef DEETUNE_TLS_BPF_H
#define DEETUNE_TLS_BPF_H

#include "deetune.h"

/* Plaintext bytes carried by one ring-buffer event (power of two). */
#define DT_TLS_CHUNK_SIZE 16384
/* Chunks one SSL call may emit; the rest shows up as a gap. */
#define DT_TLS_MAX_CHUNKS 256
/* dt_tls_event.fd when no syscall of the SSL object was seen yet */
#define DT_TLS_FD_UNKNOWN 0xffffffffu

/* Bit of dt_event.flags on the DT_EV_DATA events user space builds from
 * plaintext: the bytes were read or written through OpenSSL. */
#define DT_EVF_TLS 0x80

/* One chunk of plaintext, followed by len bytes. */
struct dt_tls_event {
	__u64 ts_ns;    /* bpf_ktime_get_ns() at the SSL call's end */
	__u64 ssl;      /* the SSL object (an address in process tgid) */
	__u64 pos;      /* plaintext offset of the first byte, per SSL
			   object and direction, from when it was first seen */
	__u32 tgid;
	__u32 tid;
	__u32 fd;       /* the socket the SSL object last used, or
			   DT_TLS_FD_UNKNOWN */
	__u32 len;
	__u8 dir;       /* enum dt_dir: SSL_write is EGRESS */
	__u8 pad[7];
};

/* The OpenSSL functions probed, as attach cookies of the entry probe. */
enum dt_tls_call {
	DT_TLS_CALL_HANDSHAKE = 1, /* SSL_do_handshake: learns the socket */
	DT_TLS_CALL_READ = 2,      /* SSL_read: the return value is the count */
	DT_TLS_CALL_READ_EX = 3,   /* SSL_read_ex: the count is in *4th arg */
	DT_TLS_CALL_WRITE = 4,     /* writes after reads: see dt_ssl_ret */
	DT_TLS_CALL_WRITE_EX = 5,
	DT_TLS_CALL_FREE = 6,      /* SSL_free: the object is gone */
};

struct dt_tls_config {
	__u32 self_tgid;    /* never trace the recorder itself */
	__u32 enabled;      /* 0: probes return at once */
	__u32 have_pid;     /* only the tgids in tls_pids */
};

/* Why plaintext was left out; indexes the per-CPU counters. */
enum dt_tls_stat {
	DT_TLS_DROP_RINGBUF_FULL = 0,
	DT_TLS_DROP_TRUNCATED = 1,   /* call larger than the chunk limits */
	DT_TLS_DROP_READ_FAILED = 2, /* bpf_probe_read_user failed */
	DT_TLS_STAT_EVENTS = 3,
	DT_TLS_STAT_BYTES = 4,
	DT_TLS_STAT_MAX,
};

#endif /* DEETUNE_TLS_BPF_H */
