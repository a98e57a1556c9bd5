/* supervise.c: the detached supervisor of one tunnel.
 * One process, one poll loop: signals (signalfd), ssh's stderr, rtnetlink
 * events, the expiry timer and the restart-backoff timer. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firewall.h"
#include "log.h"
#include "netwatch.h"
#include "record.h"
#include "sshargv.h"
#include "sshmsg.h"
#include "state.h"
#include "supervise.h"

#define TC_READY_TIMEOUT_S 10	/* start waits this long for the supervisor to report */
#define TC_GRACE_S 5		/* SIGTERM to the process group, then SIGKILL after this */
#define TC_BACKOFF_MIN_S 1	/* first retry delay after ssh/autossh exits */
#define TC_BACKOFF_MAX_S 60	/* retry delay cap: a cellular link is retried at least each minute */
#define TC_STABLE_S 60		/* up this long and the backoff starts again from the minimum */
#define TC_DEBOUNCE_S 1		/* link/address events closer than this count once */
#define TC_EXIT_LOCK_WAIT_S 10	/* how long an expiring supervisor waits for the lock */
#define TC_TICK_S 10		/* housekeeping: SIGCONT the group (a stopped ssh) */
#define TC_SAVE_RETRY_S 2	/* retry of a run.json write that failed (disk full, read-only) */

struct sup {
	const char *state_path;
	int statefd, tdir;
	struct tc_record rec;
	struct tc_run run;
	struct tc_ssh_paths paths;
	char key_path[TC_PATH_MAX + 64], kh_path[TC_PATH_MAX + 64], cert_path[TC_PATH_MAX + 64];
	struct tc_argv argv, env;
	uid_t uid;
	gid_t gid;
	int drop;			/* run ssh as rec.run_as */
	pid_t self, child;		/* child leads its own process group */
	int errfd;			/* read end of the child's stderr */
	char line[TC_SSHMSG_LINE_MAX + 1];
	size_t linelen;
	int discarding;			/* rest of an over-long line */
	unsigned connects;		/* ssh connection attempts seen */
	char unknown[TC_ERRTEXT_MAX];	/* ssh's last message no rule knows, "" if none */
	int sigfd, expfd, backfd;
	struct mnl_socket *nw;
	unsigned backoff;
	int waiting;			/* no child: backfd is armed */
	time_t up_since, last_kick;
	int dirty;			/* run.json needs writing */
	int save_failed;		/* the last write of run.json failed */
	time_t last_tick;
};

static time_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Write run.json; on failure (disk full, read-only) it stays dirty and the
 * loop tries again on its next tick. */
static void
save(struct sup *s)
{
	struct tc_err err;

	if (tc_run_write(s->tdir, &s->run, &err) < 0) {
		if (!s->save_failed)
			tc_log(TC_LOG_ERR, "%s: %s", s->rec.spec.name, err.msg);
		s->save_failed = 1;
		s->dirty = 1;
		return;
	}
	s->save_failed = 0;
	s->dirty = 0;
}

static void count_start(struct sup *s);

static void
set_state(struct sup *s, enum tc_tstate st, const char *why)
{
	if (s->run.state != st)
		tc_log(TC_LOG_INFO, "%s: %s -> %s%s%s", s->rec.spec.name,
		       tc_tstate_name(s->run.state), tc_tstate_name(st),
		       why && *why ? ": " : "", why ? why : "");
	if (s->run.state != st)
		s->dirty = 1;
	s->run.state = st;
	if (why && strcmp(s->run.last_error, why) != 0) {
		snprintf(s->run.last_error, sizeof(s->run.last_error), "%s", why);
		s->dirty = 1;
	}
}

