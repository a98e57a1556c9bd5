/* localnet.c: which interface leads to a DNAT target (rtnetlink), and
 * net.ipv4.conf.IFACE.route_localnet set while a tunnel needs it, with the
 * previous value kept on disk so it is restored even after a crash. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "localnet.h"
#include "nlsock.h"

/* An rtnetlink answer slower than this means something is stuck. */
#define NL_TIMEOUT_S 5
#define SYSCTL_FMT "/proc/sys/net/ipv4/conf/%s/route_localnet"
/* A sysctl value is a small integer; anything longer is not one. */
#define VALUE_MAX 16

/* ---------- route lookup ---------- */

struct route_ans {
	uint32_t oif;
	bool found;
};

static int
route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_ans *a = data;

	if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
		a->oif = mnl_attr_get_u32(attr);
		a->found = true;
	}
	return MNL_CB_OK;
}

static int
route_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr_cb, data);
}

int
tc_route_iface(struct in_addr dst, char ifname[IF_NAMESIZE], struct tc_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], ip[INET_ADDRSTRLEN];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct route_ans a = { 0 };
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t len;
	int ret;

	if (inet_ntop(AF_INET, &dst, ip, sizeof(ip)) == NULL)
		ip[0] = '\0';
	nl = tc_nl_open(NETLINK_ROUTE, 0, 0, NL_TIMEOUT_S, 0, 0, err);
	if (nl == NULL)
		return -1;
	memset(buf, 0, sizeof(buf));	/* attribute padding goes to the kernel too */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put(nlh, RTA_DST, sizeof(dst.s_addr), &dst.s_addr);
	ret = -1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "route to %s: %s", ip, strerror(errno));
		goto out;
	}
	/* One answer: the route, or an error such as "Network is unreachable". */
	len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (len < 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "route to %s: %s", ip,
			   errno == EAGAIN ? "timed out" : strerror(errno));
		goto out;
	}
	if (mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(nl), route_cb, &a) < 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "route to %s: %s", ip, strerror(errno));
		goto out;
	}
	if (!a.found || if_indextoname(a.oif, ifname) == NULL) {
		tc_err_set(err, TC_ERR_RUNTIME, "route to %s: no output interface", ip);
		goto out;
	}
	ret = 0;
out:
	mnl_socket_close(nl);
	return ret;
}

/* ---------- route_localnet ---------- */

/* The name becomes a path component under /proc and SAVE_DIR. "all" and
 * "default" would widen the exposure to every interface; a leading '.' is
 * reserved for our temporary files. */
static int
iface_valid(const char *name, struct tc_err *err)
{
	size_t len = strnlen(name, IF_NAMESIZE);

	if (len == 0 || len == IF_NAMESIZE || strchr(name, '/') != NULL || name[0] == '.' ||
	    strcmp(name, "all") == 0 || strcmp(name, "default") == 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: bad interface name \"%.*s\"",
				  IF_NAMESIZE, name);
	return 0;
}

static int
sysctl_path(const char *iface, char *path, size_t size, struct tc_err *err)
{
	int len = snprintf(path, size, SYSCTL_FMT, iface);

	if (len < 0 || (size_t)len >= size)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: path too long for %s", iface);
	return 0;
}

/* A value is digits only (a sysctl int); anything else in a save file is not ours. */
static bool
value_valid(const char *v)
{
	size_t i;

	if (v[0] == '\0')
		return false;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
	}
	return true;
}

