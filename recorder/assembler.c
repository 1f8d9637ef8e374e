// SPDX-License-Identifier: MIT
/*
 * Stream reassembly: per connection and direction, place each payload chunk
 * at its stream offset, detect gaps, and hand contiguous bytes to the
 * protocol code. Also decides which end of a connection seen twice
 * (loopback) records it.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utlist.h>

#include "recorder/recorder_int.h"

#define DEFAULT_MAX_MESSAGE (64u << 20)
/* How long a closed connection waits for data from syscalls that raced
 * with its close; far above the reader's polling interval. */
#define CLOSE_GRACE_NS 200000000ull
/* An emptied stream buffer above this size goes back to the allocator, so
 * that memory follows the bytes held rather than the largest message. */
#define STREAM_KEEP_CAP (64u << 10)

/* A close reported before any other event of its connection: a syscall
 * that raced with the close delivers the connection's first bytes after
 * it. Kept for the grace period. */
struct early_close {
	uint64_t conn_id;
	uint64_t ts;
	uint64_t end_pos[2];
	UT_hash_handle hh;
	struct early_close *prev, *next; /* oldest first (utlist) */
};

struct dt_assembler {
	struct dt_conn *by_id;
	struct dt_conn *by_tuple;
	/* closed connections waiting out the grace period, in close order */
	struct dt_conn *closed_head, *closed_tail;
	struct early_close *early_by_id, *early_list;
	size_t max_message;
	uint64_t realtime_offset;
	dt_exchange_fn fn;
	void *ctx;
	int stop;             /* non-zero once fn asked to stop */
	const struct dt_proto_ops *forced; /* --protocol, NULL = detect */
	/* connections holding bytes, most recently fed first; the head's
	 * lru_prev is the tail (utlist) */
	struct dt_conn *lru;
	size_t mem_limit;     /* bound on stats.buffered, 0 = none */
	struct dt_assembler_stats stats;
};

uint64_t dt_clock_realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (uint64_t)(rt.tv_sec - mono.tv_sec) * 1000000000ull +
	       rt.tv_nsec - mono.tv_nsec;
}

int dt_assembler_new(struct dt_assembler **out, size_t max_message,
		     dt_exchange_fn fn, void *ctx)
{
	struct dt_assembler *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->max_message = max_message ? max_message : DEFAULT_MAX_MESSAGE;
	a->realtime_offset = dt_clock_realtime_offset();
	a->fn = fn;
	a->ctx = ctx;
	*out = a;
	return 0;
}

static void stream_release(struct dt_stream *s)
{
	free(s->buf);
	free(s->marks);
	memset(s, 0, sizeof(*s));
}

void dt_assembler_set_memory_limit(struct dt_assembler *a, size_t limit)
{
	a->mem_limit = limit;
}

static void lru_remove(struct dt_assembler *a, struct dt_conn *c)
{
	if (!c->lru_prev)
		return;
	DL_DELETE2(a->lru, c, lru_prev, lru_next);
	c->lru_prev = c->lru_next = NULL;
}

/* Brings stats.buffered up to date with what c holds now; a connection
 * holding nothing leaves the eviction list, and one just fed moves to its
 * front. O(1): the decoders keep their own counts. */
static void conn_account(struct dt_assembler *a, struct dt_conn *c, bool fed)
{
	uint64_t held = c->s[0].len + c->s[1].len;

	if (c->proto && c->proto->held)
		held += c->proto->held(c->state);
	a->stats.buffered += held - c->held;
	c->held = held;
	if (!held || fed)
		lru_remove(a, c);
	if (held && fed)
		DL_PREPEND2(a->lru, c, lru_prev, lru_next);
}

static void conn_free(struct dt_assembler *a, struct dt_conn *c)
{
	lru_remove(a, c);
	a->stats.buffered -= c->held;
	HASH_DELETE(hh, a->by_id, c);
	HASH_DELETE(hh_tuple, a->by_tuple, c);
	if (c->proto)
		c->proto->conn_free(c->state);
	stream_release(&c->s[0]);
	stream_release(&c->s[1]);
	free(c);
	a->stats.conns--;
}

static void early_close_drop(struct dt_assembler *a, struct early_close *e)
{
	HASH_DELETE(hh, a->early_by_id, e);
	DL_DELETE(a->early_list, e);
	free(e);
}

