/* source.c: fetch -> parse, with a conditional-GET cache per URL in
 * STATE_DIR/.fetch/ (body, ETag, Last-Modified; 0600). The cache is written
 * only for a document that parsed, so a 304 always yields a valid one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "mqtt.h"
#include "sha256.h"
#include "source.h"
#include "spec.h"
#include "state.h"
#include "xalloc.h"

#define TC_VALIDATOR_MAX 512
#define TC_IMSI_MAX 16

struct cache {
	int statefd, dirfd;	/* dirfd: STATE_DIR/.fetch, -1 until needed */
	char key[17];		/* first 16 hex of sha256(url) */
	char *body, *etag, *lm;
	size_t len;
	int keep;		/* watch: also kept in memory between loads */
};

/* watch (keep_connection): the last documents and validators stay in
 * memory too, so an idle poll answered 304 reads nothing from disk. Two
 * entries: the SORACOM flow's subscriber and userdata. */
#define MEM_ENTRIES 2
static struct mem {
	char key[17];
	char *body, *etag, *lm;
	size_t len;
} mem[MEM_ENTRIES];
static unsigned mem_next;
static char mem_imsi[TC_IMSI_MAX + 1];	/* the SORACOM flow's, once parsed */

static char *
dup_or_null(const char *s, size_t n)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void
mem_clear(struct mem *m)
{
	if (m->body)
		explicit_bzero(m->body, m->len);	/* a document may hold private keys */
	free(m->body);
	free(m->etag);
	free(m->lm);
	memset(m, 0, sizeof(*m));
}

static struct mem *
mem_find(const char *key)
{
	size_t i;

	for (i = 0; i < MEM_ENTRIES; i++)
		if (mem[i].body && strcmp(mem[i].key, key) == 0)
			return &mem[i];
	return NULL;
}

void
tc_source_forget(void)
{
	size_t i;

	for (i = 0; i < MEM_ENTRIES; i++)
		mem_clear(&mem[i]);
	mem_imsi[0] = '\0';
}

static int
cache_dir(struct cache *c)
{
	if (c->dirfd < 0 && c->statefd >= 0)
		c->dirfd = tc_subdir_open(c->statefd, TC_FETCH_DIR, 1, NULL);
	return c->dirfd;
}

static void
cache_name(const struct cache *c, const char *ext, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s.%s", c->key, ext);
}

static char *
cache_get(struct cache *c, const char *ext, size_t max, size_t *len)
{
	char name[40], *buf = NULL;
	size_t l;

	if (cache_dir((struct cache *)c) < 0)
		return NULL;
	cache_name(c, ext, name, sizeof(name));
	if (tc_read_file(c->dirfd, name, max, &buf, &l, NULL) < 0)
		return NULL;
	if (len)
		*len = l;
	return buf;
}

static void
cache_open(int statefd, const char *url, int keep, struct cache *c)
{
	char digest[TC_DIGEST_HEX];
	struct mem *m;

	memset(c, 0, sizeof(*c));
	c->statefd = statefd;
	c->dirfd = -1;
	c->keep = keep;
	tc_sha256_hex(url, strlen(url), digest);
	memcpy(c->key, digest, 16);
	c->key[16] = '\0';
	if (keep && (m = mem_find(c->key)) != NULL) {
		c->body = dup_or_null(m->body, m->len);
		c->len = m->len;
		c->etag = dup_or_null(m->etag, m->etag ? strlen(m->etag) : 0);
		c->lm = dup_or_null(m->lm, m->lm ? strlen(m->lm) : 0);
		return;
	}
	c->body = cache_get(c, "body", TC_DOC_MAX, &c->len);
	if (c->body) {
		c->etag = cache_get(c, "etag", TC_VALIDATOR_MAX, NULL);
		c->lm = cache_get(c, "lm", TC_VALIDATOR_MAX, NULL);
	}
}

static void
cache_close(struct cache *c)
{
	if (c->body)
		explicit_bzero(c->body, c->len);
	free(c->body);
	free(c->etag);
	free(c->lm);
	if (c->dirfd >= 0)
		close(c->dirfd);
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
}

