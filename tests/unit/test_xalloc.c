/* test_xalloc.c: the out-of-memory policy (lib/xalloc.h): a failed
 * allocation says "out of memory" and ends the process with exit code 1, so
 * no caller can go on as if it had done its work; and tc_parse_uint, the
 * one decimal parser (lib/num.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "tap.h"
#include "xalloc.h"

/* Under AddressSanitizer a failing allocation must return NULL as glibc's
 * does (ASan's default is to report and abort): the policy under test is
 * ours. Without ASan this function is never called. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* Run fn in a child with stderr into a pipe: its exit status and what it said. */
static int
in_child(void (*fn)(void), char *said, size_t saidsz)
{
	int p[2], st = -1;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	fflush(stdout);		/* or the child's exit() prints our TAP lines again */
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		tc_log_open("tunnelctl", 0);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (len < saidsz - 1 && (n = read(p[0], said + len, saidsz - 1 - len)) > 0)
		len += (size_t)n;
	said[len] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Sizes no allocator serves on any architecture: glibc refuses more than
 * PTRDIFF_MAX bytes, and calloc refuses a product that overflows. */
#define TOO_BIG ((size_t)PTRDIFF_MAX + 1)
static void huge_malloc(void) { free(xmalloc(TOO_BIG)); }
static void huge_calloc(void) { free(xcalloc(SIZE_MAX / 4, 8)); }
static void huge_realloc(void) { free(xrealloc(NULL, TOO_BIG)); }
static void null_check(void) { void *p = NULL; XCHECK(p); }
static void fine(void) { char *s = xstrdup("x"); free(s); free(xcalloc(0, 0)); }

int
main(void)
{
	char said[512];
	unsigned long long v;

	is_int(in_child(huge_malloc, said, sizeof(said)), 1, "xmalloc failing exits 1");
	/* (ASan, when built with it, warns on the line before) */
	ok(strstr(said, "tunnelctl: out of memory\n") != NULL && strchr(strstr(said, "tunnelctl: out"), '\n')[1] == '\0',
	   "... saying out of memory, last");
	is_int(in_child(huge_calloc, said, sizeof(said)), 1, "xcalloc failing exits 1");
	is_int(in_child(huge_realloc, said, sizeof(said)), 1, "xrealloc failing exits 1");
	is_int(in_child(null_check, said, sizeof(said)), 1, "XCHECK(NULL) exits 1");
	is_int(in_child(fine, said, sizeof(said)), 0, "allocations that fit return (0 bytes too)");

	ok(tc_parse_uint("0", 10, &v) == 0 && v == 0, "0");
	ok(tc_parse_uint("65535", 65535, &v) == 0 && v == 65535, "max itself");
	ok(tc_parse_uint("65536", 65535, &v) < 0, "max + 1 refused");
	ok(tc_parse_uint("7", 5, &v) < 0, "one digit above a small max refused");
	ok(tc_parse_uint("18446744073709551615", UINT64_MAX, &v) == 0 && v == UINT64_MAX, "2^64-1");
	ok(tc_parse_uint("18446744073709551616", UINT64_MAX, &v) < 0, "2^64 overflows: refused");
	ok(tc_parse_uint("022", 100, &v) < 0, "leading zero refused");
	ok(tc_parse_uint("", 100, &v) < 0 && tc_parse_uint(NULL, 100, &v) < 0, "empty and NULL refused");
	ok(tc_parse_uint("-1", 100, &v) < 0 && tc_parse_uint("+1", 100, &v) < 0, "signs refused");
	ok(tc_parse_uint(" 1", 100, &v) < 0 && tc_parse_uint("1 ", 100, &v) < 0, "blanks refused");
	ok(tc_parse_uint("1x", 100, &v) < 0 && tc_parse_uint("0x10", 100, &v) < 0, "junk and hex refused");
	return tap_done();
}
