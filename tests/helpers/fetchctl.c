/* fetchctl: drive lib/fetch.c alone, for integration tests and benchmarks.
 * Prints the result as key=value lines; exit 0 ok, 69 fetch error, 1 other. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

#define EXIT_FETCH 69	/* SPEC: the config source could not be fetched */

static void
usage(void)
{
	fprintf(stderr, "usage: fetchctl URL [--etag E] [--last-modified L] "
		"[--cacert F] [--timeout S] [--connect-timeout S] "
		"[--max-bytes N] [--body FILE]\n");
}

static int
parse_num(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
write_body(const char *path, const struct tc_fetch_result *r)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "fetchctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (off < r->len) {
		n = write(fd, r->body + off, r->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "fetchctl: %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "fetchctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "etag", required_argument, NULL, 'e' },
		{ "last-modified", required_argument, NULL, 'l' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "max-bytes", required_argument, NULL, 'm' },
		{ "body", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tc_fetch_opts o = { 0 };
	struct tc_fetch_result r;
	struct tc_err err = { 0 };
	const char *body = NULL;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.etag = optarg; break;
		case 'l': o.last_modified = optarg; break;
		case 'c': o.cacert = optarg; break;
		case 'b': body = optarg; break;
		case 't':
		case 'C':
		case 'm':
			if (parse_num(optarg, c == 'm' ? LONG_MAX : 86400, &v) < 0) {
				fprintf(stderr, "fetchctl: bad number: %s\n", optarg);
				return 1;
			}
			if (c == 't')
				o.total_timeout_s = v;
			else if (c == 'C')
				o.connect_timeout_s = v;
			else
				o.max_bytes = (size_t)v;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (optind + 1 != argc) {
		usage();
		return 1;
	}
	if (tc_fetch(argv[optind], &o, &r, &err) < 0) {
		fprintf(stderr, "fetchctl: %s\n", err.msg);
		return err.kind == TC_ERR_FETCH ? EXIT_FETCH : 1;
	}
	printf("http_code=%ld\nnot_modified=%d\nlen=%zu\netag=%s\n"
	       "last_modified=%s\nbytes=%zu\n", r.http_code, r.not_modified,
	       r.len, r.etag != NULL ? r.etag : "",
	       r.last_modified != NULL ? r.last_modified : "", r.bytes_received);
	if (body != NULL && write_body(body, &r) < 0) {
		tc_fetch_result_free(&r);
		return 1;
	}
	tc_fetch_result_free(&r);
	if (fflush(stdout) == EOF)
		return 1;
	return 0;
}
