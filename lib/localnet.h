/* localnet.h: route_localnet on the interfaces toward DNAT targets, set only
 * while a tunnel needs it and restored to its previous value afterwards. */
#ifndef TC_LOCALNET_H
#define TC_LOCALNET_H

#include <netinet/in.h>
#include <net/if.h>
#include <stddef.h>

#include "err.h"

/* The interface the kernel routes `dst` out of (rtnetlink RTM_GETROUTE);
 * "lo" for a local address, an error for an unreachable one. */
int tc_route_iface(struct in_addr dst, char ifname[IF_NAMESIZE], struct tc_err *err);

/* Make exactly `ifaces` have net.ipv4.conf.IFACE.route_localnet = 1 (never "all"):
 * an interface newly in the set has its old value saved under
 * SAVE_DIR/IFACE (0600, atomic) before it is set; an interface whose saved file
 * exists but which is no longer in the set gets its old value back and the file
 * removed. n == 0 restores everything. An interface that vanished is forgotten.
 * Names containing '/', starting with '.', "all" and "default" are refused;
 * SAVE_DIR is created 0700 if missing and refused if it is a symlink. */
int tc_localnet_set(const char *save_dir, char (*ifaces)[IF_NAMESIZE], size_t n,
		    struct tc_err *err);

/* tc_localnet_set, but with TC_LOCALNET_KEEP_OTHERS saved interfaces not in
 * the set are left as they are (on): for when the caller could not tell
 * every interface it needs (a target without a route right now). */
#define TC_LOCALNET_KEEP_OTHERS 0x1u
int tc_localnet_set_flags(const char *save_dir, char (*ifaces)[IF_NAMESIZE], size_t n,
			  unsigned flags, struct tc_err *err);

/* Move the values an older version saved under parentfd/old_name (one
 * state directory's own .localnet/) into SAVE_DIR, keeping a value already
 * there unless the old one is 0, and remove what was moved. */
int tc_localnet_adopt(const char *save_dir, int parentfd, const char *old_name,
		      struct tc_err *err);

/* *on = 1 if net.ipv4.conf.IFACE.route_localnet is non-zero, else 0.
 * An interface that does not exist is an error. Needs no privilege. */
int tc_localnet_get(const char *iface, int *on, struct tc_err *err);

#endif
