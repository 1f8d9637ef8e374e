// SPDX-License-Identifier: MIT
/*
 * The seam between the main capture and TLS plaintext.
 *
 * The main capture's events tell which socket (process, fd) each
 * connection is; the probes tell which socket each SSL call used. A
 * connection is TLS once plaintext arrives for its socket or its bytes
 * start with a TLS record: from then on its ciphertext is dropped, and
 * the plaintext goes to the assembler as that connection's bytes, at
 * stream offsets of its own, so the decoders see what they would see on a
 * cleartext connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "recorder/tls.h"

/* How long plaintext waits for the main capture to report its socket:
 * both rings are read in turn, so the socket's first event may come a
 * poll later. Past this, the socket is not a selected one. */
#define WAIT_NS 500000000ull
/* Bytes of plaintext waiting, at most (unselected processes' traffic
 * passes through the queue too). */
#define WAIT_MAX_BYTES (16u << 20)
/* A closed connection's socket is kept this long for plaintext still in
 * the ring: longer than the assembler's grace after a close. */
#define CLOSED_KEEP_NS 1000000000ull
/* Processes remembered (whether they map a probed libssl, whether they
 * were reported), at most. */
#define MAX_PROCS 65536
/* Largest TLS record on the wire: 2^14 plaintext + expansion. */
#define TLS_RECORD_MAX (16384 + 2048)

struct fd_key {
	uint32_t tgid;
	uint32_t fd;
};

/* A connection of the main capture. */
struct tls_conn {
	uint64_t id;
	struct fd_key key;
	struct dt_event tmpl;   /* its last main event: identity, tuple, sel */
	uint64_t first_ts;      /* its first main event */
	uint64_t closed_ts;     /* 0 while open */
	bool decided;           /* its first payload was looked at */
	bool tls;
	bool peer_only;         /* traced at its other end */
	/* main stream offsets past what went to the assembler */
	uint64_t main_next[2];
	/* main_next when the connection turned TLS: where its plaintext
	 * starts (0, the join offsets when midstream, or past the cleartext
	 * of a STARTTLS) */
	uint64_t base[2];
	uint64_t plain_next[2]; /* plaintext delivered, per direction */
	uint64_t ssl[2];        /* the SSL object last seen per direction */
	uint64_t ssl_next[2];   /* its next plaintext offset */
	struct tls_conn *next_closed;
	UT_hash_handle hh;      /* by id */
};

/* The connections one socket number served, newest first: plaintext
 * still in the ring may belong to the previous one. */
struct fd_slot {
	struct fd_key key;
	struct tls_conn *cur, *prev;
	size_t waiting;         /* plaintext chunks queued for this key */
	UT_hash_handle hh;
};

/* A process that owns captured sockets. */
struct tls_proc {
	uint32_t tgid;
	bool has_libssl;
	bool warned;
	UT_hash_handle hh;
};

/* Plaintext whose socket the main capture has not reported yet. */
struct waiting {
	struct waiting *next;
	struct dt_tls_event ev;
	uint8_t data[];
};

struct dt_tls_conns {
	struct dt_tls_libs *libs;  /* NULL: every process counts as probed */
	dt_event_fn fn;
	void *ctx;
	struct tls_conn *conns;
	struct fd_slot *slots;
	struct tls_proc *procs;
	struct tls_conn *closed_head, *closed_tail;
	struct waiting *wait_head, *wait_tail;
	size_t wait_bytes;
	struct dt_tls_conns_stats stats;
};

int dt_tls_conns_new(struct dt_tls_conns **out, struct dt_tls_libs *libs,
		     dt_event_fn fn, void *ctx)
{
	struct dt_tls_conns *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->libs = libs;
	t->fn = fn;
	t->ctx = ctx;
	*out = t;
	return 0;
}

static struct fd_slot *slot_find(struct dt_tls_conns *t,
				 const struct fd_key *k)
{
	struct fd_slot *s;

	HASH_FIND(hh, t->slots, k, sizeof(*k), s);
	return s;
}

static struct fd_slot *slot_get(struct dt_tls_conns *t,
				const struct fd_key *k)
{
	struct fd_slot *s = slot_find(t, k);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = *k;
	HASH_ADD(hh, t->slots, key, sizeof(s->key), s);
	return s;
}

static void slot_put(struct dt_tls_conns *t, struct fd_slot *s)
{
	if (s->cur || s->prev || s->waiting)
		return;
	HASH_DELETE(hh, t->slots, s);
	free(s);
}

