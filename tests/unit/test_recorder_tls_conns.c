// SPDX-License-Identifier: MIT
/*
 * Unit tests of the TLS seam (recorder/tls_conns.c): synthetic events of
 * the main capture and plaintext chunks of the uprobes. Ciphertext of TLS
 * connections stays out, cleartext passes, plaintext reaches the
 * connection's conn_id at stream offsets the assembler can follow (after
 * cleartext, across ring losses, across fd reuse), in order even when it
 * arrives before the main capture reported its socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "recorder/tls.h"

#define TGID 4242
#define FD 7

/* What the seam handed on. */
struct got {
	struct dt_event ev;
	uint8_t data[64];
};

struct sink {
	struct got v[32];
	size_t n;
	int fail;               /* returned by the callback when non-zero */
};

static int on_event(void *ctx, const struct dt_event *ev, const uint8_t *data)
{
	struct sink *s = ctx;

	if (s->fail)
		return s->fail;
	assert_true(s->n < 32);
	s->v[s->n].ev = *ev;
	if (data && ev->len)
		memcpy(s->v[s->n].data, data,
		       ev->len < 64 ? ev->len : 64);
	s->n++;
	return 0;
}

struct fixture {
	struct dt_tls_conns *t;
	struct sink sink;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(dt_tls_conns_new(&f->t, NULL, on_event, &f->sink), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dt_tls_conns_free(f->t);
	free(f);
	return 0;
}

/* A ClientHello's first bytes: handshake record, TLS 1.0 framing. */
static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x30, 0x01,
					0x00, 0x00, 0x2c, 0x03, 0x03 };
static const uint8_t server_hello[] = { 0x16, 0x03, 0x03, 0x00, 0x5a, 0x02,
					0x00, 0x00, 0x56, 0x03, 0x03 };

static struct dt_event main_event(uint64_t conn, uint32_t type, int dir,
				  uint64_t pos, uint32_t len, uint64_t ts)
{
	struct dt_event ev = {
		.type = type,
		.tgid = TGID,
		.tid = TGID,
		.fd = FD,
		.ts_ns = ts,
		.conn_id = conn,
		.family = AF_INET,
		.lport = 443,
		.rport = 50000,
		.dir = dir,
		.sel = DT_SEL_SERVER | DT_SEL_LOCAL_PORT,
		.len = len,
		.pos = pos,
		.msg_size = len,
	};

	memcpy(ev.comm, "nginx", 6);
	return ev;
}

static int note(struct fixture *f, uint64_t conn, int dir, uint64_t pos,
		const void *data, uint32_t len, uint64_t ts)
{
	struct dt_event ev = main_event(conn, DT_EV_DATA, dir, pos, len, ts);

	return dt_tls_conns_note(f->t, &ev, data);
}

static int plaintext(struct fixture *f, uint32_t fd, int dir, uint64_t ssl,
		     uint64_t pos, const char *text, uint64_t ts)
{
	struct dt_tls_event ev = {
		.ts_ns = ts,
		.ssl = ssl,
		.pos = pos,
		.tgid = TGID,
		.tid = TGID + 1,
		.fd = fd,
		.len = strlen(text),
		.dir = dir,
	};

	return dt_tls_conns_plaintext(f->t, &ev, (const uint8_t *)text);
}

static void assert_got(const struct got *g, uint64_t conn, int dir,
		       uint64_t pos, const char *text)
{
	assert_int_equal(g->ev.type, DT_EV_DATA);
	assert_int_equal(g->ev.conn_id, conn);
	assert_int_equal(g->ev.dir, dir);
	assert_int_equal(g->ev.pos, pos);
	assert_int_equal(g->ev.len, strlen(text));
	assert_memory_equal(g->data, text, strlen(text));
	assert_true(g->ev.flags & DT_EVF_TLS);
	/* the connection's identity comes from the main capture */
	assert_int_equal(g->ev.lport, 443);
	assert_int_equal(g->ev.sel, DT_SEL_SERVER | DT_SEL_LOCAL_PORT);
	assert_string_equal(g->ev.comm, "nginx");
}

