// SPDX-License-Identifier: MIT
/*
 * Feeding the codec: cutting each direction into packets (3-byte length,
 * sequence id, payload), joining the packets of payloads of 16 MiB and
 * more, skipping bytes while out of sync, and noticing gaps.
 *
 * Packets are consumed whole, so the caller keeps at most one packet of
 * unconsumed bytes per direction. A payload that spans packets is decoded
 * from a copy of its first MYSQL_PREFIX_MAX bytes: summaries need no more,
 * and nothing else of it is kept.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mysql_int.h"

enum packet_result {
	PACKET_NEED_MORE = 0,
	PACKET_CONSUMED,
	PACKET_RETRY,      /* the mode changed: look at the bytes again */
};

static int handle_payload(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
			  const struct mysql_payload *pl)
{
	if (dir == DT_MYSQL_CLIENT)
		return dt_mysql_client_payload(c, pl);
	return dt_mysql_server_payload(c, pl);
}

static int assembly_append(struct mysql_assembly *as, const uint8_t *p,
			   size_t n)
{
	size_t room;

	if (!as->prefix) {
		as->prefix = malloc(MYSQL_PREFIX_MAX);
		if (!as->prefix)
			return -ENOMEM;
	}
	room = MYSQL_PREFIX_MAX - as->prefix_len;
	if (n > room)
		n = room;
	memcpy(as->prefix + as->prefix_len, p, n);
	as->prefix_len += n;
	return 0;
}

/* One physical packet of plen payload bytes at p (header included) that
 * started at stream offset start: part of a multi-packet payload, or a
 * whole payload. */
static int packet(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
		  const uint8_t *p, uint32_t plen, uint64_t start)
{
	struct mysql_direction *d = &c->dir[dir];
	struct mysql_assembly *as = &d->as;
	uint8_t seq = p[3];
	uint64_t end = start + MYSQL_HEADER_LEN + plen;
	struct mysql_payload pl;
	uint8_t *prefix;
	int ret;

	if (as->active && seq != as->next_seq)
		return dt_mysql_malformed(c, dir);
	if (!as->active && plen < MYSQL_MAX_PACKET) {
		pl = (struct mysql_payload){
			.data = p + MYSQL_HEADER_LEN, .len = plen,
			.total = plen, .seq = seq, .last_seq = seq,
			.start = start, .end = end,
		};
		return handle_payload(c, dir, &pl);
	}
	if (!as->active) {
		as->active = true;
		as->start = start;
		as->seq = seq;
		as->total = 0;
		as->prefix_len = 0;
	}
	ret = assembly_append(as, p + MYSQL_HEADER_LEN, plen);
	if (ret)
		return ret;
	as->total += plen;
	as->next_seq = (uint8_t)(seq + 1);
	if (plen == MYSQL_MAX_PACKET)
		return 0;
	/* the handler owns the copy now (losing sync resets the assembly);
	 * payloads this large are rare: it is not kept for the next one */
	prefix = as->prefix;
	pl = (struct mysql_payload){
		.data = prefix, .len = as->prefix_len, .total = as->total,
		.seq = as->seq, .last_seq = seq, .start = as->start,
		.end = end,
	};
	memset(as, 0, sizeof(*as));
	ret = handle_payload(c, dir, &pl);
	free(prefix);
	/* its first packets are consumed: a retry would skip it anyway */
	return ret == MYSQL_RETRY ? 0 : ret;
}

static int next_packet(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
		       const uint8_t *p, size_t avail, size_t *used)
{
	struct mysql_direction *d = &c->dir[dir];
	uint32_t plen;
	uint64_t start;
	int ret;

	*used = 0;
	if (avail < MYSQL_HEADER_LEN)
		return PACKET_NEED_MORE;
	plen = (uint32_t)mysql_le(p, 3);
	if (plen && avail == MYSQL_HEADER_LEN)
		return PACKET_NEED_MORE;   /* the first byte tells the kind */
	if (!d->as.active &&
	    !dt_mysql_expects(c, dir, p[3], p + MYSQL_HEADER_LEN,
			      plen ? avail - MYSQL_HEADER_LEN : 0))
		return PACKET_RETRY;
	if (avail - MYSQL_HEADER_LEN < plen)
		return PACKET_NEED_MORE;
	/* the stream offset moves past the packet after its handler ran:
	 * what the handler reports as empty lies before the packet */
	*used = MYSQL_HEADER_LEN + (size_t)plen;
	start = d->off;
	ret = packet(c, dir, p, plen, start);
	if (ret == MYSQL_RETRY) {
		*used = 0;
		return PACKET_RETRY;
	}
	d->off = start + *used;
	return ret < 0 ? ret : PACKET_CONSUMED;
}

