/* firewall.c: glue between the tunnels on disk and lib/nft.c + lib/localnet.c. */
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
#include "localnet.h"
#include "log.h"
#include "nft.h"
#include "record.h"
#include "state.h"

#define TC_FW_MARK ".fw-active"		/* exists while our table may exist */
#define TC_LOCALNET_DIR ".localnet"	/* saved route_localnet values */
#define TC_FW_MAX 1024			/* dnat tunnels considered at most */

static int
supervisor_alive(int tdir)
{
	unsigned long long st;
	pid_t pid;

	return tc_pidfile_read(tdir, &pid, &st) == 0 && tc_proc_same(pid, st);
}

/* Collect the rules of live (or included) dnat tunnels; *inc is the index of
 * the included tunnel's rule, or TC_FW_NONE. */
#define TC_FW_NONE ((size_t)-1)
static int
collect(int statefd, const char *include, const char *exclude,
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
		if (live && tc_record_read(tdir, &rec, NULL) == 0 && rec.spec.via == TC_VIA_DNAT) {
			struct tc_dnat *r = &rules[*n];

			memset(r, 0, sizeof(*r));
			memcpy(r->name, rec.spec.name, sizeof(r->name));
			r->local_port = rec.spec.local_port;
			r->target_port = rec.spec.target_port;
			if (inet_pton(AF_INET, rec.spec.target_host, &r->target) == 1) {
				if (included)
					*inc = *n;
				(*n)++;
			}
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

static int
localnet(const char *state_path, const struct tc_dnat *rules, size_t n, size_t inc,
	 struct tc_err *err)
{
	char (*ifs)[IF_NAMESIZE];
	char path[TC_PATH_MAX + 16];
	size_t i, j, nif = 0;
	unsigned flags = 0;
	int r;

	ifs = calloc(n ? n : 1, IF_NAMESIZE);
	if (!ifs)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	for (i = 0; i < n; i++) {
		char name[IF_NAMESIZE];
		int dup_found = 0;

		r = target_iface(&rules[i], i == inc, name, err);
		if (r < 0) {
			free(ifs);
			return -1;
		}
		if (r == FW_NOROUTE)
			flags = TC_LOCALNET_KEEP_OTHERS;	/* unknown: restore nothing now */
		if (r != FW_IFACE)
			continue;
		for (j = 0; j < nif; j++)
			dup_found |= strcmp(ifs[j], name) == 0;
		if (!dup_found)
			memcpy(ifs[nif++], name, IF_NAMESIZE);
	}
	r = snprintf(path, sizeof(path), "%s/%s", state_path, TC_LOCALNET_DIR);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		free(ifs);
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir path too long");
	}
	r = tc_localnet_set_flags(path, ifs, nif, flags, err);
	free(ifs);
	return r;
}

/* Two rules on one local port: the first would take every connection and
 * the tunnel being started would silently reach the other one's target. */
static int
port_clash(const struct tc_dnat *rules, size_t n, size_t inc, struct tc_err *err)
{
	size_t i;

	if (inc == TC_FW_NONE)
		return 0;
	for (i = 0; i < n; i++) {
		if (i != inc && rules[i].local_port == rules[inc].local_port)
			return tc_err_set(err, TC_ERR_RUNTIME,
					  "local port %u is already used by dnat tunnel '%s'",
					  (unsigned)rules[inc].local_port, rules[i].name);
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

int
tc_fw_reconcile(const char *state_path, int statefd, const char *include,
		const char *exclude, struct tc_err *err)
{
	struct tc_dnat *rules;
	size_t n, inc;
	int r, marked;

	marked = faccessat(statefd, TC_FW_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	rules = calloc(TC_FW_MAX, sizeof(*rules));
	if (!rules)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	if (collect(statefd, include, exclude, rules, &n, &inc, err) < 0 ||
	    port_clash(rules, n, inc, err) < 0) {
		free(rules);
		return -1;
	}
	/* The rule takes every local connection to that port: a service of the
	 * device listening there becomes unreachable from the device itself. */
	if (inc != TC_FW_NONE && port_listened(rules[inc].local_port))
		tc_log(TC_LOG_WARN, "%s: local port %u is also a listening service on this device; "
		       "local connections to it will reach the tunnel's target instead",
		       rules[inc].name, (unsigned)rules[inc].local_port);
	if (n == 0 && !marked) {
		free(rules);
		return 0;
	}
	if (n > 0 && !marked &&
	    tc_write_atomic(statefd, TC_FW_MARK, "", 0, 0600, (uid_t)-1, (gid_t)-1, err) < 0) {
		free(rules);
		return -1;
	}
	r = tc_nft_apply(rules, n, err);
	if (r == 0)
		r = localnet(state_path, rules, n, inc, err);
	if (r == 0 && n == 0)
		unlinkat(statefd, TC_FW_MARK, 0);
	free(rules);
	return r;
}

/* 1 if SAVE_DIR holds no interface outside ifs (route_localnet left on
 * where no tunnel needs it any more), else 0. */
static int
no_extra_saved(int statefd, char (*ifs)[IF_NAMESIZE], size_t nif)
{
	struct dirent *de;
	DIR *d;
	size_t j;
	int fd, ok = 1;

	fd = openat(statefd, TC_LOCALNET_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 1;
	}
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

/* 1 if route_localnet is on toward every target and, when every target is
 * routable, off (restored) everywhere else, else 0. An interface re-created
 * (USB NIC re-plugged, modem reconnect) comes back with 0 and silently breaks
 * the tunnel while the table still looks right. */
static int
localnet_ok(int statefd, const struct tc_dnat *rules, size_t n)
{
	char (*ifs)[IF_NAMESIZE];
	size_t i, nif = 0;
	int on, r, ok = 1, unknown = 0;

	ifs = calloc(n ? n : 1, IF_NAMESIZE);
	if (!ifs)
		return 1;	/* cannot tell: not a reason to rewrite the table */
	for (i = 0; i < n && ok; i++) {
		r = target_iface(&rules[i], 0, ifs[nif], NULL);
		unknown |= r == FW_NOROUTE;
		if (r != FW_IFACE)
			continue;
		if (tc_localnet_get(ifs[nif], &on, NULL) == 0 && !on)
			ok = 0;
		nif++;
	}
	if (ok && !unknown)
		ok = no_extra_saved(statefd, ifs, nif);
	free(ifs);
	return ok;
}

int
tc_fw_verify(int statefd, struct tc_err *err)
{
	struct tc_dnat *rules;
	size_t n, inc;
	int r;

	rules = calloc(TC_FW_MAX, sizeof(*rules));
	if (!rules)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	if (collect(statefd, NULL, NULL, rules, &n, &inc, err) < 0) {
		free(rules);
		return -1;
	}
	r = n == 0 ? 1 : tc_nft_verify(rules, n, err);
	if (r == 1)
		r = localnet_ok(statefd, rules, n);
	free(rules);
	return r;
}
