/* cmd_stop.c: `stop [NAME...] [--all]`: idempotent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "tunnel.h"

int
cmd_stop(struct g *g, int argc, char **argv, struct tc_err *err)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS, { "all", no_argument, NULL, OPT_ALL }, { NULL, 0, NULL, 0 },
	};
	char (*names)[TC_NAME_MAX + 1] = NULL;
	const char **words = NULL;
	struct tc_ctx c;
	size_t n = 0, i;
	int ch, r, all = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, ":" GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if ((r = opt_global(g, ch, optarg, err)) < 0)
			return -1;
		if (r)
			continue;
		if (ch == OPT_ALL)
			all = 1;
		else if (ch == 'h') {
			usage_for("stop");
			return 0;
		} else
			return tc_err_set(err, TC_ERR_USAGE, "unknown option '%s'", argv[optind - 1]);
	}
	if (!all && optind >= argc)
		return tc_err_set(err, TC_ERR_USAGE, "stop: name a tunnel, or give --all");
	if (all && optind < argc)
		return tc_err_set(err, TC_ERR_USAGE, "stop: give NAMEs or --all, not both");
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (!tc_valid_name(argv[i]))
			return tc_err_set(err, TC_ERR_USAGE, "NAME: '%.40s' is not a tunnel name", argv[i]);
	if (globals_done(g, err) < 0 || tc_ctx_open(&c, g->state_dir, 1, g->wait_s, err) < 0)
		return -1;
	if (all) {
		if (tc_tunnel_list(&c, &names, &n, err) < 0) {
			tc_ctx_close(&c);
			return -1;
		}
	} else {
		n = (size_t)(argc - optind);
		names = calloc(n, sizeof(*names));
		if (!names) {
			tc_ctx_close(&c);
			return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
		}
		for (i = 0; i < n; i++)
			snprintf(names[i], sizeof(names[i]), "%s", argv[optind + (int)i]);
	}
	words = calloc(n ? n : 1, sizeof(*words));
	for (i = 0; words && i < n; i++) {
		struct tc_err e;
		int existed;

		if (tc_tunnel_stop(&c, names[i], &existed, &e) < 0) {
			fprintf(stderr, "tunnelctl: stop %s: %s\n", names[i], e.msg);
			*err = e;
			rc = -1;
			words[i] = "failed";
			continue;
		}
		words[i] = existed ? "stopped" : "not running";
	}
	/* The cached document holds private keys: with every tunnel gone, so is it. */
	if (all && rc == 0)
		tc_subdir_remove(c.statefd, ".fetch", NULL);
	if (words)
		out_print(g, tc_out_results((const char (*)[TC_NAME_MAX + 1])names, words, n, g->json));
	free(words);
	free(names);
	tc_ctx_close(&c);
	if (rc < 0)
		return exit_code(err->kind);
	return 0;
}
