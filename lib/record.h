/* record.h: what is kept on disk about one tunnel.
 * spec.json is written by the command that starts the tunnel (never holds the
 * key); run.json is written only by the tunnel's supervisor. */
#ifndef TC_RECORD_H
#define TC_RECORD_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "spec.h"

enum tc_tstate {
	TC_ST_STARTING = 0,
	TC_ST_UP,
	TC_ST_RETRYING,
	TC_ST_EXPIRED,
	TC_ST_FAILED,
	TC_ST_REVOKED,		/* closed by the server's operator (tunnelctl-gate close) */
};

/* A state the tunnel stays in until its spec changes: no supervisor runs,
 * its key is gone, and sync does not restart it (failed aside: cron is the
 * slow retry of a failure). */
#define TC_ST_FINAL(st) ((st) == TC_ST_EXPIRED || (st) == TC_ST_FAILED || (st) == TC_ST_REVOKED)

#define TC_PATH_MAX 256
#define TC_ERRTEXT_MAX 256

struct tc_record {
	struct tc_spec spec;		/* spec.key stays NULL: the key lives in the file "key" */
	int origin_sync;		/* 1: started by sync; 0: by start */
	char digest[TC_DIGEST_HEX];	/* the whole spec, key included */
	char ssh_digest[TC_DIGEST_HEX];	/* what reaches ssh (dnat target left out) */
	char run_as[TC_USER_MAX + 1];	/* "" = ssh runs as root */
	char ssh_path[TC_PATH_MAX];
	char autossh_path[TC_PATH_MAX];	/* "" = plain ssh with tunnelctl's own restarts */
};

struct tc_run {
	enum tc_tstate state;
	pid_t pid;			/* the supervisor */
	unsigned long long starttime;	/* its /proc start time */
	int64_t started_at;		/* unix seconds */
	int64_t expires_at;		/* 0 = no timeout */
	unsigned allocated_port;	/* remote port the server chose when 0 was asked */
	unsigned restarts;
	char last_error[TC_ERRTEXT_MAX];	/* "" = none */
};

const char *tc_tstate_name(enum tc_tstate st);

int tc_record_write(int dirfd, const struct tc_record *r, struct tc_err *err);
int tc_record_read(int dirfd, struct tc_record *r, struct tc_err *err);
int tc_run_write(int dirfd, const struct tc_run *r, struct tc_err *err);
int tc_run_read(int dirfd, struct tc_run *r, struct tc_err *err);

#endif
