/* tap.h: the smallest TAP producer for unit tests (one header, no library). */
#ifndef TC_TAP_H
#define TC_TAP_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do { \
	int ok_c_ = !!(cond); \
	printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	if (!ok_c_) { \
		tap_failed++; \
		printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define is_str(a, b, ...) do { \
	const char *is_a_ = (a), *is_b_ = (b); \
	ok(is_a_ && is_b_ && strcmp(is_a_, is_b_) == 0, __VA_ARGS__); \
	if (!(is_a_ && is_b_ && strcmp(is_a_, is_b_) == 0)) \
		printf("#   got '%s', expected '%s'\n", is_a_ ? is_a_ : "(null)", is_b_ ? is_b_ : "(null)"); \
} while (0)

#define is_int(a, b, ...) do { \
	long long is_a_ = (long long)(a), is_b_ = (long long)(b); \
	ok(is_a_ == is_b_, __VA_ARGS__); \
	if (is_a_ != is_b_) \
		printf("#   got %lld, expected %lld\n", is_a_, is_b_); \
} while (0)

static char tap_root[64];

static inline void
tap_rm_root(void)
{
	char cmd[sizeof(tap_root) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tap_root);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tap_root);
}

/* A fresh directory /tmp/TAG.XXXXXX, removed with what it holds at exit;
 * its path, or NULL when it cannot be made. */
static inline const char *
tap_tmpdir(const char *tag)
{
	snprintf(tap_root, sizeof(tap_root), "/tmp/%s.XXXXXX", tag);
	if (!mkdtemp(tap_root))
		return NULL;
	atexit(tap_rm_root);
	return tap_root;
}

/* Write text to dirfd/name (created or truncated, 0600); says so on failure. */
static inline void
tap_put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("# cannot write %s\n", name);
	if (fd >= 0)
		close(fd);
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
