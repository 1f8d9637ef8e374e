// SPDX-License-Identifier: MIT
/*
 * `deetune export --pcap`: the selected exchanges of a session as a pcap
 * file written with libpcap. A first pass counts each connection's
 * exchanges, so that the second can close every conversation right after
 * its last one, where a capture would show the FIN handshake.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder/pcap_io.h"
#include "recorder/recorder_int.h"

/* A capture's usual snapshot length; our frames are far smaller. */
#define SNAPLEN 262144

/* Selected exchanges of a connection not exported yet. */
struct conn_count {
	uint64_t id;
	uint64_t left;
	/* HTTP/2: the HPACK state its frames are written with, and the
	 * stream id for exchanges that do not tell theirs */
	struct dt_h2_encoder *h2;
	uint32_t h2_next_id;
	UT_hash_handle hh;
};

struct export_run {
	const struct dt_pcap_export_opts *o;
	struct dt_pcap_export_summary *sum;
	char *err;
	size_t errlen;
	struct conn_count *counts;
	struct dt_pcap_exporter *exporter;
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	FILE *out;
	int write_errno;             /* of the first failed write */
};

static bool selected(const struct dt_pcap_export_opts *o,
		     const struct dt_exchange *x)
{
	if (o->protocols && !(x->protocol < 32 &&
			      (o->protocols & (1u << x->protocol))))
		return false;
	return dt_match_exchange(o->matches, o->nmatches, x);
}

/* Reads the session's exchanges, the selected ones to fn. Returns 0, the
 * first error of fn, -EINVAL when the session does not open, -EBADMSG when
 * it is damaged further on (message in run->err). */
static int session_each(struct export_run *run,
			int (*fn)(struct export_run *run,
				  const struct dt_exchange *x))
{
	struct dt_session_reader *r;
	struct dt_exchange x;
	int rc = 0, ret;

	if (dt_session_reader_open(&r, run->o->session, run->o->session_len,
				   run->err, run->errlen) < 0)
		return -EINVAL;
	dt_exchange_init(&x);
	ret = 0;
	while (!ret && (rc = dt_session_reader_next(r, &x)) == 1) {
		if (selected(run->o, &x))
			ret = fn(run, &x);
	}
	if (!ret && rc < 0) {
		snprintf(run->err, run->errlen, "%s",
			 dt_session_reader_error(r));
		ret = -EBADMSG;
	}
	run->sum->no_trailer = !ret && !dt_session_reader_has_trailer(r);
	dt_exchange_release(&x);
	dt_session_reader_free(r);
	return ret;
}

static int count_exchange(struct export_run *run, const struct dt_exchange *x)
{
	struct conn_count *c;

	HASH_FIND(hh, run->counts, &x->conn_id, sizeof(x->conn_id), c);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->id = x->conn_id;
		HASH_ADD(hh, run->counts, id, sizeof(c->id), c);
	}
	c->left++;
	return 0;
}

static int write_frame(void *ctx, uint64_t ts_ns, const uint8_t *frame,
		       size_t len)
{
	struct export_run *run = ctx;
	struct pcap_pkthdr h = {
		.caplen = (bpf_u_int32)len,
		.len = (bpf_u_int32)len,
	};

	/* nanosecond precision: tv_usec holds nanoseconds */
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u);
	pcap_dump((u_char *)run->dumper, &h, frame);
	run->sum->packets++;
	if (!ferror(run->out))
		return 0;
	if (!run->write_errno)
		run->write_errno = errno ? errno : EIO;
	return -EIO;
}

static void conn_count_free(struct conn_count *c)
{
	dt_h2_encoder_free(c->h2);
	free(c);
}

/* The stream an HTTP/2 exchange was recorded on, or the connection's next
 * client stream when it does not say. */
static uint32_t h2_stream_id(struct conn_count *c, const struct dt_exchange *x)
{
	const char *attr = dt_exchange_attr(x, "h2.stream_id");
	unsigned long id = 0;
	char *end;

	if (attr) {
		id = strtoul(attr, &end, 10);
		if (*end || id == 0 || id > 0x7fffffff)
			id = 0;
	}
	if (!id)
		id = c->h2_next_id ? c->h2_next_id : 1;
	if (id >= c->h2_next_id && id < 0x7ffffffd)
		c->h2_next_id = (uint32_t)id + 2;
	return (uint32_t)id;
}

static int h2_wire_side(struct conn_count *c, enum dt_h2_dir dir,
			uint32_t id, const uint8_t *stored, size_t len,
			const char *trailers, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (!stored)
		return 0;
	return dt_h2_encode_message(c->h2, dir, id, stored, len, trailers,
				    out, out_len);
}

/*
 * An HTTP/2 exchange as the frames it crossed the wire in (*w borrows x's
 * attributes; its request and response are new, freed by the caller
 * also on failure):
 * the stored form is text that Wireshark would not decode. The frames are
 * whole, so what the recording missed leaves no hole (one would break
 * the decoding of every later header block of the connection).
 */
static int h2_wire(struct conn_count *c, const struct dt_exchange *x,
		   struct dt_exchange *w)
{
	uint32_t id;
	int ret;

