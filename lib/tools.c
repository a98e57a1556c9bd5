/* tools.c: locate and identify ssh and autossh. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools.h"

#define TC_VERSION_WAIT_MS 2000	/* `ssh -V` answers at once; never hang `version` */

int
tc_tool_usable(const char *path)
{
	struct stat st;

	return path && path[0] == '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

int
tc_run_capture(char *const argv[], char *const envp[], char *out, size_t outsz, int wait_ms)
{
	posix_spawn_file_actions_t fa;
	struct pollfd p;
	size_t len = 0;
	int pfd[2], st = 0, eof = 0;
	pid_t pid;

	if (outsz == 0 || pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	p.fd = pfd[0];
	p.events = POLLIN;
	/* Until it closes its output (it exits) or the wait is over. */
	while (poll(&p, 1, wait_ms) > 0) {
		char buf[512];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n <= 0) {
			eof = 1;
			break;
		}
		if (len + (size_t)n >= outsz)
			n = (ssize_t)(outsz - 1 - len);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	out[len] = '\0';
	close(pfd[0]);
	/* Its output closed as it exits: wait for that (a few ms at most).
	 * Still writing, or silent, when the time ran out: kill it. */
	if (!eof)
		kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) < 0 || !eof)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
tc_tool_version(const char *path, char *buf, size_t bufsz)
{
	char *const argv[] = { (char *)path, "-V", NULL };
	char *const envp[] = { NULL };

	if (!tc_tool_usable(path) || bufsz == 0)
		return -1;
	tc_run_capture(argv, envp, buf, bufsz, TC_VERSION_WAIT_MS);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? 0 : -1;
}

void
tc_helper_path(const char *prog, const char *installed_dir, char *buf, size_t bufsz)
{
	ssize_t n = readlink("/proc/self/exe", buf, bufsz - 1);
	char *slash;
	int r;

	buf[n > 0 ? n : 0] = '\0';
	slash = strrchr(buf, '/');
	if (slash) {
		size_t room = bufsz - (size_t)(slash + 1 - buf);

		r = snprintf(slash + 1, room, "%s", prog);
		if (r > 0 && (size_t)r < room && access(buf, X_OK) == 0)
			return;
	}
	r = snprintf(buf, bufsz, "%s/%s", installed_dir, prog);
	if (r < 0 || (size_t)r >= bufsz)
		buf[0] = '\0';	/* exec of "" fails with a clear error later */
}