static void early_close_clear(struct dt_assembler *a)
{
	while (a->early_list)
		early_close_drop(a, a->early_list);
}

void dt_assembler_free(struct dt_assembler *a)
{
	struct dt_conn *c, *tmp;

	if (!a)
		return;
	early_close_clear(a);
	a->closed_head = a->closed_tail = NULL;
	HASH_ITER(hh, a->by_id, c, tmp)
		conn_free(a, c);
	free(a);
}

void dt_assembler_get_stats(const struct dt_assembler *a,
			    struct dt_assembler_stats *st)
{
	*st = a->stats;
}

void dt_assembler_count_unpaired(struct dt_assembler *a)
{
	a->stats.unpaired++;
}

void dt_assembler_count_malformed(struct dt_assembler *a)
{
	a->stats.malformed++;
}

static void tuple_from_event(struct dt_tuple *t, const struct dt_event *ev)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->laddr, ev->laddr, 16);
	memcpy(t->raddr, ev->raddr, 16);
	t->lport = ev->lport;
	t->rport = ev->rport;
	t->family = ev->family;
}

static void tuple_mirror(struct dt_tuple *m, const struct dt_tuple *t)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->laddr, t->raddr, 16);
	memcpy(m->raddr, t->laddr, 16);
	m->lport = t->rport;
	m->rport = t->lport;
	m->family = t->family;
}

static struct dt_conn *conn_by_tuple(struct dt_assembler *a,
				     const struct dt_tuple *t)
{
	struct dt_conn *c;

	HASH_FIND(hh_tuple, a->by_tuple, t, sizeof(*t), c);
	return c;
}

/* The address part of an endpoint: IPv4, IPv6, or a Unix socket path
 * (the same for both ends of a Unix connection). */
static void endpoint_set_addr(struct dt_endpoint *ep, uint16_t family,
			      const uint8_t addr[16], const char *path)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_UNIX) {
		ep->family = DT_FAMILY_UNIX;
		strcpy(ep->path, path);
	} else if (!memcmp(addr, v4mapped, sizeof(v4mapped))) {
		ep->family = DT_FAMILY_IPV4;
		memcpy(ep->addr, addr + 12, 4);
	} else {
		ep->family = DT_FAMILY_IPV6;
		memcpy(ep->addr, addr, 16);
	}
}

/* Endpoint of the socket's own side, from the process that used it. */
static void endpoint_from_event(struct dt_endpoint *ep,
				const struct dt_event *ev, const char *path)
{
	memset(ep, 0, sizeof(*ep));
	endpoint_set_addr(ep, ev->family, ev->laddr, path);
	ep->port = ev->lport;
	ep->pid = ev->tgid;
	memcpy(ep->comm, ev->comm, sizeof(ep->comm) - 1);
	ep->cgroup_id = ev->cgroup_id;
}

/* Endpoint of the peer: its address, and its process when we saw it. */
static void endpoint_of_peer(struct dt_assembler *a, struct dt_endpoint *ep,
			     const struct dt_conn *c)
{
	struct dt_tuple m;
	struct dt_conn *peer;

	tuple_mirror(&m, &c->tuple);
	peer = conn_by_tuple(a, &m);
	if (peer) {
		*ep = peer->local;
		return;
	}
	memset(ep, 0, sizeof(*ep));
	endpoint_set_addr(ep, m.family, m.laddr, c->path);
	ep->port = m.lport;
}

/* sun_path as shown to users: "@name" for an abstract socket. */
static void unix_path_set(char out[108], const char *sun_path)
{
	if (sun_path[0]) {
		memcpy(out, sun_path, DT_PATH_LEN - 1);
		out[DT_PATH_LEN - 1] = '\0';
		return;
	}
	out[0] = '@';
	memcpy(out + 1, sun_path + 1, DT_PATH_LEN - 2);
	out[DT_PATH_LEN - 1] = '\0';
	/* an abstract name may hold NULs; cut at the first */
	out[strnlen(out, DT_PATH_LEN - 1)] = '\0';
}

/* The connection ends once the grace period after ts is over; end_pos
 * holds the stream lengths the close reported (by DT_DIR_*, 0 unknown).
 * The list stays in arrival order: a close kept in early_close is older
 * than its neighbours and merely ends a little late. */
