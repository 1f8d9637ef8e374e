/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the replayer's request-building unit tests
 * (test_replayer_http, test_replayer_h2). Include after cmocka.h.
 */
#ifndef DEETUNE_TEST_REPLAYER_HELPERS_H
#define DEETUNE_TEST_REPLAYER_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "replayer/replayer_int.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

typedef int (*request_builder)(struct rp_http_request *r, const uint8_t *buf,
			       size_t len, const char *host,
			       const struct dt_header_edit *edits,
			       size_t nedits, char *err, size_t errlen);

/* Builds with fn from a private copy of exactly the stored bytes, so that
 * the sanitizers and valgrind catch a read past them. */
static inline int build_from_copy(request_builder fn, const char *host,
				  struct rp_http_request *r,
				  const uint8_t *msg, size_t len,
				  const struct dt_header_edit *edits,
				  size_t nedits, char *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, msg, len);
	ret = fn(r, copy, len, host, edits, nedits, err, 256);
	free(copy);
	return ret;
}

static inline void assert_header(const struct rp_http_request *r, size_t i,
				 const char *name, const char *value)
{
	assert_true(i < r->nheaders);
	assert_string_equal(r->headers[i].name, name);
	assert_string_equal(r->headers[i].value, value);
}

#endif /* DEETUNE_TEST_REPLAYER_HELPERS_H */
