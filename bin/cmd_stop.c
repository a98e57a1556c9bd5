/* cmd_stop.c: `stop [NAME...] [--all]`: idempotent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "tunnel.h"
#include "xalloc.h"

int
cmd_stop(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	char (*names)[TC_NAME_MAX + 1] = NULL;
	const char **words;
	struct tc_ctx c;
	size_t n = 0, i;
	int rc = 0;

	if (!o->all && argc == 0)
		return tc_err_set(err, TC_ERR_USAGE, "name a tunnel, or give --all");
	if (o->all && argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "give NAMEs or --all, not both");
	for (i = 0; i < (size_t)argc; i++)
		if (check_name(argv[i], err) < 0)
			return -1;
	if (tc_ctx_open(&c, g->state_dir, 1, g->wait_s, err) < 0)
		return -1;
	if (o->all) {
		if (tc_tunnel_list(&c, &names, &n, err) < 0) {
			tc_ctx_close(&c);
			return -1;
		}
	} else {
		n = (size_t)argc;
		names = xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++)
			snprintf(names[i], sizeof(names[i]), "%s", argv[i]);
	}
	words = xcalloc(n, sizeof(*words));
	for (i = 0; i < n; i++) {
		struct tc_err e;
		int existed;

		if (tc_tunnel_stop(&c, names[i], &existed, &e) < 0) {
			tc_log(TC_LOG_ERR, "stop: %s: %s", names[i], e.msg);
			rc = rc ? rc : exit_code(e.kind);
			words[i] = "failed";
			continue;
		}
		words[i] = existed ? "stopped" : "not running";
	}
	/* The cached document holds private keys: with every tunnel gone, so is it. */
	if (o->all && rc == 0)
		tc_subdir_remove(c.statefd, ".fetch", NULL);
	out_print(g, tc_out_results((const char (*)[TC_NAME_MAX + 1])names, words, n, g->json));
	free(words);
	free(names);
	tc_ctx_close(&c);
	return rc;
}
