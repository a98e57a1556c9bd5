/* supervise.h: the detached supervisor that owns one tunnel: it runs
 * autossh/ssh in its own process group, reads ssh's messages into run.json,
 * enforces the timeout and cleans up on exit. */
#ifndef TC_SUPERVISE_H
#define TC_SUPERVISE_H

#include <sys/types.h>

#include "err.h"

#define TC_SUPERVISE_CMD "__supervise"	/* hidden command: `tunnelctl __supervise DIR NAME FD` */

/* Start the supervisor of tunnel `name` (its spec.json, key and known_hosts
 * are already in place): double fork + setsid + exec of `supervisor`, with a
 * clean environment and only fds 0-2 (to /dev/null) and the readiness pipe.
 * Returns once the supervisor has written its pidfile and started ssh
 * (or failed to), waiting at most TC_READY_TIMEOUT_S. */
int tc_supervisor_spawn(const char *supervisor, const char *state_path, const char *name,
			pid_t *pid, struct tc_err *err);

/* The supervisor itself (runs in the exec'd process). Returns the exit code. */
int tc_supervisor_main(const char *state_path, const char *name, int readyfd);

#endif