	if (!c->h2 && (ret = dt_h2_encoder_new(&c->h2)))
		return ret;
	id = h2_stream_id(c, x);
	*w = *x;
	w->flags &= ~(uint32_t)(DT_XF_INCOMPLETE | DT_XF_TRUNCATED);
	ret = h2_wire_side(c, DT_H2_CLIENT, id, x->request, x->request_len,
			   dt_exchange_attr(x, "h2.request_trailers"),
			   &w->request, &w->request_len);
	if (!ret)
		ret = h2_wire_side(c, DT_H2_SERVER, id, x->response,
				   x->response_len,
				   dt_exchange_attr(x, "h2.trailers"),
				   &w->response, &w->response_len);
	return ret;
}

static int export_exchange(struct export_run *run, const struct dt_exchange *x)
{
	struct dt_exchange wire = { 0 };
	const struct dt_exchange *out = x;
	struct dt_pcap_hole hole;
	struct conn_count *c;
	int ret = 0;

	HASH_FIND(hh, run->counts, &x->conn_id, sizeof(x->conn_id), c);
	if (c && x->protocol == DT_PROTO_HTTP2) {
		ret = h2_wire(c, x, &wire);
		out = &wire;
	}
	if (!ret)
		ret = dt_pcap_exporter_add(run->exporter, out);
	if (!ret) {
		run->sum->exchanges++;
		dt_pcap_exchange_hole(out, &hole);
		if (hole.len)
			run->sum->holes++;
	}
	if (out == &wire) {
		free(wire.request);
		free(wire.response);
	}
	if (!ret && c && !--c->left) {
		HASH_DEL(run->counts, c);
		conn_count_free(c);
		ret = dt_pcap_exporter_end_conn(run->exporter, x->conn_id);
	}
	return ret;
}

static const char *output_label(const struct export_run *run)
{
	return strcmp(run->o->output, "-") ? run->o->output : "<stdout>";
}

static int output_open(struct export_run *run)
{
	int dlt = run->o->link == DT_PCAP_LINK_RAW ? DLT_RAW : DLT_EN10MB;
	int fd, ret;

	if (strcmp(run->o->output, "-")) {
		run->out = fopen(run->o->output, "wb");
	} else {
		/* the dumper closes its stream: give it its own */
		fd = dup(STDOUT_FILENO);
		run->out = fd < 0 ? NULL : fdopen(fd, "wb");
		if (!run->out && fd >= 0)
			close(fd);
	}
	if (!run->out) {
		ret = -errno;
		snprintf(run->err, run->errlen, "cannot create %s: %s",
			 output_label(run), strerror(-ret));
		return ret;
	}
	run->pcap = pcap_open_dead_with_tstamp_precision(
		dlt, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (run->pcap)
		run->dumper = pcap_dump_fopen(run->pcap, run->out);
	if (!run->dumper) {
		snprintf(run->err, run->errlen, "cannot write a pcap to %s",
			 output_label(run));
		return -ENOMEM;
	}
	return 0;
}

/* Flushes and closes the output; returns ret, or -EIO when the output
 * could not be written (message in run->err). */
static int output_close(struct export_run *run, int ret)
{
	if (run->dumper) {
		/* a damaged session still exported what came before it */
		if ((!ret || ret == -EBADMSG) &&
		    (pcap_dump_flush(run->dumper) || ferror(run->out))) {
			run->write_errno = errno ? errno : EIO;
			ret = -EIO;
		}
		pcap_dump_close(run->dumper);
	} else if (run->out) {
		fclose(run->out);
	}
	if (run->pcap)
		pcap_close(run->pcap);
	if (ret == -EIO)
		snprintf(run->err, run->errlen, "writing %s: %s",
			 output_label(run), strerror(run->write_errno));
	return ret;
}

/* Second pass: the packets. */
static int export_all(struct export_run *run)
{
	int ret = output_open(run);

	if (!ret)
		ret = dt_pcap_exporter_new(&run->exporter, run->o->link,
					   write_frame, run);
	if (!ret)
		ret = session_each(run, export_exchange);
	/* a damaged session was counted up to the same point */
	if (!ret || ret == -EBADMSG) {
		int r = dt_pcap_exporter_finish(run->exporter);

		if (r)
			ret = r;
	}
	if (run->exporter)
		run->sum->conns = dt_pcap_exporter_conns(run->exporter);
	if (ret && ret != -EBADMSG && ret != -EIO && !run->err[0])
		snprintf(run->err, run->errlen, "%s", strerror(-ret));
	return output_close(run, ret);
}

int dt_pcap_export_run(const struct dt_pcap_export_opts *o,
		       struct dt_pcap_export_summary *sum, char *err,
		       size_t errlen)
{
	struct export_run run = { .o = o, .sum = sum, .err = err,
				  .errlen = errlen };
	struct conn_count *c, *tmp;
	int ret;

	memset(sum, 0, sizeof(*sum));
	err[0] = '\0';
	ret = session_each(&run, count_exchange);
	if (!ret || ret == -EBADMSG)
		ret = export_all(&run);
	else if (ret != -EINVAL)
		snprintf(err, errlen, "%s", strerror(-ret));
	dt_pcap_exporter_free(run.exporter);
	HASH_ITER(hh, run.counts, c, tmp) {
		HASH_DEL(run.counts, c);
		conn_count_free(c);
	}
	return ret;
}
