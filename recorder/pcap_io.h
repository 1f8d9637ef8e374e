/* SPDX-License-Identifier: MIT */
/*
 * recorder: pcap files in and out (libpcap).
 *   pcap_export.c  a session's exchanges as TCP conversations in a pcap
 *   pcap_import.c  a pcap/pcapng capture through TCP reassembly and the
 *                  recorder's protocol decoders into a session
 * Part of the recorder's public interface (recorder/recorder.h).
 */
#ifndef DEETUNE_RECORDER_PCAP_IO_H
#define DEETUNE_RECORDER_PCAP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "formats/pcap.h"
#include "recorder/recorder.h"

struct dt_pcap_export_opts {
	const uint8_t *session;   /* the session file's bytes (borrowed) */
	size_t session_len;
	const char *output;       /* pcap file to write, "-" for stdout */
	enum dt_pcap_link link;
	/* selection: exchanges of these protocols (bits 1 << DT_PROTO_*,
	 * 0 = all) that match one of the expressions (none = all) */
	uint32_t protocols;
	struct dt_match matches[DT_RECORD_MAX_MATCHES];
	size_t nmatches;
};

struct dt_pcap_export_summary {
	uint64_t exchanges;       /* exported */
	uint64_t conns;
	uint64_t packets;
	uint64_t holes;           /* exchanges exported with a hole */
	bool no_trailer;          /* the session ended without its trailer
				     (the recording was interrupted) */
};

/*
 * Writes the selected exchanges of a session as a pcap (nanosecond
 * timestamps): each connection one TCP conversation, in the session's
 * order, closed after its last selected exchange. Returns 0; -EINVAL when
 * the session does not open (nothing written); -EBADMSG when it is damaged
 * further on (what came before the damage is written); another negative
 * errno when the output cannot be written. err holds the message.
 */
int dt_pcap_export_run(const struct dt_pcap_export_opts *o,
		       struct dt_pcap_export_summary *sum, char *err,
		       size_t errlen);

struct dt_pcap_import_opts {
	const char *input;        /* pcap or pcapng file, "-" for stdin */
	const char *output;       /* session file to write, "-" for stdout */
	const char *filter;       /* BPF capture filter expression, or NULL */
	/* redaction before anything is written, as for recording
	 * (redact/redact.h): rule texts, and whether the built-ins apply */
	const char *const *redact;
	size_t nredact;
	bool no_default_redaction;
};

struct dt_pcap_import_summary {
	uint64_t packets;         /* read from the capture (after --filter) */
	uint64_t tcp_packets;
	uint64_t skipped;         /* not TCP/IP, IP fragments, malformed */
	uint64_t conns;
	uint64_t exchanges;
	uint64_t incomplete;
	uint64_t gaps;            /* holes where the capture lost bytes */
};

/*
 * Imports a capture into a new session file: TCP reassembly, then the
 * recorder's assembler and protocol decoders, as if the probes had seen
 * the traffic at the server's socket (no process identity). Returns 0;
 * -EINVAL when the input is not a capture libpcap reads, its link type is
 * not supported or the filter is invalid (nothing written); -EBADMSG when
 * the capture is cut short or damaged after its start (the session holds
 * what came before); another negative errno when the session cannot be
 * written. err holds the message.
 */
int dt_pcap_import_run(const struct dt_pcap_import_opts *o,
		       struct dt_pcap_import_summary *sum, char *err,
		       size_t errlen);

#endif /* DEETUNE_RECORDER_PCAP_IO_H */
