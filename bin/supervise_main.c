/* supervise_main.c: tunnelctl-supervise, the per-tunnel supervisor program.
 * A separate, small binary (no libcurl) so each running tunnel costs little
 * memory on a small device. Started only by tunnelctl:
 *   tunnelctl-supervise __supervise STATE_DIR NAME READY_FD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "supervise.h"

int
main(int argc, char **argv)
{
	if (argc != 5 || strcmp(argv[1], TC_SUPERVISE_CMD) != 0) {
		tc_log_open("tunnelctl", 0);
		tc_log(TC_LOG_ERR, "tunnelctl-supervise: started by tunnelctl only");
		return 2;
	}
	tc_no_core();
	return tc_supervisor_main(argv[2], argv[3], atoi(argv[4]));
}
