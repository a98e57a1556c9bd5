/* opts.c: global and source options, tool paths, and exit codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "state.h"
#include "tools.h"

int
exit_code(enum tc_errkind k)
{
	switch (k) {
	case TC_OK: return 0;
	case TC_ERR_RUNTIME: return 1;
	case TC_ERR_USAGE: return 2;
	case TC_ERR_NOTUP: return 3;
	case TC_ERR_INVALID: return 65;
	case TC_ERR_FETCH: return 69;
	case TC_ERR_LOCKED: return 75;
	case TC_ERR_PERM: return 77;
	}
	return 1;
}

static int
parse_uint(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int
opt_global(struct g *g, int c, const char *arg, struct tc_err *err)
{
	long v;

	switch (c) {
	case OPT_STATE_DIR:
		if (!arg[0] || arg[0] != '/')
			return tc_err_set(err, TC_ERR_USAGE, "--state-dir: '%s' is not an absolute path", arg);
		g->state_dir = arg;
		return 1;
	case OPT_SETTINGS:
		g->settings_path = arg;
		g->settings_explicit = 1;
		return 1;
	case OPT_JSON:
		g->json = 1;
		return 1;
	case OPT_WAIT:
		if (parse_uint(arg, 86400, &v) < 0)
			return tc_err_set(err, TC_ERR_USAGE, "--wait: '%s' is not a number of seconds", arg);
		g->wait_s = (int)v;
		return 1;
	case 'v':
		g->verbose++;
		tc_log_set_verbosity(g->verbose);
		return 1;
	case 'q':
		g->quiet = 1;
		tc_log_set_verbosity(-1);
		return 1;
	}
	return 0;
}

int
opt_source(struct source_opts *so, int c, const char *arg)
{
	switch (c) {
	case OPT_SOURCE:
		so->url = arg;
		so->given = 1;
		return 1;
	case OPT_ID:
		so->id = arg;
		so->given = 1;
		return 1;
	case OPT_SORACOM:
		so->soracom = arg ? arg : TC_SORACOM_DEFAULT;
		so->given = 1;
		return 1;
	case OPT_CACERT:
		so->cacert = arg;
		return 1;
	case OPT_INTERFACE:
		so->interface = arg;
		return 1;
	}
	return 0;
}

static const char *
setting(const char *v)
{
	return v && v[0] ? v : NULL;
}

int
source_resolve(struct g *g, struct source_opts *so, struct tc_source *src, struct tc_err *err)
{
	char echo[TC_ECHO_MAX + 4];

	memset(src, 0, sizeof(*src));
	src->cacert = so->cacert ? so->cacert : setting(g->set.cacert);
	src->interface = so->interface ? so->interface : setting(g->set.interface);
	if (src->interface && !tc_valid_ifname(src->interface)) {
		if (so->interface)
			return tc_err_set(err, TC_ERR_USAGE, "--interface: '%s' is not a network interface name",
					  tc_echo(src->interface, echo));
		return tc_err_set(err, TC_ERR_USAGE, "interface = '%s' in %s: not a network interface name",
				  tc_echo(src->interface, echo), g->settings_path);
	}
	if (so->given) {
		src->url = so->url;
		src->id = so->id;
		src->soracom = so->soracom;
	} else {
		const char *s = setting(g->set.soracom);

		src->url = setting(g->set.source);
		src->id = setting(g->set.id);
		if (s && strcmp(s, "no") != 0)
			src->soracom = strcmp(s, "yes") == 0 ? TC_SORACOM_DEFAULT : s;
	}
	if (src->soracom && (src->url || src->id))
		return tc_err_set(err, TC_ERR_USAGE, "--soracom: cannot be combined with --source or --id");
	if (src->soracom)
		return 0;
	if (!src->url)
		return tc_err_set(err, TC_ERR_USAGE,
				  "no config source: give --source URL --id ID, or --soracom (or set them in %s)",
				  g->settings_path);
	if (!src->id)
		return tc_err_set(err, TC_ERR_USAGE, "--id: required with --source");
	return 0;
}

int
ctx_tools(struct g *g, struct tc_ctx *c, const char *run_as, struct tc_err *err)
{
	const char *a = setting(g->set.autossh);

	c->supervisor = g->supervisor;
	c->ssh_path = setting(g->set.ssh) ? g->set.ssh : TC_SSH_DEFAULT;
	if (!tc_tool_usable(c->ssh_path))
		return tc_err_set(err, TC_ERR_RUNTIME, "ssh: %s is not an executable file", c->ssh_path);
	if (a && strcmp(a, "no") == 0)
		c->autossh_path = NULL;
	else if (a && !tc_tool_usable(a))
		return tc_err_set(err, TC_ERR_RUNTIME, "autossh: %s is not an executable file", a);
	else if (a)
		c->autossh_path = a;
	else
		c->autossh_path = tc_tool_usable(TC_AUTOSSH_DEFAULT) ? TC_AUTOSSH_DEFAULT : NULL;
	c->run_as = run_as ? run_as : setting(g->set.run_as);
	if (c->run_as && !tc_valid_user(c->run_as))
		return tc_err_set(err, TC_ERR_USAGE, "run_as: '%.32s' is not a user name", c->run_as);
	return 0;
}

int
globals_done(struct g *g, struct tc_err *err)
{
	const char *env = getenv("TUNNELCTL_STATE_DIR");

	if (tc_settings_read(g->settings_path, g->settings_explicit, &g->set, err) < 0)
		return -1;
	if (!g->state_dir && env && env[0])
		g->state_dir = env;
	if (!g->state_dir && g->set.state_dir[0])
		g->state_dir = g->set.state_dir;
	if (!g->state_dir)
		g->state_dir = TC_STATE_DIR_DEFAULT;
	if (g->state_dir[0] != '/')
		return tc_err_set(err, TC_ERR_USAGE, "state dir '%s' is not an absolute path", g->state_dir);
	return 0;
}

int
opt_globals_only(struct g *g, const char *cmd, int argc, char **argv, struct tc_err *err)
{
	static const struct option longopts[] = { GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":" GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if ((r = opt_global(g, ch, optarg, err)) < 0)
			return -1;
		if (r)
			continue;
		if (ch == 'h') {
			usage_for(cmd);
			return 1;
		}
		if (ch == ':')
			return tc_err_set(err, TC_ERR_USAGE, "%s: needs a value", argv[optind - 1]);
		return tc_err_set(err, TC_ERR_USAGE, "unknown option '%s'", argv[optind - 1]);
	}
	return 0;
}