static void test_ciphertext_dropped_plaintext_delivered(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 100), 1);
	assert_int_equal(note(f, 1, DT_DIR_EGRESS, 0, server_hello,
			      sizeof(server_hello), 110), 1);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 0xabc, 0,
				   "GET / HTTP/1.1\r\n\r\n", 200), 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 0xabc, 0,
				   "HTTP/1.1 200 OK\r\n", 210), 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 0xabc, 17,
				   "Content-Length: 0\r\n\r\n", 211), 0);
	assert_int_equal(f->sink.n, 3);
	assert_got(&f->sink.v[0], 1, DT_DIR_INGRESS, 0,
		   "GET / HTTP/1.1\r\n\r\n");
	assert_got(&f->sink.v[1], 1, DT_DIR_EGRESS, 0, "HTTP/1.1 200 OK\r\n");
	assert_got(&f->sink.v[2], 1, DT_DIR_EGRESS, 17,
		   "Content-Length: 0\r\n\r\n");
	assert_int_equal(f->sink.v[0].ev.tid, TGID + 1);
	assert_int_equal(f->sink.v[0].ev.ts_ns, 200);
	/* more ciphertext: still out */
	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 11, "\x17\x03\x03\x00\x20",
			      5, 300), 1);
}

/* nginx peeks at the first byte before its handshake. */
static void test_peeked_first_byte(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello, 1, 100),
			 1);
	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 1, client_hello,
			      sizeof(client_hello), 101), 1);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 1, 0, "GET", 200),
			 0);
	assert_int_equal(f->sink.n, 1);
	assert_got(&f->sink.v[0], 1, DT_DIR_INGRESS, 0, "GET");
}

static void test_cleartext_passes(void **state)
{
	struct fixture *f = *state;
	/* a binary message that merely starts like a record header */
	static const uint8_t mysqlish[] = { 0x16, 0x03, 0x00, 0x00, 0x03,
					    0x01, 0x02 };

	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, "GET / HTTP/1.1\r\n",
			      16, 100), 0);
	assert_int_equal(note(f, 1, DT_DIR_EGRESS, 0, mysqlish,
			      sizeof(mysqlish), 101), 0);
	/* the close of a cleartext connection passes untouched */
	{
		struct dt_event ev = main_event(1, DT_EV_CLOSE, 0, 16, 0, 102);

		assert_int_equal(dt_tls_conns_note(f->t, &ev, NULL), 0);
	}
	assert_int_equal(f->sink.n, 0);
}

/* A connection that spoke cleartext first (STARTTLS): plaintext goes on
 * from where the cleartext stopped, the handshake stays out. */
static void test_starttls_continues_offsets(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_EGRESS, 0, "220 hello\r\n", 11, 100),
			 0);
	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, "STARTTLS\r\n", 10,
			      101), 0);
	assert_int_equal(note(f, 1, DT_DIR_EGRESS, 11, "220 go\r\n", 8, 102),
			 0);
	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 10, client_hello,
			      sizeof(client_hello), 103), 1);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 9, 0, "EHLO x\r\n",
				   200), 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 9, 0, "250 ok\r\n",
				   201), 0);
	assert_int_equal(f->sink.n, 2);
	assert_got(&f->sink.v[0], 1, DT_DIR_INGRESS, 10, "EHLO x\r\n");
	assert_got(&f->sink.v[1], 1, DT_DIR_EGRESS, 19, "250 ok\r\n");
}

/* Plaintext read before the main capture reported the socket waits, and
 * later chunks of the same socket wait behind it. */
static void test_plaintext_waits_in_order(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "one", 200),
			 0);
	assert_int_equal(f->sink.n, 0);
	assert_int_equal(note(f, 3, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 100), 1);
	/* the socket is known now, but "one" has not gone out yet */
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 3, "two", 210),
			 0);
	assert_int_equal(f->sink.n, 0);
	assert_int_equal(dt_tls_conns_tick(f->t, 300), 0);
	assert_int_equal(f->sink.n, 2);
	assert_got(&f->sink.v[0], 3, DT_DIR_INGRESS, 0, "one");
	assert_got(&f->sink.v[1], 3, DT_DIR_INGRESS, 3, "two");
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 6, "six", 220),
			 0);
	assert_int_equal(f->sink.n, 3);
	assert_got(&f->sink.v[2], 3, DT_DIR_INGRESS, 6, "six");
}

static void test_unselected_plaintext_expires(void **state)
{
	struct fixture *f = *state;
	struct dt_tls_conns_stats st;

	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "x", 1000), 0);
	assert_int_equal(plaintext(f, DT_TLS_FD_UNKNOWN, DT_DIR_INGRESS, 6, 0,
				   "y", 1000), 0);
	assert_int_equal(dt_tls_conns_tick(f->t, 1000 + 1000), 0);
	dt_tls_conns_get_stats(f->t, &st);
	assert_int_equal(st.unmatched, 1); /* the unknown fd, at once */
	assert_int_equal(dt_tls_conns_tick(f->t, 1000 + 2000000000ull), 0);
	dt_tls_conns_get_stats(f->t, &st);
	assert_int_equal(st.unmatched, 2);
	/* the socket's first events now: the old chunk is not replayed */
	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 3000000000ull), 1);
	assert_int_equal(dt_tls_conns_tick(f->t, 3000000001ull), 0);
	assert_int_equal(f->sink.n, 0);
}

