// SPDX-License-Identifier: MIT
/*
 * gRPC responses: the call's status (grpc-status, grpc-message) and each
 * length-prefixed message, decoded as protobuf without a schema
 * (dt_pb_decode()) and compared field by field.
 *
 * Differences are named by field number, one step per nesting level:
 *   grpc.message[1].2.1     message 1 (0-based) of the body, field 1 of
 *                           the message in its field 2
 *   grpc.message[0].3[2]    the third occurrence of field 3 (a repeated
 *                           field: indexed when a side has it more than
 *                           once)
 * Rules and learned noise match these names as they match any field
 * ("grpc.message[[]*].2" ignores field 2 of every message, and what lies
 * below it). Fields compare in ascending field number, occurrences in
 * wire order. A message that is compressed or does not decode compares
 * as bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"

/* Bytes of a message shown when it compares as bytes. */
#define BYTES_SHOWN 64

/* ---- status ----------------------------------------------------------- */

static int compare_attr(struct dt_cmp *c, const char *field,
			const struct dt_exchange *rec,
			const struct dt_exchange *rep, const char *key)
{
	const char *a = dt_exchange_attr(rec, key);
	const char *b = dt_exchange_attr(rep, key);

	if (!a && !b)
		return 0;
	return dt_cmp_strings(c, field, a, a ? strlen(a) : 0, b,
			      b ? strlen(b) : 0);
}

int dt_compare_grpc_status(struct dt_cmp *c, const struct dt_exchange *rec,
			   const struct dt_exchange *rep)
{
	int ret = compare_attr(c, "grpc.status", rec, rep, "grpc.status");

	return ret ? ret : compare_attr(c, "grpc.message", rec, rep,
					"grpc.message");
}

/* ---- protobuf fields ------------------------------------------------- */

/* A field of a decoded message and its place in wire order. */
struct pb_field {
	json_int_t number;
	size_t pos;
	const json_t *obj;
};

static int by_number(const void *pa, const void *pb)
{
	const struct pb_field *a = pa, *b = pb;

	if (a->number != b->number)
		return a->number < b->number ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The fields of a decoded message sorted by number, in a new array
 * (never NULL, also when empty: the walk below offsets it). 0 or
 * -ENOMEM. */
static int pb_sorted(const json_t *msg, struct pb_field **out, size_t *n)
{
	size_t count = json_array_size(msg);
	struct pb_field *f = malloc((count ? count : 1) * sizeof(*f));

	*out = f;
	*n = count;
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const json_t *o = json_array_get(msg, i);

		f[i].number = json_integer_value(json_object_get(o, "field"));
		f[i].pos = i;
		f[i].obj = o;
	}
	qsort(f, count, sizeof(*f), by_number);
	return 0;
}

/* The member holding a field's value and its name ("message", "value",
 * "string", "bytes"). */
static const json_t *pb_value(const json_t *field, const char **kind)
{
	static const char *const kinds[] = { "message", "value", "string",
					     "bytes" };
	const json_t *v;

	for (size_t i = 0; i < 4; i++) {
		v = json_object_get(field, kinds[i]);
		if (v) {
			*kind = kinds[i];
			return v;
		}
	}
	*kind = "";
	return NULL;
}

static int pb_compare(struct dt_cmp *c, const json_t *a, const json_t *b,
		      struct dt_sbuf *path);

/* A field present on one side only, or decoded as different kinds. */
static int pb_add_item(struct dt_cmp *c, const char *path, const json_t *va,
		       const json_t *vb, const char *note)
{
	char *ea = NULL, *eb = NULL, *n = NULL;

	if ((va && !(ea = dt_json_render(va, 200))) ||
	    (vb && !(eb = dt_json_render(vb, 200))) ||
	    (note && !(n = strdup(note)))) {
		free(ea);
		free(eb);
		return -ENOMEM;
	}
	return dt_cmp_add(c, path, NULL, ea, eb, n, DT_DIFF_UNEXPLAINED);
}

