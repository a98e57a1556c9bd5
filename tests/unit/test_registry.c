/* test_registry: records written and read back (lib/registry.c), file
 * modes, liveness by pid + start time, forged or corrupt records, close
 * requests, and the id and device grammars. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "state.h"
#include "tap.h"

static void
fill(struct tc_gate_rec *r, const char *dev, const char *tun, pid_t pid)
{
	memset(r, 0, sizeof(*r));
	tc_gate_new_id(r->id, NULL);
	snprintf(r->device, sizeof(r->device), "%s", dev);
	snprintf(r->tunnel, sizeof(r->tunnel), "%s", tun);
	snprintf(r->target, sizeof(r->target), "192.0.2.50:443");
	r->ports[0] = 8080;
	r->nports = 1;
	snprintf(r->bind, sizeof(r->bind), "127.0.0.1");
	snprintf(r->client, sizeof(r->client), "198.51.100.2");
	r->started_at = 1795000000;
	r->expires_at = 1795003600;
	r->pid = pid;
	tc_proc_identity(pid, &r->starttime, NULL);
	r->session_pid = getppid();
	r->inodes[0] = 12345;
	r->ninodes = 1;
}

static int
write_raw(int dirfd, const char *name, const char *text)
{
	return tc_write_atomic(dirfd, name, text, strlen(text), 0640, (uid_t)-1, (gid_t)-1, NULL);
}

int
main(void)
{
	char dir[] = "/tmp/test_registry.XXXXXX", path[300], reason[TC_GATE_REASON_MAX + 1];
	struct tc_gate_rec a, b, back, *v;
	struct tc_err err;
	struct stat st;
	size_t n;
	pid_t child;
	int fd, fd2;

	ok(tc_gate_valid_device("edge-0042") && tc_gate_valid_device("440101234567890") &&
	   tc_gate_valid_device("Site_7.plc") && !tc_gate_valid_device("-x") && !tc_gate_valid_device("a/b") &&
	   !tc_gate_valid_device("a b") && !tc_gate_valid_device("") && !tc_gate_valid_device(".a"),
	   "device id grammar");
	{
		char d65[66];

		memset(d65, 'a', 65);
		d65[65] = '\0';
		ok(!tc_gate_valid_device(d65) && (d65[64] = '\0', tc_gate_valid_device(d65)), "device ids up to 64 bytes");
	}
	ok(tc_gate_new_id(a.id, NULL) == 0 && tc_gate_valid_id(a.id) && strlen(a.id) == 16, "new ids are 16 hex digits");
	ok(!tc_gate_valid_id("0123456789ABCDEF") && !tc_gate_valid_id("0123456789abcde") &&
	   !tc_gate_valid_id("../../etc/passwd"), "id grammar refuses upper case, short ids and paths");

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/reg", dir);
	umask(0);	/* the registry's own modes must not depend on the caller's umask */
	fd = tc_reg_open(path, 1, &err);
	ok(fd >= 0, "writer creates the registry");
	stat(path, &st);
	is_int(st.st_mode & 07777, 0750, "registry directory is 0750");

	fill(&a, "edge-0042", "web", getpid());
	ok(tc_reg_write(fd, &a, &err) == 0, "write a record");
	snprintf(path, sizeof(path), "%s/reg/%s.json", dir, a.id);
	stat(path, &st);
	is_int(st.st_mode & 07777, 0640, "record file is 0640");
	ok(tc_reg_read(fd, a.id, &back, &err) == 0, "read it back");
	ok(memcmp(&a, &back, sizeof(a)) == 0, "every field survives the round trip");
	ok(tc_reg_alive(&back, getuid()), "our own record is alive");

	/* A record whose serve is gone. */
	child = fork();
	if (child == 0)
		_exit(0);
	fill(&b, "edge-0043", "ssh", child);
	b.starttime = a.starttime;	/* whatever it was, the process is gone */
	waitpid(child, NULL, 0);
	tc_reg_write(fd, &b, NULL);
	/* A reused pid: alive, but not the process that wrote it. */
	{
		struct tc_gate_rec c;

		fill(&c, "edge-0044", "ssh", getpid());
		c.starttime = a.starttime + 1;
		tc_reg_write(fd, &c, NULL);
		ok(!tc_reg_alive(&c, (uid_t)-1), "same pid, other start time: not alive");
	}
	ok(!tc_reg_alive(&a, getuid() + 1), "a record whose process another user runs is not trusted");
	write_raw(fd, "0123456789abcdef.json", "{\"id\": \"0123456789abcdef\", \"device\": \"x\"}");
	write_raw(fd, "fedcba9876543210.json", "not json");
	write_raw(fd, "notanid.json", "{}");

	ok(tc_reg_list(fd, 0, &v, &n, &err) == 0, "list");
	is_int(n, 1, "only the live record is listed (dead, reused pid, incomplete, corrupt skipped)");
	ok(n == 1 && strcmp(v[0].id, a.id) == 0, "it is ours");
	free(v);
	snprintf(path, sizeof(path), "%s/reg/%s.json", dir, b.id);
	ok(access(path, F_OK) == 0, "without prune the dead record stays");
	tc_reg_list(fd, 1, &v, &n, &err);
	free(v);
	ok(access(path, F_OK) != 0, "with prune the dead record is removed");

	ok(tc_reg_close_request(fd, a.id, "maintenance\nwindow \x1b[31mover", (uid_t)-1, (gid_t)-1, &err) == 0,
	   "close request written");
	tc_reg_close_reason(fd, a.id, reason);
	is_str(reason, "maintenance?window ?[31mover", "reason read back with control bytes neutralised");
	tc_reg_close_reason(fd, b.id, reason);
	is_str(reason, "closed by the operator", "no request: the default reason");
	tc_reg_remove(fd, a.id);
	snprintf(path, sizeof(path), "%s/reg/%s.close", dir, a.id);
	ok(access(path, F_OK) != 0, "remove takes the close request too");
	errno = 0;
	ok(tc_reg_read(fd, a.id, &back, NULL) == -1 && errno == ENOENT, "removed record is gone (ENOENT)");

	fd2 = tc_reg_lock(fd, 0, &err);
	ok(fd2 >= 0, "lock taken");
	child = fork();
	if (child == 0) {
		struct tc_err e2;

		_exit(tc_reg_lock(fd, 100, &e2) < 0 ? 0 : 1);
	}
	{
		int status;

		waitpid(child, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second locker gives up after its wait");
	}
	close(fd2);
	close(fd);

	/* Unsafe directories. */
	snprintf(path, sizeof(path), "%s/open", dir);
	mkdir(path, 0755);
	ok(tc_reg_open(path, 1, &err) == -1 && err.kind == TC_ERR_PERM && strstr(err.msg, "0750"),
	   "writer refuses a world-readable registry");
	fd = tc_reg_open(path, 0, &err);
	ok(fd >= 0, "a reader accepts it");
	close(fd);
	chmod(path, 0777);
	ok(tc_reg_open(path, 0, &err) == -1 && strstr(err.msg, "writable by anyone"),
	   "a reader refuses a world-writable registry");
	snprintf(path, sizeof(path), "%s/link", dir);
	symlink("reg", path);
	ok(tc_reg_open(path, 0, &err) == -1 && strstr(err.msg, "symlink"), "a symlinked registry is refused");

	tc_reg_clean_reason("", reason);
	is_str(reason, "closed by the operator", "empty reason: the default");
	{
		char longr[400];

		memset(longr, 'x', sizeof(longr) - 1);
		longr[sizeof(longr) - 1] = '\0';
		tc_reg_clean_reason(longr, reason);
		is_int(strlen(reason), TC_GATE_REASON_MAX, "a long reason is cut at %d bytes", TC_GATE_REASON_MAX);
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
