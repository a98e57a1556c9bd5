/* state.h: the state directory: safe opening, the global lock, atomic file
 * writes, bounded reads, and process identity (pid + start time). */
#ifndef TC_STATE_H
#define TC_STATE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define TC_STATE_DIR_DEFAULT "/run/tunnelctl"
#define TC_LOCK_NAME ".lock"

/* Open (and with create, make 0700) the state directory; refuse a symlink,
 * a directory not owned by us, or one writable by group/other.
 * Returns an O_DIRECTORY fd or -1. */
int tc_state_open(const char *path, int create, struct tc_err *err);

/* Take the global lock STATE_DIR/.lock (flock, exclusive), waiting at most
 * wait_s seconds (0 = try once). Returns the lock fd (O_CLOEXEC) or -1 with
 * TC_ERR_LOCKED. Released by close(). */
int tc_lock(int dirfd, int wait_s, struct tc_err *err);

/* Write len bytes to dirfd/name atomically: a temporary name created with
 * O_EXCL|O_NOFOLLOW and `mode`, fsync, rename, fsync of the directory.
 * With owner != (uid_t)-1, the file is chowned to owner:group first. */
int tc_write_atomic(int dirfd, const char *name, const void *buf, size_t len,
		    mode_t mode, uid_t owner, gid_t group, struct tc_err *err);

/* Read dirfd/name (O_NOFOLLOW, regular file, at most max bytes) into heap
 * memory the caller frees; NUL-terminated. ENOENT gives -1 with errno ENOENT. */
int tc_read_file(int dirfd, const char *name, size_t max, char **buf, size_t *len,
		 struct tc_err *err);

/* mkdirat(0700) + open O_DIRECTORY|O_NOFOLLOW; an existing dir is reused. */
int tc_subdir_open(int dirfd, const char *name, int create, struct tc_err *err);

/* Remove a tunnel directory and everything in it (files only, no recursion
 * into subdirectories, no symlink following). ENOENT is success. */
int tc_subdir_remove(int dirfd, const char *name, struct tc_err *err);

/* Process identity: field 22 of /proc/PID/stat (start time in clock ticks
 * since boot), and the session id. 0 or -1 when the process is gone. */
int tc_proc_identity(pid_t pid, unsigned long long *starttime, pid_t *sid);

/* 1 if pid is alive and still the process that started at starttime. */
int tc_proc_same(pid_t pid, unsigned long long starttime);

/* SIGKILL every process of session `sid` that started at or after `since`
 * (so a reused session id of an unrelated, older process is never hit).
 * Returns the number of processes signalled. */
int tc_kill_session(pid_t sid, unsigned long long since, int sig);

/* Pidfile: "PID STARTTIME\n". */
int tc_pidfile_write(int dirfd, pid_t pid, struct tc_err *err);
int tc_pidfile_read(int dirfd, pid_t *pid, unsigned long long *starttime);

#endif
