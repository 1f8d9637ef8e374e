/* SPDX-License-Identifier: MIT */
/*
 * cli/daemon_client: the client side of the daemon's control protocol
 * (see deetune-daemon(8)): one JSON object per line over a Unix stream
 * socket, one response per request.
 */
#ifndef DEETUNE_CLI_DAEMON_CLIENT_H
#define DEETUNE_CLI_DAEMON_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct json_t;

#define CLI_DAEMON_SOCKET_DEFAULT "/run/deetune/deetune.sock"
/* What the daemon reads per request line (its limit, checked here too so
 * that the user gets the reason instead of a closed connection). */
#define CLI_DAEMON_REQUEST_MAX ((size_t)64 << 10)
/* Requests other than "wait" are answered at once. */
#define CLI_DAEMON_TIMEOUT_MS 10000

struct cli_daemon {
	int fd;
	const char *path;   /* not owned: the caller's string */
	char *buf;          /* owned: bytes read, up to one line and beyond */
	size_t len, cap;
};

/* The socket to use: opt (a --socket argument) when not NULL, else
 * $DEETUNE_SOCKET when set and not empty, else the default. */
const char *cli_daemon_socket_path(const char *opt);

/*
 * Connects to the daemon at path. Returns 0, or EXIT_USAGE after
 * printing why (no daemon there, permission denied). d is released with
 * cli_daemon_close() in both cases.
 */
int cli_daemon_connect(struct cli_daemon *d, const char *path);

/*
 * Sends req (one JSON object) and reads the one-line response, waiting
 * at most timeout_ms (-1: as long as it takes). On success *resp is the
 * response object with "ok": true, owned by the caller (json_decref()).
 * Otherwise returns EXIT_USAGE after printing the daemon's "error" (for
 * "ok": false) or what went wrong on the way.
 */
int cli_daemon_request(struct cli_daemon *d, struct json_t *req,
		       int timeout_ms, struct json_t **resp);

void cli_daemon_close(struct cli_daemon *d);

/* Parses a size: plain bytes, or a number followed by K, M, G or T
 * (also KiB, MiB, GiB, TiB): powers of 1024. Returns 0 or -EINVAL (also
 * past UINT64_MAX). */
int cli_parse_size(const char *s, uint64_t *bytes);

#endif /* DEETUNE_CLI_DAEMON_CLIENT_H */