/* Read a small value from fd into v (trailing newline dropped). */
static int
read_value(int fd, char v[VALUE_MAX])
{
	ssize_t len;

	len = read(fd, v, VALUE_MAX - 1);
	if (len < 0)
		return -1;
	v[len] = '\0';
	if (len > 0 && v[len - 1] == '\n')
		v[len - 1] = '\0';
	if (!value_valid(v)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
sysctl_get(const char *iface, char v[VALUE_MAX], struct tc_err *err)
{
	char path[128];
	int fd, ret, e;

	if (sysctl_path(iface, path, sizeof(path), err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s: %s", path,
				  errno == ENOENT ? "no such interface" : strerror(errno));
	ret = read_value(fd, v);
	e = errno;
	close(fd);
	if (ret < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: reading %s: %s", path, strerror(e));
	return 0;
}

/* Write v to IFACE's sysctl. *gone is set when the interface no longer exists. */
static int
sysctl_put(const char *iface, const char *v, bool *gone, struct tc_err *err)
{
	char path[128];
	size_t len = strlen(v);
	int fd, e;

	if (gone != NULL)
		*gone = false;
	if (sysctl_path(iface, path, sizeof(path), err) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && gone != NULL) {
		*gone = true;
		return 0;
	}
	if (fd < 0)
		return tc_err_set(err, errno == EACCES || errno == EPERM ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "route_localnet: %s: %s", path, strerror(errno));
	if (write(fd, v, len) != (ssize_t)len) {
		e = errno;
		close(fd);
		return tc_err_set(err, e == EPERM || e == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "route_localnet: writing %s: %s", path, strerror(e));
	}
	if (close(fd) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: writing %s: %s", path,
				  strerror(errno));
	return 0;
}

/* Open (creating 0700 if missing) the save directory, refusing a symlink. */
static int
savedir_open(const char *dir, struct tc_err *err)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: creating %s: %s", dir,
				  strerror(errno));
	if (lstat(dir, &st) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s is not a directory", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: opening %s: %s", dir,
				  strerror(errno));
	return fd;
}

/* SAVE_DIR/IFACE := v, atomically: readers see the old file or the new one. */
static int
save_write(int dfd, const char *dir, const char *iface, const char *v, struct tc_err *err)
{
	char tmp[IF_NAMESIZE + 8], line[VALUE_MAX + 1];
	int fd, len, e;

	len = snprintf(tmp, sizeof(tmp), ".%s.tmp", iface);
	if (len < 0 || (size_t)len >= sizeof(tmp))
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: name too long: %s", iface);
	len = snprintf(line, sizeof(line), "%s\n", v);
	if (len < 0 || (size_t)len >= sizeof(line))
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: value too long");
	/* A temp file left by a crash is ours to replace. */
	if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s/%s: %s", dir, tmp,
				  strerror(errno));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s/%s: %s", dir, tmp,
				  strerror(errno));
	if (write(fd, line, (size_t)len) != len || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlinkat(dfd, tmp, 0);
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: writing %s/%s: %s", dir, tmp,
				  strerror(e));
	}
	if (close(fd) < 0 || renameat(dfd, tmp, dfd, iface) < 0 || fsync(dfd) < 0) {
		e = errno;
		unlinkat(dfd, tmp, 0);
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: saving %s/%s: %s", dir, iface,
				  strerror(e));
	}
	return 0;
}

/* 1 and the saved value if SAVE_DIR/IFACE exists, 0 if not, -1 on error. */
static int
save_read(int dfd, const char *dir, const char *iface, char v[VALUE_MAX], struct tc_err *err)
{
	int fd, ret, e;

	fd = openat(dfd, iface, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s/%s: %s", dir, iface,
				  strerror(errno));
	ret = read_value(fd, v);
	e = errno;
	close(fd);
	if (ret < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s/%s: %s", dir, iface,
				  strerror(e));
	return 1;
}

/* Turn route_localnet on for one interface, saving its value first so a
 * crash between the two steps still leaves a way back. */
static int
enable_one(int dfd, const char *dir, const char *iface, struct tc_err *err)
{
	char old[VALUE_MAX];
	int r;

	r = save_read(dfd, dir, iface, old, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (sysctl_get(iface, old, err) < 0 || save_write(dfd, dir, iface, old, err) < 0)
			return -1;
	}
	return sysctl_put(iface, "1", NULL, err);
}

/* Put back the saved value and forget it; a vanished interface is forgotten. */
static int
restore_one(int dfd, const char *dir, const char *iface, struct tc_err *err)
{
	char old[VALUE_MAX];
	bool gone;
	int r;

	r = save_read(dfd, dir, iface, old, err);
	if (r <= 0)
		return r;
	if (sysctl_put(iface, old, &gone, err) < 0)
		return -1;
	if (unlinkat(dfd, iface, 0) < 0 && errno != ENOENT)
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: removing %s/%s: %s", dir,
				  iface, strerror(errno));
	return fsync(dfd) < 0 ? tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s: %s", dir,
					   strerror(errno)) : 0;
}