/* Unlinks c from its socket; freed by the caller. */
static void conn_unlink(struct dt_tls_conns *t, struct tls_conn *c)
{
	struct fd_slot *s = slot_find(t, &c->key);

	HASH_DELETE(hh, t->conns, c);
	if (!s)
		return;
	if (s->cur == c)
		s->cur = NULL;
	if (s->prev == c)
		s->prev = NULL;
	slot_put(t, s);
}

/* A connection pushed out of its socket's slot goes at once unless the
 * closed list holds it (then the sweep frees it). */
static void conn_retire(struct dt_tls_conns *t, struct tls_conn *c)
{
	if (c->closed_ts)
		return;
	conn_unlink(t, c);
	free(c);
}

static struct tls_conn *conn_new(struct dt_tls_conns *t,
				 const struct dt_event *ev)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	struct fd_slot *s;

	if (!c)
		return NULL;
	c->id = ev->conn_id;
	c->key.tgid = ev->tgid;
	c->key.fd = ev->fd;
	c->tmpl = *ev;
	c->first_ts = ev->ts_ns;
	for (int d = 0; d < 2; d++)
		c->main_next[d] = ev->start_pos[d];
	s = slot_get(t, &c->key);
	if (!s) {
		free(c);
		return NULL;
	}
	if (s->prev)
		conn_retire(t, s->prev);
	s->prev = s->cur;
	s->cur = c;
	HASH_ADD(hh, t->conns, id, sizeof(c->id), c);
	return c;
}

static void procs_clear(struct dt_tls_conns *t)
{
	struct tls_proc *p, *tmp;

	HASH_ITER(hh, t->procs, p, tmp) {
		HASH_DELETE(hh, t->procs, p);
		free(p);
	}
}

static struct tls_proc *proc_get(struct dt_tls_conns *t, uint32_t tgid)
{
	struct tls_proc *p;

	HASH_FIND(hh, t->procs, &tgid, sizeof(tgid), p);
	if (p)
		return p;
	/* processes end unseen: start over rather than grow forever (the
	 * worst case is a process reported twice) */
	if (HASH_COUNT(t->procs) >= MAX_PROCS)
		procs_clear(t);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	/* a process seen for the first time may map a libssl not probed
	 * yet (started after the recorder, or in a container) */
	p->has_libssl = !t->libs || dt_tls_libs_scan_pid(t->libs, tgid) > 0;
	HASH_ADD(hh, t->procs, tgid, sizeof(p->tgid), p);
	return p;
}

static void warn_not_capturable(struct dt_tls_conns *t,
				const struct dt_event *ev)
{
	struct tls_proc *p = proc_get(t, ev->tgid);

	if (!p || p->has_libssl || p->warned)
		return;
	p->warned = true;
	fprintf(stderr, "deetune: pid %u (%.*s) uses TLS without a shared "
		"OpenSSL: its traffic cannot be recorded in plaintext\n",
		ev->tgid, DT_COMM_LEN, ev->comm);
}

/* A TLS record header: content type 20..23, version 3.x, sane length. */
static bool tls_record(const uint8_t *p, size_t len)
{
	return len >= 5 && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 0x03 &&
	       p[2] <= 0x04 && ((size_t)p[3] << 8 | p[4]) <= TLS_RECORD_MAX;
}

/* Too short to tell, but could start a TLS record: nginx peeks at the
 * first byte of a connection (MSG_PEEK) before its handshake. */
static bool tls_record_prefix(const uint8_t *p, size_t len)
{
	return len < 5 && p[0] >= 0x14 && p[0] <= 0x17 &&
	       (len < 2 || p[1] == 0x03);
}

/* The first record of a handshake (ClientHello or ServerHello): how a
 * connection that spoke cleartext first turns to TLS (STARTTLS). */
static bool tls_hello(const uint8_t *p, size_t len)
{
	return tls_record(p, len) && len >= 6 && p[0] == 0x16 &&
	       p[2] >= 0x01 && p[2] <= 0x03 && (p[5] == 0x01 || p[5] == 0x02);
}

static void conn_become_tls(struct dt_tls_conns *t, struct tls_conn *c)
{
	if (c->tls)
		return;
	c->tls = true;
	c->decided = true;
	memcpy(c->base, c->main_next, sizeof(c->base));
	t->stats.conns++;
}

/* Payload of the main capture: ciphertext of a TLS connection is
 * dropped, anything else passes and moves main_next. */
