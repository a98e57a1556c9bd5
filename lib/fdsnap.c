/* fdsnap.c: descriptors opened between two points, made CLOEXEC: tunnels are
 * started from the same process (watch), and nothing of the config fetch
 * may live on in them. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fdsnap.h"
#include "num.h"
#include "xalloc.h"

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

void
tc_fdsnap_take(struct tc_fdsnap *s)
{
	size_t cap = 32;
	unsigned long long v;
	struct dirent *de;
	DIR *d;

	s->n = 0;
	s->fds = xmalloc(cap * sizeof(*s->fds));
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (tc_parse_uint(de->d_name, 0x7fffffff, &v) < 0 || (int)v == dirfd(d))
			continue;
		if (s->n == cap) {
			cap *= 2;
			s->fds = xrealloc(s->fds, cap * sizeof(*s->fds));
		}
		s->fds[s->n++] = (int)v;
	}
	closedir(d);
	qsort(s->fds, s->n, sizeof(*s->fds), cmp_int);
}

size_t
tc_fdsnap_cloexec_new(struct tc_fdsnap *s, int *out, size_t max)
{
	struct tc_fdsnap now;
	size_t k = 0;
	int f;

	tc_fdsnap_take(&now);
	for (size_t i = 0; i < now.n; i++) {
		if (bsearch(&now.fds[i], s->fds, s->n, sizeof(*s->fds), cmp_int) != NULL)
			continue;
		f = fcntl(now.fds[i], F_GETFD);
		if (f >= 0 && !(f & FD_CLOEXEC))
			fcntl(now.fds[i], F_SETFD, f | FD_CLOEXEC);
		if (out != NULL && k < max)
			out[k] = now.fds[i];
		k++;
	}
	free(now.fds);
	free(s->fds);
	memset(s, 0, sizeof(*s));
	return k;
}
