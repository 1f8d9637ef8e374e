// SPDX-License-Identifier: MIT
/*
 * taskstore.c: the tasks a daemon knows, kept in its state directory as
 * tasks/<id>.json (the protocol's TASK object) and next-id, so that a
 * restarted daemon still lists them; a task a killed daemon left
 * "running" becomes "interrupted".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

/* a TASK file is small: anything bigger was not written by us */
#define MAX_TASK_FILE (1u << 20)

struct dt_taskstore {
	char *dir;
	int lock_fd;
	uint64_t next_id;
	struct dt_stored_task *tasks;  /* newest (highest id) first */
};

static const char *const drop_keys[] = {
	"ringbuf_full", "truncated", "read_failed", "state_full", "gaps",
	"evicted", "sampled_out",
};
#define NDROPS (sizeof(drop_keys) / sizeof(drop_keys[0]))

static uint64_t *drop_slot(struct dt_task_drops *d, size_t i)
{
	uint64_t *slots[NDROPS] = {
		&d->ringbuf_full, &d->truncated, &d->read_failed,
		&d->state_full, &d->gaps, &d->evicted, &d->sampled_out,
	};

	return slots[i];
}

json_t *dt_stored_task_json(const struct dt_stored_task *t)
{
	const struct dt_task_info *in = &t->info;
	struct dt_task_drops drops = in->drops;
	json_t *o, *d;

	d = json_object();
	for (size_t i = 0; d && i < NDROPS; i++)
		json_object_set_new(d, drop_keys[i],
				    json_integer(*drop_slot(&drops, i)));
	o = json_pack("{sI ss ss sO ss sI sI sI sI sI so}",
		      "id", (json_int_t)t->id,
		      "state", dt_task_state_name(in->state),
		      "reason", in->reason,
		      "spec", t->spec,
		      "output", t->output,
		      "owner_uid", (json_int_t)t->owner_uid,
		      "started_ns", (json_int_t)in->started_ns,
		      "ended_ns", (json_int_t)in->ended_ns,
		      "exchanges", (json_int_t)in->exchanges,
		      "bytes_written", (json_int_t)in->bytes_written,
		      "drops", d);
	return o;
}

static int parse_state(const char *name, enum dt_task_state *st)
{
	for (int i = DT_TASK_RUNNING; i <= DT_TASK_INTERRUPTED; i++) {
		if (!strcmp(name, dt_task_state_name(i))) {
			*st = i;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t get_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* A task from its file; NULL when the file is not one of ours. */
static struct dt_stored_task *task_from_json(const json_t *o)
{
	const char *state = json_string_value(json_object_get(o, "state"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	const char *output = json_string_value(json_object_get(o, "output"));
	json_t *spec = json_object_get(o, "spec");
	json_t *drops = json_object_get(o, "drops");
	struct dt_stored_task *t;

	if (!state || !reason || !output || !json_is_object(spec) ||
	    get_u64(o, "id") == 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (parse_state(state, &t->info.state) ||
	    !(t->output = strdup(output))) {
		free(t);
		return NULL;
	}
	t->id = t->info.id = get_u64(o, "id");
	t->spec = json_incref(spec);
	t->owner_uid = (uid_t)get_u64(o, "owner_uid");
	snprintf(t->info.reason, sizeof(t->info.reason), "%s", reason);
	t->info.started_ns = get_u64(o, "started_ns");
	t->info.ended_ns = get_u64(o, "ended_ns");
	t->info.exchanges = get_u64(o, "exchanges");
	t->info.bytes_written = get_u64(o, "bytes_written");
	for (size_t i = 0; i < NDROPS; i++)
		*drop_slot(&t->info.drops, i) = get_u64(drops, drop_keys[i]);
	return t;
}

static void stored_task_free(struct dt_stored_task *t)
{
	json_decref(t->spec);
	free(t->output);
	free(t);
}

static void insert_sorted(struct dt_taskstore *s, struct dt_stored_task *t)
{
	struct dt_stored_task **pp = &s->tasks;

	while (*pp && (*pp)->id > t->id)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	if (t->id >= s->next_id)
		s->next_id = t->id + 1;
}

static char *path_in(const struct dt_taskstore *s, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", s->dir, name) < 0)
		return NULL;
	return p;
}

/* Writes text to dir/name through a temporary file and a rename, so that
 * a crash leaves the old version or the new one. */
static int write_atomic(const struct dt_taskstore *s, const char *name,
			const char *text)
{
	char *path = path_in(s, name), *tmp = NULL;
	int ret = -ENOMEM, fd;
	size_t len = strlen(text);

	if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	free(path);
	free(tmp);
	return ret;
}

static int save_next_id(const struct dt_taskstore *s)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64 "\n", s->next_id);
	return write_atomic(s, "next-id", text);
}

int dt_taskstore_save(struct dt_taskstore *s, const struct dt_stored_task *t)
{
	char name[48], *text;
	json_t *o = dt_stored_task_json(t);
	int ret;

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	snprintf(name, sizeof(name), "tasks/%" PRIu64 ".json", t->id);
	ret = write_atomic(s, name, text);
	free(text);
	return ret;
}

static void load_next_id(struct dt_taskstore *s)
{
	char *path = path_in(s, "next-id");
	unsigned long long v = 0;
	FILE *f = path ? fopen(path, "re") : NULL;

	if (f && fscanf(f, "%llu", &v) == 1 && v > s->next_id)
		s->next_id = v;
	if (f)
		fclose(f);
	free(path);
}

static bool is_task_file(const char *name)
{
	size_t n = strspn(name, "0123456789");

	return n > 0 && !strcmp(name + n, ".json");
}

/* A task the previous daemon left running was cut short by its end. */
static void mark_interrupted(struct dt_taskstore *s, struct dt_stored_task *t,
			     const struct stat *st)
{
	if (t->info.state != DT_TASK_RUNNING)
		return;
	t->info.state = DT_TASK_INTERRUPTED;
	snprintf(t->info.reason, sizeof(t->info.reason), "daemon restarted");
	t->info.ended_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull +
			   st->st_mtim.tv_nsec;
	dt_taskstore_save(s, t);
}

static void load_task(struct dt_taskstore *s, int dirfd, const char *name)
{
	struct dt_stored_task *t = NULL;
	json_error_t jerr;
	json_t *o = NULL;
	struct stat st;
	FILE *f = NULL;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_TASK_FILE || !(f = fdopen(fd, "r")))
		goto out;
	fd = -1;
	o = json_loadf(f, 0, &jerr);
	t = o ? task_from_json(o) : NULL;
	if (!t) {
		fprintf(stderr, "deetune daemon: ignoring %s/tasks/%s: not a "
			"task file\n", s->dir, name);
		goto out;
	}
	insert_sorted(s, t);
	mark_interrupted(s, t, &st);
out:
	json_decref(o);
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
}

static int load_tasks(struct dt_taskstore *s)
{
	char *path = path_in(s, "tasks");
	struct dirent *de;
	DIR *dir;

	if (!path)
		return -ENOMEM;
	dir = opendir(path);
	free(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (is_task_file(de->d_name))
			load_task(s, dirfd(dir), de->d_name);
	closedir(dir);
	return 0;
}

static int make_dirs(struct dt_taskstore *s, char *err, size_t errlen)
{
	char *tasks = path_in(s, "tasks");
	int ret = 0;

	if (!tasks)
		return -ENOMEM;
	if ((mkdir(s->dir, 0750) && errno != EEXIST) ||
	    (mkdir(tasks, 0750) && errno != EEXIST)) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the state directory "
			 "%s: %s", tasks, strerror(errno));
	}
	free(tasks);
	return ret;
}

static int lock_dir(struct dt_taskstore *s, char *err, size_t errlen)
{
	char *path = path_in(s, "lock");

	if (!path)
		return -ENOMEM;
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	free(path);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "cannot lock the state directory %s: "
			 "%s", s->dir, strerror(errno));
		return -errno;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "another daemon uses the state "
			 "directory %s", s->dir);
		return -EBUSY;
	}
	return 0;
}

