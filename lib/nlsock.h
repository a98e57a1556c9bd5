/* nlsock.h: the one way tunnelctl opens a netlink socket (nftables, route
 * lookups, link events), as iproute2's mnlu_socket_open is for its tools. */
#ifndef TC_NLSOCK_H
#define TC_NLSOCK_H

#include <stddef.h>

#include "err.h"

struct mnl_socket;

#define TC_NL_NONBLOCK 0x1u	/* reads never block (an event socket in a poll loop) */
#define TC_NL_EXT_ACK 0x2u	/* ask for the kernel's reason in error acks, capped acks */

/* A close-on-exec NETLINK socket of `bus` (NETLINK_NETFILTER, NETLINK_ROUTE),
 * bound to an automatic port id and joined to the multicast `groups` (0:
 * none). rcvtimeo_s > 0 bounds every blocking read; sndbuf/rcvbuf > 0 size
 * the socket buffers (forced when CAP_NET_ADMIN allows, else capped by the
 * system limits). NULL with err filled (TC_ERR_PERM for EPERM/EACCES). */
struct mnl_socket *tc_nl_open(int bus, unsigned groups, unsigned flags, int rcvtimeo_s,
			      size_t sndbuf, size_t rcvbuf, struct tc_err *err);

#endif
