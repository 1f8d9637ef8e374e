// SPDX-License-Identifier: MIT
/*
 * Bytes from sessions as text that is safe everywhere a report goes: a
 * terminal (no control characters, so no escape sequences), JSON (valid
 * UTF-8) and XML (no characters XML 1.0 forbids).
 */
#include <stdlib.h>

#include "diff/diff_int.h"

bool dt_utf8_valid(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i = 0, step;

	while (i < len) {
		step = dt_utf8_seq_len(p + i, len - i);
		if (!step)
			return false;
		i += step;
	}
	return true;
}

/* Length of the sequence at p to copy as it is, 0 to escape its first
 * byte: control characters (C0, DEL, and C1 as U+0080..U+009F), the
 * noncharacters U+FFFE and U+FFFF, which XML forbids, and bytes outside
 * well-formed UTF-8 are escaped. */
static size_t safe_seq_len(const uint8_t *p, size_t n)
{
	size_t step = dt_utf8_seq_len(p, n);

	if (step == 1 && (p[0] < 0x20 || p[0] == 0x7f))
		return 0;
	if (step == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	if (step == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)
		return 0;
	return step;
}

void dt_text_escape(struct dt_sbuf *b, const void *data, size_t len,
		    bool quote)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	size_t i = 0, step;
	char esc[4];

	while (i < len) {
		if (p[i] == '\\' || (quote && p[i] == '"')) {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			dt_sbuf_put(b, esc, 2);
			i++;
			continue;
		}
		step = safe_seq_len(p + i, len - i);
		if (step) {
			dt_sbuf_put(b, p + i, step);
			i += step;
			continue;
		}
		if (p[i] == '\n') {
			dt_sbuf_put(b, "\\n", 2);
		} else if (p[i] == '\r') {
			dt_sbuf_put(b, "\\r", 2);
		} else if (p[i] == '\t') {
			dt_sbuf_put(b, "\\t", 2);
		} else {
			esc[0] = 'x';
			esc[1] = hex[p[i] >> 4];
			esc[2] = hex[p[i] & 15];
			dt_sbuf_putc(b, '\\');
			dt_sbuf_put(b, esc, 3);
		}
		i++;
	}
}

/* Cutting at max must not split a UTF-8 sequence into escapes. */
static size_t cut_length(const uint8_t *p, size_t len, size_t max)
{
	size_t i = 0, step;

	if (len <= max)
		return len;
	while (i < max) {
		step = dt_utf8_seq_len(p + i, len - i);
		if (!step)
			step = 1;
		if (i + step > max)
			break;
		i += step;
	}
	return i;
}

static char *text_render(const void *data, size_t len, size_t max,
			 bool quoted)
{
	size_t cut = cut_length(data, len, max);
	struct dt_sbuf b = { 0 };

	if (quoted)
		dt_sbuf_putc(&b, '"');
	dt_text_escape(&b, data, cut, quoted);
	if (quoted)
		dt_sbuf_putc(&b, '"');
	if (cut < len)
		dt_sbuf_puts(&b, "...");
	return dt_sbuf_take(&b);
}

char *dt_text_quoted(const void *data, size_t len, size_t max)
{
	return text_render(data, len, max, true);
}

char *dt_text_plain(const void *data, size_t len, size_t max)
{
	return text_render(data, len, max, false);
}
