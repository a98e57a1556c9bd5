/* tunnel.c: start, stop and inspect one tunnel; the caller holds the lock
 * for anything that changes state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "firewall.h"
#include "log.h"
#include "nft.h"
#include "sshargv.h"
#include "state.h"
#include "supervise.h"
#include "tunnel.h"
#include "xalloc.h"

#define TC_STOP_WAIT_S 15	/* supervisor's own grace (5 s) plus margin */
#define TC_KH_MAX (64 * 1024)

int
tc_ctx_open(struct tc_ctx *c, const char *state_path, int create, int lock_wait,
	    struct tc_err *err)
{
	c->state_path = state_path;
	c->lockfd = -1;
	c->statefd = tc_state_open(state_path, create, err);
	if (c->statefd < 0)
		return -1;
	if (lock_wait >= 0) {
		c->lockfd = tc_lock(c->statefd, lock_wait, err);
		if (c->lockfd < 0) {
			close(c->statefd);
			c->statefd = -1;
			return -1;
		}
	}
	return 0;
}

void
tc_ctx_close(struct tc_ctx *c)
{
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->statefd >= 0)
		close(c->statefd);
	c->lockfd = c->statefd = -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
tc_tunnel_list(struct tc_ctx *c, char (**names)[TC_NAME_MAX + 1], size_t *n, struct tc_err *err)
{
	struct dirent *de;
	DIR *d;
	int fd;

	*n = 0;
	*names = xcalloc(TC_NAMES_MAX, sizeof(**names));
	fd = openat(c->statefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		free(*names);
		*names = NULL;
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir: %s", strerror(errno));
	}
	while ((de = readdir(d)) != NULL && *n < TC_NAMES_MAX) {
		if (!tc_valid_name(de->d_name) || de->d_type != DT_DIR)
			continue;
		snprintf((*names)[(*n)++], TC_NAME_MAX + 1, "%.32s", de->d_name);
	}
	closedir(d);
	qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

static int
alive(int tdir, pid_t *pid)
{
	unsigned long long st;
	pid_t p;

	if (tc_pidfile_read(tdir, &p, &st) < 0 || !tc_proc_same(p, st))
		return 0;
	if (pid)
		*pid = p;
	return 1;
}

/* A supervisor that died without saying so: end what it left, record why. */
static void
clean_stale(struct tc_ctx *c, int tdir, struct tc_view *v)
{
	struct tc_err err;

	if (v->run.pid > 1)
		tc_kill_session(v->run.pid, v->run.starttime, SIGKILL);
	unlinkat(tdir, "key", 0);
	unlinkat(tdir, "pid", 0);
	if (!TC_ST_FINAL(v->run.state)) {
		v->run.state = TC_ST_FAILED;
		snprintf(v->run.last_error, sizeof(v->run.last_error),
			 "supervisor (pid %ld) died; cleaned up", (long)v->run.pid);
	}
	v->run.pid = 0;
	if (tc_run_write(tdir, &v->run, &err) < 0)
		tc_log(TC_LOG_WARN, "%s: %s", v->rec.spec.name, err.msg);
	tc_log(TC_LOG_WARN, "%s: %s", v->rec.spec.name, v->run.last_error);
}

int
tc_tunnel_view(struct tc_ctx *c, const char *name, struct tc_view *v, struct tc_err *err)
{
	int tdir, has_pidfile;

	memset(v, 0, sizeof(*v));
	tdir = tc_subdir_open(c->statefd, name, 0, err);
	if (tdir < 0)
		return -1;
	if (tc_record_read(tdir, &v->rec, err) < 0) {
		close(tdir);
		errno = ENOENT;
		return -1;
	}
	if (tc_run_read(tdir, &v->run, NULL) < 0) {
		/* started but the supervisor never wrote: it is starting or dead */
		v->run.state = TC_ST_STARTING;
	}
	v->alive = alive(tdir, NULL);
	has_pidfile = faccessat(tdir, "pid", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	/* run.pid still alive: a supervisor finishing its own cleanup. */
	if (!v->alive && v->run.pid > 1 && tc_proc_same(v->run.pid, v->run.starttime))
		v->alive = 1;
	if (!v->alive && c->lockfd >= 0 &&
	    (has_pidfile || !TC_ST_FINAL(v->run.state)))
	{
		clean_stale(c, tdir, v);
		v->cleaned = 1;
	}
	else if (!v->alive && !TC_ST_FINAL(v->run.state)) {
		/* not ours to clean (no lock): report it as it is */
		v->run.state = TC_ST_FAILED;
		snprintf(v->run.last_error, sizeof(v->run.last_error), "supervisor not running");
	}
	close(tdir);
	return 0;
}

/* Ask the supervisor to end (it ends its process group), wait, insist. */
static void
halt(int tdir)
{
	struct tc_run run;
	struct timespec nap = { 0, 50 * 1000000L };
	unsigned long long st;
	time_t deadline;
	pid_t pid;

	if (tc_pidfile_read(tdir, &pid, &st) == 0 && tc_proc_same(pid, st)) {
		kill(pid, SIGTERM);
		deadline = time(NULL) + TC_STOP_WAIT_S;
		while (tc_proc_same(pid, st) && time(NULL) < deadline)
			nanosleep(&nap, NULL);
		if (tc_proc_same(pid, st))
			kill(pid, SIGKILL);
		tc_kill_session(pid, st, SIGKILL);
	}
	if (tc_run_read(tdir, &run, NULL) == 0 && run.pid > 1)
		tc_kill_session(run.pid, run.starttime, SIGKILL);
	unlinkat(tdir, "key", 0);
	unlinkat(tdir, "pid", 0);
}

int
tc_tunnel_stop(struct tc_ctx *c, const char *name, int *existed, struct tc_err *err)
{
	struct tc_record rec;
	int tdir, dnat = 0;

	*existed = 0;
	tdir = tc_subdir_open(c->statefd, name, 0, NULL);
	/* An unknown tunnel: a stop killed half-way may have left its rules. */
	if (tdir < 0)
		return tc_fw_active(c->statefd) ?
			tc_fw_reconcile(c->state_path, c->statefd, NULL, name, err) : 0;
	*existed = 1;
	if (tc_record_read(tdir, &rec, NULL) == 0)
		dnat = rec.spec.via == TC_VIA_DNAT;
	halt(tdir);
	close(tdir);
	if (tc_subdir_remove(c->statefd, name, err) < 0)
		return -1;
	if (dnat || tc_fw_active(c->statefd))
		return tc_fw_reconcile(c->state_path, c->statefd, NULL, name, err);
	return 0;
}

static int
owner_of(const char *run_as, uid_t *uid, gid_t *gid, struct tc_err *err)
{
	struct passwd *pw;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (!run_as || !*run_as)
		return 0;
	pw = getpwnam(run_as);
	if (!pw)
		return tc_err_set(err, TC_ERR_RUNTIME, "run_as: no user %s", run_as);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Write key, known_hosts and spec.json for a (re)start. known_hosts learnt on
 * first use is kept while the server stays the same. */
static int
write_files(struct tc_ctx *c, int tdir, const struct tc_spec *spec, int origin_sync,
	    const struct tc_record *old, struct tc_err *err)
{
	struct tc_record rec;
	char line[TC_HOST_MAX + TC_HOSTKEY_MAX + 16];
	uid_t uid;
	gid_t gid;
	int keep_kh;

	if (owner_of(c->run_as, &uid, &gid, err) < 0)
		return -1;
	/* ssh as run_as must traverse to its key: search permission only. */
	if (uid != (uid_t)-1 && (fchmod(c->statefd, 0711) < 0 || fchmod(tdir, 0711) < 0))
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir: chmod: %s", strerror(errno));
	if (tc_write_atomic(tdir, "key", spec->key, spec->key_len, 0600, uid, gid, err) < 0)
		return -1;
	keep_kh = old && !spec->host_key[0] && !old->spec.host_key[0] &&
		  strcmp(old->spec.host, spec->host) == 0 && old->spec.port == spec->port &&
		  faccessat(tdir, "known_hosts", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (spec->host_key[0]) {
		if (tc_known_hosts_line(spec, line, sizeof(line)) < 0)
			return tc_err_set(err, TC_ERR_RUNTIME, "known_hosts: line too long");
		if (tc_write_atomic(tdir, "known_hosts", line, strlen(line), 0600, uid, gid, err) < 0)
			return -1;
	} else if (!keep_kh &&
		   tc_write_atomic(tdir, "known_hosts", "", 0, 0600, uid, gid, err) < 0) {
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	rec.spec = *spec;
	rec.spec.key = NULL;
	rec.spec.key_len = 0;
	rec.origin_sync = origin_sync;
	tc_spec_digest(spec, 0, rec.digest);
	tc_spec_digest(spec, 1, rec.ssh_digest);
	snprintf(rec.run_as, sizeof(rec.run_as), "%s", c->run_as ? c->run_as : "");
	snprintf(rec.ssh_path, sizeof(rec.ssh_path), "%s", c->ssh_path);
	snprintf(rec.autossh_path, sizeof(rec.autossh_path), "%s",
		 c->autossh_path ? c->autossh_path : "");
	return tc_record_write(tdir, &rec, err);
}

static int
update_target(struct tc_ctx *c, int tdir, const struct tc_spec *spec,
	      const struct tc_record *old, struct tc_err *err)
{
	struct tc_record rec = *old;

	rec.spec.target_port = spec->target_port;
	memcpy(rec.spec.target_host, spec->target_host, sizeof(rec.spec.target_host));
	tc_spec_digest(spec, 0, rec.digest);
	if (tc_record_write(tdir, &rec, err) < 0)
		return -1;
	return tc_fw_reconcile(c->state_path, c->statefd, NULL, NULL, err);
}

int
tc_tunnel_start(struct tc_ctx *c, const struct tc_spec *spec, int origin_sync,
		int flags, enum tc_start_result *res, struct tc_err *err)
{
	struct tc_record old;
	char digest[TC_DIGEST_HEX], ssh_digest[TC_DIGEST_HEX];
	int tdir, have_old, running;
	pid_t pid;

	if (spec->via == TC_VIA_DNAT && tc_nft_check_perm(err) < 0)
		return -1;
	tdir = tc_subdir_open(c->statefd, spec->name, 1, err);
	if (tdir < 0)
		return -1;
	have_old = tc_record_read(tdir, &old, NULL) == 0;
	running = have_old && alive(tdir, NULL);
	tc_spec_digest(spec, 0, digest);
	tc_spec_digest(spec, 1, ssh_digest);
	*res = have_old ? TC_START_RESTARTED : TC_START_STARTED;
	if (running && !(flags & TC_START_FORCE) && strcmp(old.digest, digest) == 0 &&
	    old.origin_sync == origin_sync) {
		*res = TC_START_UNCHANGED;
		close(tdir);
		return 0;
	}
	if (running && (flags & TC_START_ALLOW_UPDATE) && spec->via == TC_VIA_DNAT && old.spec.via == TC_VIA_DNAT &&
	    strcmp(old.ssh_digest, ssh_digest) == 0 && old.origin_sync == origin_sync) {
		*res = TC_START_UPDATED;
		int r = update_target(c, tdir, spec, &old, err);
		close(tdir);
		return r;
	}
	halt(tdir);	/* also when spec.json is unreadable: never two supervisors */
	unlinkat(tdir, "run.json", 0);
	if (write_files(c, tdir, spec, origin_sync, have_old ? &old : NULL, err) < 0)
		goto undo;
	if ((spec->via == TC_VIA_DNAT || (have_old && old.spec.via == TC_VIA_DNAT)) &&
	    tc_fw_reconcile(c->state_path, c->statefd, spec->name, NULL, err) < 0)
		goto undo;
	if (tc_supervisor_spawn(c->supervisor, c->state_path, spec->name, &pid, err) < 0)
		goto undo;
	close(tdir);
	return 0;
undo:
	{
		struct tc_err e2;
		struct tc_err saved = *err;

		halt(tdir);
		close(tdir);
		tc_subdir_remove(c->statefd, spec->name, &e2);
		if (spec->via == TC_VIA_DNAT)
			tc_fw_reconcile(c->state_path, c->statefd, NULL, spec->name, &e2);
		*err = saved;
	}
	return -1;
}

int
tc_tunnel_fw_sync(struct tc_ctx *c, struct tc_err *err)
{
	if (!tc_fw_active(c->statefd))
		return 0;
	return tc_fw_reconcile(c->state_path, c->statefd, NULL, NULL, err);
}
