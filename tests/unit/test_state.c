/* test_state.c: state dir safety, lock, atomic writes, pidfiles, process identity. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record.h"
#include "state.h"
#include "tap.h"

static const char *root;

static int
write_raw(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s));
	close(fd);
	return r < 0 ? -1 : 0;
}

int
main(void)
{
	struct tc_err err;
	char path[256], *buf;
	size_t len;
	int dfd, lfd, lfd2, tdir;
	pid_t pid;
	unsigned long long st, st2;

	if ((root = tap_tmpdir("tcstate")) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state", root);

	dfd = tc_state_open(path, 1, &err);
	ok(dfd >= 0, "state dir created");
	{
		struct stat sb;
		ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700, "state dir is 0700");
	}
	chmod(path, 0777);
	ok(tc_state_open(path, 0, &err) < 0 && err.kind == TC_ERR_PERM, "a world-writable state dir is refused");
	chmod(path, 0700);
	{
		char link[256];
		snprintf(link, sizeof(link), "%s/link", root);
		ok(symlink(path, link) == 0, "made a symlink to the state dir");
		ok(tc_state_open(link, 0, &err) < 0, "a symlinked state dir is refused");
	}

	lfd = tc_lock(dfd, 0, &err);
	ok(lfd >= 0, "lock taken");
	pid = fork();
	if (pid == 0) {
		int d = tc_state_open(path, 0, NULL);
		_exit(tc_lock(d, 0, &err) < 0 && err.kind == TC_ERR_LOCKED ? 0 : 1);
	}
	{
		int status;
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "another process cannot take the lock (LOCKED)");
	}
	close(lfd);
	lfd2 = tc_lock(dfd, 1, &err);
	ok(lfd2 >= 0, "lock free again after close");
	close(lfd2);
	ok(fcntl(tc_lock(dfd, 0, &err), F_GETFD) & FD_CLOEXEC, "lock fd is close-on-exec");

	ok(tc_write_atomic(dfd, "f", "hello", 5, 0600, (uid_t)-1, (gid_t)-1, &err) == 0, "atomic write");
	ok(tc_read_file(dfd, "f", 100, &buf, &len, &err) == 0 && len == 5 && strcmp(buf, "hello") == 0,
	   "read back");
	free(buf);
	ok(tc_read_file(dfd, "f", 3, &buf, &len, &err) < 0, "a file over the read cap is refused");
	{
		struct stat sb;
		umask(0);
		tc_write_atomic(dfd, "g", "x", 1, 0600, (uid_t)-1, (gid_t)-1, &err);
		ok(fstatat(dfd, "g", &sb, 0) == 0 && (sb.st_mode & 0777) == 0600, "0600 whatever the umask");
		umask(022);
	}
	/* a planted symlink at the target name is replaced, never followed */
	{
		char victim[256];
		struct stat sb;
		snprintf(victim, sizeof(victim), "%s/victim", root);
		write_raw(AT_FDCWD, victim, "precious");
		ok(symlinkat(victim, dfd, "key") == 0, "planted key -> victim symlink");
		ok(tc_write_atomic(dfd, "key", "SECRET", 6, 0600, (uid_t)-1, (gid_t)-1, &err) == 0, "write over the link");
		ok(tc_read_file(AT_FDCWD, victim, 100, &buf, &len, &err) == 0 && strcmp(buf, "precious") == 0,
		   "the symlink's target is untouched");
		free(buf);
		ok(fstatat(dfd, "key", &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode), "key is now a regular file");
		ok(symlinkat(victim, dfd, "lnk") == 0 && tc_read_file(dfd, "lnk", 100, &buf, &len, &err) < 0,
		   "reading through a symlink is refused");
	}

	/* pidfiles */
	tdir = tc_subdir_open(dfd, "web", 1, &err);
	ok(tdir >= 0, "tunnel dir");
	ok(tc_pidfile_write(tdir, getpid(), &err) == 0, "pidfile written");
	ok(tc_pidfile_read(tdir, &pid, &st) == 0 && pid == getpid(), "pidfile read back");
	ok(tc_proc_same(pid, st), "it names this very process");
	ok(!tc_proc_same(pid, st + 1), "another start time is another process (PID reuse)");
	{
		static const char *const bad[] = { "", "abc", "0 1\n", "-1 5\n", "1 5\n", "99999999999 1\n",
						   "12x 3\n", "12 3 junk\n", "12\n" };
		size_t i;
		int all = 1;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			write_raw(tdir, "pid", bad[i]);
			all &= tc_pidfile_read(tdir, &pid, &st) < 0;
		}
		ok(all, "garbage pidfiles are never read as a PID (0, -1, 1, overflow, junk)");
	}
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ok(tc_proc_identity(pid, &st2, NULL) == 0, "identity of a child");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ok(!tc_proc_same(pid, st2), "a reaped process is gone");
	ok(tc_proc_identity(1, &st2, NULL) < 0, "PID 1 is never a tunnel's process");

	/* records */
	{
		struct tc_run r, r2;
		memset(&r, 0, sizeof(r));
		r.state = TC_ST_RETRYING;
		r.pid = 1234;
		r.restarts = 7;
		r.allocated_port = 40000;
		strcpy(r.last_error, "Connection refused");
		ok(tc_run_write(tdir, &r, &err) == 0 && tc_run_read(tdir, &r2, &err) == 0, "run.json round trip");
		ok(r2.state == TC_ST_RETRYING && r2.pid == 1234 && r2.restarts == 7 && r2.allocated_port == 40000 &&
		   strcmp(r2.last_error, "Connection refused") == 0, "run.json fields survive");
		write_raw(tdir, "run.json", "{\"state\":");
		ok(tc_run_read(tdir, &r2, &err) < 0, "a truncated run.json is reported, not half-read");
	}
	close(tdir);
	ok(tc_subdir_remove(dfd, "web", &err) == 0 && faccessat(dfd, "web", F_OK, 0) < 0, "tunnel dir removed");
	ok(tc_subdir_remove(dfd, "web", &err) == 0, "removing it again is fine");
	close(dfd);
	return tap_done();
}
