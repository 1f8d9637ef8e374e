// SPDX-License-Identifier: MIT
/*
 * syscall_load: a tight syscall workload for the per-event cost measure
 * of the benchmark suite (bench/run.sh compiles it on the fly).
 *
 *   syscall_load pingpong PORT N   N HTTP exchanges over one loopback TCP
 *                                  connection to 127.0.0.1:PORT, client
 *                                  and server in this one thread: write,
 *                                  read, write, read (4 socket syscalls)
 *   syscall_load devnull N         N write()s of 64 bytes to /dev/null (a
 *                                  hooked syscall number on a non-socket)
 *   syscall_load getppid N         N getppid()s (a syscall nobody hooks)
 *
 * Prints one JSON object: the syscalls it made in the measured loop, the
 * wall time and its own CPU time (user + system, which includes the time
 * the BPF programs run in its syscalls and the loopback softirq work).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char request[] =
	"GET /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static const char response[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	"Content-Length: 16\r\n\r\n{\"status\":\"ok\"}\n";

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ns_of(&t);
}

static uint64_t cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return ns_of(&t);
}

/* Start of the measured loop, set by each mode after its setup. */
static uint64_t start_wall, start_cpu;

static void measure_start(void)
{
	start_wall = now_ns();
	start_cpu = cpu_ns();
}

static int die(const char *what)
{
	fprintf(stderr, "syscall_load: %s: %s\n", what, strerror(errno));
	return -1;
}

/* Reads exactly len bytes; a short read on loopback is rare but legal. */
static int read_full(int fd, char *buf, size_t len, uint64_t *calls)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		++*calls;
		if (n <= 0)
			return n ? die("read") : -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len, uint64_t *calls)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = write(fd, buf + put, len - put);

		++*calls;
		if (n <= 0)
			return die("write");
		put += (size_t)n;
	}
	return 0;
}

/* A connected pair over 127.0.0.1:port; returns 0 and both fds. */
static int tcp_pair(int port, int *client, int *server)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int one = 1, lfd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 1))
		return die("bind/listen");
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&sa, sizeof(sa)))
		return die("connect");
	*server = accept(lfd, NULL, NULL);
	if (*server < 0)
		return die("accept");
	close(lfd);
	setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static int pingpong(int port, uint64_t n, uint64_t *calls)
{
	char buf[sizeof(response)];
	int c = -1, s = -1;

	if (tcp_pair(port, &c, &s))
		return -1;
	measure_start();
	for (uint64_t i = 0; i < n; i++) {
		if (write_full(c, request, sizeof(request) - 1, calls) ||
		    read_full(s, buf, sizeof(request) - 1, calls) ||
		    write_full(s, response, sizeof(response) - 1, calls) ||
		    read_full(c, buf, sizeof(response) - 1, calls))
			return -1;
	}
	close(c);
	close(s);
	return 0;
}

static int devnull(uint64_t n, uint64_t *calls)
{
	char buf[64] = { 0 };
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0)
		return die("/dev/null");
	measure_start();
	for (uint64_t i = 0; i < n; i++) {
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			return die("write");
		++*calls;
	}
	close(fd);
	return 0;
}

static int getppids(uint64_t n, uint64_t *calls)
{
	measure_start();
	for (uint64_t i = 0; i < n; i++) {
		getppid();
		++*calls;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: syscall_load pingpong PORT N | devnull N | "
			"getppid N\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t calls = 0, wall, cpu, n;
	int ret;

	if (argc == 4 && !strcmp(argv[1], "pingpong")) {
		n = strtoull(argv[3], NULL, 10);
		ret = pingpong(atoi(argv[2]), n, &calls);
	} else if (argc == 3 && (!strcmp(argv[1], "devnull") ||
				 !strcmp(argv[1], "getppid"))) {
		n = strtoull(argv[2], NULL, 10);
		ret = argv[1][0] == 'd' ? devnull(n, &calls) :
					  getppids(n, &calls);
	} else {
		return usage();
	}
	if (ret)
		return 1;
	cpu = cpu_ns() - start_cpu;
	wall = now_ns() - start_wall;
	printf("{\"mode\":\"%s\",\"iterations\":%llu,\"syscalls\":%llu,"
	       "\"wall_ns\":%llu,\"cpu_ns\":%llu}\n",
	       argv[1], (unsigned long long)n, (unsigned long long)calls,
	       (unsigned long long)wall, (unsigned long long)cpu);
	return 0;
}
