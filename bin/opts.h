/* opts.h: option tables shared by the commands. */
#ifndef TC_OPTS_H
#define TC_OPTS_H

#include <getopt.h>

#include "cmd.h"
#include "source.h"
#include "spec.h"
#include "tunnel.h"

/* Global options, accepted before the command and after it. Values >= 1000. */
enum {
	OPT_STATE_DIR = 1000, OPT_SETTINGS, OPT_JSON, OPT_WAIT,
	OPT_SERVER, OPT_REMOTE_PORT, OPT_REMOTE_BIND, OPT_TARGET, OPT_VIA, OPT_LOCAL_PORT,
	OPT_KEY, OPT_HOST_KEY, OPT_TIMEOUT, OPT_KEEPALIVE, OPT_SOURCE, OPT_ID, OPT_SORACOM,
	OPT_SPLAY, OPT_CACERT, OPT_INTERFACE, OPT_RUN_AS, OPT_ALL,
};

#define GLOBAL_LONGOPTS \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
	{ "settings", required_argument, NULL, OPT_SETTINGS }, \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "wait", required_argument, NULL, OPT_WAIT }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

#define GLOBAL_SHORTOPTS "vqhV"

#define SOURCE_LONGOPTS \
	{ "source", required_argument, NULL, OPT_SOURCE }, \
	{ "id", required_argument, NULL, OPT_ID }, \
	{ "soracom", optional_argument, NULL, OPT_SORACOM }, \
	{ "cacert", required_argument, NULL, OPT_CACERT }, \
	{ "interface", required_argument, NULL, OPT_INTERFACE }

/* Handle a global option (c) seen by any command's getopt loop.
 * 1 if handled, 0 if not a global option, -1 on a bad value. */
int opt_global(struct g *g, int c, const char *arg, struct tc_err *err);

/* The source options after settings and flags are merged. */
struct source_opts {
	const char *url, *id, *soracom, *cacert, *interface;
	int given;		/* any of --source/--id/--soracom on the command line */
};
int opt_source(struct source_opts *so, int c, const char *arg);
/* Fill src from flags, then settings; -1 (usage) when neither names a source. */
int source_resolve(struct g *g, struct source_opts *so, struct tc_source *src, struct tc_err *err);

/* ssh/autossh/run_as for a new tunnel, from the settings. */
int ctx_tools(struct g *g, struct tc_ctx *c, const char *run_as, struct tc_err *err);

/* Exit code for an error kind: the one place the contract's codes live. */
int exit_code(enum tc_errkind k);

/* The option loop of a command that takes only global options. Returns 0
 * (optind at the first operand), 1 when help was printed, -1 on error. */
int opt_globals_only(struct g *g, const char *cmd, int argc, char **argv, struct tc_err *err);

/* After a command's options: read the settings file and settle the state dir
 * (flag, then TUNNELCTL_STATE_DIR, then the settings, then the default). */
int globals_done(struct g *g, struct tc_err *err);

#endif
