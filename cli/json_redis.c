// SPDX-License-Identifier: MIT
/* `cat` fields of Redis commands and replies. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/formats.h"

/* Arguments shown per command; the raw bytes hold them all. */
#define MAX_ARGS 1024

static const char *reply_type_name(int type)
{
	switch (type) {
	case '+': return "status";
	case '-': return "error";
	case ':': return "integer";
	case '$': return "bulk";
	case '*': return "array";
	case '_': return "null";
	case ',': return "double";
	case '#': return "boolean";
	case '!': return "blob_error";
	case '=': return "verbatim";
	case '(': return "big_number";
	case '%': return "map";
	case '~': return "set";
	case '>': return "push";
	case '|': return "attribute";
	}
	return "unknown";
}

static int command_to_json(json_t *o, const uint8_t *buf, size_t len)
{
	struct dt_slice *argv = calloc(MAX_ARGS, sizeof(*argv));
	char name[64];
	size_t argc = 0, n;
	json_t *args;
	int rc = 0;

	if (!argv)
		return -1;
	if (dt_resp_parse_command(buf, len, argv, MAX_ARGS, &argc) <= 0 ||
	    !argc)
		goto out;
	n = argv[0].len < sizeof(name) - 1 ? argv[0].len : sizeof(name) - 1;
	for (size_t i = 0; i < n; i++)
		name[i] = toupper(argv[0].ptr[i]);
	rc |= json_object_set_new(o, "command", cli_json_text(name, n));
	args = json_array();
	for (size_t i = 1; i < argc && i < MAX_ARGS; i++)
		rc |= json_array_append_new(args, cli_json_bytes(argv[i].ptr,
								 argv[i].len));
	rc |= json_object_set_new(o, "args", args);
	if (argc > MAX_ARGS)
		rc |= json_object_set_new(o, "args_total", cli_json_u64(argc - 1));
out:
	free(argv);
	return rc;
}

static int reply_to_json(json_t *o, const uint8_t *buf, size_t len)
{
	char summary[DT_RESP_SUMMARY_MAX];
	int type = dt_resp_reply_type(buf, len);
	int rc = 0;

	if (type < 0)
		return 0;
	rc |= json_object_set_new(o, "type",
				  json_string(reply_type_name(type)));
	rc |= json_object_set_new(o, "error",
				  json_boolean(type == '-' || type == '!'));
	if (dt_resp_summarize(buf, len, summary, sizeof(summary)) >= 0)
		rc |= json_object_set_new(o, "summary",
					  cli_json_text(summary,
							strlen(summary)));
	return rc;
}

int cli_redis_message_to_json(json_t *o, const uint8_t *buf, size_t len,
			      bool is_request)
{
	return is_request ? command_to_json(o, buf, len) :
			    reply_to_json(o, buf, len);
}
