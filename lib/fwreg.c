/* fwreg.c: /run/tunnelctl-fw/NETNS/: its lock, the owners/TAG records of
 * what each state directory owns, and the netns cookie that guards them. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwreg.h"
#include "log.h"
#include "num.h"
#include "sha256.h"
#include "spec.h"
#include "state.h"
#include "xalloc.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14; asm-generic/socket.h */
#endif

#define OWNERS "owners"
#define NETNS_FILE "netns"
#define RECORD_MAGIC "tunnelctl-fw 1"
/* A record of TC_FW_MAX rules is about 70 KiB. */
#define RECORD_MAX (256 * 1024)
/* A record line: "rule NAME PORT ADDR PORT" or "dir PATH". */
#define LINE_MAX_LEN (TC_PATH_MAX + 16)
/* How often to start over when a concurrent close removed the directory
 * between our open and our lock; each close does that at most once. */
#define OPEN_TRIES 5

static int
kind_of(int e)
{
	return e == EPERM || e == EACCES || e == EROFS ? TC_ERR_PERM : TC_ERR_RUNTIME;
}

int
tc_fwreg_tag(int statefd, const char *state_path, char tag[TC_FW_TAG_LEN + 1],
	     char dir[TC_PATH_MAX], struct tc_err *err)
{
	char link[32], hex[2 * TC_SHA256_LEN + 1];
	ssize_t len;
	int w;

	/* The kernel's name for the open directory: absolute, no "//" or "/./",
	 * the same whichever spelling of --state-dir the caller used. */
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", statefd);
	len = readlink(link, dir, TC_PATH_MAX);
	if (len > 0 && len < TC_PATH_MAX && dir[0] == '/') {
		dir[len] = '\0';
	} else {
		w = snprintf(dir, TC_PATH_MAX, "%s", state_path);
		if (w < 0 || w >= TC_PATH_MAX)
			return tc_err_set(err, TC_ERR_RUNTIME, "state dir %s: path too long", state_path);
	}
	if (strchr(dir, '\n') != NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir path has a newline");
	tc_sha256_hex(dir, strlen(dir), hex);
	memcpy(tag, hex, TC_FW_TAG_LEN);
	tag[TC_FW_TAG_LEN] = '\0';
	return 0;
}

/* The netns's inode number (names the directory) and its cookie (unique
 * for the boot: tells a later namespace that reuses the inode number). */
static int
netns_id(unsigned long long *ino, unsigned long long *cookie, struct tc_err *err)
{
	struct stat st;
	uint64_t c;
	socklen_t len = sizeof(c);
	int fd;

	if (stat("/proc/self/ns/net", &st) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "firewall: /proc/self/ns/net: %s",
				  strerror(errno));
	*ino = (unsigned long long)st.st_ino;
	*cookie = 0;	/* a kernel before 5.14 cannot tell: trust the inode */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len) == 0 &&
	    len == sizeof(c))
		*cookie = c;
	if (fd >= 0)
		close(fd);
	return 0;
}

static unsigned long long
mntns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/mnt", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* Open (with create, make 0700) directory `name` under `at`, refusing a
 * symlink, another owner and group/other access. errno survives a failure. */
static int
dir_open(int at, const char *name, const char *shown, int create, struct tc_err *err)
{
	struct stat st;
	int fd, e;

	if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST) {
		e = errno;
		tc_err_set(err, kind_of(e), "firewall bookkeeping %s: %s", shown, strerror(e));
		errno = e;
		return -1;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		tc_err_set(err, kind_of(e), "firewall bookkeeping %s: %s", shown,
			   e == ELOOP || e == ENOTDIR ? "not a directory (symlink?)" : strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		errno = EPERM;
		return tc_err_set(err, TC_ERR_PERM, "firewall bookkeeping %s: unsafe owner or mode", shown);
	}
	return fd;
}

static int
owners_open(struct tc_fwreg *r, int create, struct tc_err *err)
{
	char shown[sizeof(r->path) + sizeof(OWNERS) + 1];

	(void)snprintf(shown, sizeof(shown), "%s/%s", r->path, OWNERS);
	return dir_open(r->dirfd, OWNERS, shown, create, err);
}

/* Drop what an earlier namespace with our inode number left (its
 * interfaces and state directories meant nothing here), then claim the
 * directory with our cookie. */
