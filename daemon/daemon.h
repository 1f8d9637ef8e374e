/* SPDX-License-Identifier: MIT */
/*
 * daemon: the recorder as a host agent. It keeps the probes loaded for
 * its whole life, runs recording tasks that clients start and stop over a
 * Unix control socket (protocol: deetune-daemon(8)), keeps their states
 * in a state directory across restarts, and serves the service topology
 * and Prometheus metrics over HTTP.
 */
#ifndef DEETUNE_DAEMON_H
#define DEETUNE_DAEMON_H

#include <stddef.h>

#include "recorder/recorder.h"

#define DT_DAEMON_SOCKET "/run/deetune/deetune.sock"
#define DT_DAEMON_STATE_DIR "/var/lib/deetune"
#define DT_DAEMON_GROUP "deetune"

struct dt_daemon_opts {
	const char *socket_path;   /* NULL = DT_DAEMON_SOCKET */
	const char *state_dir;     /* NULL = DT_DAEMON_STATE_DIR */
	/* members of this group may use the socket besides root; NULL =
	 * DT_DAEMON_GROUP; a group that does not exist leaves root alone */
	const char *group;
	size_t max_memory;         /* 0 = the engine's default (256 MiB) */
	/* server selectors observed for the topology even with no task */
	const struct dt_selector *observe;
	size_t nobserve;
	/* "ADDR:PORT" of the HTTP API (metrics, topology, tasks); NULL =
	 * 127.0.0.1:9464, "" = no HTTP server (and no topology) */
	const char *http_listen;
};

/*
 * Runs the daemon in the foreground until SIGTERM or SIGINT, which stop
 * the running tasks (their files are finalized) before it returns 0.
 * Prints "listening: SOCKET" on stderr once clients can connect. Returns
 * a negative errno after printing one clear message when it cannot start
 * (no BPF, socket in use by another daemon, unusable state directory...).
 */
int dt_daemon_run(const struct dt_daemon_opts *opts);

#endif /* DEETUNE_DAEMON_H */
