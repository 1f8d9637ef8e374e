// SPDX-License-Identifier: MIT
/* A byte buffer that stops growing at a cap, for responses of any size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replayer/replayer_int.h"

uint64_t rp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rp_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int rp_buf_append(struct rp_buf *b, const void *p, size_t n)
{
	size_t max = b->max ? b->max : RP_MAX_RESPONSE;
	size_t cap;
	uint8_t *grown;

	if (n > max - b->len) {
		b->overflow = true;
		n = max - b->len;
	}
	if (!n)
		return 0;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap = cap > max / 2 ? max : cap * 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -ENOMEM;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void rp_buf_consume(struct rp_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void rp_buf_release(struct rp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
}
