// SPDX-License-Identifier: MIT
/*
 * TCP reassembly for imported captures: per connection and direction,
 * sequence numbers become stream offsets (64-bit, across wrap-around),
 * segments that arrive ahead of a hole wait in a sorted list of
 * non-overlapping pieces (the bytes that arrived first win), duplicates and
 * overlaps are trimmed, and a hole is given up as lost once the other end
 * acknowledged bytes past it (it received them; the capture did not), at
 * FIN/RST, when the waiting bytes reach a limit, or at the end. The result
 * is the event stream the BPF probes produce for the server's socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uthash.h>
#include <utlist.h>

#include "recorder/tcp_reassembly.h"

#define DEFAULT_MAX_DIRECTION (4u << 20)
#define DEFAULT_MAX_TOTAL (256u << 20)
#define DEFAULT_MAX_CLOSED 65536
/* Late packets of a closed connection (retransmitted FINs, a capture's
 * duplicates) come within TIME_WAIT; its 2 * MSL, with room. */
#define CLOSED_KEEP_NS (120 * 1000000000ull)
/* Offsets stay far from the top of the 64-bit range, so that signed
 * arithmetic on them cannot overflow: a stream would need 2^31 segments
 * with maximal holes to get there. */
#define MAX_POS (1ull << 62)
#define NO_FIN UINT64_MAX
/* Waiting pieces per direction: the list is walked for each insert. */
#define MAX_PIECES 4096
/* What a piece costs against the limits: its bytes and its header. */
#define PIECE_COST(n) ((n) + sizeof(struct piece))
/*
 * A hole is announced at once with an empty event at its end, so that the
 * decoders learn of it before the other direction's next bytes (a request
 * lost before its response). The assembler's protocol detection would take
 * an empty stream for the start of one, so announce only in a direction
 * whose first bytes already decided it: every detector decides within the
 * first 16 contiguous bytes. Other holes show at the next bytes.
 */
#define ANNOUNCE_MIN_RUN 16

/* Bytes waiting for a hole before them to fill. */
struct piece {
	struct piece *next;
	uint64_t pos, ts;
	size_t len;
	uint8_t data[];
};

/* One direction of a connection. */
struct half {
	bool known;          /* next_seq/next are set */
	bool syn;            /* its SYN was seen; isn holds it */
	uint32_t isn;
	uint32_t next_seq;   /* sequence number of stream offset next */
	uint64_t next;       /* stream offset delivered up to */
	uint64_t fin;        /* stream offset of its FIN, NO_FIN */
	uint64_t first_run;  /* bytes delivered before its first hole */
	bool holed;
	struct piece *ooo;   /* sorted by pos, none overlapping */
	size_t ooo_cost;     /* PIECE_COST of the pieces */
	size_t npieces;
};

/* The two ends in a canonical order; zero-filled for hashing. */
struct conn_key {
	uint8_t addr[2][16];
	uint16_t port[2];
};

struct tcp_conn {
	struct conn_key key;
	uint64_t id;
	uint16_t family;
	/* [0] the server's end (local in events), [1] the client's */
	uint8_t addr[2][16];
	uint16_t port[2];
	/* by enum dt_dir: [DT_DIR_EGRESS] the server sends it */
	struct half h[2];
	bool fresh;          /* handshake seen: offsets from 0 */
	bool announced;      /* an event of it was sent */
	bool closed;         /* kept only to ignore its late packets */
	uint64_t last_ts;
	struct tcp_conn *prev, *next;  /* list of closed connections */
	UT_hash_handle hh;
};

struct dt_tcp_reasm {
	struct dt_tcp_reasm_opts opts;
	dt_tcp_event_fn fn;
	void *ctx;
	struct tcp_conn *conns;      /* by key, in order of appearance */
	struct tcp_conn *closed;     /* oldest first */
	size_t nclosed;
	size_t total_ooo;
	uint64_t last_id;
	int stop;                    /* what the callback returned */
	struct dt_tcp_reasm_stats st;
};

int dt_tcp_reasm_new(struct dt_tcp_reasm **out,
		     const struct dt_tcp_reasm_opts *opts, dt_tcp_event_fn fn,
		     void *ctx)
{
	struct dt_tcp_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	if (opts)
		r->opts = *opts;
	if (!r->opts.max_direction_bytes)
		r->opts.max_direction_bytes = DEFAULT_MAX_DIRECTION;
	if (!r->opts.max_total_bytes)
		r->opts.max_total_bytes = DEFAULT_MAX_TOTAL;
	if (!r->opts.max_closed)
		r->opts.max_closed = DEFAULT_MAX_CLOSED;
	r->fn = fn;
	r->ctx = ctx;
	*out = r;
	return 0;
}

