// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the HTTP/2 codec's bridges: the h2c upgrade (an
 * HTTP/1.1 request becomes stream 1, its HTTP2-Settings decoded) and the
 * encoder that writes stored messages back as frames (pcap export).
 *
 * Input: two bytes give the length of an HTTP/1.1 upgrade request that
 * follows; the rest is what the server sends after the 101. The streams
 * the connection yields are stored, encoded again and decoded by a fresh
 * connection: the stored form must come back unchanged. The rest is also
 * given to the encoder raw, as a stored message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "tests/fuzz/fuzz_check.h"

static void check_same_stored(const struct dt_h2_message *m,
			      const uint8_t *want, size_t want_len)
{
	uint8_t *got;
	size_t len;
	bool cleaned;

	CHECK(dt_h2_store_message(m, &got, &len, &cleaned) == 0);
	CHECK(len == want_len && !memcmp(got, want, len));
	free(got);
}

/* Encodes one side of a stream and decodes it again. */
static void roundtrip(const struct dt_h2_message *m, enum dt_h2_dir dir)
{
	struct dt_h2_encoder *e;
	struct dt_h2_stream *s;
	struct dt_h2_conn *c;
	struct dt_h2_opts o;
	uint8_t *st, *w;
	size_t st_len, w_len, used;
	char *trailers = NULL;
	bool cleaned;

	if (!(m->flags & DT_H2_MSG_HEADERS) ||
	    (m->flags & (DT_H2_MSG_BODY_TRUNCATED | DT_H2_MSG_FIELDS_TRUNCATED)))
		return;
	CHECK(dt_h2_store_message(m, &st, &st_len, &cleaned) == 0);
	CHECK(dt_h2_store_fields(&m->trailers, &trailers, &cleaned) == 0);
	CHECK(dt_h2_encoder_new(&e) == 0);
	CHECK(dt_h2_encode_message(e, dir, dir == DT_H2_CLIENT ? 1 : 2, st,
				   st_len, trailers, &w, &w_len) == 0);
	dt_h2_opts_init(&o);
	CHECK(dt_h2_conn_new(&c, &o) == 0);
	CHECK(dt_h2_conn_feed(c, dir, w, w_len, &used) == 0 && used == w_len);
	dt_h2_conn_close(c);
	CHECK(dt_h2_conn_next_stream(c, &s) == 1);
	check_same_stored(dir == DT_H2_CLIENT ? &s->request : &s->response,
			  st, st_len);
	dt_h2_stream_free(s);
	dt_h2_conn_free(c);
	dt_h2_encoder_free(e);
	free(w);
	free(trailers);
	free(st);
}

static void upgrade_run(const uint8_t *req, size_t req_len,
			const uint8_t *srv, size_t srv_len)
{
	struct dt_h2_stream *s;
	struct dt_h2_conn *c;
	struct dt_h2_opts o;
	size_t used;

	dt_h2_opts_init(&o);
	o.max_body = 65536;
	CHECK(dt_h2_conn_new(&c, &o) == 0);
	if (dt_h2_conn_upgrade(c, req, req_len) == 0) {
		dt_h2_conn_feed(c, DT_H2_SERVER, srv, srv_len, &used);
		CHECK(used <= srv_len);
	}
	dt_h2_conn_close(c);
	while (dt_h2_conn_next_stream(c, &s) == 1) {
		roundtrip(&s->request, DT_H2_CLIENT);
		roundtrip(&s->response, DT_H2_SERVER);
		dt_h2_stream_free(s);
	}
	dt_h2_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dt_h2_encoder *e;
	size_t req_len;
	uint8_t *w;
	size_t w_len;

	if (size < 2)
		return 0;
	req_len = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (req_len > size)
		req_len = size;
	upgrade_run(data, req_len, data + req_len, size - req_len);
	CHECK(dt_h2_encoder_new(&e) == 0);
	if (dt_h2_encode_message(e, DT_H2_SERVER, 1, data + req_len,
				 size - req_len, NULL, &w, &w_len) == 0)
		free(w);
	dt_h2_encoder_free(e);
	return 0;
}
