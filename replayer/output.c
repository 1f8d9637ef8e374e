// SPDX-License-Identifier: MIT
/*
 * The replayed session: one exchange per recorded one replayed, written
 * from every engine thread under one lock, in the order they complete.
 * Frames are flushed about once a second (by replay.c), so an interrupted
 * replay leaves a session that reads back up to its last frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replayer/replayer_int.h"

static int fd_write_all(void *ctx, const void *buf, size_t len)
{
	struct rp_output *o = ctx;
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(o->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rp_output_open(struct rp_output *o, const char *path,
		   const struct dt_attr *meta, size_t nmeta)
{
	struct dt_session_sink sink = { .write = fd_write_all, .ctx = o };
	int ret;

	memset(o, 0, sizeof(*o));
	atomic_init(&o->next_conn, 0);
	o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		ret = -errno;
		fprintf(stderr, "deetune replay: cannot create %s: %s\n", path,
			strerror(-ret));
		return ret;
	}
	ret = pthread_mutex_init(&o->lock, NULL);
	if (ret) {
		close(o->fd);
		return -ret;
	}
	ret = dt_session_writer_new(&o->w, &sink, meta, nmeta, NULL);
	if (ret) {
		fprintf(stderr, "deetune replay: cannot write %s: %s\n", path,
			strerror(-ret));
		pthread_mutex_destroy(&o->lock);
		close(o->fd);
	}
	return ret;
}

void rp_output_emit(struct rp_output *o, struct dt_exchange *x,
		    enum rp_outcome outcome)
{
	pthread_mutex_lock(&o->lock);
	o->count[outcome]++;
	if (!x) {
		if (!o->error)
			o->error = -ENOMEM;
	} else if (!o->error) {
		x->id = ++o->next_id;
		o->error = dt_session_writer_append(o->w, x);
	}
	pthread_mutex_unlock(&o->lock);
}

void rp_output_flush(struct rp_output *o)
{
	pthread_mutex_lock(&o->lock);
	if (!o->error)
		o->error = dt_session_writer_flush(o->w);
	pthread_mutex_unlock(&o->lock);
}

uint64_t rp_output_done(struct rp_output *o, uint64_t *failed)
{
	uint64_t done;

	pthread_mutex_lock(&o->lock);
	done = o->count[RP_ANSWERED] + o->count[RP_FAILED] +
	       o->count[RP_SKIPPED];
	if (failed)
		*failed = o->count[RP_FAILED];
	pthread_mutex_unlock(&o->lock);
	return done;
}

uint64_t rp_output_conn_id(struct rp_output *o)
{
	return atomic_fetch_add(&o->next_conn, 1) + 1;
}

int rp_output_finish(struct rp_output *o, const struct dt_attr *stats,
		     size_t nstats)
{
	int ret;

	pthread_mutex_lock(&o->lock);
	ret = o->error;
	if (!ret)
		ret = dt_session_writer_finish(o->w, stats, nstats);
	if (!ret && fsync(o->fd) < 0 && errno != EINVAL)
		ret = -errno;
	o->error = ret;
	pthread_mutex_unlock(&o->lock);
	return ret;
}

void rp_output_close(struct rp_output *o)
{
	dt_session_writer_free(o->w);
	o->w = NULL;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	pthread_mutex_destroy(&o->lock);
}

/* Summary keys describing the response or the recorded stream: the
 * engine sets them anew (an HTTP/2 replay learns no stream id). */
static bool is_response_attr(const char *key)
{
	return !strncmp(key, "response.", 9) || !strcmp(key, "status") ||
	       !strcmp(key, "reply") || !strcmp(key, "error") ||
	       !strncmp(key, "h2.", 3) || !strcmp(key, "grpc.status") ||
	       !strcmp(key, "grpc.message");
}

int rp_exchange_begin(struct dt_exchange *x, const struct rp_item *item)
{
	const struct dt_exchange *rec = &item->rec;
	int ret;

	dt_exchange_init(x);
	x->protocol = rec->protocol;
	x->link_id = rec->id;
	ret = dt_exchange_set_request(x, rec->request, rec->request_len);
	for (size_t i = 0; !ret && i < rec->nattrs; i++)
		if (!is_response_attr(rec->attrs[i].key))
			ret = dt_exchange_set_attr(x, rec->attrs[i].key,
						   rec->attrs[i].value);
	if (ret)
		dt_exchange_release(x);
	return ret;
}

void rp_emit_failure(struct rp_ctx *ctx, const struct rp_item *item,
		     const struct dt_endpoint *client,
		     const struct dt_endpoint *server, uint64_t start_real,
		     const char *why, enum rp_outcome outcome)
{
	struct dt_exchange x;

	if (rp_exchange_begin(&x, item)) {
		rp_output_emit(&ctx->out, NULL, outcome);
		return;
	}
	x.flags = DT_XF_NO_RESPONSE;
	if (client)
		x.client = *client;
	if (server)
		x.server = *server;
	x.req_start_ns = start_real;
	if (dt_exchange_set_attr(&x, RP_ATTR_ERROR, why)) {
		dt_exchange_release(&x);
		rp_output_emit(&ctx->out, NULL, outcome);
		return;
	}
	rp_output_emit(&ctx->out, &x, outcome);
	dt_exchange_release(&x);
}
