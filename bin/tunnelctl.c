/* tunnelctl.c: main(): global options, the command table, exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "opts.h"
#include "state.h"
#include "supervise.h"

static const struct cmd {
	const char *name;
	cmd_fn fn;
	int mutating;		/* must finish even if the caller's session vanishes */
} cmds[] = {
	{ "start", cmd_start, 1 },
	{ "stop", cmd_stop, 1 },
	{ "restart", cmd_restart, 1 },
	{ "status", cmd_status, 0 },
	{ "sync", cmd_sync, 1 },
	{ "version", cmd_version, 0 },
	{ "help", cmd_help, 0 },
};

void
out_print(const struct g *g, char *text)
{
	if (!text) {
		tc_log(TC_LOG_ERR, "out of memory");
		return;
	}
	if (!g->quiet && text[0]) {
		fputs(text, stdout);
		if (text[strlen(text) - 1] != '\n')
			fputc('\n', stdout);
		fflush(stdout);
	}
	free(text);
}

static const char usage_text[] =
	"usage: tunnelctl [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"  start NAME [TUNNEL OPTIONS]   start one tunnel (from flags, or NAME from --source)\n"
	"  stop  [NAME...] [--all]       stop tunnels; idempotent (an unknown NAME exits 0)\n"
	"  restart NAME                  stop then start with the same spec\n"
	"  status [NAME...] [--json]     report tunnels; exit 3 if a named one is not up\n"
	"  sync  [SOURCE OPTIONS]        converge running tunnels to the fetched config\n"
	"  version                       print version and the libraries' versions\n"
	"  help [COMMAND]\n"
	"\n"
	"global options: --state-dir DIR, --settings FILE, --wait SECONDS, -v, -q, --json, -h, -V\n"
	"tunnel options: --server [USER@]HOST[:PORT] --remote-port PORT [--remote-bind ADDR]\n"
	"                --target HOST:PORT [--via direct|dnat --local-port PORT] --key FILE\n"
	"                [--host-key 'TYPE BASE64'] [--timeout DURATION] [--keepalive S[,C]]\n"
	"                [--run-as USER]\n"
	"source options: --source URL --id ID | --soracom[=BASE]  [--splay SECONDS] [--cacert FILE]\n"
	"                [--interface IFACE]\n"
	"\n"
	"See tunnelctl(8).\n";

void
usage_for(const char *cmd)
{
	(void)cmd;
	fputs(usage_text, stdout);
}

int
cmd_help(struct g *g, int argc, char **argv, struct tc_err *err)
{
	usage_for(argc > 1 ? argv[1] : NULL);
	return 0;
}

static const struct cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* The supervisor program: beside this binary (a build tree), else where
 * `make install` puts it. */
static void
supervisor_exe(struct g *g)
{
	ssize_t n = readlink("/proc/self/exe", g->supervisor, sizeof(g->supervisor) - 1);
	char *slash;
	int r;

	g->supervisor[n > 0 ? n : 0] = '\0';
	slash = strrchr(g->supervisor, '/');
	if (slash) {
		size_t room = sizeof(g->supervisor) - (size_t)(slash + 1 - g->supervisor);

		r = snprintf(slash + 1, room, "tunnelctl-supervise");
		if (r > 0 && (size_t)r < room && access(g->supervisor, X_OK) == 0)
			return;
	}
	snprintf(g->supervisor, sizeof(g->supervisor), "%s/tunnelctl-supervise", TC_PKGLIBEXECDIR);
}

static int
fail(struct g *g, const char *cmd, const struct tc_err *err)
{
	if (cmd)
		tc_log(TC_LOG_ERR, "%s: %s", cmd, err->msg);
	else
		tc_log(TC_LOG_ERR, "%s", err->msg);
	return exit_code(err->kind);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct tc_err err = { TC_OK, "" };
	const struct cmd *cmd;
	struct g g;
	int c, r;

	/* With 0-2 closed by the caller, the next open() would take them and a
	 * printf would land in a state file. */
	for (;;) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0 || fd > 2) {
			if (fd > 2)
				close(fd);
			break;
		}
	}
	tc_no_core();
	memset(&g, 0, sizeof(g));
	g.wait_s = TC_LOCK_WAIT_DEFAULT;
	g.settings_path = TC_SETTINGS_DEFAULT;
	tc_log_open("tunnelctl", 0);
	supervisor_exe(&g);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+" GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == 'h') {
			usage_for(NULL);
			return 0;
		}
		if (c == 'V') {
			char *v[] = { "version", NULL };

			optind = 0;
			return cmd_version(&g, 1, v, &err) < 0 ? fail(&g, "version", &err) : 0;
		}
		r = opt_global(&g, c, optarg, &err);
		if (r < 0)
			return fail(&g, NULL, &err);
		if (r == 0) {
			tc_err_set(&err, TC_ERR_USAGE, "unknown option '%s' (see tunnelctl help)",
				   argv[optind - 1]);
			return fail(&g, NULL, &err);
		}
	}
	if (optind >= argc) {
		tc_err_set(&err, TC_ERR_USAGE, "no command given (see tunnelctl help)");
		return fail(&g, NULL, &err);
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		tc_err_set(&err, TC_ERR_USAGE, "unknown command '%.32s' (see tunnelctl help)", argv[optind]);
		return fail(&g, NULL, &err);
	}
	if (cmd->mutating) {
		/* ansible may restart the very tunnel it runs over: losing the
		 * terminal or stdout must not stop the work half way. */
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
	}
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: full reinitialisation for the command's own parse */
	r = cmd->fn(&g, argc, argv, &err);
	if (r < 0)
		return fail(&g, cmd->name, &err);
	return r;
}