static int
netns_claim(struct tc_fwreg *r, unsigned long long cookie, struct tc_err *err)
{
	char want[32], *have = NULL;
	size_t len;
	int w;

	w = snprintf(want, sizeof(want), "%llu\n", cookie);
	if (tc_read_file(r->dirfd, NETNS_FILE, sizeof(want), &have, &len, NULL) == 0) {
		w = strcmp(have, want);
		free(have);
		if (w == 0)
			return 0;
		tc_log(TC_LOG_WARN, "firewall: %s was left by an earlier network namespace; "
		       "dropping its records", r->path);
		if (tc_subdir_remove(r->dirfd, OWNERS, err) < 0 ||
		    tc_subdir_remove(r->dirfd, TC_FWREG_LOCALNET, err) < 0)
			return -1;
	} else if (errno != ENOENT) {
		return tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping %s/%s: unreadable",
				  r->path, NETNS_FILE);
	}
	return tc_write_atomic(r->dirfd, NETNS_FILE, want, strlen(want), 0600, (uid_t)-1,
			       (gid_t)-1, err);
}

static void
fds_close(struct tc_fwreg *r)
{
	if (r->lockfd >= 0)
		close(r->lockfd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->lockfd = r->dirfd = -1;
}

int
tc_fwreg_open(struct tc_fwreg *r, int statefd, const char *state_path, int wait_s,
	      struct tc_err *err)
{
	unsigned long long ino = 0, cookie = 0;
	struct stat st;
	char name[24];
	int root, try, again;

	memset(r, 0, sizeof(*r));
	r->dirfd = r->lockfd = -1;
	if (tc_fwreg_tag(statefd, state_path, r->tag, r->state_dir, err) < 0 ||
	    netns_id(&ino, &cookie, err) < 0)
		return -1;
	(void)snprintf(name, sizeof(name), "%llu", ino);
	(void)snprintf(r->path, sizeof(r->path), "%s/%s", TC_FWREG_ROOT, name);
	for (try = 0;; try++) {
		again = 0;
		root = dir_open(AT_FDCWD, TC_FWREG_ROOT, TC_FWREG_ROOT, 1, err);
		if (root >= 0) {
			r->dirfd = dir_open(root, name, r->path, 1, err);
			close(root);
		}
		if (r->dirfd >= 0) {
			r->lockfd = tc_lock(r->dirfd, wait_s, err);
			if (r->lockfd >= 0 && fstat(r->lockfd, &st) == 0 && st.st_nlink > 0)
				break;
			/* A close removed the directory since we opened it: the lock
			 * we got is unlinked, or there was no directory to make it in. */
			again = r->lockfd >= 0 ||
				(fstat(r->dirfd, &st) == 0 && st.st_nlink == 0);
		}
		fds_close(r);
		if (!again || try + 1 == OPEN_TRIES) {
			if (again)
				tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping %s: keeps vanishing",
					   r->path);
			return -1;
		}
	}
	if (netns_claim(r, cookie, err) < 0) {
		fds_close(r);
		return -1;
	}
	return 0;
}

/* 1 if directory `name` does not exist or holds nothing but dot files
 * (temporary files of an interrupted write). */
static int
holds_nothing(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, empty = 1;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	while (empty && (de = readdir(d)) != NULL)
		empty = de->d_name[0] == '.';
	closedir(d);
	return empty;
}

void
tc_fwreg_close(struct tc_fwreg *r)
{
	if (r->lockfd < 0)
		return;
	/* Nothing owned, nothing to restore: leave nothing behind. The lock
	 * file goes last but one, while we still hold it: a process waiting for
	 * it finds it unlinked once it gets it, and starts over. TC_FWREG_ROOT
	 * itself stays: a sandboxed service may hold it as its own bind mount
	 * (systemd's RuntimeDirectory=), which removing it here would orphan. */
	if (holds_nothing(r->dirfd, OWNERS) && holds_nothing(r->dirfd, TC_FWREG_LOCALNET) &&
	    tc_subdir_remove(r->dirfd, OWNERS, NULL) == 0 &&
	    tc_subdir_remove(r->dirfd, TC_FWREG_LOCALNET, NULL) == 0 &&
	    unlinkat(r->dirfd, NETNS_FILE, 0) == 0 && unlinkat(r->dirfd, TC_LOCK_NAME, 0) == 0)
		(void)rmdir(r->path);
	fds_close(r);
}

