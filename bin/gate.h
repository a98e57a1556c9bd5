/* gate.h: what tunnelctl-gate's commands share: their signature and the
 * few helpers main() gives them. */
#ifndef TC_GATE_H
#define TC_GATE_H

#include "err.h"

#define GATE_PROG "tunnelctl-gate"

/* Every option of every command, as given (NULL or 0: not given). */
struct gate_opts {
	const char *device, *ports, *max_time, *registry, *bind, *key, *reason, *domain;
	unsigned given;			/* GO_* bits of the options given */
};
#define GO_DEVICE	0x001u
#define GO_PORTS	0x002u
#define GO_MAX_TIME	0x004u
#define GO_REGISTRY	0x008u
#define GO_BIND		0x010u
#define GO_KEY		0x020u
#define GO_REASON	0x040u
#define GO_DOMAIN	0x080u
#define GO_JSON		0x100u
#define GO_HTML		0x200u
#define GO_NGINX_MAP	0x400u
#define GO_HELP		0x800u	/* -h, --help: every command takes it */

/* The one option loop: options of argv[0..argc) (argv[0] is the command's
 * name) for command cmd, which accepts the GO_* bits in accepts. Every
 * command answers a bad option the same way ("unknown option '--x'",
 * "--x: not an option of CMD", "--x: needs a value"; TC_ERR_USAGE). 0, or 1
 * when help was asked for, with the operands from argv[*first]; -1 on error. */
int gate_opts_parse(const char *cmd, unsigned accepts, int argc, char **argv, struct gate_opts *o,
		    int *first, struct tc_err *err);

/* A command gets its parsed options and its operands only (argv[0] is the
 * first operand). Returns an exit code (>= 0), or -1 with err filled
 * (main() prints it and maps its kind to the exit code). */
typedef int (*gate_fn)(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);

int gate_serve(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);
int gate_list(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);
int gate_close(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);
int gate_authorized_key(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);
int gate_hello(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);
int gate_help(const struct gate_opts *o, int argc, char **argv, struct tc_err *err);

/* --registry, else TUNNELCTL_GATE_REGISTRY, else /run/tunnelctl-gate. */
const char *gate_registry(const char *flag);

/* The usage of one command (or all, cmd NULL) on stdout or stderr. */
void gate_usage(const char *cmd, int to_stderr);

/* Exit code for an error kind (SPEC "Exit codes"). */
int gate_exit_code(enum tc_errkind k);

#endif
