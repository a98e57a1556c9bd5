/* nlsock.c: open, bind and tune a netlink socket for any of tunnelctl's
 * netlink users (nft_mnl.c, localnet.c, netwatch.c). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "nlsock.h"

/* setsockopt takes an int: larger requests are clamped to 1 GiB, far above
 * anything a batch of TC_FW_MAX rules needs. */
#define SOCKBUF_CAP ((size_t)1 << 30)

static const char *
bus_name(int bus)
{
	return bus == NETLINK_NETFILTER ? "nftables" : bus == NETLINK_ROUTE ? "rtnetlink" : "netlink";
}

static int
kind_of(int e)
{
	return e == EPERM || e == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME;
}

/* FORCE needs CAP_NET_ADMIN; without it the capped variant still helps. */
static void
set_buf(int fd, int force_opt, int opt, size_t size)
{
	int sz = (int)(size > SOCKBUF_CAP ? SOCKBUF_CAP : size);

	if (sz > 0 && setsockopt(fd, SOL_SOCKET, force_opt, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &sz, sizeof(sz));
}

struct mnl_socket *
tc_nl_open(int bus, unsigned groups, unsigned flags, int rcvtimeo_s, size_t sndbuf,
	   size_t rcvbuf, struct tc_err *err)
{
	struct mnl_socket *nl;
	struct timeval tv = { .tv_sec = rcvtimeo_s };
	int one = 1, fd, e;

	nl = mnl_socket_open2(bus, SOCK_CLOEXEC | ((flags & TC_NL_NONBLOCK) ? SOCK_NONBLOCK : 0));
	if (nl == NULL) {
		tc_err_set(err, kind_of(errno), "%s: netlink socket: %s", bus_name(bus),
			   strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		tc_err_set(err, kind_of(e), "%s: netlink bind: %s", bus_name(bus), strerror(e));
		mnl_socket_close(nl);
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	if (rcvtimeo_s > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		e = errno;
		tc_err_set(err, TC_ERR_RUNTIME, "%s: SO_RCVTIMEO: %s", bus_name(bus), strerror(e));
		mnl_socket_close(nl);
		return NULL;
	}
	/* Best effort: extended acks carry the kernel's reason; capped acks keep
	 * a big batch's errors from echoing every message back. */
	if (flags & TC_NL_EXT_ACK) {
		(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
		(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	}
	set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf);
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
	return nl;
}
