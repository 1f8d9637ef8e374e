// SPDX-License-Identifier: MIT
/*
 * `deetune import`: a pcap/pcapng capture read with libpcap, its TCP
 * segments reassembled into the events the probes would have sent for the
 * server's socket, and those through the recorder's assembler and protocol
 * decoders into a session file, so that an imported session reads like a
 * recorded one.
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/pcap_io.h"
#include "recorder/recorder_int.h"
#include "redact/redact.h"
#include "recorder/tcp_reassembly.h"

struct import_run {
	const struct dt_pcap_import_opts *o;
	struct dt_pcap_import_summary *sum;
	char *err;
	size_t errlen;
	pcap_t *pcap;
	int dlt;
	FILE *out;
	struct dt_session_writer *writer;
	struct dt_assembler *asmb;
	struct dt_tcp_reasm *reasm;
	struct dt_redactor *redactor;
	/* what the assembler adds to event times, taken from pcap times */
	uint64_t clock_offset;
	int write_error;
};

static const char *label(const char *path, const char *dash)
{
	return strcmp(path, "-") ? path : dash;
}

/* ---- input --------------------------------------------------------------- */

static int input_open(struct import_run *run)
{
	const struct dt_pcap_import_opts *o = run->o;
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	const char *name;

	run->pcap = pcap_open_offline_with_tstamp_precision(
		o->input, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!run->pcap) {
		snprintf(run->err, run->errlen, "cannot read %s: %s",
			 label(o->input, "<stdin>"), errbuf);
		return -EINVAL;
	}
	run->dlt = pcap_datalink(run->pcap);
	if (!dt_packet_link_supported(run->dlt)) {
		name = pcap_datalink_val_to_name(run->dlt);
		snprintf(run->err, run->errlen,
			 "%s: link type %s (%d) is not supported; Ethernet, "
			 "Linux cooked (SLL, SLL2), raw IP and BSD loopback are",
			 label(o->input, "<stdin>"), name ? name : "unknown",
			 run->dlt);
		return -EINVAL;
	}
	if (!o->filter)
		return 0;
	if (pcap_compile(run->pcap, &prog, o->filter, 1,
			 PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(run->err, run->errlen, "invalid filter '%s': %s",
			 o->filter, pcap_geterr(run->pcap));
		return -EINVAL;
	}
	if (pcap_setfilter(run->pcap, &prog) < 0) {
		snprintf(run->err, run->errlen, "cannot apply filter '%s': %s",
			 o->filter, pcap_geterr(run->pcap));
		pcap_freecode(&prog);
		return -EINVAL;
	}
	pcap_freecode(&prog);
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static int file_write(void *ctx, const void *buf, size_t len)
{
	struct import_run *run = ctx;

	if (fwrite(buf, 1, len, run->out) != len)
		return -(errno ? errno : EIO);
	return 0;
}

static int on_exchange(void *ctx, struct dt_exchange *x)
{
	struct import_run *run = ctx;
	int ret;

	x->id = ++run->sum->exchanges;
	ret = dt_redactor_apply(run->redactor, x);
	if (ret >= 0)
		ret = dt_session_writer_append(run->writer, x);
	if (ret) {
		run->write_error = ret;
		return 1;
	}
	return 0;
}

/* The session header: the capture's start is its first packet's time. */
static int output_open(struct import_run *run, uint64_t start_ns)
{
	const struct dt_pcap_import_opts *o = run->o;
	struct dt_session_sink sink = { .write = file_write, .ctx = run };
	char start[24], command[1024];
	struct dt_attr meta[5];
	size_t n = 0;
	int ret;

	run->out = strcmp(o->output, "-") ? fopen(o->output, "wb") : stdout;
	if (!run->out) {
		ret = -errno;
		snprintf(run->err, run->errlen, "cannot create %s: %s",
			 o->output, strerror(errno));
		return ret;
	}
	snprintf(command, sizeof(command), "deetune import%s%s%s %s",
		 o->filter ? " --filter '" : "", o->filter ? o->filter : "",
		 o->filter ? "'" : "", o->input);
	meta[n++] = (struct dt_attr){ "tool_version", DEETUNE_VERSION };
	meta[n++] = (struct dt_attr){ "command", command };
	meta[n++] = (struct dt_attr){ "source", "pcap" };
	if (o->filter)
		meta[n++] = (struct dt_attr){ "pcap_filter", (char *)o->filter };
	if (start_ns) {
		snprintf(start, sizeof(start), "%" PRIu64, start_ns);
		meta[n++] = (struct dt_attr){ "start_ns", start };
	}
	ret = dt_session_writer_new(&run->writer, &sink, meta, n, NULL);
	if (ret)
		snprintf(run->err, run->errlen, "writing %s: %s",
			 label(o->output, "<stdout>"), strerror(-ret));
	return ret;
}

#define NSTATS 14

struct stat_values {
	struct dt_attr attrs[NSTATS];
	char text[NSTATS][24];
	size_t n;
};

static void stat_add(struct stat_values *v, const char *key, uint64_t value)
{
	snprintf(v->text[v->n], sizeof(v->text[v->n]), "%" PRIu64, value);
	v->attrs[v->n] = (struct dt_attr){ (char *)key, v->text[v->n] };
	v->n++;
}

/* The trailer: the recorder's statistics, then the capture's. */
static int output_finish(struct import_run *run)
{
	struct dt_pcap_import_summary *sum = run->sum;
	struct dt_assembler_stats as;
	struct dt_tcp_reasm_stats ts;
	struct stat_values v = { .n = 0 };

	dt_assembler_get_stats(run->asmb, &as);
	dt_tcp_reasm_get_stats(run->reasm, &ts);
	sum->incomplete = as.incomplete;
	sum->conns = ts.conns;
	sum->gaps = ts.gaps;
	stat_add(&v, "drops.gaps", as.gaps);
	stat_add(&v, "exchanges", sum->exchanges);
	stat_add(&v, "incomplete", as.incomplete);
	stat_add(&v, "unpaired_responses", as.unpaired);
	stat_add(&v, "malformed_messages", as.malformed);
	stat_add(&v, "pcap.packets", sum->packets);
	stat_add(&v, "pcap.tcp_packets", sum->tcp_packets);
	stat_add(&v, "pcap.skipped_packets", sum->skipped);
	stat_add(&v, "pcap.connections", ts.conns);
	stat_add(&v, "pcap.midstream_connections", ts.midstream);
	stat_add(&v, "pcap.out_of_order_segments", ts.out_of_order);
	stat_add(&v, "pcap.duplicate_bytes", ts.duplicate_bytes);
	stat_add(&v, "pcap.gaps", ts.gaps);
	stat_add(&v, "pcap.gap_bytes", ts.gap_bytes);
	return dt_session_writer_finish(run->writer, v.attrs, v.n);
}

static int output_close(struct import_run *run, int ret)
{
	struct stat st;

	if (!run->out)
		return ret;
	if (fflush(run->out) && !ret)
		ret = -errno;
	/* a session is worth keeping across a crash, as record does */
	if (!ret && !fstat(fileno(run->out), &st) && S_ISREG(st.st_mode) &&
	    fsync(fileno(run->out)))
		ret = -errno;
	if (run->out != stdout && fclose(run->out) && !ret)
		ret = -errno;
	if (ret && !run->err[0])
		snprintf(run->err, run->errlen, "writing %s: %s",
			 label(run->o->output, "<stdout>"), strerror(-ret));
	return ret;
}

/* ---- packets ------------------------------------------------------------- */

static int on_event(void *ctx, const struct dt_event *ev, const uint8_t *data)
{
	struct import_run *run = ctx;
	struct dt_event e = *ev;

	/* the assembler takes probe times (CLOCK_MONOTONIC) and adds its
	 * offset to CLOCK_REALTIME; pcap times are real times already */
	e.ts_ns -= run->clock_offset;
	return dt_assembler_event(run->asmb, &e, data);
}

static int on_packet(struct import_run *run, const struct pcap_pkthdr *h,
		     const uint8_t *frame)
{
	struct dt_tcp_packet p;
	int r;

	run->sum->packets++;
	r = dt_packet_decode(run->dlt, frame, h->caplen, &p);
	if (r != DT_DECODE_TCP) {
		run->sum->skipped++;
		return 0;
	}
	run->sum->tcp_packets++;
	p.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
		  (uint64_t)h->ts.tv_usec;
	r = dt_tcp_reasm_packet(run->reasm, &p);
	/* the capture's clock ends closed connections, as the recorder's
	 * does while recording */
	return r ? r : dt_assembler_expire(run->asmb,
					   p.ts_ns - run->clock_offset);
}

/* Reads the capture to its end; -EBADMSG when it is cut short. */
static int read_packets(struct import_run *run, struct pcap_pkthdr *h,
			const uint8_t *frame)
{
	struct pcap_pkthdr *next;
	int r, ret = 0;

	while (!ret && frame) {
		ret = on_packet(run, h, frame);
		r = pcap_next_ex(run->pcap, &next, &frame);
		if (r == 1) {
			h = next;
		} else if (r == PCAP_ERROR_BREAK) {
			frame = NULL;
		} else {
			snprintf(run->err, run->errlen, "%s: %s",
				 label(run->o->input, "<stdin>"),
				 pcap_geterr(run->pcap));
			return ret ? ret : -EBADMSG;
		}
	}
	return ret;
}

/* Everything from the first packet on, session open. */
static int import_packets(struct import_run *run, struct pcap_pkthdr *h,
			  const uint8_t *frame)
{
	int ret, damage;

	ret = dt_assembler_new(&run->asmb, 0, on_exchange, run);
	if (ret)
		return ret;
	run->clock_offset = dt_clock_realtime_offset();
	ret = dt_tcp_reasm_new(&run->reasm, NULL, on_event, run);
	if (ret)
		return ret;
	damage = read_packets(run, h, frame);
	if (run->write_error)
		return run->write_error;
	if (damage && damage != -EBADMSG)
		return damage;
	/* what the capture holds belongs to the session, also when cut */
	ret = dt_tcp_reasm_finish(run->reasm);
	if (!ret)
		ret = dt_assembler_finish(run->asmb);
	if (run->write_error)
		return run->write_error;
	if (ret)
		return ret < 0 ? ret : -ECANCELED;
	ret = output_finish(run);
	return ret ? ret : damage;
}

int dt_pcap_import_run(const struct dt_pcap_import_opts *o,
		       struct dt_pcap_import_summary *sum, char *err,
		       size_t errlen)
{
	struct import_run run = { .o = o, .sum = sum, .err = err,
				  .errlen = errlen };
	struct pcap_pkthdr *h = NULL;
	const uint8_t *frame = NULL;
	int ret, r;

	memset(sum, 0, sizeof(*sum));
	err[0] = '\0';
	ret = dt_redactor_new(&run.redactor, o->redact, o->nredact,
			      !o->no_default_redaction, err, errlen);
	if (!ret)
		ret = input_open(&run);
	if (ret)
		goto out;
	/* the first packet's time starts the session */
	r = pcap_next_ex(run.pcap, &h, &frame);
	if (r == PCAP_ERROR) {
		snprintf(err, errlen, "%s: %s", label(o->input, "<stdin>"),
			 pcap_geterr(run.pcap));
		ret = -EINVAL;
		goto out;
	}
	if (r != 1)
		frame = NULL;
	ret = output_open(&run, frame ? (uint64_t)h->ts.tv_sec * 1000000000u +
					(uint64_t)h->ts.tv_usec : 0);
	if (!ret)
		ret = import_packets(&run, h, frame);
	if (ret && ret != -EBADMSG && !err[0])
		snprintf(err, errlen, "writing %s: %s",
			 label(o->output, "<stdout>"), strerror(-ret));
	ret = output_close(&run, ret);
out:
	dt_tcp_reasm_free(run.reasm);
	dt_assembler_free(run.asmb);
	dt_session_writer_free(run.writer);
	dt_redactor_free(run.redactor);
	if (run.pcap)
		pcap_close(run.pcap);
	return ret;
}