/* A body and its validators in memory (watch), replacing the URL's. */
static void
mem_put(const struct cache *c, const char *body, size_t len, const char *etag, const char *lm)
{
	struct mem *m = mem_find(c->key);

	if (m == NULL)
		m = &mem[mem_next++ % MEM_ENTRIES];
	mem_clear(m);
	if (!etag && !lm)
		return;
	memcpy(m->key, c->key, sizeof(m->key));
	m->body = dup_or_null(body, len);
	m->len = len;
	m->etag = dup_or_null(etag, etag ? strlen(etag) : 0);
	m->lm = dup_or_null(lm, lm ? strlen(lm) : 0);
}

static void
cache_put(struct cache *c, const struct tc_fetch_result *r)
{
	char name[40];

	if (c->keep)
		mem_put(c, r->body, r->len, r->etag, r->last_modified);
	if (cache_dir(c) < 0)
		return;
	cache_name(c, "etag", name, sizeof(name));
	unlinkat(c->dirfd, name, 0);
	cache_name(c, "lm", name, sizeof(name));
	unlinkat(c->dirfd, name, 0);
	cache_name(c, "body", name, sizeof(name));
	/* Without a validator the copy can never be used (no 304 can come), and
	 * it holds private keys: keep none (file:// and plain paths included). */
	if (!r->etag && !r->last_modified) {
		unlinkat(c->dirfd, name, 0);
		return;
	}
	if (tc_write_atomic(c->dirfd, name, r->body, r->len, 0600, (uid_t)-1, (gid_t)-1, NULL) < 0)
		return;
	if (r->etag) {
		cache_name(c, "etag", name, sizeof(name));
		tc_write_atomic(c->dirfd, name, r->etag, strlen(r->etag), 0600, (uid_t)-1, (gid_t)-1, NULL);
	}
	if (r->last_modified) {
		cache_name(c, "lm", name, sizeof(name));
		tc_write_atomic(c->dirfd, name, r->last_modified, strlen(r->last_modified), 0600,
				(uid_t)-1, (gid_t)-1, NULL);
	}
}

/* Fetch url conditionally and hand the (new or cached) body to parse(). */
typedef int (*parse_fn)(const char *buf, size_t len, void *arg, struct tc_err *err);

/* skip: a 304 parses nothing (the caller has what the body gave). */
static int
fetch_parse(int statefd, const char *url, const struct tc_source *src, parse_fn parse, void *arg,
	    int skip, int *not_modified, struct tc_err *err)
{
	struct tc_fetch_opts o;
	struct tc_fetch_result r;
	struct cache c;
	int rc;

	cache_open(statefd, url, src->keep_connection, &c);
	memset(&o, 0, sizeof(o));
	o.cacert = src->cacert;
	o.interface = src->interface;
	o.etag = c.etag;
	o.last_modified = c.lm;
	if (tc_fetch(url, &o, &r, err) < 0) {
		cache_close(&c);
		return -1;
	}
	if (r.not_modified && c.body) {
		*not_modified = 1;
		/* Read from disk (a watcher's first 304): the next ones read nothing. */
		if (c.keep && mem_find(c.key) == NULL)
			mem_put(&c, c.body, c.len, c.etag, c.lm);
		rc = skip ? 0 : parse(c.body, c.len, arg, err);
	} else {
		*not_modified = 0;
		rc = parse(r.body, r.len, arg, err);
		if (rc == 0)
			cache_put(&c, &r);
	}
	tc_fetch_result_free(&r);
	cache_close(&c);
	return rc;
}

struct doc_arg {
	const char *id;
	struct tc_doc_result *out;
};

static int
parse_doc(const char *buf, size_t len, void *arg, struct tc_err *err)
{
	struct doc_arg *a = arg;

	if (len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "document: empty body");
	return tc_doc_parse(buf, len, a->id, a->out, err);
}

struct imsi_arg {
	char *imsi;
	int keep;	/* watch: remember it (mem_imsi) */
};

static int
parse_imsi(const char *buf, size_t len, void *arg, struct tc_err *err)
{
	struct imsi_arg *a = arg;

	if (len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "subscriber: empty body");
	if (tc_doc_imsi(buf, len, a->imsi, TC_IMSI_MAX, err) < 0)
		return -1;
	if (a->keep)
		snprintf(mem_imsi, sizeof(mem_imsi), "%s", a->imsi);
	return 0;
}

