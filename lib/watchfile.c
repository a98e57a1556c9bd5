/* watchfile.c: watch.json through json-c, replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "state.h"
#include "watchfile.h"
#include "jsonw.h"
#include "xalloc.h"

#define WATCH_FILE_MAX (16 * 1024)

/* Rewritten after every round, and meaningful only while its watcher runs:
 * readers never see half a file (a temporary name, then rename), but
 * nothing is fsync'd. After a crash either version may be there, and a
 * dead watcher's file is ignored anyway (tc_watch_read). Two fsyncs a
 * round would be most of an idle round's cost on a disk (measured: ext4,
 * 2.8 ms and 10 wake-ups), for a file in /run. Only the watcher holding
 * the state dir's watch lock writes it, so the temporary name is fixed. */
static int
replace(int statefd, const char *s, size_t len, struct tc_err *err)
{
	int fd = openat(statefd, TC_WATCH_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e;

	if (fd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", TC_WATCH_FILE, strerror(errno));
	while (len > 0) {
		ssize_t w = write(fd, s, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		s += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (renameat(statefd, TC_WATCH_TMP, statefd, TC_WATCH_FILE) == 0)
		return 0;
	fd = -1;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(statefd, TC_WATCH_TMP, 0);
	return tc_err_set(err, TC_ERR_RUNTIME, "%s: %s", TC_WATCH_FILE, strerror(e));
}

int
tc_watch_write(int statefd, const struct tc_watch_info *w, struct tc_err *err)
{
	json_object *o = XCHECK(json_object_new_object());
	const char *s;
	int r;

	tc_json_add_int(o, "pid", w->pid);
	json_object_object_add(o, "starttime", XCHECK(json_object_new_uint64(w->starttime)));
	tc_json_add_str(o, "source", w->source);
	tc_json_add_int(o, "last_check_at", w->last_check_at);
	tc_json_add_int(o, "last_change_at", w->last_change_at);
	tc_json_add_str(o, "last_error", w->last_error);
	json_object_object_add(o, "rounds", XCHECK(json_object_new_uint64(w->rounds)));
	s = XCHECK(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	r = replace(statefd, s, strlen(s), err);
	json_object_put(o);
	return r;
}

static void
str(json_object *o, const char *k, char *dst, size_t sz)
{
	json_object *v;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) < sz)
		memcpy(dst, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
}

static int64_t
num(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int) ?
	       json_object_get_int64(v) : 0;
}

int
tc_watch_read(int statefd, struct tc_watch_info *w)
{
	json_object *o, *v;
	char *buf;
	size_t len;

	memset(w, 0, sizeof(*w));
	if (tc_read_file(statefd, TC_WATCH_FILE, WATCH_FILE_MAX, &buf, &len, NULL) < 0)
		return -1;
	o = json_tokener_parse(buf);
	free(buf);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	w->pid = (pid_t)num(o, "pid");
	if (json_object_object_get_ex(o, "starttime", &v))
		w->starttime = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "rounds", &v))
		w->rounds = json_object_get_uint64(v);
	str(o, "source", w->source, sizeof(w->source));
	str(o, "last_error", w->last_error, sizeof(w->last_error));
	w->last_check_at = num(o, "last_check_at");
	w->last_change_at = num(o, "last_change_at");
	json_object_put(o);
	return w->pid > 1 && tc_proc_same(w->pid, w->starttime) ? 0 : -1;
}
