// SPDX-License-Identifier: MIT
/*
 * Exchanges to TCP conversations: one conversation per recorded connection,
 * each exchange's bytes in the order they crossed the wire, and a hole
 * where an exchange lost bytes, so that Wireshark shows the loss instead of
 * a message that looks whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "formats/pcap.h"

#define MYSQL_HEADER_LEN 4
/* Holes are sequence number jumps: keep them well inside TCP's window
 * arithmetic. */
#define MAX_HOLE (1u << 30)

/* ---- wire order ---------------------------------------------------------- */

/* Length of the whole MySQL packet at buf[off..len) and its sequence id;
 * 0 when the bytes there do not hold one. */
static size_t mysql_packet(const uint8_t *buf, size_t len, size_t off,
			   int *seq)
{
	size_t plen;

	if (len - off < MYSQL_HEADER_LEN)
		return 0;
	plen = buf[off] | (size_t)buf[off + 1] << 8 |
	       (size_t)buf[off + 2] << 16;
	if (plen > len - off - MYSQL_HEADER_LEN)
		return 0;
	*seq = buf[off + 3];
	return MYSQL_HEADER_LEN + plen;
}

struct wire_side {
	const uint8_t *buf;
	size_t len, off;
};

/* Sequence id of the side's next whole packet, -1 when none. */
static int next_seq(const struct wire_side *s)
{
	int seq;

	return s->off < s->len && mysql_packet(s->buf, s->len, s->off, &seq) ?
	       seq : -1;
}

/* Takes packets from s while they continue the sequence, or while the
 * other side's next packet does not (ambiguous: keep the stored order).
 * Bytes that are not a whole packet go in one piece. */
static void take_run(struct wire_side *s, const struct wire_side *other)
{
	int seq, expect;
	size_t n;

	do {
		n = mysql_packet(s->buf, s->len, s->off, &seq);
		if (!n) {
			s->off = s->len;
			return;
		}
		s->off += n;
		expect = (seq + 1) & 0xff;
	} while (s->off < s->len &&
		 (next_seq(s) == expect || next_seq(other) != expect));
}

static size_t mysql_chunks(const struct dt_exchange *x,
			   struct dt_pcap_chunk *out, size_t max)
{
	struct wire_side side[2] = {
		[DT_PCAP_CLIENT] = { x->request, x->request_len, 0 },
		[DT_PCAP_SERVER] = { x->response, x->response_len, 0 },
	};
	int cur = DT_PCAP_CLIENT;
	size_t n = 0, start;

	/* the handshake: the server's greeting (0) comes before the
	 * client's answer (1) */
	if (next_seq(&side[DT_PCAP_SERVER]) == 0 &&
	    next_seq(&side[DT_PCAP_CLIENT]) != 0)
		cur = DT_PCAP_SERVER;
	while (n + 2 < max && (side[0].off < side[0].len ||
			       side[1].off < side[1].len)) {
		if (side[cur].off == side[cur].len)
			cur = !cur;
		start = side[cur].off;
		take_run(&side[cur], &side[!cur]);
		out[n++] = (struct dt_pcap_chunk){ cur, start,
						   side[cur].off - start };
		cur = !cur;
	}
	for (int d = DT_PCAP_CLIENT; d <= DT_PCAP_SERVER; d++) {
		if (side[d].off < side[d].len)
			out[n++] = (struct dt_pcap_chunk){
				d, side[d].off, side[d].len - side[d].off };
	}
	return n;
}

size_t dt_pcap_exchange_chunks(const struct dt_exchange *x,
			       struct dt_pcap_chunk *out, size_t max)
{
	size_t n = 0;

	if (max < 2)
		return 0;
	if (x->protocol == DT_PROTO_MYSQL)
		return mysql_chunks(x, out, max);
	if (x->request_len)
		out[n++] = (struct dt_pcap_chunk){ DT_PCAP_CLIENT, 0,
						   x->request_len };
	if (x->response_len)
		out[n++] = (struct dt_pcap_chunk){ DT_PCAP_SERVER, 0,
						   x->response_len };
	return n;
}

/* ---- holes --------------------------------------------------------------- */

static bool mysql_whole(const uint8_t *buf, size_t len)
{
	size_t off = 0, n;
	int seq;

	while (off < len) {
		n = mysql_packet(buf, len, off, &seq);
		if (!n)
			return false;
		off += n;
	}
	return len > 0;
}

/* Is the request one whole message by its protocol's framing? */
static bool request_whole(const struct dt_exchange *x)
{
	struct dt_http1_framer hf;
	struct dt_resp_framer rf;

	switch (x->protocol) {
	case DT_PROTO_HTTP1:
		dt_http1_framer_init(&hf, true);
		return dt_http1_framer_scan(&hf, x->request,
					    x->request_len) == DT_HTTP1_COMPLETE;
	case DT_PROTO_REDIS:
		dt_resp_framer_init(&rf, true);
		return dt_resp_framer_scan(&rf, x->request,
					   x->request_len) == DT_RESP_COMPLETE;
	case DT_PROTO_MYSQL:
		return mysql_whole(x->request, x->request_len);
	}
	return true;
}

