/* gate_close.c: `tunnelctl-gate close`: end sessions for good. The reason
 * is left in the registry for the session's serve, which is then signalled
 * (SIGUSR1), tells the device `closed: revoked: REASON` and exits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gate.h"
#include "log.h"
#include "registry.h"
#include "spec.h"

/* How long close waits for each serve to confirm by exiting; serve reacts
 * at once, so this only bounds a wedged process. */
#define CLOSE_WAIT_MS 5000

static int
matches(const struct tc_gate_rec *r, const char *what)
{
	const char *slash = strchr(what, '/');
	size_t dl;

	if (strcmp(r->id, what) == 0 || strcmp(r->device, what) == 0)
		return 1;
	if (!slash)
		return 0;
	dl = (size_t)(slash - what);
	return strlen(r->device) == dl && memcmp(r->device, what, dl) == 0 &&
	       strcmp(r->tunnel, slash + 1) == 0;
}

static int
valid_target(const char *what)
{
	char dev[TC_GATE_DEVICE_MAX + 1];
	const char *slash = strchr(what, '/');
	size_t dl;

	if (!slash)
		return tc_gate_valid_id(what) || tc_gate_valid_device(what);
	dl = (size_t)(slash - what);
	if (dl == 0 || dl > TC_GATE_DEVICE_MAX)
		return 0;
	memcpy(dev, what, dl);
	dev[dl] = '\0';
	return tc_gate_valid_device(dev) && tc_valid_name(slash + 1);
}

/* Ask one session's serve to close; 0 once it has exited. */
static int
close_one(int dirfd, const struct stat *dst, const struct tc_gate_rec *r, const char *reason,
	  struct tc_err *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	uid_t owner = geteuid() == 0 ? dst->st_uid : (uid_t)-1;
	gid_t group = geteuid() == 0 ? dst->st_gid : (gid_t)-1;
	struct pollfd p;
	int i;

	/* After pidfd_open: the pid cannot be reused under us any more, so this
	 * check and the signal below are about the same process. */
	if (!tc_reg_alive(r, dst->st_uid)) {
		if (pidfd >= 0)
			close(pidfd);
		return 1;	/* ended meanwhile */
	}
	if (tc_reg_close_request(dirfd, r->id, reason, owner, group, err) < 0) {
		if (pidfd >= 0)
			close(pidfd);
		if (strstr(err->msg, "Permission denied") || strstr(err->msg, "Operation not permitted"))
			return tc_err_set(err, TC_ERR_PERM, "%s: %s (run close as root or as the devices' account)",
					  r->id, strerror(EACCES));
		return -1;
	}
	if ((pidfd >= 0 ? syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0) : kill(r->pid, SIGUSR1)) < 0) {
		int e = errno;

		if (pidfd >= 0)
			close(pidfd);
		return tc_err_set(err, e == EPERM ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "%s: signal serve (pid %ld): %s", r->id, (long)r->pid, strerror(e));
	}
	if (pidfd >= 0) {
		p = (struct pollfd){ pidfd, POLLIN, 0 };
		i = poll(&p, 1, CLOSE_WAIT_MS);
		close(pidfd);
		if (i > 0)
			return 0;
	} else {
		for (i = 0; i < CLOSE_WAIT_MS / 50 && tc_reg_alive(r, (uid_t)-1); i++)
			poll(NULL, 0, 50);
		if (!tc_reg_alive(r, (uid_t)-1))
			return 0;
	}
	return tc_err_set(err, TC_ERR_RUNTIME, "%s: serve (pid %ld) did not end within %d s", r->id,
			  (long)r->pid, CLOSE_WAIT_MS / 1000);
}

int
gate_close(const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	const char *reason = o->reason ? o->reason : "", *what;
	struct tc_gate_rec *v;
	struct stat dst;
	size_t n, i, matched = 0, failed = 0;
	int fd;

	if (argc != 1)
		return tc_err_set(err, TC_ERR_USAGE, "give one SESSION, DEVICE or DEVICE/TUNNEL");
	what = argv[0];
	if (!valid_target(what))
		return tc_err_set(err, TC_ERR_USAGE, "'%.80s' is not a session id, device id or DEVICE/TUNNEL",
				  what);
	fd = tc_reg_open(gate_registry(o->registry), 0, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &dst) < 0 || tc_reg_list(fd, 1, &v, &n, err) < 0) {
		if (!err->msg[0])
			tc_err_set(err, TC_ERR_RUNTIME, "registry: %s", strerror(errno));
		close(fd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct tc_err e1 = { TC_OK, "" };
		int r;

		if (!matches(&v[i], what))
			continue;
		matched++;
		r = close_one(fd, &dst, &v[i], reason, &e1);
		if (r < 0) {
			failed++;
			*err = e1;
			tc_log(TC_LOG_ERR, "close: %s", e1.msg);
			continue;
		}
		printf("closed %s/%s (session %s)\n", v[i].device, v[i].tunnel, v[i].id);
	}
	free(v);
	close(fd);
	fflush(stdout);
	if (failed)
		return gate_exit_code(err->kind);
	if (!matched)
		return tc_err_set(err, TC_ERR_NOTUP, "no live session matches '%s'", what);
	return 0;
}
