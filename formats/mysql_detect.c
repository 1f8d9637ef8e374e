// SPDX-License-Identifier: MIT
/*
 * Recognising MySQL in arbitrary bytes: protocol detection from the first
 * bytes of a connection, and command packets for resynchronising a client
 * stream joined part-way. A command is plausible when its byte is one a
 * client sends on an established connection, its length fits the command
 * (exactly, for commands with fixed arguments) and SQL / schema names are
 * text. Binary garbage rarely passes all three.
 */
#include <errno.h>

#include "formats/mysql_int.h"

/* Text: printable bytes, tab, CR, LF, and any byte of UTF-8 above ASCII. */
static bool is_text_byte(uint8_t b)
{
	return b >= 0x20 || b == '\t' || b == '\n' || b == '\r';
}

/* A text command whose text starts at from: 1 when the whole payload is
 * text, 0 on a byte that is not, -EAGAIN when the bytes so far are text
 * but more follow. */
static int text_command(uint32_t plen, const uint8_t *payload, size_t avail,
			size_t from)
{
	size_t i;

	if (plen <= from)
		return 0;
	for (i = from; i < avail; i++)
		if (!is_text_byte(payload[i]))
			return 0;
	return avail < plen ? -EAGAIN : 1;
}

/* COM_STMT_EXECUTE: statement id, flags, iteration count 1. */
static int execute_command(uint32_t plen, const uint8_t *payload,
			   size_t avail)
{
	if (plen < 10)
		return 0;
	if (avail < 10)
		return -EAGAIN;
	return mysql_le(payload + 6, 4) == 1;
}

int dt_mysql_plausible_command(uint8_t seq, uint32_t plen,
			       const uint8_t *payload, size_t avail)
{
	if (seq != 0 || !plen)
		return 0;
	if (!avail)
		return -EAGAIN;
	switch (payload[0]) {
	case DT_MYSQL_COM_QUIT:
	case DT_MYSQL_COM_STATISTICS:
	case DT_MYSQL_COM_PING:
	case DT_MYSQL_COM_RESET_CONNECTION:
		return plen == 1;
	case DT_MYSQL_COM_STMT_CLOSE:
	case DT_MYSQL_COM_STMT_RESET:
	case DT_MYSQL_COM_PROCESS_KILL:
		return plen == 5;
	case DT_MYSQL_COM_SET_OPTION:
		return plen == 3;
	case DT_MYSQL_COM_STMT_FETCH:
		return plen == 9;
	case DT_MYSQL_COM_STMT_SEND_LONG_DATA:
		return plen >= 7;
	case DT_MYSQL_COM_STMT_EXECUTE:
		return execute_command(plen, payload, avail);
	case DT_MYSQL_COM_INIT_DB:
	case DT_MYSQL_COM_STMT_PREPARE:
		return text_command(plen, payload, avail, 1);
	case DT_MYSQL_COM_QUERY:
		/* query attributes without parameters: 00 01 */
		if (plen >= 3 && avail < 3)
			return -EAGAIN;
		if (plen >= 3 && payload[1] == 0 && payload[2] == 1)
			return text_command(plen, payload, avail, 3);
		return text_command(plen, payload, avail, 1);
	default:
		return 0;
	}
}

/* A greeting: protocol 10 and a version starting with a digit; or the
 * ERR a server sends instead when it refuses the connection. */
static int detect_server(uint32_t plen, uint8_t seq, const uint8_t *payload,
			 size_t avail)
{
	if (seq != 0 || plen < 3)
		return 0;
	if (avail < 2)
		return -EAGAIN;
	if (payload[0] == 0xff)
		return plen < 1024;
	return payload[0] == 10 && payload[1] >= '0' && payload[1] <= '9' &&
	       plen >= 32 && plen < 1024;
}

/* A handshake response (or SSL request) has sequence 1 and
 * CLIENT_PROTOCOL_41; anything else must be a command. */
static int detect_client(uint32_t plen, uint8_t seq, const uint8_t *payload,
			 size_t avail)
{
	if (seq == 1) {
		if (plen < 32)
			return 0;
		if (avail < 2)
			return -EAGAIN;
		return !!(mysql_le(payload, 2) & DT_MYSQL_CLIENT_PROTOCOL_41);
	}
	if (plen > MYSQL_RESYNC_MAX)
		return 0;
	return dt_mysql_plausible_command(seq, plen, payload, avail);
}

int dt_mysql_detect(const uint8_t *buf, size_t len, enum dt_mysql_dir dir)
{
	uint32_t plen;
	size_t avail;

	if (len < MYSQL_HEADER_LEN)
		return -EAGAIN;
	plen = (uint32_t)mysql_le(buf, 3);
	avail = len - MYSQL_HEADER_LEN;
	if (avail > plen)
		avail = plen;
	if (dir == DT_MYSQL_SERVER)
		return detect_server(plen, buf[3], buf + MYSQL_HEADER_LEN,
				     avail);
	return detect_client(plen, buf[3], buf + MYSQL_HEADER_LEN, avail);
}
