// SPDX-License-Identifier: MIT
/*
 * Finds the libssl files processes map (/proc/PID/maps) and probes each
 * file once, for every process: processes started later that map the
 * same file are covered without a rescan.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/tls.h"

#define LIB_NAME "libssl.so"

/* A library file as the maps show it: device and inode. */
struct lib_id {
	char dev[16];
	uint64_t ino;
	bool probed;            /* the required probes attached */
};

struct dt_tls_libs {
	const struct dt_tls_progs *progs;
	const struct dt_tls_probe *probes;
	size_t nprobes;
	struct lib_id *ids;     /* files seen, probed or not */
	size_t nids, capids;
	size_t probed;          /* files whose required probes attached */
	struct dt_tls_links links;
};

int dt_tls_libs_new(struct dt_tls_libs **out,
		    const struct dt_tls_progs *progs,
		    const struct dt_tls_probe *probes, size_t n)
{
	struct dt_tls_libs *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->progs = progs;
	l->probes = probes;
	l->nprobes = n;
	*out = l;
	return 0;
}

void dt_tls_libs_free(struct dt_tls_libs *l)
{
	if (!l)
		return;
	dt_tls_links_release(&l->links);
	free(l->ids);
	free(l);
}

void dt_tls_libs_detach(struct dt_tls_libs *l)
{
	dt_tls_links_release(&l->links);
	l->nids = 0;
	l->probed = 0;
}

size_t dt_tls_libs_count(const struct dt_tls_libs *l)
{
	return l->probed;
}

static struct lib_id *lib_known(const struct dt_tls_libs *l,
				 const struct lib_id *id)
{
	for (size_t i = 0; i < l->nids; i++)
		if (l->ids[i].ino == id->ino && !strcmp(l->ids[i].dev, id->dev))
			return &l->ids[i];
	return NULL;
}

static int lib_remember(struct dt_tls_libs *l, const struct lib_id *id)
{
	if (l->nids == l->capids) {
		size_t cap = l->capids ? 2 * l->capids : 8;
		struct lib_id *v = realloc(l->ids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->ids = v;
		l->capids = cap;
	}
	l->ids[l->nids++] = *id;
	return 0;
}

/* The library a maps line names, when it is a libssl still on disk:
 * "start-end perms offset dev inode path". */
static bool parse_maps_line(const char *line, struct lib_id *id,
			    const char **path)
{
	const char *base;
	int off = 0;

	if (sscanf(line, "%*s %*s %*s %15s %" SCNu64 " %n", id->dev, &id->ino,
		   &off) != 2 || !off || line[off] != '/')
		return false;
	*path = line + off;
	base = strrchr(*path, '/') + 1;
	return !strncmp(base, LIB_NAME, strlen(LIB_NAME)) &&
	       !strstr(base, " (deleted)");
}

/* Returns 1 when the file is probed, 0 when it can't be, or a negative
 * errno. A file that can't be probed is remembered all the same: its
 * processes are reported rather than retried at every scan. */
static int lib_found(struct dt_tls_libs *l, uint32_t pid,
		     const struct lib_id *id, const char *path)
{
	const struct lib_id *known = lib_known(l, id);
	struct lib_id *added;
	char where[4096];
	int ret;

	if (known)
		return known->probed;
	/* remembered first: a file probed twice would report each call
	 * twice */
	ret = lib_remember(l, id);
	if (ret)
		return ret;
	added = &l->ids[l->nids - 1];
	/* through the process's root: it may live in another mount
	 * namespace (a container) */
	if (snprintf(where, sizeof(where), "/proc/%" PRIu32 "/root%s", pid,
		     path) < (int)sizeof(where))
		added->probed = !dt_tls_uprobe_attach(&l->links, l->progs,
						      l->probes, l->nprobes,
						      where);
	if (added->probed)
		l->probed++;
	return added->probed;
}

int dt_tls_libs_scan_pid(struct dt_tls_libs *l, uint32_t pid)
{
	char file[64], *line = NULL;
	size_t cap = 0;
	int ret = 0, probed = 0;
	ssize_t n;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (!ret && (n = getline(&line, &cap, f)) > 0) {
		struct lib_id id = { 0 };
		const char *path;

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!parse_maps_line(line, &id, &path))
			continue;
		ret = lib_found(l, pid, &id, path);
		if (ret > 0)
			probed = 1;
		ret = ret < 0 ? ret : 0;
	}
	free(line);
	fclose(f);
	return ret ? ret : probed;
}

int dt_tls_libs_scan_all(struct dt_tls_libs *l)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char *end;
		unsigned long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid > UINT32_MAX)
			continue;
		/* processes come and go, kernel threads map nothing */
		ret = dt_tls_libs_scan_pid(l, pid);
		if (ret != -ENOMEM)
			ret = 0;
	}
	closedir(d);
	return ret;
}