void dt_tcp_reasm_get_stats(const struct dt_tcp_reasm *r,
			    struct dt_tcp_reasm_stats *st)
{
	*st = r->st;
}

/* ---- connections --------------------------------------------------------- */

static void half_clear(struct dt_tcp_reasm *r, struct half *h)
{
	struct piece *p, *tmp;

	for (p = h->ooo; p; p = tmp) {
		tmp = p->next;
		free(p);
	}
	r->total_ooo -= h->ooo_cost;
	h->ooo = NULL;
	h->ooo_cost = 0;
	h->npieces = 0;
}

static void conn_free(struct dt_tcp_reasm *r, struct tcp_conn *c)
{
	half_clear(r, &c->h[0]);
	half_clear(r, &c->h[1]);
	HASH_DEL(r->conns, c);
	if (c->closed) {
		DL_DELETE(r->closed, c);
		r->nclosed--;
	}
	free(c);
}

static void key_of(struct conn_key *k, const struct dt_tcp_packet *p)
{
	int cmp = memcmp(p->saddr, p->daddr, 16);
	bool src_first = cmp < 0 || (cmp == 0 && p->sport <= p->dport);

	memset(k, 0, sizeof(*k));
	memcpy(k->addr[!src_first], p->saddr, 16);
	memcpy(k->addr[src_first], p->daddr, 16);
	k->port[!src_first] = p->sport;
	k->port[src_first] = p->dport;
}

static struct tcp_conn *conn_find(struct dt_tcp_reasm *r,
				  const struct dt_tcp_packet *p)
{
	struct tcp_conn *c;
	struct conn_key k;

	key_of(&k, p);
	HASH_FIND(hh, r->conns, &k, sizeof(k), c);
	return c;
}

/* A new connection; the packet's source is its server when src_is_server. */
static struct tcp_conn *conn_new(struct dt_tcp_reasm *r,
				 const struct dt_tcp_packet *p,
				 bool src_is_server, bool fresh)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	int s = !src_is_server;

	if (!c)
		return NULL;
	key_of(&c->key, p);
	c->id = ++r->last_id;
	c->family = p->family;
	memcpy(c->addr[s], p->saddr, 16);
	memcpy(c->addr[!s], p->daddr, 16);
	c->port[s] = p->sport;
	c->port[!s] = p->dport;
	c->h[0].fin = c->h[1].fin = NO_FIN;
	c->fresh = fresh;
	HASH_ADD(hh, r->conns, key, sizeof(c->key), c);
	r->st.conns++;
	if (!fresh)
		r->st.midstream++;
	return c;
}

/* The direction the packet travels, as the server's socket sees it. */
static int sender_dir(const struct tcp_conn *c, const struct dt_tcp_packet *p)
{
	return !memcmp(p->saddr, c->addr[0], 16) && p->sport == c->port[0] ?
	       DT_DIR_EGRESS : DT_DIR_INGRESS;
}

/* ---- events -------------------------------------------------------------- */

static int emit(struct dt_tcp_reasm *r, struct tcp_conn *c, uint32_t type,
		int dir, uint64_t pos, const uint8_t *data, size_t len,
		uint64_t ts)
{
	struct dt_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.ts_ns = ts;
	ev.conn_id = c->id;
	memcpy(ev.laddr, c->addr[0], 16);
	memcpy(ev.raddr, c->addr[1], 16);
	ev.lport = c->port[0];
	ev.rport = c->port[1];
	ev.family = c->family;
	ev.dir = (uint8_t)dir;
	ev.len = (uint32_t)len;
	ev.pos = pos;
	ev.msg_size = len;
	if (c->fresh) {
		ev.sel = DT_SEL_SERVER | DT_SEL_LOCAL_PORT;
	} else {
		ev.start_pos[0] = DT_TCP_MIDSTREAM_POS;
		ev.start_pos[1] = DT_TCP_MIDSTREAM_POS;
	}
	if (!c->announced)
		ev.flags = DT_EVF_FIRST;
	c->announced = true;
	r->stop = r->fn(r->ctx, &ev, data);
	return r->stop;
}