static void __attribute__((noreturn))
child_exec(struct sup *s, int errw, int execw)
{
	sigset_t none;
	int e, devnull;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(errw, 2) < 0)
		goto fail;
	if (s->drop) {
		/* autossh reopens /dev/stderr (AUTOSSH_LOGFILE): the pipe must
		 * belong to the user it will run as. */
		if (fchown(2, s->uid, s->gid) < 0 || initgroups(s->rec.run_as, s->gid) < 0 || setgid(s->gid) < 0 ||
		    setuid(s->uid) < 0 || setuid(0) == 0)
			goto fail;
	}
	/* After any uid change, which clears it: autossh gets SIGTERM when the
	 * supervisor dies, and then ends its ssh (plain ssh just exits). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != s->self)
		goto fail;
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(s->argv.v[0], s->argv.v, s->env.v);
fail:
	e = errno;
	if (write(execw, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static int
spawn_child(struct sup *s, struct tc_err *err)
{
	int errp[2], execp[2], e = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(errp, O_CLOEXEC) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "pipe: %s", strerror(errno));
	if (pipe2(execp, O_CLOEXEC) < 0) {
		close(errp[0]);
		close(errp[1]);
		return tc_err_set(err, TC_ERR_RUNTIME, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(errp[0]);
		close(errp[1]);
		close(execp[0]);
		close(execp[1]);
		return tc_err_set(err, TC_ERR_RUNTIME, "fork: %s", strerror(e));
	}
	if (pid == 0)
		child_exec(s, errp[1], execp[1]);
	setpgid(pid, pid);	/* also here, so signalling -pid works at once */
	close(errp[1]);
	close(execp[1]);
	do
		n = read(execp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(execp[0]);
	if (n > 0) {
		close(errp[0]);
		waitpid(pid, NULL, 0);
		return tc_err_set(err, TC_ERR_RUNTIME, "exec %s: %s", s->argv.v[0], strerror(e));
	}
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	s->errfd = errp[0];
	s->child = pid;
	s->linelen = 0;
	s->discarding = 0;
	s->waiting = 0;
	s->unknown[0] = '\0';
	if (!s->paths.autossh)
		count_start(s);
	tc_log(TC_LOG_DEBUG, "%s: started %s (pid %ld)", s->rec.spec.name, s->argv.v[0], (long)pid);
	return 0;
}

/* SIGTERM the child's whole process group, SIGKILL after the grace period,
 * reap it, and leave nothing of the session behind. */
