// SPDX-License-Identifier: MIT
/*
 * The daemon's HTTP API: libmicrohttpd in external epoll mode (no threads
 * of its own; the daemon's poll loop drives it through one fd), each
 * route's body rendered by a daemon callback into a memory buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/http_api.h"

/* The API is for a scraper and a few humans, never for a crowd. */
#define HTTP_API_MAX_CONNECTIONS 64
#define HTTP_API_CONNECTION_TIMEOUT_S 10
#define HTTP_API_LISTEN_BACKLOG 64

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON "application/json"

struct http_route {
	const char *path;
	const char *content_type;
	int (*render)(void *ctx, FILE *out);
};

struct dt_http_api {
	struct MHD_Daemon *mhd;
	struct http_route routes[3];
	void *ctx;
	unsigned int port;
};

static const struct http_route *route_find(const struct dt_http_api *api,
					   const char *url)
{
	size_t i;

	for (i = 0; i < sizeof(api->routes) / sizeof(api->routes[0]); i++) {
		if (api->routes[i].render && !strcmp(url, api->routes[i].path))
			return &api->routes[i];
	}
	return NULL;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
			     struct MHD_Response *resp, const char *type)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    type) != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				    "no-store") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* body is a string literal: the response points at it. */
static enum MHD_Result queue_error(struct MHD_Connection *conn,
				   unsigned int status, const char *body)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	if (resp && status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
				    "GET, HEAD") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return queue(conn, status, resp, CT_JSON);
}

/*
 * Runs the route's callback into a memory stream. On success *buf (owned
 * by the caller, free()) holds *len bytes.
 */
static int render(const struct http_route *route, void *ctx, char **buf,
		  size_t *len)
{
	FILE *out;
	int ret;

	*buf = NULL;
	*len = 0;
	out = open_memstream(buf, len);
	if (!out)
		return -errno;
	ret = route->render(ctx, out);
	if (fclose(out) != 0 && ret == 0)
		ret = -ENOMEM;
	if (ret < 0) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

static enum MHD_Result answer_route(struct dt_http_api *api,
				    struct MHD_Connection *conn,
				    const struct http_route *route)
{
	struct MHD_Response *resp;
	size_t len;
	char *buf;

	if (render(route, api->ctx, &buf, &len) < 0)
		return queue_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "{\"error\":\"internal error\"}\n");
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		return MHD_NO;
	}
	return queue(conn, MHD_HTTP_OK, resp, route->content_type);
}

/*
 * libmicrohttpd's access handler. A response queued on the first call,
 * before the request is fully read, makes libmicrohttpd close the
 * connection: fine for a refused method (its body is not wanted), but
 * GET and HEAD answer on the second call to keep the connection alive.
 */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static int request_seen;
	struct dt_http_api *api = cls;
	const struct http_route *route;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return queue_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "{\"error\":\"method not allowed\"}\n");
	if (!*con_cls) {
		*con_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a GET body means nothing here */
		return MHD_YES;
	}
	route = route_find(api, url);
	if (!route)
		return queue_error(conn, MHD_HTTP_NOT_FOUND,
				   "{\"error\":\"not found\"}\n");
	/* HEAD: libmicrohttpd sends the headers of the GET answer only. */
	return answer_route(api, conn, route);
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric host into *ss. */
static int parse_addr(const char *text, struct sockaddr_storage *ss,
		      socklen_t *sslen)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	size_t hostlen;
	char *end;
	long port;

	if (!colon || colon == text)
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || port > 65535)
		return -EINVAL;
	hostlen = (size_t)(colon - text);
	if (text[0] == '[') {
		if (hostlen < 3 || text[hostlen - 1] != ']')
			return -EINVAL;
		text++;
		hostlen -= 2;
	} else if (memchr(text, ':', hostlen)) {
		return -EINVAL; /* "::1:80": which colon ends the address? */
	}
	if (hostlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/*
 * Our own listening socket rather than libmicrohttpd's: bind errors keep
 * their errno (libmicrohttpd only says it failed), and getsockname gives
 * the port picked for PORT 0. Returns the fd or a negative errno.
 */
static int listen_on(const struct sockaddr_storage *ss, socklen_t sslen,
		     unsigned int *port)
{
	struct sockaddr_storage bound;
	socklen_t boundlen = sizeof(bound);
	int fd, ret, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, sslen) < 0 ||
	    listen(fd, HTTP_API_LISTEN_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &boundlen) < 0)
		goto fail;
	*port = ntohs(bound.ss_family == AF_INET6 ?
			      ((struct sockaddr_in6 *)&bound)->sin6_port :
			      ((struct sockaddr_in *)&bound)->sin_port);
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

int dt_http_api_start(struct dt_http_api **out, const char *addr,
		      const struct dt_http_api_routes *routes, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	struct dt_http_api *api;
	socklen_t sslen;
	int fd, ret;

	*out = NULL;
	ret = parse_addr(addr, &ss, &sslen);
	if (ret < 0) {
		snprintf(err, errlen,
			 "bad HTTP address '%s' (want IP:PORT or [IPV6]:PORT)",
			 addr);
		return ret;
	}
	api = calloc(1, sizeof(*api));
	if (!api) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	api->routes[0] = (struct http_route){ "/metrics", CT_METRICS,
					      routes->metrics };
	api->routes[1] = (struct http_route){ "/api/v1/topology", CT_JSON,
					      routes->topology };
	api->routes[2] = (struct http_route){ "/api/v1/tasks", CT_JSON,
					      routes->tasks };
	api->ctx = routes->ctx;
	fd = listen_on(&ss, sslen, &api->port);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
			 strerror(-fd));
		free(api);
		return fd;
	}
	/* From here on libmicrohttpd owns fd and closes it on stop. */
	api->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, answer, api, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)HTTP_API_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)HTTP_API_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (!api->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server on %s",
			 addr);
		/* Whether a failed start closed fd varies between versions. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		free(api);
		return -EIO;
	}
	*out = api;
	return 0;
}

int dt_http_api_poll_fd(const struct dt_http_api *api)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

int dt_http_api_timeout_ms(const struct dt_http_api *api)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(api->mhd, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int dt_http_api_run(struct dt_http_api *api)
{
	return MHD_run(api->mhd) == MHD_YES ? 0 : -EIO;
}

unsigned int dt_http_api_port(const struct dt_http_api *api)
{
	return api->port;
}

void dt_http_api_stop(struct dt_http_api *api)
{
	if (!api)
		return;
	MHD_stop_daemon(api->mhd);
	free(api);
}
