// SPDX-License-Identifier: MIT
/*
 * deetune-demo-backend: the "orders" service of DeeTune's three-tier demo
 * (nginx -> this -> redis-server and mariadbd, scripts/stack.sh). Options,
 * start-up, and a clean stop on SIGTERM or SIGINT; the routes are in
 * routes.c, the Redis and MySQL side in store.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mariadb/mysql.h>

#include "demo/backend.h"

#define PROG "deetune-demo-backend"
#define THREADS_MAX 64
#define PASSWORD_ENV "DEETUNE_DEMO_MYSQL_PASSWORD"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [options]\n"
		"\n"
		"The orders service of DeeTune's demo: a JSON API over HTTP whose\n"
		"items are cached in Redis in front of a MariaDB database.\n"
		"\n"
		"  GET  /health          200 {\"status\":\"ok\"}\n"
		"  GET  /api/items/ID    an item (Redis GET; on a miss MySQL SELECT, Redis SET)\n"
		"  POST /api/orders      {\"item_id\":N,\"qty\":N}: MySQL INSERT, Redis INCR; 201\n"
		"  GET  /api/fail        Redis INCR, then 500 on purpose\n"
		"\n"
		"  --listen ADDR:PORT    where to serve HTTP (127.0.0.1:8080; port 0 picks one)\n"
		"  --redis HOST:PORT     the cache (127.0.0.1:6379)\n"
		"  --mysql HOST:PORT     the database over TCP (127.0.0.1:3306)\n"
		"  --mysql-socket PATH   the database over a Unix socket instead\n"
		"  --mysql-user USER     database user (orders); the password, if any,\n"
		"                        comes from $" PASSWORD_ENV "\n"
		"  --mysql-db NAME       database (orders), with tables items and orders\n"
		"  --threads N           HTTP worker threads, each with its own Redis and\n"
		"                        MySQL connection (4)\n"
		"  -h, --help            this text\n"
		"\n"
		"Prints 'listening on ADDR:PORT' on stdout once it serves; stops cleanly\n"
		"on SIGTERM or SIGINT. Exit status: 0 stopped, 1 a server could not be\n"
		"reached or the address not bound, 2 bad usage.\n");
}

/* "HOST:PORT" or "[V6]:PORT" into host (a name or an address) and port. */
static int parse_host_port(const char *text, char *host, uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	size_t len;
	char *end;
	long p;

	if (!colon || colon == text || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end || errno || p > 65535)
		return -EINVAL;
	len = (size_t)(colon - text);
	if (text[0] == '[' && len > 2 && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len >= DEMO_HOST_MAX)
		return -EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static int parse_threads(const char *text, unsigned int *threads)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(text, &end, 10);
	if (errno || *end || end == text || n < 1 || n > THREADS_MAX)
		return -EINVAL;
	*threads = (unsigned int)n;
	return 0;
}

static int parse_args(int argc, char **argv, struct demo_config *cfg)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "redis", required_argument, NULL, 'r' },
		{ "mysql", required_argument, NULL, 'm' },
		{ "mysql-socket", required_argument, NULL, 's' },
		{ "mysql-user", required_argument, NULL, 'u' },
		{ "mysql-db", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx = 0, ret;

	while ((c = getopt_long(argc, argv, "h", options, &idx)) != -1) {
		ret = 0;
		switch (c) {
		case 'l':
			ret = parse_host_port(optarg, cfg->listen_host,
					      &cfg->listen_port);
			break;
		case 'r':
			ret = parse_host_port(optarg, cfg->redis_host,
					      &cfg->redis_port);
			break;
		case 'm':
			ret = parse_host_port(optarg, cfg->mysql_host,
					      &cfg->mysql_port);
			break;
		case 's':
			cfg->mysql_socket = optarg;
			break;
		case 'u':
			cfg->mysql_user = optarg;
			break;
		case 'd':
			cfg->mysql_db = optarg;
			break;
		case 't':
			ret = parse_threads(optarg, &cfg->threads);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
		if (ret < 0) {
			fprintf(stderr, PROG ": bad value '%s' for --%s\n",
				optarg, options[idx].name);
			return ret;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The listen address as a numeric sockaddr for libmicrohttpd. */
static int listen_addr(const struct demo_config *cfg,
		       struct sockaddr_storage *ss, unsigned int *flags)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->listen_host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(cfg->listen_port);
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->listen_host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(cfg->listen_port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -EINVAL;
}

static struct MHD_Daemon *serve(const struct demo_config *cfg,
				struct demo_pool *pool)
{
	unsigned int flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;

	if (listen_addr(cfg, &ss, &flags) < 0) {
		fprintf(stderr,
			PROG ": --listen wants a numeric address, not '%s'\n",
			cfg->listen_host);
		return NULL;
	}
	return MHD_start_daemon(
		flags, cfg->listen_port, NULL, NULL, demo_answer, pool,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
		MHD_OPTION_NOTIFY_COMPLETED, demo_request_done, NULL,
		MHD_OPTION_END);
}

/* SIGTERM and SIGINT are taken by sigwait in main, never by a handler. */
static void block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	/* A server closing on us is an error return, not a death. */
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct demo_config cfg = {
		.listen_host = "127.0.0.1", .listen_port = 8080,
		.redis_host = "127.0.0.1", .redis_port = 6379,
		.mysql_host = "127.0.0.1", .mysql_port = 3306,
		.mysql_user = "orders", .mysql_db = "orders",
		.threads = 4,
	};
	const union MHD_DaemonInfo *info;
	struct demo_pool *pool = NULL;
	struct MHD_Daemon *mhd;
	char err[512];
	sigset_t stop;
	int sig, rc = 1;

	if (parse_args(argc, argv, &cfg) < 0) {
		usage(stderr);
		return 2;
	}
	cfg.mysql_password = getenv(PASSWORD_ENV);
	block_stop_signals(&stop);
	if (mysql_library_init(0, NULL, NULL)) {
		fprintf(stderr, PROG ": cannot initialise the MySQL client\n");
		return 1;
	}
	if (demo_pool_open(&pool, &cfg, cfg.threads, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	mhd = serve(&cfg, pool);
	if (!mhd) {
		fprintf(stderr, PROG ": cannot serve HTTP on %s:%u\n",
			cfg.listen_host, cfg.listen_port);
		goto out;
	}
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on %s:%u\n", cfg.listen_host,
	       info ? info->port : cfg.listen_port);
	fflush(stdout);
	sigwait(&stop, &sig);
	MHD_stop_daemon(mhd);
	rc = 0;
out:
	demo_pool_close(pool);
	mysql_library_end();
	return rc;
}