static void
kill_child(struct sup *s)
{
	time_t deadline;

	if (s->child > 0) {
		kill(-s->child, SIGTERM);
		kill(-s->child, SIGCONT);	/* a stopped ssh cannot act on SIGTERM */
		deadline = mono() + TC_GRACE_S;
		while (mono() < deadline) {
			if (waitpid(s->child, NULL, WNOHANG) == s->child) {
				s->child = 0;
				break;
			}
			usleep(50 * 1000);
		}
	}
	/* Whatever is left in the group (a hung ssh, autossh wedged waiting for
	 * it) or elsewhere in our session gets SIGKILL. */
	if (s->child > 0) {
		kill(-s->child, SIGKILL);
		waitpid(s->child, NULL, 0);
	}
	tc_kill_session(s->self, s->run.starttime, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	s->child = 0;
	if (s->errfd >= 0) {
		close(s->errfd);
		s->errfd = -1;
	}
}

static void
arm(int tfd, time_t secs)
{
	struct itimerspec its = { { 0, 0 }, { secs, secs ? 0 : 1 } };

	timerfd_settime(tfd, 0, &its, NULL);
}

static void
schedule_restart(struct sup *s)
{
	s->waiting = 1;
	arm(s->backfd, s->backoff);
	tc_log(TC_LOG_DEBUG, "%s: retry in %u s", s->rec.spec.name, s->backoff);
	s->backoff = s->backoff * 2 > TC_BACKOFF_MAX_S ? TC_BACKOFF_MAX_S : s->backoff * 2;
}

/* Every ssh started after the first is a restart: autossh says when it
 * starts one; without autossh the supervisor starts them itself. */
static void
count_start(struct sup *s)
{
	if (++s->connects > 1) {
		s->run.restarts = s->connects - 1;
		s->dirty = 1;
	}
}

/* Why ssh ended when no rule said why: its last unknown message, if any
 * (ssh printed something that explains it), else `fallback`. The unknown
 * message is used once: a later attempt must say its own. */
static const char *
exit_reason(struct sup *s, const char *fallback)
{
	static char why[TC_ERRTEXT_MAX];

	if (!s->unknown[0])
		return fallback;
	snprintf(why, sizeof(why), "%s", s->unknown);
	s->unknown[0] = '\0';
	return why;
}

static void
on_line(struct sup *s, const char *line, size_t len)
{
	struct tc_sshmsg m;

	tc_sshmsg_parse(line, len, &m);
	switch (m.ev) {
	case TC_SSHEV_NONE:
		if (m.unknown)
			snprintf(s->unknown, sizeof(s->unknown), "%s", m.text);
		break;
	case TC_SSHEV_CONNECTING:	/* autossh's "starting ssh" */
		count_start(s);
		if (s->run.state == TC_ST_UP)
			set_state(s, TC_ST_RETRYING, "connection lost");
		break;
	case TC_SSHEV_ALLOCATED:
		if (m.port && s->run.allocated_port != m.port) {
			s->run.allocated_port = m.port;
			s->dirty = 1;
		}
		break;
	case TC_SSHEV_UP:
		if (m.port && s->rec.spec.remote_port == 0 && s->run.allocated_port != m.port) {
			s->run.allocated_port = m.port;
			s->dirty = 1;
		}
		s->unknown[0] = '\0';
		if (s->run.state != TC_ST_UP) {
			s->up_since = mono();
			s->run.last_error[0] = '\0';
			set_state(s, TC_ST_UP, NULL);
		}
		break;
	case TC_SSHEV_RETRY:
		set_state(s, TC_ST_RETRYING, m.text);
		break;
	case TC_SSHEV_EXITED:
		/* Before "up" too: an ssh that keeps failing for a reason no rule
		 * knows must not leave the tunnel "starting" with no error. */
		if (s->run.state == TC_ST_UP || s->run.state == TC_ST_STARTING ||
		    (s->run.state == TC_ST_RETRYING && !s->run.last_error[0]))
			set_state(s, TC_ST_RETRYING, exit_reason(s, m.text[0] ? m.text : "connection lost"));
		break;
	case TC_SSHEV_FATAL:
		set_state(s, TC_ST_FAILED, m.text);
		break;
	case TC_SSHEV_GATE_EXPIRED:
		set_state(s, TC_ST_EXPIRED, NULL);
		s->run.last_error[0] = '\0';
		break;
	case TC_SSHEV_GATE_REVOKED:
		set_state(s, TC_ST_REVOKED, m.text);
		break;
	}
}

static void
read_stderr(struct sup *s)
{
	char buf[4096];
	ssize_t n;
	ssize_t i;

	for (;;) {
		n = read(s->errfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0) {	/* every writer gone: the child group is ending */
				close(s->errfd);
				s->errfd = -1;
			}
			return;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (!s->discarding)
					on_line(s, s->line, s->linelen);
				s->linelen = 0;
				s->discarding = 0;
			} else if (s->linelen < TC_SSHMSG_LINE_MAX) {
				s->line[s->linelen++] = buf[i];
			} else if (!s->discarding) {
				/* classify what we have, drop the rest of the line */
				on_line(s, s->line, s->linelen);
				s->discarding = 1;
			}
		}
		if (TC_ST_FINAL(s->run.state))
			return;
	}
}

/* Retry at once: the network came back (only when not up, and at most once
 * per TC_DEBOUNCE_S: events come in bursts) or we were asked to (SIGUSR1:
 * always, an operator may know better than a stale "up"). */
static void
kick(struct sup *s, const char *why, int forced)
{
	time_t now = mono();

	if (!forced && (s->run.state == TC_ST_UP || now - s->last_kick < TC_DEBOUNCE_S))
		return;
	s->last_kick = now;
	s->backoff = TC_BACKOFF_MIN_S;
	tc_log(TC_LOG_INFO, "%s: %s: retrying now", s->rec.spec.name, why);
	/* autossh must not get SIGUSR1 (it dies of it during its backoff sleep,
	 * docs/SSH-MESSAGES.md): end the group and start afresh, which also
	 * resets autossh's own backoff. */
	if (!s->waiting && s->child > 0)
		kill_child(s);
	s->waiting = 1;
	arm(s->backfd, 0);	/* fire immediately */
}

