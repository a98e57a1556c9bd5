/* fetchctl: drive lib/fetch.c alone, for integration tests and benchmarks.
 * Prints the result as key=value lines; exit 0 ok, 69 fetch error, 1 other.
 * With --load ID it drives lib/source.c instead: tc_source_load --repeat
 * times (--keep: keep_connection, as watch does; --state DIR: the validator
 * cache), one line per load, then which of its descriptors lack CLOEXEC. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>

#include "fetch.h"
#include "source.h"
#include "state.h"

#define EXIT_FETCH 69	/* SPEC: the config source could not be fetched */

static void
usage(void)
{
	fprintf(stderr, "usage: fetchctl URL [--etag E] [--last-modified L] "
		"[--cacert F] [--timeout S] [--connect-timeout S] "
		"[--max-bytes N] [--body FILE]\n"
		"       fetchctl --load ID URL [--repeat N] [--keep] [--state DIR] [--cacert F]\n");
}

/* The descriptors above stderr: how many are sockets, and which sockets lack
 * CLOEXEC (a comma list, "" when none; the test's own inherited pipes and
 * files are not ours to judge). */
static void
fd_report(void)
{
	char path[64], list[512] = "";
	struct dirent *de;
	struct stat st;
	size_t o = 0;
	int sockets = 0, fd, f, n;
	DIR *d = opendir("/proc/self/fd");

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (fd <= 2 || fd == dirfd(d))
			continue;
		n = snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (n <= 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0)
			continue;
		if (S_ISSOCK(st.st_mode))
			sockets++;
		f = fcntl(fd, F_GETFD);
		if (f >= 0 && !(f & FD_CLOEXEC) && S_ISSOCK(st.st_mode)) {
			n = snprintf(list + o, sizeof(list) - o, "%s%d", o ? "," : "", fd);
			if (n > 0 && (size_t)n < sizeof(list) - o)
				o += (size_t)n;
		}
	}
	closedir(d);
	printf("sockets=%d\nsockets_not_cloexec=%s\n", sockets, list);
}

static int
load(const char *url, const char *id, const char *cacert, const char *state,
     long repeat, int keep)
{
	struct tc_source src = { 0 };
	struct tc_doc_result doc;
	struct tc_err err = { 0 };
	int statefd = -1, nm, rc = 0;

	if (state != NULL && (statefd = tc_state_open(state, 1, &err)) < 0) {
		fprintf(stderr, "fetchctl: %s\n", err.msg);
		return 1;
	}
	src.url = url;
	src.id = id;
	src.cacert = cacert;
	src.keep_connection = keep;
	for (long i = 1; i <= repeat; i++) {
		if (tc_source_load(statefd, &src, &doc, &nm, &err) < 0) {
			fprintf(stderr, "fetchctl: %s\n", err.msg);
			rc = err.kind == TC_ERR_FETCH ? EXIT_FETCH : 1;
			break;
		}
		printf("load=%ld not_modified=%d has_device=%d n=%zu\n", i, nm, doc.has_device,
		       doc.n);
		tc_doc_result_free(&doc);
	}
	fd_report();
	tc_fetch_cleanup();
	if (statefd >= 0)
		close(statefd);
	return fflush(stdout) == EOF ? 1 : rc;
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
		{ "load", required_argument, NULL, 'L' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tc_fetch_opts o = { 0 };
	struct tc_fetch_result r;
	struct tc_err err = { 0 };
	const char *body = NULL, *load_id = NULL, *state = NULL;
	long v, repeat = 1;
	int keep = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o.etag = optarg; break;
		case 'l': o.last_modified = optarg; break;
		case 'c': o.cacert = optarg; break;
		case 'b': body = optarg; break;
		case 'L': load_id = optarg; break;
		case 'k': keep = 1; break;
		case 's': state = optarg; break;
		case 'r':
			if (parse_num(optarg, 1000, &repeat) < 0) {
				fprintf(stderr, "fetchctl: bad number: %s\n", optarg);
				return 1;
			}
			break;
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
	if (load_id != NULL)
		return load(argv[optind], load_id, o.cacert, state, repeat, keep);
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
