/* nft.h: the `ip tunnelctl` nftables table, written over netlink with
 * libnftnl + libmnl in one atomic batch per change. No other table is touched. */

/* nft_build.c writes it, nft_read.c reads it back, nft_mnl.c carries both. */
#ifndef TC_NFT_H
#define TC_NFT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TC_NFT_TABLE "tunnelctl"

/* Longest rule comment: a tunnel name (32) and "@" and the owning state
 * directory's tag (8, see firewall.h), with room to spare. */
#define TC_NFT_COMMENT_MAX 48

/* One DNAT tunnel's rule: locally originated TCP to any local address
 * (127.0.0.1 or the device's own addresses) port local_port -> target:port. */
struct tc_dnat {
	/* Stored as nft's comment in the rule's userdata (so `nft list` shows
	 * it): the tunnel name, or NAME@TAG for the firewall's shared table. */
	char name[TC_NFT_COMMENT_MAX + 1];
	uint16_t local_port;
	struct in_addr target;		/* IPv4 only: the table is family ip */
	uint16_t target_port;
};

/* Replace the whole table with exactly these rules in ONE batch:
 * n > 0: (re)create table `ip tunnelctl` with its chains (nat output DNAT rules,
 *        nat postrouting masquerade of 127.0.0.0/8 sources leaving a non-lo iface,
 *        and per tunnel a masquerade of locally made TCP to its target (so a
 *        connection to any of the device's addresses gets a source the
 *        target can answer),
 *        filter prerouting drop of daddr 127.0.0.0/8 from iif != lo, CVE-2020-8558)
 *        and the n DNAT rules;
 * n == 0: delete the table if it exists (absent is success).
 * An absent table is created (NLM_F_EXCL) without the delete, whose freeing
 * makes the socket's close wait for an RCU grace period; an existing one is
 * replaced (add, delete, add) so that whatever else is in it goes too.
 * The batch is acknowledged; a refused batch changes nothing and err says what
 * the kernel refused. EPERM -> TC_ERR_PERM, else TC_ERR_RUNTIME. */
int tc_nft_apply(const struct tc_dnat *rules, size_t n, struct tc_err *err);

/* Test hook (tests/helpers/nftctl only): end the batch with a rule for a chain
 * that does not exist, so the kernel refuses the whole batch. */
#define TC_NFT_F_TEST_BAD_LAST 0x1u

/* tc_nft_apply with flags (TC_NFT_F_*); tc_nft_apply is flags == 0. */
int tc_nft_apply_flags(const struct tc_dnat *rules, size_t n, unsigned flags,
		       struct tc_err *err);

/* Read the table back over netlink. *out (owned by the caller, free()) gets the
 * DNAT rules found (name from nft's comment TLV in the rule userdata, so `nft
 * list` shows it as a comment), *n their count; a missing table gives n = 0
 * and *table_exists = 0. Reading needs CAP_NET_ADMIN too (TC_ERR_PERM). */
int tc_nft_list(struct tc_dnat **out, size_t *n, int *table_exists, struct tc_err *err);

/* 1 if the table holds exactly `rules` (same set, any order) plus the fixed
 * chains/rules, 0 if anything is missing or extra (another rule, chain, set,
 * a changed priority, the owner flag), -1 on error. With n == 0: 1 iff the
 * table is absent. */
int tc_nft_verify(const struct tc_dnat *rules, size_t n, struct tc_err *err);

/* 1 if the table exists with its chains and fixed rules (not dormant, no
 * owner flag) and holds the two rules of every one of `rules` (DNAT and
 * masquerade, comment included); other rules may be there too. 0 if
 * anything of that is missing, -1 on error. For one tunnel's check. */
int tc_nft_contains(const struct tc_dnat *rules, size_t n, struct tc_err *err);

/* 0 if this process may change nftables (CAP_NET_ADMIN in its netns), else -1
 * with TC_ERR_PERM and a message saying so. Changes nothing. */
int tc_nft_check_perm(struct tc_err *err);

/* libnftnl/libmnl versions for `tunnelctl version` (compile-time strings). */
const char *tc_nft_version(void);

#endif