int dt_taskstore_open(struct dt_taskstore **out, const char *dir,
		      char *err, size_t errlen)
{
	struct dt_taskstore *s;
	int ret = -ENOMEM;

	snprintf(err, errlen, "out of memory");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	s->next_id = 1;
	s->dir = strdup(dir);
	if (!s->dir)
		goto fail;
	ret = make_dirs(s, err, errlen);
	if (!ret)
		ret = lock_dir(s, err, errlen);
	if (ret)
		goto fail;
	ret = load_tasks(s);
	if (ret) {
		snprintf(err, errlen, "cannot read %s/tasks: %s", dir,
			 strerror(-ret));
		goto fail;
	}
	load_next_id(s);
	*out = s;
	return 0;
fail:
	dt_taskstore_free(s);
	return ret;
}

uint64_t dt_taskstore_next_id(const struct dt_taskstore *s)
{
	return s->next_id;
}

struct dt_stored_task *dt_taskstore_add(struct dt_taskstore *s, json_t *spec,
					const char *output, uid_t owner,
					const struct dt_task_info *info)
{
	struct dt_stored_task *t = calloc(1, sizeof(*t));

	if (!t || !(t->output = strdup(output))) {
		free(t);
		json_decref(spec);
		return NULL;
	}
	t->id = info->id;
	t->spec = spec;
	t->owner_uid = owner;
	t->info = *info;
	insert_sorted(s, t);
	if (save_next_id(s) || dt_taskstore_save(s, t))
		fprintf(stderr, "deetune daemon: cannot save task %" PRIu64
			" in %s\n", t->id, s->dir);
	return t;
}

struct dt_stored_task *dt_taskstore_find(struct dt_taskstore *s, uint64_t id)
{
	struct dt_stored_task *t;

	for (t = s->tasks; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

struct dt_stored_task *dt_taskstore_tasks(struct dt_taskstore *s)
{
	return s->tasks;
}

void dt_taskstore_free(struct dt_taskstore *s)
{
	struct dt_stored_task *t, *next;

	if (!s)
		return;
	for (t = s->tasks; t; t = next) {
		next = t->next;
		stored_task_free(t);
	}
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->dir);
	free(s);
}