static void
on_child_exit(struct sup *s, int status)
{
	s->child = 0;
	/* autossh killed (-9) leaves its ssh holding the remote port: end the group. */
	tc_kill_session(s->self, s->run.starttime, SIGKILL);
	if (s->errfd >= 0) {
		read_stderr(s);
		if (s->errfd >= 0) {
			close(s->errfd);
			s->errfd = -1;
		}
	}
	if (TC_ST_FINAL(s->run.state))
		return;
	if (s->run.state == TC_ST_UP || s->run.state == TC_ST_STARTING ||
	    (s->run.state == TC_ST_RETRYING && !s->run.last_error[0]))
		set_state(s, TC_ST_RETRYING, s->run.last_error[0] ? s->run.last_error :
			  exit_reason(s, WIFSIGNALED(status) ? "ssh killed by a signal" : "ssh exited"));
	if (s->up_since && mono() - s->up_since >= TC_STABLE_S)
		s->backoff = TC_BACKOFF_MIN_S;
	s->up_since = 0;
	schedule_restart(s);
}

static void
reap(struct sup *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == s->child)
			on_child_exit(s, status);
}

/* Remove what must not outlive the tunnel; with reconcile, also its rules. */
static void
cleanup(struct sup *s, int reconcile, int lock_wait)
{
	struct tc_err err;
	int lockfd;

	unlinkat(s->tdir, "key", 0);
	/* The final state first, the pidfile last: a `status` in between must
	 * never take this still-living supervisor for a dead one. */
	s->run.pid = 0;
	save(s);
	unlinkat(s->tdir, "pid", 0);
	if (!reconcile || s->rec.spec.via != TC_VIA_DNAT)
		return;
	/* A `stop` holding the lock reconciles the table itself. */
	lockfd = tc_lock(s->statefd, lock_wait, &err);
	if (lockfd < 0)
		return;
	if (tc_fw_reconcile(s->state_path, s->statefd, NULL, s->rec.spec.name, &err) < 0)
		tc_log(TC_LOG_ERR, "%s: firewall: %s", s->rec.spec.name, err.msg);
	close(lockfd);
}

static int
setup(struct sup *s, const char *name, struct tc_err *err)
{
	struct passwd *pw;
	int r;

	s->statefd = tc_state_open(s->state_path, 0, err);
	if (s->statefd < 0)
		return -1;
	s->tdir = tc_subdir_open(s->statefd, name, 0, err);
	if (s->tdir < 0)
		return -1;
	if (tc_record_read(s->tdir, &s->rec, err) < 0)
		return -1;
	r = snprintf(s->key_path, sizeof(s->key_path), "%s/%s/key", s->state_path, name);
	r |= snprintf(s->kh_path, sizeof(s->kh_path), "%s/%s/known_hosts", s->state_path, name);
	r |= snprintf(s->cert_path, sizeof(s->cert_path), "%s/%s/cert", s->state_path, name);
	if (r < 0 || strlen(s->kh_path) >= sizeof(s->kh_path) - 1)
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir path too long");
	s->paths.ssh = s->rec.ssh_path;
	s->paths.autossh = s->rec.autossh_path[0] ? s->rec.autossh_path : NULL;
	s->paths.key = s->key_path;
	s->paths.known_hosts = s->kh_path;
	s->paths.cert = s->rec.spec.certificate[0] ? s->cert_path : NULL;
	/* The gate's hello carries the expiry as a time, the same for every
	 * reconnection: the server enforces it even if this device never stops. */
	s->paths.expires = s->rec.spec.timeout_s > 0 ? (int64_t)time(NULL) + s->rec.spec.timeout_s : 0;
	if (tc_ssh_argv(&s->rec.spec, &s->paths, &s->argv, err) < 0 ||
	    tc_ssh_env(&s->paths, &s->env, err) < 0)
		return -1;
	if (s->rec.run_as[0]) {
		pw = getpwnam(s->rec.run_as);
		if (!pw)
			return tc_err_set(err, TC_ERR_RUNTIME, "run_as: no user %s", s->rec.run_as);
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
		s->drop = s->uid != 0;
	}
	return 0;
}

