// SPDX-License-Identifier: MIT
/*
 * The diff engine: compares exchanges one pair at a time, groups the
 * outcomes by endpoint and keeps the details of those that did not
 * compare the same, within the listing limits of diff.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((e)->add_failed = true)
#include <uthash.h>

#include "diff/diff_int.h"

struct endpoint_entry {
	char *name;		/* the endpoint's own name */
	size_t index;		/* in report->endpoints */
	bool add_failed;
	UT_hash_handle hh;
};

struct dt_diff {
	struct dt_diff_opts opts;
	struct dt_diff_report *report;
	size_t endpoints_cap;
	struct endpoint_entry *by_name;
	struct dt_noise *noise;
	uint64_t listed;
};

int dt_diff_new(struct dt_diff **out, const struct dt_diff_opts *opts)
{
	struct dt_diff *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->report = calloc(1, sizeof(*d->report));
	if (!d->report) {
		free(d);
		return -ENOMEM;
	}
	if (opts)
		d->opts = *opts;
	*out = d;
	return 0;
}

void dt_diff_free(struct dt_diff *d)
{
	struct endpoint_entry *e, *tmp;

	if (!d)
		return;
	HASH_ITER(hh, d->by_name, e, tmp) {
		HASH_DEL(d->by_name, e);
		free(e);
	}
	dt_noise_free(d->noise);
	dt_diff_report_free(d->report);
	free(d);
}

int dt_diff_finish(struct dt_diff *d, struct dt_diff_report **out)
{
	*out = d->report;
	d->report = NULL;
	dt_diff_free(d);
	return 0;
}

