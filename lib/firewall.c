/* firewall.c: the rules a state directory's live tunnels need, merged with the
 * other directories' (fwreg.c) into the namespace's table (nft.h) and sysctls. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firewall.h"
#include "fwreg.h"
#include "localnet.h"
#include "log.h"
#include "nft.h"
#include "record.h"
#include "state.h"
#include "xalloc.h"

#define TC_FW_MARK ".fw-active"		/* exists while this directory may own rules */
#define TC_LOCALNET_LEGACY ".localnet"	/* where versions before fwreg saved route_localnet */
#define TC_FW_MAX 1024			/* dnat tunnels of one directory considered at most */
/* The namespace's lock is held for one batch and a few sysctl writes by
 * whichever directory changes the firewall; this much waiting means that
 * one is stuck. */
#define TC_FW_LOCK_WAIT_S 30

int
tc_fw_active(int statefd)
{
	return faccessat(statefd, TC_FW_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
supervisor_alive(int tdir)
{
	unsigned long long st;
	pid_t pid;

	return tc_pidfile_read(tdir, &pid, &st) == 0 && tc_proc_same(pid, st);
}

/* d for a tunnel of the directory tagged `tag`: its comment is NAME@TAG.
 * -1 when the target is no IPv4 literal (the table is family ip). */
static int
dnat_of(const struct tc_spec *s, const char *tag, struct tc_dnat *d)
{
	memset(d, 0, sizeof(*d));
	/* a name is at most 32, so NAME@TAG always fits the comment */
	(void)snprintf(d->name, sizeof(d->name), "%s@%s", s->name, tag);
	d->local_port = s->local_port;
	d->target_port = s->target_port;
	return inet_pton(AF_INET, s->target_host, &d->target) == 1 ? 0 : -1;
}

/* Collect the rules of live (or included) dnat tunnels; *inc is the index of
 * the included tunnel's rule, or TC_FW_NONE. */
#define TC_FW_NONE ((size_t)-1)
static int
collect(int statefd, const char *tag, const char *include, const char *exclude,
	struct tc_dnat *rules, size_t *n, size_t *inc, struct tc_err *err)
{
	struct dirent *de;
	DIR *d;
	int fd;

	*n = 0;
	*inc = TC_FW_NONE;
	fd = dup(statefd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir: %s", strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL && *n < TC_FW_MAX) {
		struct tc_record rec;
		int tdir, live, included;

		if (!tc_valid_name(de->d_name))
			continue;
		if (exclude && strcmp(de->d_name, exclude) == 0)
			continue;
		tdir = tc_subdir_open(statefd, de->d_name, 0, NULL);
		if (tdir < 0)
			continue;
		included = include && strcmp(de->d_name, include) == 0;
		live = included || supervisor_alive(tdir);
		if (live && tc_record_read(tdir, &rec, NULL) == 0 && rec.spec.via == TC_VIA_DNAT &&
		    dnat_of(&rec.spec, tag, &rules[*n]) == 0) {
			if (included)
				*inc = *n;
			(*n)++;
		}
		close(tdir);
	}
	closedir(d);
	return 0;
}

/* Where rule r's target is routed: FW_IFACE (name set: it needs
 * route_localnet), FW_LOCAL (via lo: nothing to set), FW_NOROUTE, or -1.
 * A target without a route (its LAN link is down) must not fail every other
 * tunnel's stop or start: it is skipped, and the next reconcile once the route
 * is back (sync's verification notices) sets it. Only the tunnel being started
 * (`strict`) fails on it, with the reason. */
enum { FW_IFACE = 1, FW_LOCAL, FW_NOROUTE };
static int
target_iface(const struct tc_dnat *r, int strict, char name[IF_NAMESIZE], struct tc_err *err)
{
	struct tc_err e;

	name[0] = '\0';
	if (tc_route_iface(r->target, name, &e) < 0) {
		if (!strict)
			return FW_NOROUTE;
		*err = e;
		return -1;
	}
	return strcmp(name, "lo") == 0 ? FW_LOCAL : FW_IFACE;
}

/* The interfaces toward the targets of all n rules, each once, into ifs
 * (room for n); *unknown when some target has no route now. */
static void
ifaces_of(const struct tc_dnat *rules, size_t n, char (*ifs)[IF_NAMESIZE], size_t *nif,
	  int *unknown)
{
	size_t i, j;
	int r, dup_found;

	*nif = 0;
	*unknown = 0;
	for (i = 0; i < n; i++) {
		char name[IF_NAMESIZE];

		r = target_iface(&rules[i], 0, name, NULL);
		*unknown |= r == FW_NOROUTE;
		if (r != FW_IFACE)
			continue;
		for (j = 0, dup_found = 0; j < *nif; j++)
			dup_found |= strcmp(ifs[j], name) == 0;
		if (!dup_found)
			memcpy(ifs[(*nif)++], name, IF_NAMESIZE);
	}
}

/* The tunnel a rule's comment names: NAME of NAME@TAG. */
static void
tunnel_of(const struct tc_dnat *d, char out[TC_NAME_MAX + 1])
{
	const char *at = strchr(d->name, '@');
	size_t len = at ? (size_t)(at - d->name) : strlen(d->name);

	if (len > TC_NAME_MAX)
		len = TC_NAME_MAX;
	memcpy(out, d->name, len);
	out[len] = '\0';
}

/* Two rules on one local port: the first would take every connection and
 * the tunnel being started would silently reach the other one's target.
 * Checked against this directory's tunnels and every other directory's. */
static int
port_clash(const struct tc_dnat *own, size_t n, size_t inc, const struct tc_fwreg_owner *o,
	   size_t no, struct tc_err *err)
{
	char other[TC_NAME_MAX + 1];
	uint16_t port;
	size_t i, j;

	if (inc == TC_FW_NONE)
		return 0;
	port = own[inc].local_port;
	for (i = 0; i < n; i++) {
		if (i != inc && own[i].local_port == port) {
			tunnel_of(&own[i], other);
			return tc_err_set(err, TC_ERR_RUNTIME,
					  "local port %u is already used by dnat tunnel '%s'",
					  (unsigned)port, other);
		}
	}
	for (j = 0; j < no; j++) {
		for (i = 0; i < o[j].n; i++) {
			if (o[j].rules[i].local_port != port)
				continue;
			tunnel_of(&o[j].rules[i], other);
			return tc_err_set(err, TC_ERR_RUNTIME,
					  "local port %u is already used by dnat tunnel '%s' of "
					  "state directory %s", (unsigned)port, other, o[j].dir);
		}
	}
	return 0;
}

/* 1 if a TCP socket of this network namespace listens on port (IPv4 or
 * IPv6), from /proc/net/tcp{,6}; 0 if none or unknown. */
static int
port_listened(uint16_t port)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	size_t i;
	int found = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]) && !found; i++) {
		FILE *f = fopen(files[i], "re");

		if (f == NULL)
			continue;
		/* "sl local_address rem_address st ...": ADDR:PORT in hex, st 0A = LISTEN */
		while (!found && fgets(line, sizeof(line), f) != NULL) {
			char local[64], st[4];
			const char *colon;
			unsigned lport;

			if (sscanf(line, " %*s %63s %*s %3s", local, st) != 2 ||
			    strcmp(st, "0A") != 0 || (colon = strrchr(local, ':')) == NULL)
				continue;
			if (sscanf(colon + 1, "%x", &lport) == 1 && lport == port)
				found = 1;
		}
		fclose(f);
	}
	return found;
}

