// SPDX-License-Identifier: MIT
/*
 * Learned noise: the fields in which two replays of the same recorded
 * exchange differ, kept per recorded exchange id. When that exchange is
 * compared, differences in those fields (or below them) are noise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((e)->add_failed = true)
#include <uthash.h>

#include "diff/diff_int.h"

struct dt_noise {
	uint64_t id;
	size_t n;
	struct dt_field_pattern *fields;
	bool add_failed;
	UT_hash_handle hh;
};

static void entry_free(struct dt_noise *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		dt_field_pattern_release(&e->fields[i]);
	free(e->fields);
	free(e);
}

static bool known(const struct dt_noise *e, const char *field)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!strcmp(e->fields[i].text, field))
			return true;
	return false;
}

static int entry_fill(struct dt_noise *e, const struct dt_cmp *c)
{
	char err[8];
	size_t i;
	int ret;

	e->fields = calloc(c->nitems ? c->nitems : 1, sizeof(*e->fields));
	if (!e->fields)
		return -ENOMEM;
	for (i = 0; i < c->nitems; i++) {
		if (known(e, c->items[i].field))
			continue;
		/* fields the diff made always parse; a failure is memory */
		ret = dt_field_pattern_init(&e->fields[e->n],
					    c->items[i].field, true, err,
					    sizeof(err));
		if (ret == -ENOMEM)
			return ret;
		if (!ret)
			e->n++;
	}
	return 0;
}

int dt_noise_store(struct dt_noise **noise, uint64_t id,
		   const struct dt_cmp *c)
{
	struct dt_noise *e;
	int ret;

	if (!c->nitems)
		return 0;
	HASH_FIND(hh, *noise, &id, sizeof(id), e);
	if (e) {
		HASH_DEL(*noise, e);
		entry_free(e);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	ret = entry_fill(e, c);
	if (ret) {
		entry_free(e);
		return ret;
	}
	HASH_ADD(hh, *noise, id, sizeof(e->id), e);
	if (e->add_failed) {
		entry_free(e);
		return -ENOMEM;
	}
	return 0;
}

const struct dt_field_pattern *dt_noise_find(struct dt_noise *noise,
					     uint64_t id, size_t *n)
{
	struct dt_noise *e;

	HASH_FIND(hh, noise, &id, sizeof(id), e);
	*n = e ? e->n : 0;
	return e ? e->fields : NULL;
}

void dt_noise_free(struct dt_noise *noise)
{
	struct dt_noise *e, *tmp;

	HASH_ITER(hh, noise, e, tmp) {
		HASH_DEL(noise, e);
		entry_free(e);
	}
}
