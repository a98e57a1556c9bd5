/* registry.h: tunnelctl-gate's registry: one JSON file per live session in
 * a directory (default /run/tunnelctl-gate), written atomically by the
 * session's `serve`, read by `list` and `close`. No daemon keeps it: a
 * record counts only while the serve that wrote it is alive. */
#ifndef TC_REGISTRY_H
#define TC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hello.h"

#define TC_GATE_REGISTRY_DEFAULT "/run/tunnelctl-gate"
#define TC_GATE_DEVICE_MAX 64		/* [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
#define TC_GATE_ID_LEN 16		/* session id: 16 lowercase hex digits (64 random bits) */
#define TC_GATE_PORTS_MAX 8		/* distinct listen ports one session may hold */
#define TC_GATE_INODES_MAX 16		/* its listening sockets (a port on 127.0.0.1 and ::1 is two) */
#define TC_GATE_ADDR_MAX 46		/* INET6_ADDRSTRLEN */
#define TC_GATE_REASON_MAX 200		/* close --reason, printed to the device */
#define TC_GATE_FILE_MODE 0640		/* records: the owner writes, the web group reads */

struct tc_gate_rec {
	char id[TC_GATE_ID_LEN + 1];
	char device[TC_GATE_DEVICE_MAX + 1];
	char tunnel[TC_NAME_MAX + 1];
	char target[TC_TARGET_MAX + 1];		/* as the device claimed it */
	uint16_t ports[TC_GATE_PORTS_MAX];	/* ascending */
	size_t nports;
	char bind[TC_GATE_ADDR_MAX];		/* address of the first listener */
	char client[TC_GATE_ADDR_MAX];		/* the device's address, from SSH_CONNECTION */
	int64_t started_at;			/* unix seconds */
	int64_t expires_at;			/* 0 = never */
	pid_t pid;				/* the serve process */
	unsigned long long starttime;		/* its /proc start time: a reused pid is not it */
	pid_t session_pid;			/* the sshd session process serve watches */
	unsigned long long inodes[TC_GATE_INODES_MAX];	/* listening sockets claimed */
	size_t ninodes;
};

/* Device ids come from the server's side (authorized_keys, certificates):
 * [A-Za-z0-9][A-Za-z0-9._-]{0,63} (an IMSI, a host name, edge-0042). */
int tc_gate_valid_device(const char *s);
int tc_gate_valid_id(const char *s);
/* A fresh session id from getrandom(2). */
int tc_gate_new_id(char out[TC_GATE_ID_LEN + 1], struct tc_err *err);

/* Open the registry directory (O_DIRECTORY, no symlink). A writer (serve)
 * creates it 0750 when missing and requires it to be its own and not
 * writable or readable by others (mode 0750 or tighter); a reader (list,
 * close) only refuses a directory anyone may write to. Returns an fd or -1. */
int tc_reg_open(const char *path, int writer, struct tc_err *err);

/* Exclusive flock on DIR/.lock, waiting at most wait_ms: serves that are
 * registering at the same moment take turns. Returns the fd or -1. */
int tc_reg_lock(int dirfd, int wait_ms, struct tc_err *err);

int tc_reg_write(int dirfd, const struct tc_gate_rec *r, struct tc_err *err);
/* Read and validate DIR/ID.json (a record is untrusted: the devices'
 * account writes the directory). ENOENT: -1 with errno ENOENT. */
int tc_reg_read(int dirfd, const char *id, struct tc_gate_rec *r, struct tc_err *err);
/* Remove ID.json and ID.close; a missing file is fine. */
void tc_reg_remove(int dirfd, const char *id);

/* 1 when the record's serve still runs: same pid, same start time, and
 * (owner != -1) run by uid owner, so a forged record can never make
 * `close` signal another user's process. */
int tc_reg_alive(const struct tc_gate_rec *r, uid_t owner);

/* Every live record, sorted by device, tunnel, start. Records of dead
 * serves are skipped, and with prune also removed (best effort: a reader
 * without write access leaves them). *out is heap memory the caller frees. */
int tc_reg_list(int dirfd, int prune, struct tc_gate_rec **out, size_t *n, struct tc_err *err);

/* close: leave the reason for serve in ID.close (owner:group as given, 0640). */
int tc_reg_close_request(int dirfd, const char *id, const char *reason, uid_t owner,
			 gid_t group, struct tc_err *err);
/* serve: the reason left by close, printable ASCII, at most
 * TC_GATE_REASON_MAX bytes; a default when there is none. */
void tc_reg_close_reason(int dirfd, const char *id, char out[TC_GATE_REASON_MAX + 1]);
/* A printable, bounded copy of an operator's reason (control bytes and
 * non-ASCII become '?'), never empty. */
void tc_reg_clean_reason(const char *in, char out[TC_GATE_REASON_MAX + 1]);

#endif
