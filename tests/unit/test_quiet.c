/* test_quiet.c: lib/quiet.c against a real state directory: armed, it stays
 * quiet through the watcher's own writes (watch.json, the locks) and is
 * disturbed by a tunnel's record, a tunnel added or removed, its supervisor
 * ending, and by tc_quiet_disturb; a pidfile naming a process that is gone
 * cannot be armed. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quiet.h"
#include "state.h"
#include "tap.h"
#include "watchfile.h"

/* Readable within ms? */
static int
readable(const struct tc_quiet *q, int ms)
{
	struct pollfd p = { tc_quiet_fd(q), POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

int
main(void)
{
	struct tc_ctx c;
	struct tc_watch_info info;
	struct tc_quiet *q;
	const char *root;
	int web, fd, pfd;
	pid_t child;

	if ((root = tap_tmpdir("tcquiet")) == NULL)
		return 1;
	memset(&c, 0, sizeof(c));
	c.statefd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c.lockfd = -1;
	mkdirat(c.statefd, "web", 0700);
	web = openat(c.statefd, "web", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tap_put(web, "run.json", "{}");

	is_int(tc_quiet_fd(NULL), -1, "no quiet: no descriptor");
	ok(tc_quiet_check(NULL) == 0, "no quiet: never quiet (every round converges)");
	q = tc_quiet_new();
	ok(q != NULL && tc_quiet_fd(q) >= 0, "tc_quiet_new: one descriptor to poll");
	ok(tc_quiet_check(q) == 0, "not armed: not quiet");

	is_int(tc_quiet_arm(q, &c), 0, "armed on a state dir with a stopped tunnel");
	ok(tc_quiet_check(q) == 1, "quiet while nothing happens");
	ok(!readable(q, 0), "nothing to read while nothing happens");

	memset(&info, 0, sizeof(info));
	info.pid = getpid();
	tc_watch_write(c.statefd, &info, NULL);
	fd = tc_lock(c.statefd, 0, NULL);
	close(fd);
	mkdirat(c.statefd, ".fetch", 0700);
	ok(readable(q, 1000), "the watcher's own writes are seen ...");
	ok(tc_quiet_check(q) == 1, "... and leave it quiet (watch.json, .lock, .fetch)");
	ok(!readable(q, 0), "... and are taken");

	tap_put(web, "run.json", "{\"state\":\"failed\"}");
	ok(readable(q, 1000), "a tunnel's record rewritten: readable");
	ok(tc_quiet_check(q) == 0, "... and disturbed");
	ok(tc_quiet_check(q) == 0, "disturbed stays disturbed");
	ok(!readable(q, 0), "disturbed: nothing left to poll");

	tc_quiet_arm(q, &c);
	mkdirat(c.statefd, "db", 0700);
	ok(tc_quiet_check(q) == 0, "a tunnel added: disturbed");
	is_int(tc_quiet_arm(q, &c), 0, "armed with two tunnels");
	unlinkat(c.statefd, "db", AT_REMOVEDIR);
	ok(tc_quiet_check(q) == 0, "a tunnel removed: disturbed");

	tc_quiet_arm(q, &c);
	tc_quiet_disturb(q);
	ok(tc_quiet_check(q) == 0, "tc_quiet_disturb: disturbed");

	/* A supervisor: a child that waits to be killed. */
	pfd = pidfd_open(getpid(), 0);
	if (pfd < 0) {
		printf("ok %d # SKIP no pidfd_open here (a supervisor is never quiet)\n", ++tap_n);
	} else {
		close(pfd);
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		tc_pidfile_write(web, child, NULL);
		is_int(tc_quiet_arm(q, &c), 0, "armed with a running supervisor");
		ok(tc_quiet_check(q) == 1, "quiet while it runs");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		ok(readable(q, 1000), "the supervisor ended: readable");
		ok(tc_quiet_check(q) == 0, "... and disturbed");
		is_int(tc_quiet_arm(q, &c), -1, "a pidfile naming a process that is gone: not armed");
		ok(tc_quiet_check(q) == 0, "... and not quiet");
	}

	tc_quiet_free(q);
	tc_quiet_free(NULL);
	close(web);
	close(c.statefd);
	return tap_done();
}