static int note_data(struct dt_tls_conns *t, struct tls_conn *c,
		     const struct dt_event *ev, const uint8_t *data)
{
	bool tls;

	if (c->tls)
		return 1;
	if (ev->type == DT_EV_DATA && ev->len) {
		if (!c->decided && tls_record_prefix(data, ev->len))
			return 1;
		tls = c->decided ? tls_hello(data, ev->len) :
				   tls_record(data, ev->len);
		c->decided = true;
		if (tls) {
			conn_become_tls(t, c);
			warn_not_capturable(t, ev);
			return 1;
		}
	}
	c->main_next[ev->dir & 1] = ev->pos + (ev->type == DT_EV_DATA ?
					       ev->len : ev->msg_size);
	return 0;
}

static void conn_closed(struct dt_tls_conns *t, struct tls_conn *c,
			uint64_t ts)
{
	if (c->closed_ts)
		return;
	c->closed_ts = ts ? ts : 1;
	if (t->closed_tail)
		t->closed_tail->next_closed = c;
	else
		t->closed_head = c;
	t->closed_tail = c;
}

/* The end of a TLS connection: its lengths count ciphertext, which the
 * assembler must not compare with the plaintext. */
static int forward_close(struct dt_tls_conns *t, const struct dt_event *ev)
{
	struct dt_event e = *ev;

	e.pos = 0;
	e.msg_size = 0;
	e.flags |= DT_EVF_TLS;
	return t->fn(t->ctx, &e, NULL);
}

int dt_tls_conns_note(struct dt_tls_conns *t, const struct dt_event *ev,
		      const uint8_t *data)
{
	struct tls_conn *c;
	int ret;

	if (ev->type == DT_EV_TCP)
		return 0;
	HASH_FIND(hh, t->conns, &ev->conn_id, sizeof(ev->conn_id), c);
	if (ev->type == DT_EV_CLOSE) {
		if (!c)
			return 0;
		conn_closed(t, c, ev->ts_ns);
		if (!c->tls)
			return 0;
		ret = forward_close(t, ev);
		return ret < 0 ? ret : 1;
	}
	if (!c) {
		c = conn_new(t, ev);
		/* out of memory: the connection is taken for cleartext */
		if (!c)
			return 0;
		proc_get(t, ev->tgid);
	}
	if (ev->type == DT_EV_PEER) {
		c->peer_only = true;
		return 0;
	}
	if (ev->type != DT_EV_DATA && ev->type != DT_EV_SENDFILE)
		return 0;
	c->tmpl = *ev;
	return note_data(t, c, ev, data);
}

/* Plaintext of another SSL object than the one c's plaintext came from
 * (a new address, or the same one reused after SSL_free: its offsets
 * start again at 0) belongs to a newer connection on the same socket
 * number, whose first main event is still in the other ring. */
static bool from_newer_ssl(const struct tls_conn *c,
			   const struct dt_tls_event *ev)
{
	for (int d = 0; d < 2; d++) {
		if (!c->ssl[d])
			continue;
		if (c->ssl[d] != ev->ssl ||
		    (d == (ev->dir & 1) && ev->pos < c->ssl_next[d]))
			return true;
	}
	return false;
}

/* The connection a plaintext chunk belongs to: the socket's newest,
 * unless the chunk is older than it and an earlier one is still known.
 * NULL while the socket's newest connection is not reported yet. */
static struct tls_conn *conn_of_plaintext(struct dt_tls_conns *t,
					  const struct dt_tls_event *ev)
{
	struct fd_key k = { .tgid = ev->tgid, .fd = ev->fd };
	struct fd_slot *s = slot_find(t, &k);

	if (!s)
		return NULL;
	if (s->cur && (ev->ts_ns >= s->cur->first_ts || !s->prev))
		return from_newer_ssl(s->cur, ev) ? NULL : s->cur;
	return s->prev;
}

/* Hands a chunk to the assembler as the connection's bytes. */
static int deliver(struct dt_tls_conns *t, struct tls_conn *c,
		   const struct dt_tls_event *ev, const uint8_t *data)
{
	int d = ev->dir & 1;
	struct dt_event e;

	if (c->peer_only)
		return 0;
	conn_become_tls(t, c);
	/* the probes' offset moved past chunks lost in the ring */
	if (c->ssl[d] == ev->ssl && ev->pos > c->ssl_next[d])
		c->plain_next[d] += ev->pos - c->ssl_next[d];
	c->ssl[d] = ev->ssl;
	c->ssl_next[d] = ev->pos + ev->len;
	e = c->tmpl;
	e.type = DT_EV_DATA;
	e.tgid = ev->tgid;
	e.tid = ev->tid;
	e.fd = ev->fd;
	e.ts_ns = ev->ts_ns;
	e.dir = d;
	e.flags = DT_EVF_TLS | (c->tmpl.flags & DT_EVF_UNSURE_START);
	e.len = ev->len;
	e.msg_size = ev->len;
	e.pos = c->base[d] + c->plain_next[d];
	memcpy(e.start_pos, c->base, sizeof(e.start_pos));
	c->plain_next[d] += ev->len;
	return t->fn(t->ctx, &e, data);
}

