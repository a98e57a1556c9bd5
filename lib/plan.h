/* plan.h: desired tunnels (from the document) x tunnels on the device ->
 * what sync does to each. Pure: no I/O, so every case is unit tested. */
#ifndef TC_PLAN_H
#define TC_PLAN_H

#include <stddef.h>

#include "spec.h"

enum tc_cur_state {
	TC_CUR_RUNNING,		/* supervisor alive (starting, up or retrying) */
	TC_CUR_EXPIRED,		/* its timeout passed (or the server's --max-time) */
	TC_CUR_REVOKED,		/* closed by the server's operator */
	TC_CUR_DOWN,		/* failed, or its supervisor died */
};

struct tc_cur {
	char name[TC_NAME_MAX + 1];
	int origin_sync;
	enum tc_cur_state state;
	char digest[TC_DIGEST_HEX];
	char ssh_digest[TC_DIGEST_HEX];
	int dnat;
};

struct tc_want {
	char name[TC_NAME_MAX + 1];
	char digest[TC_DIGEST_HEX];
	char ssh_digest[TC_DIGEST_HEX];
	int dnat;
};

enum tc_act {
	TC_ACT_START,		/* reported "started" */
	TC_ACT_RESTART,		/* "restarted": stop, then start with the new spec */
	TC_ACT_UPDATE,		/* "restarted": dnat target changed; rule updated, ssh kept */
	TC_ACT_STOP,		/* "stopped" */
	TC_ACT_KEEP,		/* "unchanged" */
	TC_ACT_EXPIRED,		/* "expired": stays down until its spec changes */
	TC_ACT_REVOKED,		/* "revoked": stays down until its spec changes */
};

struct tc_action {
	char name[TC_NAME_MAX + 1];
	enum tc_act act;
	size_t want;		/* index into the desired array (START/RESTART/UPDATE) */
	const char *why;	/* static text */
};

/* out must have room for nwant + ncur actions. Returns the number written,
 * in a stable order: desired tunnels in document order, then stops by name. */
size_t tc_plan(const struct tc_want *want, size_t nwant, const struct tc_cur *cur,
	       size_t ncur, const char *absent_why, struct tc_action *out);

/* The word the contract prints for an action. */
const char *tc_act_word(enum tc_act a);

#endif
