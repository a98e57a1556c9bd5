/* opts.c: one table of every option, one getopt loop for every command,
 * and what commands share after it (settings, source, tools, exit codes). */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "opts.h"
#include "state.h"
#include "devkey.h"
#include "tools.h"

#define WAIT_MAX_S 86400	/* --wait: a day; longer is a typo */
#define NO_SLOT ((size_t)-1)

/* getopt_long's return value for each long option (short ones use their letter). */
enum {
	ID_STATE_DIR = 1000, ID_SETTINGS, ID_JSON, ID_WAIT,
	ID_SERVER, ID_REMOTE_PORT, ID_REMOTE_BIND, ID_TARGET, ID_VIA, ID_LOCAL_PORT,
	ID_KEY, ID_HOST_KEY, ID_TIMEOUT, ID_KEEPALIVE, ID_RUN_AS,
	ID_SOURCE, ID_ID, ID_SORACOM, ID_CACERT, ID_INTERFACE,
	ID_SPLAY, ID_ALL, ID_CERTIFICATE, ID_GATE, ID_INTERVAL,
};

struct optdef {
	const char *name;
	int has_arg;
	int id;
	unsigned group;
	size_t slot;		/* offsetof(struct opts, X) of a string value, or NO_SLOT */
	int *(*counter)(struct opts *);	/* which "given" count it adds to, or NULL */
};

static int *tunnel_flag(struct opts *o) { return &o->tunnel_flags; }
static int *source_flag(struct opts *o) { return &o->source_flags; }

#define STR(field) offsetof(struct opts, field)
static const struct optdef table[] = {
	{ "state-dir", required_argument, ID_STATE_DIR, OG_GLOBAL, NO_SLOT, NULL },
	{ "settings", required_argument, ID_SETTINGS, OG_GLOBAL, NO_SLOT, NULL },
	{ "json", no_argument, ID_JSON, OG_GLOBAL, NO_SLOT, NULL },
	{ "wait", required_argument, ID_WAIT, OG_GLOBAL, NO_SLOT, NULL },
	{ "verbose", no_argument, 'v', OG_GLOBAL, NO_SLOT, NULL },
	{ "quiet", no_argument, 'q', OG_GLOBAL, NO_SLOT, NULL },
	{ "help", no_argument, 'h', OG_GLOBAL, NO_SLOT, NULL },
	{ "version", no_argument, 'V', OG_VERSION, NO_SLOT, NULL },
	{ "server", required_argument, ID_SERVER, OG_TUNNEL, STR(server), tunnel_flag },
	{ "remote-port", required_argument, ID_REMOTE_PORT, OG_TUNNEL, STR(remote_port), tunnel_flag },
	{ "remote-bind", required_argument, ID_REMOTE_BIND, OG_TUNNEL, STR(remote_bind), tunnel_flag },
	{ "target", required_argument, ID_TARGET, OG_TUNNEL, STR(target), tunnel_flag },
	{ "via", required_argument, ID_VIA, OG_TUNNEL, STR(via), tunnel_flag },
	{ "local-port", required_argument, ID_LOCAL_PORT, OG_TUNNEL, STR(local_port), tunnel_flag },
	{ "key", required_argument, ID_KEY, OG_TUNNEL, STR(key), tunnel_flag },
	{ "host-key", required_argument, ID_HOST_KEY, OG_TUNNEL, STR(host_key), tunnel_flag },
	{ "timeout", required_argument, ID_TIMEOUT, OG_TUNNEL, STR(timeout), tunnel_flag },
	{ "keepalive", required_argument, ID_KEEPALIVE, OG_TUNNEL, STR(keepalive), tunnel_flag },
	{ "run-as", required_argument, ID_RUN_AS, OG_TUNNEL, STR(run_as), NULL },
	{ "certificate", required_argument, ID_CERTIFICATE, OG_TUNNEL, STR(certificate), tunnel_flag },
	{ "gate", no_argument, ID_GATE, OG_TUNNEL, NO_SLOT, NULL },
	{ "source", required_argument, ID_SOURCE, OG_SOURCE, STR(source), source_flag },
	{ "id", required_argument, ID_ID, OG_SOURCE, STR(id), source_flag },
	{ "soracom", optional_argument, ID_SORACOM, OG_SOURCE, STR(soracom), source_flag },
	{ "cacert", required_argument, ID_CACERT, OG_SOURCE, STR(cacert), NULL },
	{ "interface", required_argument, ID_INTERFACE, OG_SOURCE, STR(interface), NULL },
	{ "splay", required_argument, ID_SPLAY, OG_SPLAY, STR(splay), NULL },
	{ "all", no_argument, ID_ALL, OG_ALL, NO_SLOT, NULL },
	{ "interval", required_argument, ID_INTERVAL, OG_WATCH, STR(interval), NULL },
};
#undef STR
#define NDEFS (sizeof(table) / sizeof(table[0]))

