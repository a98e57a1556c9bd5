/* cmd_status.c: `status [NAME...] [--json]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "state.h"
#include "firewall.h"
#include "opts.h"
#include "out.h"
#include "tunnel.h"

/* Mark each running dnat tunnel whose own rules are gone (someone flushed the
 * ruleset, deleted a rule, re-created an interface); 1 if any is. */
static int
check_rules(struct tc_ctx *c, struct tc_view *v, size_t n)
{
	size_t i;
	int missing = 0;

	for (i = 0; i < n; i++) {
		if (!v[i].alive || v[i].rec.spec.via != TC_VIA_DNAT)
			continue;
		/* -1 (no CAP_NET_ADMIN to read the table): nothing to report */
		if (tc_fw_tunnel_check(c->statefd, c->state_path, &v[i].rec.spec, NULL) == 0) {
			v[i].rule_missing = 1;
			missing = 1;
		}
	}
	return missing;
}

int
cmd_status(struct g *g, int argc, char **argv, struct tc_err *err)
{
	char (*names)[TC_NAME_MAX + 1] = NULL;
	struct tc_view *v = NULL;
	struct tc_ctx c;
	size_t n = 0, nv = 0, i;
	int r, named, notup = 0;

	if ((r = opt_globals_only(g, "status", argc, argv, err)) != 0)
		return r < 0 ? -1 : 0;
	named = optind < argc;
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (!tc_valid_name(argv[i]))
			return tc_err_set(err, TC_ERR_USAGE, "NAME: '%.40s' is not a tunnel name", argv[i]);
	if (globals_done(g, err) < 0)
		return -1;
	/* The lock only if free at once: status must not wait behind a sync, but
	 * when it can, it cleans up after a supervisor that died. */
	if (tc_ctx_open(&c, g->state_dir, 0, -1, err) < 0) {
		if (named && err->kind == TC_ERR_RUNTIME && errno == ENOENT) {
			for (i = (size_t)optind; i < (size_t)argc; i++)
				fprintf(stderr, "tunnelctl: status: %s: unknown tunnel\n", argv[i]);
			out_print(g, tc_out_status(NULL, 0, g->json, time(NULL)));
			return exit_code(TC_ERR_NOTUP);
		}
		if (err->kind == TC_ERR_RUNTIME && errno == ENOENT) {
			out_print(g, tc_out_status(NULL, 0, g->json, time(NULL)));
			return 0;
		}
		return -1;
	}
	c.lockfd = tc_lock(c.statefd, 0, NULL);
	if (named) {
		n = (size_t)(argc - optind);
		names = calloc(n, sizeof(*names));
		for (i = 0; names && i < n; i++)
			snprintf(names[i], sizeof(names[i]), "%s", argv[optind + (int)i]);
	} else if (tc_tunnel_list(&c, &names, &n, err) < 0) {
		tc_ctx_close(&c);
		return -1;
	}
	v = calloc(n ? n : 1, sizeof(*v));
	if (!names || !v) {
		free(names);
		free(v);
		tc_ctx_close(&c);
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (tc_tunnel_view(&c, names[i], &v[nv], NULL) < 0) {
			if (named) {
				fprintf(stderr, "tunnelctl: status: %s: unknown tunnel\n", names[i]);
				notup = 1;
			}
			continue;
		}
		if (v[nv].run.state != TC_ST_UP)
			notup = 1;
		nv++;
	}
	for (i = 0; i < nv; i++)
		if (v[i].cleaned && v[i].rec.spec.via == TC_VIA_DNAT) {
			tc_tunnel_fw_sync(&c, NULL);	/* drop the dead tunnel's rule */
			break;
		}
	/* after the cleanup: a missing rule makes its tunnel not up (exit 3) */
	if (check_rules(&c, v, nv))
		notup = 1;
	out_print(g, tc_out_status(v, nv, g->json, time(NULL)));
	free(v);
	free(names);
	tc_ctx_close(&c);
	return named && notup ? exit_code(TC_ERR_NOTUP) : 0;
}
