/* cmd_watch.c: `watch`: sync that does not exit (SPEC "watch and push").
 * One poll loop: signals, the interval timer, rtnetlink link/address
 * events and, with an MQTT source, the broker's socket. Each trigger is a
 * round: the document (fetched, or the message that came) converged under
 * sync's lock, held only while converging. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "converge.h"
#include "fetch.h"
#include "log.h"
#include "mqtt.h"
#include "netwatch.h"
#include "opts.h"
#include "out.h"
#include "quiet.h"
#include "source.h"
#include "state.h"
#include "watchfile.h"
#include "xalloc.h"

#define INTERVAL_DEFAULT_S 60	/* contract: the default poll interval */
#define INTERVAL_MIN_S 5	/* contract: shorter polls are refused */
#define JITTER_PCT 10		/* each wait varies by up to this much, so a fleet spreads out */
#define LINK_DEBOUNCE_MS 1000	/* rtnetlink events come in bursts: one round for a burst */
/* A converge in full at least this often, quiet or not: what no kernel
 * notice covers (a sysctl such as route_localnet set by hand) is put right
 * within the hour. */
#define FULL_ROUND_S 3600

struct watcher {
	struct g *g;
	const struct opts *o;
	struct tc_source src;
	struct tc_ctx c;		/* the state dir; its lock only while converging */
	int single;			/* TC_WATCH_LOCK's fd */
	int owner;			/* TC_WATCH_LOCK is ours: watch.json is ours too */
	int sigfd, timerfd;
	struct mnl_socket *nw;
	struct tc_mqtt *mq;		/* NULL: an HTTP, file or SORACOM source */
	struct tc_doc_result last;	/* the last valid document, for rounds where it is unchanged */
	int have_last;
	/* Quiet since the last converge that found everything in order: a
	 * round on an unchanged document skips the converge (NULL: never). */
	struct tc_quiet *q;
	int64_t interval_s;
	unsigned seed;
	struct timespec link_at;	/* a link event is pending since then, or 0 */
	struct tc_watch_info info;
	int worked;			/* this round parsed or converged */
	int64_t full_at;		/* when the last converge ran (monotonic s) */
	int sleeping;			/* MQTT, quiet: the timer is set for full_at + an hour */
	/* Why the last SIGHUP was refused, until one is taken: shown as
	 * last_error while no round fails for another reason. */
	char hup_error[TC_WATCH_ERROR_MAX];
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* As status shows it; a long URL is cut (tc_fetch_shown_url marks that). */
static void
shown_source(const struct tc_source *src, char *out, size_t sz)
{
	char u[TC_WATCH_SOURCE_MAX - 80], id[TC_ECHO_MAX + 4];
	int r;

	if (src->soracom) {
		tc_fetch_shown_url(src->soracom, u, sizeof(u));
		r = snprintf(out, sz, "soracom %s", u);
	} else {
		tc_fetch_shown_url(src->url, u, sizeof(u));
		r = snprintf(out, sz, "%s (id %s)", u, tc_echo(src->id, id));
	}
	if (r < 0 || (size_t)r >= sz)
		out[0] = '\0';
}

/* The interval from --interval, else the settings, into *out; -1 on a bad value. */
static int
interval(const struct watcher *w, int64_t *out, struct tc_err *err)
{
	const char *v = w->o->interval ? w->o->interval : w->g->set.interval[0] ? w->g->set.interval : NULL;
	int64_t s = INTERVAL_DEFAULT_S;

	if (v && tc_parse_duration(v, &s, w->o->interval ? "--interval" : "interval", err) < 0) {
		err->kind = TC_ERR_USAGE;
		return -1;
	}
	if (s < INTERVAL_MIN_S)
		return tc_err_set(err, TC_ERR_USAGE, "%s: '%s' is shorter than %d s",
				  w->o->interval ? "--interval" : "interval", v, INTERVAL_MIN_S);
	*out = s;
	return 0;
}

/* Arm the next timer round: the interval, varied by up to JITTER_PCT.
 * With an MQTT source and everything quiet, an interval's round could find
 * nothing to do (a new document comes as a message, anything else as a
 * notice that disturbs the quiet): the timer is set for the hourly converge
 * in full instead, and set back to the interval as soon as the quiet is
 * disturbed (loop). An HTTP source is polled every interval, quiet or not. */
static void
arm_next(struct watcher *w)
{
	long long ms = w->interval_s * 1000;
	long long spread = ms * JITTER_PCT / 100;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	ms += (long long)(rand_r(&w->seed) % (2 * spread + 1)) - spread;
	w->sleeping = 0;
	if (w->mq && w->have_last && tc_quiet_armed(w->q)) {
		long long full = ((long long)w->full_at + FULL_ROUND_S) * 1000 - mono_ms();

		if (full > ms) {
			ms = full;
			w->sleeping = 1;
		}
	}
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	timerfd_settime(w->timerfd, 0, &its, NULL);
}

static void
note_error(struct watcher *w, const char *msg)
{
	tc_log(TC_LOG_ERR, "watch: %s", msg);
	snprintf(w->info.last_error, sizeof(w->info.last_error), "%s", msg);
}

/* Converge on doc under sync's lock; print what changed. */
static void
converge(struct watcher *w, const struct tc_doc_result *doc)
{
	struct tc_round r;
	struct tc_err e;
	char absent[160], id[TC_ECHO_MAX + 4];
	size_t i;
	int *changed, any = 0;

	w->c.lockfd = tc_lock(w->c.statefd, w->g->wait_s, &e);
	if (w->c.lockfd < 0) {
		note_error(w, e.msg);
		return;
	}
	/* An empty MQTT payload is parsed by no one: its id is the source's. */
	snprintf(absent, sizeof(absent), "no entry for device '%s' in the document",
		 doc->id[0] ? doc->id : tc_echo(w->src.id ? w->src.id : "", id));
	if (tc_converge(&w->c, doc, absent, &r, &e) < 0) {
		note_error(w, e.msg);
		tc_quiet_disturb(w->q);
	} else {
		/* The changes only: a watcher's "unchanged" every minute is noise. */
		changed = xcalloc(r.n, sizeof(*changed));
		for (i = 0; i < r.n; i++) {
			changed[i] = r.ok[i] && r.acts[i].act != TC_ACT_KEEP &&
				     r.acts[i].act != TC_ACT_EXPIRED && r.acts[i].act != TC_ACT_REVOKED;
			any |= changed[i];
		}
		if (any) {
			w->info.last_change_at = now_s();
			out_print(w->g, tc_out_sync(r.acts, changed, r.n, w->g->json));
		}
		free(changed);
		if (r.last.kind != TC_OK) {
			snprintf(w->info.last_error, sizeof(w->info.last_error), "%s", r.last.msg);
			tc_quiet_disturb(w->q);	/* retried next round, as before */
		} else {
			tc_quiet_arm(w->q, &w->c);	/* under the lock: what it reads holds still */
		}
	}
	tc_round_free(&r);
	close(w->c.lockfd);
	w->c.lockfd = -1;
}

static void
finish_round(struct watcher *w)
{
	struct tc_err e;

	w->info.rounds++;
	w->info.last_check_at = now_s();
	/* What parsing and converging allocated is free again; give the heap
	 * back before idling (idle rounds allocate next to nothing, so it
	 * stays given back until the next change). */
	if (w->worked)
		malloc_trim(0);
	w->worked = 0;
	if (w->info.last_error[0] == '\0' && w->hup_error[0])
		memcpy(w->info.last_error, w->hup_error, sizeof(w->info.last_error));
	if (tc_watch_write(w->c.statefd, &w->info, &e) < 0)
		tc_log(TC_LOG_ERR, "watch: %s", e.msg);
	tc_quiet_check(w->q);	/* takes watch.json's own events now, not in a wake-up of their own */
	arm_next(w);
}

/* Converge on the last document unless nothing it bears on changed since
 * the last converge found everything in order (then the same converge
 * would do nothing: this is what makes an idle round cheap). */
static void
converge_last(struct watcher *w, int doc_changed)
{
	if (doc_changed || mono_ms() / 1000 - w->full_at >= FULL_ROUND_S)
		tc_quiet_disturb(w->q);
	if (w->have_last && !tc_quiet_check(w->q)) {
		converge(w, &w->last);
		w->full_at = mono_ms() / 1000;
		w->worked = 1;
	}
}

/* Take doc as the last document. */
static void
keep_doc(struct watcher *w, struct tc_doc_result *doc)
{
	tc_doc_result_free(&w->last);
	w->last = *doc;
	w->have_last = 1;
}

/* A round of a fetched source (HTTP, file, SORACOM): fetch, converge. A 304
 * parses nothing: the document parsed last is still the one. */
static void
poll_round(struct watcher *w)
{
	struct tc_doc_result doc;
	struct tc_err e;
	int nm;

	w->info.last_error[0] = '\0';
	w->src.skip_unchanged = w->have_last;
	if (tc_source_load(w->c.statefd, &w->src, &doc, &nm, &e) < 0) {
		note_error(w, e.msg);
	} else if (nm && w->have_last) {
		converge_last(w, 0);
	} else if (settings_to_specs(w->g, doc.specs, doc.n, &e) < 0) {
		note_error(w, e.msg);
		tc_doc_result_free(&doc);
	} else {
		keep_doc(w, &doc);
		w->worked = 1;
		converge_last(w, 1);
	}
	finish_round(w);
}

/* A round of an MQTT source: a message just came (payload), or the timer
 * fired and the last document is converged on again (so tunnels whose
 * supervisor died come back and flushed rules are restored, as cron's sync
 * would). */
static void
mqtt_round(struct watcher *w, char *payload, size_t len)
{
	struct tc_doc_result doc;
	struct tc_err e;
	int fresh = payload != NULL;

	if (payload) {
		int r = tc_source_parse_mqtt(payload, len, w->src.id, &doc, &e);

		if (r == 0 && (r = settings_to_specs(w->g, doc.specs, doc.n, &e)) < 0)
			tc_doc_result_free(&doc);
		if (r < 0) {
			w->info.last_error[0] = '\0';
			note_error(w, e.msg);	/* an invalid document changes nothing */
			free(payload);
			finish_round(w);
			return;
		}
		free(payload);
		keep_doc(w, &doc);
	}
	w->info.last_error[0] = '\0';
	converge_last(w, fresh);
	if (tc_mqtt_last_error(w->mq)[0] && tc_mqtt_state(w->mq) != TC_MQTT_SUBSCRIBED)
		snprintf(w->info.last_error, sizeof(w->info.last_error), "%s", tc_mqtt_last_error(w->mq));
	finish_round(w);
}

static void
round_now(struct watcher *w)
{
	if (w->mq)
		mqtt_round(w, NULL, 0);
	else
		poll_round(w);
}

/* What the flags and the settings decide: SIGHUP replaces all of it or
 * nothing. The strings it points to live in w->g->set and in argv. */
struct conf {
	struct tc_source src;
	struct tc_mqtt *mq;		/* NULL: an HTTP, file or SORACOM source */
	int64_t interval_s;
	struct tc_ctx tools;		/* only the ssh, autossh, run_as and devkey fields */
	char shown[TC_WATCH_SOURCE_MAX];
};

/* Build a conf from w->g->set and the flags; nothing of w changes. */
static int
configure(const struct watcher *w, struct conf *cf, struct tc_err *err)
{
	struct tc_mqtt_opts mo;

	memset(cf, 0, sizeof(*cf));
	if (interval(w, &cf->interval_s, err) < 0 || source_resolve(w->g, w->o, &cf->src, err) < 0 ||
	    ctx_tools(w->g, &cf->tools, NULL, err) < 0)
		return -1;
	cf->src.keep_connection = 1;
	shown_source(&cf->src, cf->shown, sizeof(cf->shown));
	if (cf->src.url && tc_mqtt_is_url(cf->src.url)) {
		tc_source_mqtt_opts(&cf->src, &mo);
		if (tc_mqtt_new(&mo, &cf->mq, err) < 0)
			return -1;
	}
	return 0;
}

/* The source's connections and what came from it. */
static void
source_free(struct watcher *w)
{
	if (w->mq)
		tc_mqtt_free(w->mq);
	w->mq = NULL;
	tc_doc_result_free(&w->last);
	w->have_last = 0;
	tc_quiet_disturb(w->q);
	tc_fetch_cleanup();
	tc_source_forget();
}

/* Take cf (the MQTT client moves into w). */
static void
install(struct watcher *w, struct conf *cf)
{
	source_free(w);
	w->src = cf->src;
	w->mq = cf->mq;
	cf->mq = NULL;
	w->interval_s = cf->interval_s;
	w->c.supervisor = cf->tools.supervisor;
	w->c.ssh_path = cf->tools.ssh_path;
	w->c.autossh_path = cf->tools.autossh_path;
	w->c.run_as = cf->tools.run_as;
	w->c.devkey_path = cf->tools.devkey_path;
	memcpy(w->info.source, cf->shown, sizeof(w->info.source));
}

/* SIGHUP: read the settings file again and set up from it as at start. All
 * or nothing: a file that cannot be read or parsed, or whose settings do not
 * work (a bad interval, no source, a bad MQTT option, no ssh), is logged and
 * the watcher goes on exactly as before; fix it and send SIGHUP again. The
 * state directory stays the one of the start. */
static void
reread(struct watcher *w)
{
	struct tc_settings *old = xmalloc(sizeof(*old)), *fresh = xcalloc(1, sizeof(*fresh));
	struct conf cf;
	struct tc_err e;

	*old = w->g->set;
	if (tc_settings_read(w->g->settings_path, w->g->settings_explicit, fresh, &e) < 0)
		goto bad;
	/* conf points into w->g->set: the old values stay where they were
	 * if the new ones are refused. */
	w->g->set = *fresh;
	if (configure(w, &cf, &e) < 0) {
		w->g->set = *old;
		goto bad;
	}
	install(w, &cf);
	w->hup_error[0] = '\0';
	tc_log(TC_LOG_INFO, "watch: SIGHUP: settings read again; %s, every %lld s", w->info.source,
	       (long long)w->interval_s);
	free(old);
	free(fresh);
	return;
bad:
	note_error(w, e.msg);
	tc_log(TC_LOG_ERR, "watch: SIGHUP: keeping the settings read before");
	snprintf(w->hup_error, sizeof(w->hup_error), "SIGHUP: %.400s (the settings read before are in use)",
		 e.msg);
	free(old);
	free(fresh);
}

/* One pass over pending signals: 1 to stop. */
static int
on_signals(struct watcher *w)
{
	struct signalfd_siginfo si[8];
	int stop = 0, hup = 0, usr1 = 0;
	ssize_t n = read(w->sigfd, si, sizeof(si));

	/* One read takes what is pending (up to 8; more stay readable for the
	 * next pass of the loop). */
	for (ssize_t i = 0; n > 0 && i < n / (ssize_t)sizeof(si[0]); i++) {
		if (si[i].ssi_signo == SIGTERM || si[i].ssi_signo == SIGINT)
			stop = 1;
		else if (si[i].ssi_signo == SIGHUP)
			hup = 1;
		else if (si[i].ssi_signo == SIGUSR1)
			usr1 = 1;
	}
	if (stop)
		return 1;
	if (hup)
		reread(w);
	/* "Check now": with a broker that is down, that means connecting now
	 * rather than after the backoff (the round alone would only converge
	 * on the last document again). */
	if (usr1 && w->mq)
		tc_mqtt_reconnect_now(w->mq);
	if (hup || usr1)
		round_now(w);
	return 0;
}

/* Say what the connection did: subscribed (a connection error is over), or
 * lost or refused (why, and when the next attempt comes). */
static void
mqtt_state(struct watcher *w)
{
	enum tc_mqtt_state st = tc_mqtt_state(w->mq);
	struct pollfd pfd;
	int ms;

	if (st == TC_MQTT_SUBSCRIBED) {
		tc_log(TC_LOG_INFO, "watch: subscribed to %s", w->info.source);
		memcpy(w->info.last_error, w->hup_error, sizeof(w->info.last_error));
	} else if (st == TC_MQTT_WAITING && tc_mqtt_last_error(w->mq)[0]) {
		ms = tc_mqtt_poll_setup(w->mq, &pfd);
		tc_log(TC_LOG_ERR, "watch: %s; retrying in %d.%d s", tc_mqtt_last_error(w->mq), ms / 1000,
		       ms % 1000 / 100);
		snprintf(w->info.last_error, sizeof(w->info.last_error), "%s", tc_mqtt_last_error(w->mq));
	} else {
		return;
	}
	tc_watch_write(w->c.statefd, &w->info, NULL);
}

static void
mqtt_events(struct watcher *w, short revents)
{
	unsigned ev = tc_mqtt_handle(w->mq, revents);
	char *payload;
	size_t len;

	if (ev & TC_MQTT_EV_STATE)
		mqtt_state(w);
	/* A message refused (over the size cap): it changes nothing. */
	if (ev & TC_MQTT_EV_ERROR) {
		note_error(w, tc_mqtt_last_error(w->mq));
		tc_watch_write(w->c.statefd, &w->info, NULL);
	}
	if (tc_mqtt_take(w->mq, &payload, &len))
		mqtt_round(w, payload, len);
}

static int
setup(struct watcher *w, struct tc_err *err)
{
	sigset_t set;
	struct timespec ts;
	struct conf cf;

	if (configure(w, &cf, err) < 0)
		return -1;
	install(w, &cf);
	if (tc_ctx_open(&w->c, w->g->state_dir, 1, -1, err) < 0)
		return -1;
	w->single = openat(w->c.statefd, TC_WATCH_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->single < 0 || flock(w->single, LOCK_EX | LOCK_NB) < 0) {
		struct tc_watch_info other;

		if (tc_watch_read(w->c.statefd, &other) == 0)
			return tc_err_set(err, TC_ERR_LOCKED, "another watch runs for %s (pid %ld)",
					  w->g->state_dir, (long)other.pid);
		return tc_err_set(err, TC_ERR_LOCKED, "another watch runs for %s", w->g->state_dir);
	}
	w->owner = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	w->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (w->sigfd < 0 || w->timerfd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "signalfd/timerfd: %s", strerror(errno));
	w->nw = tc_netwatch_open();	/* NULL: no link events; the interval still works */
	w->q = tc_quiet_new();		/* NULL: every round converges */
	clock_gettime(CLOCK_REALTIME, &ts);
	w->seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid();
	w->info.pid = getpid();
	tc_proc_identity(w->info.pid, &w->info.starttime, NULL);
	return 0;
}

static void
teardown(struct watcher *w)
{
	source_free(w);
	tc_netwatch_close(w->nw);
	tc_quiet_free(w->q);
	if (w->sigfd >= 0)
		close(w->sigfd);
	if (w->timerfd >= 0)
		close(w->timerfd);
	/* status then says "watch": null. (A second watcher refused with 75
	 * must leave the first one's file alone.) */
	if (w->owner)
		unlinkat(w->c.statefd, TC_WATCH_FILE, 0);
	if (w->single >= 0)
		close(w->single);
	tc_ctx_close(&w->c);
}

/* MQTT, quiet, no interval rounds: a notice came (the next round is an
 * interval away again), or the watcher is awake anyway (a ping, its
 * answer) and the broker connection stands: that is this source's check,
 * so last_check_at says when it was, at most once an interval. */
static void
sleep_check(struct watcher *w)
{
	struct tc_err e;

	if (!tc_quiet_armed(w->q)) {
		arm_next(w);
		return;
	}
	if (tc_mqtt_state(w->mq) != TC_MQTT_SUBSCRIBED || now_s() - w->info.last_check_at < w->interval_s)
		return;
	w->info.last_check_at = now_s();
	if (tc_watch_write(w->c.statefd, &w->info, &e) < 0)
		tc_log(TC_LOG_ERR, "watch: %s", e.msg);
	tc_quiet_check(w->q);	/* watch.json's own events */
}

static int
loop(struct watcher *w)
{
	for (;;) {
		struct pollfd p[5] = {
			{ w->sigfd, POLLIN, 0 }, { w->timerfd, POLLIN, 0 },
			{ tc_netwatch_fd(w->nw), POLLIN, 0 }, { -1, 0, 0 },
			{ tc_quiet_fd(w->q), POLLIN, 0 },
		};
		struct tc_mqtt *polled = w->mq;	/* SIGHUP may replace it below */
		int timeout = -1;
		uint64_t ticks;

		if (w->mq)
			timeout = tc_mqtt_poll_setup(w->mq, &p[3]);
		if (w->link_at.tv_sec) {
			long long left = LINK_DEBOUNCE_MS - (mono_ms() - ((long long)w->link_at.tv_sec * 1000 +
									 w->link_at.tv_nsec / 1000000));
			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		if (poll(p, 5, timeout) < 0 && errno != EINTR) {
			tc_log(TC_LOG_ERR, "watch: poll: %s", strerror(errno));
			return 1;
		}
		/* Signs first: a round in this pass must know of them. */
		if (p[4].revents & POLLIN)
			tc_quiet_check(w->q);
		if ((p[0].revents & POLLIN) && on_signals(w))
			return 0;
		if ((p[1].revents & POLLIN) && read(w->timerfd, &ticks, sizeof(ticks)) > 0)
			round_now(w);
		/* A new or re-created interface may need route_localnet again:
		 * the next converge must not be skipped. */
		if ((p[2].revents & POLLIN) && tc_netwatch_read(w->nw)) {
			tc_quiet_disturb(w->q);
			if (!w->link_at.tv_sec)
				clock_gettime(CLOCK_MONOTONIC, &w->link_at);
		}
		/* The network came back: the broker at once (not after its
		 * backoff), and a fetched source polled again. */
		if (w->link_at.tv_sec &&
		    mono_ms() - ((long long)w->link_at.tv_sec * 1000 + w->link_at.tv_nsec / 1000000) >=
		    LINK_DEBOUNCE_MS) {
			w->link_at.tv_sec = 0;
			w->link_at.tv_nsec = 0;
			tc_log(TC_LOG_INFO, "watch: network changed");
			if (w->mq)
				tc_mqtt_reconnect_now(w->mq);
			else
				poll_round(w);
		}
		if (w->mq)
			mqtt_events(w, w->mq == polled ? p[3].revents : 0);
		if (w->sleeping)
			sleep_check(w);
	}
}

int
cmd_watch(struct g *g, struct opts *o, int argc, char **argv, struct tc_err *err)
{
	struct watcher w;
	int r;

	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.40s'", argv[0]);
	memset(&w, 0, sizeof(w));
	w.g = g;
	w.o = o;
	w.single = w.sigfd = w.timerfd = -1;
	w.c.statefd = w.c.lockfd = -1;
	if (setup(&w, err) < 0) {
		teardown(&w);
		return -1;
	}
	tc_log(TC_LOG_INFO, "watch: %s, every %lld s", w.info.source, (long long)w.interval_s);
	round_now(&w);	/* at start; for MQTT the retained message follows */
	r = loop(&w);
	teardown(&w);
	return r;
}