static void conn_mark_closed(struct dt_assembler *a, struct dt_conn *c,
			     uint64_t ts, const uint64_t end_pos[2])
{
	if (c->closed_ts)
		return;
	c->closed_ts = ts ? ts : 1;
	memcpy(c->end_pos, end_pos, sizeof(c->end_pos));
	if (a->closed_tail)
		a->closed_tail->next_closed = c;
	else
		a->closed_head = c;
	a->closed_tail = c;
}

static int early_close_add(struct dt_assembler *a, const struct dt_event *ev)
{
	struct early_close *e;

	HASH_FIND(hh, a->early_by_id, &ev->conn_id, sizeof(ev->conn_id), e);
	if (e)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->conn_id = ev->conn_id;
	e->ts = ev->ts_ns;
	e->end_pos[DT_DIR_EGRESS] = ev->pos;
	e->end_pos[DT_DIR_INGRESS] = ev->msg_size;
	HASH_ADD(hh, a->early_by_id, conn_id, sizeof(e->conn_id), e);
	DL_APPEND(a->early_list, e);
	return 0;
}

/* A new connection whose close came first is closed already. */
static void early_close_claim(struct dt_assembler *a, struct dt_conn *c)
{
	struct early_close *e;

	HASH_FIND(hh, a->early_by_id, &c->id, sizeof(c->id), e);
	if (!e)
		return;
	conn_mark_closed(a, c, e->ts, e->end_pos);
	early_close_drop(a, e);
}

static struct dt_conn *conn_get(struct dt_assembler *a,
				const struct dt_event *ev)
{
	struct dt_conn *c, *peer;
	struct dt_tuple m;

	HASH_FIND(hh, a->by_id, &ev->conn_id, sizeof(ev->conn_id), c);
	if (c)
		return c;
	if (ev->type == DT_EV_CLOSE)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = ev->conn_id;
	tuple_from_event(&c->tuple, ev);
	c->sel = ev->sel;
	c->req_dir = -1;
	if (ev->sel & DT_SEL_LOCAL_PORT)
		c->req_dir = DT_DIR_INGRESS;
	else if (ev->sel & DT_SEL_REMOTE_PORT)
		c->req_dir = DT_DIR_EGRESS;
	c->peer_only = ev->type == DT_EV_PEER;
	c->midstream = ev->start_pos[0] || ev->start_pos[1];
	c->resync_start = c->midstream || (ev->flags & DT_EVF_UNSURE_START);
	for (int d = 0; d < 2; d++) {
		c->s[d].next = ev->start_pos[d];
		c->s[d].base = ev->start_pos[d];
	}
	tuple_mirror(&m, &c->tuple);
	peer = conn_by_tuple(a, &m);
	if (peer && !peer->peer_only && !c->peer_only)
		peer->mirrored = c->mirrored = true;
	HASH_ADD(hh, a->by_id, id, sizeof(c->id), c);
	HASH_ADD(hh_tuple, a->by_tuple, tuple, sizeof(c->tuple), c);
	a->stats.conns++;
	early_close_claim(a, c);
	return c;
}

int dt_assembler_emit(struct dt_assembler *a, struct dt_conn *c,
		      struct dt_exchange *x)
{
	bool local_is_server = c->req_dir == DT_DIR_INGRESS;
	int ret = 0;

	/* Both ends traced with payload: the server's end records it. */
	if (!local_is_server && c->mirrored)
		goto out;

	x->conn_id = c->id;
	if (local_is_server) {
		x->server = c->local;
		endpoint_of_peer(a, &x->client, c);
	} else {
		x->client = c->local;
		endpoint_of_peer(a, &x->server, c);
	}
	if (c->midstream)
		x->flags |= DT_XF_MIDSTREAM;
	if (c->tls)
		x->flags |= DT_XF_TLS;
	if (x->flags & DT_XF_INCOMPLETE)
		a->stats.incomplete++;
	for (uint64_t *t = &x->req_start_ns; t <= &x->resp_end_ns; t++)
		if (*t)
			*t += a->realtime_offset;
	if (!a->stop)
		ret = a->stop = a->fn(a->ctx, x);
out:
	dt_exchange_release(x);
	return ret;
}

