// SPDX-License-Identifier: MIT
/*
 * Redis engine: one thread, one poll loop, one connection per recorded
 * connection. Each connection sends its recorded commands in recorded
 * order as they fall due, without waiting for earlier replies
 * (pipelining), and pairs replies with commands in order.
 *
 * hiredis opens the connections (non-blocking) and formats and writes the
 * commands; replies are not read through hiredis' reply objects but framed
 * from the socket's bytes with the formats RESP codec, so that a reply is
 * stored exactly as the target sent it (RESP3 included, which this hiredis
 * does not parse) and compares byte for byte with the recorded one.
 *
 * A recorded AUTH is sent with the target's credentials when it has any
 * (the stored request stays the recorded one); HELLO ... AUTH is sent as
 * recorded. Connection attempts are retried (--retries); a command that
 * was sent is not, since Redis commands need not be idempotent.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "replayer/replayer_int.h"

#define MAX_POLL_MS 100
#define READ_CHUNK 65536
#define MAX_ARGV 4

struct redis_cmd {
	struct rp_item *item;        /* NULL: the connection's AUTH/SELECT */
	const char *what;            /* internal: "AUTH", "SELECT" */
	int64_t expect;              /* replies due; -1: until unsubscribed */
	struct rp_buf reply;
	uint64_t sent_real, first_real, deadline;
	struct redis_cmd *next;
};

enum conn_state { RC_IDLE, RC_CONNECTING, RC_PRELUDE, RC_READY };

struct redis_conn {
	struct redis_engine *e;
	struct rp_conn *rec;
	size_t next;                 /* next recorded command to send */
	redisContext *c;
	enum conn_state state;
	bool write_pending;
	uint64_t deadline;           /* connect or prelude */
	unsigned attempts;           /* failed connection attempts in a row */
	uint64_t retry_at;           /* next connection attempt */
	uint64_t conn_id;
	struct dt_endpoint client, server;
	struct redis_cmd *head, *tail;
	struct rp_buf in;
	struct dt_resp_framer fr;
	bool subscribed;
};

struct redis_engine {
	struct rp_ctx *ctx;
	struct rp_batch *b;
	struct redis_conn *conns;
	size_t n;
	int wake_fd;
	bool stopping;
	uint64_t gate_retry;
	struct pollfd *pfds;
	struct redis_conn **polled;
};

/* ---- commands in flight ---------------------------------------------- */

static struct redis_cmd *cmd_push(struct redis_conn *rc, struct rp_item *it,
				  const char *what, int64_t expect)
{
	struct redis_cmd *cmd = calloc(1, sizeof(*cmd));

	if (!cmd)
		return NULL;
	cmd->item = it;
	cmd->what = what;
	cmd->expect = expect;
	cmd->sent_real = rp_realtime();
	cmd->deadline = rp_now() + rc->e->ctx->opts->timeout_ns;
	if (rc->tail)
		rc->tail->next = cmd;
	else
		rc->head = cmd;
	rc->tail = cmd;
	return cmd;
}

static struct redis_cmd *cmd_pop(struct redis_conn *rc)
{
	struct redis_cmd *cmd = rc->head;

	rc->head = cmd->next;
	if (!rc->head)
		rc->tail = NULL;
	return cmd;
}

static void cmd_free(struct redis_cmd *cmd)
{
	rp_buf_release(&cmd->reply);
	free(cmd);
}

/* Replies a command of argc words expects: one, except (un)subscriptions,
 * which get one per channel (-1: until no subscription is left). Only
 * argv[0] is read. */
static int64_t replies_expected(const struct dt_slice *argv, size_t argc)
{
	const char *name = (const char *)argv[0].ptr;
	size_t len = argv[0].len;
	bool unsub;

	if (len < 9 || len > 12 || strncasecmp(name + len - 9, "subscribe", 9))
		return 1;
	unsub = len >= 11 && !strncasecmp(name + len - 11, "unsubscribe", 11);
	if (argc > 1)
		return (int64_t)argc - 1;
	return unsub ? -1 : 1;
}

