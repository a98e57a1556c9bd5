/* cmd.h: what every command gets: the global options and the settings. */
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

typedef int (*cmd_fn)(struct g *g, int argc, char **argv, struct tc_err *err);

int cmd_start(struct g *g, int argc, char **argv, struct tc_err *err);
int cmd_restart(struct g *g, int argc, char **argv, struct tc_err *err);
int cmd_stop(struct g *g, int argc, char **argv, struct tc_err *err);
int cmd_status(struct g *g, int argc, char **argv, struct tc_err *err);
int cmd_sync(struct g *g, int argc, char **argv, struct tc_err *err);
int cmd_version(struct g *g, int argc, char **argv, struct tc_err *err);
int cmd_help(struct g *g, int argc, char **argv, struct tc_err *err);

/* Print to stdout unless --quiet; a vanished stdout (EPIPE) is ignored so a
 * command whose caller went away still finishes its work. */
void out_print(const struct g *g, char *heap_text);

void usage_for(const char *cmd);

#endif