static int
open_fds(struct sup *s, struct tc_err *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	/* CLOCK_BOOTTIME: the timeout keeps counting while a device sleeps and
	 * ignores wall-clock jumps (an NTP fix after boot on a cellular device). */
	s->expfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	s->backfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->sigfd < 0 || s->expfd < 0 || s->backfd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "signalfd/timerfd: %s", strerror(errno));
	s->nw = tc_netwatch_open();
	return 0;
}

static void
report(int readyfd, const char *msg)
{
	if (readyfd < 0)
		return;
	if (write(readyfd, msg, strlen(msg)) < 0)
		tc_log(TC_LOG_DEBUG, "readiness pipe: %s", strerror(errno));
	close(readyfd);
}

/* Every TC_TICK_S: a stopped ssh (SIGSTOP) cannot notice its dead session
 * and autossh -M 0 cannot notice a stopped ssh, so the group gets SIGCONT
 * (a no-op for running processes). */
static void
tick(struct sup *s)
{
	time_t now = mono();

	if (now - s->last_tick < TC_TICK_S)
		return;
	s->last_tick = now;
	if (s->child > 0)
		kill(-s->child, SIGCONT);
}

/* One pass over a signalfd's pending signals; returns 1 when told to stop. */
static int
on_signals(struct sup *s)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			stop = 1;
			break;
		case SIGCHLD:
			reap(s);
			break;
		case SIGUSR1:
			kick(s, "SIGUSR1", 1);
			break;
		}
	}
	return stop;
}

static int
loop(struct sup *s)
{
	for (;;) {
		struct pollfd p[5] = {
			{ s->sigfd, POLLIN, 0 }, { s->expfd, POLLIN, 0 }, { s->backfd, POLLIN, 0 },
			{ s->errfd, POLLIN, 0 }, { tc_netwatch_fd(s->nw), POLLIN, 0 },
		};
		uint64_t ticks;

		/* Failed (needs a change), or the gate closed the session: the
		 * tunnel stays down, so the supervisor ends. ssh's last lines may
		 * arrive with its exit (reap), hence here, before waiting again. */
		if (TC_ST_FINAL(s->run.state)) {
			tc_log(s->run.state == TC_ST_FAILED ? TC_LOG_ERR : TC_LOG_INFO, "%s: %s%s%s",
			       s->rec.spec.name, tc_tstate_name(s->run.state),
			       s->run.last_error[0] ? ": " : "", s->run.last_error);
			kill_child(s);
			cleanup(s, 1, TC_EXIT_LOCK_WAIT_S);
			return 0;
		}
		if (s->dirty)
			save(s);
		/* a failed run.json write is retried every TC_SAVE_RETRY_S */
		if (poll(p, 5, (s->dirty ? TC_SAVE_RETRY_S : TC_TICK_S) * 1000) < 0 && errno != EINTR)
			return 1;
		tick(s);
		if (p[3].revents & (POLLIN | POLLHUP))
			read_stderr(s);
		if (TC_ST_FINAL(s->run.state))
			continue;	/* ended at the top of the loop */
		if ((p[0].revents & POLLIN) && on_signals(s)) {
			kill_child(s);
			/* Killed from outside (not by stop, which removes the record):
			 * say so, so the next sync or start brings the tunnel back. */
			set_state(s, TC_ST_FAILED, "supervisor stopped by a signal");
			cleanup(s, 1, 0);
			return 0;
		}
		if ((p[1].revents & POLLIN) && read(s->expfd, &ticks, sizeof(ticks)) > 0) {
			tc_log(TC_LOG_INFO, "%s: timeout reached, tearing down", s->rec.spec.name);
			kill_child(s);
			set_state(s, TC_ST_EXPIRED, NULL);
			s->run.last_error[0] = '\0';
			cleanup(s, 1, TC_EXIT_LOCK_WAIT_S);
			return 0;
		}
		if ((p[2].revents & POLLIN) && read(s->backfd, &ticks, sizeof(ticks)) > 0 && s->waiting) {
			struct tc_err err;

			if (spawn_child(s, &err) < 0) {
				set_state(s, TC_ST_RETRYING, err.msg);
				schedule_restart(s);
			}
		}
		if ((p[4].revents & POLLIN) && tc_netwatch_read(s->nw))
			kick(s, "network changed", 0);
	}
}

