/* mqttctl: drive lib/mqtt.c alone, for integration tests.
 *   mqttctl get URL --id ID [OPTS]: the one-shot get; prints len= and sha256=
 *   mqttctl load URL --id ID [OPTS]: tc_source_load (what sync does): prints
 *     has_device= and n=; exit 65 for an invalid document
 *   mqttctl watch URL --id ID [OPTS] [--count N] [--timeout S]: the
 *     long-running client in a poll() loop; one line per event, prefixed with
 *     the milliseconds since start; SIGUSR1 reconnects at once; SIGTERM or N
 *     messages end it (exit 0); the timeout ends it with exit 1.
 * A "state waiting" line says when the next attempt is due (retry_in_ms).
 * Exit codes as tunnelctl's: 0 ok, 2 usage, 65 invalid, 69 fetch error, 1 other. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "mqtt.h"
#include "num.h"
#include "sha256.h"
#include "source.h"

#define EXIT_USAGE 2
#define EXIT_INVALID 65	/* SPEC: the config document is invalid */
#define EXIT_FETCH 69	/* SPEC: the config source could not be fetched */

static int64_t t0;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	printf("%lld ", (long long)(now_ms() - t0));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mqttctl get|load|watch URL --id ID [--cafile F] [--certfile F "
		"--keyfile F] [--username U] [--password-file F] [--keepalive S] "
		"[--body FILE] [--count N] [--timeout S]\n");
}

static int
write_body(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "we");

	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mqttctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
exit_code(const struct tc_err *err)
{
	switch (err->kind) {
	case TC_ERR_FETCH: return EXIT_FETCH;
	case TC_ERR_USAGE: return EXIT_USAGE;
	case TC_ERR_INVALID: return EXIT_INVALID;
	default: return 1;
	}
}

static int
load(const struct tc_mqtt_opts *o)
{
	struct tc_source src = { 0 };
	struct tc_doc_result doc;
	struct tc_err err = { 0 };
	int nm;

	src.url = o->url;
	src.id = o->id;
	src.mqtt_cafile = o->cafile;
	src.mqtt_certfile = o->certfile;
	src.mqtt_keyfile = o->keyfile;
	src.mqtt_username = o->username;
	src.mqtt_password_file = o->password_file;
	src.mqtt_keepalive = o->keepalive_s;
	if (tc_source_load(-1, &src, &doc, &nm, &err) < 0) {
		fprintf(stderr, "mqttctl: %s\n", err.msg);
		return exit_code(&err);
	}
	printf("has_device=%d\nn=%zu\nnot_modified=%d\n", doc.has_device, doc.n, nm);
	tc_doc_result_free(&doc);
	return fflush(stdout) == EOF ? 1 : 0;
}

static int
watch(const struct tc_mqtt_opts *o, unsigned long count, unsigned long timeout_s)
{
	struct tc_mqtt_stats st;
	struct tc_err err = { 0 };
	struct signalfd_siginfo si;
	struct tc_mqtt *m;
	struct pollfd pfd[2];
	unsigned long got = 0;
	int64_t end = now_ms() + (int64_t)timeout_s * 1000;
	sigset_t set;
	int sfd, timeout, rc = 1;
	unsigned ev;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		perror("mqttctl: signalfd");
		return 1;
	}
	if (tc_mqtt_new(o, &m, &err) < 0) {
		fprintf(stderr, "mqttctl: %s\n", err.msg);
		close(sfd);
		return err.kind == TC_ERR_USAGE ? EXIT_USAGE : 1;
	}
	say("start pid=%d", (int)getpid());
	for (;;) {
		char *doc;
		size_t len;

		timeout = tc_mqtt_poll_setup(m, &pfd[0]);
		if (end - now_ms() < timeout)
			timeout = end - now_ms() < 0 ? 0 : (int)(end - now_ms());
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			perror("mqttctl: poll");
			break;
		}
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGUSR1) {
					say("reconnect-now");
					tc_mqtt_reconnect_now(m);
				} else {
					say("signal %u", si.ssi_signo);
					rc = 0;
					goto out;
				}
			}
		}
		ev = tc_mqtt_handle(m, pfd[0].revents);
		if ((ev & TC_MQTT_EV_STATE) && tc_mqtt_state(m) == TC_MQTT_WAITING) {
			struct pollfd p;

			say("state waiting retry_in_ms=%d error=%s", tc_mqtt_poll_setup(m, &p),
			    tc_mqtt_last_error(m));
		} else if (ev & TC_MQTT_EV_STATE) {
			say("state %s", tc_mqtt_state_name(tc_mqtt_state(m)));
		}
		if (ev & TC_MQTT_EV_ERROR)
			say("refused %s", tc_mqtt_last_error(m));
		if (tc_mqtt_take(m, &doc, &len)) {
			char hex[2 * TC_SHA256_LEN + 1];

			tc_sha256_hex(doc, len, hex);
			free(doc);
			say("message len=%zu sha256=%s", len, hex);
			if (++got == count) {
				rc = 0;
				break;
			}
		}
		if (now_ms() >= end) {
			say("timeout");
			break;
		}
	}
out:
	tc_mqtt_stats(m, &st);
	say("stats attempts=%lu subscribed=%lu messages=%lu backoff_ms=%u", st.attempts,
	    st.subscribed, st.messages, st.backoff_ms);
	tc_mqtt_free(m);
	close(sfd);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "cafile", required_argument, NULL, 'a' },
		{ "certfile", required_argument, NULL, 'c' },
		{ "keyfile", required_argument, NULL, 'k' },
		{ "username", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "keepalive", required_argument, NULL, 'K' },
		{ "body", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct tc_mqtt_opts o = { 0 };
	struct tc_err err = { 0 };
	unsigned long long v, count = 0, timeout = 3600;
	const char *body = NULL, *cmd;
	char *doc, hex[2 * TC_SHA256_LEN + 1];
	size_t len;
	int c;

	t0 = now_ms();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o.id = optarg; break;
		case 'a': o.cafile = optarg; break;
		case 'c': o.certfile = optarg; break;
		case 'k': o.keyfile = optarg; break;
		case 'u': o.username = optarg; break;
		case 'p': o.password_file = optarg; break;
		case 'b': body = optarg; break;
		case 'K':
		case 'n':
		case 't':
			if (tc_parse_uint(optarg, 1000000, &v) < 0) {
				fprintf(stderr, "mqttctl: bad number: %s\n", optarg);
				return EXIT_USAGE;
			}
			if (c == 'K')
				o.keepalive_s = (unsigned)v;
			else if (c == 'n')
				count = v;
			else
				timeout = v;
			break;
		default:
			usage();
			return EXIT_USAGE;
		}
	}
	if (optind + 2 != argc) {
		usage();
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	o.url = argv[optind + 1];
	if (strcmp(cmd, "watch") == 0)
		return watch(&o, count, timeout);
	if (strcmp(cmd, "load") == 0)
		return load(&o);
	if (strcmp(cmd, "get") != 0) {
		usage();
		return EXIT_USAGE;
	}
	if (tc_mqtt_get(&o, &doc, &len, &err) < 0) {
		fprintf(stderr, "mqttctl: %s\n", err.msg);
		return exit_code(&err);
	}
	tc_sha256_hex(doc, len, hex);
	printf("len=%zu\nsha256=%s\n", len, hex);
	if (body != NULL && write_body(body, doc, len) < 0) {
		free(doc);
		return 1;
	}
	free(doc);
	return fflush(stdout) == EOF ? 1 : 0;
}
