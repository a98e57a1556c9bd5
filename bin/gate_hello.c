/* gate_hello.c: `tunnelctl-gate hello ...` run as a command means the
 * device's hello reached a shell instead of serve: the account's key has no
 * command=. Refused, so the device learns its server is misconfigured. */
#include <stdio.h>

#include "gate.h"
#include "log.h"

int
gate_hello(const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	(void)o;
	(void)argc;
	(void)argv;
	(void)err;
	fprintf(stderr, "%s: refused: the hello reached a shell, not serve: this key's authorized_keys "
		"line needs command=\"... serve --device ID\" (see tunnelctl-gate(8))\n", GATE_PROG);
	tc_log(TC_LOG_INFO, "refused a hello run as a plain command (no forced command for this key)");
	return 1;
}
