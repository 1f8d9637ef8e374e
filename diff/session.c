// SPDX-License-Identifier: MIT
/*
 * dt_diff_sessions(): the file edge of the diff module. Reads the rules
 * file and the sessions, pairs each recorded exchange with its replay (the
 * replayed exchange whose link_id is its id) and feeds the engine.
 *
 * The replays are held in memory, indexed by link_id, since a concurrent
 * replay writes them in the order responses came back; the recording is
 * streamed, and each replay is freed once compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((e)->add_failed = true)
#include <uthash.h>

#include "diff/diff_int.h"

/* Input that cannot be mapped (a pipe) is read up to this size. */
#define READ_MAX ((size_t)1 << 30)

struct input {
	uint8_t *data;
	size_t len;
	bool mapped;
};

static int read_all(int fd, struct input *in, size_t max)
{
	size_t cap = 0;
	uint8_t *grown;
	ssize_t n;

	for (;;) {
		if (in->len == cap) {
			if (cap >= max)
				return -EFBIG;
			cap = cap ? cap * 2 : 65536;
			cap = cap > max ? max : cap;
			grown = realloc(in->data, cap);
			if (!grown)
				return -ENOMEM;
			in->data = grown;
		}
		n = read(fd, in->data + in->len, cap - in->len);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			in->len += (size_t)n;
	}
}

static void input_close(struct input *in)
{
	if (in->mapped)
		munmap(in->data, in->len);
	else
		free(in->data);
	memset(in, 0, sizeof(*in));
}

static int map_all(int fd, size_t size, struct input *in)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	in->data = p;
	in->len = size;
	in->mapped = true;
	return 0;
}

/* Regular files are mapped, other files (pipes, and empty files, which
 * mmap() refuses) read up to max bytes. */
static int load_fd(int fd, struct input *in, size_t max)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return read_all(fd, in, max < READ_MAX ? max : READ_MAX);
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	return map_all(fd, (size_t)st.st_size, in);
}

static int input_open(struct input *in, const char *path, size_t max,
		      char *err, size_t errlen)
{
	int fd, ret;

	memset(in, 0, sizeof(*in));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else {
		ret = load_fd(fd, in, max);
		close(fd);
	}
	if (!ret)
		return 0;
	input_close(in);
	if (ret == -EFBIG)
		snprintf(err, errlen, "cannot read %s: larger than %zu MiB",
			 path, (max < READ_MAX ? max : READ_MAX) >> 20);
	else
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(-ret));
	return ret;
}

static int load_rules(const char *path, struct dt_diff_rules **rules,
		      char *err, size_t errlen)
{
	struct input in;
	char msg[256];
	int ret;

	ret = input_open(&in, path, DT_DIFF_RULES_MAX, err, errlen);
	if (ret)
		return ret;
	ret = dt_diff_rules_parse((const char *)in.data, in.len, rules, msg,
				  sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s: %s", path, msg);
	input_close(&in);
	return ret;
}

struct replay {
	uint64_t link_id;
	struct dt_exchange x;
	bool used;
	bool add_failed;
	UT_hash_handle hh;
};

struct replays {
	struct replay *by_link;
	uint64_t unlinked;	/* link_id 0 or repeated */
};

static void replays_free(struct replays *rs)
{
	struct replay *e, *tmp;

	HASH_ITER(hh, rs->by_link, e, tmp) {
		HASH_DEL(rs->by_link, e);
		dt_exchange_release(&e->x);
		free(e);
	}
}

/* Keeps x (moved out of the caller's struct) under its link_id in the
 * struct replays at ctx. */
static int replays_keep(void *ctx, struct dt_exchange *x)
{
	struct replays *rs = ctx;
	struct replay *e;

	HASH_FIND(hh, rs->by_link, &x->link_id, sizeof(x->link_id), e);
	if (!x->link_id || e) {
		rs->unlinked++;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->link_id = x->link_id;
	HASH_ADD(hh, rs->by_link, link_id, sizeof(e->link_id), e);
	if (e->add_failed) {
		free(e);
		return -ENOMEM;
	}
	e->x = *x;
	dt_exchange_init(x);
	return 0;
}

/* Opens a session file for reading; *in must outlive *r. */
static int session_open(const char *path, struct input *in,
			struct dt_session_reader **r, char *err,
			size_t errlen)
{
	char msg[256] = "";
	int ret = input_open(in, path, SIZE_MAX, err, errlen);

	if (ret)
		return ret;
	ret = dt_session_reader_open(r, in->data, in->len, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "%s: %s", path,
			 msg[0] ? msg : strerror(-ret));
		input_close(in);
	}
	return ret;
}

/* After the last exchange: a damaged file is an error, a file without
 * trailer (replay or recording interrupted) worth a warning. */
static int session_end(struct dt_diff *d, struct dt_session_reader *r,
		       int rc, const char *path, uint64_t n, char *err,
		       size_t errlen)
{
	if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 dt_session_reader_error(r));
		return rc;
	}
	if (!dt_session_reader_has_trailer(r) &&
	    dt_diff_warn(d, "%s has no trailer (interrupted?); read %" PRIu64
			 " exchanges", path, n))
		return -ENOMEM;
	return 0;
}

