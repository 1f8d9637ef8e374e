// SPDX-License-Identifier: MIT
/*
 * Redis redaction: the credentials of every command in a request buffer
 * (several when pipelined, RESP arrays or inline commands), found with the
 * formats RESP codec:
 *   AUTH [user] pass                  pass
 *   HELLO ver AUTH user pass ...      pass
 *   MIGRATE ... AUTH pass | AUTH2 user pass (before KEYS)
 *   CONFIG SET name value ...         values of the secret parameters
 *   SENTINEL SET master name value .. likewise (auth-pass)
 *   ACL SETUSER user rule ...         >pass, <pass, #hash, !hash rules
 * Arguments are masked where the codec found them: the bytes of a bulk
 * string, or of an inline word (inside its quotes), so the RESP lengths
 * stay true.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact/redact_int.h"

/* Arguments decoded without allocating; longer CONFIG SET and ACL SETUSER
 * commands get an array of their size. */
#define RESP_ARGV 32

static const char *const secret_params[] = {
	"requirepass", "masterauth", "auth-pass", "tls-key-file-pass",
	"tls-client-key-file-pass", "sentinel-pass",
};

static bool arg_is(const struct dt_slice *a, const char *word)
{
	return a->len == strlen(word) &&
	       !strncasecmp((const char *)a->ptr, word, a->len);
}

static bool secret_param(const struct dt_slice *a)
{
	for (size_t i = 0; i < sizeof(secret_params) / sizeof(*secret_params);
	     i++)
		if (arg_is(a, secret_params[i]))
			return true;
	return false;
}

static void mask_arg(struct dt_redact_ctx *c, const struct dt_slice *argv,
		     size_t argc, size_t i)
{
	if (i < argc)
		dt_redact_span(c, (uint8_t *)argv[i].ptr, argv[i].len);
}

/* AUTH pass, AUTH user pass (more arguments: all but the first) */
static void redact_auth(struct dt_redact_ctx *c, const struct dt_slice *argv,
			size_t argc)
{
	for (size_t i = argc > 2 ? 2 : 1; i < argc; i++)
		mask_arg(c, argv, argc, i);
}

/* HELLO [protover [AUTH user pass] [SETNAME name]] */
static void redact_hello(struct dt_redact_ctx *c, const struct dt_slice *argv,
			 size_t argc)
{
	for (size_t i = 1; i < argc;) {
		if (arg_is(&argv[i], "AUTH")) {
			mask_arg(c, argv, argc, i + 2);
			i += 3;
		} else {
			i += arg_is(&argv[i], "SETNAME") ? 2 : 1;
		}
	}
}

/* MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH pass |
 * AUTH2 user pass] [KEYS key ...] */
static void redact_migrate(struct dt_redact_ctx *c,
			   const struct dt_slice *argv, size_t argc)
{
	for (size_t i = 6; i < argc && !arg_is(&argv[i], "KEYS"); i++) {
		if (arg_is(&argv[i], "AUTH"))
			mask_arg(c, argv, argc, ++i);
		else if (arg_is(&argv[i], "AUTH2"))
			mask_arg(c, argv, argc, i += 2);
	}
}

/* name value pairs from argv[from] */
static void redact_params(struct dt_redact_ctx *c, const struct dt_slice *argv,
			  size_t argc, size_t from)
{
	for (size_t i = from; i + 1 < argc; i += 2)
		if (secret_param(&argv[i]))
			mask_arg(c, argv, argc, i + 1);
}

/* ACL SETUSER user rule...: the password or hash after the rule's sign */
static void redact_acl_rules(struct dt_redact_ctx *c,
			     const struct dt_slice *argv, size_t argc)
{
	for (size_t i = 3; i < argc; i++)
		if (argv[i].len > 1 && strchr("<>#!", argv[i].ptr[0]))
			dt_redact_span(c, (uint8_t *)argv[i].ptr + 1,
				       argv[i].len - 1);
}

/* Whether a command needs all its arguments decoded, not the first
 * RESP_ARGV. */
static bool wants_all_args(const struct dt_slice *argv, size_t argc)
{
	return argc > 1 && (arg_is(&argv[0], "CONFIG") ||
			    arg_is(&argv[0], "ACL") ||
			    arg_is(&argv[0], "SENTINEL"));
}

static void redact_command(struct dt_redact_ctx *c,
			   const struct dt_slice *argv, size_t argc)
{
	if (arg_is(&argv[0], "AUTH"))
		redact_auth(c, argv, argc);
	else if (arg_is(&argv[0], "HELLO"))
		redact_hello(c, argv, argc);
	else if (arg_is(&argv[0], "MIGRATE"))
		redact_migrate(c, argv, argc);
	else if (argc > 1 && arg_is(&argv[0], "CONFIG") &&
		 arg_is(&argv[1], "SET"))
		redact_params(c, argv, argc, 2);
	else if (argc > 1 && arg_is(&argv[0], "SENTINEL") &&
		 arg_is(&argv[1], "SET"))
		redact_params(c, argv, argc, 3);
	else if (argc > 2 && arg_is(&argv[0], "ACL") &&
		 arg_is(&argv[1], "SETUSER"))
		redact_acl_rules(c, argv, argc);
}

