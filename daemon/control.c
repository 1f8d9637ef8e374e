// SPDX-License-Identifier: MIT
/*
 * control.c: the daemon's Unix control socket. Non-blocking, served from
 * the daemon's poll loop: one JSON request per line in, one JSON response
 * per line out, in order. A "wait" holds its connection's later requests
 * back until the task ends. Peers are authorised once, at accept, by
 * their credentials (SO_PEERCRED): root, or a member of the group.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

#define MAX_LINE (64u << 10)
#define MAX_CLIENTS 128
/* a peer that does not read its answers is dropped past this */
#define MAX_OUT (16u << 20)
#define MAX_GROUPS 256

struct client {
	int fd;
	struct dt_peer peer;
	char *in;                  /* MAX_LINE + 1 bytes */
	size_t inlen;
	char *out;
	size_t outlen, outcap;
	uint64_t wait_id;          /* a "wait" on this task is pending */
	bool eof;                  /* the peer sends nothing more */
	bool closing;              /* close once out is written */
	bool dead;
};

struct dt_control {
	int lfd;
	char *path;
	gid_t gid;                 /* (gid_t)-1: root only */
	char group[64];
	struct dt_daemon *d;
	struct client *clients[MAX_CLIENTS];
	size_t nclients;
	/* the clients in the order dt_control_pollfds listed them */
	struct client *polled[MAX_CLIENTS];
	size_t npolled;
	bool listen_polled;
};

/* ---- output ---- */

static void client_flush(struct client *c)
{
	while (c->outlen && !c->dead) {
		ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			return;
		}
		memmove(c->out, c->out + n, c->outlen - n);
		c->outlen -= n;
	}
	if (!c->outlen && c->closing)
		c->dead = true;
}

static void client_send(struct client *c, json_t *resp)
{
	char *text = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	size_t len;

	if (!text) {
		c->dead = true;
		return;
	}
	len = strlen(text);
	if (c->outlen + len + 1 > MAX_OUT) {
		c->dead = true;
	} else if (c->outlen + len + 1 > c->outcap) {
		size_t cap = (c->outlen + len + 1) * 2;
		char *p = realloc(c->out, cap);

		if (!p)
			c->dead = true;
		else {
			c->out = p;
			c->outcap = cap;
		}
	}
	if (!c->dead) {
		memcpy(c->out + c->outlen, text, len);
		c->out[c->outlen + len] = '\n';
		c->outlen += len + 1;
		client_flush(c);
	}
	free(text);
}

/* ---- requests ---- */

static void serve_line(struct dt_control *ctl, struct client *c,
		       const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *resp;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		resp = dt_error_response("invalid", "not JSON: %s", jerr.text);
	else
		resp = dt_request_handle(ctl->d, &c->peer, req, &c->wait_id);
	json_decref(req);
	if (resp || !c->wait_id)
		client_send(c, resp);
	json_decref(resp);
}

/* Serves the complete lines buffered, unless a wait holds them back. */
static void serve_lines(struct dt_control *ctl, struct client *c)
{
	char *nl;

	while (!c->dead && !c->closing && !c->wait_id &&
	       (nl = memchr(c->in, '\n', c->inlen))) {
		size_t len = nl - c->in;

		serve_line(ctl, c, c->in, len);
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
	}
	if (c->dead || c->closing || c->wait_id)
		return;
	if (c->inlen > MAX_LINE) {
		json_t *e = dt_error_response("invalid", "request line longer "
					      "than %u bytes", MAX_LINE);

		client_send(c, e);
		json_decref(e);
		c->closing = true;
		client_flush(c);
	} else if (c->eof) {
		c->closing = true;
		client_flush(c);
	}
}

static void client_read(struct client *c)
{
	ssize_t n;

	if (c->eof || c->inlen > MAX_LINE)
		return;
	n = read(c->fd, c->in + c->inlen, MAX_LINE + 1 - c->inlen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = true;
		return;
	}
	if (n == 0)
		c->eof = true;
	c->inlen += n;
}

/* ---- authorisation ---- */

static bool in_group(const struct dt_control *ctl, const struct dt_peer *p)
{
	gid_t groups[MAX_GROUPS];
	struct passwd *pw;
	int n = MAX_GROUPS;

	if (ctl->gid == (gid_t)-1)
		return false;
	if (p->gid == ctl->gid)
		return true;
	pw = getpwuid(p->uid);
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == ctl->gid)
			return true;
	return false;
}

static void authorise(struct dt_control *ctl, struct client *c)
{
	json_t *e;

	if (c->peer.uid == 0 || in_group(ctl, &c->peer))
		return;
	e = dt_error_response("denied", "permission denied: uid %u is "
			      "neither root nor in group %s",
			      (unsigned)c->peer.uid, ctl->group);
	client_send(c, e);
	json_decref(e);
	c->closing = true;
	client_flush(c);
}

/* ---- connections ---- */

static void client_free(struct client *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void accept_client(struct dt_control *ctl)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->in = malloc(MAX_LINE + 1)) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    ctl->nclients == MAX_CLIENTS) {
		if (c)
			free(c->in);
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->peer = (struct dt_peer){ cred.pid, cred.uid, cred.gid };
	ctl->clients[ctl->nclients++] = c;
	authorise(ctl, c);
}

static void reap_clients(struct dt_control *ctl)
{
	size_t kept = 0;

	for (size_t i = 0; i < ctl->nclients; i++) {
		if (ctl->clients[i]->dead)
			client_free(ctl->clients[i]);
		else
			ctl->clients[kept++] = ctl->clients[i];
	}
	ctl->nclients = kept;
}