/* Every directory's rules: the others' records and ours. Heap (free()). */
static struct tc_dnat *
merge(const struct tc_fwreg_owner *o, size_t no, const struct tc_dnat *own, size_t n,
      size_t *nall)
{
	struct tc_dnat *all;
	size_t i, k = n;

	for (i = 0; i < no; i++)
		k += o[i].n;
	all = xcalloc(k, sizeof(*all));
	*nall = 0;
	for (i = 0; i < no; i++) {
		memcpy(all + *nall, o[i].rules, o[i].n * sizeof(*all));
		*nall += o[i].n;
	}
	memcpy(all + *nall, own, n * sizeof(*all));
	*nall += n;
	return all;
}

/* Make the table and route_localnet what `all` needs, in the order that
 * never leaves route_localnet on without the drop rule, whenever this
 * process is killed: the table (with its drop rule) before route_localnet
 * is turned on; route_localnet restored before the table goes. */
static int
apply(const char *save_dir, const struct tc_dnat *all, size_t nall, struct tc_err *err)
{
	char (*ifs)[IF_NAMESIZE] = xcalloc(nall, IF_NAMESIZE);
	size_t nif;
	int unknown, r;

	if (nall > 0) {
		ifaces_of(all, nall, ifs, &nif, &unknown);
		r = tc_nft_apply(all, nall, err);
		/* an interface we cannot name now: restore nothing yet */
		if (r == 0)
			r = tc_localnet_set_flags(save_dir, ifs, nif,
						  unknown ? TC_LOCALNET_KEEP_OTHERS : 0, err);
	} else {
		r = tc_localnet_set(save_dir, NULL, 0, err);
		if (r == 0)
			r = tc_nft_apply(NULL, 0, err);
	}
	free(ifs);
	return r;
}

