/* test_sshargv.c: the argv and environment given to autossh/ssh. */
#include <stdlib.h>
#include <string.h>

#include "sshargv.h"
#include "tap.h"

static int
has(const struct tc_argv *a, const char *s)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], s) == 0)
			return 1;
	return 0;
}

static int
index_of(const struct tc_argv *a, const char *s)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], s) == 0)
			return (int)i;
	return -1;
}

static void
base_spec(struct tc_spec *s)
{
	tc_spec_init(s);
	strcpy(s->name, "web");
	strcpy(s->user, "tunnel");
	strcpy(s->host, "203.0.113.10");
	s->port = 2222;
	s->remote_port = 8080;
	strcpy(s->target_host, "localhost");
	s->target_port = 22;
}

int
main(void)
{
	struct tc_ssh_paths p = { .ssh = "/usr/bin/ssh", .autossh = "/usr/bin/autossh", .key = "/run/t/web/key",
				  .known_hosts = "/run/t/web/known_hosts" };
	struct tc_argv a, e;
	struct tc_spec s;
	struct tc_err err;
	char line[512];

	base_spec(&s);
	ok(tc_ssh_argv(&s, &p, &a, &err) == 0, "argv builds");
	is_str(a.v[0], "/usr/bin/autossh", "autossh first");
	ok(has(&a, "-M") && strcmp(a.v[index_of(&a, "-M") + 1], "0") == 0, "-M 0");
	is_str(a.v[3], "--", "autossh's own -- right after -M 0 (it stops parsing there)");
	is_str(a.v[a.n - 1], "203.0.113.10", "host is last");
	is_str(a.v[a.n - 2], "--", "ssh's -- right before the host");
	ok(a.v[a.n] == NULL, "NULL-terminated");
	ok(has(&a, "-oBatchMode=yes"), "BatchMode=yes");
	ok(has(&a, "-oExitOnForwardFailure=yes"), "ExitOnForwardFailure=yes");
	ok(has(&a, "-oStrictHostKeyChecking=accept-new"), "accept-new without a pinned key");
	ok(!has(&a, "-oStrictHostKeyChecking=no"), "never StrictHostKeyChecking=no");
	ok(has(&a, "-oUserKnownHostsFile=\"/run/t/web/known_hosts\""), "per-tunnel known_hosts");
	ok(has(&a, "-oGlobalKnownHostsFile=/dev/null"), "no global known_hosts");
	ok(has(&a, "-oIdentityFile=\"/run/t/web/key\"") && has(&a, "-oIdentitiesOnly=yes"), "only our key");
	ok(has(&a, "-F") && strcmp(a.v[index_of(&a, "-F") + 1], "none") == 0, "-F none: no ssh_config");
	ok(has(&a, "-oServerAliveInterval=30") && has(&a, "-oServerAliveCountMax=3"), "keepalive defaults 30,3");
	ok(has(&a, "-p2222"), "server port");
	ok(has(&a, "-ltunnel"), "user via -l");
	ok(has(&a, "-R127.0.0.1:8080:localhost:22"), "remote forward");
	ok(index_of(&a, "-R127.0.0.1:8080:localhost:22") < index_of(&a, "203.0.113.10"), "options before the host");

	/* The gate: no -N, the hello as the remote command after the host. */
	{
		struct tc_ssh_paths q = p;

		ok(has(&a, "-N"), "without the gate: -N");
		s.gate = 1;
		q.expires = 1767225600;
		q.cert = "/run/t/web/cert";
		ok(tc_ssh_argv(&s, &q, &a, &err) == 0, "gate: argv builds");
		ok(!has(&a, "-N"), "gate: no -N (the session runs the hello)");
		is_str(a.v[a.n - 1], "tunnelctl-gate hello 1 tunnel=web target=localhost:22 expires=1767225600",
		       "gate: the hello is the last argument, after the host");
		is_str(a.v[a.n - 2], "203.0.113.10", "gate: the host before it");
		ok(has(&a, "-oCertificateFile=\"/run/t/web/cert\""), "a certificate: CertificateFile");
		strcpy(s.target_host, "2001:db8::5");
		q.expires = 0;
		tc_ssh_argv(&s, &q, &a, &err);
		is_str(a.v[a.n - 1], "tunnelctl-gate hello 1 tunnel=web target=[2001:db8::5]:22 expires=0",
		       "gate: an IPv6 target in brackets, expires=0 without a timeout");
		s.gate = 0;
		strcpy(s.target_host, "localhost");
	}

	/* A state dir with a space, a quote, a backslash and a percent sign:
	 * quoted and escaped as ssh's own option parser reads it. */
	{
		struct tc_ssh_paths q = { .ssh = "/usr/bin/ssh", .key = "/run/a b/web/key",
					  .known_hosts = "/run/x\"y\\z%d/kh" };

		ok(tc_ssh_argv(&s, &q, &a, &err) == 0, "awkward state dir: argv builds");
		ok(has(&a, "-oIdentityFile=\"/run/a b/web/key\""), "a space is quoted");
		ok(has(&a, "-oUserKnownHostsFile=\"/run/x\\\"y\\\\z%%d/kh\""),
		   "quote and backslash escaped, percent doubled");
		q.key = "/run/a\nb/key";
		ok(tc_ssh_argv(&s, &q, &a, &err) < 0, "a newline in the path is refused");
	}

	strcpy(s.host_key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ");
	tc_ssh_argv(&s, &p, &a, &err);
	ok(has(&a, "-oStrictHostKeyChecking=yes"), "pinned key: StrictHostKeyChecking=yes");
	ok(tc_known_hosts_line(&s, line, sizeof(line)) == 0, "known_hosts line");
	ok(strncmp(line, "[203.0.113.10]:2222 ssh-ed25519 ", 32) == 0, "non-22 port uses [host]:port");
	s.port = 22;
	tc_known_hosts_line(&s, line, sizeof(line));
	ok(strncmp(line, "203.0.113.10 ssh-ed25519 ", 25) == 0, "port 22 uses the bare host");
	ok(line[strlen(line) - 1] == '\n', "line ends with a newline");

	s.via = TC_VIA_DNAT;
	s.local_port = 10443;
	strcpy(s.target_host, "192.0.2.50");
	s.target_port = 443;
	tc_ssh_argv(&s, &p, &a, &err);
	ok(has(&a, "-R127.0.0.1:8080:127.0.0.1:10443"), "dnat: ssh reaches the local port");
	ok(!has(&a, "-R127.0.0.1:8080:192.0.2.50:443"), "dnat: the target is not in argv");

	s.via = TC_VIA_DIRECT;
	strcpy(s.remote_bind, "::1");
	strcpy(s.target_host, "2001:db8::5");
	tc_ssh_argv(&s, &p, &a, &err);
	ok(has(&a, "-R[::1]:8080:[2001:db8::5]:443"), "IPv6 literals are bracketed");

	p.autossh = NULL;
	base_spec(&s);
	tc_ssh_argv(&s, &p, &a, &err);
	is_str(a.v[0], "/usr/bin/ssh", "plain ssh without autossh");
	ok(!has(&a, "-M"), "no -M for plain ssh");
	is_int(index_of(&a, "--"), (int)a.n - 2, "plain ssh: a single -- before the host");

	ok(tc_ssh_env(&p, &e, &err) == 0 && e.n == 0, "plain ssh: empty environment");
	p.autossh = "/usr/bin/autossh";
	ok(tc_ssh_env(&p, &e, &err) == 0, "autossh environment builds");
	ok(has(&e, "AUTOSSH_GATETIME=0"), "AUTOSSH_GATETIME=0 (a first failure is retried)");
	ok(has(&e, "AUTOSSH_PATH=/usr/bin/ssh"), "AUTOSSH_PATH set by us");
	{
		size_t i;
		int only = 1;

		for (i = 0; i < e.n; i++)
			only &= strncmp(e.v[i], "AUTOSSH_", 8) == 0;
		ok(only, "only AUTOSSH_* variables");
	}
	{
		struct tc_argv full;
		int i, r = 0;

		memset(&full, 0, sizeof(full));
		for (i = 0; i < TC_ARGV_MAX + 5; i++)
			r |= tc_argv_add(&full, "x");
		ok(r != 0 && full.n == TC_ARGV_MAX, "argv refuses to overflow");
	}
	return tap_done();
}
