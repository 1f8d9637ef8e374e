// SPDX-License-Identifier: MIT
/*
 * record_codec.c: the encodings the session writer and reader share:
 * exchange records, key/value lists, the growable buffer both build
 * frames in, and the CRC32C that guards every block of a session file.
 * Layouts are described in session_format.h and man/deetune-session.5.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/session_format.h"

/* Reflected CRC32C, polynomial 0x82f63b78 (as in iSCSI, ext4, SCTP). */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t dt_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

int dt_buf_reserve(struct dt_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *data;

	if (extra > SIZE_MAX - b->len)
		return -ENOMEM;
	if (b->len + extra <= b->cap)
		return 0;
	while (cap < b->len + extra)
		cap = cap > SIZE_MAX / 2 ? b->len + extra : cap * 2;
	data = realloc(b->data, cap);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

void dt_buf_release(struct dt_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void dt_attrs_free(struct dt_attr *attrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(attrs[i].key);
		free(attrs[i].value);
	}
	free(attrs);
}

int dt_errorf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* --- key/value lists ---------------------------------------------------- */

int dt_kv_size(const struct dt_attr *kv, size_t n, size_t *size)
{
	size_t total = 4;

	if (n > DT_KV_MAX_PAIRS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		size_t klen, vlen;

		if (!kv[i].key || !kv[i].value)
			return -EINVAL;
		klen = strlen(kv[i].key);
		vlen = strlen(kv[i].value);
		if (klen > DT_HEADER_MAX_LEN || vlen > DT_HEADER_MAX_LEN)
			return -E2BIG;
		total += 8 + klen + vlen;
		if (total > DT_HEADER_MAX_LEN)
			return -E2BIG;
	}
	*size = total;
	return 0;
}

static uint8_t *put_string(uint8_t *dst, const char *s)
{
	size_t len = strlen(s);

	dt_put_u32(dst, (uint32_t)len);
	memcpy(dst + 4, s, len);
	return dst + 4 + len;
}

uint8_t *dt_kv_encode(uint8_t *dst, const struct dt_attr *kv, size_t n)
{
	dt_put_u32(dst, (uint32_t)n);
	dst += 4;
	for (size_t i = 0; i < n; i++) {
		dst = put_string(dst, kv[i].key);
		dst = put_string(dst, kv[i].value);
	}
	return dst;
}

/* A NUL-terminated copy of src[0..len), or NULL on ENOMEM. */
static char *dup_string(const uint8_t *src, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, src, len);
		s[len] = '\0';
	}
	return s;
}

/*
 * Reads one u32-length-prefixed string at src[*pos..len) into *out
 * (caller-owned). Strings holding a NUL are rejected: they could not
 * round-trip through a C string.
 */
static int get_string(const uint8_t *src, size_t len, size_t *pos, char **out,
		      char *err, size_t errlen)
{
	size_t slen;

	if (len - *pos < 4)
		return dt_errorf(err, errlen, -EBADMSG,
				 "string length at byte %zu runs past the list",
				 *pos);
	slen = dt_get_u32(src + *pos);
	if (slen > len - *pos - 4)
		return dt_errorf(err, errlen, -EBADMSG,
				 "string of %zu bytes at byte %zu runs past the list",
				 slen, *pos);
	if (memchr(src + *pos + 4, '\0', slen))
		return dt_errorf(err, errlen, -EBADMSG,
				 "string at byte %zu contains a NUL byte", *pos);
	*out = dup_string(src + *pos + 4, slen);
	if (!*out)
		return dt_errorf(err, errlen, -ENOMEM, "out of memory");
	*pos += 4 + slen;
	return 0;
}

