/* test_plan.c: every row of the sync decision table (SPEC.md "sync
 * semantics"), the hand/sync split, the absent-device case and the order. */
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "tap.h"

#define D_A "aaaa"
#define D_B "bbbb"
#define S_1 "1111"
#define S_2 "2222"

static struct tc_want
want(const char *name, const char *digest, const char *ssh_digest, int dnat)
{
	struct tc_want w;

	memset(&w, 0, sizeof(w));
	snprintf(w.name, sizeof(w.name), "%s", name);
	snprintf(w.digest, sizeof(w.digest), "%s", digest);
	snprintf(w.ssh_digest, sizeof(w.ssh_digest), "%s", ssh_digest);
	w.dnat = dnat;
	return w;
}

static struct tc_cur
cur(const char *name, int origin_sync, enum tc_cur_state st, const char *digest,
    const char *ssh_digest, int dnat)
{
	struct tc_cur c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.origin_sync = origin_sync;
	c.state = st;
	snprintf(c.digest, sizeof(c.digest), "%s", digest);
	snprintf(c.ssh_digest, sizeof(c.ssh_digest), "%s", ssh_digest);
	c.dnat = dnat;
	return c;
}

/* One desired tunnel against at most one current one: the single action. */
static size_t
plan1(const struct tc_want *w, const struct tc_cur *c, struct tc_action *out)
{
	return tc_plan(w, w ? 1 : 0, c, c ? 1 : 0, NULL, out);
}

static void
one(const char *desc, const struct tc_want *w, const struct tc_cur *c, enum tc_act act,
    const char *word)
{
	struct tc_action a[2];
	size_t n;

	memset(a, 0x5a, sizeof(a));
	n = plan1(w, c, a);
	is_int(n, 1, "%s: one action", desc);
	is_int(a[0].act, act, "%s: action", desc);
	is_str(tc_act_word(a[0].act), word, "%s: reported '%s'", desc, word);
	is_str(a[0].name, w ? w->name : c->name, "%s: named", desc);
	ok(a[0].why && *a[0].why, "%s: says why (%s)", desc, a[0].why ? a[0].why : "(null)");
	if (act == TC_ACT_START || act == TC_ACT_RESTART || act == TC_ACT_UPDATE)
		is_int(a[0].want, 0, "%s: points at the desired spec", desc);
}

