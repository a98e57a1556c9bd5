/* cmd_version.c: `version`: ours and the parts' versions. */
#include <stdio.h>

#include "cmd.h"
#include "config.h"
#include "fetch.h"
#include "nft.h"
#include "opts.h"
#include "out.h"
#include "tools.h"

int
cmd_version(struct g *g, int argc, char **argv, struct tc_err *err)
{
	const char *keys[] = { "tunnelctl", "libcurl", "json-c", "nftables", "autossh", "ssh" };
	const char *vals[6];
	char autossh[128], ssh[128];
	int r;

	if ((r = opt_globals_only(g, "version", argc, argv, err)) != 0)
		return r < 0 ? -1 : 0;
	if (optind < argc)
		return tc_err_set(err, TC_ERR_USAGE, "version: unexpected argument '%.40s'", argv[optind]);
	if (globals_done(g, err) < 0)
		return -1;
	vals[0] = PACKAGE_VERSION;
	vals[1] = tc_fetch_version();
	vals[2] = tc_json_version();
	vals[3] = tc_nft_version();
	vals[4] = tc_tool_version(g->set.autossh[0] ? g->set.autossh : TC_AUTOSSH_DEFAULT,
				  autossh, sizeof(autossh)) == 0 ? autossh : NULL;
	vals[5] = tc_tool_version(g->set.ssh[0] ? g->set.ssh : TC_SSH_DEFAULT, ssh, sizeof(ssh)) == 0 ? ssh : NULL;
	out_print(g, tc_out_version(keys, vals, 6, g->json));
	return 0;
}
