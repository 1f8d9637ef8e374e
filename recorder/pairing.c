// SPDX-License-Identifier: MIT
/* Requests waiting for their responses, shared by the protocol decoders. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/recorder_int.h"

struct dt_pending *dt_pending_take(struct dt_pending_queue *q,
				  struct dt_stream *s, size_t n,
				  uint32_t flags)
{
	struct dt_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (n > s->len)
		n = s->len;
	p->bytes = malloc(n ? n : 1);
	if (!p->bytes) {
		free(p);
		return NULL;
	}
	if (n)
		memcpy(p->bytes, s->buf, n);
	p->len = n;
	p->flags = flags;
	dt_stream_consume(s, n, &p->start_ts, &p->end_ts);
	q->bytes += n;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	return p;
}

struct dt_pending *dt_pending_pop(struct dt_pending_queue *q)
{
	struct dt_pending *p = q->head;

	if (p) {
		q->head = p->next;
		if (!q->head)
			q->tail = NULL;
		p->next = NULL;
		q->bytes -= p->len;
	}
	return p;
}

void dt_pending_free(struct dt_pending *p)
{
	if (!p)
		return;
	free(p->bytes);
	free(p);
}

void dt_pending_clear(struct dt_pending_queue *q)
{
	while (q->head)
		dt_pending_free(dt_pending_pop(q));
}

int dt_set_slice_attr(struct dt_exchange *x, const char *key,
		      const uint8_t *ptr, size_t len)
{
	char buf[2048];
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;

	memcpy(buf, ptr, n);
	buf[n] = '\0';
	return dt_exchange_set_attr(x, key, buf);
}

int dt_pair_emit(struct dt_assembler *a, struct dt_conn *c,
		 uint32_t protocol, dt_summarize_fn summarize,
		 struct dt_pending *p, const uint8_t *resp, size_t resp_len,
		 uint64_t resp_start, uint64_t resp_end, uint32_t flags)
{
	struct dt_exchange x;
	int ret;

	dt_exchange_init(&x);
	x.protocol = protocol;
	x.flags = p->flags | flags;
	if (p->lost)
		x.flags |= DT_XF_INCOMPLETE;
	if (!resp_len)
		x.flags |= DT_XF_NO_RESPONSE;
	x.req_start_ns = p->start_ts;
	x.req_end_ns = p->end_ts;
	x.resp_start_ns = resp_start;
	x.resp_end_ns = resp_end;
	if (dt_exchange_set_request(&x, p->bytes, p->len) ||
	    dt_exchange_set_response(&x, resp, resp_len) || summarize(&x)) {
		dt_exchange_release(&x);
		dt_pending_free(p);
		return -ENOMEM;
	}
	ret = dt_assembler_emit(a, c, &x);
	dt_pending_free(p);
	return ret;
}

int dt_pair_flush(struct dt_assembler *a, struct dt_conn *c,
		  uint32_t protocol, dt_summarize_fn summarize,
		  struct dt_pending_queue *q, uint32_t flags)
{
	struct dt_pending *p;
	int ret = 0;

	while (!ret && (p = dt_pending_pop(q))) {
		/* a lost-request marker with no bytes has nothing to show */
		if (!p->len) {
			dt_pending_free(p);
			continue;
		}
		ret = dt_pair_emit(a, c, protocol, summarize, p, NULL, 0, 0, 0,
				   flags);
	}
	return ret;
}
