/* gate.h: what tunnelctl-gate's commands share: their signature and the
 * few helpers main() gives them. */
#ifndef TC_GATE_H
#define TC_GATE_H

#include "err.h"

#define GATE_PROG "tunnelctl-gate"

/* A command: argv[0] is its name. Returns an exit code (>= 0), or -1 with
 * err filled (main() prints it and maps its kind to the exit code). */
typedef int (*gate_fn)(int argc, char **argv, struct tc_err *err);

int gate_serve(int argc, char **argv, struct tc_err *err);
int gate_list(int argc, char **argv, struct tc_err *err);
int gate_close(int argc, char **argv, struct tc_err *err);
int gate_authorized_key(int argc, char **argv, struct tc_err *err);
int gate_hello(int argc, char **argv, struct tc_err *err);
int gate_help(int argc, char **argv, struct tc_err *err);

/* --registry, else TUNNELCTL_GATE_REGISTRY, else /run/tunnelctl-gate. */
const char *gate_registry(const char *flag);

/* The usage of one command (or all, cmd NULL) on stdout or stderr. */
void gate_usage(const char *cmd, int to_stderr);

/* Exit code for an error kind (SPEC "Exit codes"). */
int gate_exit_code(enum tc_errkind k);

#endif
