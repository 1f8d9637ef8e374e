/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces between the daemon's parts:
 *   daemon.c     the poll loop, signals, the recorder and its observers
 *   control.c    the Unix control socket: peers, framing, authorisation
 *   requests.c   what each request does ("start", "list", ...)
 *   taskstore.c  tasks kept in the state directory across restarts
 *   output.c     opening a task's file with the requesting user's rights
 */
#ifndef DEETUNE_DAEMON_INT_H
#define DEETUNE_DAEMON_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "daemon/daemon.h"

/* Who is on the other end of a control connection (SO_PEERCRED). */
struct dt_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* ---- taskstore.c ---- */

/* A task the daemon knows of: running in the engine, or ended (also by a
 * previous daemon). */
struct dt_stored_task {
	uint64_t id;
	json_t *spec;              /* the SPEC of the protocol, owned */
	char *output;
	uid_t owner_uid;
	/* state and counters: refreshed from the engine while running,
	 * final once ended */
	struct dt_task_info info;
	struct dt_stored_task *next;
};

struct dt_taskstore;

/*
 * Creates dir and dir/tasks if needed, locks dir against a second daemon,
 * loads the tasks found there and marks those still "running" as
 * "interrupted" ("daemon restarted"). *out is owned by the caller
 * (dt_taskstore_free). Returns 0 or a negative errno with a message.
 */
int dt_taskstore_open(struct dt_taskstore **out, const char *dir,
		      char *err, size_t errlen);
/* The id the next task gets. */
uint64_t dt_taskstore_next_id(const struct dt_taskstore *s);
/* Records a task started with id dt_taskstore_next_id() and saves it;
 * spec is stolen. Returns the stored task (owned by the store) or NULL
 * when out of memory. */
struct dt_stored_task *dt_taskstore_add(struct dt_taskstore *s, json_t *spec,
					const char *output, uid_t owner,
					const struct dt_task_info *info);
/* Borrowed; NULL when unknown. */
struct dt_stored_task *dt_taskstore_find(struct dt_taskstore *s, uint64_t id);
/* Newest first; the list is owned by the store. */
struct dt_stored_task *dt_taskstore_tasks(struct dt_taskstore *s);
/* Writes the task's file (atomically). 0 or a negative errno. */
int dt_taskstore_save(struct dt_taskstore *s, const struct dt_stored_task *t);
void dt_taskstore_free(struct dt_taskstore *s);

/* The TASK object of the protocol; a new reference, NULL if out of
 * memory. */
json_t *dt_stored_task_json(const struct dt_stored_task *t);

/* ---- output.c ---- */

/* Opens (creates 0640, truncates) path for writing with the peer's
 * filesystem rights: the peer cannot make the daemon write where it could
 * not. Returns the fd (the caller closes it) or a negative errno. */
int dt_output_open(const char *path, const struct dt_peer *peer);

/* ---- requests.c ---- */

struct dt_daemon;

/*
 * Answers one request. Returns the response (a new reference), or NULL
 * for a "wait" on a running task: *wait_id is then the task whose end
 * dt_control_task_ended() will answer.
 */
json_t *dt_request_handle(struct dt_daemon *d, const struct dt_peer *peer,
			  json_t *req, uint64_t *wait_id);
/* The TASK objects of the "list" answer: running tasks first, then the
 * ended ones, newest first in each. A new reference, NULL if out of
 * memory. */
json_t *dt_tasks_json(struct dt_daemon *d);
/* {"ok":false,"code":code,"error":msg}; a new reference. */
json_t *dt_error_response(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- control.c ---- */

struct dt_control;

/*
 * Binds the control socket at path (refusing when another daemon answers
 * there, replacing a stale socket), mode 0660, group gid (-1: root only).
 * Requests go to dt_request_handle(d, ...). *out is owned by the caller
 * (dt_control_close). Returns 0 or a negative errno with a message.
 */
int dt_control_open(struct dt_control **out, const char *path, gid_t gid,
		    const char *group, struct dt_daemon *d, char *err,
		    size_t errlen);
/* Fills at most max pollfds to wait on; returns how many. */
size_t dt_control_pollfds(struct dt_control *c, struct pollfd *fds,
			  size_t max);
/* Serves what the pollfds filled by dt_control_pollfds report. */
void dt_control_handle(struct dt_control *c, const struct pollfd *fds,
		       size_t n);
/* Answers the "wait" requests on task id with task (borrowed). */
void dt_control_task_ended(struct dt_control *c, uint64_t id, json_t *task);
/* Closes every connection and removes the socket. NULL is a no-op. */
void dt_control_close(struct dt_control *c);

/* ---- daemon.c ---- */

struct dt_topo;

struct dt_daemon {
	const struct dt_daemon_opts *opts;
	struct dt_recorder *rec;
	struct dt_taskstore *store;
	struct dt_control *control;
	struct dt_topo *topo;      /* NULL without HTTP */
	uint64_t started_mono_ns;
	size_t max_memory;         /* effective */
};

#endif /* DEETUNE_DAEMON_INT_H */
