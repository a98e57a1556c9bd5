/* tunnelctl-gate.c: main(): the command table, and the login-shell entry
 * (`tunnelctl-gate -c "COMMAND"`) that lets the devices' account have the
 * gate itself as its shell, as git-shell does, so no shell ever runs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate.h"
#include "log.h"

static const struct gate_cmd {
	const char *name;
	gate_fn fn;
	unsigned accepts;	/* GO_* options it takes */
	const char *args;
	const char *summary;
} cmds[] = {
	{ "serve", gate_serve, GO_DEVICE | GO_PORTS | GO_MAX_TIME | GO_REGISTRY, "--device ID [--ports PORT[,PORT...]] [--max-time DURATION] [--registry DIR]",
	  "hold one device's session (sshd's forced command)" },
	{ "list", gate_list, GO_JSON | GO_HTML | GO_NGINX_MAP | GO_DOMAIN | GO_REGISTRY, "[--json | --html [--domain DOMAIN] | --nginx-map --domain DOMAIN] [--registry DIR]",
	  "show the live sessions" },
	{ "close", gate_close, GO_REASON | GO_REGISTRY, "SESSION|DEVICE[/TUNNEL] [--reason TEXT] [--registry DIR]",
	  "end sessions; the device is told they were revoked" },
	{ "authorized-key", gate_authorized_key,
	  GO_DEVICE | GO_PORTS | GO_BIND | GO_MAX_TIME | GO_REGISTRY | GO_KEY,
	  "--device ID --ports PORT[,PORT...] [--bind ADDR] [--max-time DURATION]\n"
	  "                                 [--registry DIR] [--key 'TYPE BASE64 [COMMENT]']",
	  "print the authorized_keys line for a device's key" },
	{ "hello", gate_hello, 0, "1 tunnel=NAME target=HOST:PORT expires=UNIXTIME",
	  "what a device sends; reaches serve only through a forced command" },
	{ "help", gate_help, 0, "[COMMAND]", "this text" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Longest words of the forced command that -c accepts: the program, serve
 * and its options (each a flag and a value). */
#define SHELL_WORDS_MAX 16
#define SHELL_CMD_MAX 1024

static const struct gate_cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

void
gate_usage(const char *cmd, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	size_t i;

	fprintf(f, "usage: %s COMMAND [ARGS]\n\n", GATE_PROG);
	for (i = 0; i < NCMDS; i++)
		if (!cmd || strcmp(cmd, cmds[i].name) == 0)
			fprintf(f, "  %s %s\n      %s\n", cmds[i].name, cmds[i].args, cmds[i].summary);
	fprintf(f, "\nSee tunnelctl-gate(8).\n");
}

int
gate_help(const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	(void)o;
	if (argc > 1 || (argc == 1 && !find_cmd(argv[0])))
		return tc_err_set(err, TC_ERR_USAGE, "give one command of %s help", GATE_PROG);
	gate_usage(argc == 1 ? argv[0] : NULL, 0);
	return 0;
}

int
gate_exit_code(enum tc_errkind k)
{
	switch (k) {
	case TC_OK: return 0;
	case TC_ERR_USAGE: return 2;
	case TC_ERR_NOTUP: return 3;
	case TC_ERR_PERM: return 77;
	default: return 1;
	}
}

const char *
gate_registry(const char *flag)
{
	const char *e = getenv("TUNNELCTL_GATE_REGISTRY");

	if (flag)
		return flag;
	return e && e[0] ? e : "/run/tunnelctl-gate";
}


static int
run(const struct gate_cmd *c, int argc, char **argv)
{
	struct tc_err err = { TC_OK, "" };
	struct gate_opts o;
	int first, r;

	/* hello's words are the device's, not options: never parsed here. */
	if (c->fn == gate_hello)
		return c->fn(NULL, argc - 1, argv + 1, &err);
	r = gate_opts_parse(c->name, c->accepts, argc, argv, &o, &first, &err);
	if (r == 1) {
		gate_usage(c->name, 0);
		return 0;
	}
	if (r == 0)
		r = c->fn(&o, argc - first, argv + first, &err);
	if (r >= 0)
		return r;
	tc_log(TC_LOG_ERR, "%s: %s", c->name, err.msg);
	return gate_exit_code(err.kind);
}

/* sshd runs a forced command as `SHELL -c "COMMAND"`. With the gate as the
 * account's shell, COMMAND is the operator's command= text (trusted; the
 * device's own command is in SSH_ORIGINAL_COMMAND): split on spaces, it must
 * be this program's `serve`. Anything else (an interactive login, a key
 * without command=) is refused: the account serves tunnels only. */
static int
login_shell(const char *command)
{
	char buf[SHELL_CMD_MAX + 1], *word[SHELL_WORDS_MAX + 1], *p, *save = NULL;
	const char *base;
	int n = 0;

	if (!command || strlen(command) > SHELL_CMD_MAX)
		goto refuse;
	memcpy(buf, command, strlen(command) + 1);
	for (p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		if (n == SHELL_WORDS_MAX)
			goto refuse;
		word[n++] = p;
	}
	word[n] = NULL;
	if (n < 2 || strcmp(word[1], "serve") != 0)
		goto refuse;
	base = strrchr(word[0], '/');
	base = base ? base + 1 : word[0];
	if (strcmp(base, GATE_PROG) != 0)
		goto refuse;
	return run(find_cmd("serve"), n - 1, word + 1);
refuse:
	fprintf(stderr, "%s: refused: this account only serves tunnels (its keys need "
		"command=\"... serve --device ID\"; see tunnelctl-gate(8))\n", GATE_PROG);
	tc_log(TC_LOG_INFO, "refused a session that was not a forced serve command");
	return 1;
}

int
main(int argc, char **argv)
{
	const struct gate_cmd *c;

	/* With 0-2 closed by the caller, the next open() would take them. */
	for (;;) {
		int fd = open("/dev/null", O_RDWR);

		if (fd < 0 || fd > 2) {
			if (fd > 2)
				close(fd);
			break;
		}
	}
	tc_log_open(GATE_PROG, 0);
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		return login_shell(argv[2]);
	if (argc < 2 || argv[1][0] == '\0') {
		if (argv[0] && argv[0][0] == '-')	/* an interactive login */
			return login_shell(NULL);
		gate_usage(NULL, 1);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		gate_usage(NULL, 0);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", GATE_PROG, PACKAGE_VERSION);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		tc_log(TC_LOG_ERR, "unknown command '%.32s' (see %s help)", argv[1], GATE_PROG);
		return 2;
	}
	return run(c, argc - 1, argv + 1);
}
