/* SPDX-License-Identifier: MIT */
/*
 * TLS plaintext capture, private to the recorder:
 *   tls.c         the probes' object, its ring, the selection
 *   tls_conns.c   the seam with the main capture: which connections speak
 *                 TLS, plaintext turned into the main capture's events
 *   tls_attach.c  finding the libssl files the processes map
 *   tls_uprobe.c  the uprobes on one file
 *
 * The engine puts dt_tls_note_event in front of the assembler for every
 * event of the main capture; plaintext (and the rewritten close of a TLS
 * connection) goes straight to the function given to dt_tls_open.
 */
#ifndef DEETUNE_RECORDER_TLS_H
#define DEETUNE_RECORDER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* first: the types bpf/tls.h uses */
#include "recorder/recorder_int.h"
#include "bpf/tls.h"

struct dt_tls;

struct dt_tls_conns_stats {
	uint64_t conns;       /* TLS connections seen */
	uint64_t unmatched;   /* plaintext chunks of no selected socket */
};

struct dt_tls_stats {
	uint64_t probe[DT_TLS_STAT_MAX]; /* the probes' counters */
	struct dt_tls_conns_stats seam;
	uint64_t libs;        /* distinct libssl files probed */
};

/*
 * Loads the probes and attaches them to the libssl mapped by the
 * processes the selectors name (every process for port, address and
 * `all` selectors); sels is copied, none idles the probes. fn receives
 * plaintext as DT_EV_DATA events of the connection's conn_id with
 * DT_EVF_TLS set, and the closes of TLS connections; it must not call
 * dt_tls_note_event. On success *out is owned by the caller
 * (dt_tls_close). On failure returns a negative errno and writes a
 * one-line explanation to err.
 */
int dt_tls_open(struct dt_tls **out, const struct dt_selector *sels,
		size_t nsels, size_t ringbuf_bytes, dt_event_fn fn, void *ctx,
		char *err, size_t errlen);
/* Replaces the selection as dt_capture_set_selectors does. Returns 0 or
 * a negative errno. */
int dt_tls_set_selectors(struct dt_tls *t, const struct dt_selector *sels,
			 size_t nsels);
/*
 * Learns from an event of the main capture (before the assembler sees
 * it) which socket each connection is. Returns 0 when the caller passes
 * the event on; 1 when it must not: the ciphertext of a TLS connection,
 * or its close (then forwarded to fn without the ciphertext's stream
 * lengths); or fn's negative return.
 */
int dt_tls_note_event(struct dt_tls *t, const struct dt_event *ev,
		      const uint8_t *data);
/* Delivers the plaintext waiting in the probes' ring to fn (never
 * waits: the main capture's poll does), looks for libssl in processes
 * newly seen, forgets closed connections. Returns the number of events
 * or a negative errno. */
int dt_tls_poll(struct dt_tls *t);
void dt_tls_get_stats(struct dt_tls *t, struct dt_tls_stats *st);
void dt_tls_close(struct dt_tls *t);

/* ---- tls_conns.c ---- */

struct dt_tls_conns;
struct dt_tls_libs;

/* The connection table. libs finds the libssl of processes newly seen
 * (NULL: none is looked for and no process is reported). *out is owned
 * by the caller (dt_tls_conns_free). */
int dt_tls_conns_new(struct dt_tls_conns **out, struct dt_tls_libs *libs,
		     dt_event_fn fn, void *ctx);
/* dt_tls_note_event's work. */
int dt_tls_conns_note(struct dt_tls_conns *t, const struct dt_event *ev,
		      const uint8_t *data);
/* A plaintext chunk from the probes (ev->len bytes at data): delivered
 * to fn when its socket is known, else queued until it is or until it
 * waited too long. Returns 0 or fn's negative return. */
int dt_tls_conns_plaintext(struct dt_tls_conns *t,
			   const struct dt_tls_event *ev, const uint8_t *data);
/* Delivers the queued chunks whose socket became known, drops those too
 * old, forgets connections closed long enough before now_ns
 * (CLOCK_MONOTONIC). Returns 0 or fn's negative return. */
int dt_tls_conns_tick(struct dt_tls_conns *t, uint64_t now_ns);
void dt_tls_conns_get_stats(const struct dt_tls_conns *t,
			    struct dt_tls_conns_stats *st);
void dt_tls_conns_free(struct dt_tls_conns *t);

/* ---- tls_attach.c ---- */

struct bpf_program;

/* A function probed on each libssl: the entry program runs on each (its
 * attach cookie says which), the return program on those with
 * retprobe. */
struct dt_tls_probe {
	const char *func;
	uint64_t cookie;      /* enum dt_tls_call */
	bool retprobe;
	bool required;        /* a libssl without it is not probed at all */
};

struct dt_tls_progs {
	struct bpf_program *entry, *ret;
	/* one uprobe_multi link per program and file (kernel 6.6 and
	 * later, programs loaded for it) instead of a perf event per
	 * function: each one's release waits for an RCU grace period */
	bool multi;
};

/* Attaches the n probes (progs and the array are kept, not copied) to
 * each libssl file found; *out is owned by the caller (dt_tls_libs_free,
 * which detaches them). */
int dt_tls_libs_new(struct dt_tls_libs **out,
		    const struct dt_tls_progs *progs,
		    const struct dt_tls_probe *probes, size_t n);
/* Probes the libssl files process pid maps that are not yet probed.
 * Returns 1 when the process maps a probed libssl, 0 when it maps none
 * (or none could be probed), or a negative errno (-ENOENT: the process
 * is gone). */
int dt_tls_libs_scan_pid(struct dt_tls_libs *l, uint32_t pid);
/* Scans every process of the host. Returns 0 or a negative errno. */
int dt_tls_libs_scan_all(struct dt_tls_libs *l);
size_t dt_tls_libs_count(const struct dt_tls_libs *l);
/* Detaches every probe and forgets the files: idle, a uprobe would still
 * trap on every SSL call of every process using the library. */
void dt_tls_libs_detach(struct dt_tls_libs *l);
void dt_tls_libs_free(struct dt_tls_libs *l);

/* ---- tls_uprobe.c ---- */

/* The uprobe_multi attach type, missing from older kernel headers. */
#define DT_ATTACH_UPROBE_MULTI 48

/* Links of attached uprobes: libbpf's (perf events) or bare fds
 * (uprobe_multi). */
struct dt_tls_links {
	struct bpf_link **v;
	size_t n, cap;
	int *fds;
	size_t nfds, capfds;
};

/* Whether the kernel takes uprobe_multi links for prog, loaded with
 * DT_ATTACH_UPROBE_MULTI as its expected attach type. */
bool dt_tls_uprobe_multi_works(const struct bpf_program *prog);
/* Attaches progs to the n functions of the file at path, for every
 * process; all or nothing. Returns 0 or a negative errno (-ENOENT: a
 * required function is missing). */
int dt_tls_uprobe_attach(struct dt_tls_links *l,
			 const struct dt_tls_progs *progs,
			 const struct dt_tls_probe *probes, size_t n,
			 const char *path);
/* Detaches everything in l and empties it. */
void dt_tls_links_release(struct dt_tls_links *l);

#endif /* DEETUNE_RECORDER_TLS_H */