static int deliver(struct dt_tcp_reasm *r, struct tcp_conn *c, int d,
		   const uint8_t *data, size_t len, uint64_t ts)
{
	struct half *h = &c->h[d];
	uint64_t pos = h->next;

	h->next += len;
	h->next_seq += (uint32_t)len;
	if (!h->holed)
		h->first_run += len;
	return emit(r, c, DT_EV_DATA, d, pos, data, len, ts);
}

/* The bytes up to offset to will not arrive: a hole. */
static int give_up(struct dt_tcp_reasm *r, struct tcp_conn *c, int d,
		   uint64_t to, uint64_t ts)
{
	static const uint8_t none[1];
	struct half *h = &c->h[d];

	r->st.gaps++;
	r->st.gap_bytes += to - h->next;
	h->next_seq += (uint32_t)(to - h->next);
	h->next = to;
	h->holed = true;
	if (h->first_run < ANNOUNCE_MIN_RUN)
		return 0;
	return emit(r, c, DT_EV_DATA, d, to, none, 0, ts);
}

/* Delivers the waiting pieces the stream has reached. */
static int drain(struct dt_tcp_reasm *r, struct tcp_conn *c, int d)
{
	struct half *h = &c->h[d];
	struct piece *p;
	int ret = 0;

	while (!ret && (p = h->ooo) && p->pos <= h->next) {
		h->ooo = p->next;
		h->ooo_cost -= PIECE_COST(p->len);
		r->total_ooo -= PIECE_COST(p->len);
		h->npieces--;
		if (p->pos + p->len > h->next) {
			size_t skip = h->next - p->pos;

			ret = deliver(r, c, d, p->data + skip, p->len - skip,
				      p->ts);
		} else {
			r->st.duplicate_bytes += p->len;
		}
		free(p);
	}
	return ret;
}

/* Everything below offset limit has arrived or is lost. */
static int flush_to(struct dt_tcp_reasm *r, struct tcp_conn *c, int d,
		    uint64_t limit, uint64_t ts)
{
	struct half *h = &c->h[d];
	int ret = drain(r, c, d);

	while (!ret && h->next < limit) {
		uint64_t to = h->ooo && h->ooo->pos < limit ? h->ooo->pos
							    : limit;

		ret = give_up(r, c, d, to, ts);
		if (!ret)
			ret = drain(r, c, d);
	}
	return ret;
}

/* Delivers all that waits, holes given up, up to the FIN if seen. */
static int flush_all(struct dt_tcp_reasm *r, struct tcp_conn *c, int d,
		     uint64_t ts)
{
	struct half *h = &c->h[d];
	uint64_t end = h->next;
	struct piece *p;

	for (p = h->ooo; p; p = p->next)
		end = p->pos + p->len;
	if (h->fin != NO_FIN && h->fin > end)
		end = h->fin;
	return flush_to(r, c, d, end, ts);
}

static void closed_evict(struct dt_tcp_reasm *r, uint64_t now)
{
	while (r->closed && (r->nclosed > r->opts.max_closed ||
			     r->closed->last_ts + CLOSED_KEEP_NS < now))
		conn_free(r, r->closed);
}

/* Delivers what is left (the client's bytes first: requests come before
 * their responses), then the close. */
static int conn_close(struct dt_tcp_reasm *r, struct tcp_conn *c, uint64_t ts)
{
	int ret = flush_all(r, c, DT_DIR_INGRESS, ts);

	if (!ret)
		ret = flush_all(r, c, DT_DIR_EGRESS, ts);
	if (!ret && c->announced)
		ret = emit(r, c, DT_EV_CLOSE, DT_DIR_EGRESS, 0, NULL, 0, ts);
	half_clear(r, &c->h[0]);
	half_clear(r, &c->h[1]);
	c->closed = true;
	c->last_ts = ts;
	DL_APPEND(r->closed, c);
	r->nclosed++;
	return ret;
}

/* ---- segments ------------------------------------------------------------ */

/* Stream offset of sequence number seq: near next, in either direction,
 * as sequence numbers wrap. Negative: before the stream's start. */
static int64_t seq_pos(const struct half *h, uint32_t seq)
{
	return (int64_t)h->next + (int32_t)(seq - h->next_seq);
}

static void half_start(struct tcp_conn *c, struct half *h, uint32_t seq)
{
	h->known = true;
	h->next_seq = seq;
	h->next = c->fresh ? 0 : DT_TCP_MIDSTREAM_POS;
}

