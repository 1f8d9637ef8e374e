// SPDX-License-Identifier: MIT
/* /proc/net/tcp{,6}: listening sockets, established connections. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo_int.h"

#define PROCNET_MAX_LINES (1u << 20)

/* The kernel prints each 32-bit word of an address with %08X of its
 * in-memory value, so the bytes come back by storing the word natively. */
static int parse_hex_addr(const char *s, size_t n, uint8_t addr[16])
{
	char word[9];

	if (n != 8 && n != 32)
		return -EINVAL;
	memset(addr, 0, 16);
	for (size_t i = 0; i < n / 8; i++) {
		uint32_t v;
		char *end;

		memcpy(word, s + 8 * i, 8);
		word[8] = '\0';
		v = strtoul(word, &end, 16);
		if (*end)
			return -EINVAL;
		memcpy(addr + 4 * i, &v, 4);
	}
	return 0;
}

/* "0100007F:1F90" */
static int parse_endpoint(const char *s, uint8_t addr[16], uint16_t *port,
			  uint8_t *family)
{
	const char *colon = strchr(s, ':');
	unsigned long p;
	char *end;

	if (!colon || parse_hex_addr(s, colon - s, addr))
		return -EINVAL;
	*family = colon - s == 8 ? DT_FAMILY_IPV4 : DT_FAMILY_IPV6;
	p = strtoul(colon + 1, &end, 16);
	if (end == colon + 1 || *end || p > 65535)
		return -EINVAL;
	*port = p;
	return 0;
}

/* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000
 *  00000000  1000 0 12345 ..." */
static int parse_line(char *line, struct dt_topo_sock *s)
{
	char local[64], remote[64];
	unsigned st;
	uint64_t inode;
	int n;

	n = sscanf(line, " %*u: %63s %63s %x %*s %*s %*s %*u %*u %" SCNu64,
		   local, remote, &st, &inode);
	if (n != 4)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	if (parse_endpoint(local, s->laddr, &s->lport, &s->family) ||
	    parse_endpoint(remote, s->raddr, &s->rport, &s->family))
		return -EINVAL;
	s->state = st;
	s->inode = inode;
	return 0;
}

int dt_topo_procnet_scan(const char *path,
			 int (*fn)(void *ctx, const struct dt_topo_sock *s),
			 void *ctx)
{
	struct dt_topo_sock s;
	char line[512];
	unsigned lines = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* the first line is the column header */
	if (!fgets(line, sizeof(line), f))
		goto out;
	while (lines++ < PROCNET_MAX_LINES && fgets(line, sizeof(line), f))
		if (!parse_line(line, &s) && fn(ctx, &s))
			break;
out:
	fclose(f);
	return 0;
}

void dt_topo_sock_format(const struct dt_topo_sock *s, char *buf,
			 size_t size)
{
	struct dt_endpoint ep = { .family = s->family, .port = s->lport };

	memcpy(ep.addr, s->laddr, 16);
	if (dt_endpoint_format(&ep, buf, size) < 0 && size)
		buf[0] = '\0';
}

static int add_listener(void *ctx, const struct dt_topo_sock *s)
{
	struct dt_topo_listeners *l = ctx;

	if (s->state != DT_TOPO_TCP_LISTEN)
		return 0;
	if (l->n == DT_TOPO_MAX_LISTENERS)
		return 1;
	l->socks[l->n++] = *s;
	return 0;
}

static double seconds_since(const struct timespec *then,
			    const struct timespec *now)
{
	return (now->tv_sec - then->tv_sec) +
	       (now->tv_nsec - then->tv_nsec) / 1e9;
}

static void listeners_refresh(struct dt_topo_listeners *l,
			      const char *proc_root)
{
	static const char *const files[] = { "net/tcp", "net/tcp6" };
	struct timespec now;
	char path[4096];

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (l->valid && seconds_since(&l->read_at, &now) < 1.0)
		return;
	if (!l->socks) {
		l->socks = calloc(DT_TOPO_MAX_LISTENERS, sizeof(*l->socks));
		if (!l->socks)
			return;
	}
	l->n = 0;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", proc_root, files[i]);
		dt_topo_procnet_scan(path, add_listener, l);
	}
	l->read_at = now;
	l->valid = true;
}

static bool is_wildcard(const struct dt_topo_sock *s)
{
	static const uint8_t zero[16];

	return !memcmp(s->laddr, zero, s->family == DT_FAMILY_IPV4 ? 4 : 16);
}

/* An IPv4 endpoint also reaches a dual-stack [::] listener. */
static bool listener_accepts(const struct dt_topo_sock *s,
			     const struct dt_endpoint *ep)
{
	if (s->lport != ep->port)
		return false;
	if (is_wildcard(s))
		return s->family == ep->family || s->family == DT_FAMILY_IPV6;
	if (s->family != ep->family)
		return false;
	return !memcmp(s->laddr, ep->addr, ep->family == DT_FAMILY_IPV4 ?
					   4 : 16);
}

const struct dt_topo_sock *
dt_topo_listener_for(struct dt_topo_listeners *l, const char *proc_root,
		     const struct dt_endpoint *ep)
{
	if (ep->family != DT_FAMILY_IPV4 && ep->family != DT_FAMILY_IPV6)
		return NULL;
	listeners_refresh(l, proc_root);
	for (size_t i = 0; i < l->n; i++)
		if (listener_accepts(&l->socks[i], ep))
			return &l->socks[i];
	return NULL;
}

void dt_topo_listeners_release(struct dt_topo_listeners *l)
{
	free(l->socks);
	memset(l, 0, sizeof(*l));
}
