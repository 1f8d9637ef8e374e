/* SPDX-License-Identifier: MIT */
/*
 * redact: masks credentials and other secrets in exchanges before they
 * reach a session file. Pure code over struct dt_exchange (formats/).
 *
 * Masking is byte for byte: every masked byte becomes '*', so message
 * framing (Content-Length, chunk sizes, RESP lengths, MySQL packet
 * lengths) and stream offsets stay true, and pcap export still yields
 * valid TCP conversations. The length of a secret is therefore kept.
 *
 * Rules (dt_redactor_new):
 *   header:NAME     the value of HTTP header NAME (any case), in requests
 *                   and responses
 *   json:PATH       string and number values at PATH in JSON HTTP bodies:
 *                   $.a.b, $.items[*].token, $..password (any depth)
 *   regex:ERE       every match of a POSIX extended regular expression in
 *                   request and response bytes and in summary attributes
 *                   (REG_NEWLINE; CR, LF and NUL bytes are left in place)
 * Built-in rules (unless disabled): header:Authorization,
 * header:Proxy-Authorization, header:Cookie, header:Set-Cookie; Redis
 * AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2 arguments, CONFIG SET
 * requirepass/masterauth (and TLS key passphrase) values, ACL SETUSER
 * passwords and hashes; MySQL handshake auth data, COM_CHANGE_USER auth
 * data and SQL password literals (IDENTIFIED BY '...', PASSWORD('...'),
 * SET PASSWORD ... = '...'). What header, JSON and built-in rules mask is
 * masked in the attribute values that repeat it too. man
 * deetune-redaction(7) has the details.
 */
#ifndef DEETUNE_REDACT_H
#define DEETUNE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

struct dt_exchange;
struct dt_redactor;

/* Compiles n rule texts (see above); builtin adds the built-in rules.
 * *out is owned by the caller (dt_redactor_free). Returns 0, or -EINVAL
 * with a one-line message naming the bad rule in err, or -ENOMEM. */
int dt_redactor_new(struct dt_redactor **out, const char *const *rules,
		    size_t n, bool builtin, char *err, size_t errlen);
/* Masks x in place (request, response and attribute values). Returns the
 * number of spans in which a byte changed (0: nothing left to mask), or
 * -ENOMEM, after which x may be masked only in part: do not store it.
 * Safe on any bytes. r may be shared by threads: it is not modified. */
int dt_redactor_apply(const struct dt_redactor *r, struct dt_exchange *x);
void dt_redactor_free(struct dt_redactor *r);

#endif /* DEETUNE_REDACT_H */
