/* cmd_sync.c: `sync`: fetch, validate, plan, act, report (SPEC "sync semantics"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "doc.h"
#include "firewall.h"
#include "opts.h"
#include "out.h"
#include "plan.h"
#include "source.h"
#include "tunnel.h"

#define TC_SPLAY_MAX 86400

static int
splay(const char *arg, struct tc_err *err)
{
	struct timespec ts;
	char *end;
	long max;
	unsigned seed;

	if (!arg || !*arg)
		return 0;
	errno = 0;
	max = strtol(arg, &end, 10);
	if (errno || *end || *arg == '-' || *arg == '+' || max < 0 || max > TC_SPLAY_MAX)
		return tc_err_set(err, TC_ERR_USAGE, "--splay: '%.32s' is not a number of seconds (0-%d)",
				  arg, TC_SPLAY_MAX);
	if (max == 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid();
	ts.tv_sec = (time_t)(rand_r(&seed) % (max + 1));
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

/* Current tunnels as the planner sees them. */
static int
current(struct tc_ctx *c, struct tc_cur **out, size_t *n, struct tc_err *err)
{
	char (*names)[TC_NAME_MAX + 1];
	size_t nn, i;

	*n = 0;
	if (tc_tunnel_list(c, &names, &nn, err) < 0)
		return -1;
	*out = calloc(nn ? nn : 1, sizeof(**out));
	if (!*out) {
		free(names);
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	}
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
			    v.run.state == TC_ST_EXPIRED ? TC_CUR_EXPIRED : TC_CUR_DOWN;
		(*n)++;
	}
	free(names);
	return 0;
}

/* For "NAME: start failed: WHY" on stderr (tc_act_word is the outcome, "started"). */
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
		break;
	}
	return "action";
}

static int
act(struct tc_ctx *c, const struct tc_action *a, struct tc_spec *specs, struct tc_err *err)
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
	case TC_ACT_EXPIRED:
		return 0;
	}
	return 0;
}

static int
converge(struct g *g, struct tc_ctx *c, struct tc_doc_result *doc, struct tc_err *err)
{
	struct tc_want *want;
	struct tc_cur *cur = NULL;
	struct tc_action *acts;
	size_t ncur = 0, nact, i, pass;
	int *ok, failed = 0;
	struct tc_err last = { TC_OK, "" };

	want = calloc(doc->n ? doc->n : 1, sizeof(*want));
	if (!want)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	if (current(c, &cur, &ncur, err) < 0) {
		free(want);
		return -1;
	}
	for (i = 0; i < doc->n; i++) {
		memcpy(want[i].name, doc->specs[i].name, sizeof(want[i].name));
		tc_spec_digest(&doc->specs[i], 0, want[i].digest);
		tc_spec_digest(&doc->specs[i], 1, want[i].ssh_digest);
		want[i].dnat = doc->specs[i].via == TC_VIA_DNAT;
	}
	acts = calloc(doc->n + ncur + 1, sizeof(*acts));
	ok = calloc(doc->n + ncur + 1, sizeof(*ok));
	if (!acts || !ok) {
		free(want);
		free(cur);
		free(acts);
		free(ok);
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	}
	nact = tc_plan(want, doc->n, cur, ncur,
		       doc->has_device ? NULL : "no entry for this device in the document", acts);
	/* Stops first: a port or a name they hold may be needed by a start. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nact; i++) {
			struct tc_err e;

			if ((acts[i].act == TC_ACT_STOP) != (pass == 0))
				continue;
			if (act(c, &acts[i], doc->specs, &e) < 0) {
				fprintf(stderr, "tunnelctl: sync: %s: %s failed: %s\n", acts[i].name,
					act_verb(acts[i].act), e.msg);
				last = e;
				failed = 1;
				continue;
			}
			ok[i] = 1;
		}
	}
	/* Anything may have flushed the ruleset: put back what running tunnels need. */
	/* (-1: the table cannot be read, e.g. no privilege: nothing to restore from here) */
	if (tc_fw_verify(c->statefd, NULL) == 0 && tc_tunnel_fw_sync(c, &last) < 0) {
		fprintf(stderr, "tunnelctl: sync: firewall: %s\n", last.msg);
		failed = 1;
	}
	out_print(g, tc_out_sync(acts, ok, nact, g->json));
	free(want);
	free(cur);
	free(acts);
	free(ok);
	if (failed) {
		*err = last;
		if (err->kind == TC_OK)
			err->kind = TC_ERR_RUNTIME;
		return exit_code(err->kind == TC_ERR_PERM ? TC_ERR_PERM : TC_ERR_RUNTIME);
	}
	return 0;
}

int
cmd_sync(struct g *g, int argc, char **argv, struct tc_err *err)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS, SOURCE_LONGOPTS,
		{ "splay", required_argument, NULL, OPT_SPLAY },
		{ NULL, 0, NULL, 0 },
	};
	struct source_opts so;
	struct tc_source src;
	struct tc_doc_result doc;
	struct tc_ctx c;
	const char *splay_arg = NULL;
	int ch, r, nm;

	memset(&so, 0, sizeof(so));
	while ((ch = getopt_long(argc, argv, ":" GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if ((r = opt_global(g, ch, optarg, err)) < 0)
			return -1;
		if (r || opt_source(&so, ch, optarg))
			continue;
		if (ch == OPT_SPLAY)
			splay_arg = optarg;
		else if (ch == 'h') {
			usage_for("sync");
			return 0;
		} else if (ch == ':')
			return tc_err_set(err, TC_ERR_USAGE, "%s: needs a value", argv[optind - 1]);
		else
			return tc_err_set(err, TC_ERR_USAGE, "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc)
		return tc_err_set(err, TC_ERR_USAGE, "sync: unexpected argument '%.40s'", argv[optind]);
	if (globals_done(g, err) < 0 || source_resolve(g, &so, &src, err) < 0)
		return -1;
	if (!splay_arg && g->set.splay[0])
		splay_arg = g->set.splay;
	if (splay(splay_arg, err) < 0)
		return -1;
	if (tc_ctx_open(&c, g->state_dir, 1, g->wait_s, err) < 0)
		return -1;
	if (ctx_tools(g, &c, NULL, err) < 0 || tc_source_load(c.statefd, &src, &doc, &nm, err) < 0) {
		tc_ctx_close(&c);
		return -1;
	}
	r = converge(g, &c, &doc, err);
	tc_doc_result_free(&doc);
	tc_ctx_close(&c);
	if (r < 0)
		return -1;
	return r;
}
