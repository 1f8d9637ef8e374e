// SPDX-License-Identifier: MIT
/*
 * Removing credentials from the client bytes of an exchange before they
 * are stored: the auth response of a handshake response or COM_CHANGE_USER
 * (a password hash, or with some plugins the password itself) and every
 * authentication packet after it. Bytes are zeroed in place, lengths kept,
 * so the stored exchange still frames and decodes.
 */
#include "formats/mysql_int.h"

static size_t zero(uint8_t *p, size_t n)
{
	memset(p, 0, n);
	return n;
}

/* The first packet of the request: the credentials inside it, or all of
 * it (but a command byte) when it does not parse. */
static size_t redact_first(uint8_t *payload, size_t n, uint8_t seq)
{
	struct mysql_hs_response h;
	int ret;

	if (seq == 1)
		ret = dt_mysql_scan_handshake_response(payload, n, &h);
	else
		ret = dt_mysql_scan_change_user(payload, n, &h);
	if (ret || h.auth_off > n || h.auth_len > n - h.auth_off)
		return seq == 1 ? zero(payload, n) : zero(payload + 1, n - 1);
	return zero(payload + h.auth_off, h.auth_len);
}

size_t dt_mysql_redact_auth(uint8_t *buf, size_t len)
{
	size_t pos = 0, zeroed = 0;
	bool first = true;

	while (len - pos >= MYSQL_HEADER_LEN) {
		size_t plen = (size_t)mysql_le(buf + pos, 3);
		uint8_t seq = buf[pos + 3];
		uint8_t *payload = buf + pos + MYSQL_HEADER_LEN;
		size_t n = len - pos - MYSQL_HEADER_LEN;

		if (n > plen)
			n = plen;
		if (!first) {
			zeroed += zero(payload, n);
		} else if (seq == 1 ||
			   (seq == 0 && n && payload[0] ==
						DT_MYSQL_COM_CHANGE_USER)) {
			zeroed += redact_first(payload, n, seq);
		} else {
			return 0;   /* not an authentication */
		}
		first = false;
		pos += MYSQL_HEADER_LEN + n;
	}
	return zeroed;
}
