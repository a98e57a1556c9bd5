/* gate_serve.c: `tunnelctl-gate serve`: sshd's forced command for the
 * devices' account. Reads the device's hello, learns which ports its sshd
 * session listens on, registers the session, and holds it until the
 * device leaves, the expiry, or an operator's close. Runs no shell and
 * executes nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "gateout.h"
#include "text.h"
#include "hello.h"
#include "log.h"
#include "registry.h"
#include "sessports.h"
#include "spec.h"
#include "state.h"
#include "xalloc.h"

#define FORWARD_WAIT_MS 10000	/* contract: no remote forward within 10 s is refused */
#define FORWARD_POLL_MS 100	/* how often the listeners are looked at meanwhile */
/* Two sessions of this account whose listeners cannot be told apart give
 * up after this long: waiting does not resolve it, and the devices retry. */
#define AMBIGUOUS_WAIT_MS 3000
#define LOCK_WAIT_MS 3000	/* other serves hold the registry lock for milliseconds */
#define ANCESTORS_MAX 4		/* serve <- (the account's shell) <- sshd session */
/* After the closing line, a session whose client does not hang up by
 * itself (a client that keeps the connection, and so the port, without a
 * session) is ended by SIGTERM to its sshd process this long after. */
#define END_GRACE_MS 3000

struct serve {
	const char *device, *registry;
	int64_t max_time;		/* seconds, 0 = none */
	uint16_t allow[TC_GATE_PORTS_MAX];	/* --ports; 0 = any port */
	size_t nallow;
	struct tc_hello hello;
	pid_t session;			/* the sshd process that holds the forwards */
	unsigned long long session_st;
	int pidfd;			/* of the session; -1 without pidfd_open */
	int exact;			/* 1: the session's own fds were readable */
	int dirfd, sigfd, timerfd;
	struct tc_gate_rec rec;
	int registered;
};

static const char *log_device = "?";	/* for syslog lines */

/* A contract line on stderr (the device's ssh shows it to the device),
 * and the same, naming the device, to syslog. */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tc_scrub(msg);
	fprintf(stderr, "%s: %s\n", GATE_PROG, msg);
	fflush(stderr);
	tc_log(TC_LOG_INFO, "device %s: %s", log_device, msg);
}

static int __attribute__((format(printf, 2, 3)))
refuse(struct serve *s, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	(void)s;
	say("refused: %s", why);
	return 1;
}

static int
parse_ports(struct serve *s, const char *arg, struct tc_err *err)
{
	char buf[128], *p, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return tc_err_set(err, TC_ERR_USAGE, "--ports: too long");
	memcpy(buf, arg, strlen(arg) + 1);
	s->nallow = 0;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (s->nallow == TC_GATE_PORTS_MAX)
			return tc_err_set(err, TC_ERR_USAGE, "--ports: more than %d ports", TC_GATE_PORTS_MAX);
		if (tc_parse_port(p, 1, &s->allow[s->nallow], "--ports", err) < 0) {
			err->kind = TC_ERR_USAGE;
			return -1;
		}
		s->nallow++;
	}
	if (s->nallow == 0)
		return tc_err_set(err, TC_ERR_USAGE, "--ports: no port given");
	return 0;
}

static int
parse_opts(struct serve *s, const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.32s'", argv[0]);
	if (!o->device)
		return tc_err_set(err, TC_ERR_USAGE, "--device is required");
	if (!tc_gate_valid_device(o->device))
		return tc_err_set(err, TC_ERR_USAGE, "--device: not a device id ([A-Za-z0-9][A-Za-z0-9._-]{0,63})");
	s->device = o->device;
	if (o->max_time && tc_parse_duration(o->max_time, &s->max_time, "--max-time", err) < 0) {
		err->kind = TC_ERR_USAGE;
		return -1;
	}
	if (o->ports && parse_ports(s, o->ports, err) < 0)
		return -1;
	s->registry = gate_registry(o->registry);
	return 0;
}

/* The sshd process above us that holds the session's forwards: the first
 * ancestor named sshd (sshd-session from OpenSSH 9.8) run by this account. */
static int
find_session(struct serve *s)
{
	pid_t p = getppid();
	int i;

	for (i = 0; i < ANCESTORS_MAX && p > 1; i++) {
		char comm[17];
		pid_t pp;
		uid_t u;

		if (tc_proc_info(p, &pp, &u, comm) < 0 || u != getuid())
			return -1;
		if (strcmp(comm, "sshd") == 0 || strncmp(comm, "sshd-session", 12) == 0) {
			s->session = p;
			s->pidfd = (int)syscall(SYS_pidfd_open, p, 0);
			if (tc_proc_identity(p, &s->session_st, NULL) < 0) {
				if (s->pidfd >= 0)
					close(s->pidfd);
				return -1;
			}
			return 0;
		}
		p = pp;
	}
	return -1;
}

