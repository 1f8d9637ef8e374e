// SPDX-License-Identifier: MIT
/* Helpers shared by the subcommands: messages, input files, text for the
 * terminal, numbers and durations, and the final check of stdout. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "formats/formats.h"
#include "recorder/recorder.h"

/*
 * Input that cannot be mapped (a pipe, a terminal, a /proc file) is read
 * into memory; past this size the user should give a path instead, which
 * is mapped without a copy.
 */
#define CLI_READ_MAX ((size_t)1 << 30)
#define CLI_READ_CHUNK ((size_t)64 << 10)

static const char *cli_command;

void cli_begin_command(char **argv, const char *name)
{
	static char prog[64];

	cli_command = name;
	snprintf(prog, sizeof(prog), "deetune %s", name);
	argv[0] = prog;
}

int cli_bad_usage(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

static void vmessage(const char *fmt, va_list ap)
{
	if (cli_command)
		fprintf(stderr, "deetune %s: ", cli_command);
	else
		fputs("deetune: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

const char *cli_file_label(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

void cli_terminal_safe(char *dst, size_t size, const void *src, size_t len)
{
	const uint8_t *p = src;
	size_t i = 0, o = 0, step;

	if (!size)
		return;
	while (i < len) {
		step = dt_utf8_seq_len(p + i, len - i);
		if (!step || (step == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (step == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			step = 1;
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
		} else {
			if (o + step >= size)
				break;
			memcpy(dst + o, p + i, step);
			o += step;
		}
		i += step;
	}
	dst[o] = '\0';
}

/* Reads fd to its end into a malloc'd buffer of at most CLI_READ_MAX
 * bytes. On success f owns the buffer (freed by cli_file_close()). */
static int read_all(struct cli_file *f, int fd)
{
	uint8_t *buf = NULL, *grown;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len == cap) {
			if (cap >= CLI_READ_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : CLI_READ_CHUNK;
			if (cap > CLI_READ_MAX)
				cap = CLI_READ_MAX;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			free(buf);
			return n;
		}
		len += (size_t)n;
	}
	f->data = buf;
	f->len = len;
	f->mapped = 0;
	return 0;
}

static int map_all(struct cli_file *f, int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	f->data = p;
	f->len = size;
	f->mapped = 1;
	return 0;
}

/*
 * Regular files are mapped whole (also when they come in on stdin through
 * a redirection); anything else, and empty files, which mmap() refuses,
 * are read. A file that shrinks while mapped raises SIGBUS on access: the
 * recorder only ever appends, so that takes deliberate truncation.
 */
static int load_fd(struct cli_file *f, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return read_all(f, fd);
	if ((uint64_t)st.st_size > SIZE_MAX)
		return -EFBIG;
	return map_all(f, fd, (size_t)st.st_size);
}

int cli_file_open(struct cli_file *f, const char *path)
{
	const char *label = cli_file_label(path);
	int fd = STDIN_FILENO, err;

	memset(f, 0, sizeof(*f));
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			cli_warn("cannot open %s: %s", label, strerror(-err));
			return err;
		}
	}
	err = load_fd(f, fd);
	if (fd != STDIN_FILENO)
		close(fd);
	if (err == -EFBIG)
		cli_warn("cannot read %s: more than %zu MiB; give the path of "
			 "a regular file instead", label, CLI_READ_MAX >> 20);
	else if (err)
		cli_warn("cannot read %s: %s", label, strerror(-err));
	return err;
}

void cli_file_close(struct cli_file *f)
{
	if (f->mapped)
		munmap((void *)f->data, f->len);
	else
		free((void *)f->data);
	memset(f, 0, sizeof(*f));
}

struct duration_unit {
	const char *suffix;
	uint64_t ns;
};

static const struct duration_unit duration_units[] = {
	{ "", 1000000000ull },   /* a bare number counts seconds */
	{ "ns", 1ull },
	{ "us", 1000ull },
	{ "ms", 1000000ull },
	{ "s", 1000000000ull },
	{ "m", 60000000000ull },
	{ "h", 3600000000000ull },
};
#define NUNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* Parses the decimal digits at the start of s into *value; *end points
 * past them. -EINVAL without a digit or past UINT64_MAX. */
static int parse_decimal_prefix(const char *s, uint64_t *value,
				const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*value = v;
	*end = p;
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *value)
{
	const char *end;

	if (parse_decimal_prefix(s, value, &end) < 0 || *end)
		return -EINVAL;
	return 0;
}

int cli_parse_duration(const char *s, uint64_t *ns)
{
	const struct duration_unit *u;
	const char *suffix;
	uint64_t value;

	if (parse_decimal_prefix(s, &value, &suffix) < 0)
		return -EINVAL;
	for (u = duration_units; u < duration_units + NUNITS; u++) {
		if (strcmp(suffix, u->suffix))
			continue;
		if (value > UINT64_MAX / u->ns)
			return -EINVAL;
		*ns = value * u->ns;
		return 0;
	}
	return -EINVAL;
}

/* errno of the first failed write to stdout seen by cli_stdout_failed():
 * glibc drops the buffer on a failed write, so a later fflush() succeeds
 * and cannot tell what went wrong. */
static int stdout_errno;

bool cli_stdout_failed(void)
{
	if (!ferror(stdout))
		return false;
	if (!stdout_errno)
		stdout_errno = errno ? errno : EIO;
	return true;
}

void cli_flush_stdout(void)
{
	if (fflush(stdout) != 0)
		cli_stdout_failed();
}

/*
 * SIGPIPE keeps its default action, so `deetune cat s | head` ends quietly
 * by the signal, like cat(1). When the caller ignores SIGPIPE, the write
 * fails with EPIPE instead: the reader went away on purpose, so that is
 * not reported either and the exit code stays as it was. Any other error
 * (ENOSPC, EIO, ...) means lost output and turns the exit code into 2.
 */
int cli_finish_stdout(int code)
{
	int err = 0;

	if (fflush(stdout) != 0)
		err = errno;
	else if (ferror(stdout))
		err = stdout_errno ? stdout_errno : EIO;
	if (!err || err == EPIPE)
		return code;
	fprintf(stderr, "deetune: write error: %s\n", strerror(err));
	return EXIT_USAGE;
}

int cli_add_selector(struct dt_selector *sels, size_t *n, size_t max,
		     const char *text, bool server)
{
	char err[256];

	if (*n == max)
		return cli_error("at most %zu selectors", max);
	if (dt_selector_parse(&sels[*n], text, server, err, sizeof(err)))
		return cli_error("%s", err);
	(*n)++;
	return 0;
}

int cli_add_match(struct dt_match *m, size_t *n, size_t max,
		  const char *text)
{
	char err[256];

	if (*n == max)
		return cli_error("at most %zu --match expressions", max);
	if (dt_match_parse(&m[*n], text, err, sizeof(err)))
		return cli_error("%s", err);
	(*n)++;
	return 0;
}