int
tc_supervisor_main(const char *state_path, const char *name, int readyfd)
{
	struct sup s;
	struct tc_err err;
	int rc;

	memset(&s, 0, sizeof(s));
	s.state_path = state_path;
	s.statefd = s.tdir = s.errfd = s.sigfd = s.expfd = s.backfd = -1;
	s.self = getpid();
	s.backoff = TC_BACKOFF_MIN_S;
	umask(077);
	tc_log_open("tunnelctl", 1);
	if (setup(&s, name, &err) < 0 || open_fds(&s, &err) < 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "err %s\n", err.msg);
		report(readyfd, msg);
		return 1;
	}
	s.run.pid = s.self;
	tc_proc_identity(s.self, &s.run.starttime, NULL);
	s.run.started_at = (int64_t)time(NULL);
	s.run.state = TC_ST_STARTING;
	if (s.rec.spec.timeout_s > 0) {
		s.run.expires_at = s.run.started_at + s.rec.spec.timeout_s;
		arm(s.expfd, (time_t)s.rec.spec.timeout_s);
	}
	save(&s);
	if (tc_pidfile_write(s.tdir, s.self, &err) < 0 || spawn_child(&s, &err) < 0) {
		char msg[600];

		set_state(&s, TC_ST_FAILED, err.msg);
		cleanup(&s, 0, 0);
		snprintf(msg, sizeof(msg), "err %s\n", err.msg);
		report(readyfd, msg);
		return 1;
	}
	report(readyfd, "ok\n");
	rc = loop(&s);
	tc_netwatch_close(s.nw);
	close(s.sigfd);
	close(s.expfd);
	close(s.backfd);
	close(s.tdir);
	close(s.statefd);
	return rc;
}

/* Parent side: double fork so the supervisor is not our child (no zombie,
 * no SIGHUP from our terminal), setsid, clean environment, exec. */
int
tc_supervisor_spawn(const char *supervisor, const char *state_path, const char *name,
		    pid_t *pid_out, struct tc_err *err)
{
	char fdbuf[16], buf[600];
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	struct pollfd p;
	size_t len = 0;
	int rp[2], st;
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(rp[0]);
		close(rp[1]);
		return tc_err_set(err, TC_ERR_RUNTIME, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		sigset_t none;
		int devnull;

		close(rp[0]);
		signal(SIGHUP, SIG_IGN);
		if (fork() != 0)
			_exit(0);
		/* The supervisor leads its own session: its session id is its pid,
		 * which is how leftovers of a killed supervisor are found later. */
		if (setsid() < 0)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		devnull = open("/dev/null", O_RDWR);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
			_exit(127);
		if (chdir("/") < 0)
			_exit(127);
		/* The readiness pipe is the only fd beside stdio that crosses exec. */
		if (rp[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(rp[1], 3) < 0)
			_exit(127);
		close_range(4, ~0U, 0);
		snprintf(fdbuf, sizeof(fdbuf), "%d", 3);
		execle(supervisor, "tunnelctl-supervise", TC_SUPERVISE_CMD, state_path, name, fdbuf,
		       (char *)NULL, envp);
		_exit(127);
	}
	close(rp[1]);
	waitpid(pid, &st, 0);
	p.fd = rp[0];
	p.events = POLLIN;
	while (len < sizeof(buf) - 1) {
		ssize_t n;
		int pr = poll(&p, 1, TC_READY_TIMEOUT_S * 1000);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		n = read(rp[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(rp[0]);
	buf[len] = '\0';
	if (strncmp(buf, "ok\n", 3) == 0) {
		*pid_out = 0;
		return 0;
	}
	if (strncmp(buf, "err ", 4) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		return tc_err_set(err, TC_ERR_RUNTIME, "%s", buf + 4);
	}
	return tc_err_set(err, TC_ERR_RUNTIME, "supervisor did not report within %d s",
			  TC_READY_TIMEOUT_S);
}
