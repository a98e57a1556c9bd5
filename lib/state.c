/* state.c: state directory, lock, atomic writes and process identity. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "xalloc.h"

#define TC_LOCK_POLL_MS 50	/* how often a waiting command retries the lock */
#define TC_PIDFILE_MAX 64

static int
check_dir(int fd, const char *path, struct tc_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir %s: %s", path, strerror(errno));
	if (st.st_uid != geteuid())
		return tc_err_set(err, TC_ERR_PERM, "state dir %s: owned by uid %u, not by us (uid %u)",
				  path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return tc_err_set(err, TC_ERR_PERM, "state dir %s: writable by group or others (mode %03o)",
				  path, (unsigned)(st.st_mode & 0777));
	return 0;
}

int
tc_state_open(const char *path, int create, struct tc_err *err)
{
	int fd;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		return tc_err_set(err, e == EACCES || e == EPERM || e == EROFS ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "state dir %s: %s", path, strerror(e));
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		struct stat lst;

		if (e == ELOOP || (e == ENOTDIR && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)))
			return tc_err_set(err, TC_ERR_PERM, "state dir %s: is a symlink (refused: it could "
					  "point anywhere)", path);
		if (e == ENOTDIR)
			return tc_err_set(err, TC_ERR_USAGE, "state dir %s: not a directory", path);
		return tc_err_set(err, e == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "state dir %s: %s", path, strerror(e));
	}
	if (check_dir(fd, path, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tc_lock(int dirfd, int wait_s, struct tc_err *err)
{
	struct timespec start, now, nap = { 0, TC_LOCK_POLL_MS * 1000000L };
	int fd;

	fd = openat(dirfd, TC_LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return tc_err_set(err, errno == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "lock %s: %s", TC_LOCK_NAME, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(fd);
			return tc_err_set(err, TC_ERR_RUNTIME, "lock: %s", strerror(e));
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* Nanoseconds too: whole seconds alone gave up after 0.67 s of a 1 s wait. */
		if ((now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec) >=
		    (long long)wait_s * 1000000000LL) {
			close(fd);
			return tc_err_set(err, TC_ERR_LOCKED,
					  "another tunnelctl holds the lock (waited %d s)", wait_s);
		}
		nanosleep(&nap, NULL);
	}
}

static int
fsync_dir(int dirfd)
{
	return fsync(dirfd);
}

int
tc_write_atomic(int dirfd, const char *name, const void *buf, size_t len,
		mode_t mode, uid_t owner, gid_t group, struct tc_err *err)
{
	char tmp[300];
	const char *p = buf;
	int fd, r;

	r = snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid());
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: name too long", name);
	unlinkat(dirfd, tmp, 0);	/* left by a killed run of this same pid */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return tc_err_set(err, errno == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "%s: %s", name, strerror(errno));
	if (fchmod(fd, mode) < 0)	/* umask may have narrowed it; never widened */
		goto fail;
	if (owner != (uid_t)-1 && fchown(fd, owner, group) < 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	fsync_dir(dirfd);
	return 0;
fail:
	r = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", name, strerror(r));
}

int
tc_read_file(int dirfd, const char *name, size_t max, char **out, size_t *outlen,
	     struct tc_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", name, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = EINVAL;
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: not a regular file or too large", name);
	}
	buf = xmalloc(max + 1);
	for (;;) {
		ssize_t r = read(fd, buf + len, max - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", name, strerror(e));
		}
		if (r == 0 || len + (size_t)r == max) {
			len += (size_t)r;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int
tc_subdir_open(int dirfd, const char *name, int create, struct tc_err *err)
{
	struct stat st;
	int fd;

	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", name, strerror(errno));
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", name,
			   e == ELOOP || e == ENOTDIR ? "not a directory (symlink?)" : strerror(e));
		errno = e;
		return -1;
	}
	/* 0700, or 0711 when ssh runs as an unprivileged user that must reach
	 * its own key and known_hosts inside (names only, no listing). */
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 066)) {
		close(fd);
		return tc_err_set(err, TC_ERR_PERM, "%s: unsafe owner or mode", name);
	}
	return fd;
}

int
tc_subdir_remove(int dirfd, const char *name, struct tc_err *err)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENOTDIR) {
			unlinkat(dirfd, name, 0);	/* a planted symlink: remove the link only */
			return 0;
		}
		return tc_err_set(err, TC_ERR_RUNTIME, "remove %s: %s", name, strerror(errno));
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "remove %s: %s", name, strerror(errno));
	}
	/* readdir returns NULL at the end and on an error (EOVERFLOW where a
	 * directory cookie does not fit off_t): only errno tells them apart,
	 * and the error is the one worth reporting, not rmdir's ENOTEMPTY. */
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		unlinkat(fd, de->d_name, 0);
	}
	if (errno) {
		int e = errno;
		closedir(d);
		return tc_err_set(err, TC_ERR_RUNTIME, "remove %s: reading it: %s", name, strerror(e));
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return tc_err_set(err, TC_ERR_RUNTIME, "remove %s: %s", name, strerror(errno));
	return 0;
}

int
tc_proc_identity(pid_t pid, unsigned long long *starttime, pid_t *sid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	long s = 0;
	ssize_t n;
	int fd, field;

	if (pid <= 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: parse after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (field = 3; *p && field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (field == 3 && *p == 'Z')
			return -1;	/* a zombie is gone for our purposes */
		if (field == 6)
			s = strtol(p, NULL, 10);
		if (field == 22)
			st = strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	if (field <= 22)
		return -1;
	if (starttime)
		*starttime = st;
	if (sid)
		*sid = (pid_t)s;
	return 0;
}

int
tc_proc_same(pid_t pid, unsigned long long starttime)
{
	unsigned long long st;

	return tc_proc_identity(pid, &st, NULL) == 0 && st == starttime;
}

int
tc_kill_session(pid_t sid, unsigned long long since, int sig)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (sid <= 1)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		unsigned long long st;
		pid_t pid, s;
		char *end;

		pid = (pid_t)strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid())
			continue;
		if (tc_proc_identity(pid, &st, &s) < 0 || s != sid || st < since)
			continue;
		if (kill(pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
tc_pidfile_write(int dirfd, pid_t pid, struct tc_err *err)
{
	unsigned long long st;
	char buf[TC_PIDFILE_MAX];
	int r;

	if (tc_proc_identity(pid, &st, NULL) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "pidfile: cannot read /proc/%ld/stat", (long)pid);
	r = snprintf(buf, sizeof(buf), "%ld %llu\n", (long)pid, st);
	if (r < 0 || (size_t)r >= sizeof(buf))
		return tc_err_set(err, TC_ERR_RUNTIME, "pidfile: too long");
	return tc_write_atomic(dirfd, "pid", buf, (size_t)r, 0600, (uid_t)-1, (gid_t)-1, err);
}

int
tc_pidfile_read(int dirfd, pid_t *pid, unsigned long long *starttime)
{
	char *buf, *end;
	size_t len;
	long p;
	unsigned long long st;

	if (tc_read_file(dirfd, "pid", TC_PIDFILE_MAX, &buf, &len, NULL) < 0)
		return -1;
	errno = 0;
	p = strtol(buf, &end, 10);
	if (errno || end == buf || *end != ' ' || p <= 1 || p > INT32_MAX) {
		free(buf);
		return -1;
	}
	st = strtoull(end + 1, &end, 10);
	if (errno || (*end != '\n' && *end != '\0')) {
		free(buf);
		return -1;
	}
	free(buf);
	*pid = (pid_t)p;
	*starttime = st;
	return 0;
}