/*
 * Client bytes while out of sync: returns how many to skip, switching to
 * sync mode when the next bytes are a command packet: the first complete
 * plausible one. Without one, the first candidate that may still become
 * one (not all of it arrived) is kept for the next call. A complete
 * candidate after it wins: the bytes of a real command could not hold one.
 * Each call looks at fewer than MYSQL_RESYNC_MAX + 4 bytes more than it
 * skips, and candidates' text checks stop at the next candidate's
 * sequence byte (a 0, which is not text), so a call costs O(bytes).
 */
static size_t resync_scan(struct dt_mysql_conn *c, const uint8_t *p,
			  size_t avail)
{
	size_t i, wait = SIZE_MAX;

	for (i = 0; avail - i >= MYSQL_HEADER_LEN; i++) {
		uint32_t plen = (uint32_t)mysql_le(p + i, 3);
		size_t body = avail - i - MYSQL_HEADER_LEN;
		int verdict;

		if (p[i + 3] != 0 || !plen || plen > MYSQL_RESYNC_MAX)
			continue;
		verdict = dt_mysql_plausible_command(
			p[i + 3], plen, p + i + MYSQL_HEADER_LEN,
			body < plen ? body : plen);
		if (verdict == 1 && body >= plen) {
			c->dir[DT_MYSQL_CLIENT].mode = MODE_SYNC;
			return i;
		}
		if (verdict && wait == SIZE_MAX)
			wait = i;
	}
	return wait != SIZE_MAX ? wait : i;
}

static void skip(struct dt_mysql_conn *c, enum dt_mysql_dir dir, size_t n)
{
	c->dir[dir].off += n;
	c->stats.skipped[dir] += n;
}

/* Bytes between the consumed ones and off never arrived. */
static int gap(struct dt_mysql_conn *c, enum dt_mysql_dir dir, uint64_t off)
{
	int ret = 0;

	if (!c->unsupported)
		ret = dt_mysql_lose_sync(c, dir == DT_MYSQL_CLIENT,
					 DT_XF_INCOMPLETE);
	c->dir[dir].off = off;
	return ret;
}

int dt_mysql_feed(struct dt_mysql_conn *c, enum dt_mysql_dir dir,
		  uint64_t off, const uint8_t *buf, size_t len,
		  size_t *consumed)
{
	struct mysql_direction *d;
	size_t pos = 0, n;
	int ret = 0;

	*consumed = 0;
	if (dir != DT_MYSQL_CLIENT && dir != DT_MYSQL_SERVER)
		return -EINVAL;
	d = &c->dir[dir];
	if (!d->started) {
		d->started = true;
		d->off = off;
	} else if (off < d->off) {
		return -EINVAL;
	} else if (off > d->off) {
		ret = gap(c, dir, off);
	}
	while (!ret && pos < len) {
		if (c->unsupported || (d->mode == MODE_DISCARD && !c->head)) {
			skip(c, dir, len - pos);
			pos = len;
			break;
		}
		if (d->mode == MODE_DISCARD)
			d->mode = MODE_SYNC;
		if (d->mode == MODE_RESYNC) {
			n = resync_scan(c, buf + pos, len - pos);
			skip(c, dir, n);
			pos += n;
			if (d->mode == MODE_RESYNC)
				break;
			continue;
		}
		ret = next_packet(c, dir, buf + pos, len - pos, &n);
		pos += n;
		if (ret == PACKET_NEED_MORE)
			break;
		if (ret > 0)
			ret = 0;
	}
	*consumed = pos;
	return ret < 0 ? ret : 0;
}
