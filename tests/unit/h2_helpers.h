/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the HTTP/2 unit tests: HTTP/2 wire bytes built frame
 * by frame, header blocks encoded by nghttp2's own HPACK deflater
 * (stateful like a real peer's). Include after cmocka.h.
 */
#ifndef DEETUNE_TEST_H2_HELPERS_H
#define DEETUNE_TEST_H2_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "formats/formats.h"

/* A growing byte buffer; owns p. */
struct wire {
	uint8_t *p;
	size_t len, cap;
};

static inline void wire_put(struct wire *w, const void *data, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		assert_non_null(w->p);
	}
	if (n)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

static inline void wire_free(struct wire *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

static inline void frame_put(struct wire *w, uint8_t type, uint8_t flags,
			     uint32_t id, const void *payload, size_t n)
{
	uint8_t h[9] = {
		(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
		(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
		(uint8_t)id,
	};

	wire_put(w, h, sizeof(h));
	wire_put(w, payload, n);
}

/* Encodes the name/value pairs of kv (NULL terminated) as one header
 * block with d, whose dynamic table carries over to the next block. */
static inline size_t hpack_encode(nghttp2_hd_deflater *d,
				  const char *const *kv, uint8_t *out,
				  size_t outlen)
{
	nghttp2_nv nv[80];
	size_t n = 0;
	ssize_t len;

	for (; kv[0]; kv += 2, n++) {
		assert_true(n < 80);
		nv[n].name = (uint8_t *)kv[0];
		nv[n].namelen = strlen(kv[0]);
		nv[n].value = (uint8_t *)kv[1];
		nv[n].valuelen = strlen(kv[1]);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
	}
	assert_true(nghttp2_hd_deflate_bound(d, nv, n) <= outlen);
	len = nghttp2_hd_deflate_hd(d, out, outlen, nv, n);
	assert_true(len > 0);
	return (size_t)len;
}

/* One HEADERS frame carrying the whole block. */
static inline void headers_put(struct wire *w, nghttp2_hd_deflater *d,
			       uint32_t id, uint8_t flags,
			       const char *const *kv)
{
	uint8_t block[16384];
	size_t n = hpack_encode(d, kv, block, sizeof(block));

	frame_put(w, DT_H2_HEADERS, flags | DT_H2_FLAG_END_HEADERS, id, block,
		  n);
}

static inline void data_put(struct wire *w, uint32_t id, uint8_t flags,
			    const char *text)
{
	frame_put(w, DT_H2_DATA, flags, id, text, strlen(text));
}

#endif /* DEETUNE_TEST_H2_HELPERS_H */
