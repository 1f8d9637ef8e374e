// SPDX-License-Identifier: MIT
/*
 * The terminal report: what did not compare the same, endpoint by
 * endpoint, then a table of counts per endpoint and a summary line. Every
 * string in a report is escaped already (text.c), so it prints as it is.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "diff/diff_int.h"

/* Exchanges shown per endpoint; the JSON report has all that are kept. */
#define TEXT_EXCHANGES 10
/* Widest endpoint column of the table. */
#define NAME_WIDTH 50

static const char *or_absent(const char *s)
{
	return s ? s : "(absent)";
}

static void print_items(FILE *out, const struct dt_diff_exchange *x)
{
	uint64_t shown = 0;
	size_t i;

	for (i = 0; i < x->nitems; i++) {
		const struct dt_diff_item *it = &x->items[i];

		fprintf(out, "    %s: %s -> %s", it->field,
			or_absent(it->expected), or_absent(it->actual));
		if (it->why != DT_DIFF_UNEXPLAINED)
			fprintf(out, "  [noise: %s]", dt_diff_why_name(it->why));
		fputc('\n', out);
		if (it->note)
			fprintf(out, "      (%s)\n", it->note);
		shown++;
	}
	if (x->differences + x->noise > shown)
		fprintf(out, "    ... and %" PRIu64 " more\n",
			x->differences + x->noise - shown);
}

/* A noise-only exchange in one line: the fields that were noise. */
static void print_noise_fields(FILE *out, const struct dt_diff_exchange *x)
{
	size_t i;

	fputs(" (", out);
	for (i = 0; i < x->nitems; i++)
		fprintf(out, "%s%s", i ? ", " : "", x->items[i].field);
	if (x->noise > x->nitems)
		fprintf(out, "%s...", x->nitems ? ", " : "");
	fputc(')', out);
}

static void print_exchange(FILE *out, const struct dt_diff_exchange *x)
{
	fprintf(out, "  #%" PRIu64, x->recorded_id);
	if (x->replayed_id)
		fprintf(out, " (replay #%" PRIu64 ")", x->replayed_id);
	fprintf(out, " %s: %s", x->request, dt_diff_outcome_name(x->outcome));
	if (x->reason)
		fprintf(out, ": %s", x->reason);
	if (x->outcome == DT_DIFF_NOISE_ONLY)
		print_noise_fields(out, x);
	fputc('\n', out);
	if (x->outcome == DT_DIFF_DIFFER)
		print_items(out, x);
}

static bool serious(const struct dt_diff_exchange *x)
{
	return x->outcome == DT_DIFF_DIFFER || x->outcome == DT_DIFF_FAILED;
}

/* Up to TEXT_EXCHANGES exchanges, differences and failures first. */
static void print_endpoint(FILE *out, const struct dt_diff_endpoint *ep)
{
	size_t i, shown = 0;
	int pass;

	fprintf(out, "%s\n", ep->name);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ep->nexchanges && shown < TEXT_EXCHANGES; i++) {
			if (serious(&ep->exchanges[i]) != (pass == 0))
				continue;
			print_exchange(out, &ep->exchanges[i]);
			shown++;
		}
	}
	if (ep->nexchanges + ep->unlisted > shown)
		fprintf(out, "  ... and %" PRIu64 " more exchanges not shown"
			" (see --json)\n",
			(uint64_t)(ep->nexchanges - shown) + ep->unlisted);
}

static void print_table(FILE *out, const struct dt_diff_report *r)
{
	static const char *const titles[DT_DIFF_NOUTCOMES] = {
		[DT_DIFF_SAME] = "SAME",
		[DT_DIFF_NOISE_ONLY] = "NOISE",
		[DT_DIFF_DIFFER] = "DIFFER",
		[DT_DIFF_FAILED] = "FAILED",
		[DT_DIFF_SKIPPED] = "SKIPPED",
	};
	size_t i, width = 8;
	int o;

	for (i = 0; i < r->nendpoints; i++) {
		size_t len = strlen(r->endpoints[i].name);

		if (len > width)
			width = len > NAME_WIDTH ? NAME_WIDTH : len;
	}
	fprintf(out, "%-*s", (int)width, "ENDPOINT");
	for (o = 0; o < DT_DIFF_NOUTCOMES; o++)
		fprintf(out, " %8s", titles[o]);
	fputc('\n', out);
	for (i = 0; i < r->nendpoints; i++) {
		const struct dt_diff_endpoint *ep = &r->endpoints[i];

		fprintf(out, "%-*.*s", (int)width, (int)width, ep->name);
		for (o = 0; o < DT_DIFF_NOUTCOMES; o++)
			fprintf(out, " %8" PRIu64, ep->counts[o]);
		fputc('\n', out);
	}
}

static void print_summary(FILE *out, const struct dt_diff_report *r)
{
	int o;

	fprintf(out, "%" PRIu64 " exchanges:", r->exchanges);
	for (o = 0; o < DT_DIFF_NOUTCOMES; o++)
		fprintf(out, "%s %" PRIu64 " %s", o ? "," : "", r->counts[o],
			dt_diff_outcome_name((enum dt_diff_outcome)o));
	if (r->unmatched_replays)
		fprintf(out, "; %" PRIu64 " replayed exchanges match no "
			"recorded one", r->unmatched_replays);
	fputc('\n', out);
}

int dt_diff_write_text(FILE *out, const struct dt_diff_report *r)
{
	bool details = false;
	size_t i;

	for (i = 0; i < r->nendpoints; i++) {
		if (!r->endpoints[i].nexchanges && !r->endpoints[i].unlisted)
			continue;
		print_endpoint(out, &r->endpoints[i]);
		details = true;
	}
	if (details)
		fputc('\n', out);
	if (r->nendpoints) {
		print_table(out, r);
		fputc('\n', out);
	}
	print_summary(out, r);
	return ferror(out) ? -EIO : 0;
}
