/* quiet.h: whether anything a converge looks at may have changed since the
 * last one that found everything in order, so a watcher's idle round can
 * skip it. Armed after such a converge, it listens, without waking
 * anyone, for what could make the next converge act:
 *   - the state dir and each tunnel's dir (inotify): a tunnel started,
 *     stopped or rewritten by another tunnelctl, a supervisor's record;
 *   - each running supervisor (a pidfd): it ended or was killed;
 *   - nftables (change notifications on NETLINK_NETFILTER): a rule flushed
 *     or rewritten by anyone.
 * The first sign of any of them "disturbs" it (and closes what it listened
 * with), and the watcher converges again as cron's sync would. Where the
 * kernel lacks something (no pidfd, no inotify), it never counts as quiet:
 * every round converges, as without it. */
#ifndef TC_QUIET_H
#define TC_QUIET_H

#include "tunnel.h"

struct tc_quiet;

/* NULL when epoll is not available (then the caller converges every round). */
struct tc_quiet *tc_quiet_new(void);
void tc_quiet_free(struct tc_quiet *q);

/* After a converge that found everything in order, with c's lock held:
 * listen from now on. Returns 0, or -1 (not armed: the next round converges). */
int tc_quiet_arm(struct tc_quiet *q, struct tc_ctx *c);

/* Something else said the next round must converge (a new document,
 * SIGHUP, a failed action). */
void tc_quiet_disturb(struct tc_quiet *q);

/* One descriptor to poll for POLLIN (-1 for a NULL q): readable when a sign
 * may have come. Call tc_quiet_check then. */
int tc_quiet_fd(const struct tc_quiet *q);

/* Take the signs that came (never blocks); 1 while nothing was seen since
 * tc_quiet_arm, 0 once disturbed. */
int tc_quiet_check(struct tc_quiet *q);

/* What the last check (or disturbance) left, without looking again: 1 while
 * armed and nothing was seen. No system call. */
int tc_quiet_armed(const struct tc_quiet *q);

#endif
