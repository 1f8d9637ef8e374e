/* SPDX-License-Identifier: MIT */
/*
 * The daemon's HTTP API (private to daemon/): a libmicrohttpd server
 * without threads of its own, driven from the daemon's single-threaded
 * poll loop, serving
 *
 *   GET|HEAD /metrics          text/plain; version=0.0.4 (Prometheus)
 *   GET|HEAD /api/v1/topology  application/json
 *   GET|HEAD /api/v1/tasks     application/json
 *
 * Any other path answers 404 and any other method 405 (with Allow), both
 * with a small JSON error body. The content comes from callbacks the
 * daemon supplies, called on the poll loop's thread while a request is
 * being answered, so they may read the daemon's state without locks.
 *
 * Integration with poll(2):
 *
 *	struct pollfd p = { .fd = dt_http_api_poll_fd(api), .events = POLLIN };
 *	poll(&p, 1, min(own_timeout, dt_http_api_timeout_ms(api)));
 *	dt_http_api_run(api);   (whether or not the fd was readable)
 */
#ifndef DEETUNE_DAEMON_HTTP_API_H
#define DEETUNE_DAEMON_HTTP_API_H

#include <stddef.h>
#include <stdio.h>

#define DT_HTTP_API_DEFAULT_ADDR "127.0.0.1:9464"

struct dt_http_api;

/*
 * A route callback writes the whole body to out and returns 0, or returns
 * a negative errno to answer 500. A NULL callback answers 404, as for an
 * unknown path. ctx is passed through unchanged.
 */
struct dt_http_api_routes {
	int (*metrics)(void *ctx, FILE *out);
	int (*topology)(void *ctx, FILE *out);
	int (*tasks)(void *ctx, FILE *out);
	void *ctx;
};

/*
 * Listens on addr ("HOST:PORT", "[V6ADDR]:PORT"; HOST is a numeric
 * address; PORT 0 picks a free port, see dt_http_api_port) and serves
 * routes (copied; routes->ctx must outlive the server). On success *out
 * is the server, owned by the caller and released by dt_http_api_stop.
 * On failure returns -EINVAL (bad address) or another negative errno
 * (e.g. -EADDRINUSE) with a message in err.
 */
int dt_http_api_start(struct dt_http_api **out, const char *addr,
		      const struct dt_http_api_routes *routes, char *err,
		      size_t errlen);

/* The one fd to poll for POLLIN (an epoll fd covering every socket). */
int dt_http_api_poll_fd(const struct dt_http_api *api);

/*
 * The longest the caller may poll before calling dt_http_api_run
 * (connection timeouts, work already pending), in ms; -1 for no limit.
 */
int dt_http_api_timeout_ms(const struct dt_http_api *api);

/* Accepts, reads and answers whatever is ready without blocking. 0 or -EIO. */
int dt_http_api_run(struct dt_http_api *api);

/* The port actually bound (useful after PORT 0). */
unsigned int dt_http_api_port(const struct dt_http_api *api);

/* Closes every connection and the listening socket; frees api. NULL is a no-op. */
void dt_http_api_stop(struct dt_http_api *api);

#endif /* DEETUNE_DAEMON_HTTP_API_H */
