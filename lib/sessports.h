/* sessports.h: the TCP ports an sshd session listens on for its remote
 * forwards (`ssh -R`), found from /proc: listening sockets from
 * /proc/net/tcp and tcp6, and the processes above serve. */
#ifndef TC_SESSPORTS_H
#define TC_SESSPORTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct tc_listener {
	unsigned long long inode;
	uid_t uid;			/* who created the socket */
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network byte order; 4 bytes for AF_INET */
	uint16_t port;
};

/* Append the LISTEN rows of a /proc/net/tcp (family AF_INET) or tcp6
 * (AF_INET6) text to *v (heap, grown with xrealloc; the caller frees).
 * Lines that do not parse are skipped. Pure. Returns the number added. */
size_t tc_listeners_parse(const char *text, int family, struct tc_listener **v, size_t *n);

/* Every listening TCP socket of this network namespace (IPv4 and IPv6).
 * 0, or -1 with err when /proc/net/tcp cannot be read. */
int tc_listeners_read(struct tc_listener **v, size_t *n, struct tc_err *err);

/* "127.0.0.1", "::1" for a listener's address (buf of at least 46 bytes). */
void tc_listener_addr(const struct tc_listener *l, char *buf, size_t sz);

/* The socket inodes among /proc/PID/fd. 0 with *ino (heap) and *n, or -1
 * with errno (EACCES/EPERM: this process may not look: sshd's session
 * process is not dumpable when it dropped root). */
int tc_proc_socket_inodes(pid_t pid, unsigned long long **ino, size_t *n);

/* From /proc/PID/stat and status: parent pid, real uid and comm.
 * -1 when the process is gone. */
int tc_proc_info(pid_t pid, pid_t *ppid, uid_t *uid, char comm[16 + 1]);

#endif
