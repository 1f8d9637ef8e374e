// SPDX-License-Identifier: MIT
/*
 * Service identity of a process: comm, executable, cgroup and what the
 * cgroup path says (container id, systemd unit), read from /proc once per
 * pid and kept in a bounded cache.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo/topo_int.h"

static bool is_hex_id(const char *s, size_t n)
{
	if (n != DT_TOPO_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* "<prefix><id>.scope" */
static bool scope_id(const char *c, size_t n, const char **id)
{
	static const char *const prefixes[] = {
		"docker-", "cri-containerd-", "crio-",
	};
	static const char suffix[] = ".scope";

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t p = strlen(prefixes[i]);

		if (n == p + DT_TOPO_CONTAINER_ID_LEN + sizeof(suffix) - 1 &&
		    !strncmp(c, prefixes[i], p) &&
		    !strncmp(c + n - (sizeof(suffix) - 1), suffix,
			     sizeof(suffix) - 1) &&
		    is_hex_id(c + p, DT_TOPO_CONTAINER_ID_LEN)) {
			*id = c + p;
			return true;
		}
	}
	return false;
}

/* A bare id under /docker/ or under a kubepods pod<uid> directory. */
static bool bare_id(const char *c, size_t n, const char *parent,
		    size_t parent_len)
{
	if (!is_hex_id(c, n) || !parent)
		return false;
	return (parent_len == 6 && !strncmp(parent, "docker", 6)) ||
	       (parent_len > 3 && !strncmp(parent, "pod", 3));
}

bool dt_topo_container_id(const char *cgroup_path, char *out)
{
	const char *c = cgroup_path, *parent = NULL, *found = NULL;
	size_t parent_len = 0;

	while (*c) {
		size_t n = strcspn(c, "/");
		const char *id;

		if (scope_id(c, n, &id))
			found = id;
		else if (bare_id(c, n, parent, parent_len))
			found = c;
		if (n) {
			parent = c;
			parent_len = n;
		}
		c += n;
		c += *c == '/';
	}
	if (!found)
		return false;
	memcpy(out, found, DT_TOPO_CONTAINER_ID_LEN);
	out[DT_TOPO_CONTAINER_ID_LEN] = '\0';
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && !strncmp(s + n - k, suffix, k);
}

bool dt_topo_systemd_unit(const char *cgroup_path, char *out, size_t size)
{
	const char *c = cgroup_path, *unit = NULL;
	size_t unit_len = 0;

	while (*c) {
		size_t n = strcspn(c, "/");

		if (ends_with(c, n, ".service") || ends_with(c, n, ".scope")) {
			unit = c;
			unit_len = n;
		}
		c += n;
		c += *c == '/';
	}
	if (!unit || !size)
		return false;
	if (unit_len >= size)
		unit_len = size - 1;
	memcpy(out, unit, unit_len);
	out[unit_len] = '\0';
	return true;
}

/* First line of proc_root/pid/name, without its newline; "" if none. */
static void read_proc_line(const char *proc_root, uint32_t pid,
			   const char *name, const char *prefix, char *buf,
			   size_t size)
{
	char path[4096], line[4096];
	size_t plen = strlen(prefix);
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%u/%s", proc_root, pid, name);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, plen))
			continue;
		line[strcspn(line, "\n")] = '\0';
		dt_topo_clean_text(buf, size, line + plen);
		break;
	}
	fclose(f);
}

static void ident_read(struct dt_topo_ident *id, const char *proc_root,
		       const char *comm)
{
	char path[4096], exe[4096];
	ssize_t n;

	/* the process's name (its main thread's), not the name of the
	 * thread that used the socket; that one only when the process is
	 * gone already */
	read_proc_line(proc_root, id->pid, "comm", "", id->comm,
		       sizeof(id->comm));
	if (!id->comm[0])
		dt_topo_clean_text(id->comm, sizeof(id->comm), comm);
	snprintf(path, sizeof(path), "%s/%u/exe", proc_root, id->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	dt_topo_clean_text(id->exe, sizeof(id->exe), exe);
	/* cgroup v2: the line "0::/path" */
	read_proc_line(proc_root, id->pid, "cgroup", "0::", id->cgroup,
		       sizeof(id->cgroup));
	if (!dt_topo_container_id(id->cgroup, id->container_id))
		id->container_id[0] = '\0';
	if (!dt_topo_systemd_unit(id->cgroup, id->unit, sizeof(id->unit)))
		id->unit[0] = '\0';
}

static void ident_evict_oldest(struct dt_topo_ident_cache *c)
{
	struct dt_topo_ident *oldest = c->by_pid;

	HASH_DEL(c->by_pid, oldest);
	free(oldest);
	c->n--;
}

const struct dt_topo_ident *
dt_topo_ident_get(struct dt_topo_ident_cache *c, uint32_t pid,
		  const char *comm)
{
	struct dt_topo_ident *id;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	HASH_FIND(hh, c->by_pid, &pid, sizeof(pid), id);
	/* thread names vary within a process: only age tells a pid reused
	 * or a process exec'd */
	if (id && now.tv_sec - id->read_at.tv_sec < DT_TOPO_IDENT_TTL_S)
		return id;
	if (id) {
		HASH_DEL(c->by_pid, id);
		c->n--;
	} else {
		id = malloc(sizeof(*id));
		if (!id)
			return NULL;
	}
	memset(id, 0, sizeof(*id));
	id->pid = pid;
	id->read_at = now;
	ident_read(id, c->proc_root, comm);
	if (c->n >= c->max)
		ident_evict_oldest(c);
	HASH_ADD(hh, c->by_pid, pid, sizeof(id->pid), id);
	c->n++;
	return id;
}

void dt_topo_ident_cache_release(struct dt_topo_ident_cache *c)
{
	struct dt_topo_ident *id, *tmp;

	HASH_ITER(hh, c->by_pid, id, tmp) {
		HASH_DEL(c->by_pid, id);
		free(id);
	}
	c->n = 0;
}