static int enqueue(struct dt_tls_conns *t, const struct dt_tls_event *ev,
		   const uint8_t *data)
{
	struct fd_key k = { .tgid = ev->tgid, .fd = ev->fd };
	struct waiting *w;
	struct fd_slot *s;

	if (t->wait_bytes + ev->len > WAIT_MAX_BYTES) {
		t->stats.unmatched++;
		return 0;
	}
	w = malloc(sizeof(*w) + ev->len);
	s = w ? slot_get(t, &k) : NULL;
	if (!s) {
		free(w);
		return -ENOMEM;
	}
	w->next = NULL;
	w->ev = *ev;
	memcpy(w->data, data, ev->len);
	if (t->wait_tail)
		t->wait_tail->next = w;
	else
		t->wait_head = w;
	t->wait_tail = w;
	t->wait_bytes += ev->len;
	s->waiting++;
	return 0;
}

int dt_tls_conns_plaintext(struct dt_tls_conns *t,
			   const struct dt_tls_event *ev, const uint8_t *data)
{
	struct fd_key k = { .tgid = ev->tgid, .fd = ev->fd };
	struct fd_slot *s;
	struct tls_conn *c;

	if (ev->fd == DT_TLS_FD_UNKNOWN) {
		t->stats.unmatched++;
		return 0;
	}
	/* behind chunks of the same socket still waiting: keep the order */
	s = slot_find(t, &k);
	c = s && !s->waiting ? conn_of_plaintext(t, ev) : NULL;
	if (!c)
		return enqueue(t, ev, data);
	return deliver(t, c, ev, data);
}

/*
 * Delivers the waiting chunks whose socket is now known, in order, and
 * drops those that waited too long. A socket's chunks all resolve or all
 * stay within one pass: its slot holds a connection or none.
 */
static int retry_waiting(struct dt_tls_conns *t, uint64_t now)
{
	struct waiting *w, *keep_head = NULL, *keep_tail = NULL, *next;
	int ret = 0;

	for (w = t->wait_head; w; w = next) {
		struct fd_key k = { .tgid = w->ev.tgid, .fd = w->ev.fd };
		struct fd_slot *s = slot_find(t, &k);
		struct tls_conn *c = conn_of_plaintext(t, &w->ev);

		next = w->next;
		if (!c && w->ev.ts_ns + WAIT_NS > now && !ret) {
			w->next = NULL;
			if (keep_tail)
				keep_tail->next = w;
			else
				keep_head = w;
			keep_tail = w;
			continue;
		}
		if (c && !ret)
			ret = deliver(t, c, &w->ev, w->data);
		else
			t->stats.unmatched++;
		t->wait_bytes -= w->ev.len;
		if (s) {
			s->waiting--;
			slot_put(t, s);
		}
		free(w);
	}
	t->wait_head = keep_head;
	t->wait_tail = keep_tail;
	return ret;
}

/* Forgets the connections closed long enough ago. */
static void sweep_closed(struct dt_tls_conns *t, uint64_t now)
{
	struct tls_conn *c;

	while ((c = t->closed_head) && c->closed_ts + CLOSED_KEEP_NS <= now) {
		t->closed_head = c->next_closed;
		if (!t->closed_head)
			t->closed_tail = NULL;
		conn_unlink(t, c);
		free(c);
	}
}

int dt_tls_conns_tick(struct dt_tls_conns *t, uint64_t now_ns)
{
	int ret = retry_waiting(t, now_ns);

	sweep_closed(t, now_ns);
	return ret;
}

void dt_tls_conns_get_stats(const struct dt_tls_conns *t,
			    struct dt_tls_conns_stats *st)
{
	*st = t->stats;
}

void dt_tls_conns_free(struct dt_tls_conns *t)
{
	struct tls_conn *c, *ctmp;
	struct fd_slot *s, *stmp;
	struct waiting *w;

	if (!t)
		return;
	while ((w = t->wait_head)) {
		t->wait_head = w->next;
		free(w);
	}
	HASH_ITER(hh, t->conns, c, ctmp) {
		HASH_DELETE(hh, t->conns, c);
		free(c);
	}
	HASH_ITER(hh, t->slots, s, stmp) {
		HASH_DELETE(hh, t->slots, s);
		free(s);
	}
	procs_clear(t);
	free(t);
}