/* The fd number serves a new connection while plaintext of the previous
 * one is still in the ring: the chunk's time tells them apart. */
static void test_fd_reuse(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 1000), 1);
	assert_int_equal(note(f, 2, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 2000), 1);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "old", 1500),
			 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 6, 0, "new", 2500),
			 0);
	assert_int_equal(f->sink.n, 2);
	assert_got(&f->sink.v[0], 1, DT_DIR_INGRESS, 0, "old");
	assert_got(&f->sink.v[1], 2, DT_DIR_INGRESS, 0, "new");
}

/* The fd number serves a new connection whose plaintext comes before the
 * main capture reports it (that ring lags behind, say after a large
 * response): plaintext of another SSL object, or of the same address
 * reused after SSL_free (offsets from 0 again), waits for the new
 * connection instead of continuing the old one. */
static void test_fd_reuse_plaintext_first(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 1000), 1);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "old", 1500),
			 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 5, 0, "resp", 1600),
			 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "new", 2500),
			 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 5, 0, "ok", 2600),
			 0);
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(note(f, 2, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 2000), 1);
	assert_int_equal(dt_tls_conns_tick(f->t, 3000), 0);
	assert_int_equal(f->sink.n, 4);
	assert_got(&f->sink.v[0], 1, DT_DIR_INGRESS, 0, "old");
	assert_got(&f->sink.v[1], 1, DT_DIR_EGRESS, 0, "resp");
	assert_got(&f->sink.v[2], 2, DT_DIR_INGRESS, 0, "new");
	assert_got(&f->sink.v[3], 2, DT_DIR_EGRESS, 0, "ok");
	/* another address on the same connection's fd later: the same */
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 9, 0, "3rd", 3500),
			 0);
	assert_int_equal(f->sink.n, 4);
}

static void test_ring_loss_is_a_gap(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_EGRESS, 0, server_hello,
			      sizeof(server_hello), 100), 1);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 5, 0, "abc", 200), 0);
	/* 100 bytes of this SSL object were lost in the ring */
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 5, 103, "def", 201),
			 0);
	assert_int_equal(f->sink.n, 2);
	assert_got(&f->sink.v[1], 1, DT_DIR_EGRESS, 103, "def");
}

static void test_close_of_tls_conn_rewritten(void **state)
{
	struct fixture *f = *state;
	struct dt_event close = main_event(1, DT_EV_CLOSE, 0, 5000, 0, 900);

	close.msg_size = 7000;
	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 100), 1);
	assert_int_equal(dt_tls_conns_note(f->t, &close, NULL), 1);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.v[0].ev.type, DT_EV_CLOSE);
	assert_int_equal(f->sink.v[0].ev.conn_id, 1);
	assert_int_equal(f->sink.v[0].ev.pos, 0);
	assert_int_equal(f->sink.v[0].ev.msg_size, 0);
	/* plaintext still in the ring after the close is delivered */
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "late", 800),
			 0);
	assert_int_equal(f->sink.n, 2);
	/* and the socket is forgotten a while later */
	assert_int_equal(dt_tls_conns_tick(f->t, 900 + 2000000000ull), 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 4, "gone",
				   2000000901ull), 0);
	assert_int_equal(f->sink.n, 2);
}

static void test_peer_only_gets_no_plaintext(void **state)
{
	struct fixture *f = *state;
	struct dt_event peer = main_event(1, DT_EV_PEER, 0, 0, 0, 100);

	assert_int_equal(dt_tls_conns_note(f->t, &peer, NULL), 0);
	assert_int_equal(plaintext(f, FD, DT_DIR_EGRESS, 5, 0, "GET", 200), 0);
	assert_int_equal(f->sink.n, 0);
}

static void test_callback_error_returned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(note(f, 1, DT_DIR_INGRESS, 0, client_hello,
			      sizeof(client_hello), 100), 1);
	f->sink.fail = -ECANCELED;
	assert_int_equal(plaintext(f, FD, DT_DIR_INGRESS, 5, 0, "GET", 200),
			 -ECANCELED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ciphertext_dropped_plaintext_delivered, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_peeked_first_byte, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cleartext_passes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_starttls_continues_offsets,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_plaintext_waits_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unselected_plaintext_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_reuse_plaintext_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_loss_is_a_gap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_close_of_tls_conn_rewritten, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_peer_only_gets_no_plaintext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error_returned,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
