/* netwatch.c: listen for RTM_NEWLINK (up and running) and RTM_NEWADDR. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>

#include <libmnl/libmnl.h>

#include "netwatch.h"
#include "nlsock.h"

struct mnl_socket *
tc_netwatch_open(void)
{
	return tc_nl_open(NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			  TC_NL_NONBLOCK, 0, 0, 0, NULL);
}

int
tc_netwatch_fd(struct mnl_socket *nl)
{
	return nl ? mnl_socket_get_fd(nl) : -1;
}

static int
on_msg(const struct nlmsghdr *nlh, void *data)
{
	int *up = data;

	if (nlh->nlmsg_type == RTM_NEWADDR) {
		*up = 1;
	} else if (nlh->nlmsg_type == RTM_NEWLINK) {
		const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

		if ((ifm->ifi_flags & IFF_UP) && (ifm->ifi_flags & IFF_RUNNING) &&
		    !(ifm->ifi_flags & IFF_LOOPBACK))
			*up = 1;
	}
	return MNL_CB_OK;
}

int
tc_netwatch_read(struct mnl_socket *nl)
{
	char buf[8192];
	int up = 0;

	if (!nl)
		return 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0) {
			/* ENOBUFS: events were dropped; treat as "something changed". */
			if (errno == ENOBUFS)
				up = 1;
			break;
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, on_msg, &up);
	}
	return up;
}

void
tc_netwatch_close(struct mnl_socket *nl)
{
	if (nl)
		mnl_socket_close(nl);
}