int
tc_fwreg_localnet_path(const struct tc_fwreg *r, char *buf, size_t size, struct tc_err *err)
{
	int w = snprintf(buf, size, "%s/%s", r->path, TC_FWREG_LOCALNET);

	if (w < 0 || (size_t)w >= size)
		return tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping: path too long");
	return 0;
}

/* ---------- records ---------- */

static int
valid_tag(const char *s)
{
	size_t i;

	for (i = 0; i < TC_FW_TAG_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[TC_FW_TAG_LEN] == '\0';
}

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long long v;

	if (s == NULL || tc_parse_uint(s, 65535, &v) < 0 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "rule NAME LPORT ADDR TPORT": d with comment NAME@TAG. */
static int
parse_rule(char *line, const char *tag, struct tc_dnat *d)
{
	char *f[5], *save = NULL;
	int i, w;

	for (i = 0; i < 5; i++) {
		f[i] = strtok_r(i == 0 ? line : NULL, " ", &save);
		if (f[i] == NULL)
			return -1;
	}
	if (strtok_r(NULL, " ", &save) != NULL || strcmp(f[0], "rule") != 0 || !tc_valid_name(f[1]))
		return -1;
	memset(d, 0, sizeof(*d));
	w = snprintf(d->name, sizeof(d->name), "%s@%s", f[1], tag);
	if (w < 0 || (size_t)w >= sizeof(d->name) || parse_port(f[2], &d->local_port) < 0 ||
	    inet_pton(AF_INET, f[3], &d->target) != 1 || parse_port(f[4], &d->target_port) < 0)
		return -1;
	return 0;
}

/* Parse record buf (NUL-terminated, ours to cut up) into o. */
static int
record_parse(char *buf, const char *tag, struct tc_fwreg_owner *o, unsigned long long *mntns)
{
	char *line = buf, *nl;
	size_t cap = 0;
	int i;

	memset(o, 0, sizeof(*o));
	memcpy(o->tag, tag, sizeof(o->tag));
	for (i = 0; *line != '\0'; i++, line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL || nl - line >= LINE_MAX_LEN)
			return -1;
		*nl = '\0';
		if (i == 0) {
			if (strcmp(line, RECORD_MAGIC) != 0)
				return -1;
		} else if (i == 1) {
			if (strncmp(line, "dir /", 5) != 0 || strlen(line + 4) >= sizeof(o->dir))
				return -1;
			memcpy(o->dir, line + 4, strlen(line + 4) + 1);
		} else if (i == 2) {
			if (strncmp(line, "mntns ", 6) != 0 || tc_parse_uint(line + 6, UINT64_MAX, mntns) < 0)
				return -1;
		} else {
			if (o->n == cap) {
				cap = cap ? 2 * cap : 16;
				o->rules = xrealloc(o->rules, cap * sizeof(*o->rules));
			}
			if (parse_rule(line, tag, &o->rules[o->n]) < 0)
				return -1;
			o->n++;
		}
	}
	return i >= 3 ? 0 : -1;
}

/* Read owners/TAG: 1 and o filled, 0 if absent, -1 on error. */
static int
record_read(struct tc_fwreg *r, int ownersfd, const char *tag, struct tc_fwreg_owner *o,
	    unsigned long long *mntns, struct tc_err *err)
{
	char *buf;
	size_t len;

	memset(o, 0, sizeof(*o));
	if (tc_read_file(ownersfd, tag, RECORD_MAX, &buf, &len, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping %s/%s/%s: unreadable",
				  r->path, OWNERS, tag);
	}
	if (strlen(buf) != len || record_parse(buf, tag, o, mntns) < 0) {
		free(buf);
		free(o->rules);
		o->rules = NULL;
		return tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping %s/%s/%s: malformed "
				  "(remove it, then run sync in its state directory)", r->path, OWNERS, tag);
	}
	free(buf);
	return 1;
}

void
tc_fwreg_owners_free(struct tc_fwreg_owner *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].rules);
	free(v);
}

/* A directory gone from the mount namespace that recorded it was removed
 * (not merely out of our sight, as a PrivateTmp service's /tmp would be). */
static int
owner_gone(const struct tc_fwreg_owner *o, unsigned long long mntns)
{
	struct stat st;

	return mntns != 0 && mntns == mntns_ino() && stat(o->dir, &st) < 0 && errno == ENOENT;
}

int
tc_fwreg_others(struct tc_fwreg *r, int prune, struct tc_fwreg_owner **v, size_t *n,
		struct tc_err *err)
{
	struct dirent *de;
	unsigned long long mntns;
	size_t cap = 0;
	DIR *d;
	int fd, ret = 0;

