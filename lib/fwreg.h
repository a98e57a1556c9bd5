/* fwreg.h: the firewall's bookkeeping per network namespace: which rules each
 * state directory owns, and the values route_localnet had before tunnelctl. */

/* `ip tunnelctl` and route_localnet belong to a network namespace, not to a
 * state directory, so this lives in /run/tunnelctl-fw/NETNS/ (NETNS: the
 * inode number of /proc/self/ns/net). */
#ifndef TC_FWREG_H
#define TC_FWREG_H

#include <stddef.h>

#include "err.h"
#include "nft.h"
#include "record.h"

#define TC_FWREG_ROOT "/run/tunnelctl-fw"
#define TC_FWREG_LOCALNET "localnet"	/* saved route_localnet values, per interface */
/* A state directory's tag: the first hex digits of the SHA-256 of its
 * absolute path. It names its file in owners/ and ends its rules' comments
 * (NAME@TAG), so that two directories' tunnels of one name stay apart. */
#define TC_FW_TAG_LEN 8

struct tc_fwreg {
	int dirfd;			/* /run/tunnelctl-fw/NETNS */
	int lockfd;			/* its .lock, held while open */
	char path[sizeof(TC_FWREG_ROOT) + 24];
	char tag[TC_FW_TAG_LEN + 1];	/* the state directory's that opened it */
	char state_dir[TC_PATH_MAX];	/* its absolute path */
};

/* The rules another state directory owns. */
struct tc_fwreg_owner {
	char tag[TC_FW_TAG_LEN + 1];
	char dir[TC_PATH_MAX];
	struct tc_dnat *rules;		/* comments NAME@TAG; heap */
	size_t n;
};

/* The tag and absolute path of the state directory open as statefd
 * (state_path when /proc cannot tell). Needs no privilege. */
int tc_fwreg_tag(int statefd, const char *state_path, char tag[TC_FW_TAG_LEN + 1],
		 char dir[TC_PATH_MAX], struct tc_err *err);

/* Open this namespace's directory (created 0700, refused if a symlink, not
 * ours, or writable by others) and take its lock, waiting at most wait_s
 * seconds. The caller holds its state directory's lock: that one is always
 * taken first, so two directories never wait for each other in a circle.
 * Bookkeeping left by an earlier namespace with the same inode number (its
 * netns cookie differs) is dropped. */
int tc_fwreg_open(struct tc_fwreg *r, int statefd, const char *state_path, int wait_s,
		  struct tc_err *err);

/* Release the lock; when no directory owns anything and no route_localnet
 * value is saved, the namespace's directory is removed first (the
 * TC_FWREG_ROOT above it stays, as /run/tunnelctl does). */
void tc_fwreg_close(struct tc_fwreg *r);

/* The rules every other state directory owns (*v heap, free with
 * tc_fwreg_owners_free). With `prune`, a directory that no longer exists
 * (checked only from the mount namespace that recorded it) loses its
 * record. A record that cannot be read is an error: its rules would be
 * dropped from the table. */
int tc_fwreg_others(struct tc_fwreg *r, int prune, struct tc_fwreg_owner **v, size_t *n,
		    struct tc_err *err);
void tc_fwreg_owners_free(struct tc_fwreg_owner *v, size_t n);

/* This directory's own record: *v heap (free()), *n 0 when it has none. */
int tc_fwreg_own(struct tc_fwreg *r, struct tc_dnat **v, size_t *n, struct tc_err *err);

/* Record that this directory owns exactly `rules` (comments NAME@TAG);
 * n == 0 removes its record. Atomic: a crash leaves the old or the new one. */
int tc_fwreg_put(struct tc_fwreg *r, const struct tc_dnat *rules, size_t n,
		 struct tc_err *err);

/* TC_FWREG_ROOT/NETNS/localnet, for lib/localnet.c. */
int tc_fwreg_localnet_path(const struct tc_fwreg *r, char *buf, size_t size,
			   struct tc_err *err);

#endif
