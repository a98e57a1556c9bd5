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

/* Where a helper program of ours is: beside the running binary (a build
 * tree), else in installed_dir (where `make install` puts it). */
void tc_helper_path(const char *prog, const char *installed_dir, char *buf, size_t bufsz);

#endif
