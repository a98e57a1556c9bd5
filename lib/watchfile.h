/* watchfile.h: STATE_DIR/watch.json, what a running `tunnelctl watch` says
 * about itself after each round; `status` reads it. */
#ifndef TC_WATCHFILE_H
#define TC_WATCHFILE_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define TC_WATCH_FILE "watch.json"
#define TC_WATCH_TMP "." TC_WATCH_FILE ".tmp"	/* written, then renamed to TC_WATCH_FILE */
#define TC_WATCH_LOCK ".watch.lock"	/* held for a watcher's life: one per state dir */
#define TC_WATCH_SOURCE_MAX 256
#define TC_WATCH_ERROR_MAX 512

struct tc_watch_info {
	pid_t pid;				/* the watcher */
	unsigned long long starttime;		/* its /proc start time: a reused pid is not it */
	char source[TC_WATCH_SOURCE_MAX];	/* as shown: no credentials, no query */
	int64_t last_check_at;			/* unix seconds of the last round, 0 = none yet */
	int64_t last_change_at;			/* of the last round that changed a tunnel, 0 = none */
	char last_error[TC_WATCH_ERROR_MAX];	/* the last round's failure, "" when it worked */
	uint64_t rounds;			/* rounds done (for tests and logs) */
};

/* Replace it atomically for readers (0600), without fsync: its watcher is
 * the only writer (it holds the watch lock), and a stale file is ignored. */
int tc_watch_write(int statefd, const struct tc_watch_info *w, struct tc_err *err);

/* 0 and *w filled when watch.json names a watcher that is alive, else -1
 * (none, unreadable, or its process is gone). */
int tc_watch_read(int statefd, struct tc_watch_info *w);

#endif