static int pb_compare_field(struct dt_cmp *c, const json_t *fa,
			    const json_t *fb, struct dt_sbuf *path)
{
	const char *ka = "", *kb = "";
	const json_t *va = fa ? pb_value(fa, &ka) : NULL;
	const json_t *vb = fb ? pb_value(fb, &kb) : NULL;

	if (!fa || !fb)
		return pb_add_item(c, path->p, va, vb, NULL);
	if (strcmp(ka, kb))
		return pb_add_item(c, path->p, va, vb, "decoded as different "
				   "kinds (schemaless decoding)");
	if (!strcmp(ka, "message"))
		return pb_compare(c, va, vb, path);
	return dt_cmp_json(c, va, vb, NULL, path->p);
}

/* The occurrences fa[0..na) and fb[0..nb) of one field number. */
static int pb_compare_group(struct dt_cmp *c, const struct pb_field *fa,
			    size_t na, const struct pb_field *fb, size_t nb,
			    struct dt_sbuf *path)
{
	size_t len = path->len, n = na > nb ? na : nb;
	json_int_t number = na ? fa[0].number : fb[0].number;
	int ret = 0;

	for (size_t k = 0; !ret && k < n; k++) {
		dt_sbuf_printf(path, ".%lld", (long long)number);
		if (n > 1)
			dt_sbuf_printf(path, "[%zu]", k);
		ret = path->oom ? -ENOMEM :
		      pb_compare_field(c, k < na ? fa[k].obj : NULL,
				       k < nb ? fb[k].obj : NULL, path);
		dt_sbuf_truncate(path, len);
	}
	return ret;
}

/* Size of the run of fields with the number of f[0]. */
static size_t run_length(const struct pb_field *f, size_t n)
{
	size_t i = 1;

	while (i < n && f[i].number == f[0].number)
		i++;
	return n ? i : 0;
}

static int pb_compare(struct dt_cmp *c, const json_t *a, const json_t *b,
		      struct dt_sbuf *path)
{
	struct pb_field *fa = NULL, *fb = NULL;
	size_t na, nb, ia = 0, ib = 0, ra, rb;
	int ret;

	if (dt_json_equal(a, b))
		return 0;
	ret = pb_sorted(a, &fa, &na);
	if (!ret)
		ret = pb_sorted(b, &fb, &nb);
	while (!ret && (ia < na || ib < nb)) {
		ra = run_length(fa + ia, na - ia);
		rb = run_length(fb + ib, nb - ib);
		/* the lower number first; a number one side lacks */
		if (ra && rb && fa[ia].number < fb[ib].number)
			rb = 0;
		else if (ra && rb && fb[ib].number < fa[ia].number)
			ra = 0;
		ret = pb_compare_group(c, fa + ia, ra, fb + ib, rb, path);
		ia += ra;
		ib += rb;
	}
	free(fa);
	free(fb);
	return ret;
}

/* ---- messages ----------------------------------------------------------- */

struct grpc_body {
	struct dt_grpc_message *m;
	size_t n;
	bool framed;		/* the whole body splits into messages */
};

/* Splits body into messages (borrowing it). 0 or -ENOMEM. */
static int body_split(const uint8_t *body, size_t len, struct grpc_body *g)
{
	size_t off = 0;
	ssize_t r;

	g->n = 0;
	g->framed = true;
	/* a message takes 5 bytes at least */
	g->m = malloc((len / DT_GRPC_PREFIX_LEN + 1) * sizeof(*g->m));
	if (!g->m)
		return -ENOMEM;
	while (off < len) {
		r = dt_grpc_message_next(body + off, len - off, 0, &g->m[g->n]);
		if (r <= 0) {
			g->framed = false;
			break;
		}
		g->n++;
		off += (size_t)r;
	}
	return 0;
}

/* Two messages compared as bytes: one item with the first bytes of
 * each. */