int dt_kv_decode(const uint8_t *src, size_t len, struct dt_attr **out,
		 size_t *n, size_t *used, char *err, size_t errlen)
{
	struct dt_attr *kv = NULL;
	size_t count, pos = 4, i;
	int ret;

	if (len < 4)
		return dt_errorf(err, errlen, -EBADMSG,
				 "key/value count runs past the block");
	count = dt_get_u32(src);
	/* every pair takes at least 8 bytes: checked before allocating */
	if (count > DT_KV_MAX_PAIRS || count > (len - 4) / 8)
		return dt_errorf(err, errlen, -EBADMSG,
				 "key/value count %zu does not fit the block",
				 count);
	/* never NULL on success, even for an empty list */
	kv = calloc(count ? count : 1, sizeof(*kv));
	if (!kv)
		return dt_errorf(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		ret = get_string(src, len, &pos, &kv[i].key, err, errlen);
		if (ret)
			goto fail;
		ret = get_string(src, len, &pos, &kv[i].value, err, errlen);
		if (ret)
			goto fail;
	}
	*out = kv;
	*n = count;
	*used = pos;
	return 0;

fail:
	/* pair i may hold a key without value; free() takes the NULL */
	dt_attrs_free(kv, i + 1);
	return ret;
}

/* --- exchange records --------------------------------------------------- */

/* Value sizes of fixed-size fields; 0 for variable ones. */
static const uint32_t fixed_len[DT_TAG_MAX_KNOWN + 1] = {
	[DT_TAG_ID] = 8,
	[DT_TAG_CONN_ID] = 8,
	[DT_TAG_LINK_ID] = 8,
	[DT_TAG_PROTOCOL] = 4,
	[DT_TAG_FLAGS] = 4,
	[DT_TAG_CLIENT] = DT_ENDPOINT_LEN,
	[DT_TAG_SERVER] = DT_ENDPOINT_LEN,
	[DT_TAG_REQ_START] = 8,
	[DT_TAG_REQ_END] = 8,
	[DT_TAG_RESP_START] = 8,
	[DT_TAG_RESP_END] = 8,
};

/* Everything but attrs, request and response bytes: 7 u64 fields (ids,
 * timestamps), 2 u32 fields, 2 endpoints, 2 byte-field headers. */
#define RECORD_FIXED_LEN \
	(DT_RECORD_PREFIX_LEN + 7 * (DT_FIELD_HEADER_LEN + 8) + \
	 2 * (DT_FIELD_HEADER_LEN + 4) + \
	 2 * (DT_FIELD_HEADER_LEN + DT_ENDPOINT_LEN) + 2 * DT_FIELD_HEADER_LEN)

static bool family_known(uint8_t family)
{
	return family == DT_FAMILY_NONE || family == DT_FAMILY_IPV4 ||
	       family == DT_FAMILY_IPV6 || family == DT_FAMILY_UNIX;
}

/* Bytes of an endpoint's path field, 0 when it has none. */
static size_t path_len(const struct dt_endpoint *ep)
{
	if (ep->family != DT_FAMILY_UNIX)
		return 0;
	return strnlen(ep->path, sizeof(ep->path) - 1);
}

int dt_record_size(const struct dt_exchange *x, size_t *size)
{
	size_t total = RECORD_FIXED_LEN;

	if (x->nattrs > DT_RECORD_MAX_ATTRS)
		return -E2BIG;
	/* what the reader would refuse is refused here */
	if ((x->nattrs && !x->attrs) || (x->request_len && !x->request) ||
	    (x->response_len && !x->response) ||
	    !family_known(x->client.family) || !family_known(x->server.family))
		return -EINVAL;
	if (x->request_len > DT_FRAME_MAX_RAW ||
	    x->response_len > DT_FRAME_MAX_RAW)
		return -E2BIG;
	total += x->request_len + x->response_len;
	if (path_len(&x->client))
		total += DT_FIELD_HEADER_LEN + path_len(&x->client);
	if (path_len(&x->server))
		total += DT_FIELD_HEADER_LEN + path_len(&x->server);
	for (size_t i = 0; i < x->nattrs; i++) {
		if (!x->attrs[i].key || !x->attrs[i].value)
			return -EINVAL;
		total += DT_FIELD_HEADER_LEN + 4 + strlen(x->attrs[i].key) +
			 strlen(x->attrs[i].value);
		if (total > DT_FRAME_MAX_RAW)
			return -E2BIG;
	}
	if (total > DT_FRAME_MAX_RAW)
		return -E2BIG;
	*size = total;
	return 0;
}