static int stream_reserve(struct dt_stream *s, size_t extra)
{
	size_t need = s->len + extra;
	uint8_t *nb;

	if (need <= s->cap)
		return 0;
	if (need < 2 * s->cap)
		need = 2 * s->cap;
	if (need < 4096)
		need = 4096;
	nb = realloc(s->buf, need);
	if (!nb)
		return -ENOMEM;
	s->buf = nb;
	s->cap = need;
	return 0;
}

static int stream_mark(struct dt_stream *s, uint64_t off, uint64_t ts)
{
	if (s->nmarks == s->capmarks) {
		size_t n = s->capmarks ? 2 * s->capmarks : 16;
		struct dt_mark *m = realloc(s->marks, n * sizeof(*m));

		if (!m)
			return -ENOMEM;
		s->marks = m;
		s->capmarks = n;
	}
	s->marks[s->nmarks].off = off;
	s->marks[s->nmarks].ts = ts;
	s->nmarks++;
	return 0;
}

uint64_t dt_stream_time_at(const struct dt_stream *s, uint64_t off)
{
	uint64_t ts = s->nmarks ? s->marks[0].ts : 0;

	for (size_t i = 0; i < s->nmarks && s->marks[i].off <= off; i++)
		ts = s->marks[i].ts;
	return ts;
}

void dt_stream_consume(struct dt_stream *s, size_t n, uint64_t *start_ts,
		       uint64_t *end_ts)
{
	size_t keep = 0;

	if (n > s->len)
		n = s->len;
	if (start_ts)
		*start_ts = dt_stream_time_at(s, s->base);
	if (end_ts)
		*end_ts = dt_stream_time_at(s, s->base + (n ? n - 1 : 0));
	/* an empty stream has no buffer yet */
	if (n)
		memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	s->base += n + s->holes;
	s->holes = 0;
	if (!s->len && s->cap > STREAM_KEEP_CAP) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	/* keep the last mark at or before the new base, and all after it */
	while (keep + 1 < s->nmarks && s->marks[keep + 1].off <= s->base)
		keep++;
	if (keep) {
		memmove(s->marks, s->marks + keep,
			(s->nmarks - keep) * sizeof(*s->marks));
		s->nmarks -= keep;
	}
}

/* n bytes of direction dir will never arrive. */
static int stream_hole(struct dt_assembler *a, struct dt_conn *c, int dir,
		       uint64_t n, uint32_t why)
{
	struct dt_stream *s = &c->s[dir];
	int ret = c->proto ? c->proto->on_gap(a, c, dir, n, why) : 0;

	if (ret < 0)
		return ret;
	if (ret == 0)
		dt_stream_consume(s, s->len, NULL, NULL);
	if (!s->len)
		s->base = s->next + n;
	return 0;
}

/* Bytes [ev->pos, ev->pos + len) of direction dir arrived. */
static int stream_add(struct dt_assembler *a, struct dt_conn *c,
		      const struct dt_event *ev, const uint8_t *data)
{
	struct dt_stream *s = &c->s[ev->dir & 1];
	uint64_t pos = ev->pos;
	size_t len = ev->len;
	int ret;

	if (pos < s->next) {
		/* overlaps what we have: keep only the new tail */
		uint64_t dup = s->next - pos;

		if (dup >= len)
			return 0;
		data += dup;
		len -= dup;
		pos = s->next;
	}
	if (pos > s->next) {
		a->stats.gaps++;
		c->lost_bytes = true;
		ret = stream_hole(a, c, ev->dir & 1, pos - s->next,
				  DT_XF_INCOMPLETE);
		if (ret)
			return ret;
		s->next = pos;
	}
	if (s->len + len > a->max_message) {
		a->stats.gaps++;
		ret = stream_hole(a, c, ev->dir & 1, len, DT_XF_TRUNCATED);
		s->next = pos + len;
		return ret;
	}
	if (!len)
		return 0;
	if (stream_reserve(s, len) || stream_mark(s, pos, ev->ts_ns))
		return -ENOMEM;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->next = pos + len;
	s->started = true;
	return 0;
}

/* HTTP last: on a joined connection its detector accepts a request line
 * anywhere, and SQL text or binary data can hold one. */
static const struct dt_proto_ops *const protocols[] = {
	&dt_proto_mysql,
	&dt_proto_redis,
	&dt_proto_http2,
	&dt_proto_http1,
};

