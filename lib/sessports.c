/* sessports.c: listening TCP sockets from /proc/net/tcp{,6}, and which
 * socket inodes a process holds, for tunnelctl-gate serve to learn the
 * ports of its sshd session (the port sshd chose for `-R 0` included). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sessports.h"
#include "xalloc.h"

#define TCP_LISTEN_STATE 0x0A		/* include/net/tcp_states.h: TCP_LISTEN */
#define PROC_NET_MAX (64u << 20)	/* a tunnel server with 300k sockets is still < 64 MiB */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n hex digits at *p into *out; advances *p. */
static int
hex_u32(const char **p, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int h = hexval((*p)[i]);

		if (h < 0)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	*p += n;
	*out = v;
	return 0;
}

/* "0100007F:1F90" (IPv4) or 32 hex digits ":" port (IPv6). The kernel
 * prints each 32-bit word of the address as a host-order integer, so
 * copying the words back in host order yields the network-order bytes. */
static int
parse_addr(const char **p, int family, struct tc_listener *l)
{
	size_t words = family == AF_INET ? 1 : 4, i;
	uint32_t w, port;

	for (i = 0; i < words; i++) {
		if (hex_u32(p, 8, &w) < 0)
			return -1;
		memcpy(l->addr + 4 * i, &w, 4);
	}
	if (**p != ':')
		return -1;
	(*p)++;
	if (hex_u32(p, 4, &port) < 0)
		return -1;
	l->port = (uint16_t)port;
	return 0;
}

static const char *
skip_sp(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

static const char *
skip_word(const char *p)
{
	while (*p && *p != ' ' && *p != '\n')
		p++;
	return p;
}

/* One row: "sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
static int
parse_row(const char *p, int family, struct tc_listener *l)
{
	uint32_t st;
	char *end;
	unsigned long long x;
	int i;

	memset(l, 0, sizeof(*l));
	l->family = family;
	p = skip_word(skip_sp(p));		/* "sl:" */
	p = skip_sp(p);
	if (parse_addr(&p, family, l) < 0 || *p != ' ')
		return -1;
	p = skip_word(skip_sp(p));		/* remote address */
	p = skip_sp(p);
	if (hex_u32(&p, 2, &st) < 0 || st != TCP_LISTEN_STATE || *p != ' ')
		return -1;
	for (i = 0; i < 3; i++)			/* tx:rx, tr:when, retrnsmt */
		p = skip_word(skip_sp(p));
	p = skip_sp(p);
	errno = 0;
	x = strtoull(p, &end, 10);		/* uid */
	if (end == p || errno || *end != ' ' || x > 0xffffffffULL)
		return -1;
	l->uid = (uid_t)x;
	p = skip_word(skip_sp(end));		/* timeout */
	p = skip_sp(p);
	x = strtoull(p, &end, 10);		/* inode */
	if (end == p || errno || (*end != ' ' && *end != '\n' && *end != '\0') || x == 0)
		return -1;
	l->inode = x;
	return 0;
}

size_t
tc_listeners_parse(const char *text, int family, struct tc_listener **v, size_t *n)
{
	const char *line = text, *nl;
	size_t added = 0;

	for (; line && *line; line = nl ? nl + 1 : NULL) {
		struct tc_listener l;

		nl = strchr(line, '\n');
		if (parse_row(line, family, &l) < 0)
			continue;	/* the header, or a row in another state */
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = l;
		added++;
	}
	return added;
}

/* The whole of a /proc file (its size is not known before reading). */
static char *
slurp(const char *path, int *e)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*e = errno;
		return NULL;
	}
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*e = errno;
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {
			if (cap >= PROC_NET_MAX) {
				*e = EFBIG;
				free(buf);
				close(fd);
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

int
tc_listeners_read(struct tc_listener **v, size_t *n, struct tc_err *err)
{
	static const struct { const char *path; int family; } src[] = {
		{ "/proc/net/tcp", AF_INET },
		{ "/proc/net/tcp6", AF_INET6 },
	};
	size_t i;

	*v = NULL;
	*n = 0;
	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		int e = 0;
		char *text = slurp(src[i].path, &e);

		if (!text) {
			if (e == ENOENT && src[i].family == AF_INET6)
				continue;	/* a kernel without IPv6 */
			free(*v);
			*v = NULL;
			*n = 0;
			return tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", src[i].path, strerror(e));
		}
		tc_listeners_parse(text, src[i].family, v, n);
		free(text);
	}
	return 0;
}

void
tc_listener_addr(const struct tc_listener *l, char *buf, size_t sz)
{
	if (!inet_ntop(l->family, l->addr, buf, (socklen_t)sz))
		snprintf(buf, sz, "?");
}

int
tc_proc_socket_inodes(pid_t pid, unsigned long long **ino, size_t *n)
{
	char path[64], link[64];
	struct dirent *de;
	DIR *d;

	*ino = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *end;
		ssize_t r;
		unsigned long long x;

		if (de->d_name[0] == '.')
			continue;
		r = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (r < 0) {
			if (errno == EACCES || errno == EPERM) {
				int e = errno;

				closedir(d);
				free(*ino);
				*ino = NULL;
				*n = 0;
				errno = e;
				return -1;
			}
			continue;	/* closed meanwhile */
		}
		link[r] = '\0';
		if (strncmp(link, "socket:[", 8) != 0)
			continue;
		errno = 0;
		x = strtoull(link + 8, &end, 10);
		if (errno || end == link + 8 || strcmp(end, "]") != 0)
			continue;
		*ino = xrealloc(*ino, (*n + 1) * sizeof(**ino));
		(*ino)[(*n)++] = x;
	}
	closedir(d);
	return 0;
}

int
tc_proc_info(pid_t pid, pid_t *ppid, uid_t *uid, char comm[16 + 1])
{
	char path[64], buf[512], *open_p, *close_p;
	ssize_t r;
	int fd;
	FILE *f;
	long pp;
	int have_uid = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	/* "PID (COMM) S PPID ...": comm may hold spaces and ')'. */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p || close_p[1] != ' ' ||
	    (size_t)(close_p - open_p - 1) > 16)
		return -1;
	memcpy(comm, open_p + 1, (size_t)(close_p - open_p - 1));
	comm[close_p - open_p - 1] = '\0';
	if (close_p[2] == 'Z')
		return -1;
	if (sscanf(close_p + 2, "%*c %ld", &pp) != 1)
		return -1;
	*ppid = (pid_t)pp;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, "Uid:", 4) == 0) {
			*uid = (uid_t)strtoul(buf + 4, NULL, 10);
			have_uid = 1;
			break;
		}
	fclose(f);
	return have_uid ? 0 : -1;
}