/* The endpoint called name (taken over, also on failure). */
static struct dt_diff_endpoint *endpoint_get(struct dt_diff *d, char *name,
					     uint32_t protocol)
{
	struct dt_diff_report *r = d->report;
	struct dt_diff_endpoint *grown, *ep;
	struct endpoint_entry *e;

	HASH_FIND_STR(d->by_name, name, e);
	if (e) {
		free(name);
		return &r->endpoints[e->index];
	}
	if (r->nendpoints == d->endpoints_cap) {
		d->endpoints_cap = d->endpoints_cap ? d->endpoints_cap * 2 : 16;
		grown = realloc(r->endpoints,
				d->endpoints_cap * sizeof(*grown));
		if (!grown)
			goto fail;
		r->endpoints = grown;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto fail;
	e->name = name;
	e->index = r->nendpoints;
	HASH_ADD_KEYPTR(hh, d->by_name, e->name, strlen(e->name), e);
	if (e->add_failed) {
		free(e);
		goto fail;
	}
	ep = &r->endpoints[r->nendpoints++];
	memset(ep, 0, sizeof(*ep));
	ep->name = name;
	ep->protocol = protocol;
	return ep;
fail:
	free(name);
	return NULL;
}

/* Context for comparing one exchange of an endpoint. */
struct pair {
	struct dt_diff_endpoint *ep;
	struct dt_rules_scope scope;
	struct dt_cmp c;
};

static int pair_init(struct dt_diff *d, struct pair *p,
		     const struct dt_exchange *rec, size_t max_items)
{
	char *name = dt_endpoint_name(rec);

	memset(p, 0, sizeof(*p));
	if (!name)
		return -ENOMEM;
	p->ep = endpoint_get(d, name, rec->protocol);
	if (!p->ep || dt_rules_scope_init(&p->scope, d->opts.rules,
					  p->ep->name))
		return -ENOMEM;
	p->c.rec = rec;
	p->c.scope = &p->scope;
	p->c.unordered_rows = d->opts.unordered_rows;
	p->c.max_items = max_items;
	return 0;
}

static void pair_release(struct pair *p)
{
	dt_cmp_release(&p->c);
	dt_rules_scope_release(&p->scope);
}

int dt_diff_learn(struct dt_diff *d, const struct dt_exchange *rec,
		  const struct dt_exchange *a, const struct dt_exchange *b)
{
	struct pair p;
	int ret;

	if (!a || !b)
		return 0;
	ret = pair_init(d, &p, rec, DT_DIFF_MAX_LEARNED);
	/* the replays are compared as recording and replay */
	if (!ret)
		ret = dt_cmp_exchange(&p.c, a, b);
	if (!ret && p.c.verdict == DT_DIFF_SAME)
		ret = dt_noise_store(&d->noise, rec->id, &p.c);
	pair_release(&p);
	return ret;
}

static enum dt_diff_outcome outcome_of(const struct dt_cmp *c)
{
	if (c->verdict != DT_DIFF_SAME)
		return c->verdict;
	if (c->differences)
		return DT_DIFF_DIFFER;
	return c->noise ? DT_DIFF_NOISE_ONLY : DT_DIFF_SAME;
}

/* Moves the details of the comparison into the endpoint's list. */
static int list_exchange(struct dt_diff *d, struct pair *p,
			 const struct dt_exchange *rec,
			 const struct dt_exchange *rep,
			 enum dt_diff_outcome outcome)
{
	struct dt_diff_endpoint *ep = p->ep;
	struct dt_diff_exchange *x, *grown;

	if (ep->nexchanges >= DT_DIFF_MAX_LISTED ||
	    d->listed >= DT_DIFF_MAX_LISTED_TOTAL) {
		ep->unlisted++;
		return 0;
	}
	grown = realloc(ep->exchanges, (ep->nexchanges + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ep->exchanges = grown;
	x = &ep->exchanges[ep->nexchanges];
	memset(x, 0, sizeof(*x));
	x->request = dt_request_label(rec);
	if (!x->request)
		return -ENOMEM;
	ep->nexchanges++;
	d->listed++;
	x->recorded_id = rec->id;
	x->replayed_id = rep ? rep->id : 0;
	x->outcome = outcome;
	x->reason = p->c.reason;
	x->nitems = p->c.nitems;
	x->items = p->c.items;
	x->differences = p->c.differences;
	x->noise = p->c.noise;
	p->c.reason = NULL;
	p->c.items = NULL;
	p->c.nitems = 0;
	return 0;
}

int dt_diff_add(struct dt_diff *d, const struct dt_exchange *rec,
		const struct dt_exchange *rep)
{
	enum dt_diff_outcome outcome;
	size_t nlearned;
	struct pair p;
	int ret;

	ret = pair_init(d, &p, rec, DT_DIFF_MAX_ITEMS);
	if (ret)
		goto out;
	p.c.learned = dt_noise_find(d->noise, rec->id, &nlearned);
	p.c.nlearned = nlearned;
	ret = dt_cmp_exchange(&p.c, rec, rep);
	if (ret)
		goto out;
	outcome = outcome_of(&p.c);
	p.ep->counts[outcome]++;
	d->report->counts[outcome]++;
	d->report->exchanges++;
	if (outcome != DT_DIFF_SAME)
		ret = list_exchange(d, &p, rec, rep, outcome);
out:
	pair_release(&p);
	return ret;
}

void dt_diff_add_unmatched(struct dt_diff *d)
{
	d->report->unmatched_replays++;
}

int dt_diff_warn(struct dt_diff *d, const char *fmt, ...)
{
	struct dt_diff_report *r = d->report;
	char msg[512], **grown;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	grown = realloc(r->warnings, (r->nwarnings + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->warnings = grown;
	r->warnings[r->nwarnings] = dt_text_plain(msg, strlen(msg),
						  sizeof(msg));
	if (!r->warnings[r->nwarnings])
		return -ENOMEM;
	r->nwarnings++;
	return 0;
}

static int set_label(char **label, const char *text)
{
	free(*label);
	*label = NULL;
	if (!text)
		return 0;
	*label = dt_text_plain(text, strlen(text), 4096);
	return *label ? 0 : -ENOMEM;
}

int dt_diff_set_labels(struct dt_diff *d, const char *recorded,
		       const char *replayed, const char *noise)
{
	struct dt_diff_report *r = d->report;

	if (set_label(&r->recorded_label, recorded) ||
	    set_label(&r->replayed_label, replayed) ||
	    set_label(&r->noise_label, noise))
		return -ENOMEM;
	return 0;
}
