/* registry.c: tunnelctl-gate's session records: one ID.json per session,
 * written atomically, read back strictly (the devices' account owns the
 * directory, so a record is not trusted), and counted only while its serve
 * process lives. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "registry.h"
#include "state.h"
#include "jsonw.h"
#include "xalloc.h"

#define REC_MAX 4096		/* a full record is under 1 KiB */
#define LOCK_POLL_MS 20
#define DEFAULT_REASON "closed by the operator"

int
tc_gate_valid_device(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
		    (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (i >= TC_GATE_DEVICE_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
tc_gate_valid_id(const char *s)
{
	size_t i;

	for (i = 0; i < TC_GATE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

int
tc_gate_new_id(char out[TC_GATE_ID_LEN + 1], struct tc_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[TC_GATE_ID_LEN / 2];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return tc_err_set(err, TC_ERR_RUNTIME, "session id: getrandom: %s", strerror(errno));
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[TC_GATE_ID_LEN] = '\0';
	return 0;
}

int
tc_reg_open(const char *path, int writer, struct tc_err *err)
{
	struct stat st;
	int fd;

	if (writer && mkdir(path, 0750) < 0 && errno != EEXIST)
		return tc_err_set(err, errno == EACCES || errno == EPERM ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "registry %s: %s (it is made at boot by tmpfiles.d: see tunnelctl-gate(8))",
				  path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		return tc_err_set(err, e == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME, "registry %s: %s", path,
				  e == ELOOP || e == ENOTDIR ? "not a directory (symlink?)" : strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "registry %s: %s", path, strerror(errno));
	}
	if (st.st_mode & S_IWOTH) {
		close(fd);
		return tc_err_set(err, TC_ERR_PERM, "registry %s: writable by anyone (mode %04o)", path,
				  (unsigned)(st.st_mode & 07777));
	}
	if (writer && st.st_uid != geteuid()) {
		close(fd);
		return tc_err_set(err, TC_ERR_PERM, "registry %s: owned by uid %u, not by this account (uid %u)",
				  path, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	/* Records name devices and their addresses: not for every local user. */
	if (writer && (st.st_mode & 027)) {
		close(fd);
		return tc_err_set(err, TC_ERR_PERM, "registry %s: mode %04o, want 0750 or tighter", path,
				  (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

int
tc_reg_lock(int dirfd, int wait_ms, struct tc_err *err)
{
	struct timespec nap = { 0, LOCK_POLL_MS * 1000000L };
	int fd, waited = 0;

	fd = openat(dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, TC_GATE_FILE_MODE);
	if (fd < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "registry lock: %s", strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= wait_ms) {
			int e = errno;

			close(fd);
			return tc_err_set(err, TC_ERR_RUNTIME, "registry lock: %s",
					  e == EWOULDBLOCK ? "held too long by another serve" : strerror(e));
		}
		nanosleep(&nap, NULL);
		waited += LOCK_POLL_MS;
	}
	return fd;
}

int
tc_reg_write(int dirfd, const struct tc_gate_rec *r, struct tc_err *err)
{
	json_object *o = XCHECK(json_object_new_object());
	json_object *ports = XCHECK(json_object_new_array());
	json_object *inodes = XCHECK(json_object_new_array());
	char name[TC_GATE_ID_LEN + 8];
	const char *s;
	size_t i;
	int rc;

	tc_json_add_str(o, "id", r->id);
	tc_json_add_str(o, "device", r->device);
	tc_json_add_str(o, "tunnel", r->tunnel);
	tc_json_add_str(o, "target", r->target);
	for (i = 0; i < r->nports; i++)
		json_object_array_add(ports, XCHECK(json_object_new_int(r->ports[i])));
	json_object_object_add(o, "ports", ports);
	tc_json_add_str(o, "bind", r->bind);
	tc_json_add_str(o, "client", r->client);
	tc_json_add_int(o, "started_at", r->started_at);
	tc_json_add_int(o, "expires_at", r->expires_at);
	tc_json_add_int(o, "pid", r->pid);
	json_object_object_add(o, "starttime", XCHECK(json_object_new_uint64(r->starttime)));
	tc_json_add_int(o, "session_pid", r->session_pid);
	for (i = 0; i < r->ninodes; i++)
		json_object_array_add(inodes, XCHECK(json_object_new_uint64(r->inodes[i])));
	json_object_object_add(o, "inodes", inodes);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(name, sizeof(name), "%s.json", r->id);	/* id is 16 hex digits: fits */
	rc = tc_write_atomic(dirfd, name, s, strlen(s), TC_GATE_FILE_MODE, (uid_t)-1, (gid_t)-1, err);
	json_object_put(o);
	return rc;
}

/* String field k of o into dst; -1 when absent, not a string or too long. */
static int
get_str(json_object *o, const char *k, char *dst, size_t dstsz)
{
	json_object *v;
	size_t n;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	n = (size_t)json_object_get_string_len(v);
	if (n >= dstsz || memchr(json_object_get_string(v), '\0', n))
		return -1;
	memcpy(dst, json_object_get_string(v), n + 1);
	return 0;
}

static int
get_int(json_object *o, const char *k, int64_t min, int64_t max, int64_t *out)
{
	json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

static int
get_array(json_object *o, const char *k, size_t max, json_object **out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_rec(json_object *o, struct tc_gate_rec *r)
{
	json_object *a;
	int64_t x;
	size_t i;

	if (get_str(o, "id", r->id, sizeof(r->id)) < 0 || !tc_gate_valid_id(r->id) ||
	    get_str(o, "device", r->device, sizeof(r->device)) < 0 || !tc_gate_valid_device(r->device) ||
	    get_str(o, "tunnel", r->tunnel, sizeof(r->tunnel)) < 0 || !tc_valid_name(r->tunnel) ||
	    get_str(o, "target", r->target, sizeof(r->target)) < 0 ||
	    get_str(o, "bind", r->bind, sizeof(r->bind)) < 0 ||
	    get_str(o, "client", r->client, sizeof(r->client)) < 0)
		return -1;
	if (get_array(o, "ports", TC_GATE_PORTS_MAX, &a) < 0)
		return -1;
	r->nports = json_object_array_length(a);
	for (i = 0; i < r->nports; i++) {
		json_object *p = json_object_array_get_idx(a, i);

		if (!json_object_is_type(p, json_type_int) || json_object_get_int64(p) < 1 ||
		    json_object_get_int64(p) > 65535)
			return -1;
		r->ports[i] = (uint16_t)json_object_get_int64(p);
	}
	if (get_array(o, "inodes", TC_GATE_INODES_MAX, &a) < 0)
		return -1;
	r->ninodes = json_object_array_length(a);
	for (i = 0; i < r->ninodes; i++) {
		json_object *p = json_object_array_get_idx(a, i);

		if (!json_object_is_type(p, json_type_int))
			return -1;
		r->inodes[i] = json_object_get_uint64(p);
	}
	if (get_int(o, "started_at", 0, (int64_t)TC_HELLO_EXPIRES_MAX, &r->started_at) < 0 ||
	    get_int(o, "expires_at", 0, (int64_t)TC_HELLO_EXPIRES_MAX, &r->expires_at) < 0)
		return -1;
	if (get_int(o, "pid", 2, INT32_MAX, &x) < 0)
		return -1;
	r->pid = (pid_t)x;
	if (get_int(o, "session_pid", 0, INT32_MAX, &x) < 0)
		return -1;
	r->session_pid = (pid_t)x;
	if (!json_object_object_get_ex(o, "starttime", &a) || !json_object_is_type(a, json_type_int))
		return -1;
	r->starttime = json_object_get_uint64(a);
	return 0;
}

int
tc_reg_read(int dirfd, const char *id, struct tc_gate_rec *r, struct tc_err *err)
{
	struct json_tokener *tok;
	char name[TC_GATE_ID_LEN + 8], *buf;
	json_object *o;
	size_t len;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!tc_gate_valid_id(id)) {
		errno = EINVAL;
		return tc_err_set(err, TC_ERR_RUNTIME, "record: bad session id");
	}
	snprintf(name, sizeof(name), "%s.json", id);
	if (tc_read_file(dirfd, name, REC_MAX, &buf, &len, err) < 0)
		return -1;
	tok = XCHECK(json_tokener_new_ex(4));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && json_tokener_get_parse_end(tok) == len && json_object_is_type(o, json_type_object) &&
	    parse_rec(o, r) == 0 && strcmp(r->id, id) == 0)
		rc = 0;
	json_object_put(o);
	json_tokener_free(tok);
	free(buf);
	if (rc < 0) {
		errno = EINVAL;
		return tc_err_set(err, TC_ERR_RUNTIME, "record %s: corrupt", name);
	}
	return 0;
}

void
tc_reg_remove(int dirfd, const char *id)
{
	char name[TC_GATE_ID_LEN + 8];

	if (!tc_gate_valid_id(id))
		return;
	snprintf(name, sizeof(name), "%s.json", id);
	unlinkat(dirfd, name, 0);
	snprintf(name, sizeof(name), "%s.close", id);
	unlinkat(dirfd, name, 0);
}

/* The real uid of a process, from /proc/PID/status; -1 if unknown. */
static long
proc_uid(pid_t pid)
{
	char path[64], line[256];
	long uid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Uid:", 4) == 0) {
			uid = strtol(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return uid;
}

int
tc_reg_alive(const struct tc_gate_rec *r, uid_t owner)
{
	if (!tc_proc_same(r->pid, r->starttime))
		return 0;
	return owner == (uid_t)-1 || proc_uid(r->pid) == (long)owner;
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct tc_gate_rec *x = a, *y = b;
	int c = strcmp(x->device, y->device);

	if (c == 0)
		c = strcmp(x->tunnel, y->tunnel);
	if (c == 0)
		c = (x->started_at > y->started_at) - (x->started_at < y->started_at);
	return c;
}

int
tc_reg_list(int dirfd, int prune, struct tc_gate_rec **out, size_t *n, struct tc_err *err)
{
	struct tc_gate_rec *v = NULL;
	size_t cap = 0, len = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	*out = NULL;
	*n = 0;
	if (fstat(dirfd, &st) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "registry: %s", strerror(errno));
	fd = dup(dirfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "registry: %s", strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		char id[TC_GATE_ID_LEN + 1];
		size_t nl = strlen(de->d_name);

		if (nl != TC_GATE_ID_LEN + 5 || strcmp(de->d_name + TC_GATE_ID_LEN, ".json") != 0)
			continue;
		memcpy(id, de->d_name, TC_GATE_ID_LEN);
		id[TC_GATE_ID_LEN] = '\0';
		if (!tc_gate_valid_id(id))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		if (tc_reg_read(dirfd, id, &v[len], NULL) < 0) {
			/* Half a write cannot happen (rename); a file that does not
			 * parse was not written by serve. Never shown. */
			continue;
		}
		if (!tc_reg_alive(&v[len], st.st_uid)) {
			if (prune)
				tc_reg_remove(dirfd, id);
			continue;
		}
		len++;
	}
	closedir(d);
	if (len > 1)
		qsort(v, len, sizeof(*v), cmp_rec);
	*out = v;
	*n = len;
	return 0;
}

void
tc_reg_clean_reason(const char *in, char out[TC_GATE_REASON_MAX + 1])
{
	size_t i;

	for (i = 0; in && in[i] && i < TC_GATE_REASON_MAX; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, TC_GATE_REASON_MAX + 1, "%s", DEFAULT_REASON);
}

int
tc_reg_close_request(int dirfd, const char *id, const char *reason, uid_t owner, gid_t group,
		     struct tc_err *err)
{
	char name[TC_GATE_ID_LEN + 8], clean[TC_GATE_REASON_MAX + 1];

	if (!tc_gate_valid_id(id))
		return tc_err_set(err, TC_ERR_RUNTIME, "bad session id");
	snprintf(name, sizeof(name), "%s.close", id);
	tc_reg_clean_reason(reason, clean);
	return tc_write_atomic(dirfd, name, clean, strlen(clean), TC_GATE_FILE_MODE, owner, group, err);
}

void
tc_reg_close_reason(int dirfd, const char *id, char out[TC_GATE_REASON_MAX + 1])
{
	char name[TC_GATE_ID_LEN + 8], *buf = NULL;
	size_t len;

	snprintf(name, sizeof(name), "%s.close", id);
	if (tc_gate_valid_id(id) &&
	    tc_read_file(dirfd, name, TC_GATE_REASON_MAX, &buf, &len, NULL) == 0) {
		tc_reg_clean_reason(buf, out);
		free(buf);
		return;
	}
	tc_reg_clean_reason("", out);
}
