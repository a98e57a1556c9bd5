/* test_watchfile.c: watch.json round trips; a file naming a process that
 * is gone (or a reused PID) reads as no watcher; a rewrite leaves no
 * temporary file; garbage and a symlinked temporary name are refused. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"
#include "watchfile.h"

static const char *root;

/* A PID that was just in use and is not any more. */
static pid_t
dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

int
main(void)
{
	struct tc_watch_info w, r;
	struct tc_err err;
	struct stat st;
	int dirfd, n;

	if ((root = tap_tmpdir("tcwatchfile")) == NULL)
		return 1;
	dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ok(tc_watch_read(dirfd, &r) == -1, "no watch.json: no watcher");

	memset(&w, 0, sizeof(w));
	w.pid = getpid();
	tc_proc_identity(w.pid, &w.starttime, NULL);
	snprintf(w.source, sizeof(w.source), "mqtts://broker.example/tunnelctl/{id}/config (id edge-1)");
	w.last_check_at = 4102444800LL;	/* 2100: past 2^31 */
	w.last_change_at = 0;
	snprintf(w.last_error, sizeof(w.last_error), "a \"quoted\" error\\with a backslash");
	w.rounds = 1000000000000ULL;
	ok(tc_watch_write(dirfd, &w, &err) == 0, "write");
	ok(fstatat(dirfd, TC_WATCH_FILE, &st, 0) == 0 && (st.st_mode & 0777) == 0600, "watch.json is 0600");
	ok(tc_watch_read(dirfd, &r) == 0, "read back: this process is alive, so it is a watcher");
	is_int(r.pid, w.pid, "pid");
	ok(r.starttime == w.starttime, "starttime");
	is_str(r.source, w.source, "source");
	is_int(r.last_check_at, w.last_check_at, "last_check_at past 2038");
	is_int(r.last_change_at, 0, "last_change_at 0: none yet");
	is_str(r.last_error, w.last_error, "last_error with quotes and a backslash");
	ok(r.rounds == w.rounds, "rounds beyond 32 bits");

	/* Rewritten every round: nothing may be left beside it. */
	for (n = 0; n < 50; n++) {
		w.rounds++;
		tc_watch_write(dirfd, &w, NULL);
	}
	ok(faccessat(dirfd, ".watch.json.tmp", F_OK, AT_SYMLINK_NOFOLLOW) != 0, "no temporary file left");
	ok(tc_watch_read(dirfd, &r) == 0 && r.rounds == w.rounds, "the last write wins");

	/* A watcher killed with -9 leaves its file; it names no one. */
	w.pid = dead_pid();
	tc_watch_write(dirfd, &w, NULL);
	ok(tc_watch_read(dirfd, &r) == -1, "a process that is gone is no watcher");
	/* ... nor does a live PID with another start time (a reused PID). */
	w.pid = getpid();
	w.starttime += 1;
	tc_watch_write(dirfd, &w, NULL);
	ok(tc_watch_read(dirfd, &r) == -1, "a reused PID is no watcher");

	tap_put(dirfd, TC_WATCH_FILE, "not json");
	ok(tc_watch_read(dirfd, &r) == -1, "garbage is no watcher");
	tap_put(dirfd, TC_WATCH_FILE, "[1, 2]");
	ok(tc_watch_read(dirfd, &r) == -1, "a JSON array is no watcher");

	/* The temporary name is never followed. */
	unlinkat(dirfd, TC_WATCH_FILE, 0);
	ok(symlinkat("/dev/null", dirfd, ".watch.json.tmp") == 0, "a symlink at the temporary name");
	ok(tc_watch_write(dirfd, &w, &err) == -1, "write refused (%s)", err.msg);
	ok(faccessat(dirfd, TC_WATCH_FILE, F_OK, AT_SYMLINK_NOFOLLOW) != 0, "and no watch.json written");
	close(dirfd);
	return tap_done();
}