/* Asks each decoder whether the first bytes are its protocol; a stream
 * that none claims is ignored from then on. */
static int conn_use(struct dt_conn *c, const struct dt_proto_ops *p)
{
	c->state = p->conn_new();
	if (!c->state)
		return -ENOMEM;
	c->proto = p;
	return 0;
}

/* --protocol: the named decoder takes every selected connection; when
 * its detector can't tell the client, the port selector does, or else
 * the side that spoke first. */
static int conn_force(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	int r = a->forced->detect(c, dir);

	if (r == -EAGAIN && c->s[dir].len < 65536)
		return 0;
	if (r <= 0 && c->req_dir < 0)
		c->req_dir = dir;
	return conn_use(c, a->forced);
}

static int conn_detect(struct dt_assembler *a, struct dt_conn *c, int dir)
{
	bool wait = false;

	if (a->forced)
		return conn_force(a, c, dir);
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		int r = protocols[i]->detect(c, dir);

		if (r == -EAGAIN)
			wait = true;
		else if (r > 0)
			return conn_use(c, protocols[i]);
	}
	/* bytes on a selected port that no decoder takes are counted:
	 * binary noise, or a protocol we do not decode */
	if (!wait) {
		c->ignored = true;
		dt_assembler_count_malformed(a);
	}
	return 0;
}

int dt_assembler_switch_protocol(struct dt_assembler *a, struct dt_conn *c,
				 const struct dt_proto_ops *p, void *state)
{
	int ret;

	c->proto->conn_free(c->state);
	c->proto = p;
	c->state = state;
	ret = p->on_data(a, c, c->req_dir);
	return ret ? ret : p->on_data(a, c, !c->req_dir);
}