static const struct optdef *
def_of(int id)
{
	size_t i;

	for (i = 0; i < NDEFS; i++)
		if (table[i].id == id)
			return &table[i];
	return NULL;
}

/* getopt_long's view of the table, built once. */
static const struct option *
longopts(void)
{
	static struct option lo[NDEFS + 1];
	size_t i;

	if (lo[0].name == NULL)
		for (i = 0; i < NDEFS; i++)
			lo[i] = (struct option){ table[i].name, table[i].has_arg, NULL, table[i].id };
	return lo;
}

static int
global_value(struct g *g, const struct optdef *d, const char *arg, struct tc_err *err)
{
	unsigned long long v;

	switch (d->id) {
	case ID_STATE_DIR:
		if (arg[0] != '/')
			return tc_err_set(err, TC_ERR_USAGE, "--state-dir: '%.64s' is not an absolute path", arg);
		g->state_dir = arg;
		break;
	case ID_SETTINGS:
		g->settings_path = arg;
		g->settings_explicit = 1;
		break;
	case ID_JSON:
		g->json = 1;
		break;
	case ID_WAIT:
		if (tc_parse_uint(arg, WAIT_MAX_S, &v) < 0)
			return tc_err_set(err, TC_ERR_USAGE, "--wait: '%.32s' is not a number of seconds (0-%d)",
					  arg, WAIT_MAX_S);
		g->wait_s = (int)v;
		break;
	case 'v':
		g->verbose++;
		tc_log_set_verbosity(g->verbose);
		break;
	case 'q':
		g->quiet = 1;
		tc_log_set_verbosity(-1);
		break;
	}
	return 0;
}

int
opt_parse(struct g *g, const char *cmd, unsigned accepts, int argc, char **argv,
	  struct opts *o, int *first, struct tc_err *err)
{
	const struct option *lo = longopts();
	const char *shortopts = cmd ? ":vqh" : "+:vqhV";
	int c, r = OPT_OK;

	opterr = 0;
	optind = 0;	/* glibc: full reinitialisation, also of its permutation state */
	for (;;) {
		const struct optdef *d;

		c = getopt_long(argc, argv, shortopts, lo, NULL);
		if (c == -1)
			break;
		if (c == '?')
			return tc_err_set(err, TC_ERR_USAGE, "unknown option '%.40s' (see tunnelctl help%s%s)",
					  argv[optind - 1], cmd ? " " : "", cmd ? cmd : "");
		d = def_of(c == ':' ? optopt : c);
		if (d == NULL)
			return tc_err_set(err, TC_ERR_USAGE, "unknown option '%.40s'", argv[optind - 1]);
		if (!(d->group & accepts))
			return tc_err_set(err, TC_ERR_USAGE, "--%s: not an option of %s (see tunnelctl help%s%s)",
					  d->name, cmd ? cmd : "tunnelctl before the command",
					  cmd ? " " : "", cmd ? cmd : "");
		if (c == ':')
			return tc_err_set(err, TC_ERR_USAGE, "--%s: needs a value", d->name);
		if (c == 'h') {
			r = OPT_HELP;
			continue;
		}
		if (c == 'V') {
			r = OPT_VERSION;
			break;
		}
		if (d->group == OG_GLOBAL) {
			if (global_value(g, d, optarg, err) < 0)
				return -1;
			continue;
		}
		if (d->id == ID_ALL)
			o->all = 1;
		else if (d->id == ID_GATE)
			o->gate = 1;
		else if (d->id == ID_SORACOM)
			o->soracom = optarg ? optarg : TC_SORACOM_DEFAULT;
		else if (d->slot != NO_SLOT)
			*(const char **)((char *)o + d->slot) = optarg;
		if (d->counter)
			(*d->counter(o))++;
	}
	*first = optind;
	return r;
}

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

