// SPDX-License-Identifier: MIT
/*
 * Resource figures of a service's cgroup from cgroupfs (cpu.stat,
 * memory.current, cgroup.procs) and its established TCP connections
 * (socket inodes of its processes' fds found in /proc/PID/net/tcp*).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo/topo_int.h"

#define MAX_PROCS 256
#define MAX_FDS_PER_PROC 4096
#define MAX_NETNS 8

/* The value after "key " in a flat-keyed file, or a bare value when key
 * is NULL. 0 or -ENOENT. */
static int read_u64_key(const char *path, const char *key, uint64_t *v)
{
	char line[256];
	size_t klen = key ? strlen(key) : 0;
	int ret = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (key && (strncmp(line, key, klen) || line[klen] != ' '))
			continue;
		if (sscanf(line + klen, " %" SCNu64, v) == 1)
			ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static size_t read_procs(const char *path, uint32_t *pids, size_t max,
			 uint64_t *total)
{
	unsigned long pid;
	size_t n = 0;
	FILE *f;

	*total = 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fscanf(f, "%lu", &pid) == 1) {
		(*total)++;
		if (n < max)
			pids[n++] = pid;
	}
	fclose(f);
	return n;
}

struct inode_set {
	uint64_t *v;
	size_t n, cap;
};

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Adds the socket inodes behind /proc/PID/fd/ entries. */
static void add_socket_inodes(struct inode_set *s, const char *proc_root,
			      uint32_t pid)
{
	char path[4096], link[64];
	unsigned long long ino;
	struct dirent *de;
	size_t seen = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%u/fd", proc_root, pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && seen++ < MAX_FDS_PER_PROC) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%u/fd/%s", proc_root, pid,
			 de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 256;
			uint64_t *v = realloc(s->v, cap * sizeof(*v));

			if (!v)
				break;
			s->v = v;
			s->cap = cap;
		}
		s->v[s->n++] = ino;
	}
	closedir(d);
}

struct established {
	const struct inode_set *mine;
	uint64_t count;
};

static int count_established(void *ctx, const struct dt_topo_sock *s)
{
	struct established *e = ctx;

	if (s->state == DT_TOPO_TCP_ESTABLISHED &&
	    bsearch(&s->inode, e->mine->v, e->mine->n, sizeof(uint64_t),
		    cmp_u64))
		e->count++;
	return 0;
}

/* Processes of one cgroup usually share a network namespace: read each
 * namespace's tables once. */
static bool netns_seen(const char *proc_root, uint32_t pid,
		       uint64_t *seen, size_t *nseen)
{
	char path[4096], link[64];
	unsigned long long ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/ns/net", proc_root, pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		sscanf(link, "net:[%llu]", &ino);
	}
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i] == ino)
			return true;
	if (*nseen == MAX_NETNS)
		return true;
	seen[(*nseen)++] = ino;
	return false;
}

static uint64_t tcp_connections(const char *proc_root, const uint32_t *pids,
				size_t npids)
{
	static const char *const files[] = { "net/tcp", "net/tcp6" };
	struct inode_set mine = { 0 };
	struct established e = { .mine = &mine };
	uint64_t netns[MAX_NETNS];
	size_t nnetns = 0;
	char path[4096];

	for (size_t i = 0; i < npids; i++)
		add_socket_inodes(&mine, proc_root, pids[i]);
	qsort(mine.v, mine.n, sizeof(*mine.v), cmp_u64);
	for (size_t i = 0; i < npids && mine.n; i++) {
		if (netns_seen(proc_root, pids[i], netns, &nnetns))
			continue;
		for (size_t j = 0; j < 2; j++) {
			snprintf(path, sizeof(path), "%s/%u/%s", proc_root,
				 pids[i], files[j]);
			dt_topo_procnet_scan(path, count_established, &e);
		}
	}
	free(mine.v);
	return e.count;
}

int dt_topo_cgroup_stats_read(const char *cgroup_root, const char *proc_root,
			      const char *path,
			      struct dt_topo_cgroup_stats *st)
{
	char file[4096];
	uint32_t pids[MAX_PROCS];
	uint64_t v;
	size_t npids;

	memset(st, 0, sizeof(*st));
	snprintf(file, sizeof(file), "%s%s/cgroup.procs", cgroup_root, path);
	if (access(file, R_OK))
		return -ENOENT;
	npids = read_procs(file, pids, MAX_PROCS, &st->processes);
	snprintf(file, sizeof(file), "%s%s/cpu.stat", cgroup_root, path);
	if (!read_u64_key(file, "usage_usec", &v)) {
		st->has_cpu = true;
		st->cpu_seconds = v / 1e6;
	}
	snprintf(file, sizeof(file), "%s%s/memory.current", cgroup_root, path);
	if (!read_u64_key(file, NULL, &v)) {
		st->has_memory = true;
		st->memory_bytes = v;
	}
	st->tcp_connections = tcp_connections(proc_root, pids, npids);
	return 0;
}