int
tc_fw_reconcile(const char *state_path, int statefd, const char *include,
		const char *exclude, struct tc_err *err)
{
	struct tc_fwreg reg;
	struct tc_fwreg_owner *others = NULL;
	struct tc_dnat *own, *all = NULL;
	char tag[TC_FW_TAG_LEN + 1], dir[TC_PATH_MAX], path[sizeof(reg.path) + 16];
	char ifname[IF_NAMESIZE], tname[TC_NAME_MAX + 1];
	size_t n, inc, nothers = 0, nall;
	int r, marked;

	marked = tc_fw_active(statefd);
	if (tc_fwreg_tag(statefd, state_path, tag, dir, err) < 0)
		return -1;
	own = xcalloc(TC_FW_MAX, sizeof(*own));
	if (collect(statefd, tag, include, exclude, own, &n, &inc, err) < 0) {
		free(own);
		return -1;
	}
	if (n == 0 && !marked) {
		free(own);	/* never had rules: nothing to do, no privilege needed */
		return 0;
	}
	if (tc_fwreg_open(&reg, statefd, state_path, TC_FW_LOCK_WAIT_S, err) < 0) {
		free(own);
		return -1;
	}
	/* Values an older version saved in this directory are the originals. */
	r = tc_fwreg_localnet_path(&reg, path, sizeof(path), err);
	if (r == 0)
		r = tc_localnet_adopt(path, statefd, TC_LOCALNET_LEGACY, err);
	if (r == 0)
		r = tc_fwreg_others(&reg, 1, &others, &nothers, err);
	if (r == 0)
		r = port_clash(own, n, inc, others, nothers, err);
	if (r == 0 && inc != TC_FW_NONE)
		r = target_iface(&own[inc], 1, ifname, err) < 0 ? -1 : 0;
	/* The rule takes every local connection to that port: a service of the
	 * device listening there becomes unreachable from the device itself. */
	if (r == 0 && inc != TC_FW_NONE && port_listened(own[inc].local_port)) {
		tunnel_of(&own[inc], tname);
		tc_log(TC_LOG_WARN, "%s: local port %u is also a listening service on this device; "
		       "local connections to it will reach the tunnel's target instead",
		       tname, (unsigned)own[inc].local_port);
	}
	/* Marked before anything is recorded or installed, so that a crash
	 * leaves this directory known to have rules to clean up. */
	if (r == 0 && n > 0 && !marked)
		r = tc_write_atomic(statefd, TC_FW_MARK, "", 0, 0600, (uid_t)-1, (gid_t)-1, err);
	if (r == 0)
		r = tc_fwreg_put(&reg, own, n, err);
	if (r == 0) {
		all = merge(others, nothers, own, n, &nall);
		r = apply(path, all, nall, err);
	}
	if (r == 0 && n == 0)
		(void)unlinkat(statefd, TC_FW_MARK, 0);
	tc_fwreg_close(&reg);
	tc_fwreg_owners_free(others, nothers);
	free(all);
	free(own);
	return r;
}

/* 1 if the namespace's saved route_localnet values are all for interfaces
 * in ifs (none left on where no tunnel needs it any more), else 0. */
static int
no_extra_saved(const char *save_dir, char (*ifs)[IF_NAMESIZE], size_t nif)
{
	struct dirent *de;
	DIR *d;
	size_t j;
	int ok = 1;

	d = opendir(save_dir);
	if (d == NULL)
		return 1;
	while (ok && (de = readdir(d)) != NULL) {
		int found = 0;

		if (de->d_name[0] == '.')
			continue;
		for (j = 0; j < nif; j++)
			found |= strncmp(ifs[j], de->d_name, IF_NAMESIZE) == 0;
		ok = found;
	}
	closedir(d);
	return ok;
}

