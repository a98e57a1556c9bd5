/* sshargv.c: build autossh/ssh's argv and environment from a validated spec.
 * No shell is ever involved: every value is one argv element. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sshargv.h"

/* ssh gives up on an unanswered TCP connect after this many seconds, instead
 * of the kernel's ~2 minutes, so a black-holed cellular link is retried soon. */
#define TC_SSH_CONNECT_TIMEOUT 15

int
tc_argv_add(struct tc_argv *a, const char *s)
{
	size_t len = strlen(s) + 1;

	if (a->n >= TC_ARGV_MAX || len > sizeof(a->arena) - a->used)
		return -1;
	memcpy(a->arena + a->used, s, len);
	a->v[a->n++] = a->arena + a->used;
	a->v[a->n] = NULL;
	a->used += len;
	return 0;
}

int
tc_argv_addf(struct tc_argv *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(buf))
		return -1;
	return tc_argv_add(a, buf);
}

static int
is_v6(const char *h)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, h, &a) == 1;
}

/* ssh's forward syntax wants IPv6 literals in brackets. */
static const char *
fwd_host(const char *h, char *buf, size_t bufsz)
{
	int r;

	if (!is_v6(h))
		return h;
	r = snprintf(buf, bufsz, "[%s]", h);
	return (r < 0 || (size_t)r >= bufsz) ? NULL : buf;
}

/* "-oNAME=\"PATH\"" as ssh's own option parser reads it (argv_split():
 * double quotes, backslash before '"' and '\\'), with '%' doubled since ssh
 * expands %-tokens in file options: a state dir may hold a space, a quote
 * or a percent sign. A control character cannot be passed: -1. */
static int
add_path_opt(struct tc_argv *a, const char *name, const char *path)
{
	char buf[3 * TC_PATH_ARG_MAX];
	size_t o = 0, i;
	int r;

	r = snprintf(buf, sizeof(buf), "-o%s=\"", name);
	if (r < 0 || (size_t)r >= sizeof(buf))
		return -1;
	o = (size_t)r;
	for (i = 0; path[i] != '\0'; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c == 0x7f || o + 4 >= sizeof(buf))
			return -1;
		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		else if (c == '%')
			buf[o++] = '%';
		buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return tc_argv_add(a, buf);
}

int
tc_ssh_argv(const struct tc_spec *s, const struct tc_ssh_paths *p,
	    struct tc_argv *a, struct tc_err *err)
{
	char b1[TC_HOST_MAX + 3], b2[TC_HOST_MAX + 3];
	const char *bind, *thost;
	unsigned tport;
	int r = 0;

	memset(a, 0, sizeof(*a));
	if (p->autossh) {
		r |= tc_argv_add(a, p->autossh);
		/* -M 0: no monitor port; ServerAlive* detects a dead link. */
		r |= tc_argv_add(a, "-M");
		r |= tc_argv_add(a, "0");
		/* autossh's getopt stops here and it drops this first "--", so
		 * none of ssh's options below is parsed or rewritten by autossh
		 * (it strips 'f' from option words it does look at). */
		r |= tc_argv_add(a, "--");
	} else {
		r |= tc_argv_add(a, p->ssh);
	}
	/* -F none: no system or user ssh_config can add a ProxyCommand. */
	r |= tc_argv_add(a, "-F");
	r |= tc_argv_add(a, "none");
	if (!s->gate)
		r |= tc_argv_add(a, "-N");	/* a gate gets the hello as the session's command */
	r |= tc_argv_add(a, "-T");
	/* debug1 is the level at which ssh reports "remote forward success". */
	r |= tc_argv_add(a, "-v");
	r |= tc_argv_add(a, "-oBatchMode=yes");
	r |= tc_argv_add(a, "-oExitOnForwardFailure=yes");
	r |= tc_argv_add(a, "-oIdentitiesOnly=yes");
	if (add_path_opt(a, "IdentityFile", p->key) < 0 ||
	    add_path_opt(a, "UserKnownHostsFile", p->known_hosts) < 0 ||
	    (p->cert && add_path_opt(a, "CertificateFile", p->cert) < 0))
		return tc_err_set(err, TC_ERR_RUNTIME, "ssh argv: the state dir's path has a control "
				  "character or is too long: ssh cannot be given it");
	r |= tc_argv_add(a, "-oGlobalKnownHostsFile=/dev/null");
	r |= tc_argv_addf(a, "-oStrictHostKeyChecking=%s",
			  s->host_key[0] ? "yes" : "accept-new");
	r |= tc_argv_add(a, "-oUpdateHostKeys=no");
	r |= tc_argv_add(a, "-oCheckHostIP=no");
	r |= tc_argv_addf(a, "-oServerAliveInterval=%u", s->keepalive_interval);
	r |= tc_argv_addf(a, "-oServerAliveCountMax=%u", s->keepalive_count);
	r |= tc_argv_addf(a, "-oConnectTimeout=%d", TC_SSH_CONNECT_TIMEOUT);
	r |= tc_argv_add(a, "-oControlMaster=no");
	r |= tc_argv_add(a, "-oControlPath=none");
	r |= tc_argv_add(a, "-oForwardAgent=no");
	r |= tc_argv_add(a, "-oForwardX11=no");
	r |= tc_argv_add(a, "-oPermitLocalCommand=no");
	r |= tc_argv_add(a, "-oTCPKeepAlive=yes");
	r |= tc_argv_addf(a, "-p%u", s->port);
	if (s->user[0])
		r |= tc_argv_addf(a, "-l%s", s->user);