static uint8_t *put_field(uint8_t *dst, unsigned int tag, const void *val,
			  size_t len)
{
	dt_put_u16(dst, (uint16_t)tag);
	dt_put_u32(dst + 2, (uint32_t)len);
	if (len)
		memcpy(dst + DT_FIELD_HEADER_LEN, val, len);
	return dst + DT_FIELD_HEADER_LEN + len;
}

static uint8_t *put_u32_field(uint8_t *dst, unsigned int tag, uint32_t v)
{
	uint8_t val[4];

	dt_put_u32(val, v);
	return put_field(dst, tag, val, sizeof(val));
}

static uint8_t *put_u64_field(uint8_t *dst, unsigned int tag, uint64_t v)
{
	uint8_t val[8];

	dt_put_u64(val, v);
	return put_field(dst, tag, val, sizeof(val));
}

static uint8_t *put_endpoint(uint8_t *dst, unsigned int tag,
			     const struct dt_endpoint *ep)
{
	uint8_t val[DT_ENDPOINT_LEN] = { 0 };

	val[DT_EP_FAMILY_AT] = ep->family;
	memcpy(val + DT_EP_ADDR_AT, ep->addr, sizeof(ep->addr));
	dt_put_u16(val + DT_EP_PORT_AT, ep->port);
	dt_put_u32(val + DT_EP_PID_AT, ep->pid);
	/* the bytes after comm's NUL are not part of the name */
	memcpy(val + DT_EP_COMM_AT, ep->comm,
	       strnlen(ep->comm, sizeof(ep->comm) - 1));
	dt_put_u64(val + DT_EP_CGROUP_AT, ep->cgroup_id);
	return put_field(dst, tag, val, sizeof(val));
}

static uint8_t *put_attr(uint8_t *dst, const struct dt_attr *a)
{
	size_t klen = strlen(a->key), vlen = strlen(a->value);

	dt_put_u16(dst, DT_TAG_ATTR);
	dt_put_u32(dst + 2, (uint32_t)(4 + klen + vlen));
	dst = put_string(dst + DT_FIELD_HEADER_LEN, a->key);
	memcpy(dst, a->value, vlen);
	return dst + vlen;
}

size_t dt_record_encode(uint8_t *dst, const struct dt_exchange *x)
{
	uint8_t *p = dst + DT_RECORD_PREFIX_LEN;

	p = put_u64_field(p, DT_TAG_ID, x->id);
	p = put_u64_field(p, DT_TAG_CONN_ID, x->conn_id);
	p = put_u64_field(p, DT_TAG_LINK_ID, x->link_id);
	p = put_u32_field(p, DT_TAG_PROTOCOL, x->protocol);
	p = put_u32_field(p, DT_TAG_FLAGS, x->flags);
	p = put_endpoint(p, DT_TAG_CLIENT, &x->client);
	p = put_endpoint(p, DT_TAG_SERVER, &x->server);
	if (path_len(&x->client))
		p = put_field(p, DT_TAG_CLIENT_PATH, x->client.path,
			      path_len(&x->client));
	if (path_len(&x->server))
		p = put_field(p, DT_TAG_SERVER_PATH, x->server.path,
			      path_len(&x->server));
	p = put_u64_field(p, DT_TAG_REQ_START, x->req_start_ns);
	p = put_u64_field(p, DT_TAG_REQ_END, x->req_end_ns);
	p = put_u64_field(p, DT_TAG_RESP_START, x->resp_start_ns);
	p = put_u64_field(p, DT_TAG_RESP_END, x->resp_end_ns);
	for (size_t i = 0; i < x->nattrs; i++)
		p = put_attr(p, &x->attrs[i]);
	p = put_field(p, DT_TAG_REQUEST, x->request, x->request_len);
	p = put_field(p, DT_TAG_RESPONSE, x->response, x->response_len);
	dt_put_u32(dst, (uint32_t)(p - dst - DT_RECORD_PREFIX_LEN));
	return (size_t)(p - dst);
}

struct field {
	unsigned int tag;
	const uint8_t *val;
	size_t len;
	size_t offset; /* of the field within the record body */
};