/* Body bytes an HTTP message with a Content-Length lacks; 0 when its
 * framing does not tell (chunked, no length, nothing missing). */
static uint64_t http_body_missing(const uint8_t *buf, size_t len,
				  bool is_request)
{
	struct dt_http1_head *head = malloc(sizeof(*head));
	const struct dt_http1_header *cl;
	unsigned long long want;
	uint64_t missing = 0;
	size_t body_off;
	ssize_t off = 0;
	char num[24];

	if (!head)
		return 0;
	if (is_request) {
		if (dt_http1_parse_head(buf, len, true, 0, head) <= 0)
			goto out;
	} else {
		off = dt_http1_parse_final_response(buf, len, head);
		if (off < 0 || head->status == 204 || head->status == 304)
			goto out;
	}
	body_off = (size_t)off + head->head_len;
	cl = dt_http1_find_header(head, "Content-Length");
	if (!cl || dt_http1_find_header(head, "Transfer-Encoding") ||
	    cl->value.len == 0 || cl->value.len >= sizeof(num))
		goto out;
	memcpy(num, cl->value.ptr, cl->value.len);
	num[cl->value.len] = '\0';
	if (sscanf(num, "%llu", &want) == 1 && want > len - body_off)
		missing = want - (len - body_off);
out:
	free(head);
	return missing;
}

static bool is_head_request(const struct dt_exchange *x)
{
	const char *method = dt_exchange_attr(x, "method");

	return method && !strcmp(method, "HEAD");
}

void dt_pcap_exchange_hole(const struct dt_exchange *x,
			   struct dt_pcap_hole *hole)
{
	uint64_t missing = 0;
	bool in_response;

	hole->side = DT_PCAP_SERVER;
	hole->len = 0;
	if (!(x->flags & (DT_XF_INCOMPLETE | DT_XF_TRUNCATED)))
		return;
	in_response = x->response_len || request_whole(x);
	if (!in_response)
		hole->side = DT_PCAP_CLIENT;
	if (x->protocol == DT_PROTO_HTTP1 && !in_response)
		missing = http_body_missing(x->request, x->request_len, true);
	else if (x->protocol == DT_PROTO_HTTP1 && x->response_len &&
		 !is_head_request(x))
		missing = http_body_missing(x->response, x->response_len,
					    false);
	hole->len = missing && missing <= MAX_HOLE ? (uint32_t)missing
						   : DT_PCAP_UNKNOWN_HOLE;
}

/* ---- addresses ----------------------------------------------------------- */

static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t server_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* FNV-1a */
static uint32_t path_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static uint16_t usual_port(uint32_t protocol)
{
	switch (protocol) {
	case DT_PROTO_HTTP1:
		return 80;
	case DT_PROTO_REDIS:
		return 6379;
	case DT_PROTO_MYSQL:
		return 3306;
	}
	return 9;
}

static void ip_set(struct dt_pcap_addr *a, const struct dt_endpoint *ep)
{
	memset(a, 0, sizeof(*a));
	a->family = ep->family;
	memcpy(a->addr, ep->addr, ep->family == DT_FAMILY_IPV4 ? 4 : 16);
	a->port = ep->port;
}

void dt_pcap_exchange_addrs(const struct dt_exchange *x,
			    struct dt_pcap_addr *client,
			    struct dt_pcap_addr *server)
{
	uint8_t f = x->client.family;
	uint32_t h;

	if ((f == DT_FAMILY_IPV4 || f == DT_FAMILY_IPV6) &&
	    f == x->server.family) {
		ip_set(client, &x->client);
		ip_set(server, &x->server);
	} else {
		h = path_hash(x->server.family == DT_FAMILY_UNIX ?
			      x->server.path : x->client.path);
		memset(client, 0, sizeof(*client));
		memset(server, 0, sizeof(*server));
		client->family = server->family = DT_FAMILY_IPV4;
		client->addr[0] = server->addr[0] = 127;
		client->addr[3] = 1;
		server->addr[1] = h >> 16;
		server->addr[2] = h >> 8;
		server->addr[3] = h;
		client->port = 32768 + x->conn_id % 28232;
		server->port = usual_port(x->protocol);
	}
	memcpy(client->mac, client_mac, 6);
	memcpy(server->mac, server_mac, 6);
}

/* ---- the exporter -------------------------------------------------------- */

struct export_conn {
	uint64_t id;
	struct dt_pcap_conv cv;
	UT_hash_handle hh;
};

struct dt_pcap_exporter {
	enum dt_pcap_link link;
	dt_pcap_frame_fn fn;
	void *ctx;
	struct export_conn *conns;   /* in the order they were opened */
	uint64_t nconns, nframes;
};

/* Counts the frames on their way to the caller's callback. */
static int exporter_frame(void *ctx, uint64_t ts_ns, const uint8_t *frame,
			  size_t len)
{
	struct dt_pcap_exporter *e = ctx;

	e->nframes++;
	return e->fn(e->ctx, ts_ns, frame, len);
}