	*v = NULL;
	*n = 0;
	fd = owners_open(r, 1, err);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping %s: %s", r->path,
				  strerror(errno));
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		struct tc_fwreg_owner o;
		int got;

		/* dot files are temporary files of tc_write_atomic */
		if (!valid_tag(de->d_name) || strcmp(de->d_name, r->tag) == 0)
			continue;
		got = record_read(r, fd, de->d_name, &o, &mntns, err);
		if (got <= 0) {
			ret = got;
			continue;
		}
		if (prune && owner_gone(&o, mntns)) {
			tc_log(TC_LOG_WARN, "firewall: state directory %s no longer exists; "
			       "dropping its %zu rule(s)", o.dir, o.n);
			(void)unlinkat(fd, de->d_name, 0);
			free(o.rules);
			continue;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		(*v)[(*n)++] = o;
	}
	closedir(d);
	if (ret < 0) {
		tc_fwreg_owners_free(*v, *n);
		*v = NULL;
		*n = 0;
	}
	return ret;
}

/* Our own record, refusing one that another directory with our tag wrote. */
static int
own_read(struct tc_fwreg *r, int fd, struct tc_fwreg_owner *o, struct tc_err *err)
{
	unsigned long long mntns;
	int got = record_read(r, fd, r->tag, o, &mntns, err);

	if (got == 1 && strcmp(o->dir, r->state_dir) != 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "state directories %s and %s have the same firewall "
			   "tag %s; use another --state-dir for one of them", o->dir, r->state_dir,
			   r->tag);
		free(o->rules);
		o->rules = NULL;
		return -1;
	}
	return got;
}

int
tc_fwreg_own(struct tc_fwreg *r, struct tc_dnat **v, size_t *n, struct tc_err *err)
{
	struct tc_fwreg_owner o;
	int fd, got;

	*v = NULL;
	*n = 0;
	fd = owners_open(r, 1, err);
	if (fd < 0)
		return -1;
	got = own_read(r, fd, &o, err);
	close(fd);
	if (got < 0)
		return -1;
	if (got == 1) {
		*v = o.rules;
		*n = o.n;
	}
	return 0;
}

int
tc_fwreg_put(struct tc_fwreg *r, const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	struct tc_fwreg_owner old;
	char ip[INET_ADDRSTRLEN], name[TC_NFT_COMMENT_MAX + 1], *buf, *at;
	size_t cap = 128 + TC_PATH_MAX + n * (TC_NFT_COMMENT_MAX + INET_ADDRSTRLEN + 24), len = 0, i;
	int fd, w, ret;

	fd = owners_open(r, 1, err);
	if (fd < 0)
		return -1;
	ret = own_read(r, fd, &old, err);	/* only to refuse a tag clash */
	free(old.rules);
	if (ret < 0) {
		close(fd);
		return -1;
	}
	if (n == 0) {
		ret = unlinkat(fd, r->tag, 0) < 0 && errno != ENOENT ? -1 : fsync(fd);
		if (ret < 0)
			tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping %s/%s/%s: %s", r->path,
				   OWNERS, r->tag, strerror(errno));
		close(fd);
		return ret < 0 ? -1 : 0;
	}
	buf = xmalloc(cap);
	w = snprintf(buf, cap, RECORD_MAGIC "\ndir %s\nmntns %llu\n", r->state_dir, mntns_ino());
	len = w < 0 ? cap : (size_t)w;
	for (i = 0; i < n && len < cap; i++) {
		/* the tunnel name alone: the comment's @TAG is the file's name */
		memcpy(name, rules[i].name, sizeof(name));
		at = strchr(name, '@');
		if (at != NULL)
			*at = '\0';
		if (inet_ntop(AF_INET, &rules[i].target, ip, sizeof(ip)) == NULL)
			ip[0] = '\0';
		w = snprintf(buf + len, cap - len, "rule %s %u %s %u\n", name,
			     (unsigned)rules[i].local_port, ip, (unsigned)rules[i].target_port);
		len += w < 0 ? cap : (size_t)w;
	}
	if (len >= cap)
		ret = tc_err_set(err, TC_ERR_RUNTIME, "firewall bookkeeping: record too long");
	else
		ret = tc_write_atomic(fd, r->tag, buf, len, 0600, (uid_t)-1, (gid_t)-1, err);
	free(buf);
	close(fd);
	return ret;
}
