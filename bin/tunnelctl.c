/* tunnelctl.c: main() and the command table, which drives both dispatch and
 * the usage text, so the two cannot drift apart. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "opts.h"
#include "tools.h"

#define MUTATING 0x1u		/* must finish even if the caller's session vanishes */
#define NO_SETTINGS 0x2u	/* runs without reading the settings file */

struct cmd {
	const char *name;
	cmd_fn fn;
	unsigned accepts;	/* option groups (opts.h) */
	unsigned flags;
	const char *synopsis;
	const char *summary;
};

static int cmd_help(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err);

static const struct cmd cmds[] = {
	{ "start", cmd_start, OG_GLOBAL | OG_TUNNEL | OG_SOURCE, MUTATING,
	  "start NAME [TUNNEL OPTIONS]", "start one tunnel (from flags, or NAME from --source)" },
	{ "stop", cmd_stop, OG_GLOBAL | OG_ALL, MUTATING,
	  "stop  [NAME...] [--all]", "stop tunnels; idempotent (an unknown NAME exits 0)" },
	{ "restart", cmd_restart, OG_GLOBAL, MUTATING,
	  "restart NAME", "stop then start with the same spec" },
	{ "status", cmd_status, OG_GLOBAL, 0,
	  "status [NAME...] [--json]", "report tunnels; exit 3 if a named one is not up" },
	{ "sync", cmd_sync, OG_GLOBAL | OG_SOURCE | OG_SPLAY, MUTATING,
	  "sync  [SOURCE OPTIONS]", "converge running tunnels to the fetched config" },
	{ "watch", cmd_watch, OG_GLOBAL | OG_SOURCE | OG_WATCH, MUTATING,
	  "watch [SOURCE OPTIONS]", "keep converging: on an interval, on push, on link-up" },
	{ "key", cmd_key, OG_GLOBAL, 0,
	  "key   [--json]", "create the device's own key if missing; print its public key" },
	{ "version", cmd_version, OG_GLOBAL, 0,
	  "version", "print version and the libraries' versions" },
	{ "help", cmd_help, OG_GLOBAL, NO_SETTINGS,
	  "help [COMMAND]", "this text, or one command's" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct {
	unsigned group;
	const char *text;
} option_help[] = {
	{ OG_GLOBAL, "global options: --state-dir DIR, --settings FILE, --wait SECONDS, -v, -q, --json, -h, -V\n" },
	{ OG_TUNNEL, "tunnel options: --server [USER@]HOST[:PORT] --remote-port PORT [--remote-bind ADDR]\n"
		     "                --target HOST:PORT [--via direct|dnat --local-port PORT] [--key FILE]\n"
		     "                [--certificate FILE] [--gate] [--host-key 'TYPE BASE64']\n"
		     "                [--timeout DURATION] [--keepalive S[,C]] [--run-as USER]\n" },
	{ OG_SOURCE, "source options: --source URL --id ID | --soracom[=BASE]  [--cacert FILE]\n"
		     "                [--interface IFACE]\n" },
	{ OG_SPLAY, "sync options:   --splay SECONDS\n" },
	{ OG_WATCH, "watch options:  --interval DURATION\n" },
	{ OG_ALL, "stop options:   --all\n" },
};

static const struct cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
command_line(const struct cmd *c)
{
	printf("  %-30s%s\n", c->synopsis, c->summary);
}

/* The usage, or one command's (its line and the options it takes). */
static void
usage(const struct cmd *only)
{
	unsigned groups = only ? only->accepts : ~0u;
	size_t i;

	printf("usage: tunnelctl [GLOBAL OPTIONS] %s\n\n", only ? only->synopsis : "COMMAND [ARGS]");
	for (i = 0; i < NCMDS; i++)
		if (!only || &cmds[i] == only)
			command_line(&cmds[i]);
	putchar('\n');
	for (i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
		if (option_help[i].group & groups)
			fputs(option_help[i].text, stdout);
	puts("\nSee tunnelctl(8).");
}

static int
cmd_help(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	const struct cmd *c = NULL;
	char e[TC_ECHO_MAX + 4];

	if (argc > 1)
		return tc_err_set(err, TC_ERR_USAGE, "name one command at most");
	if (argc == 1 && (c = find_cmd(argv[0])) == NULL)
		return tc_err_set(err, TC_ERR_USAGE, "unknown command '%s' (see tunnelctl help)",
				  tc_echo(argv[0], e));
	usage(c);
	return 0;
}

static int
fail(const char *cmd, const struct tc_err *err)
{
	if (cmd)
		tc_log(TC_LOG_ERR, "%s: %s", cmd, err->msg);
	else
		tc_log(TC_LOG_ERR, "%s", err->msg);
	return exit_code(err->kind);
}

/* With 0-2 closed by the caller, the next open() would take them and a
 * printf would land in a state file. */
static void
std_fds(void)
{
	for (;;) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0 || fd > 2) {
			if (fd > 2)
				close(fd);
			return;
		}
	}
}

/* Run command c on argv[0..argc) (argv[0] is its word). */
static int
run(struct g *g, const struct cmd *c, int argc, char **argv)
{
	struct tc_err err = { TC_OK, "" };
	struct opts o;
	int first, r;

	memset(&o, 0, sizeof(o));
	r = opt_parse(g, c->name, c->accepts, argc, argv, &o, &first, &err);
	if (r < 0)
		return fail(c->name, &err);
	if (r == OPT_HELP) {
		usage(c);
		return 0;
	}
	if (!(c->flags & NO_SETTINGS) && globals_done(g, &err) < 0)
		return fail(c->name, &err);
	if (c->flags & MUTATING) {
		/* ansible may restart the very tunnel it runs over: losing the
		 * terminal or stdout must not stop the work half way. */
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
	}
	r = c->fn(g, &o, argc - first, argv + first, &err);
	if (r < 0)
		r = fail(c->name, &err);
	/* Every line printed must have reached stdout: a script saving `status
	 * --json` to a full disk must not get success and an empty file. */
	if (out_failed()) {
		tc_log(TC_LOG_ERR, "%s: stdout: %s", c->name, strerror(out_failed()));
		if (r == 0)
			r = exit_code(TC_ERR_RUNTIME);
	}
	return r;
}

int
main(int argc, char **argv)
{
	struct tc_err err = { TC_OK, "" };
	const struct cmd *c;
	struct opts o;
	struct g g;
	char e[TC_ECHO_MAX + 4];
	int first, r;

	std_fds();
	tc_no_core();
	memset(&g, 0, sizeof(g));
	g.wait_s = TC_LOCK_WAIT_DEFAULT;
	g.settings_path = TC_SETTINGS_DEFAULT;
	tc_log_open("tunnelctl", 0);
	tc_helper_path("tunnelctl-supervise", TC_PKGLIBEXECDIR, g.supervisor, sizeof(g.supervisor));

	memset(&o, 0, sizeof(o));
	r = opt_parse(&g, NULL, OG_GLOBAL | OG_VERSION, argc, argv, &o, &first, &err);
	if (r < 0)
		return fail(NULL, &err);
	if (r == OPT_HELP) {
		usage(NULL);
		return 0;
	}
	/* -V is the command word `version`: what follows is its arguments. */
	if (r == OPT_VERSION)
		return run(&g, find_cmd("version"), argc - first + 1, argv + first - 1);
	if (first >= argc) {
		tc_err_set(&err, TC_ERR_USAGE, "no command given (see tunnelctl help)");
		return fail(NULL, &err);
	}
	c = find_cmd(argv[first]);
	if (c == NULL) {
		tc_err_set(&err, TC_ERR_USAGE, "unknown command '%s' (see tunnelctl help)",
			   tc_echo(argv[first], e));
		return fail(NULL, &err);
	}
	return run(&g, c, argc - first, argv + first);
}