int dt_pcap_exporter_new(struct dt_pcap_exporter **out, enum dt_pcap_link link,
			 dt_pcap_frame_fn fn, void *ctx)
{
	struct dt_pcap_exporter *e;

	if (link != DT_PCAP_LINK_ETHERNET && link != DT_PCAP_LINK_RAW)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->link = link;
	e->fn = fn;
	e->ctx = ctx;
	*out = e;
	return 0;
}

/* The earliest known of an exchange's times (a MySQL greeting comes
 * before the request), for the handshake before it. */
static uint64_t exchange_first_ts(const struct dt_exchange *x)
{
	const uint64_t t[] = { x->req_start_ns, x->req_end_ns,
			       x->resp_start_ns, x->resp_end_ns };
	uint64_t first = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] && (!first || t[i] < first))
			first = t[i];
	return first;
}

static int conn_open(struct dt_pcap_exporter *e, const struct dt_exchange *x,
		     struct export_conn **out)
{
	struct dt_pcap_addr client, server;
	struct export_conn *c = malloc(sizeof(*c));
	int ret = 0;

	if (!c)
		return -ENOMEM;
	c->id = x->conn_id;
	dt_pcap_exchange_addrs(x, &client, &server);
	dt_pcap_conv_init(&c->cv, &client, &server, e->link, x->conn_id,
			  exporter_frame, e);
	if (!(x->flags & DT_XF_MIDSTREAM))
		ret = dt_pcap_conv_open(&c->cv, exchange_first_ts(x));
	if (ret) {
		free(c);
		return ret;
	}
	HASH_ADD(hh, e->conns, id, sizeof(c->id), c);
	e->nconns++;
	*out = c;
	return 0;
}

/* Times of one side's bytes: a chunk is placed by its offset in them. */
static void chunk_times(const struct dt_exchange *x,
			const struct dt_pcap_chunk *ch, uint64_t *first,
			uint64_t *last)
{
	bool req = ch->side == DT_PCAP_CLIENT;
	uint64_t start = req ? x->req_start_ns : x->resp_start_ns;
	uint64_t end = req ? x->req_end_ns : x->resp_end_ns;
	size_t total = req ? x->request_len : x->response_len;

	if (end < start)
		end = start;
	*first = start + (uint64_t)((unsigned __int128)(end - start) *
				    ch->off / total);
	*last = start + (uint64_t)((unsigned __int128)(end - start) *
				   (ch->off + ch->len - 1) / total);
}

int dt_pcap_exporter_add(struct dt_pcap_exporter *e,
			 const struct dt_exchange *x)
{
	struct dt_pcap_chunk chunks[DT_PCAP_MAX_CHUNKS];
	struct dt_pcap_hole hole;
	struct export_conn *c;
	uint64_t first, last;
	size_t n;
	int ret = 0;

	HASH_FIND(hh, e->conns, &x->conn_id, sizeof(x->conn_id), c);
	if (!c && (ret = conn_open(e, x, &c)))
		return ret;
	n = dt_pcap_exchange_chunks(x, chunks, DT_PCAP_MAX_CHUNKS);
	for (size_t i = 0; i < n && !ret; i++) {
		const uint8_t *base = chunks[i].side == DT_PCAP_CLIENT ?
				      x->request : x->response;

		chunk_times(x, &chunks[i], &first, &last);
		ret = dt_pcap_conv_send(&c->cv, chunks[i].side,
					base + chunks[i].off, chunks[i].len,
					first, last);
	}
	dt_pcap_exchange_hole(x, &hole);
	if (hole.len)
		dt_pcap_conv_skip(&c->cv, hole.side, hole.len);
	return ret;
}

static int conn_close(struct dt_pcap_exporter *e, struct export_conn *c)
{
	int ret = dt_pcap_conv_close(&c->cv, c->cv.last_ts);

	HASH_DELETE(hh, e->conns, c);
	free(c);
	return ret;
}

int dt_pcap_exporter_end_conn(struct dt_pcap_exporter *e, uint64_t conn_id)
{
	struct export_conn *c;

	HASH_FIND(hh, e->conns, &conn_id, sizeof(conn_id), c);
	return c ? conn_close(e, c) : 0;
}

int dt_pcap_exporter_finish(struct dt_pcap_exporter *e)
{
	struct export_conn *c, *tmp;
	int ret = 0;

	HASH_ITER(hh, e->conns, c, tmp) {
		int r = conn_close(e, c);

		if (!ret)
			ret = r;
	}
	return ret;
}

uint64_t dt_pcap_exporter_conns(const struct dt_pcap_exporter *e)
{
	return e->nconns;
}

uint64_t dt_pcap_exporter_frames(const struct dt_pcap_exporter *e)
{
	return e->nframes;
}

void dt_pcap_exporter_free(struct dt_pcap_exporter *e)
{
	struct export_conn *c, *tmp;

	if (!e)
		return;
	HASH_ITER(hh, e->conns, c, tmp) {
		HASH_DELETE(hh, e->conns, c);
		free(c);
	}
	free(e);
}
