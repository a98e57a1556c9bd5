/* tunnel.h: one tunnel's life on this device: start (files + firewall +
 * supervisor), stop, and what is known about it now (with stale cleanup). */
#ifndef TC_TUNNEL_H
#define TC_TUNNEL_H

#include <stddef.h>

#include "err.h"
#include "record.h"
#include "spec.h"

struct tc_ctx {
	const char *state_path;
	int statefd;
	int lockfd;			/* -1 when the lock is not held */
	const char *supervisor;		/* what the supervisor is exec'd from */
	const char *ssh_path;
	const char *autossh_path;	/* NULL: plain ssh */
	const char *run_as;		/* NULL or "": root */
	const char *devkey_path;	/* the device's own key, for specs without one */
};

struct tc_view {
	struct tc_record rec;
	struct tc_run run;
	int alive;			/* the supervisor runs */
	int rule_missing;		/* dnat tunnel whose rule is not in the table */
	int cleaned;			/* a dead supervisor's leftovers were just cleaned */
};

enum tc_start_result {
	TC_START_STARTED,
	TC_START_RESTARTED,
	TC_START_UNCHANGED,		/* already running with this spec */
	TC_START_UPDATED,		/* dnat target changed: rule updated, ssh kept */
};

#define TC_NAMES_MAX 256		/* tunnels per device considered at most */

/* Open the state dir (creating it when `create`), and take the lock when
 * lock_wait >= 0. */
int tc_ctx_open(struct tc_ctx *c, const char *state_path, int create, int lock_wait,
		struct tc_err *err);
void tc_ctx_close(struct tc_ctx *c);

/* Tunnel names in the state dir, sorted. *names is the caller's (free()). */
int tc_tunnel_list(struct tc_ctx *c, char (**names)[TC_NAME_MAX + 1], size_t *n,
		   struct tc_err *err);

/* What is known of tunnel `name`. A dead supervisor that did not end in
 * expired/failed is cleaned up (its leftover processes, key and pidfile) and
 * recorded as failed when the lock is held. -1 with errno ENOENT if unknown. */
int tc_tunnel_view(struct tc_ctx *c, const char *name, struct tc_view *v, struct tc_err *err);

#define TC_START_ALLOW_UPDATE 1	/* a dnat target change only updates the rule */
#define TC_START_FORCE 2		/* restart even with the same spec */

/* Start tunnel spec->name (spec validated, key loaded). With a running tunnel
 * of that name: same digest -> UNCHANGED; only the dnat target differs and
 * TC_START_ALLOW_UPDATE -> UPDATED; else it is stopped and started again. */
int tc_tunnel_start(struct tc_ctx *c, const struct tc_spec *spec, int origin_sync,
		    int flags, enum tc_start_result *res, struct tc_err *err);

/* A running tunnel that sync started and whose spec is unchanged: take what
 * may change without a restart (a renewed certificate). 0 when nothing was
 * to do or it was done. */
int tc_tunnel_refresh(struct tc_ctx *c, const struct tc_spec *spec, struct tc_err *err);

/* Stop and remove everything of the tunnel. *existed = 0 when unknown. */
int tc_tunnel_stop(struct tc_ctx *c, const char *name, int *existed, struct tc_err *err);

/* After stale cleanups: rebuild the table if anything dnat changed. */
int tc_tunnel_fw_sync(struct tc_ctx *c, struct tc_err *err);

#endif