static bool
in_set(const char *name, char (*ifaces)[IF_NAMESIZE], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strncmp(name, ifaces[i], IF_NAMESIZE) == 0)
			return true;
	}
	return false;
}

/* Restore every saved interface that is not in the set; also clear temp files. */
static int
sweep(int dfd, const char *dir, char (*ifaces)[IF_NAMESIZE], size_t n, struct tc_err *err)
{
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	fd = dup(dfd);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: reading %s: %s", dir,
				  strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			size_t len = strlen(de->d_name);

			if (len > 5 && strcmp(de->d_name + len - 4, ".tmp") == 0)
				(void)unlinkat(dfd, de->d_name, 0);
			continue;
		}
		/* Files that are not interface names are left alone. */
		if (strlen(de->d_name) >= IF_NAMESIZE || in_set(de->d_name, ifaces, n) ||
		    iface_valid(de->d_name, NULL) < 0)
			continue;
		if (restore_one(dfd, dir, de->d_name, err) < 0) {
			ret = -1;	/* keep going: restore as much as possible */
		}
	}
	closedir(d);
	return ret;
}

int
tc_localnet_set(const char *save_dir, char (*ifaces)[IF_NAMESIZE], size_t n,
		struct tc_err *err)
{
	return tc_localnet_set_flags(save_dir, ifaces, n, 0, err);
}

int
tc_localnet_set_flags(const char *save_dir, char (*ifaces)[IF_NAMESIZE], size_t n,
		      unsigned flags, struct tc_err *err)
{
	size_t i;
	int dfd, ret = 0;

	for (i = 0; i < n; i++) {
		if (iface_valid(ifaces[i], err) < 0)
			return -1;
	}
	dfd = savedir_open(save_dir, err);
	if (dfd < 0)
		return -1;
	for (i = 0; i < n && ret == 0; i++)
		ret = enable_one(dfd, save_dir, ifaces[i], err);
	if (!(flags & TC_LOCALNET_KEEP_OTHERS) &&
	    sweep(dfd, save_dir, ifaces, n, ret == 0 ? err : NULL) < 0)
		ret = -1;
	close(dfd);
	return ret;
}

int
tc_localnet_adopt(const char *save_dir, int parentfd, const char *old_name, struct tc_err *err)
{
	char old[VALUE_MAX], have[VALUE_MAX];
	struct dirent *de;
	DIR *d;
	int ofd, dfd, fd, r, ret = 0;

	ofd = openat(parentfd, old_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ofd < 0)
		return errno == ENOENT ? 0 : tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s: %s",
							old_name, strerror(errno));
	d = fdopendir(ofd);
	if (d == NULL) {
		close(ofd);
		return tc_err_set(err, TC_ERR_RUNTIME, "route_localnet: %s: %s", old_name,
				  strerror(errno));
	}
	dfd = savedir_open(save_dir, err);
	while (dfd >= 0 && ret == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || iface_valid(de->d_name, NULL) < 0)
			continue;
		fd = openat(ofd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? -1 : read_value(fd, old);
		if (fd >= 0)
			close(fd);
		if (r == 0) {
			r = save_read(dfd, save_dir, de->d_name, have, err);
			/* Two directories of an older version each saved a value: the
			 * second saw the first one's 1, so a saved 0 is the original. */
			if (r == 0 || (r == 1 && strcmp(old, "0") == 0))
				r = save_write(dfd, save_dir, de->d_name, old, err);
			ret = r < 0 ? -1 : 0;
		}
		if (ret == 0)
			(void)unlinkat(ofd, de->d_name, 0);
	}
	closedir(d);
	if (dfd < 0)
		return -1;
	close(dfd);
	if (ret == 0)
		(void)unlinkat(parentfd, old_name, AT_REMOVEDIR);	/* stays if anything else is in it */
	return ret;
}

int
tc_localnet_get(const char *iface, int *on, struct tc_err *err)
{
	char v[VALUE_MAX];

	if (iface_valid(iface, err) < 0 || sysctl_get(iface, v, err) < 0)
		return -1;
	*on = strcmp(v, "0") != 0;
	return 0;
}