static void
decision_table(void)
{
	struct tc_want w = want("web", D_A, S_1, 0);
	struct tc_want wb = want("web", D_B, S_2, 0);
	struct tc_want wd = want("inv", D_B, S_1, 1);		/* dnat, target changed */
	struct tc_want wd_ssh = want("inv", D_B, S_2, 1);	/* dnat, ssh side changed */
	struct tc_want wd_direct = want("inv", D_B, S_1, 0);	/* became direct */
	struct tc_cur run = cur("web", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	struct tc_cur exp = cur("web", 1, TC_CUR_EXPIRED, D_A, S_1, 0);
	struct tc_cur down = cur("web", 1, TC_CUR_DOWN, D_A, S_1, 0);
	struct tc_cur rev = cur("web", 1, TC_CUR_REVOKED, D_A, S_1, 0);
	struct tc_cur hand = cur("web", 0, TC_CUR_RUNNING, D_B, S_2, 0);
	struct tc_cur hand_same = cur("web", 0, TC_CUR_RUNNING, D_A, S_1, 0);
	struct tc_cur hand_down = cur("web", 0, TC_CUR_DOWN, D_A, S_1, 0);
	struct tc_cur hand_exp = cur("web", 0, TC_CUR_EXPIRED, D_B, S_2, 0);
	struct tc_cur drun = cur("inv", 1, TC_CUR_RUNNING, D_A, S_1, 1);
	struct tc_cur ddown = cur("inv", 1, TC_CUR_DOWN, D_A, S_1, 1);
	struct tc_cur drun_direct = cur("inv", 1, TC_CUR_RUNNING, D_A, S_1, 0);

	one("not running", &w, NULL, TC_ACT_START, "started");
	one("running, same digest", &w, &run, TC_ACT_KEEP, "unchanged");
	one("running, different digest", &wb, &run, TC_ACT_RESTART, "restarted");
	one("dnat, only the target changed", &wd, &drun, TC_ACT_UPDATE, "restarted");
	one("dnat, ssh side changed", &wd_ssh, &drun, TC_ACT_RESTART, "restarted");
	one("dnat -> direct, same ssh digest", &wd_direct, &drun, TC_ACT_RESTART, "restarted");
	one("direct -> dnat, same ssh digest", &wd, &drun_direct, TC_ACT_RESTART, "restarted");
	one("dnat target changed but down", &wd, &ddown, TC_ACT_START, "started");
	one("expired, same spec", &w, &exp, TC_ACT_EXPIRED, "expired");
	one("expired, changed spec", &wb, &exp, TC_ACT_START, "started");
	one("revoked, same spec", &w, &rev, TC_ACT_REVOKED, "revoked");
	one("revoked, changed spec", &wb, &rev, TC_ACT_START, "started");
	one("sync-started revoked, not in the document", NULL, &rev, TC_ACT_STOP, "stopped");
	one("down, same spec", &w, &down, TC_ACT_START, "started");
	one("down, changed spec", &wb, &down, TC_ACT_START, "started");
	one("hand-started, other spec", &w, &hand, TC_ACT_KEEP, "unchanged");
	one("hand-started, same spec", &w, &hand_same, TC_ACT_KEEP, "unchanged");
	one("hand-started and down", &w, &hand_down, TC_ACT_KEEP, "unchanged");
	one("hand-started and expired", &w, &hand_exp, TC_ACT_KEEP, "unchanged");
	one("sync-started, not in the document", NULL, &run, TC_ACT_STOP, "stopped");
	one("sync-started expired, not in the document", NULL, &exp, TC_ACT_STOP, "stopped");
	one("sync-started down, not in the document", NULL, &down, TC_ACT_STOP, "stopped");
}

static void
hand_never_stopped(void)
{
	struct tc_cur c[3];
	struct tc_action a[3];
	size_t n;

	c[0] = cur("hand", 0, TC_CUR_RUNNING, D_A, S_1, 0);
	c[1] = cur("hexp", 0, TC_CUR_EXPIRED, D_A, S_1, 0);
	c[2] = cur("hdown", 0, TC_CUR_DOWN, D_A, S_1, 1);
	n = tc_plan(NULL, 0, c, 3, NULL, a);
	is_int(n, 0, "hand-started tunnels absent from the document: no action at all");
	n = tc_plan(NULL, 0, c, 3, "no entry for this device", a);
	is_int(n, 0, "no device entry: hand-started tunnels get no action");
}

static void
absent_device(void)
{
	struct tc_cur c[5];
	struct tc_action a[5];
	size_t n, i;
	int stops = 0, hand = 0;

	c[0] = cur("a-sync", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	c[1] = cur("b-hand", 0, TC_CUR_RUNNING, D_A, S_1, 0);
	c[2] = cur("c-sync", 1, TC_CUR_EXPIRED, D_A, S_1, 1);
	c[3] = cur("d-hand", 0, TC_CUR_DOWN, D_A, S_1, 0);
	c[4] = cur("e-sync", 1, TC_CUR_DOWN, D_A, S_1, 0);
	n = tc_plan(NULL, 0, c, 5, "no entry for this device in the document", a);
	is_int(n, 3, "no device entry: one action per sync tunnel");
	for (i = 0; i < n; i++) {
		stops += a[i].act == TC_ACT_STOP;
		hand += strstr(a[i].name, "hand") != NULL;
		is_str(a[i].why, "no entry for this device in the document",
		       "no device entry: %s says why", a[i].name);
	}
	is_int(stops, 3, "no device entry: every sync tunnel stopped");
	is_int(hand, 0, "no device entry: no hand-started tunnel touched");
	is_str(a[0].name, "a-sync", "stops in name order (1)");
	is_str(a[1].name, "c-sync", "stops in name order (2)");
	is_str(a[2].name, "e-sync", "stops in name order (3)");
	n = tc_plan(NULL, 0, NULL, 0, "no entry", a);
	is_int(n, 0, "nothing running, nothing wanted: no action");
}

static void
ordering(void)
{
	struct tc_want w[3];
	struct tc_cur c[5];
	struct tc_action a[8];
	size_t n;

	/* document order: zeta, alpha, mid; on disk (given unsorted): */
	w[0] = want("zeta", D_A, S_1, 0);
	w[1] = want("alpha", D_B, S_2, 0);
	w[2] = want("mid", D_A, S_1, 0);
	c[0] = cur("old-z", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	c[1] = cur("alpha", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	c[2] = cur("hand", 0, TC_CUR_RUNNING, D_A, S_1, 0);
	c[3] = cur("old-a", 1, TC_CUR_EXPIRED, D_A, S_1, 0);
	c[4] = cur("mid", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	n = tc_plan(w, 3, c, 5, NULL, a);
	is_int(n, 5, "mixed: 3 desired + 2 stops (the hand one untouched)");
	is_str(a[0].name, "zeta", "document order (1)");
	is_int(a[0].act, TC_ACT_START, "zeta started");
	is_str(a[1].name, "alpha", "document order (2)");
	is_int(a[1].act, TC_ACT_RESTART, "alpha restarted");
	is_int(a[1].want, 1, "alpha points at its desired spec");
	is_str(a[2].name, "mid", "document order (3)");
	is_int(a[2].act, TC_ACT_KEEP, "mid unchanged");
	is_int(a[2].want, 2, "mid's index");
	is_str(a[3].name, "old-a", "stops after the desired ones, by name (1)");
	is_int(a[3].act, TC_ACT_STOP, "old-a stopped");
	is_str(a[3].why, "no longer in the document", "old-a: why");
	is_str(a[4].name, "old-z", "stops by name (2)");
	is_int(a[4].act, TC_ACT_STOP, "old-z stopped");
}

static void
names_exact(void)
{
	struct tc_want w[1];
	struct tc_cur c[2];
	struct tc_action a[3];
	size_t n;

	/* a name that is a prefix of another is a different tunnel */
	w[0] = want("web", D_A, S_1, 0);
	c[0] = cur("web2", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	c[1] = cur("we", 1, TC_CUR_RUNNING, D_A, S_1, 0);
	n = tc_plan(w, 1, c, 2, NULL, a);
	is_int(n, 3, "prefix names: start + 2 stops");
	is_int(a[0].act, TC_ACT_START, "web (not web2/we) is started");
	is_str(a[1].name, "we", "we stopped");
	is_str(a[2].name, "web2", "web2 stopped");
}

static void
words(void)
{
	is_str(tc_act_word(TC_ACT_START), "started", "word: start");
	is_str(tc_act_word(TC_ACT_RESTART), "restarted", "word: restart");
	is_str(tc_act_word(TC_ACT_UPDATE), "restarted", "word: update");
	is_str(tc_act_word(TC_ACT_STOP), "stopped", "word: stop");
	is_str(tc_act_word(TC_ACT_KEEP), "unchanged", "word: keep");
	is_str(tc_act_word(TC_ACT_EXPIRED), "expired", "word: expired");
}

/* Every (state x origin x same/changed x present/absent) combination: an
 * invariant check rather than a table. */
static void
invariants(void)
{
	static const enum tc_cur_state sts[] = { TC_CUR_RUNNING, TC_CUR_EXPIRED, TC_CUR_DOWN };
	size_t s, o, same, present, bad = 0, cases = 0;

	for (s = 0; s < 3; s++)
		for (o = 0; o < 2; o++)
			for (same = 0; same < 2; same++)
				for (present = 0; present < 2; present++) {
					struct tc_want w = want("t", same ? D_A : D_B, S_1, 0);
					struct tc_cur c = cur("t", (int)o, sts[s], D_A, S_1, 0);
					struct tc_action a[2];
					size_t n = tc_plan(&w, present, &c, 1, NULL, a);

					cases++;
					if (!o && n != (present ? 1u : 0u))
						bad++;	/* hand: only ever KEEP when wanted */
					else if (!o && present && a[0].act != TC_ACT_KEEP)
						bad++;
					else if (o && n != 1)
						bad++;
					else if (o && !present && a[0].act != TC_ACT_STOP)
						bad++;
					else if (o && present && a[0].act == TC_ACT_STOP)
						bad++;
					else if (o && present && same && sts[s] == TC_CUR_RUNNING &&
						 a[0].act != TC_ACT_KEEP)
						bad++;
					else if (o && present && !same && a[0].act == TC_ACT_KEEP)
						bad++;
					else if (o && present && !same && a[0].act == TC_ACT_EXPIRED)
						bad++;
				}
	is_int(cases, 24, "invariants: all 24 combinations tried");
	is_int(bad, 0, "invariants: hand never stopped/changed; changed spec never kept; same+running kept");
}

int
main(void)
{
	decision_table();
	hand_never_stopped();
	absent_device();
	ordering();
	names_exact();
	words();
	invariants();
	return tap_done();
}
