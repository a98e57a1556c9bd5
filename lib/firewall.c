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

/* Collect the rules of live (or included) dnat tunnels. */
static int
collect(int statefd, const char *include, const char *exclude,
	struct tc_dnat *rules, size_t *n, struct tc_err *err)
{
	struct dirent *de;
	DIR *d;
	int fd;

	*n = 0;
	fd = dup(statefd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "state dir: %s", strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL && *n < TC_FW_MAX) {
		struct tc_record rec;
		int tdir, live;

		if (!tc_valid_name(de->d_name))
			continue;
		if (exclude && strcmp(de->d_name, exclude) == 0)
			continue;
		tdir = tc_subdir_open(statefd, de->d_name, 0, NULL);
		if (tdir < 0)
			continue;
		live = (include && strcmp(de->d_name, include) == 0) || supervisor_alive(tdir);
		if (live && tc_record_read(tdir, &rec, NULL) == 0 && rec.spec.via == TC_VIA_DNAT) {
			struct tc_dnat *r = &rules[*n];

			memset(r, 0, sizeof(*r));
			memcpy(r->name, rec.spec.name, sizeof(r->name));
			r->local_port = rec.spec.local_port;
			r->target_port = rec.spec.target_port;
			if (inet_pton(AF_INET, rec.spec.target_host, &r->target) == 1)
				(*n)++;
		}
		close(tdir);
	}
	closedir(d);
	return 0;
}

static int
localnet(const char *state_path, const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	char (*ifs)[IF_NAMESIZE];
	char path[TC_PATH_MAX + 16];
	size_t i, j, nif = 0;
	int r;

	ifs = calloc(n ? n : 1, IF_NAMESIZE);
	if (!ifs)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	for (i = 0; i < n; i++) {
		char name[IF_NAMESIZE];
		int dup_found = 0;

		if (tc_route_iface(rules[i].target, name, err) < 0) {
			free(ifs);
			return -1;
		}
		if (strcmp(name, "lo") == 0)
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
	r = tc_localnet_set(path, ifs, nif, err);
	free(ifs);
	return r;
}

int
tc_fw_reconcile(const char *state_path, int statefd, const char *include,
		const char *exclude, struct tc_err *err)
{
	struct tc_dnat *rules;
	size_t n;
	int r, marked;

	marked = faccessat(statefd, TC_FW_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	rules = calloc(TC_FW_MAX, sizeof(*rules));
	if (!rules)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	if (collect(statefd, include, exclude, rules, &n, err) < 0) {
		free(rules);
		return -1;
	}
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
		r = localnet(state_path, rules, n, err);
	if (r == 0 && n == 0)
		unlinkat(statefd, TC_FW_MARK, 0);
	free(rules);
	return r;
}

int
tc_fw_verify(int statefd, struct tc_err *err)
{
	struct tc_dnat *rules;
	size_t n;
	int r;

	rules = calloc(TC_FW_MAX, sizeof(*rules));
	if (!rules)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	if (collect(statefd, NULL, NULL, rules, &n, err) < 0) {
		free(rules);
		return -1;
	}
	r = n == 0 ? 1 : tc_nft_verify(rules, n, err);
	free(rules);
	return r;
}