struct field_iter {
	const uint8_t *body;
	size_t len;
	size_t pos;
};

/* 1 with the next field in *f, 0 at the end, -EBADMSG when cut short. */
static int next_field(struct field_iter *it, struct field *f, char *err,
		      size_t errlen)
{
	size_t left = it->len - it->pos;

	if (!left)
		return 0;
	if (left < DT_FIELD_HEADER_LEN)
		return dt_errorf(err, errlen, -EBADMSG,
				 "field header at byte %zu cut short", it->pos);
	f->tag = dt_get_u16(it->body + it->pos);
	f->len = dt_get_u32(it->body + it->pos + 2);
	f->offset = it->pos;
	if (f->len > left - DT_FIELD_HEADER_LEN)
		return dt_errorf(err, errlen, -EBADMSG,
				 "field 0x%04x at byte %zu: %zu bytes, %zu left",
				 f->tag, it->pos, f->len,
				 left - DT_FIELD_HEADER_LEN);
	f->val = it->body + it->pos + DT_FIELD_HEADER_LEN;
	it->pos += DT_FIELD_HEADER_LEN + f->len;
	return 1;
}

/*
 * First pass: checks the TLV structure, field sizes, repeats and
 * critical tags, and counts attrs so the second pass allocates once.
 */
static int check_fields(const uint8_t *body, size_t len, size_t *nattrs,
			char *err, size_t errlen)
{
	struct field_iter it = { body, len, 0 };
	uint32_t seen = 0;
	struct field f;
	int ret;

	*nattrs = 0;
	while ((ret = next_field(&it, &f, err, errlen)) > 0) {
		if (f.tag > DT_TAG_MAX_KNOWN || f.tag == 0) {
			if (f.tag & DT_TAG_CRITICAL)
				return dt_errorf(err, errlen, -ENOTSUP,
						 "unknown critical field 0x%04x at byte %zu",
						 f.tag, f.offset);
			continue;
		}
		if (f.tag == DT_TAG_ATTR) {
			if (++*nattrs > DT_RECORD_MAX_ATTRS)
				return dt_errorf(err, errlen, -EBADMSG,
						 "more than %u attrs",
						 DT_RECORD_MAX_ATTRS);
			continue;
		}
		if (seen & (1u << f.tag))
			return dt_errorf(err, errlen, -EBADMSG,
					 "field 0x%04x repeated at byte %zu",
					 f.tag, f.offset);
		seen |= 1u << f.tag;
		if (fixed_len[f.tag] && f.len != fixed_len[f.tag])
			return dt_errorf(err, errlen, -EBADMSG,
					 "field 0x%04x at byte %zu: %zu bytes, expected %u",
					 f.tag, f.offset, f.len, fixed_len[f.tag]);
	}
	return ret;
}

static int get_endpoint(const struct field *f, struct dt_endpoint *ep,
			char *err, size_t errlen)
{
	const uint8_t *v = f->val;
	uint8_t family = v[DT_EP_FAMILY_AT];

	if (!family_known(family))
		return dt_errorf(err, errlen, -EBADMSG,
				 "endpoint at byte %zu: unknown family %u",
				 f->offset, family);
	if (!memchr(v + DT_EP_COMM_AT, '\0', sizeof(ep->comm)))
		return dt_errorf(err, errlen, -EBADMSG,
				 "endpoint at byte %zu: process name not terminated",
				 f->offset);
	ep->family = family;
	memcpy(ep->addr, v + DT_EP_ADDR_AT, sizeof(ep->addr));
	ep->port = dt_get_u16(v + DT_EP_PORT_AT);
	ep->pid = dt_get_u32(v + DT_EP_PID_AT);
	memcpy(ep->comm, v + DT_EP_COMM_AT, sizeof(ep->comm));
	ep->cgroup_id = dt_get_u64(v + DT_EP_CGROUP_AT);
	return 0;
}

/* A Unix socket path: text without NUL, shorter than the field. */
static int get_path(const struct field *f, struct dt_endpoint *ep,
		    char *err, size_t errlen)
{
	if (f->len >= sizeof(ep->path) || memchr(f->val, '\0', f->len))
		return dt_errorf(err, errlen, -EBADMSG,
				 "socket path at byte %zu: %zu bytes or a NUL",
				 f->offset, f->len);
	memcpy(ep->path, f->val, f->len);
	ep->path[f->len] = '\0';
	return 0;
}

