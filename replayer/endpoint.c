// SPDX-License-Identifier: MIT
/* Both ends of a replayed connection, as the session stores endpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "replayer/replayer_int.h"

static void set_self(struct dt_endpoint *ep)
{
	ep->pid = (uint32_t)getpid();
	snprintf(ep->comm, sizeof(ep->comm), "deetune");
}

static int from_sockaddr(const struct sockaddr_storage *ss,
			 struct dt_endpoint *ep)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_un *un = (const struct sockaddr_un *)ss;

	switch (ss->ss_family) {
	case AF_INET:
		ep->family = DT_FAMILY_IPV4;
		memcpy(ep->addr, &in4->sin_addr, 4);
		ep->port = ntohs(in4->sin_port);
		return 0;
	case AF_INET6:
		ep->family = DT_FAMILY_IPV6;
		memcpy(ep->addr, &in6->sin6_addr, 16);
		ep->port = ntohs(in6->sin6_port);
		return 0;
	case AF_UNIX:
		ep->family = DT_FAMILY_UNIX;
		snprintf(ep->path, sizeof(ep->path), "%.*s",
			 (int)sizeof(un->sun_path), un->sun_path);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int rp_endpoint_from_fd(int fd, bool peer, struct dt_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int ret;

	memset(ep, 0, sizeof(*ep));
	memset(&ss, 0, sizeof(ss));
	ret = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		     getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ret < 0)
		return -errno;
	if (!peer)
		set_self(ep);
	return from_sockaddr(&ss, ep);
}

int rp_endpoint_from_ip(const char *ip, long port, bool local,
			struct dt_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (local)
		set_self(ep);
	if (!ip || port < 0 || port > 65535)
		return -EINVAL;
	ep->port = (uint16_t)port;
	if (inet_pton(AF_INET, ip, ep->addr) == 1) {
		ep->family = DT_FAMILY_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, ep->addr) == 1) {
		ep->family = DT_FAMILY_IPV6;
		return 0;
	}
	return -EINVAL;
}
