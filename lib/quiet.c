/* quiet.c: see quiet.h. One epoll descriptor holds what is listened to, so
 * the watcher polls a single fd however many tunnels there are. */
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "nlsock.h"
#include "quiet.h"
#include "source.h"
#include "state.h"
#include "watchfile.h"
#include "xalloc.h"

/* epoll tags */
#define TAG_INOTIFY 0u
#define TAG_NFT 1u
#define TAG_PID 2u

/* What changes in the state dir without bearing on a converge: the
 * watcher's own files, the lock files and the fetch cache's directory. */
static const char *const ignored[] = {
	TC_WATCH_FILE, TC_WATCH_TMP, TC_WATCH_LOCK, TC_LOCK_NAME, TC_FETCH_DIR,
};

#define DIR_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
		    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct tc_quiet {
	int ep;
	int armed;		/* listening, and nothing seen since */
	int ino;		/* inotify, -1 */
	int top_wd;		/* the state dir's watch */
	struct mnl_socket *nft;	/* nftables notifications, or NULL */
	int *pidfds;
	size_t npid;
};

struct tc_quiet *
tc_quiet_new(void)
{
	struct tc_quiet *q;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->ep = ep;
	q->ino = -1;
	return q;
}

/* Stop listening (the epoll set empties as its descriptors close). */
static void
disarm(struct tc_quiet *q)
{
	size_t i;

	q->armed = 0;
	if (q->ino >= 0)
		close(q->ino);
	q->ino = -1;
	if (q->nft)
		mnl_socket_close(q->nft);
	q->nft = NULL;
	for (i = 0; i < q->npid; i++)
		close(q->pidfds[i]);
	free(q->pidfds);
	q->pidfds = NULL;
	q->npid = 0;
}

void
tc_quiet_free(struct tc_quiet *q)
{
	if (q == NULL)
		return;
	disarm(q);
	close(q->ep);
	free(q);
}

void
tc_quiet_disturb(struct tc_quiet *q)
{
	if (q)
		disarm(q);
}

int
tc_quiet_armed(const struct tc_quiet *q)
{
	return q ? q->armed : 0;
}

int
tc_quiet_fd(const struct tc_quiet *q)
{
	return q ? q->ep : -1;
}

static int
add(struct tc_quiet *q, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(q->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Watch directory fd dfd (by its /proc/self/fd name: no path to race on). */
static int
watch_dir(struct tc_quiet *q, int dfd)
{
	char path[40];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	return inotify_add_watch(q->ino, path, DIR_EVENTS);
}

/* The supervisor recorded in tunnel dir tdir, if one runs: a pidfd for it,
 * taken before its identity is checked, so it is that process's. 0 with
 * nothing to listen to (no supervisor: the tunnel is down, and its
 * directory's watch covers a change); -1 when it cannot be listened to. */
static int
watch_supervisor(struct tc_quiet *q, int tdir)
{
	unsigned long long st;
	pid_t pid;
	int fd;

	if (tc_pidfile_read(tdir, &pid, &st) < 0)
		return 0;
	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return -1;	/* gone since the converge, or no pidfd: not quiet */
	if (!tc_proc_same(pid, st) || add(q, fd, TAG_PID) < 0) {
		close(fd);
		return -1;
	}
	q->pidfds = xrealloc(q->pidfds, (q->npid + 1) * sizeof(*q->pidfds));
	q->pidfds[q->npid++] = fd;
	return 0;
}

int
tc_quiet_arm(struct tc_quiet *q, struct tc_ctx *c)
{
	char (*names)[TC_NAME_MAX + 1];
	size_t n, i;
	int tdir, ok;

	if (q == NULL)
		return -1;
	disarm(q);
	/* First the watches, then what they cover is read: a change in
	 * between is seen, never lost. */
	q->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (q->ino < 0 || (q->top_wd = watch_dir(q, c->statefd)) < 0 || add(q, q->ino, TAG_INOTIFY) < 0)
		goto fail;
	/* Without CAP_NET_ADMIN there are no notifications, and no rules of
	 * ours to lose either. */
	q->nft = tc_nl_open(NETLINK_NETFILTER, 1u << (NFNLGRP_NFTABLES - 1), TC_NL_NONBLOCK, 0, 0, 0, NULL);
	if (q->nft && add(q, mnl_socket_get_fd(q->nft), TAG_NFT) < 0)
		goto fail;
	if (tc_tunnel_list(c, &names, &n, NULL) < 0)
		goto fail;
	for (i = 0, ok = 1; ok && i < n; i++) {
		tdir = tc_subdir_open(c->statefd, names[i], 0, NULL);
		ok = tdir >= 0 && watch_dir(q, tdir) >= 0 && watch_supervisor(q, tdir) == 0;
		if (tdir >= 0)
			close(tdir);
	}
	free(names);
	if (!ok)
		goto fail;
	q->armed = 1;
	return 0;
fail:
	disarm(q);
	return -1;
}

/* Read the inotify events: 1 if one of them bears on a converge. */
static int
inotify_news(struct tc_quiet *q)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t len;
	size_t i;
	int news = 0;

	/* One read: what does not fit stays readable for the next check. */
	len = read(q->ino, buf, sizeof(buf));
	for (char *p = buf; len > 0 && p < buf + len; p += sizeof(*ev) + ev->len) {
		int ign = 0;

		ev = (const struct inotify_event *)p;
		if (ev->wd == q->top_wd && ev->len > 0 && !(ev->mask & (IN_Q_OVERFLOW | IN_IGNORED)))
			for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
				ign |= strcmp(ev->name, ignored[i]) == 0;
		news |= !ign;
	}
	if (len < 0 && errno != EAGAIN && errno != EINTR)
		news = 1;
	return news;
}

int
tc_quiet_check(struct tc_quiet *q)
{
	struct epoll_event ev[8];
	int n, i, news = 0;

	if (q == NULL || !q->armed)
		return 0;
	n = epoll_wait(q->ep, ev, 8, 0);
	for (i = 0; i < n; i++)
		news |= ev[i].data.u32 != TAG_INOTIFY || inotify_news(q);
	if (n < 0 && errno != EINTR)
		news = 1;
	if (news)
		disarm(q);
	return q->armed;
}