int dt_assembler_force_protocol(struct dt_assembler *a, const char *name)
{
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		if (!strcmp(protocols[i]->name, name)) {
			a->forced = protocols[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int on_data(struct dt_assembler *a, struct dt_conn *c,
		   const struct dt_event *ev, const uint8_t *data)
{
	int dir = ev->dir & 1;
	int ret;

	endpoint_from_event(&c->local, ev, c->path);
	if (ev->flags & DT_EVF_TLS)
		c->tls = true;
	if (ev->type == DT_EV_SENDFILE) {
		/* the bytes are past the ones we hold: a hole of known size */
		struct dt_stream *s = &c->s[dir];

		if (ev->pos != s->next) {
			ret = stream_add(a, c, ev, data);
			if (ret)
				return ret;
		}
		ret = stream_hole(a, c, dir, ev->msg_size,
				  DT_XF_SENDFILE | DT_XF_INCOMPLETE);
		s->next = ev->pos + ev->msg_size;
		return ret;
	}
	ret = stream_add(a, c, ev, data);
	if (ret)
		return ret;
	if (!c->proto) {
		ret = conn_detect(a, c, dir);
		if (ret)
			return ret;
	}
	if (c->ignored) {
		stream_release(&c->s[0]);
		stream_release(&c->s[1]);
		return 0;
	}
	if (!c->proto)
		return 0;
	return c->proto->on_data(a, c, dir);
}

/* Drops what c holds to honour the memory bound, through the gap path:
 * the request being read is flagged incomplete, then the response being
 * read is lost, so every request waiting goes out flagged incomplete and
 * decoding restarts at the next message start. */
static int conn_evict(struct dt_assembler *a, struct dt_conn *c)
{
	bool decoding = c->proto && c->req_dir >= 0;
	int ret = 0;

	a->stats.evicted++;
	if (decoding)
		ret = stream_hole(a, c, c->req_dir, 0, DT_XF_INCOMPLETE);
	for (int d = 0; d < 2; d++)
		dt_stream_consume(&c->s[d], c->s[d].len, NULL, NULL);
	if (!ret && decoding)
		ret = c->proto->on_gap(a, c, !c->req_dir, 0, DT_XF_INCOMPLETE);
	/* detection starts over on bytes that may begin anywhere */
	if (!c->proto)
		c->resync_start = true;
	conn_account(a, c, false);
	lru_remove(a, c);
	return ret < 0 ? ret : 0;
}

static int enforce_memory_limit(struct dt_assembler *a)
{
	int ret = 0;

	while (!ret && a->mem_limit && a->stats.buffered > a->mem_limit &&
	       a->lru)
		ret = conn_evict(a, a->lru->lru_prev);
	return ret;
}

int dt_assembler_event(struct dt_assembler *a, const struct dt_event *ev,
		       const uint8_t *data)
{
	struct dt_conn *c = conn_get(a, ev);
	uint64_t end_pos[2];
	int ret = 0;

	if (!c)
		return ev->type == DT_EV_CLOSE ? early_close_add(a, ev) :
						 -ENOMEM;
	switch (ev->type) {
	case DT_EV_UNIX_PATH:
		unix_path_set(c->path, (const char *)data);
		break;
	case DT_EV_PEER:
		endpoint_from_event(&c->local, ev, c->path);
		break;
	case DT_EV_DATA:
	case DT_EV_SENDFILE:
		if (!c->peer_only && !c->ignored)
			ret = on_data(a, c, ev, data);
		break;
	case DT_EV_CLOSE:
		end_pos[DT_DIR_EGRESS] = ev->pos;
		end_pos[DT_DIR_INGRESS] = ev->msg_size;
		conn_mark_closed(a, c, ev->ts_ns, end_pos);
		break;
	}
	conn_account(a, c, ev->type == DT_EV_DATA ||
			   ev->type == DT_EV_SENDFILE);
	if (!ret)
		ret = enforce_memory_limit(a);
	return ret ? ret : a->stop;
}

/* Bytes the close says were sent but whose events were lost (ring buffer
 * full) after the last ones seen: without this, a response lost whole at
 * the end of a connection would pass for no response at all. Requests
 * first, so that a lost response flags them incomplete. When the close
 * gave no lengths (its event was lost too, or the recording ends first)
 * on a connection known to lose events, the responses due may be in what
 * was lost: the requests waiting are flagged the same way. */
static int conn_trailing_gaps(struct dt_assembler *a, struct dt_conn *c)
{
	int first = c->req_dir == DT_DIR_EGRESS ? DT_DIR_EGRESS :
						  DT_DIR_INGRESS;
	int ret = 0;

	if (!c->end_pos[0] && !c->end_pos[1] && c->lost_bytes)
		return stream_hole(a, c, !first, 0, DT_XF_INCOMPLETE);
	for (int i = 0; i < 2 && !ret; i++) {
		int d = i ? !first : first;
		struct dt_stream *s = &c->s[d];

		if (c->end_pos[d] <= s->next)
			continue;
		a->stats.gaps++;
		ret = stream_hole(a, c, d, c->end_pos[d] - s->next,
				  DT_XF_INCOMPLETE);
		s->next = c->end_pos[d];
	}
	return ret;
}

/* Flushes what the connection's decoder holds, as the connection ends. */
static int conn_flush(struct dt_assembler *a, struct dt_conn *c)
{
	int ret;

	if (!c->proto)
		return 0;
	ret = conn_trailing_gaps(a, c);
	return ret ? ret : c->proto->on_close(a, c);
}

static int conn_end(struct dt_assembler *a, struct dt_conn *c)
{
	int ret = conn_flush(a, c);

	conn_free(a, c);
	return ret;
}

int dt_assembler_expire(struct dt_assembler *a, uint64_t now_ns)
{
	struct dt_conn *c;
	int ret = 0;

	while (a->early_list && a->early_list->ts + CLOSE_GRACE_NS <= now_ns)
		early_close_drop(a, a->early_list);
	while ((c = a->closed_head) && c->closed_ts + CLOSE_GRACE_NS <= now_ns) {
		a->closed_head = c->next_closed;
		if (!a->closed_head)
			a->closed_tail = NULL;
		ret = conn_end(a, c);
		if (ret)
			break;
	}
	return ret ? ret : a->stop;
}

int dt_assembler_finish(struct dt_assembler *a)
{
	struct dt_conn *c, *tmp;
	int ret = 0;

	early_close_clear(a);
	a->closed_head = a->closed_tail = NULL;
	/* flush all before freeing any: emit looks up peers */
	HASH_ITER(hh, a->by_id, c, tmp) {
		if (!ret)
			ret = conn_flush(a, c);
	}
	HASH_ITER(hh, a->by_id, c, tmp)
		conn_free(a, c);
	return ret;
}