size_t dt_control_pollfds(struct dt_control *ctl, struct pollfd *fds,
			  size_t max)
{
	size_t n = 0;

	ctl->npolled = 0;
	ctl->listen_polled = ctl->nclients < MAX_CLIENTS && max > 0;
	if (ctl->listen_polled)
		fds[n++] = (struct pollfd){ .fd = ctl->lfd, .events = POLLIN };
	for (size_t i = 0; i < ctl->nclients && n < max; i++) {
		struct client *c = ctl->clients[i];
		short ev = 0;

		if (!c->eof && !c->closing && c->inlen <= MAX_LINE)
			ev |= POLLIN;
		if (c->outlen)
			ev |= POLLOUT;
		fds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		ctl->polled[ctl->npolled++] = c;
	}
	return n;
}

void dt_control_handle(struct dt_control *ctl, const struct pollfd *fds,
		       size_t n)
{
	size_t first = ctl->listen_polled ? 1 : 0;

	for (size_t i = first; i < n && i - first < ctl->npolled; i++) {
		struct client *c = ctl->polled[i - first];

		if (fds[i].revents & (POLLERR | POLLNVAL))
			c->dead = true;
		if (fds[i].revents & (POLLIN | POLLHUP))
			client_read(c);
		/* gone both ways: no answer can reach it (a half-closed
		 * peer still reads, and reports no POLLHUP) */
		if (fds[i].revents & POLLHUP)
			c->dead = true;
		if (fds[i].revents & POLLOUT)
			client_flush(c);
	}
	/* also lines a finished wait released */
	for (size_t i = 0; i < ctl->nclients; i++)
		serve_lines(ctl, ctl->clients[i]);
	reap_clients(ctl);
	if (first && n && (fds[0].revents & POLLIN))
		accept_client(ctl);
	ctl->npolled = 0;
}

void dt_control_task_ended(struct dt_control *ctl, uint64_t id, json_t *task)
{
	json_t *resp = json_pack("{sb sO}", "ok", 1, "task", task);

	/* the lines held back are served by the next dt_control_handle():
	 * this runs inside the recorder, which must not be re-entered */
	for (size_t i = 0; i < ctl->nclients; i++) {
		struct client *c = ctl->clients[i];

		if (c->wait_id != id)
			continue;
		c->wait_id = 0;
		client_send(c, resp);
	}
	json_decref(resp);
}

/* ---- the listening socket ---- */

static int socket_address(struct sockaddr_un *sun, const char *path,
			  char *err, size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* Another daemon answering at path is left alone; a socket nobody
 * listens on (a daemon killed) is removed. */
static int clear_stale(const struct sockaddr_un *sun, char *err,
		       size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (lstat(sun->sun_path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
			 sun->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (!ret) {
		snprintf(err, errlen, "another daemon is listening on %s",
			 sun->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sun->sun_path) && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the stale socket %s: %s",
			 sun->sun_path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The socket's directory, when the daemon creates it, lets only root and
 * the group in. An existing one (e.g. /tmp for tests) is left as it is. */
static int make_socket_dir(const char *path, gid_t gid, char *err,
			   size_t errlen)
{
	char *copy = strdup(path), *dir;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (mkdir(dir, 0750) == 0) {
		if (gid != (gid_t)-1 && geteuid() == 0 && chown(dir, 0, gid))
			ret = -errno;
	} else if (errno != EEXIST) {
		ret = -errno;
	}
	if (ret)
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(-ret));
	free(copy);
	return ret;
}

static int bind_socket(struct dt_control *ctl, char *err, size_t errlen)
{
	/* only root can hand a file to a group it is not in */
	bool give_group = ctl->gid != (gid_t)-1 && geteuid() == 0;
	struct sockaddr_un sun;
	int ret;

	ret = socket_address(&sun, ctl->path, err, errlen);
	if (!ret)
		ret = make_socket_dir(ctl->path, ctl->gid, err, errlen);
	if (!ret)
		ret = clear_stale(&sun, err, errlen);
	if (ret)
		return ret;
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0);
	if (ctl->lfd < 0 ||
	    bind(ctl->lfd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", ctl->path,
			 strerror(errno));
		return ret;
	}
	if (chmod(ctl->path, 0660) || (give_group && chown(ctl->path, 0,
							   ctl->gid)) ||
	    listen(ctl->lfd, 64)) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", ctl->path,
			 strerror(errno));
		unlink(ctl->path);
		return ret;
	}
	return 0;
}

int dt_control_open(struct dt_control **out, const char *path, gid_t gid,
		    const char *group, struct dt_daemon *d, char *err,
		    size_t errlen)
{
	struct dt_control *ctl = calloc(1, sizeof(*ctl));
	int ret;

	if (!ctl || !(ctl->path = strdup(path))) {
		free(ctl);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ctl->lfd = -1;
	ctl->gid = gid;
	ctl->d = d;
	snprintf(ctl->group, sizeof(ctl->group), "%s", group);
	ret = bind_socket(ctl, err, errlen);
	if (ret) {
		if (ctl->lfd >= 0)
			close(ctl->lfd);
		free(ctl->path);
		free(ctl);
		return ret;
	}
	*out = ctl;
	return 0;
}

void dt_control_close(struct dt_control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < ctl->nclients; i++) {
		client_flush(ctl->clients[i]);
		client_free(ctl->clients[i]);
	}
	close(ctl->lfd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