	bind = fwd_host(s->remote_bind, b1, sizeof(b1));
	if (s->via == TC_VIA_DNAT) {
		thost = "127.0.0.1";
		tport = s->local_port;
	} else {
		thost = fwd_host(s->target_host, b2, sizeof(b2));
		tport = s->target_port;
	}
	if (!bind || !thost)
		return tc_err_set(err, TC_ERR_RUNTIME, "ssh argv: host too long");
	r |= tc_argv_addf(a, "-R%s:%u:%s:%u", bind, s->remote_port, thost, tport);
	/* ends ssh's options: nothing after it can be read as one */
	r |= tc_argv_add(a, "--");
	r |= tc_argv_add(a, s->host);
	if (s->gate) {
		char t[TC_HOST_MAX + 3];
		const char *th = fwd_host(s->target_host, t, sizeof(t));

		/* What the device claims it reaches (the LAN target for dnat),
		 * for the operator's list; every part is a validated field. */
		r |= th ? tc_argv_addf(a, "tunnelctl-gate hello 1 tunnel=%s target=%s:%u expires=%lld",
				       s->name, th, (unsigned)s->target_port, (long long)p->expires) : -1;
	}
	if (r)
		return tc_err_set(err, TC_ERR_RUNTIME, "ssh argv: too long");
	return 0;
}

/* autossh settings (autossh(1)):
 * GATETIME=0  a first ssh failure is retried instead of ending autossh;
 * POLL=30     caps autossh's retry backoff at 30 s and bounds the SIGCHLD race
 *             that can delay noticing a fast-exiting ssh by up to POLL seconds;
 * PATH        picks the ssh binary explicitly, never from the caller's env;
 * LOGFILE     autossh's own messages ("restarting ssh") join ssh's on stderr. */
int
tc_ssh_env(const struct tc_ssh_paths *p, struct tc_argv *e, struct tc_err *err)
{
	int r = 0;

	memset(e, 0, sizeof(*e));
	if (!p->autossh)
		return 0;
	r |= tc_argv_add(e, "AUTOSSH_GATETIME=0");
	r |= tc_argv_add(e, "AUTOSSH_POLL=30");
	r |= tc_argv_addf(e, "AUTOSSH_PATH=%s", p->ssh);
	r |= tc_argv_add(e, "AUTOSSH_LOGFILE=/dev/stderr");
	r |= tc_argv_add(e, "AUTOSSH_LOGLEVEL=6");
	if (r)
		return tc_err_set(err, TC_ERR_RUNTIME, "ssh environment: too long");
	return 0;
}

int
tc_known_hosts_line(const struct tc_spec *s, char *buf, size_t bufsz)
{
	int r;

	if (s->port == 22)
		r = snprintf(buf, bufsz, "%s %s\n", s->host, s->host_key);
	else
		r = snprintf(buf, bufsz, "[%s]:%u %s\n", s->host, s->port, s->host_key);
	return (r < 0 || (size_t)r >= bufsz) ? -1 : 0;
}
