/* sshargv.h: a validated spec -> the exact argv and environment for
 * autossh/ssh. Strings live in a fixed arena; nothing is allocated. */
#ifndef TC_SSHARGV_H
#define TC_SSHARGV_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

#define TC_ARGV_MAX 64
#define TC_ARGV_ARENA 8192
#define TC_PATH_ARG_MAX 512	/* longest file path handed to ssh (quoted: up to 3x) */

struct tc_argv {
	char *v[TC_ARGV_MAX + 1];	/* NULL-terminated */
	size_t n;
	char arena[TC_ARGV_ARENA];
	size_t used;
};

struct tc_ssh_paths {
	const char *ssh;		/* absolute path of ssh */
	const char *autossh;		/* absolute path of autossh, or NULL: plain ssh */
	const char *key;		/* private key file */
	const char *known_hosts;	/* per-tunnel known_hosts */
	const char *cert;		/* CertificateFile, or NULL */
	int64_t expires;		/* gate: the hello's expires= (unix time), 0 = none */
};

/* Append a copy of s; -1 when the arena or argv is full. */
int tc_argv_add(struct tc_argv *a, const char *s);
int tc_argv_addf(struct tc_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The command line: autossh -M 0 ... or ssh ..., ending with `-- HOST`
 * (-N), or with a gate, `-- HOST 'tunnelctl-gate hello 1 tunnel=NAME
 * target=HOST:PORT expires=T'` (the server's forced command reads it from
 * SSH_ORIGINAL_COMMAND). The spec must already be validated. */
int tc_ssh_argv(const struct tc_spec *s, const struct tc_ssh_paths *p,
		struct tc_argv *out, struct tc_err *err);

/* The whole environment autossh/ssh get: only AUTOSSH_* variables we set
 * (empty for plain ssh). */
int tc_ssh_env(const struct tc_ssh_paths *p, struct tc_argv *out, struct tc_err *err);

/* The known_hosts line that pins s->host_key for s->host:s->port, with '\n'. */
int tc_known_hosts_line(const struct tc_spec *s, char *buf, size_t bufsz);

#endif
