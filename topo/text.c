// SPDX-License-Identifier: MIT
/* Names from /proc and the wire made safe for every output format. */
#include <string.h>

#include "topo/topo_int.h"

void dt_topo_clean_text(char *dst, size_t size, const char *src)
{
	const uint8_t *p = (const uint8_t *)src;
	size_t n = strlen(src), o = 0;

	if (!size)
		return;
	while (n) {
		size_t len = *p < 0x80 ? 1 : dt_utf8_seq_len(p, n);

		if (*p < 0x20 || *p == 0x7f || len == 0) {
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
			p++;
			n--;
			continue;
		}
		if (o + len >= size)
			break;
		memcpy(dst + o, p, len);
		o += len;
		p += len;
		n -= len;
	}
	dst[o] = '\0';
}
