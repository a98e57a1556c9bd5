/* gate_opts.c: tunnelctl-gate's one option table and one getopt loop for
 * every command, so all answer a bad option the same way (as tunnelctl's
 * bin/opts.c does). */
#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "gate.h"

#define NO_SLOT ((size_t)-1)

static const struct gopt {
	const char *name;
	int has_arg;
	unsigned bit;
	size_t slot;		/* offsetof(struct gate_opts, X) of a value, or NO_SLOT */
} table[] = {
	{ "device", required_argument, GO_DEVICE, offsetof(struct gate_opts, device) },
	{ "ports", required_argument, GO_PORTS, offsetof(struct gate_opts, ports) },
	{ "max-time", required_argument, GO_MAX_TIME, offsetof(struct gate_opts, max_time) },
	{ "registry", required_argument, GO_REGISTRY, offsetof(struct gate_opts, registry) },
	{ "bind", required_argument, GO_BIND, offsetof(struct gate_opts, bind) },
	{ "key", required_argument, GO_KEY, offsetof(struct gate_opts, key) },
	{ "reason", required_argument, GO_REASON, offsetof(struct gate_opts, reason) },
	{ "domain", required_argument, GO_DOMAIN, offsetof(struct gate_opts, domain) },
	{ "json", no_argument, GO_JSON, NO_SLOT },
	{ "html", no_argument, GO_HTML, NO_SLOT },
	{ "nginx-map", no_argument, GO_NGINX_MAP, NO_SLOT },
	{ "help", no_argument, GO_HELP, NO_SLOT },
};
#define NOPTS (sizeof(table) / sizeof(table[0]))

int
gate_opts_parse(const char *cmd, unsigned accepts, int argc, char **argv, struct gate_opts *o,
		int *first, struct tc_err *err)
{
	static struct option lo[NOPTS + 1];
	size_t i;
	int c, help = 0;

	if (lo[0].name == NULL)
		for (i = 0; i < NOPTS; i++)
			lo[i] = (struct option){ table[i].name, table[i].has_arg, NULL, (int)i };
	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 0;	/* glibc: a full reinitialisation, also of its permutation state */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		const struct gopt *d;

		if (c == 'h')
			c = (int)(NOPTS - 1);	/* -h is --help */
		if (c == '?')
			return tc_err_set(err, TC_ERR_USAGE, "unknown option '%.40s' (see %s help %s)",
					  argv[optind - 1], GATE_PROG, cmd);
		d = &table[c == ':' ? optopt : c];
		if (!(d->bit & (accepts | GO_HELP)))
			return tc_err_set(err, TC_ERR_USAGE, "--%s: not an option of %s (see %s help %s)",
					  d->name, cmd, GATE_PROG, cmd);
		if (c == ':')
			return tc_err_set(err, TC_ERR_USAGE, "--%s: needs a value", d->name);
		if (d->slot != NO_SLOT)
			*(const char **)((char *)o + d->slot) = optarg;
		o->given |= d->bit;
		help |= d->bit == GO_HELP;
	}
	*first = optind;
	return help;
}