static int compare_bytes(struct dt_cmp *c, const char *field,
			 const struct dt_grpc_message *a,
			 const struct dt_grpc_message *b, const char *why)
{
	char *ea, *eb, *note;

	if (a->data.len == b->data.len &&
	    !memcmp(a->data.ptr, b->data.ptr, a->data.len) &&
	    a->compressed == b->compressed)
		return 0;
	ea = dt_text_quoted(a->data.ptr, a->data.len, BYTES_SHOWN);
	eb = dt_text_quoted(b->data.ptr, b->data.len, BYTES_SHOWN);
	note = strdup(why);
	if (!ea || !eb || !note) {
		free(note);
		free(ea);
		free(eb);
		return -ENOMEM;
	}
	return dt_cmp_add(c, field, NULL, ea, eb, note, DT_DIFF_UNEXPLAINED);
}

/* A message one side lacks: decoded when it decodes, else its bytes. */
static char *render_message(const struct dt_grpc_message *m)
{
	json_t *j = NULL;
	char *text;

	if (m->compressed || dt_pb_decode(m->data.ptr, m->data.len, 0, &j))
		return dt_text_quoted(m->data.ptr, m->data.len, BYTES_SHOWN);
	text = dt_json_render(j, 200);
	json_decref(j);
	return text;
}

static int compare_present(struct dt_cmp *c, const char *field,
			   const struct dt_grpc_message *a,
			   const struct dt_grpc_message *b)
{
	char *ea = a ? render_message(a) : NULL;
	char *eb = b ? render_message(b) : NULL;

	if ((a && !ea) || (b && !eb)) {
		free(ea);
		free(eb);
		return -ENOMEM;
	}
	return dt_cmp_add(c, field, NULL, ea, eb, NULL, DT_DIFF_UNEXPLAINED);
}

static int compare_message(struct dt_cmp *c, struct dt_sbuf *path,
			   const struct dt_grpc_message *a,
			   const struct dt_grpc_message *b)
{
	json_t *ja = NULL, *jb = NULL;
	int ret;

	if (!a || !b)
		return compare_present(c, path->p, a, b);
	if (a->compressed || b->compressed)
		return compare_bytes(c, path->p, a, b, "compressed: compared "
				     "as bytes");
	ret = dt_pb_decode(a->data.ptr, a->data.len, 0, &ja);
	if (!ret)
		ret = dt_pb_decode(b->data.ptr, b->data.len, 0, &jb);
	if (ret == -EBADMSG)
		ret = compare_bytes(c, path->p, a, b, "not protobuf: "
				    "compared as bytes");
	else if (!ret)
		ret = pb_compare(c, ja, jb, path);
	json_decref(ja);
	json_decref(jb);
	return ret;
}

int dt_compare_grpc_messages(struct dt_cmp *c, const uint8_t *a, size_t alen,
			     const uint8_t *b, size_t blen)
{
	struct grpc_body ga = { 0 }, gb = { 0 };
	struct dt_sbuf path = { 0 };
	size_t n;
	int ret;

	ret = body_split(a, alen, &ga);
	if (!ret)
		ret = body_split(b, blen, &gb);
	if (ret)
		goto out;
	if (!ga.framed || !gb.framed) {
		ret = dt_cmp_verdict(c, ga.framed ? DT_DIFF_FAILED :
						    DT_DIFF_SKIPPED,
				     "%s response body is not a sequence of "
				     "gRPC messages",
				     ga.framed ? "replayed" : "recorded");
		goto out;
	}
	n = ga.n > gb.n ? ga.n : gb.n;
	for (size_t i = 0; !ret && i < n; i++) {
		dt_sbuf_truncate(&path, 0);
		dt_sbuf_printf(&path, "grpc.message[%zu]", i);
		ret = path.oom ? -ENOMEM :
		      compare_message(c, &path, i < ga.n ? &ga.m[i] : NULL,
				      i < gb.n ? &gb.m[i] : NULL);
	}
out:
	dt_sbuf_release(&path);
	free(ga.m);
	free(gb.m);
	return ret;
}
