// SPDX-License-Identifier: MIT
/* The client side of the daemon's control socket: connect, send one JSON
 * request line, read one JSON response line (see deetune-daemon(8)). */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/daemon_client.h"

/* A `task list` of every task the daemon remembers is the longest
 * response; anything past this is not a daemon talking. */
#define RESPONSE_MAX ((size_t)64 << 20)
#define READ_CHUNK ((size_t)64 << 10)

const char *cli_daemon_socket_path(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	env = getenv("DEETUNE_SOCKET");
	return env && *env ? env : CLI_DAEMON_SOCKET_DEFAULT;
}

static int connect_error(const char *path, int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return cli_error("permission denied on %s: needs root or "
				 "membership of the daemon's group", path);
	case ENOENT:
	case ECONNREFUSED:
		return cli_error("no daemon listening on %s (start it with "
				 "`deetune daemon`)", path);
	default:
		return cli_error("cannot connect to %s: %s", path,
				 strerror(err));
	}
}

int cli_daemon_connect(struct cli_daemon *d, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->path = path;
	if (strlen(path) >= sizeof(sa.sun_path))
		return cli_error("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return cli_error("socket: %s", strerror(errno));
	if (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return connect_error(path, errno);
	return 0;
}

void cli_daemon_close(struct cli_daemon *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->buf);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1: none), for poll(). */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
}

/* Waits until fd is ready for events or the deadline passes: 0, or
 * -ETIMEDOUT, or another negative errno. */
static int wait_ready(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, remaining_ms(deadline));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Writes all of line; MSG_NOSIGNAL, because a daemon that refuses us
 * answers and closes before reading, and its answer is still to read. */
static int send_all(struct cli_daemon *d, const char *line, size_t len,
		    int64_t deadline)
{
	ssize_t n;
	int err;

	while (len) {
		err = wait_ready(d->fd, POLLOUT, deadline);
		if (err)
			return err;
		n = send(d->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

static int grow_buffer(struct cli_daemon *d)
{
	size_t cap = d->cap ? d->cap * 2 : READ_CHUNK;
	char *p;

	if (d->cap >= RESPONSE_MAX)
		return -EMSGSIZE;
	if (cap > RESPONSE_MAX)
		cap = RESPONSE_MAX;
	p = realloc(d->buf, cap);
	if (!p)
		return -ENOMEM;
	d->buf = p;
	d->cap = cap;
	return 0;
}

/* Reads until d->buf holds a '\n'; *line_len is the line's length without
 * it. -EPIPE when the daemon closed the connection first. */
static int read_line(struct cli_daemon *d, size_t *line_len, int64_t deadline)
{
	size_t scanned = 0;
	char *nl;
	ssize_t n;
	int err;

	for (;;) {
		nl = d->len > scanned ?
		     memchr(d->buf + scanned, '\n', d->len - scanned) : NULL;
		if (nl) {
			*line_len = (size_t)(nl - d->buf);
			return 0;
		}
		scanned = d->len;
		if (d->len == d->cap && (err = grow_buffer(d)))
			return err;
		err = wait_ready(d->fd, POLLIN, deadline);
		if (err)
			return err;
		n = recv(d->fd, d->buf + d->len, d->cap - d->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		if (n == 0)
			return -EPIPE;
		d->len += (size_t)n;
	}
}

/* Removes the first line_len + 1 bytes (a line and its '\n') from buf:
 * a later request's response may follow. */
static void consume_line(struct cli_daemon *d, size_t line_len)
{
	d->len -= line_len + 1;
	memmove(d->buf, d->buf + line_len + 1, d->len);
}

static int transport_error(const struct cli_daemon *d, int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return cli_error("the daemon on %s did not answer in time",
				 d->path);
	case -EPIPE:
		return cli_error("the daemon on %s closed the connection "
				 "without answering", d->path);
	case -EMSGSIZE:
		return cli_error("the daemon on %s sent a response of more "
				 "than %zu MiB", d->path, RESPONSE_MAX >> 20);
	default:
		return cli_error("talking to the daemon on %s: %s", d->path,
				 strerror(-err));
	}
}

/* Turns a response line into *resp when it says "ok": true; otherwise
 * prints the daemon's error (made safe for the terminal). */
static int parse_response(const struct cli_daemon *d, const char *line,
			  size_t len, json_t **resp)
{
	char msg[512];
	json_error_t jerr;
	json_t *r, *ok;
	const char *text;

	r = json_loadb(line, len, 0, &jerr);
	ok = json_object_get(r, "ok");
	if (!json_is_boolean(ok)) {
		json_decref(r);
		return cli_error("the daemon on %s sent a malformed response%s%s",
				 d->path, r ? "" : ": ", r ? "" : jerr.text);
	}
	if (json_is_true(ok)) {
		*resp = r;
		return 0;
	}
	text = json_string_value(json_object_get(r, "error"));
	if (!text)
		text = "request failed (no reason given)";
	cli_terminal_safe(msg, sizeof(msg), text, strlen(text));
	json_decref(r);
	return cli_error("%s", msg);
}

int cli_daemon_request(struct cli_daemon *d, json_t *req, int timeout_ms,
		       json_t **resp)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t line_len;
	char *line;
	int err, send_err;

	*resp = NULL;
	line = json_dumps(req, JSON_COMPACT);
	if (!line)
		return cli_error("out of memory");
	line_len = strlen(line);
	if (line_len + 1 > CLI_DAEMON_REQUEST_MAX) {
		free(line);
		return cli_error("request too large (%zu bytes; the daemon "
				 "reads at most %zu)", line_len + 1,
				 CLI_DAEMON_REQUEST_MAX);
	}
	line[line_len] = '\n';   /* json_dumps' NUL: not sent */
	send_err = send_all(d, line, line_len + 1, deadline);
	free(line);
	/* A refusal is sent before the daemon reads: look for it even
	 * when sending failed. */
	err = read_line(d, &line_len, deadline);
	if (err)
		return transport_error(d, send_err && err == -EPIPE ?
				       send_err : err);
	err = parse_response(d, d->buf, line_len, resp);
	consume_line(d, line_len);
	return err;
}

struct size_unit {
	const char *suffix;
	unsigned int shift;
};

static const struct size_unit size_units[] = {
	{ "", 0 },
	{ "K", 10 }, { "KiB", 10 },
	{ "M", 20 }, { "MiB", 20 },
	{ "G", 30 }, { "GiB", 30 },
	{ "T", 40 }, { "TiB", 40 },
};
#define NSIZE_UNITS (sizeof(size_units) / sizeof(size_units[0]))

int cli_parse_size(const char *s, uint64_t *bytes)
{
	char digits[24];
	size_t n = strspn(s, "0123456789");
	uint64_t v;

	if (!n || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (cli_parse_u64(digits, &v))
		return -EINVAL;
	for (size_t i = 0; i < NSIZE_UNITS; i++) {
		if (strcmp(s + n, size_units[i].suffix))
			continue;
		if (v > UINT64_MAX >> size_units[i].shift)
			return -EINVAL;
		*bytes = v << size_units[i].shift;
		return 0;
	}
	return -EINVAL;
}
