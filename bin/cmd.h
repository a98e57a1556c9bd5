/* cmd.h: what every command gets (the global options, the settings, its own
 * parsed options and operands) and what it must return. */
#ifndef TC_CMD_H
#define TC_CMD_H

#include <limits.h>

#include "err.h"
#include "settings.h"

#define TC_LOCK_WAIT_DEFAULT 60	/* seconds a command waits for another's lock */

struct g {
	const char *state_dir;
	const char *settings_path;
	int settings_explicit;
	int verbose, quiet, json;
	int wait_s;
	struct tc_settings set;
	char supervisor[PATH_MAX];
};

/* Every option of every command, as given on the command line (NULL: not
 * given). opt_parse() fills it; which ones a command accepts is in its
 * entry of the command table. */
struct opts {
	/* tunnel options (start) */
	const char *server, *remote_port, *remote_bind, *target, *via, *local_port;
	const char *key, *host_key, *timeout, *keepalive, *run_as, *certificate;
	int gate;			/* --gate */
	int tunnel_flags;		/* any tunnel option but --run-as given */
	/* source options (start, sync) */
	const char *source, *id, *soracom, *cacert, *interface;
	int source_flags;		/* --source, --id or --soracom given */
	const char *splay;		/* sync */
	int all;			/* stop --all */
	const char *interval;		/* watch */
};

/* The command return convention, for every cmd_*():
 *   0    success;
 *   > 0  the exit code itself, when the command already reported why (status
 *        exits 3 when a named tunnel is not up; stop and sync exit 1 when one
 *        tunnel of several failed, after each failure was logged);
 *   -1   failure described by *err, which main() logs and maps to the
 *        contract's exit code (exit_code()).
 * A command gets its operands only (argv[0] is the first one): main() has
 * parsed the options into *o, read the settings and settled the state dir. */
typedef int (*cmd_fn)(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);

int cmd_start(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_restart(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_stop(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_status(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_sync(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_watch(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_key(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);
int cmd_version(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);

/* Print a heap string from lib/out.c to stdout unless --quiet, and free it.
 * A failed write is remembered (out_failed()), never fatal here: a command
 * that changes state finishes its work first. */
void out_print(const struct g *g, char *heap_text);

/* 0 if everything printed reached stdout, else the errno of the failure
 * (also of the final flush and close of stdout). */
int out_failed(void);

#endif