static int get_attr(const struct field *f, struct dt_attr *a, char *err,
		    size_t errlen)
{
	size_t pos = 0;
	int ret;

	ret = get_string(f->val, f->len, &pos, &a->key, err, errlen);
	if (ret)
		return ret;
	if (memchr(f->val + pos, '\0', f->len - pos))
		return dt_errorf(err, errlen, -EBADMSG,
				 "attr at byte %zu: value contains a NUL byte",
				 f->offset);
	a->value = dup_string(f->val + pos, f->len - pos);
	return a->value ? 0 : dt_errorf(err, errlen, -ENOMEM, "out of memory");
}

static int get_bytes(const struct field *f, uint8_t **out, size_t *outlen,
		     char *err, size_t errlen)
{
	if (!f->len)
		return 0;
	*out = malloc(f->len);
	if (!*out)
		return dt_errorf(err, errlen, -ENOMEM, "out of memory");
	memcpy(*out, f->val, f->len);
	*outlen = f->len;
	return 0;
}

/* The exchange field a u64 tag stores into, NULL for other tags. */
static uint64_t *u64_field(struct dt_exchange *x, unsigned int tag)
{
	switch (tag) {
	case DT_TAG_ID: return &x->id;
	case DT_TAG_CONN_ID: return &x->conn_id;
	case DT_TAG_LINK_ID: return &x->link_id;
	case DT_TAG_REQ_START: return &x->req_start_ns;
	case DT_TAG_REQ_END: return &x->req_end_ns;
	case DT_TAG_RESP_START: return &x->resp_start_ns;
	case DT_TAG_RESP_END: return &x->resp_end_ns;
	default: return NULL;
	}
}

/* Second pass: stores one checked field into x. */
static int apply_field(struct dt_exchange *x, const struct field *f,
		       char *err, size_t errlen)
{
	uint64_t *u64 = u64_field(x, f->tag);

	if (u64) {
		*u64 = dt_get_u64(f->val);
		return 0;
	}
	switch (f->tag) {
	case DT_TAG_PROTOCOL:
		x->protocol = dt_get_u32(f->val);
		return 0;
	case DT_TAG_FLAGS:
		x->flags = dt_get_u32(f->val);
		return 0;
	case DT_TAG_CLIENT:
		return get_endpoint(f, &x->client, err, errlen);
	case DT_TAG_SERVER:
		return get_endpoint(f, &x->server, err, errlen);
	case DT_TAG_CLIENT_PATH:
		return get_path(f, &x->client, err, errlen);
	case DT_TAG_SERVER_PATH:
		return get_path(f, &x->server, err, errlen);
	case DT_TAG_ATTR:
		/* counted first, so that release frees a half-set pair */
		return get_attr(f, &x->attrs[x->nattrs++], err, errlen);
	case DT_TAG_REQUEST:
		return get_bytes(f, &x->request, &x->request_len, err, errlen);
	case DT_TAG_RESPONSE:
		return get_bytes(f, &x->response, &x->response_len, err,
				 errlen);
	default:
		return 0; /* unknown, not critical: checked in pass one */
	}
}

int dt_record_decode(const uint8_t *body, size_t len, struct dt_exchange *x,
		     char *err, size_t errlen)
{
	struct field_iter it = { body, len, 0 };
	struct field f;
	size_t nattrs;
	int ret;

	ret = check_fields(body, len, &nattrs, err, errlen);
	if (ret)
		return ret;
	if (nattrs) {
		x->attrs = calloc(nattrs, sizeof(*x->attrs));
		if (!x->attrs)
			return dt_errorf(err, errlen, -ENOMEM, "out of memory");
	}
	while (next_field(&it, &f, err, errlen) > 0) {
		ret = apply_field(x, &f, err, errlen);
		if (ret) {
			dt_exchange_release(x);
			return ret;
		}
	}
	return 0;
}
