/* test_sessports: /proc/net/tcp and tcp6 rows to listeners (lib/sessports.c),
 * and finding this process's own listening socket through /proc/self/fd,
 * as serve finds its sshd session's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sessports.h"
#include "tap.h"

static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 269 1 00000000f13e0f42 100 0 0 10 0\n"
	"   1: 0100007F:ADFF 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 129486 1 00000000a47b8db4 100 0 0 10 0\n"
	"   2: 0100007F:E779 0100007F:9E6A 01 00000000:00000000 02:0000009A 00000000     0        0 127666 2 00000000248b850b 20 4 30 10 -1\n"
	"   3: garbage\n";
static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 100 0 0 10 0\n";

int
main(void)
{
	struct tc_listener *v = NULL;
	unsigned long long *ino = NULL;
	size_t n = 0, nino = 0, i;
	char addr[64];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct stat st;
	int fd, found = 0;

	is_int(tc_listeners_parse(tcp4, AF_INET, &v, &n), 2, "two LISTEN rows in the IPv4 sample (ESTABLISHED and garbage skipped)");
	is_int(v[1].port, 0xADFF, "port from hex");
	is_int(v[1].uid, 999, "uid");
	is_int(v[1].inode, 129486, "inode");
	tc_listener_addr(&v[1], addr, sizeof(addr));
	is_str(addr, "127.0.0.1", "address bytes in network order");
	tc_listener_addr(&v[0], addr, sizeof(addr));
	is_str(addr, "0.0.0.0", "wildcard address");
	is_int(tc_listeners_parse(tcp6, AF_INET6, &v, &n), 1, "one IPv6 LISTEN row");
	is_int(n, 3, "appended to the same vector");
	tc_listener_addr(&v[2], addr, sizeof(addr));
	is_str(addr, "::1", "IPv6 loopback");
	is_int(v[2].port, 8080, "IPv6 port");
	free(v);
	v = NULL;
	n = 0;

	/* A real listener of this process: found in /proc/net/tcp and among
	 * /proc/self/fd, as serve matches its session's. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0 &&
	   getsockname(fd, (struct sockaddr *)&sa, &sl) == 0, "a listening socket on 127.0.0.1:0");
	fstat(fd, &st);
	ok(tc_listeners_read(&v, &n, NULL) == 0, "tc_listeners_read reads /proc/net/tcp{,6}");
	for (i = 0; i < n; i++)
		if (v[i].inode == st.st_ino && v[i].port == ntohs(sa.sin_port) && v[i].uid == getuid())
			found = 1;
	ok(found, "our listener is among them, with its port, inode and uid");
	ok(tc_proc_socket_inodes(getpid(), &ino, &nino) == 0, "our own fds are readable");
	found = 0;
	for (i = 0; i < nino; i++)
		if (ino[i] == st.st_ino)
			found = 1;
	ok(found, "its inode is among our socket fds");
	free(ino);
	free(v);
	close(fd);

	{
		pid_t pp;
		uid_t u;
		char comm[17];

		ok(tc_proc_info(getpid(), &pp, &u, comm) == 0 && pp == getppid() && u == getuid(),
		   "tc_proc_info: parent and uid of ourselves");
		is_str(comm, "test_sessports", "comm");
		ok(tc_proc_info(0x7ffffff0, &pp, &u, comm) == -1, "a process that does not exist");
	}
	return tap_done();
}