int
check_name(const char *name, struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];

	if (tc_valid_name(name))
		return 0;
	return tc_err_set(err, TC_ERR_USAGE, "NAME: '%s' is not a tunnel name ([a-z0-9][a-z0-9_-]{0,31})",
			  tc_echo(name, e));
}

static const char *
setting(const char *v)
{
	return v && v[0] ? v : NULL;
}

int
source_resolve(const struct g *g, const struct opts *o, struct tc_source *src, struct tc_err *err)
{
	char echo[TC_ECHO_MAX + 4];

	memset(src, 0, sizeof(*src));
	src->cacert = o->cacert ? o->cacert : setting(g->set.cacert);
	src->interface = o->interface ? o->interface : setting(g->set.interface);
	if (src->interface && !tc_valid_ifname(src->interface)) {
		if (o->interface)
			return tc_err_set(err, TC_ERR_USAGE, "--interface: '%s' is not a network interface name",
					  tc_echo(src->interface, echo));
		return tc_err_set(err, TC_ERR_USAGE, "interface = '%s' in %s: not a network interface name",
				  tc_echo(src->interface, echo), g->settings_path);
	}
	if (o->source_flags) {
		src->url = o->source;
		src->id = o->id;
		src->soracom = o->soracom;
	} else {
		const char *s = setting(g->set.soracom);

		src->url = setting(g->set.source);
		src->id = setting(g->set.id);
		if (s && strcmp(s, "no") != 0)
			src->soracom = strcmp(s, "yes") == 0 ? TC_SORACOM_DEFAULT : s;
	}
	src->mqtt_cafile = setting(g->set.mqtt_cafile);
	src->mqtt_certfile = setting(g->set.mqtt_certfile);
	src->mqtt_keyfile = setting(g->set.mqtt_keyfile);
	src->mqtt_username = setting(g->set.mqtt_username);
	src->mqtt_password_file = setting(g->set.mqtt_password_file);
	if (setting(g->set.mqtt_keepalive)) {
		unsigned long long ka;

		/* MQTT's keepalive is 16 bits; under 5 s it is only chatter. */
		if (tc_parse_uint(g->set.mqtt_keepalive, 65535, &ka) < 0 || ka < 5)
			return tc_err_set(err, TC_ERR_USAGE, "mqtt_keepalive = '%s' in %s: not 5-65535 seconds",
					  tc_echo(g->set.mqtt_keepalive, echo), g->settings_path);
		src->mqtt_keepalive = (unsigned)ka;
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
ctx_tools(const struct g *g, struct tc_ctx *c, const char *run_as, struct tc_err *err)
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
	c->devkey_path = setting(g->set.key) ? g->set.key : TC_DEVKEY_DEFAULT;
	c->run_as = run_as ? run_as : setting(g->set.run_as);
	if (c->run_as && !tc_valid_user(c->run_as))
		return tc_err_set(err, TC_ERR_USAGE, "run_as: '%.32s' is not a user name", c->run_as);
	return 0;
}

int
settings_to_specs(const struct g *g, struct tc_spec *specs, size_t n, struct tc_err *err)
{
	const char *v = setting(g->set.gate);
	char e[TC_ECHO_MAX + 4];
	size_t i;

	if (!v || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "yes") != 0)
		return tc_err_set(err, TC_ERR_USAGE, "gate = '%s' in %s: not yes or no", tc_echo(v, e),
				  g->settings_path);
	for (i = 0; i < n; i++)
		specs[i].gate = 1;
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
