/* firewall.h: derive the DNAT table from the tunnels on disk and apply it. */

/* The table and route_localnet belong to the network namespace: every state
 * directory's rules live in it side by side, each directory's recorded in
 * the namespace's bookkeeping (fwreg.h) and tagged NAME@TAG in the table. */
#ifndef TC_FIREWALL_H
#define TC_FIREWALL_H

#include "err.h"
#include "spec.h"

/* Rebuild `ip tunnelctl` from every dnat tunnel in the state dir whose
 * supervisor is alive, plus `include` (a tunnel about to start; may be NULL),
 * minus `exclude` (may be NULL), together with the rules every other state
 * directory of this network namespace owns, in one batch; then set
 * route_localnet on the interfaces toward all their targets and restore it
 * on the others (their original value, saved once for the namespace). A
 * target with no route now is skipped (an error only for `include`), and
 * `include` on a local port another tunnel of any directory uses is refused.
 * The drop rule is in the table whenever route_localnet is on, even if this
 * process is killed between any two steps.
 * Does nothing (and needs no privilege) when no dnat tunnel exists and the
 * directory never owned rules. The caller holds the state dir's lock. */
int tc_fw_reconcile(const char *state_path, int statefd, const char *include,
		    const char *exclude, struct tc_err *err);

/* 1 if the table holds exactly the rules of every directory (this one's as
 * its live dnat tunnels need them) and route_localnet is on toward each
 * routable target and restored everywhere else, 0 if not (ruleset flushed,
 * interface re-created, a supervisor died), -1 on error. Changes nothing. */
int tc_fw_verify(int statefd, struct tc_err *err);

/* One tunnel of this state dir: 1 if its own rules (its DNAT and masquerade
 * rules, and the shared ones it relies on: the chains, the 127.0.0.0/8
 * masquerade, the loopback drop) are in the table and route_localnet is on
 * toward its target; 0 if any is missing; -1 if the table cannot be read
 * (no CAP_NET_ADMIN). A tunnel that is not dnat is 1. Other directories'
 * rules and other tunnels' rules do not matter. Changes nothing, takes no
 * lock. */
int tc_fw_tunnel_check(int statefd, const char *state_path, const struct tc_spec *spec,
		       struct tc_err *err);

/* 1 if the state dir may own rules (it had a dnat tunnel since its last
 * reconcile without one), else 0. */
int tc_fw_active(int statefd);

#endif
