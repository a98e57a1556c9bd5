/* tools.h: the external programs tunnelctl runs (ssh, autossh): where they
 * are and which version they are. */
#ifndef TC_TOOLS_H
#define TC_TOOLS_H

#include <stddef.h>

#define TC_SSH_DEFAULT "/usr/bin/ssh"
#define TC_AUTOSSH_DEFAULT "/usr/bin/autossh"

/* 1 if path is an absolute path to an executable regular file. */
int tc_tool_usable(const char *path);

/* Run `path -V` (no shell, clean environment, 2 s limit) and put the first
 * line it prints (stdout or stderr) in buf. 0 or -1. */
int tc_tool_version(const char *path, char *buf, size_t bufsz);

/* Run argv[0] (an absolute path) with argv and the environment envp, no
 * shell, stdin /dev/null, stdout and stderr together into out (cut to
 * outsz - 1 bytes, NUL-terminated), at most wait_ms: still running then, it
 * is killed. Its exit status (0-255), or -1 when it could not run, was
 * killed or died of a signal. */
int tc_run_capture(char *const argv[], char *const envp[], char *out, size_t outsz, int wait_ms);

/* Where a helper program of ours is: beside the running binary (a build
 * tree), else in installed_dir (where `make install` puts it). */
void tc_helper_path(const char *prog, const char *installed_dir, char *buf, size_t bufsz);

#endif
