/* converge.c: a sync round (SPEC "sync semantics"): plan with lib/plan.c,
 * act with lib/tunnel.c, stops first, then the firewall check. */
#include <stdlib.h>
#include <string.h>

#include "converge.h"
#include "firewall.h"
#include "log.h"
#include "xalloc.h"

/* Current tunnels as the planner sees them; *out is the caller's (free()). */
static int
current(struct tc_ctx *c, struct tc_cur **out, size_t *n, struct tc_err *err)
{
	char (*names)[TC_NAME_MAX + 1];
	size_t nn, i;

	*n = 0;
	if (tc_tunnel_list(c, &names, &nn, err) < 0)
		return -1;
	*out = xcalloc(nn, sizeof(**out));
	for (i = 0; i < nn; i++) {
		struct tc_cur *cu = &(*out)[*n];
		struct tc_view v;

		if (tc_tunnel_view(c, names[i], &v, NULL) < 0)
			continue;
		memcpy(cu->name, v.rec.spec.name, sizeof(cu->name));
		cu->origin_sync = v.rec.origin_sync;
		cu->dnat = v.rec.spec.via == TC_VIA_DNAT;
		memcpy(cu->digest, v.rec.digest, sizeof(cu->digest));
		memcpy(cu->ssh_digest, v.rec.ssh_digest, sizeof(cu->ssh_digest));
		cu->state = v.alive ? TC_CUR_RUNNING :
			    v.run.state == TC_ST_EXPIRED ? TC_CUR_EXPIRED :
			    v.run.state == TC_ST_REVOKED ? TC_CUR_REVOKED : TC_CUR_DOWN;
		(*n)++;
	}
	free(names);
	return 0;
}

/* For "NAME: start failed: WHY" (tc_act_word is the outcome, "started"). */
static const char *
act_verb(enum tc_act a)
{
	switch (a) {
	case TC_ACT_START: return "start";
	case TC_ACT_RESTART: return "restart";
	case TC_ACT_UPDATE: return "rule update";
	case TC_ACT_STOP: return "stop";
	case TC_ACT_KEEP:
	case TC_ACT_EXPIRED:
	case TC_ACT_REVOKED:
		break;
	}
	return "action";
}

static int
act(struct tc_ctx *c, const struct tc_action *a, const struct tc_spec *specs, struct tc_err *err)
{
	enum tc_start_result res;
	int existed;

	switch (a->act) {
	case TC_ACT_START:
	case TC_ACT_RESTART:
	case TC_ACT_UPDATE:
		return tc_tunnel_start(c, &specs[a->want], 1,
				       a->act == TC_ACT_UPDATE ? TC_START_ALLOW_UPDATE : 0, &res, err);
	case TC_ACT_STOP:
		return tc_tunnel_stop(c, a->name, &existed, err);
	case TC_ACT_KEEP:
		/* Only a certificate can change without a restart; without one in
		 * the spec there is none on disk either (the digest says so). */
		if (!specs[a->want].certificate[0])
			return 0;
		return tc_tunnel_refresh(c, &specs[a->want], err);
	case TC_ACT_EXPIRED:
	case TC_ACT_REVOKED:
		return 0;
	}
	return 0;
}

int
tc_converge(struct tc_ctx *c, const struct tc_doc_result *doc, const char *absent_why,
	    struct tc_round *r, struct tc_err *err)
{
	struct tc_want *want;
	struct tc_cur *cur = NULL;
	size_t ncur = 0, i, pass;
	int failed = 0;

	memset(r, 0, sizeof(*r));
	if (current(c, &cur, &ncur, err) < 0)
		return -1;
	want = xcalloc(doc->n, sizeof(*want));
	for (i = 0; i < doc->n; i++) {
		memcpy(want[i].name, doc->specs[i].name, sizeof(want[i].name));
		tc_spec_digest(&doc->specs[i], 0, want[i].digest);
		tc_spec_digest(&doc->specs[i], 1, want[i].ssh_digest);
		want[i].dnat = doc->specs[i].via == TC_VIA_DNAT;
	}
	r->acts = xcalloc(doc->n + ncur, sizeof(*r->acts));
	r->ok = xcalloc(doc->n + ncur, sizeof(*r->ok));
	r->n = tc_plan(want, doc->n, cur, ncur, doc->has_device ? NULL : absent_why, r->acts);
	/* Stops first: a port or a name they hold may be needed by a start. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < r->n; i++) {
			struct tc_err e;

			if ((r->acts[i].act == TC_ACT_STOP) != (pass == 0))
				continue;
			if (act(c, &r->acts[i], doc->specs, &e) < 0) {
				tc_log(TC_LOG_ERR, "sync: %s: %s failed: %s", r->acts[i].name,
				       act_verb(r->acts[i].act), e.msg);
				r->last = e;
				failed = 1;
				continue;
			}
			r->ok[i] = 1;
		}
	}
	/* Anything may have flushed the ruleset: put back what running tunnels
	 * need. (-1: the table cannot be read, e.g. no privilege: nothing to
	 * restore from here.) */
	{
		struct tc_err e;

		if (tc_fw_verify(c->statefd, NULL) == 0 && tc_tunnel_fw_sync(c, &e) < 0) {
			tc_log(TC_LOG_ERR, "sync: firewall: %s", e.msg);
			r->last = e;
			failed = 1;
		}
	}
	free(want);
	free(cur);
	if (failed && r->last.kind == TC_OK)
		r->last.kind = TC_ERR_RUNTIME;
	return failed;
}

void
tc_round_free(struct tc_round *r)
{
	free(r->acts);
	free(r->ok);
	memset(r, 0, sizeof(*r));
}