/* Keeps the parts of [pos, pos + len) no waiting piece holds yet. */
static int keep(struct dt_tcp_reasm *r, struct half *h, uint64_t pos,
		const uint8_t *data, size_t len, uint64_t ts)
{
	struct piece **link = &h->ooo, *p;
	uint64_t end = pos + len;

	r->st.out_of_order++;
	while (pos < end) {
		uint64_t stop = end;
		size_t n;

		while (*link && (*link)->pos + (*link)->len <= pos)
			link = &(*link)->next;
		if (*link && (*link)->pos <= pos) {
			/* already held: skip past that piece */
			uint64_t held = (*link)->pos + (*link)->len;

			r->st.duplicate_bytes += (held < end ? held : end) - pos;
			data += (held < end ? held : end) - pos;
			pos = held;
			continue;
		}
		if (*link && (*link)->pos < stop)
			stop = (*link)->pos;
		n = (size_t)(stop - pos);
		p = malloc(sizeof(*p) + n);
		if (!p)
			return -ENOMEM;
		p->pos = pos;
		p->ts = ts;
		p->len = n;
		memcpy(p->data, data, n);
		p->next = *link;
		*link = p;
		link = &p->next;
		h->ooo_cost += PIECE_COST(n);
		r->total_ooo += PIECE_COST(n);
		h->npieces++;
		data += n;
		pos = stop;
	}
	return 0;
}

/* Bytes at stream offset pos of direction d. */
static int place(struct dt_tcp_reasm *r, struct tcp_conn *c, int d,
		 int64_t pos, const uint8_t *data, size_t len, uint64_t ts)
{
	struct half *h = &c->h[d];
	int ret;

	if (h->fin != NO_FIN && pos + (int64_t)len > (int64_t)h->fin)
		len = pos < (int64_t)h->fin ? (size_t)(h->fin - pos) : 0;
	if (!len)
		return 0;
	if (pos + (int64_t)len <= (int64_t)h->next) {
		r->st.duplicate_bytes += len;
		return 0;
	}
	if (pos < (int64_t)h->next) {
		size_t dup = (size_t)((int64_t)h->next - pos);

		r->st.duplicate_bytes += dup;
		data += dup;
		len -= dup;
		pos = (int64_t)h->next;
	}
	if ((uint64_t)pos == h->next) {
		ret = deliver(r, c, d, data, len, ts);
		return ret ? ret : drain(r, c, d);
	}
	if ((uint64_t)pos > MAX_POS)
		return 0;
	if (h->npieces >= MAX_PIECES ||
	    h->ooo_cost + PIECE_COST(len) > r->opts.max_direction_bytes ||
	    r->total_ooo + PIECE_COST(len) > r->opts.max_total_bytes) {
		/* too much waits for the first hole: give it up */
		ret = flush_to(r, c, d, (uint64_t)pos, ts);
		return ret ? ret : place(r, c, d, pos, data, len, ts);
	}
	return keep(r, h, (uint64_t)pos, data, len, ts);
}

/* The peer acknowledged the bytes of direction d before ack: it got
 * them, so those the capture missed are lost. */
static int on_ack(struct dt_tcp_reasm *r, struct tcp_conn *c, int d,
		  uint32_t ack, uint64_t ts)
{
	struct half *h = &c->h[d];
	int64_t limit;

	if (!h->known) {
		/* the handshake's last ACK: where the server's bytes start,
		 * had the capture missed its SYN-ACK */
		if (c->fresh)
			half_start(c, h, ack);
		return 0;
	}
	limit = seq_pos(h, ack);
	if (h->fin != NO_FIN && limit > (int64_t)h->fin)
		limit = (int64_t)h->fin;
	if (limit <= (int64_t)h->next || (uint64_t)limit > MAX_POS)
		return 0;
	return flush_to(r, c, d, (uint64_t)limit, ts);
}

static void on_fin(struct half *h, int64_t end)
{
	if (h->fin != NO_FIN || end < 0 || (uint64_t)end > MAX_POS)
		return;
	h->fin = (uint64_t)end > h->next ? (uint64_t)end : h->next;
}

static bool half_done(const struct half *h)
{
	return h->fin != NO_FIN && h->next >= h->fin;
}

