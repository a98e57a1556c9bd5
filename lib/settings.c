/* settings.c: parse the settings file: `key = value` lines, `#` comments. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"
#include "spec.h"
#include "xalloc.h"

/* Longest line, newline included: a settings line is a key and a path or
 * URL; anything longer is a mistake, never to be split into two lines. */
#define TC_SETTINGS_LINE 2048
#define TC_SETTINGS_FILE_MAX (256 * 1024)	/* a settings file is a few hundred bytes */

static const struct key {
	const char *name;
	size_t off;
} keys[] = {
	{ "source", offsetof(struct tc_settings, source) },
	{ "id", offsetof(struct tc_settings, id) },
	{ "soracom", offsetof(struct tc_settings, soracom) },
	{ "state_dir", offsetof(struct tc_settings, state_dir) },
	{ "run_as", offsetof(struct tc_settings, run_as) },
	{ "autossh", offsetof(struct tc_settings, autossh) },
	{ "ssh", offsetof(struct tc_settings, ssh) },
	{ "splay", offsetof(struct tc_settings, splay) },
	{ "cacert", offsetof(struct tc_settings, cacert) },
	{ "interface", offsetof(struct tc_settings, interface) },
	{ "key", offsetof(struct tc_settings, key) },
	{ "gate", offsetof(struct tc_settings, gate) },
	{ "interval", offsetof(struct tc_settings, interval) },
	{ "mqtt_cafile", offsetof(struct tc_settings, mqtt_cafile) },
	{ "mqtt_certfile", offsetof(struct tc_settings, mqtt_certfile) },
	{ "mqtt_keyfile", offsetof(struct tc_settings, mqtt_keyfile) },
	{ "mqtt_username", offsetof(struct tc_settings, mqtt_username) },
	{ "mqtt_password_file", offsetof(struct tc_settings, mqtt_password_file) },
	{ "mqtt_keepalive", offsetof(struct tc_settings, mqtt_keepalive) },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *
trim(char *s)
{
	char *e;

	while (blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && (blank(e[-1]) || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The value after '=': `"quoted"` (may hold blanks and '#'), or one bare
 * word; a ` #` outside quotes starts a comment. A bare value with blanks in
 * it is refused rather than guessed at (`id = edge-1 cabinet 3`). Returns
 * the value (in place) or NULL with *why set. */
static char *
value_of(char *v, const char **why)
{
	char *p, *end;

	v = trim(v);
	if (*v == '"') {
		end = strchr(v + 1, '"');
		if (end == NULL) {
			*why = "unterminated quote";
			return NULL;
		}
		*end = '\0';
		p = trim(end + 1);
		if (*p != '\0' && *p != '#') {
			*why = "text after the closing quote";
			return NULL;
		}
		return v + 1;
	}
	for (p = v; *p != '\0'; p++) {
		if (*p == '#' && (p == v || blank(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	v = trim(v);
	for (p = v; *p != '\0'; p++) {
		if (blank(*p)) {
			*why = "the value has a blank in it (quote it: key = \"a b\")";
			return NULL;
		}
		if (*p == '"') {
			*why = "a quote inside the value";
			return NULL;
		}
	}
	return v;
}

/* Split buf[0..len) into lines and apply each; lines[] remembers where each
 * key was set, for the duplicate message. */
static int
parse(char *buf, size_t len, const char *path, struct tc_settings *s, struct tc_err *err)
{
	unsigned set_at[NKEYS] = { 0 };
	unsigned lineno = 0;
	char *line = buf, *end = buf + len;

	/* A UTF-8 byte order mark (Windows editors write one) is not a key. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *next = nl ? nl + 1 : end;
		char *k, *v, *eq, echo[TC_ECHO_MAX + 4];
		const char *why = NULL;
		size_t i;

		lineno++;
		if ((size_t)(next - line) > TC_SETTINGS_LINE - (nl ? 0 : 1))
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: line longer than %d bytes",
					  path, lineno, TC_SETTINGS_LINE - 1);
		if (nl)
			*nl = '\0';
		if (memchr(line, '\0', (size_t)((nl ? nl : end) - line)) != NULL)
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: NUL byte in the line", path, lineno);
		k = trim(line);
		line = next;
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq)
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: expected key = value", path, lineno);
		*eq = '\0';
		k = trim(k);
		for (i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].name, k) == 0)
				break;
		if (i == NKEYS)
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: unknown key '%s'",
					  path, lineno, tc_echo(k, echo));
		if (set_at[i])
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: %s is already set on line %u",
					  path, lineno, k, set_at[i]);
		set_at[i] = lineno;
		v = value_of(eq + 1, &why);
		if (v == NULL)
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: %s: %s", path, lineno, k, why);
		if (strlen(v) >= TC_SETTING_MAX)
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: %s: value too long", path, lineno, k);
		memcpy((char *)s + keys[i].off, v, strlen(v) + 1);
	}
	return 0;
}

int
tc_settings_read(const char *path, int must_exist, struct tc_settings *s, struct tc_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return tc_err_set(err, TC_ERR_USAGE, "settings %s: %s", path, strerror(errno));
	}
	/* A regular file, or a device such as /dev/null for "no settings";
	 * a directory would read as an empty file and hide the mistake. */
	r = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (r != 0) {
		close(fd);
		return tc_err_set(err, TC_ERR_USAGE, "settings %s: %s", path, strerror(r));
	}
	if (st.st_size > TC_SETTINGS_FILE_MAX) {
		close(fd);
		return tc_err_set(err, TC_ERR_USAGE, "settings %s: larger than %d bytes", path,
				  TC_SETTINGS_FILE_MAX);
	}
	buf = xmalloc(TC_SETTINGS_FILE_MAX + 1);
	while ((n = read(fd, buf + len, TC_SETTINGS_FILE_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno;
			free(buf);
			close(fd);
			return tc_err_set(err, TC_ERR_USAGE, "settings %s: %s", path, strerror(r));
		}
		len += (size_t)n;
		if (len == TC_SETTINGS_FILE_MAX)
			break;
	}
	close(fd);
	buf[len] = '\0';
	r = parse(buf, len, path, s, err);
	free(buf);
	return r;
}
