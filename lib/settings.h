/* settings.h: /etc/tunnelctl.conf, `key = value` lines; flags win over it. */
#ifndef TC_SETTINGS_H
#define TC_SETTINGS_H

#include "err.h"

#define TC_SETTINGS_DEFAULT SYSCONFDIR "/tunnelctl.conf"
#define TC_SETTING_MAX 1024

struct tc_settings {
	char source[TC_SETTING_MAX];
	char id[TC_SETTING_MAX];
	char soracom[TC_SETTING_MAX];	/* base URL; "" = not set */
	char state_dir[TC_SETTING_MAX];
	char run_as[TC_SETTING_MAX];
	char autossh[TC_SETTING_MAX];	/* path, or "no" */
	char ssh[TC_SETTING_MAX];
	char splay[TC_SETTING_MAX];
	char cacert[TC_SETTING_MAX];
	char interface[TC_SETTING_MAX];
	char key[TC_SETTING_MAX];	/* the device key's path; "" = TC_DEVKEY_DEFAULT */
	char gate[TC_SETTING_MAX];	/* yes: every tunnel's server runs tunnelctl-gate */
	char interval[TC_SETTING_MAX];	/* watch: a duration */
	char mqtt_cafile[TC_SETTING_MAX];
	char mqtt_certfile[TC_SETTING_MAX];
	char mqtt_keyfile[TC_SETTING_MAX];
	char mqtt_username[TC_SETTING_MAX];
	char mqtt_password_file[TC_SETTING_MAX];
	char mqtt_keepalive[TC_SETTING_MAX];	/* seconds */
};

/* Read `path` into s (fields not in the file are left as they are).
 * A missing file is an error only when `must_exist`. Unknown keys and
 * malformed lines are errors naming the line (TC_ERR_USAGE). */
int tc_settings_read(const char *path, int must_exist, struct tc_settings *s, struct tc_err *err);

#endif
