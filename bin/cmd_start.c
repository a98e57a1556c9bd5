/* cmd_start.c: `start NAME ...` (from flags or a document) and `restart NAME`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "doc.h"
#include "key.h"
#include "opts.h"
#include "out.h"
#include "source.h"
#include "state.h"
#include "tunnel.h"

static int
usage_err(struct tc_err *err, const char *what)
{
	return tc_err_set(err, TC_ERR_USAGE, "%s", what);
}

/* Reasons are TC_ERR_INVALID from lib/spec.c; on the command line they are usage errors. */
static int
as_usage(struct tc_err *err)
{
	err->kind = TC_ERR_USAGE;
	return -1;
}

/* The operator's key file, read as given (it may be a symlink he made). */
static int
read_key(const char *path, struct tc_spec *s, struct tc_err *err)
{
	char buf[2 * TC_KEY_MAX];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return tc_err_set(err, errno == EACCES ? TC_ERR_PERM : TC_ERR_USAGE,
				  "--key: %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)sizeof(buf)) {
		close(fd);
		return tc_err_set(err, TC_ERR_USAGE, "--key: %s: not a regular file of at most %zu bytes",
				  path, sizeof(buf));
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	r = tc_key_normalize(buf, len, &s->key, &s->key_len, "--key", err);
	explicit_bzero(buf, sizeof(buf));
	return r < 0 ? as_usage(err) : 0;
}

/* --certificate FILE: the OpenSSH user certificate (-cert.pub) for the key. */
static int
read_cert(const char *path, struct tc_spec *s, struct tc_err *err)
{
	char buf[TC_CERT_MAX + 2];
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return tc_err_set(err, errno == EACCES ? TC_ERR_PERM : TC_ERR_USAGE,
				  "--certificate: %s: %s", path, strerror(errno));
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if (tc_cert_normalize(buf, s->certificate, "--certificate", err) < 0)
		return as_usage(err);
	return 0;
}

static int
spec_from_flags(const char *name, const struct opts *o, struct tc_spec *s, struct tc_err *err)
{
	tc_spec_init(s);
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (!o->server)
		return usage_err(err, "--server: required (or take the spec from --source/--soracom)");
	if (!o->remote_port)
		return usage_err(err, "--remote-port: required");
	if (!o->target)
		return usage_err(err, "--target: required");
	if (tc_parse_server(o->server, s->user, sizeof(s->user), s->host, sizeof(s->host), &s->port,
			    "--server", err) < 0 ||
	    tc_parse_port(o->remote_port, 1, &s->remote_port, "--remote-port", err) < 0 ||
	    tc_parse_hostport(o->target, s->target_host, sizeof(s->target_host), &s->target_port,
			      "--target", err) < 0)
		return as_usage(err);
	if (o->remote_bind) {
		if (!tc_valid_host(o->remote_bind))
			return tc_err_set(err, TC_ERR_USAGE, "--remote-bind: '%.64s' is not an address", o->remote_bind);
		snprintf(s->remote_bind, sizeof(s->remote_bind), "%s", o->remote_bind);
	}
	if (o->via && strcmp(o->via, "dnat") == 0)
		s->via = TC_VIA_DNAT;
	else if (o->via && strcmp(o->via, "direct") != 0)
		return tc_err_set(err, TC_ERR_USAGE, "--via: '%.32s' is not direct or dnat", o->via);
	if (s->via == TC_VIA_DNAT && !o->local_port)
		return usage_err(err, "--local-port: required with --via dnat");
	if (o->local_port && s->via != TC_VIA_DNAT)
		return usage_err(err, "--local-port: only with --via dnat");
	if (o->local_port && tc_parse_port(o->local_port, 0, &s->local_port, "--local-port", err) < 0)
		return as_usage(err);
	/* As pasted: `cat host.pub` (with its comment) or an ssh-keyscan line. */
	if (o->host_key && tc_host_key_normalize(o->host_key, s->host_key, "--host-key", err) < 0)
		return as_usage(err);
	if (o->timeout && tc_parse_duration(o->timeout, &s->timeout_s, "--timeout", err) < 0)
		return as_usage(err);
	if (o->keepalive && tc_parse_keepalive(o->keepalive, &s->keepalive_interval,
					       &s->keepalive_count, "--keepalive", err) < 0)
		return as_usage(err);
	/* Without --key, the device's own key (`tunnelctl key`). */
	if (o->key && read_key(o->key, s, err) < 0)
		return -1;
	if (o->certificate && read_cert(o->certificate, s, err) < 0)
		return -1;
	if (tc_spec_validate(s, "", err) < 0)
		return as_usage(err);
	return 0;
}

static int
spec_from_source(const struct g *g, struct tc_ctx *c, const char *name, const struct opts *o,
		 struct tc_spec *s, struct tc_err *err)
{
	struct tc_doc_result doc;
	struct tc_source src;
	size_t i;
	int nm;

	if (source_resolve(g, o, &src, err) < 0)
		return -1;
	if (tc_source_load(c->statefd, &src, &doc, &nm, err) < 0)
		return -1;
	for (i = 0; i < doc.n; i++) {
		if (strcmp(doc.specs[i].name, name) == 0) {
			tc_spec_init(s);
			tc_spec_move(s, &doc.specs[i]);
			tc_doc_result_free(&doc);
			return 0;
		}
	}
	tc_doc_result_free(&doc);
	return tc_err_set(err, TC_ERR_INVALID, "%s: no tunnel of that name for this device in the document", name);
}

static const char *
result_word(enum tc_start_result r)
{
	switch (r) {
	case TC_START_STARTED: return "started";
	case TC_START_RESTARTED: return "restarted";
	case TC_START_UNCHANGED: return "unchanged";
	case TC_START_UPDATED: return "restarted";
	}
	return "started";
}

static int
do_start(struct g *g, struct tc_ctx *c, struct tc_spec *s, int origin_sync, struct tc_err *err)
{
	enum tc_start_result res;
	char names[1][TC_NAME_MAX + 1];
	const char *words[1];

	if (tc_tunnel_start(c, s, origin_sync, 0, &res, err) < 0)
		return -1;
	snprintf(names[0], sizeof(names[0]), "%s", s->name);
	words[0] = result_word(res);
	out_print(g, tc_out_results(names, words, 1, g->json));
	return 0;
}

int
cmd_start(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	struct tc_spec spec;
	struct tc_ctx c;
	const char *name;
	int r;

	if (argc != 1)
		return tc_err_set(err, TC_ERR_USAGE, "expected exactly one tunnel NAME");
	name = argv[0];
	if (check_name(name, err) < 0)
		return -1;
	if (o->tunnel_flags && o->source_flags)
		return tc_err_set(err, TC_ERR_USAGE, "give tunnel flags or --source/--soracom, not both");
	if (o->run_as && geteuid() != 0)
		return tc_err_set(err, TC_ERR_PERM, "--run-as: needs root (tunnelctl runs ssh as that user)");
	tc_spec_init(&spec);
	if (o->tunnel_flags && spec_from_flags(name, o, &spec, err) < 0) {
		tc_spec_clear(&spec);
		return -1;
	}
	if (tc_ctx_open(&c, g->state_dir, 1, g->wait_s, err) < 0) {
		tc_spec_clear(&spec);
		return -1;
	}
	r = ctx_tools(g, &c, o->run_as, err);
	if (r == 0 && !o->tunnel_flags)
		r = spec_from_source(g, &c, name, o, &spec, err);
	/* --gate, or gate = yes in the settings: the server runs tunnelctl-gate */
	if (r == 0 && o->gate)
		spec.gate = 1;
	if (r == 0)
		r = settings_to_specs(g, &spec, 1, err);
	if (r == 0)
		r = do_start(g, &c, &spec, 0, err);
	tc_spec_clear(&spec);
	tc_ctx_close(&c);
	return r;
}

/* restart: the spec on disk plus the key still in the tunnel's directory. */
int
cmd_restart(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	struct tc_record rec;
	struct tc_ctx c;
	char *key = NULL;
	size_t keylen = 0;
	int r, tdir;

	if (argc != 1)
		return tc_err_set(err, TC_ERR_USAGE, "expected exactly one tunnel NAME");
	if (check_name(argv[0], err) < 0 || tc_ctx_open(&c, g->state_dir, 1, g->wait_s, err) < 0)
		return -1;
	tdir = tc_subdir_open(c.statefd, argv[0], 0, NULL);
	if (tdir < 0 || tc_record_read(tdir, &rec, NULL) < 0) {
		if (tdir >= 0)
			close(tdir);
		tc_ctx_close(&c);
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: no such tunnel", argv[0]);
	}
	r = tc_read_file(tdir, "key", TC_KEY_MAX, &key, &keylen, NULL);
	close(tdir);
	if (r < 0) {
		tc_ctx_close(&c);
		return tc_err_set(err, TC_ERR_RUNTIME,
				  "%s: its key is gone (expired, revoked or failed tunnels drop it); start it again", argv[0]);
	}
	rec.spec.key = key;
	rec.spec.key_len = keylen;
	r = ctx_tools(g, &c, rec.run_as[0] ? rec.run_as : NULL, err);
	if (r == 0) {
		enum tc_start_result res;

		r = tc_tunnel_start(&c, &rec.spec, rec.origin_sync, TC_START_FORCE, &res, err);
	}
	if (r == 0) {
		char names[1][TC_NAME_MAX + 1];
		const char *words[1] = { "restarted" };

		snprintf(names[0], sizeof(names[0]), "%s", rec.spec.name);
		out_print(g, tc_out_results(names, words, 1, g->json));
	}
	tc_spec_clear(&rec.spec);
	tc_ctx_close(&c);
	return r;
}