/* ACK, data and FIN of a packet of an open connection. */
static int on_segment(struct dt_tcp_reasm *r, struct tcp_conn *c,
		      const struct dt_tcp_packet *p)
{
	int d = sender_dir(c, p);
	struct half *h = &c->h[d];
	uint32_t seq = p->seq + (p->flags & DT_TH_SYN ? 1 : 0);
	int ret = 0;

	c->last_ts = p->ts_ns;
	if (p->flags & DT_TH_ACK)
		ret = on_ack(r, c, !d, p->ack, p->ts_ns);
	if (!h->known)
		half_start(c, h, seq);
	if (!ret && p->len)
		ret = place(r, c, d, seq_pos(h, seq), p->payload, p->len,
			    p->ts_ns);
	if (p->flags & DT_TH_FIN)
		on_fin(h, seq_pos(h, seq) + (int64_t)p->wire_len);
	if (!ret && half_done(&c->h[0]) && half_done(&c->h[1]))
		ret = conn_close(r, c, p->ts_ns);
	return ret;
}

/* A SYN that opens a connection: a new one, unless it repeats the SYN
 * that opened the current one. Returns the connection to go on with,
 * NULL when the packet is done with (or out of memory: *err). */
static struct tcp_conn *on_syn(struct dt_tcp_reasm *r, struct tcp_conn *c,
			       const struct dt_tcp_packet *p, int *err)
{
	struct half *h;

	if (c && !c->closed) {
		h = &c->h[sender_dir(c, p)];
		if (h->syn && h->isn == p->seq)
			return c;
		/* the ports were reused: the old connection ended */
		*err = conn_close(r, c, p->ts_ns);
		if (*err)
			return NULL;
	}
	if (c)
		conn_free(r, c);
	c = conn_new(r, p, false, true);
	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	h = &c->h[DT_DIR_INGRESS];
	h->syn = true;
	h->isn = p->seq;
	half_start(c, h, p->seq + 1);
	return c;
}

/* A SYN-ACK: the server's initial sequence number, and the client's if
 * its SYN was missed. */
static struct tcp_conn *on_syn_ack(struct dt_tcp_reasm *r, struct tcp_conn *c,
				   const struct dt_tcp_packet *p, int *err)
{
	struct half *h;

	if (!c || c->closed) {
		if (c)
			conn_free(r, c);
		c = conn_new(r, p, true, true);
		if (!c) {
			*err = -ENOMEM;
			return NULL;
		}
		half_start(c, &c->h[DT_DIR_INGRESS], p->ack);
	}
	h = &c->h[sender_dir(c, p)];
	if (!h->known) {
		h->syn = true;
		h->isn = p->seq;
		half_start(c, h, p->seq + 1);
	}
	return c;
}

int dt_tcp_reasm_packet(struct dt_tcp_reasm *r, const struct dt_tcp_packet *p)
{
	struct tcp_conn *c;
	int err = 0;

	if (r->stop)
		return r->stop;
	r->st.segments++;
	closed_evict(r, p->ts_ns);
	c = conn_find(r, p);
	if (p->flags & DT_TH_RST) {
		if (!c || c->closed) {
			r->st.ignored++;
			return 0;
		}
		c->last_ts = p->ts_ns;
		return conn_close(r, c, p->ts_ns);
	}
	if ((p->flags & (DT_TH_SYN | DT_TH_ACK)) == DT_TH_SYN)
		c = on_syn(r, c, p, &err);
	else if (p->flags & DT_TH_SYN)
		c = on_syn_ack(r, c, p, &err);
	else if (!c && p->len)
		/* joined open: guess the server by its lower port */
		c = conn_new(r, p, p->sport < p->dport, false);
	else if (!c || c->closed)
		c = NULL;
	if (err)
		return err;
	if (!c) {
		r->st.ignored++;
		return 0;
	}
	return on_segment(r, c, p);
}

int dt_tcp_reasm_finish(struct dt_tcp_reasm *r)
{
	struct tcp_conn *c, *tmp;
	int ret = r->stop;

	HASH_ITER(hh, r->conns, c, tmp) {
		if (!ret && !c->closed)
			ret = conn_close(r, c, c->last_ts);
	}
	return ret;
}

void dt_tcp_reasm_free(struct dt_tcp_reasm *r)
{
	struct tcp_conn *c, *tmp;

	if (!r)
		return;
	HASH_ITER(hh, r->conns, c, tmp)
		conn_free(r, c);
	free(r);
}
