// SPDX-License-Identifier: MIT
/*
 * The stored form of HTTP/2 messages: parsing hostile field lines (a
 * session file's bytes), and storing fields made of arbitrary bytes, which
 * must parse back to as many fields with the same lengths.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

#define MAX_FIELDS 64

static void check_parse(const uint8_t *data, size_t size)
{
	struct dt_http1_header fields[MAX_FIELDS];
	size_t n;
	bool blank;
	ssize_t r;

	r = dt_h2_stored_fields_parse(data, size, fields, MAX_FIELDS, &n,
				      &blank);
	if (r > (ssize_t)size || n > MAX_FIELDS)
		abort();
	for (size_t i = 0; i < n; i++)
		if (fields[i].name.ptr < data ||
		    fields[i].value.ptr + fields[i].value.len > data + size)
			abort();
}

/* Fields cut from data at each 0xff byte: name, value, name, ... */
static void check_round_trip(const uint8_t *data, size_t size)
{
	struct dt_h2_field v[MAX_FIELDS];
	struct dt_http1_header back[MAX_FIELDS];
	struct dt_h2_message m = { 0 };
	size_t nv = 0, start = 0, len, n;
	uint8_t *buf;
	bool cleaned = false, blank;
	ssize_t head;

	for (size_t i = 0; i <= size && nv < MAX_FIELDS * 2; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		if (nv % 2 == 0) {
			v[nv / 2].name = (char *)data + start;
			v[nv / 2].name_len = i - start;
		} else {
			v[nv / 2].value = (char *)data + start;
			v[nv / 2].value_len = i - start;
		}
		nv++;
		start = i + 1;
	}
	m.headers.v = v;
	m.headers.n = nv / 2;
	if (dt_h2_store_message(&m, &buf, &len, &cleaned))
		return;
	head = dt_h2_stored_fields_parse(buf, len, back, MAX_FIELDS, &n,
					 &blank);
	if (head != (ssize_t)len || !blank || n != m.headers.n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (back[i].value.len != v[i].value_len ||
		    back[i].name.len != (v[i].name_len ? v[i].name_len : 1))
			abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_round_trip(data, size);
	return 0;
}
