/* watchfile.c: watch.json through json-c, written atomically. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "state.h"
#include "watchfile.h"
#include "jsonw.h"
#include "xalloc.h"

#define WATCH_FILE_MAX (16 * 1024)

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
	r = tc_write_atomic(statefd, TC_WATCH_FILE, s, strlen(s), 0600, (uid_t)-1, (gid_t)-1, err);
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
