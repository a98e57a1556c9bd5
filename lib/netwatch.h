/* netwatch.h: rtnetlink link and address events, so the supervisor can retry
 * at once when a cellular modem reconnects instead of waiting out a backoff. */
#ifndef TC_NETWATCH_H
#define TC_NETWATCH_H

struct mnl_socket;

/* Open a NETLINK_ROUTE socket joined to the link and IPv4/IPv6 address groups.
 * Returns NULL when that is not possible (the supervisor then relies on its
 * backoff and SIGUSR1 alone). */
struct mnl_socket *tc_netwatch_open(void);
int tc_netwatch_fd(struct mnl_socket *nl);
/* Drain pending messages; 1 if an interface came up (IFF_UP and IFF_RUNNING)
 * or gained an address, else 0. Never blocks. */
int tc_netwatch_read(struct mnl_socket *nl);
void tc_netwatch_close(struct mnl_socket *nl);

#endif
