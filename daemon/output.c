// SPDX-License-Identifier: MIT
/*
 * output.c: a task's file is opened with the rights of the user who asked
 * for it (filesystem uid, gid and supplementary groups), never with the
 * daemon's: a group member cannot make root write over /etc/shadow. The
 * daemon is single-threaded, so switching its identity around one open()
 * affects nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

#define MAX_GROUPS 256

/* The peer's supplementary groups (its primary one when it has no
 * account). Returns how many are in groups. */
static int peer_groups(const struct dt_peer *peer, gid_t *groups, int max)
{
	struct passwd *pw = getpwuid(peer->uid);
	int n = max;

	if (!pw || getgrouplist(pw->pw_name, peer->gid, groups, &n) < 0) {
		groups[0] = peer->gid;
		return 1;
	}
	return n;
}

static int create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
			    O_NOCTTY, 0640);

	return fd < 0 ? -errno : fd;
}

static int open_as(const char *path, const struct dt_peer *peer)
{
	gid_t mine[MAX_GROUPS], theirs[MAX_GROUPS];
	int nmine, ntheirs, fd;

	nmine = getgroups(MAX_GROUPS, mine);
	ntheirs = peer_groups(peer, theirs, MAX_GROUPS);
	if (nmine < 0 || setgroups(ntheirs, theirs))
		return -EPERM;
	setfsgid(peer->gid);
	setfsuid(peer->uid);
	fd = create_file(path);
	setfsuid(geteuid());
	setfsgid(getegid());
	if (setgroups(nmine, mine)) {
		/* the daemon would go on with the peer's groups */
		abort();
	}
	return fd;
}

int dt_output_open(const char *path, const struct dt_peer *peer)
{
	if (path[0] != '/')
		return -EINVAL;
	/* a daemon that is not root can only write as itself */
	if (geteuid() != 0)
		return create_file(path);
	return open_as(path, peer);
}
