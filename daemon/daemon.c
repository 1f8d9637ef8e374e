// SPDX-License-Identifier: MIT
/*
 * daemon.c: the recorder daemon's life: state directory, recorder engine
 * with the topology as its observer, control socket and HTTP API, all
 * served by one thread from one poll loop until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/daemon_int.h"
#include "daemon/http_api.h"
#include "topo/topo.h"

/* the probes wake us only for large batches: poll on a short timer */
#define ENGINE_POLL_MS 10
/* running tasks' progress reaches the state directory this often */
#define SAVE_NS 2000000000ull
#define MAX_POLLFDS 160

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void save_progress(void *ctx, const struct dt_task_info *info)
{
	struct dt_daemon *d = ctx;
	struct dt_stored_task *t = dt_taskstore_find(d->store, info->id);

	if (!t)
		return;
	t->info = *info;
	dt_taskstore_save(d->store, t);
}

/* ---- HTTP routes ---- */

static int route_topology(void *ctx, FILE *out)
{
	struct dt_daemon *d = ctx;

	return d->topo ? dt_topo_render_json(d->topo, out) : -ENOENT;
}

/* The TASK list of the "list" request, as one JSON document. */
static int route_tasks(void *ctx, FILE *out)
{
	json_t *tasks = dt_tasks_json(ctx);
	int ret = -ENOMEM;

	if (tasks)
		ret = json_dumpf(tasks, out, JSON_COMPACT) ? -EIO : 0;
	if (!ret && fputc('\n', out) == EOF)
		ret = -EIO;
	json_decref(tasks);
	return ret;
}

static int route_metrics(void *ctx, FILE *out)
{
	struct dt_daemon *d = ctx;
	struct dt_topo_task_count counts[DT_TASK_INTERRUPTED + 1];
	struct dt_topo_daemon_metrics dm = {
		.tasks = counts,
		.ntasks = DT_TASK_INTERRUPTED + 1,
	};
	struct dt_stored_task *t;

	for (int s = DT_TASK_RUNNING; s <= DT_TASK_INTERRUPTED; s++)
		counts[s] = (struct dt_topo_task_count){
			dt_task_state_name(s), 0 };
	for (t = dt_taskstore_tasks(d->store); t; t = t->next)
		counts[t->info.state].count++;
	dt_recorder_get_stats(d->rec, &dm.recorder);
	return dt_topo_render_prom(d->topo, &dm, out);
}

static int start_http(struct dt_daemon *d, struct dt_http_api **api)
{
	const char *addr = d->opts->http_listen ? d->opts->http_listen :
			   DT_HTTP_API_DEFAULT_ADDR;
	struct dt_http_api_routes routes = {
		.metrics = route_metrics,
		.topology = route_topology,
		.tasks = route_tasks,
		.ctx = d,
	};
	char err[256];
	int ret;

	ret = dt_http_api_start(api, addr, &routes, err, sizeof(err));
	if (ret)
		fprintf(stderr, "deetune daemon: HTTP API on %s: %s\n", addr,
			err);
	return ret;
}

/* ---- the loop ---- */

static int serve(struct dt_daemon *d, struct dt_http_api *api)
{
	struct pollfd fds[MAX_POLLFDS];
	uint64_t last_save = mono_ns();
	size_t n, nctl;
	int ret;

	while (!dt_stop_signal()) {
		nctl = dt_control_pollfds(d->control, fds, MAX_POLLFDS - 1);
		n = nctl;
		if (api)
			fds[n++] = (struct pollfd){
				.fd = dt_http_api_poll_fd(api),
				.events = POLLIN };
		/* the engine's poll below does the waiting */
		if (poll(fds, n, 0) < 0 && errno != EINTR)
			return -errno;
		dt_control_handle(d->control, fds, nctl);
		if (api)
			dt_http_api_run(api);
		ret = dt_recorder_poll(d->rec, ENGINE_POLL_MS);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "deetune daemon: polling the ring "
				"buffer: %s\n", strerror(-ret));
			return ret;
		}
		if (mono_ns() - last_save >= SAVE_NS) {
			dt_recorder_task_foreach(d->rec, save_progress, d);
			last_save = mono_ns();
		}
	}
	return 0;
}

