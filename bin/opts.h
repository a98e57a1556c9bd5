/* opts.h: the one option parser of every command, and what commands share
 * after it: the settings, the config source, the tools, the exit codes. */
#ifndef TC_OPTS_H
#define TC_OPTS_H

#include "cmd.h"
#include "source.h"
#include "tunnel.h"

/* Option groups: a command's table entry says which it accepts. */
#define OG_GLOBAL	0x01u	/* --state-dir --settings --json --wait -v -q -h */
#define OG_TUNNEL	0x02u	/* --server ... --keepalive, --run-as */
#define OG_SOURCE	0x04u	/* --source --id --soracom --cacert --interface */
#define OG_SPLAY	0x08u	/* --splay */
#define OG_ALL		0x10u	/* --all */
#define OG_VERSION	0x20u	/* -V/--version: only before the command word */
#define OG_WATCH	0x40u	/* --interval */

/* What opt_parse() found besides options. */
enum opt_result {
	OPT_OK = 0,		/* options parsed; operands start at *first */
	OPT_HELP = 1,		/* -h/--help was given */
	OPT_VERSION = 2,	/* -V/--version was given (OG_VERSION only) */
};

/* Parse argv[0..argc) for command `cmd` (NULL: the global options before
 * the command word; parsing stops at the first operand there). Global
 * options set *g, the others *o. Every command answers a bad option the
 * same way: "unknown option '--x'", "--x: not an option of CMD",
 * "--x: needs a value" (TC_ERR_USAGE). Returns an enum opt_result, or -1. */
int opt_parse(struct g *g, const char *cmd, unsigned accepts, int argc, char **argv,
	      struct opts *o, int *first, struct tc_err *err);

/* After the options: read the settings file and settle the state dir (flag,
 * then TUNNELCTL_STATE_DIR, then the settings, then the default). */
int globals_done(struct g *g, struct tc_err *err);

/* The config source from flags, else the settings; -1 (usage) when neither
 * names one. */
int source_resolve(const struct g *g, const struct opts *o, struct tc_source *src,
		   struct tc_err *err);

/* ssh/autossh/run_as for a new tunnel, from the settings (run_as: the
 * --run-as flag, or NULL). */
int ctx_tools(const struct g *g, struct tc_ctx *c, const char *run_as, struct tc_err *err);

/* What the settings say about every tunnel (gate = yes), applied to specs
 * from a document or the flags; -1 (usage) on a bad value. */
int settings_to_specs(const struct g *g, struct tc_spec *specs, size_t n, struct tc_err *err);

/* Exit code for an error kind: the one place the contract's codes live. */
int exit_code(enum tc_errkind k);

/* A tunnel NAME operand: 0, or -1 with a usage error naming it. */
int check_name(const char *name, struct tc_err *err);

#endif
