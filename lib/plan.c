/* plan.c: the sync decision table (SPEC.md "sync semantics"). */
#include <stdio.h>
#include <string.h>

#include "plan.h"

const char *
tc_act_word(enum tc_act a)
{
	switch (a) {
	case TC_ACT_START: return "started";
	case TC_ACT_RESTART: return "restarted";
	case TC_ACT_UPDATE: return "restarted";
	case TC_ACT_STOP: return "stopped";
	case TC_ACT_KEEP: return "unchanged";
	case TC_ACT_EXPIRED: return "expired";
	case TC_ACT_REVOKED: return "revoked";
	}
	return "unchanged";
}

static const struct tc_cur *
find_cur(const struct tc_cur *cur, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cur[i].name, name) == 0)
			return &cur[i];
	return NULL;
}

static int
wanted(const struct tc_want *want, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(want[i].name, name) == 0)
			return 1;
	return 0;
}

static void
decide(const struct tc_want *w, const struct tc_cur *c, struct tc_action *a)
{
	int same = c && strcmp(c->digest, w->digest) == 0;

	if (!c) {
		a->act = TC_ACT_START;
		a->why = "not running";
	} else if (!c->origin_sync) {
		a->act = TC_ACT_KEEP;
		a->why = "started by hand; sync leaves it alone";
	} else if (same && c->state == TC_CUR_RUNNING) {
		a->act = TC_ACT_KEEP;
		a->why = "running with the same spec";
	} else if (same && c->state == TC_CUR_EXPIRED) {
		a->act = TC_ACT_EXPIRED;
		a->why = "timeout passed; stays down until its spec changes";
	} else if (same && c->state == TC_CUR_REVOKED) {
		a->act = TC_ACT_REVOKED;
		a->why = "closed by the server's operator; stays down until its spec changes";
	} else if (same) {
		a->act = TC_ACT_START;
		a->why = "was down";
	} else if (c->state != TC_CUR_RUNNING) {
		a->act = TC_ACT_START;
		a->why = "spec changed";
	} else if (w->dnat && c->dnat && strcmp(c->ssh_digest, w->ssh_digest) == 0) {
		a->act = TC_ACT_UPDATE;
		a->why = "target changed; rule updated, ssh kept";
	} else {
		a->act = TC_ACT_RESTART;
		a->why = "spec changed";
	}
}

/* Stops are listed by name whatever order the caller gave the tunnels in:
 * the output (and the order things are stopped in) must not depend on it. */
static void
sort_by_name(struct tc_action *a, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		struct tc_action t = a[i];

		for (j = i; j > 0 && strcmp(a[j - 1].name, t.name) > 0; j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

size_t
tc_plan(const struct tc_want *want, size_t nwant, const struct tc_cur *cur,
	size_t ncur, const char *absent_why, struct tc_action *out)
{
	size_t i, n = 0, first_stop;

	for (i = 0; i < nwant; i++) {
		struct tc_action *a = &out[n++];

		memset(a, 0, sizeof(*a));
		memcpy(a->name, want[i].name, sizeof(a->name));
		a->want = i;
		decide(&want[i], find_cur(cur, ncur, want[i].name), a);
	}
	first_stop = n;
	for (i = 0; i < ncur; i++) {
		struct tc_action *a;

		if (!cur[i].origin_sync || wanted(want, nwant, cur[i].name))
			continue;
		a = &out[n++];
		memset(a, 0, sizeof(*a));
		memcpy(a->name, cur[i].name, sizeof(a->name));
		a->act = TC_ACT_STOP;
		a->why = absent_why ? absent_why : "no longer in the document";
	}
	sort_by_name(out + first_stop, n - first_stop);
	return n;
}