/* "reply" (a summary) and "error", as the recorder sets them. */
static int set_reply_attrs(struct dt_exchange *x)
{
	char summary[DT_RESP_SUMMARY_MAX];
	int type, ret = 0;

	if (dt_resp_summarize(x->response, x->response_len, summary,
			      sizeof(summary)) >= 0)
		ret = dt_exchange_set_attr(x, "reply", summary);
	type = dt_resp_reply_type(x->response, x->response_len);
	if (!ret && (type == '-' || type == '!'))
		ret = dt_exchange_set_attr(x, "error", "1");
	return ret;
}

static void emit_reply(struct redis_conn *rc, struct redis_cmd *cmd)
{
	struct dt_exchange x;
	int ret;

	if (rp_exchange_begin(&x, cmd->item)) {
		rp_output_emit(&rc->e->ctx->out, NULL, RP_ANSWERED);
		return;
	}
	x.conn_id = rc->conn_id;
	x.client = rc->client;
	x.server = rc->server;
	x.req_start_ns = x.req_end_ns = cmd->sent_real;
	x.resp_start_ns = cmd->first_real;
	x.resp_end_ns = rp_realtime();
	if (cmd->reply.overflow)
		x.flags |= DT_XF_TRUNCATED;
	ret = dt_exchange_set_response(&x, cmd->reply.data, cmd->reply.len);
	if (!ret)
		ret = set_reply_attrs(&x);
	rp_output_emit(&rc->e->ctx->out, ret ? NULL : &x, RP_ANSWERED);
	dt_exchange_release(&x);
}

/* ---- connection failures --------------------------------------------- */

static void conn_close(struct redis_conn *rc)
{
	if (rc->c)
		redisFree(rc->c);
	rc->c = NULL;
	rc->state = RC_IDLE;
	rc->write_pending = false;
	rc->subscribed = false;
	rc->in.len = 0;
	dt_resp_framer_init(&rc->fr, false);
}

/* Fails the commands in flight with why; a user command frees its slot. */
static void fail_inflight(struct redis_conn *rc, const char *why)
{
	struct redis_cmd *cmd;

	while (rc->head) {
		cmd = cmd_pop(rc);
		if (cmd->item) {
			rp_emit_failure(rc->e->ctx, cmd->item, &rc->client,
					&rc->server, cmd->sent_real, why,
					RP_FAILED);
			rp_gate_release(&rc->e->ctx->gate);
		}
		cmd_free(cmd);
	}
}

/* The connection broke after it was set up: what was in flight fails,
 * later commands go over a new connection. */
static void conn_broken(struct redis_conn *rc, const char *why)
{
	fail_inflight(rc, why);
	conn_close(rc);
}

/* Connecting (or authenticating) failed: retry, or fail the command that
 * wanted the connection; once the target proves down, dispatch fails the
 * rest without trying. */
static void connect_failed(struct redis_conn *rc, const char *why)
{
	const struct dt_replay_opts *o = rc->e->ctx->opts;
	char text[300];

	fail_inflight(rc, why);
	conn_close(rc);
	if (rc->attempts < o->retries && !rc->e->stopping) {
		rc->retry_at = rp_now() + rp_retry_delay(rc->attempts++);
		return;
	}
	rc->attempts = 0;
	rp_target_failed(rc->e->b, why);
	if (rc->next < rc->rec->n) {
		snprintf(text, sizeof(text), "not sent: %s", why);
		rp_emit_failure(rc->e->ctx, rc->rec->items[rc->next], NULL,
				NULL, 0, text, RP_FAILED);
		rc->next++;
	}
}

/* ---- connecting ---------------------------------------------------------- */

static int append_argv(struct redis_conn *rc, int argc, const char **argv,
		       const size_t *lens)
{
	if (redisAppendCommandArgv(rc->c, argc, argv, lens) != REDIS_OK)
		return -ENOMEM;
	rc->write_pending = true;
	return 0;
}

