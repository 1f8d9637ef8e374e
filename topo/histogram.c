// SPDX-License-Identifier: MIT
/* Latency histogram with Prometheus' default-like buckets. */
#include <math.h>

#include "topo/topo.h"

const double dt_topo_bucket_bounds[DT_TOPO_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void dt_topo_histogram_observe(struct dt_topo_histogram *h, double seconds)
{
	size_t i = 0;

	while (i < DT_TOPO_NBUCKETS && seconds > dt_topo_bucket_bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

double dt_topo_histogram_quantile(const struct dt_topo_histogram *h, double q)
{
	double rank, below = 0, lower = 0;

	if (!h->count)
		return NAN;
	q = q < 0 ? 0 : q > 1 ? 1 : q;
	rank = q * h->count;
	for (size_t i = 0; i < DT_TOPO_NBUCKETS; i++) {
		double upper = dt_topo_bucket_bounds[i];
		double in = h->counts[i];

		if (in && below + in >= rank)
			return lower + (upper - lower) * (rank - below) / in;
		below += in;
		lower = upper;
	}
	/* the rank falls in +Inf: nothing better than the last bound */
	return dt_topo_bucket_bounds[DT_TOPO_NBUCKETS - 1];
}
