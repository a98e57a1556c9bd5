/* cmd_status.c: `status [NAME...] [--json]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "firewall.h"
#include "log.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "tunnel.h"
#include "watchfile.h"
#include "xalloc.h"

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

static void
unknown(const char *name)
{
	tc_log(TC_LOG_ERR, "status: %s: unknown tunnel", name);
}

int
cmd_status(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	char (*names)[TC_NAME_MAX + 1] = NULL;
	struct tc_watch_info w;
	struct tc_view *v;
	struct tc_ctx c;
	size_t n = 0, nv = 0, i;
	int notup = 0;

	for (i = 0; i < (size_t)argc; i++)
		if (check_name(argv[i], err) < 0)
			return -1;
	/* The lock only if free at once: status must not wait behind a sync, but
	 * when it can, it cleans up after a supervisor that died. */
	if (tc_ctx_open(&c, g->state_dir, 0, -1, err) < 0) {
		if (err->kind != TC_ERR_RUNTIME || errno != ENOENT)
			return -1;
		/* No state dir yet: no tunnels. */
		for (i = 0; i < (size_t)argc; i++)
			unknown(argv[i]);
		out_print(g, tc_out_status(NULL, 0, NULL, g->json, time(NULL)));	/* no dir: no watcher either */
		return argc > 0 ? exit_code(TC_ERR_NOTUP) : 0;
	}
	c.lockfd = tc_lock(c.statefd, 0, NULL);
	if (argc > 0) {
		n = (size_t)argc;
		names = xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++)
			snprintf(names[i], sizeof(names[i]), "%s", argv[i]);
	} else if (tc_tunnel_list(&c, &names, &n, err) < 0) {
		tc_ctx_close(&c);
		return -1;
	}
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		if (tc_tunnel_view(&c, names[i], &v[nv], NULL) < 0) {
			if (argc > 0) {
				unknown(names[i]);
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
	out_print(g, tc_out_status(v, nv, tc_watch_read(c.statefd, &w) == 0 ? &w : NULL, g->json, time(NULL)));
	free(v);
	free(names);
	tc_ctx_close(&c);
	return argc > 0 && notup ? exit_code(TC_ERR_NOTUP) : 0;
}