/* AUTH and SELECT of the target URL, before any recorded command. */
static int queue_prelude(struct redis_conn *rc)
{
	const struct dt_target *t = rc->e->b->target;
	const char *argv[3];
	size_t lens[3];
	char db[16];
	int argc = 0, ret = 0;

	if (t->has_password) {
		argv[argc++] = "AUTH";
		if (t->user[0])
			argv[argc++] = t->user;
		argv[argc++] = t->password;
		for (int i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		ret = append_argv(rc, argc, argv, lens);
		if (!ret && !cmd_push(rc, NULL, "AUTH", 1))
			ret = -ENOMEM;
	}
	if (!ret && t->redis_db >= 0) {
		snprintf(db, sizeof(db), "%d", t->redis_db);
		argv[0] = "SELECT";
		argv[1] = db;
		lens[0] = 6;
		lens[1] = strlen(db);
		ret = append_argv(rc, 2, argv, lens);
		if (!ret && !cmd_push(rc, NULL, "SELECT", 1))
			ret = -ENOMEM;
	}
	return ret;
}

static void set_ready(struct redis_conn *rc)
{
	rc->state = RC_READY;
	rc->attempts = 0;
	rp_target_connected(rc->e->b);
}

static void connect_done(struct redis_conn *rc)
{
	int err = 0;
	socklen_t len = sizeof(err);
	char why[160];

	if (getsockopt(rc->c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		snprintf(why, sizeof(why), "cannot connect: %s", strerror(err));
		connect_failed(rc, why);
		return;
	}
	rp_endpoint_from_fd(rc->c->fd, false, &rc->client);
	rp_endpoint_from_fd(rc->c->fd, true, &rc->server);
	rc->conn_id = rp_output_conn_id(&rc->e->ctx->out);
	rc->state = RC_PRELUDE;
	if (queue_prelude(rc)) {
		connect_failed(rc, "out of memory");
		return;
	}
	if (!rc->head)
		set_ready(rc);
}

static void connect_start(struct redis_conn *rc, uint64_t now)
{
	const struct dt_target *t = rc->e->b->target;
	char why[200];

	rc->c = redisConnectNonBlock(t->host, t->port);
	if (!rc->c || rc->c->err) {
		snprintf(why, sizeof(why), "cannot connect: %s",
			 rc->c ? rc->c->errstr : "out of memory");
		connect_failed(rc, why);
		return;
	}
	rc->state = RC_CONNECTING;
	rc->deadline = now + rc->e->ctx->opts->timeout_ns;
	dt_resp_framer_init(&rc->fr, false);
}

/* ---- sending ----------------------------------------------------------- */

/* A recorded AUTH carries the recorded password: the target's goes out
 * instead (the user named in the URL, else the recorded one). */
static int send_auth(struct redis_conn *rc, const struct dt_slice *argv,
		     size_t argc)
{
	const struct dt_target *t = rc->e->b->target;
	const char *out[3];
	size_t lens[3];
	int n = 0;

	out[n] = "AUTH";
	lens[n++] = 4;
	if (t->user[0]) {
		out[n] = t->user;
		lens[n++] = strlen(t->user);
	} else if (argc == 3) {
		out[n] = (const char *)argv[1].ptr;
		lens[n++] = argv[1].len;
	}
	out[n] = t->password;
	lens[n++] = strlen(t->password);
	return append_argv(rc, n, out, lens);
}

static int send_item(struct redis_conn *rc, struct rp_item *it,
		     const struct dt_slice *argv, size_t argc, size_t len)
{
	const struct dt_target *t = rc->e->b->target;
	int ret;

	if (t->has_password && argc >= 2 && argc <= 3 && argv[0].len == 4 &&
	    !strncasecmp((const char *)argv[0].ptr, "AUTH", 4))
		ret = send_auth(rc, argv, argc);
	else if (redisAppendFormattedCommand(rc->c,
					     (const char *)it->rec.request,
					     len) != REDIS_OK)
		ret = -ENOMEM;
	else
		ret = 0;
	rc->write_pending = true;
	if (!ret && !cmd_push(rc, it, NULL, replies_expected(argv, argc)))
		ret = -ENOMEM;
	return ret;
}

/* The recorded command's length, or 0 (and the item is written as
 * skipped) when its bytes are not one whole command. */
static ssize_t parse_item(struct redis_conn *rc, struct rp_item *it,
			  struct dt_slice *argv, size_t *argc)
{
	ssize_t len = dt_resp_parse_command(it->rec.request,
					    it->rec.request_len, argv,
					    MAX_ARGV, argc);

	if (len > 0 && *argc)
		return len;
	rp_emit_failure(rc->e->ctx, it, NULL, NULL, 0,
			"not replayed: the recorded request is not a whole "
			"Redis command", RP_SKIPPED);
	return 0;
}

/* Sends the connection's due commands; connects first when needed. */
static void dispatch(struct redis_conn *rc, uint64_t now)
{
	struct redis_engine *e = rc->e;
	struct dt_slice argv[MAX_ARGV];
	struct rp_item *it;
	size_t argc = 0;
	ssize_t len;
	int ret;

	while (!e->stopping && rc->next < rc->rec->n) {
		it = rc->rec->items[rc->next];
		/* not worth waiting for: fail the rest at once */
		if (rp_target_down(e->b)) {
			rp_emit_failure(e->ctx, it, NULL, NULL, 0, RP_NOT_SENT,
					RP_FAILED);
			rc->next++;
			continue;
		}
		if (it->due > now)
			return;
		if (rc->state == RC_IDLE && rc->retry_at <= now)
			connect_start(rc, now);
		if (rc->state != RC_READY)
			return;
		len = parse_item(rc, it, argv, &argc);
		if (!len) {
			rc->next++;
			continue;
		}
		ret = rp_gate_try(&e->ctx->gate, now, &e->gate_retry);
		if (ret < 0)
			e->stopping = true;
		if (ret <= 0)
			return;
		rc->next++;
		if (send_item(rc, it, argv, argc, (size_t)len)) {
			rp_emit_failure(e->ctx, it, NULL, NULL, 0,
					"not sent: out of memory", RP_FAILED);
			rp_gate_release(&e->ctx->gate);
		}
	}
}

static void flush_writes(struct redis_conn *rc)
{
	int done = 0;
	char why[160];

	if (!rc->write_pending || rc->state < RC_PRELUDE)
		return;
	if (redisBufferWrite(rc->c, &done) != REDIS_OK) {
		snprintf(why, sizeof(why), "write to the target failed: %s",
			 rc->c->errstr);
		if (rc->state == RC_READY)
			conn_broken(rc, why);
		else
			connect_failed(rc, why);
		return;
	}
	rc->write_pending = !done;
}

/* ---- receiving ---------------------------------------------------------- */

/* The first line of an error reply (without its '-'), printable, for
 * messages. */
static void error_line(const struct rp_buf *b, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 1; i < b->len && o + 1 < size; i++) {
		uint8_t c = b->data[i];

		if (c == '\r' || c == '\n')
			break;
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

/* The reply to AUTH or SELECT of the prelude. */
static void prelude_reply(struct redis_conn *rc, struct redis_cmd *cmd)
{
	int type = dt_resp_reply_type(cmd->reply.data, cmd->reply.len);
	char msg[128], why[200];

	if (type == '-' || type == '!') {
		error_line(&cmd->reply, msg, sizeof(msg));
		snprintf(why, sizeof(why), "%s failed: %s",
			 !strcmp(cmd->what, "AUTH") ? "authentication" :
						      "SELECT", msg);
		cmd_free(cmd);
		connect_failed(rc, why);
		return;
	}
	cmd_free(cmd);
	if (!rc->head)
		set_ready(rc);
}

/* One whole reply at p[0..n). Returns false when the connection was
 * closed on the way. */
static bool on_reply(struct redis_conn *rc, const uint8_t *p, size_t n)
{
	struct redis_cmd *cmd = rc->head;
	int64_t subs = -1;
	enum dt_resp_push kind;

	kind = dt_resp_push_classify(p, n, rc->subscribed, &subs);
	if (kind == DT_RESP_PUSH_SUBSCRIPTION)
		rc->subscribed = subs > 0;
	if (kind == DT_RESP_PUSH_MESSAGE || kind == DT_RESP_PUSH_OTHER ||
	    !cmd)
		return true; /* answers no command of ours */
	if (!cmd->reply.len)
		cmd->first_real = rp_realtime();
	if (rp_buf_append(&cmd->reply, p, n)) {
		conn_broken(rc, "out of memory");
		return false;
	}
	if (cmd->expect > 0)
		cmd->expect--;
	if (cmd->expect > 0 || (cmd->expect < 0 && subs > 0))
		return true;
	cmd = cmd_pop(rc);
	if (!cmd->item) {
		prelude_reply(rc, cmd);
		return rc->state != RC_IDLE;
	}
	emit_reply(rc, cmd);
	rp_gate_release(&rc->e->ctx->gate);
	cmd_free(cmd);
	return true;
}

/* Pairs the whole replies in rc->in with the commands in flight; the
 * bytes of a reply not yet whole stay for the next read. */
static void frame_replies(struct redis_conn *rc)
{
	size_t pos = 0;
	int ret;

	while (pos < rc->in.len) {
		ret = dt_resp_framer_scan(&rc->fr, rc->in.data + pos,
					  rc->in.len - pos);
		if (ret == DT_RESP_NEED_MORE)
			break;
		if (ret < 0) {
			conn_broken(rc, "the target sent bytes that are not "
					"RESP");
			return;
		}
		if (!on_reply(rc, rc->in.data + pos, rc->fr.msg_len))
			return; /* closed: rc->in is empty now */
		pos += rc->fr.msg_len;
		dt_resp_framer_reset(&rc->fr);
	}
	rp_buf_consume(&rc->in, pos);
}

static void on_readable(struct redis_conn *rc)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n;
	char why[160];

	n = read(rc->c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(why, sizeof(why), "the target closed the connection%s%s",
			 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		if (rc->state == RC_READY)
			conn_broken(rc, why);
		else
			connect_failed(rc, why);
		return;
	}
	if (rp_buf_append(&rc->in, buf, (size_t)n) || rc->in.overflow) {
		conn_broken(rc, "a reply is too large");
		return;
	}
	frame_replies(rc);
}

static void on_events(struct redis_conn *rc, short revents)
{
	if (rc->state == RC_CONNECTING) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			connect_done(rc);
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		on_readable(rc);
	if (rc->state != RC_IDLE && (revents & POLLOUT))
		flush_writes(rc);
}

/* A reply or a connection that took too long. */
static void check_deadlines(struct redis_conn *rc, uint64_t now)
{
	const struct dt_replay_opts *o = rc->e->ctx->opts;
	char why[128];

	if (rc->state == RC_CONNECTING && now >= rc->deadline) {
		snprintf(why, sizeof(why), "cannot connect: no answer within "
			 "%" PRIu64 " ms", o->timeout_ns / 1000000);
		connect_failed(rc, why);
	} else if (rc->head && now >= rc->head->deadline) {
		snprintf(why, sizeof(why), "no reply within %" PRIu64 " ms",
			 o->timeout_ns / 1000000);
		if (rc->state == RC_READY)
			conn_broken(rc, why);
		else
			connect_failed(rc, why);
	}
}

/* ---- the loop ------------------------------------------------------------ */

static bool conn_finished(const struct redis_conn *rc, bool stopping)
{
	return !rc->head && (rc->next >= rc->rec->n || stopping);
}

/* When this connection next needs attention without a socket event. */
static uint64_t conn_wake_time(const struct redis_engine *e,
			       const struct redis_conn *rc)
{
	uint64_t t = UINT64_MAX, due;

	if (rc->head)
		t = rc->head->deadline;
	if (rc->state == RC_CONNECTING && rc->deadline < t)
		t = rc->deadline;
	if (e->stopping || rc->next >= rc->rec->n)
		return t;
	due = rc->rec->items[rc->next]->due;
	if (rc->state == RC_IDLE && rc->retry_at > due)
		due = rc->retry_at;
	if (rc->state == RC_READY && e->gate_retry) {
		/* waiting for the gate: a release wakes us, or the rate */
		if (e->gate_retry == UINT64_MAX)
			return t;
		if (e->gate_retry > due)
			due = e->gate_retry;
	}
	return due < t ? due : t;
}

static int poll_timeout(const struct redis_engine *e, uint64_t now)
{
	uint64_t until = now + MAX_POLL_MS * 1000000ull, t;

	for (size_t i = 0; i < e->n; i++) {
		t = conn_wake_time(e, &e->conns[i]);
		if (t < until)
			until = t;
	}
	return rp_poll_timeout(now, until);
}

/* Fills the poll set; returns how many entries. */
static nfds_t poll_set(struct redis_engine *e)
{
	nfds_t n = 0;

	e->pfds[n++] = (struct pollfd){ .fd = e->wake_fd, .events = POLLIN };
	for (size_t i = 0; i < e->n; i++) {
		struct redis_conn *rc = &e->conns[i];

		if (rc->state == RC_IDLE)
			continue;
		e->polled[n] = rc;
		e->pfds[n++] = (struct pollfd){
			.fd = rc->c->fd,
			.events = (short)(rc->state == RC_CONNECTING ? POLLOUT :
				  POLLIN | (rc->write_pending ? POLLOUT : 0)),
		};
	}
	return n;
}

static void drain_wake(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
}

/* One pass over the connections: deadlines, sending, closing. Returns
 * how many connections still have work. */
static size_t step(struct redis_engine *e, uint64_t now)
{
	size_t busy = 0;

	e->gate_retry = 0;
	for (size_t i = 0; i < e->n; i++) {
		struct redis_conn *rc = &e->conns[i];

		check_deadlines(rc, now);
		dispatch(rc, now);
		flush_writes(rc);
		if (conn_finished(rc, e->stopping)) {
			/* the recorded connection ended: so does ours */
			if (rc->state != RC_IDLE)
				conn_close(rc);
			continue;
		}
		busy++;
	}
	return busy;
}

static int redis_run(void *state)
{
	struct redis_engine *e = state;
	nfds_t n;
	int ret;

	for (;;) {
		if (!e->stopping && rp_gate_stopped(&e->ctx->gate))
			e->stopping = true;
		if (!step(e, rp_now()))
			return 0;
		n = poll_set(e);
		ret = poll(e->pfds, n, poll_timeout(e, rp_now()));
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		if (e->pfds[0].revents)
			drain_wake(e->wake_fd);
		for (nfds_t i = 1; i < n; i++)
			if (e->pfds[i].revents)
				on_events(e->polled[i], e->pfds[i].revents);
	}
}

/* ---- engine ----------------------------------------------------------- */

static void wake(void *ctx)
{
	struct redis_engine *e = ctx;
	uint64_t one = 1;

	if (write(e->wake_fd, &one, sizeof(one)) < 0)
		return; /* the counter is full: a wake is pending anyway */
}

static int redis_prepare(struct rp_ctx *ctx, struct rp_batch *b, void **state)
{
	struct redis_engine *e = calloc(1, sizeof(*e));

	*state = e;
	if (!e)
		return -ENOMEM;
	e->ctx = ctx;
	e->b = b;
	e->n = b->nconns;
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->conns = calloc(e->n, sizeof(*e->conns));
	e->pfds = calloc(e->n + 1, sizeof(*e->pfds));
	e->polled = calloc(e->n + 1, sizeof(*e->polled));
	if (e->wake_fd < 0 || !e->conns || !e->pfds || !e->polled)
		return e->wake_fd < 0 ? -errno : -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		e->conns[i].e = e;
		e->conns[i].rec = &b->conns[i];
		e->conns[i].in.max = RP_MAX_RESPONSE;
		dt_resp_framer_init(&e->conns[i].fr, false);
	}
	return rp_gate_add_waker(&ctx->gate, wake, e);
}

static void redis_release(void *state)
{
	struct redis_engine *e = state;

	if (!e)
		return;
	for (size_t i = 0; e->conns && i < e->n; i++) {
		struct redis_conn *rc = &e->conns[i];

		while (rc->head)
			cmd_free(cmd_pop(rc));
		if (rc->c)
			redisFree(rc->c);
		rp_buf_release(&rc->in);
	}
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	free(e->conns);
	free(e->pfds);
	free(e->polled);
	free(e);
}

const struct rp_engine_ops rp_redis_engine = {
	.prepare = redis_prepare,
	.run = redis_run,
	.release = redis_release,
};
