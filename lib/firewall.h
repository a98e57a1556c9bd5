/* firewall.h: derive the DNAT table from the tunnels on disk and apply it. */
#ifndef TC_FIREWALL_H
#define TC_FIREWALL_H

#include "err.h"

/* Rebuild `ip tunnelctl` from every dnat tunnel in the state dir whose
 * supervisor is alive, plus `include` (a tunnel about to start; may be NULL),
 * minus `exclude` (may be NULL), in one batch; then set route_localnet on
 * the interfaces toward the targets and restore it on the others. A target
 * with no route now is skipped (an error only for `include`).
 * Does nothing (and needs no privilege) when no dnat tunnel exists and the
 * table was never made by us. The caller holds the lock. */
int tc_fw_reconcile(const char *state_path, int statefd, const char *include,
		    const char *exclude, struct tc_err *err);

/* 1 if the table holds exactly the rules the live dnat tunnels need and
 * route_localnet is on toward each routable target, 0 if not (ruleset
 * flushed, interface re-created), -1 on error. Needs no change. */
int tc_fw_verify(int statefd, struct tc_err *err);

#endif