static int open_recorder(struct dt_daemon *d)
{
	const struct dt_daemon_opts *o = d->opts;
	struct dt_observer obs = { 0 };
	struct dt_recorder_opts ro = {
		.max_memory = o->max_memory,
		.observe = o->observe,
		.nobserve = o->nobserve,
	};
	struct dt_topo_opts to = { 0 };
	char err[512];
	int ret;

	/* the topology is only seen over HTTP */
	if (!o->http_listen || o->http_listen[0]) {
		ret = dt_topo_new(&d->topo, &to);
		if (ret) {
			fprintf(stderr, "deetune daemon: %s\n", strerror(-ret));
			return ret;
		}
		dt_topo_observer(d->topo, &obs);
		ro.observer = &obs;
		ro.tcp_events = true;
	}
	ret = dt_recorder_open(&d->rec, &ro, err, sizeof(err));
	if (ret)
		fprintf(stderr, "deetune daemon: %s\n", err);
	return ret;
}

static gid_t group_id(const char *name)
{
	struct group *gr = getgrnam(name);

	return gr ? gr->gr_gid : (gid_t)-1;
}

static int open_control(struct dt_daemon *d)
{
	const char *path = d->opts->socket_path ? d->opts->socket_path :
			   DT_DAEMON_SOCKET;
	const char *group = d->opts->group ? d->opts->group : DT_DAEMON_GROUP;
	gid_t gid = group_id(group);
	char err[512];
	int ret;

	if (gid == (gid_t)-1)
		fprintf(stderr, "deetune daemon: no group %s: only root may "
			"use the daemon\n", group);
	ret = dt_control_open(&d->control, path, gid, group, d, err,
			      sizeof(err));
	if (ret)
		fprintf(stderr, "deetune daemon: %s\n", err);
	return ret;
}

static int open_store(struct dt_daemon *d)
{
	const char *dir = d->opts->state_dir ? d->opts->state_dir :
			  DT_DAEMON_STATE_DIR;
	char err[512];
	int ret;

	ret = dt_taskstore_open(&d->store, dir, err, sizeof(err));
	if (ret)
		fprintf(stderr, "deetune daemon: %s\n", err);
	return ret;
}

int dt_daemon_run(const struct dt_daemon_opts *opts)
{
	struct dt_daemon d = {
		.opts = opts,
		.started_mono_ns = mono_ns(),
		.max_memory = opts->max_memory ? opts->max_memory :
			      DT_RECORDER_DEFAULT_MAX_MEMORY,
	};
	struct dt_http_api *api = NULL;
	int ret;

	/* task files 0640, state files 0640, directories 0750 */
	umask(027);
	dt_catch_stop_signals();
	/* a client that hangs up must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);
	/* a second daemon is told so before it loads any probe; clients
	 * connecting meanwhile wait in the listen backlog */
	ret = open_store(&d);
	if (!ret)
		ret = open_control(&d);
	if (!ret)
		ret = open_recorder(&d);
	if (!ret && d.topo)
		ret = start_http(&d, &api);
	if (!ret) {
		fprintf(stderr, "listening: %s\n", opts->socket_path ?
			opts->socket_path : DT_DAEMON_SOCKET);
		ret = serve(&d, api);
	}
	/* tasks end "stopped" with their files finalized; waiters hear it */
	dt_recorder_close(d.rec);
	d.rec = NULL;
	dt_control_close(d.control);
	dt_http_api_stop(api);
	if (d.topo)
		dt_topo_free(d.topo);
	dt_taskstore_free(d.store);
	return ret;
}
