/* cmd_sync.c: `sync`: fetch, validate, converge, report (SPEC "sync semantics"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "converge.h"
#include "num.h"
#include "opts.h"
#include "out.h"
#include "source.h"

#define TC_SPLAY_MAX 86400	/* a day: a fleet spread wider than that is a typo */

static int
splay(const char *arg, struct tc_err *err)
{
	struct timespec ts;
	unsigned long long max;
	unsigned seed;

	if (!arg || !*arg)
		return 0;
	if (tc_parse_uint(arg, TC_SPLAY_MAX, &max) < 0)
		return tc_err_set(err, TC_ERR_USAGE, "--splay: '%.32s' is not a number of seconds (0-%d)",
				  arg, TC_SPLAY_MAX);
	if (max == 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid();
	ts.tv_sec = (time_t)((unsigned long long)rand_r(&seed) % (max + 1));
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

int
cmd_sync(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	struct tc_doc_result doc;
	struct tc_source src;
	struct tc_round round;
	struct tc_ctx c;
	char absent[160];
	int r, nm;

	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.40s'", argv[0]);
	if (source_resolve(g, o, &src, err) < 0)
		return -1;
	if (splay(o->splay ? o->splay : g->set.splay, err) < 0)
		return -1;
	if (tc_ctx_open(&c, g->state_dir, 1, g->wait_s, err) < 0)
		return -1;
	if (ctx_tools(g, &c, NULL, err) < 0 || tc_source_load(c.statefd, &src, &doc, &nm, err) < 0) {
		tc_ctx_close(&c);
		return -1;
	}
	if (settings_to_specs(g, doc.specs, doc.n, err) < 0) {
		tc_doc_result_free(&doc);
		tc_ctx_close(&c);
		return -1;
	}
	/* The id in quotes: a stray character in it (a comment, a blank) shows. */
	snprintf(absent, sizeof(absent), "no entry for device '%s' in the document", doc.id);
	r = tc_converge(&c, &doc, absent, &round, err);
	if (r >= 0)
		out_print(g, tc_out_sync(round.acts, round.ok, round.n, g->json));
	if (r == 1)
		r = exit_code(round.last.kind == TC_ERR_PERM ? TC_ERR_PERM : TC_ERR_RUNTIME);
	tc_round_free(&round);
	tc_doc_result_free(&doc);
	tc_ctx_close(&c);
	return r;
}