static int
session_alive(const struct serve *s)
{
	return tc_proc_same(s->session, s->session_st);
}

static int
port_allowed(const struct serve *s, uint16_t port)
{
	size_t i;

	if (s->nallow == 0)
		return 1;
	for (i = 0; i < s->nallow; i++)
		if (s->allow[i] == 0 || s->allow[i] == port)
			return 1;
	return 0;
}

static int
has_ino(const unsigned long long *v, size_t n, unsigned long long x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static void
add_port(struct tc_gate_rec *r, uint16_t port)
{
	size_t i, j;

	for (i = 0; i < r->nports; i++)
		if (r->ports[i] == port)
			return;
	if (r->nports == TC_GATE_PORTS_MAX)
		return;
	for (i = 0; i < r->nports && r->ports[i] < port; i++)
		;
	for (j = r->nports; j > i; j--)
		r->ports[j] = r->ports[j - 1];
	r->ports[i] = port;
	r->nports++;
}

static void
take(struct tc_gate_rec *r, const struct tc_listener *l)
{
	if (r->ninodes < TC_GATE_INODES_MAX)
		r->inodes[r->ninodes++] = l->inode;
	/* The record's bind: an IPv4 listener's address when there is one. */
	if (r->bind[0] == '\0' || (l->family == AF_INET && strchr(r->bind, ':')))
		tc_listener_addr(l, r->bind, sizeof(r->bind));
	add_port(r, l->port);
}

/* This session's listeners into s->rec. Exact when the session's fds can
 * be read; otherwise by elimination: listening sockets of this account, on
 * ports its key permits, that no live record has claimed. Returns the
 * number of ports found; *ambiguous when elimination left sockets on more
 * than one port (a device's ssh forwards one port per session, so the
 * others belong to sessions that have not registered yet). */
static int
discover(struct serve *s, const struct tc_gate_rec *live, size_t nlive, int *ambiguous,
	 struct tc_err *err)
{
	struct tc_listener *l = NULL;
	unsigned long long *mine = NULL;
	size_t nl = 0, nmine = 0, i, j;

	*ambiguous = 0;
	s->rec.nports = s->rec.ninodes = 0;
	s->rec.bind[0] = '\0';
	if (tc_listeners_read(&l, &nl, err) < 0)
		return -1;
	if (s->exact != 0 && tc_proc_socket_inodes(s->session, &mine, &nmine) == 0) {
		s->exact = 1;
		for (i = 0; i < nl; i++)
			if (has_ino(mine, nmine, l[i].inode))
				take(&s->rec, &l[i]);
		free(mine);
		free(l);
		return (int)s->rec.nports;
	}
	s->exact = 0;
	for (i = 0; i < nl; i++) {
		int claimed = 0;

		if (l[i].uid != getuid() || !port_allowed(s, l[i].port))
			continue;
		for (j = 0; j < nlive && !claimed; j++)
			claimed = has_ino(live[j].inodes, live[j].ninodes, l[i].inode);
		if (!claimed)
			take(&s->rec, &l[i]);
	}
	free(l);
	if (s->rec.nports > 1)
		*ambiguous = 1;
	return (int)s->rec.nports;
}

/* Wait up to ms for the session to end; 1 if it did. */
static int
session_gone_within(const struct serve *s, int ms)
{
	struct pollfd p = { s->pidfd, POLLIN, 0 };

	if (s->pidfd >= 0)
		return poll(&p, 1, ms) > 0;
	if (ms > 0)
		poll(NULL, 0, ms);
	return !session_alive(s);
}

static void
ports_text(const struct tc_gate_rec *r, char *buf, size_t sz)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nports; i++) {
		int w = snprintf(buf + off, sz - off, "%s%u", i ? "," : "", (unsigned)r->ports[i]);

		if (w < 0 || (size_t)w >= sz - off)
			return;
		off += (size_t)w;
	}
}

/* Find the ports and write the record, under the registry lock so that two
 * serves never claim the same socket. 0 registered, 1 refused/ended (exit
 * code in *rc), -1 error. */