/* 1 if route_localnet is on toward every routable target of the n rules,
 * else 0. An interface re-created (USB NIC re-plugged, modem reconnect)
 * comes back with 0 and silently breaks the tunnel while the table still
 * looks right. With save_dir: also 0 when a saved value is left for an
 * interface none of the rules needs (checked only when every target is
 * routable: otherwise which interfaces are needed is not known). */
static int
localnet_ok(const char *save_dir, const struct tc_dnat *rules, size_t n)
{
	char (*ifs)[IF_NAMESIZE] = xcalloc(n, IF_NAMESIZE);
	size_t i, nif;
	int on, ok = 1, unknown;

	ifaces_of(rules, n, ifs, &nif, &unknown);
	for (i = 0; i < nif && ok; i++) {
		if (tc_localnet_get(ifs[i], &on, NULL) == 0 && !on)
			ok = 0;
	}
	if (ok && !unknown && save_dir != NULL)
		ok = no_extra_saved(save_dir, ifs, nif);
	free(ifs);
	return ok;
}

/* 1 if the two sets of rules are the same (any order), else 0. */
static int
same_set(const struct tc_dnat *a, size_t na, const struct tc_dnat *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			if (strcmp(a[i].name, b[j].name) == 0 && a[i].local_port == b[j].local_port &&
			    a[i].target.s_addr == b[j].target.s_addr &&
			    a[i].target_port == b[j].target_port)
				break;
		}
		if (j == nb)
			return 0;
	}
	return 1;
}

int
tc_fw_verify(int statefd, struct tc_err *err)
{
	struct tc_fwreg reg;
	struct tc_fwreg_owner *others = NULL;
	struct tc_dnat *own, *rec = NULL, *all = NULL;
	char tag[TC_FW_TAG_LEN + 1], dir[TC_PATH_MAX], path[sizeof(reg.path) + 16];
	size_t n, inc, nrec = 0, nothers = 0, nall = 0;
	int r, marked;

	marked = tc_fw_active(statefd);
	if (tc_fwreg_tag(statefd, "", tag, dir, err) < 0)
		return -1;
	own = xcalloc(TC_FW_MAX, sizeof(*own));
	if (collect(statefd, tag, NULL, NULL, own, &n, &inc, err) < 0) {
		free(own);
		return -1;
	}
	if (n == 0) {
		free(own);
		return !marked;	/* a mark left without tunnels: a reconcile clears it */
	}
	if (tc_fwreg_open(&reg, statefd, dir, TC_FW_LOCK_WAIT_S, err) < 0) {
		free(own);
		return -1;
	}
	r = tc_fwreg_own(&reg, &rec, &nrec, err);
	if (r == 0)
		r = tc_fwreg_others(&reg, 0, &others, &nothers, err);
	if (r == 0)
		r = tc_fwreg_localnet_path(&reg, path, sizeof(path), err);
	/* Our record must say what runs (a supervisor that died since is still
	 * in it), values an older version saved must be adopted, and the table
	 * must hold every directory's rules: else (r stays 0) not verified. */
	if (r == 0 && same_set(own, n, rec, nrec) &&
	    faccessat(statefd, TC_LOCALNET_LEGACY, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		all = merge(others, nothers, own, n, &nall);
		r = tc_nft_verify(all, nall, err);
		if (r == 1)
			r = localnet_ok(path, all, nall);
	}
	tc_fwreg_close(&reg);
	tc_fwreg_owners_free(others, nothers);
	free(all);
	free(rec);
	free(own);
	return r;
}

int
tc_fw_tunnel_check(int statefd, const char *state_path, const struct tc_spec *spec,
		   struct tc_err *err)
{
	char tag[TC_FW_TAG_LEN + 1], dir[TC_PATH_MAX];
	struct tc_dnat d;
	int r;

	if (spec->via != TC_VIA_DNAT)
		return 1;
	if (tc_fwreg_tag(statefd, state_path, tag, dir, err) < 0)
		return -1;
	if (dnat_of(spec, tag, &d) < 0)
		return 1;	/* never had a rule: nothing can be missing */
	r = tc_nft_contains(&d, 1, err);
	if (r == 1)
		r = localnet_ok(NULL, &d, 1);
	return r;
}
