// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the diff engine end to end: one recorded exchange,
 * its replay and a second replay to learn noise from, compared under a
 * rules file, then every report written. Covers HTTP parsing, chunked
 * and gzip decoding, RESP parsing, MySQL attributes, unordered rows,
 * stored HTTP/2 responses with their trailers, gRPC messages and their
 * protobuf fields, and the report writers on hostile bytes.
 *
 * Input: byte 0 picks the protocol (bits 0-1: HTTP/1, Redis, MySQL,
 * HTTP/2), unordered rows (bit 2), the rules (bit 3), the second replay
 * (bit 4) and the recorded flags (bits 5-7); then three parts separated
 * by "\n#\n": the recorded response, the replayed one and the second
 * replay. For MySQL each part is the JSON preview of a result set; for
 * HTTP/2 the stored response, then optionally "\n@\n" and the
 * h2.trailers attribute (also used as grpc.status).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"
#include "tests/fuzz/fuzz_check.h"

static const char rules_text[] =
	"{\"ignore\": [\"$..t\", \"header.x-*\", \"$[*].b\"],"
	" \"ignore_headers\": [\"Set-Cookie\"], \"compare_headers\": [\"Date\"],"
	" \"normalize\": [{\"regex\": \"[0-9]{3,}\", \"replace\": \"N\"}],"
	" \"endpoints\": [{\"match\": \"*\", \"ignore\": [\"rows\"]}]}";

static const char http_req[] = "GET /a/b?c=1 HTTP/1.1\r\nHost: x\r\n\r\n";
static const char h2_req[] = ":method: POST\r\n:path: /p.S/M\r\n"
			     "content-type: application/grpc\r\n\r\n";
static const char redis_req[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
static const char mysql_cols[] = "[{\"name\":\"a\",\"type\":\"LONG\"},"
				 "{\"name\":\"b\",\"type\":\"VAR_STRING\"}]";

struct part {
	const uint8_t *p;
	size_t len;
};

static size_t split(const uint8_t *data, size_t size, struct part *parts,
		    size_t max)
{
	size_t n = 0;

	while (n < max - 1) {
		const uint8_t *sep = memmem(data, size, "\n#\n", 3);

		if (!sep)
			break;
		parts[n].p = data;
		parts[n].len = (size_t)(sep - data);
		n++;
		size -= (size_t)(sep - data) + 3;
		data = sep + 3;
	}
	parts[n].p = data;
	parts[n].len = size;
	return n + 1;
}

static void set_attr_n(struct dt_exchange *x, const char *key,
		       const struct part *v)
{
	char *s = strndup((const char *)v->p, v->len);

	if (s)
		dt_exchange_set_attr(x, key, s);
	free(s);
}

/* A stored HTTP/2 response, and the attributes that go with it. */
static void make_h2(struct dt_exchange *x, const struct part *resp)
{
	const uint8_t *sep = memmem(resp->p, resp->len, "\n@\n", 3);
	struct part trailers;

	dt_exchange_set_request(x, h2_req, sizeof(h2_req) - 1);
	dt_exchange_set_attr(x, "method", "POST");
	dt_exchange_set_attr(x, "path", "/p.S/M");
	if (!sep) {
		dt_exchange_set_response(x, resp->p, resp->len);
		return;
	}
	dt_exchange_set_response(x, resp->p, (size_t)(sep - resp->p));
	trailers.p = sep + 3;
	trailers.len = resp->len - (size_t)(sep - resp->p) - 3;
	set_attr_n(x, "h2.trailers", &trailers);
	set_attr_n(x, "grpc.status", &trailers);
}

static void make(struct dt_exchange *x, uint32_t protocol, uint64_t id,
		 uint64_t link, const struct part *resp)
{
	dt_exchange_init(x);
	x->protocol = protocol;
	x->id = id;
	x->link_id = link;
	if (protocol == DT_PROTO_HTTP2) {
		make_h2(x, resp);
		return;
	}
	if (protocol == DT_PROTO_HTTP1) {
		dt_exchange_set_request(x, http_req, sizeof(http_req) - 1);
	} else if (protocol == DT_PROTO_REDIS) {
		dt_exchange_set_request(x, redis_req, sizeof(redis_req) - 1);
	} else {
		dt_exchange_set_attr(x, "request.sql", "SELECT a, b FROM t");
		dt_exchange_set_attr(x, "response.kind", "resultset");
		dt_exchange_set_attr(x, "response.columns", mysql_cols);
		dt_exchange_set_attr(x, "response.rows", "3");
		set_attr_n(x, "response.preview", resp);
		return;
	}
	dt_exchange_set_response(x, resp->p, resp->len);
}

static void write_reports(const struct dt_diff_report *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	dt_diff_write_text(f, r);
	dt_diff_write_json(f, r);
	dt_diff_write_junit(f, r);
	fclose(f);
	/* nothing from the input reaches a report raw */
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)text[i] >= 0x20 || text[i] == '\n' ||
		      text[i] == '\t');
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t protocols[] = {
		DT_PROTO_HTTP1, DT_PROTO_REDIS, DT_PROTO_MYSQL, DT_PROTO_HTTP2,
	};
	struct dt_diff_rules *rules = NULL;
	struct dt_diff_opts opts = { 0 };
	struct dt_exchange rec, rep, rep2;
	struct dt_diff_report *r;
	struct part parts[3];
	struct dt_diff *d;
	char err[128];
	uint32_t protocol;

	if (size < 1)
		return 0;
	protocol = protocols[data[0] & 3];
	for (size_t i = 0; i < 3; i++)
		parts[i] = (struct part){ (const uint8_t *)"", 0 };
	split(data + 1, size - 1, parts, 3);
	if (data[0] & 8)
		CHECK(!dt_diff_rules_parse(rules_text, sizeof(rules_text) - 1,
					   &rules, err, sizeof(err)));
	opts.rules = rules;
	opts.unordered_rows = data[0] & 4;
	make(&rec, protocol, 1, 0, &parts[0]);
	rec.flags = (uint32_t)(data[0] >> 5) & (DT_XF_TRUNCATED |
						DT_XF_SENDFILE |
						DT_XF_MIDSTREAM);
	make(&rep, protocol, 2, 1, &parts[1]);
	make(&rep2, protocol, 3, 1, &parts[2]);
	if (dt_diff_new(&d, &opts) == 0) {
		if (data[0] & 16)
			dt_diff_learn(d, &rec, &rep, &rep2);
		if (dt_diff_add(d, &rec, &rep) == 0 &&
		    dt_diff_finish(d, &r) == 0) {
			CHECK(r->exchanges == 1);
			write_reports(r);
			dt_diff_report_free(r);
		} else {
			dt_diff_free(d);
		}
	}
	dt_exchange_release(&rec);
	dt_exchange_release(&rep);
	dt_exchange_release(&rep2);
	dt_diff_rules_free(rules);
	return 0;
}
