// SPDX-License-Identifier: MIT
/*
 * Decoding one stored exchange (diff, cat): a fresh connection state fed
 * with the exchange's client and server bytes, interleaved packet by
 * packet in sequence-id order (within an exchange the sequence ids of both
 * directions count up together).
 */
#include <errno.h>

#include "formats/mysql_int.h"

struct side {
	const uint8_t *buf;
	size_t len, pos;
	bool stuck;
};

static bool side_ready(const struct side *s)
{
	return !s->stuck && s->len - s->pos >= MYSQL_HEADER_LEN;
}

/* The direction whose next packet continues the sequence; at first the
 * one that speaks first. One side is ready. */
static enum dt_mysql_dir pick(const struct side *s, bool any, uint8_t expect,
			      bool handshake)
{
	enum dt_mysql_dir d = DT_MYSQL_CLIENT;

	if (!any && handshake)
		d = DT_MYSQL_SERVER;
	if (any && side_ready(&s[DT_MYSQL_SERVER]) &&
	    s[DT_MYSQL_SERVER].buf[s[DT_MYSQL_SERVER].pos + 3] == expect)
		d = DT_MYSQL_SERVER;
	if (any && side_ready(&s[DT_MYSQL_CLIENT]) &&
	    s[DT_MYSQL_CLIENT].buf[s[DT_MYSQL_CLIENT].pos + 3] == expect)
		d = DT_MYSQL_CLIENT;
	return side_ready(&s[d]) ? d : (enum dt_mysql_dir)!d;
}

static int feed_all(struct dt_mysql_conn *c, struct side *s, bool handshake)
{
	bool any = false;
	uint8_t expect = 0;

	while (side_ready(&s[0]) || side_ready(&s[1])) {
		enum dt_mysql_dir d = pick(s, any, expect, handshake);
		struct side *sd = &s[d];
		const uint8_t *p = sd->buf + sd->pos;
		size_t left = sd->len - sd->pos;
		size_t n = MYSQL_HEADER_LEN + (size_t)mysql_le(p, 3);
		size_t used;
		int ret;

		ret = dt_mysql_feed(c, d, sd->pos, p, n < left ? n : left,
				    &used);
		if (ret)
			return ret;
		if (!used)
			sd->stuck = true;
		expect = (uint8_t)(p[3] + 1);
		sd->pos += used;
		any = true;
	}
	return 0;
}

int dt_mysql_decode_exchange(const uint8_t *req, size_t req_len,
			     const uint8_t *resp, size_t resp_len,
			     uint64_t caps, const struct dt_mysql_opts *opts,
			     struct dt_mysql_summary **out)
{
	struct side s[2] = {
		[DT_MYSQL_CLIENT] = { .buf = req, .len = req ? req_len : 0 },
		[DT_MYSQL_SERVER] = { .buf = resp, .len = resp ? resp_len : 0 },
	};
	bool handshake = resp && resp_len > MYSQL_HEADER_LEN &&
			 resp[3] == 0 && (resp[4] == 10 || resp[4] == 0xff) &&
			 !(req_len > MYSQL_HEADER_LEN && req[3] == 0);
	struct dt_mysql_opts o;
	struct dt_mysql_event ev;
	struct dt_mysql_conn *c;
	int ret;

	*out = NULL;
	if (opts)
		o = *opts;
	else
		dt_mysql_opts_init(&o);
	o.midstream = false;
	ret = dt_mysql_conn_new(&c, &o);
	if (ret)
		return ret;
	if (!handshake)
		dt_mysql_conn_assume_command_phase(c, caps);
	ret = feed_all(c, s, handshake);
	if (!ret)
		ret = dt_mysql_close(c);
	if (!ret && dt_mysql_next_event(c, &ev) == 1) {
		*out = ev.summary;
	} else if (!ret) {
		ret = -EBADMSG;
	}
	dt_mysql_conn_free(c);
	return ret;
}
