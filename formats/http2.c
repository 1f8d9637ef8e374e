// SPDX-License-Identifier: MIT
/*
 * HTTP/2 framing: the client preface, frame headers and the fixed fields
 * of each frame type (RFC 9113 section 6), one direction's framer and the
 * search for a frame boundary in a stream joined part-way through.
 */
#include <errno.h>
#include <string.h>

#include "formats/formats.h"

/* Frames a resync candidate may be: the initial SETTINGS_MAX_FRAME_SIZE,
 * which most peers never raise. */
#define RESYNC_MAX_FRAME DT_H2_DEFAULT_MAX_FRAME

static uint32_t get_u24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get_u31(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3]) & 0x7fffffffu;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int dt_h2_preface_check(const uint8_t *buf, size_t len)
{
	size_t n = len < DT_H2_PREFACE_LEN ? len : DT_H2_PREFACE_LEN;

	if (memcmp(buf, DT_H2_PREFACE, n))
		return -EBADMSG;
	return n == DT_H2_PREFACE_LEN;
}

const char *dt_h2_frame_type_name(uint8_t type)
{
	static const char *const names[] = {
		"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
		"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE",
		"CONTINUATION",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] :
							 "UNKNOWN";
}

const char *dt_h2_error_name(uint32_t code)
{
	static const char *const names[] = {
		"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR",
		"FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
		"FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
		"COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
		"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

/* Whether the type belongs to a stream (1), to the connection (0), or to
 * either (-1: WINDOW_UPDATE, unknown types). */
static int type_needs_stream(uint8_t type)
{
	switch (type) {
	case DT_H2_DATA: case DT_H2_HEADERS: case DT_H2_PRIORITY:
	case DT_H2_RST_STREAM: case DT_H2_PUSH_PROMISE:
	case DT_H2_CONTINUATION:
		return 1;
	case DT_H2_SETTINGS: case DT_H2_PING: case DT_H2_GOAWAY:
		return 0;
	}
	return -1;
}

/* Whether the payload size suits the type (some have fixed sizes). */
static bool length_allowed(uint8_t type, uint8_t flags, uint32_t length)
{
	switch (type) {
	case DT_H2_PRIORITY:
		return length == 5;
	case DT_H2_RST_STREAM: case DT_H2_WINDOW_UPDATE:
		return length == 4;
	case DT_H2_PING:
		return length == 8;
	case DT_H2_SETTINGS:
		return length % 6 == 0 && (!(flags & DT_H2_FLAG_ACK) ||
					   length == 0);
	case DT_H2_GOAWAY:
		return length >= 8;
	}
	return true;
}

static bool header_valid(uint8_t type, uint8_t flags, uint32_t length,
			 uint32_t stream_id)
{
	int needs = type_needs_stream(type);

	if (needs == 1 && stream_id == 0)
		return false;
	if (needs == 0 && stream_id != 0)
		return false;
	return length_allowed(type, flags, length);
}

/* Strips the pad length byte and the padding of a PADDED frame. */
static int strip_padding(struct dt_h2_frame *f)
{
	if (!(f->flags & DT_H2_FLAG_PADDED))
		return 0;
	if (f->payload.len < 1)
		return -EBADMSG;
	f->pad_len = f->payload.ptr[0];
	if ((size_t)f->pad_len >= f->payload.len)
		return -EBADMSG;
	f->payload.ptr++;
	f->payload.len -= 1 + f->pad_len;
	return 0;
}

static void take_priority(struct dt_h2_frame *f)
{
	const uint8_t *p = f->payload.ptr;

	f->exclusive = p[0] & 0x80;
	f->dependency = get_u31(p);
	f->weight = p[4];
	f->payload.ptr += 5;
	f->payload.len -= 5;
}

/* The fields that follow the frame header, per type. */
static int parse_fields(struct dt_h2_frame *f)
{
	const uint8_t *p = f->payload.ptr;

	switch (f->type) {
	case DT_H2_DATA:
		return strip_padding(f);
	case DT_H2_HEADERS:
		if (strip_padding(f))
			return -EBADMSG;
		if (!(f->flags & DT_H2_FLAG_PRIORITY))
			return 0;
		if (f->payload.len < 5)
			return -EBADMSG;
		take_priority(f);
		return 0;
	case DT_H2_PRIORITY:
		take_priority(f);
		return 0;
	case DT_H2_RST_STREAM:
		f->error_code = get_u32(p);
		return 0;
	case DT_H2_PUSH_PROMISE:
		if (strip_padding(f) || f->payload.len < 4)
			return -EBADMSG;
		f->promised_id = get_u31(f->payload.ptr);
		f->payload.ptr += 4;
		f->payload.len -= 4;
		return f->promised_id ? 0 : -EBADMSG;
	case DT_H2_GOAWAY:
		f->last_stream_id = get_u31(p);
		f->error_code = get_u32(p + 4);
		f->payload.ptr += 8;
		f->payload.len -= 8;
		return 0;
	case DT_H2_WINDOW_UPDATE:
		f->window_increment = get_u31(p);
		return 0;
	}
	return 0;
}

ssize_t dt_h2_frame_parse(const uint8_t *buf, size_t len,
			  uint32_t max_frame_size, struct dt_h2_frame *f)
{
	uint32_t length;

	if (max_frame_size == 0)
		max_frame_size = DT_H2_DEFAULT_MAX_FRAME;
	if (max_frame_size > DT_H2_MAX_FRAME)
		max_frame_size = DT_H2_MAX_FRAME;
	if (len < DT_H2_FRAME_HEADER_LEN)
		return 0;
	length = get_u24(buf);
	if (length > max_frame_size)
		return -E2BIG;
	memset(f, 0, sizeof(*f));
	f->length = length;
	f->type = buf[3];
	f->flags = buf[4];
	f->stream_id = get_u31(buf + 5);
	if (!header_valid(f->type, f->flags, length, f->stream_id))
		return -EBADMSG;
	if (len - DT_H2_FRAME_HEADER_LEN < length)
		return 0;
	f->payload.ptr = buf + DT_H2_FRAME_HEADER_LEN;
	f->payload.len = length;
	if (parse_fields(f))
		return -EBADMSG;
	return DT_H2_FRAME_HEADER_LEN + (ssize_t)length;
}

void dt_h2_framer_init(struct dt_h2_framer *fr, bool is_client,
		       bool midstream)
{
	fr->expect_preface = is_client && !midstream;
	fr->max_frame_size = midstream ? DT_H2_MAX_FRAME :
					 DT_H2_DEFAULT_MAX_FRAME;
}

ssize_t dt_h2_framer_next(struct dt_h2_framer *fr, const uint8_t *buf,
			  size_t len, struct dt_h2_frame *f, bool *is_preface)
{
	int rc;

	*is_preface = false;
	if (fr->expect_preface) {
		if (len == 0)
			return 0;
		rc = dt_h2_preface_check(buf, len);
		if (rc <= 0)
			return rc;
		fr->expect_preface = false;
		*is_preface = true;
		return DT_H2_PREFACE_LEN;
	}
	return dt_h2_frame_parse(buf, len, fr->max_frame_size, f);
}

int dt_h2_framer_set_max_frame(struct dt_h2_framer *fr, uint32_t value)
{
	if (value < DT_H2_DEFAULT_MAX_FRAME || value > DT_H2_MAX_FRAME)
		return -EBADMSG;
	if (value > fr->max_frame_size)
		fr->max_frame_size = value;
	return 0;
}

/* A frame header a resync may stop at: a known type, with the stream id
 * and length it allows. Padding is not checked: the payload may not have
 * arrived. */
static bool resync_header_plausible(const uint8_t *p)
{
	uint32_t length = get_u24(p);

	if (p[3] > DT_H2_CONTINUATION || (p[5] & 0x80))
		return false;
	if (length > RESYNC_MAX_FRAME)
		return false;
	return header_valid(p[3], p[4], length, get_u31(p + 5));
}

/* A candidate is a plausible header whose frame ends at or past the end
 * of buf, or is followed by another plausible header (or its start). */
static bool resync_candidate(const uint8_t *buf, size_t len)
{
	size_t next;

	if (len < DT_H2_FRAME_HEADER_LEN)
		return true;
	if (!resync_header_plausible(buf))
		return false;
	next = DT_H2_FRAME_HEADER_LEN + get_u24(buf);
	if (next >= len)
		return true;
	if (len - next < DT_H2_FRAME_HEADER_LEN)
		return true;
	return resync_header_plausible(buf + next);
}

size_t dt_h2_resync(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (resync_candidate(buf + i, len - i))
			return i;
	return len;
}
