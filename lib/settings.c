/* settings.c: parse the settings file: `key = value`, `#` comments. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

#define TC_SETTINGS_LINE 2048

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static char *
slot(struct tc_settings *s, const char *key)
{
	static const struct { const char *k; size_t off; } keys[] = {
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
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].k, key) == 0)
			return (char *)s + keys[i].off;
	return NULL;
}

int
tc_settings_read(const char *path, int must_exist, struct tc_settings *s, struct tc_err *err)
{
	char line[TC_SETTINGS_LINE];
	unsigned lineno = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return tc_err_set(err, TC_ERR_USAGE, "settings %s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *eq, *dst;

		lineno++;
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fclose(f);
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: expected key = value", path, lineno);
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		dst = slot(s, k);
		if (!dst) {
			fclose(f);
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: unknown key '%.32s'", path, lineno, k);
		}
		if (strlen(v) >= TC_SETTING_MAX) {
			fclose(f);
			return tc_err_set(err, TC_ERR_USAGE, "settings %s:%u: value too long", path, lineno);
		}
		memcpy(dst, v, strlen(v) + 1);
	}
	fclose(f);
	return 0;
}
