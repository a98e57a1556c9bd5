/* cmd_version.c: `version`: ours and the parts' versions. */
#include <stdio.h>

#include "cmd.h"
#include "config.h"
#include "fetch.h"
#include "mqtt.h"
#include "nft.h"
#include "opts.h"
#include "out.h"
#include "tools.h"

int
cmd_version(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	const char *keys[] = { "tunnelctl", "libcurl", "json-c", "nftables", "libmosquitto", "autossh", "ssh" };
	const char *vals[7];
	char autossh[128], ssh[128];

	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.40s'", argv[0]);
	vals[0] = PACKAGE_VERSION;
	vals[1] = tc_fetch_version();
	vals[2] = tc_json_version();
	vals[3] = tc_nft_version();
	vals[4] = tc_mqtt_version();
	vals[5] = tc_tool_version(g->set.autossh[0] ? g->set.autossh : TC_AUTOSSH_DEFAULT,
				  autossh, sizeof(autossh)) == 0 ? autossh : NULL;
	vals[6] = tc_tool_version(g->set.ssh[0] ? g->set.ssh : TC_SSH_DEFAULT, ssh, sizeof(ssh)) == 0 ? ssh : NULL;
	out_print(g, tc_out_version(keys, vals, 7, g->json));
	return 0;
}