static int
register_session(struct serve *s, int *rc, struct tc_err *err)
{
	struct timespec t0, now;
	int amb = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct tc_gate_rec *live = NULL;
		size_t nlive = 0;
		int lk, found;
		long el;

		lk = tc_reg_lock(s->dirfd, LOCK_WAIT_MS, err);
		if (lk < 0)
			return -1;
		if (tc_reg_list(s->dirfd, 1, &live, &nlive, err) < 0) {
			close(lk);
			return -1;
		}
		found = discover(s, live, nlive, &amb, err);
		free(live);
		if (found > 0 && !amb) {
			int w = tc_reg_write(s->dirfd, &s->rec, err);

			close(lk);
			if (w < 0)
				return -1;
			s->registered = 1;
			return 0;
		}
		close(lk);
		if (found < 0)
			return -1;
		if (session_gone_within(s, FORWARD_POLL_MS)) {
			*rc = 0;	/* the device left before registering: nobody to tell */
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= FORWARD_WAIT_MS || (amb && el >= AMBIGUOUS_WAIT_MS))
			break;
	}
	if (amb) {
		char ports[64];

		ports_text(&s->rec, ports, sizeof(ports));
		/* Not "refused": nothing is wrong with the device, which retries. */
		tc_log(TC_LOG_ERR, "serve: cannot tell this session's forward from others that arrived "
		       "at the same time (unregistered ports %s); try again", ports);
		*rc = 1;
		return 1;
	}
	*rc = refuse(s, "no remote forward within %d s (the device must forward a port with ssh -R%s)",
		     FORWARD_WAIT_MS / 1000, s->nallow ? " to a port its key permits" : "");
	return 1;
}

/* The device's address from SSH_CONNECTION ("CLIENT CPORT SERVER SPORT"). */
static void
client_addr(char *out, size_t sz)
{
	const char *c = getenv("SSH_CONNECTION");
	unsigned char a[16];
	char buf[TC_GATE_ADDR_MAX];
	size_t n;

	out[0] = '\0';
	if (!c)
		c = getenv("SSH_CLIENT");
	if (!c)
		return;
	n = strcspn(c, " ");
	if (n == 0 || n >= sizeof(buf))
		return;
	memcpy(buf, c, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1)
		snprintf(out, sz, "%s", buf);
}

static int
setup_signals(struct serve *s, struct tc_err *err)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);	/* a vanished device must not kill us before cleanup */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);	/* close: the reason is in ID.close */
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "sigprocmask: %s", strerror(errno));
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "signalfd: %s", strerror(errno));
	return 0;
}

static int
arm_expiry(struct serve *s, struct tc_err *err)
{
	struct itimerspec its = { { 0, 0 }, { (time_t)s->rec.expires_at, 0 } };

	if (!s->rec.expires_at)
		return 0;
	/* Wall-clock time: the device's expires= is a unix time. */
	s->timerfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timerfd < 0 || timerfd_settime(s->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "timerfd: %s", strerror(errno));
	return 0;
}

/* After the closing line: a helper (a fork of this process, nothing
 * executed) outlives serve for up to END_GRACE_MS and ends the sshd session
 * if its client still holds it then. serve itself must exit first: sshd
 * closes the session channel only once its command has exited. */
static void
end_session_later(const struct serve *s)
{
	pid_t pid;

	if (s->pidfd < 0)
		return;
	pid = fork();
	if (pid != 0)
		return;
	/* The helper must not hold the channel's pipes open. */
	for (int fd = 0; fd < 3; fd++) {
		int nul = open("/dev/null", O_RDWR);

		if (nul >= 0 && nul != fd) {
			dup2(nul, fd);
			close(nul);
		}
	}
	setsid();
	if (!session_gone_within(s, END_GRACE_MS))
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGTERM, NULL, 0);
	_exit(0);
}

/* What ended the hold. */
enum ending { END_LEFT, END_EXPIRED, END_CLOSED, END_SIGNAL };

static enum ending
hold(struct serve *s, int *signo)
{
	struct pollfd p[3];
	int np = 0, ip = -1, it = -1;

	p[np++] = (struct pollfd){ s->sigfd, POLLIN, 0 };
	if (s->pidfd >= 0) {
		ip = np;
		p[np++] = (struct pollfd){ s->pidfd, POLLIN, 0 };
	}
	if (s->timerfd >= 0) {
		it = np;
		p[np++] = (struct pollfd){ s->timerfd, POLLIN, 0 };
	}
	for (;;) {
		struct signalfd_siginfo si;
		/* Without a pidfd, look at the session once a second. */
		int r = poll(p, (nfds_t)np, s->pidfd >= 0 ? -1 : 1000);

		if (r < 0 && errno != EINTR)
			return END_LEFT;
		if (ip >= 0 && (p[ip].revents & POLLIN))
			return END_LEFT;
		if (s->pidfd < 0 && !session_alive(s))
			return END_LEFT;
		if (it >= 0 && p[it].revents)
			return END_EXPIRED;
		while (p[0].revents && read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGUSR1)
				return END_CLOSED;
			*signo = (int)si.ssi_signo;
			return END_SIGNAL;
		}
	}
}