/* A "*<n>" or "$<n>" line at *pos, moving *pos past it; false when it is
 * cut short or not one. */
static bool length_line(const uint8_t *buf, size_t len, size_t *pos,
			uint8_t type, uint64_t *n)
{
	size_t i = *pos;

	if (i >= len || buf[i++] != type || i >= len ||
	    buf[i] < '0' || buf[i] > '9')
		return false;
	for (*n = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (*n > DT_RESP_MAX_BULK)
			return false;
		*n = *n * 10 + (uint64_t)(buf[i] - '0');
	}
	if (len - i < 2 || buf[i] != '\r' || buf[i + 1] != '\n')
		return false;
	*pos = i + 2;
	return true;
}

/*
 * The arguments of a command array cut short by the end of buf (a capture
 * limit, a gap): the whole ones, then the one the cut falls in as far as
 * it goes. The codec decodes whole commands only, and the cut may fall
 * inside a password. Returns the number of slices.
 */
static size_t cut_array_args(const uint8_t *buf, size_t len,
			     struct dt_slice *argv, size_t max)
{
	uint64_t count, n;
	size_t pos = 0, argc = 0;

	if (!length_line(buf, len, &pos, '*', &count))
		return 0;
	while (argc < count && argc < max &&
	       length_line(buf, len, &pos, '$', &n)) {
		argv[argc++] = (struct dt_slice){
			buf + pos, n < len - pos ? (size_t)n : len - pos,
		};
		if (n + 2 > len - pos)
			break;
		pos += (size_t)n + 2;
	}
	return argc;
}

/* An inline command cut short: the codec decodes it once given the end it
 * lacks, a line end or, when the cut fell inside a quoted word, a closing
 * quote first (slices are moved back to buf, cut to its end). */
static size_t cut_inline_args(struct dt_redact_ctx *c, const uint8_t *buf,
			      size_t len, struct dt_slice *argv, size_t max)
{
	static const char *const ends[] = { "\r\n", "\"\r\n", "'\r\n" };
	uint8_t *line = malloc(len + 3);
	size_t argc = 0;

	if (!line) {
		c->err = -ENOMEM;
		return 0;
	}
	memcpy(line, buf, len);
	for (size_t i = 0; i < 3 && !argc; i++) {
		memcpy(line + len, ends[i], strlen(ends[i]));
		if (dt_resp_parse_command(line, len + strlen(ends[i]), argv,
					  max, &argc) <= 0)
			argc = 0;
	}
	if (argc > max)
		argc = max;
	for (size_t i = 0; i < argc; i++) {
		size_t off = (size_t)(argv[i].ptr - line);

		if (off > len)
			off = len;
		argv[i].ptr = buf + off;
		if (argv[i].len > len - off)
			argv[i].len = len - off;
	}
	free(line);
	return argc;
}

/* The last command of buf[0..len), which the end of buf cut short. */
static void redact_cut(struct dt_redact_ctx *c, const uint8_t *buf,
		       size_t len)
{
	struct dt_slice argv[RESP_ARGV];
	size_t argc;

	while (len && (buf[0] == ' ' || buf[0] == '\r' || buf[0] == '\n')) {
		buf++;
		len--;
	}
	if (!len)
		return;
	if (buf[0] == '*')
		argc = cut_array_args(buf, len, argv, RESP_ARGV);
	else
		argc = cut_inline_args(c, buf, len, argv, RESP_ARGV);
	if (argc)
		redact_command(c, argv, argc);
}

/* The command at buf[0..len); returns its length, or <= 0 as
 * dt_resp_parse_command() does. */
static ssize_t redact_one(struct dt_redact_ctx *c, const uint8_t *buf,
			  size_t len)
{
	struct dt_slice small[RESP_ARGV], *argv = small;
	size_t argc = 0;
	ssize_t ret;

	ret = dt_resp_parse_command(buf, len, argv, RESP_ARGV, &argc);
	if (ret <= 0)
		return ret;
	if (argc > RESP_ARGV && wants_all_args(argv, argc)) {
		/* each argument takes a byte at least: argc <= len */
		argv = calloc(argc, sizeof(*argv));
		if (!argv) {
			c->err = -ENOMEM;
			return ret;
		}
		dt_resp_parse_command(buf, len, argv, argc, &argc);
	}
	redact_command(c, argv, argv == small && argc > RESP_ARGV ? RESP_ARGV :
								    argc);
	if (argv != small)
		free(argv);
	return ret;
}

void dt_redact_resp(struct dt_redact_ctx *c)
{
	uint8_t *buf = c->x->request;
	size_t len = c->x->request_len, pos = 0;
	ssize_t ret;

	while (pos < len) {
		ret = redact_one(c, buf + pos, len - pos);
		if (ret > 0) {
			pos += (size_t)ret;
			continue;
		}
		if (!ret) {
			redact_cut(c, buf + pos, len - pos);
			return;
		}
		/* skip the bad command to the next plausible one */
		pos++;
		pos += dt_resp_resync(buf + pos, len - pos);
	}
}