static int
join(char *buf, size_t sz, const char *base, const char *path, struct tc_err *err)
{
	size_t bl = strlen(base);
	int r;

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	r = snprintf(buf, sz, "%.*s%s", (int)bl, base, path);
	if (r < 0 || (size_t)r >= sz)
		return tc_err_set(err, TC_ERR_USAGE, "--soracom: URL too long");
	return 0;
}

/* The SORACOM flow: this SIM's IMSI from the subscriber record, then its
 * entry in the userdata document (same server: the second request reuses the
 * first one's connection if the server kept it open). */
static int
soracom_load(int statefd, const struct tc_source *src, struct tc_doc_result *out,
	     int *not_modified, struct tc_err *err)
{
	char url[2048], imsi[TC_IMSI_MAX + 1];
	struct doc_arg a = { imsi, out };
	struct imsi_arg ia = { imsi, src->keep_connection };
	/* An unchanged subscriber record is not parsed again when its IMSI
	 * is remembered; the userdata's skip needs both unchanged. */
	int skip_sub = src->skip_unchanged && mem_imsi[0], nm_sub = 0;

	if (join(url, sizeof(url), src->soracom, "/v1/subscriber", err) < 0 ||
	    fetch_parse(statefd, url, src, parse_imsi, &ia, skip_sub, &nm_sub, err) < 0 ||
	    join(url, sizeof(url), src->soracom, "/v1/userdata", err) < 0)
		return -1;
	if (skip_sub && nm_sub)
		snprintf(imsi, sizeof(imsi), "%s", mem_imsi);
	if (fetch_parse(statefd, url, src, parse_doc, &a, src->skip_unchanged && nm_sub, not_modified,
			err) < 0)
		return -1;
	*not_modified &= nm_sub;	/* a new IMSI: another entry of the same userdata */
	return 0;
}

void
tc_source_mqtt_opts(const struct tc_source *src, struct tc_mqtt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = src->url;
	o->id = src->id;
	o->cafile = src->mqtt_cafile ? src->mqtt_cafile : src->cacert;
	o->certfile = src->mqtt_certfile;
	o->keyfile = src->mqtt_keyfile;
	o->username = src->mqtt_username;
	o->password_file = src->mqtt_password_file;
	o->keepalive_s = src->mqtt_keepalive;
}

int
tc_source_parse_mqtt(const char *buf, size_t len, const char *id, struct tc_doc_result *out,
		     struct tc_err *err)
{
	memset(out, 0, sizeof(*out));
	/* SPEC: an empty payload means this device has no entry. */
	if (len == 0)
		return 0;
	return tc_doc_parse(buf, len, id, out, err);
}

/* One retained message; nothing cached (the broker keeps the document). */
static int
mqtt_load(const struct tc_source *src, struct tc_doc_result *out, struct tc_err *err)
{
	struct tc_mqtt_opts o;
	char *buf;
	size_t len;
	int rc;

	tc_source_mqtt_opts(src, &o);
	if (tc_mqtt_get(&o, &buf, &len, err) < 0)
		return -1;
	rc = tc_source_parse_mqtt(buf, len, src->id, out, err);
	free(buf);
	return rc;
}

int
tc_source_load(int statefd, const struct tc_source *src, struct tc_doc_result *out,
	       int *not_modified, struct tc_err *err)
{
	struct doc_arg a = { src->id, out };
	int rc;

	memset(out, 0, sizeof(*out));
	*not_modified = 0;
	if (src->soracom)
		rc = soracom_load(statefd, src, out, not_modified, err);
	else if (tc_mqtt_is_url(src->url))
		rc = mqtt_load(src, out, err);
	else
		rc = fetch_parse(statefd, src->url, src, parse_doc, &a, src->skip_unchanged, not_modified,
				 err);
	/* Tunnels are started next: no socket of ours may live on in them
	 * (watch keeps its connection: CLOEXEC, and the supervisor's spawn
	 * closes every descriptor above its own). */
	if (!src->keep_connection)
		tc_fetch_cleanup();
	return rc;
}