static int
serve_run(struct serve *s, struct tc_err *err)
{
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND");
	int64_t now = (int64_t)time(NULL), deadline = 0;
	char until[32], ports[64], reason[TC_GATE_REASON_MAX + 1];
	enum ending how;
	int rc = 0, signo = 0, r;

	if (!cmd || !cmd[0])
		return refuse(s, "no hello (a gate tunnel sends 'tunnelctl-gate hello %s tunnel=NAME "
			      "target=HOST:PORT expires=UNIXTIME' as its command)", TC_HELLO_VERSION);
	if (tc_hello_parse(cmd, strlen(cmd), &s->hello, err) < 0)
		return refuse(s, "%s", err->msg);
	if (s->hello.expires && s->hello.expires <= now)
		return refuse(s, "expires=%lld is not in the future (is the device's clock right?)",
			      (long long)s->hello.expires);
	if (s->hello.expires)
		deadline = s->hello.expires;
	if (s->max_time && (!deadline || now + s->max_time < deadline))
		deadline = now + s->max_time;
	if (find_session(s) < 0)
		return refuse(s, "not started by sshd (serve is the forced command of the devices' account)");
	if (setup_signals(s, err) < 0)
		return -1;
	s->dirfd = tc_reg_open(s->registry, 1, err);
	if (s->dirfd < 0)
		return -1;
	if (tc_gate_new_id(s->rec.id, err) < 0)
		return -1;
	snprintf(s->rec.device, sizeof(s->rec.device), "%s", s->device);
	memcpy(s->rec.tunnel, s->hello.tunnel, sizeof(s->rec.tunnel));
	memcpy(s->rec.target, s->hello.target, sizeof(s->rec.target));
	client_addr(s->rec.client, sizeof(s->rec.client));
	s->rec.started_at = now;
	s->rec.expires_at = deadline;
	s->rec.pid = getpid();
	s->rec.session_pid = s->session;
	if (tc_proc_identity(getpid(), &s->rec.starttime, NULL) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "cannot read /proc/self/stat");
	s->exact = -1;		/* not known yet: try the session's fds first */
	r = register_session(s, &rc, err);
	if (r != 0)
		return r < 0 ? -1 : rc;
	if (arm_expiry(s, err) < 0) {
		tc_reg_remove(s->dirfd, s->rec.id);
		return -1;
	}
	ports_text(&s->rec, ports, sizeof(ports));
	if (deadline)
		tc_rfc3339(deadline, until, sizeof(until));
	else
		snprintf(until, sizeof(until), "never");
	say("registered %s/%s port %s until %s", s->device, s->hello.tunnel, ports, until);
	tc_log(TC_LOG_INFO, "session %s: device %s tunnel %s target %s client %s ports %s (%s)", s->rec.id,
	       s->device, s->hello.tunnel, s->hello.target, s->rec.client[0] ? s->rec.client : "?", ports,
	       s->exact ? "from the session's sockets" : "by elimination");

	how = hold(s, &signo);
	switch (how) {
	case END_EXPIRED:
		tc_reg_remove(s->dirfd, s->rec.id);
		say("closed: expired");
		end_session_later(s);
		return 0;
	case END_CLOSED:
		tc_reg_close_reason(s->dirfd, s->rec.id, reason);
		tc_reg_remove(s->dirfd, s->rec.id);
		say("closed: revoked: %s", reason);
		end_session_later(s);
		return 0;
	case END_SIGNAL:
		tc_reg_remove(s->dirfd, s->rec.id);
		/* Not a close: the device should come back (exit 1 makes autossh retry). */
		tc_log(TC_LOG_ERR, "serve: stopped by signal %s", strsignal(signo));
		return 1;
	case END_LEFT:
	default:
		tc_reg_remove(s->dirfd, s->rec.id);
		tc_log(TC_LOG_INFO, "session %s: device %s tunnel %s left", s->rec.id, s->device,
		       s->hello.tunnel);
		return 0;
	}
}

int
gate_serve(const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	struct serve s;
	int r;

	memset(&s, 0, sizeof(s));
	s.pidfd = s.dirfd = s.sigfd = s.timerfd = -1;
	if (parse_opts(&s, o, argc, argv, err) < 0)
		return -1;
	log_device = s.device;
	r = serve_run(&s, err);
	if (r < 0 && s.registered)
		tc_reg_remove(s.dirfd, s.rec.id);
	if (s.timerfd >= 0)
		close(s.timerfd);
	if (s.sigfd >= 0)
		close(s.sigfd);
	if (s.pidfd >= 0)
		close(s.pidfd);
	if (s.dirfd >= 0)
		close(s.dirfd);
	return r;
}
