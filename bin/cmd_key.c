/* cmd_key.c: `key [--json]`: the device's own key, made if missing; its
 * public line is what the server's authorized_keys (or the CA) needs. */
#include <stdio.h>

#include "cmd.h"
#include "devkey.h"
#include "opts.h"
#include "out.h"

int
cmd_key(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	struct tc_devkey k;
	const char *path = g->set.key[0] ? g->set.key : TC_DEVKEY_DEFAULT;

	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.40s'", argv[0]);
	if (tc_devkey_ensure(path, TC_SSH_KEYGEN_DEFAULT, &k, err) < 0)
		return -1;
	out_print(g, tc_out_key(path, k.public_key, k.fingerprint, g->json));
	return 0;
}
