// SPDX-License-Identifier: MIT
/* Reports: names of outcomes and explanations, the exit code, freeing. */
#include <stdlib.h>

#include "diff/diff_int.h"

const char *dt_diff_outcome_name(enum dt_diff_outcome outcome)
{
	static const char *const names[DT_DIFF_NOUTCOMES] = {
		[DT_DIFF_SAME] = "same",
		[DT_DIFF_NOISE_ONLY] = "noise-only",
		[DT_DIFF_DIFFER] = "differ",
		[DT_DIFF_FAILED] = "failed",
		[DT_DIFF_SKIPPED] = "skipped",
	};

	return (unsigned)outcome < DT_DIFF_NOUTCOMES ? names[outcome] : "?";
}

const char *dt_diff_why_name(enum dt_diff_why why)
{
	switch (why) {
	case DT_DIFF_BY_RULE:
		return "rule";
	case DT_DIFF_BY_NORMALIZER:
		return "normalizer";
	case DT_DIFF_BY_LEARNED:
		return "learned";
	default:
		return "difference";
	}
}

int dt_diff_exit_code(const struct dt_diff_report *report)
{
	return report->counts[DT_DIFF_DIFFER] ||
	       report->counts[DT_DIFF_FAILED];
}

static void exchange_release(struct dt_diff_exchange *x)
{
	size_t i;

	for (i = 0; i < x->nitems; i++)
		dt_diff_item_release(&x->items[i]);
	free(x->items);
	free(x->request);
	free(x->reason);
}

void dt_diff_report_free(struct dt_diff_report *report)
{
	size_t i, k;

	if (!report)
		return;
	for (i = 0; i < report->nendpoints; i++) {
		struct dt_diff_endpoint *ep = &report->endpoints[i];

		for (k = 0; k < ep->nexchanges; k++)
			exchange_release(&ep->exchanges[k]);
		free(ep->exchanges);
		free(ep->name);
	}
	free(report->endpoints);
	for (i = 0; i < report->nwarnings; i++)
		free(report->warnings[i]);
	free(report->warnings);
	free(report->recorded_label);
	free(report->replayed_label);
	free(report->noise_label);
	free(report);
}