/* Calls fn on every exchange of the session at path, in file order. */
static int for_each_exchange(struct dt_diff *d, const char *path,
			     int (*fn)(void *ctx, struct dt_exchange *x),
			     void *ctx, char *err, size_t errlen)
{
	struct dt_session_reader *r;
	struct dt_exchange x;
	struct input in;
	uint64_t n = 0;
	int rc;

	rc = session_open(path, &in, &r, err, errlen);
	if (rc)
		return rc;
	dt_exchange_init(&x);
	while ((rc = dt_session_reader_next(r, &x)) == 1) {
		n++;
		rc = fn(ctx, &x);
		if (rc)
			break;
	}
	dt_exchange_release(&x);
	rc = session_end(d, r, rc, path, n, err, errlen);
	dt_session_reader_free(r);
	input_close(&in);
	return rc;
}

static struct replay *replay_of(struct replays *rs, uint64_t id)
{
	struct replay *e;

	HASH_FIND(hh, rs->by_link, &id, sizeof(id), e);
	return e && !e->used ? e : NULL;
}

static int compare_one(struct dt_diff *d, const struct dt_exchange *rec,
		       struct replays *rs, struct replays *noise)
{
	struct replay *rep = replay_of(rs, rec->id);
	struct replay *rep2 = noise ? replay_of(noise, rec->id) : NULL;
	int ret = 0;

	if (rep && rep2)
		ret = dt_diff_learn(d, rec, &rep->x, &rep2->x);
	if (!ret)
		ret = dt_diff_add(d, rec, rep ? &rep->x : NULL);
	if (rep) {
		rep->used = true;
		dt_exchange_release(&rep->x);
	}
	if (rep2) {
		rep2->used = true;
		dt_exchange_release(&rep2->x);
	}
	return ret;
}

struct compare_ctx {
	struct dt_diff *d;
	struct replays *rs, *noise;
};

static int compare_exchange(void *ctx, struct dt_exchange *x)
{
	struct compare_ctx *c = ctx;

	return compare_one(c->d, x, c->rs, c->noise);
}

static void count_unmatched(struct dt_diff *d, const struct replays *rs)
{
	const struct replay *e;
	uint64_t i;

	for (e = rs->by_link; e; e = e->hh.next)
		if (!e->used)
			dt_diff_add_unmatched(d);
	for (i = 0; i < rs->unlinked; i++)
		dt_diff_add_unmatched(d);
}

static int run(struct dt_diff *d, const struct dt_diff_session_opts *opts,
	       const char *recorded_path, const char *replayed_path,
	       char *err, size_t errlen)
{
	struct replays rs = { 0 }, noise = { 0 };
	struct compare_ctx cmp = { d, &rs, opts->noise_path ? &noise : NULL };
	int ret;

	ret = dt_diff_set_labels(d, recorded_path, replayed_path,
				 opts->noise_path);
	if (!ret)
		ret = for_each_exchange(d, replayed_path, replays_keep, &rs, err,
					errlen);
	if (!ret && opts->noise_path)
		ret = for_each_exchange(d, opts->noise_path, replays_keep,
					&noise, err, errlen);
	if (!ret)
		ret = for_each_exchange(d, recorded_path, compare_exchange,
					&cmp, err, errlen);
	if (!ret)
		count_unmatched(d, &rs);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	replays_free(&rs);
	replays_free(&noise);
	return ret;
}

int dt_diff_sessions(const struct dt_diff_session_opts *opts,
		     const char *recorded_path, const char *replayed_path,
		     struct dt_diff_report **out, char *err, size_t errlen)
{
	struct dt_diff_rules *rules = NULL;
	struct dt_diff_opts dopts = { 0 };
	struct dt_diff *d;
	int ret;

	*out = NULL;
	if (opts->rules_path) {
		ret = load_rules(opts->rules_path, &rules, err, errlen);
		if (ret)
			return ret;
	}
	dopts.rules = rules;
	dopts.unordered_rows = opts->unordered_rows;
	ret = dt_diff_new(&d, &dopts);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = run(d, opts, recorded_path, replayed_path, err, errlen);
	if (ret)
		dt_diff_free(d);
	else
		ret = dt_diff_finish(d, out);
out:
	dt_diff_rules_free(rules);
	return ret;
}
