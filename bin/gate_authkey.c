/* gate_authkey.c: `tunnelctl-gate authorized-key`: the authorized_keys line
 * that ties a device's public key to its ports and to `serve --device ID`.
 * Every input is validated: the line is security policy for sshd. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "registry.h"
#include "spec.h"

#define KEYLINE_MAX 8192	/* an RSA-8192 public key line is about 1.4 KiB */
#define COMMENT_MAX 256

/* A path that may stand unquoted inside command="...": absolute, and only
 * characters that neither sshd's quoting nor a shell gives meaning to. */
static int
safe_path(const char *p)
{
	size_t i;

	if (!p || p[0] != '/' || strlen(p) > 255 || strstr(p, "/../") || strstr(p, "//"))
		return 0;
	for (i = 0; p[i]; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || strchr("/._+-", p[i])))
			return 0;
	return 1;
}

/* The gate that sshd runs: where `make install` put it. TUNNELCTL_GATE_PATH
 * overrides it for the test suite only (a gate in a build directory). */
static const char *
gate_path(void)
{
	const char *e = getenv("TUNNELCTL_GATE_PATH");

	return e && e[0] ? e : TC_GATE_PATH;
}

/* "TYPE BASE64 [COMMENT]": the key is checked like a pinned host key (the
 * blob must name its own type); the comment is printable ASCII. */
static int
parse_key(char *line, char *key, size_t keysz, const char **comment, struct tc_err *err)
{
	char *sp1, *sp2;
	size_t n, i;

	n = strcspn(line, "\r\n");
	line[n] = '\0';
	sp1 = strchr(line, ' ');
	if (!sp1)
		goto bad;
	sp2 = strchr(sp1 + 1, ' ');
	n = sp2 ? (size_t)(sp2 - line) : strlen(line);
	if (n >= keysz)
		goto bad;
	memcpy(key, line, n);
	key[n] = '\0';
	if (!tc_valid_host_key(key))
		goto bad;
	*comment = sp2 ? sp2 + 1 : "";
	if (strlen(*comment) > COMMENT_MAX)
		return tc_err_set(err, TC_ERR_USAGE, "key comment longer than %d bytes", COMMENT_MAX);
	for (i = 0; (*comment)[i]; i++)
		if ((unsigned char)(*comment)[i] < 0x20 || (unsigned char)(*comment)[i] >= 0x7f)
			return tc_err_set(err, TC_ERR_USAGE, "key comment has a byte that is not printable ASCII");
	return 0;
bad:
	return tc_err_set(err, TC_ERR_USAGE,
			  "the key is not an OpenSSH public key line 'TYPE BASE64 [COMMENT]' "
			  "(ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*)");
}

static int
parse_ports(const char *arg, uint16_t *ports, size_t *n, struct tc_err *err)
{
	char buf[128], *p, *save = NULL;
	size_t i;

	*n = 0;
	if (strlen(arg) >= sizeof(buf))
		return tc_err_set(err, TC_ERR_USAGE, "--ports: too long");
	memcpy(buf, arg, strlen(arg) + 1);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (*n == TC_GATE_PORTS_MAX)
			return tc_err_set(err, TC_ERR_USAGE, "--ports: more than %d ports", TC_GATE_PORTS_MAX);
		if (tc_parse_port(p, 1, &ports[*n], "--ports", err) < 0) {
			err->kind = TC_ERR_USAGE;
			return -1;
		}
		for (i = 0; i < *n; i++)
			if (ports[i] == ports[*n])
				return tc_err_set(err, TC_ERR_USAGE, "--ports: %s given twice", p);
		(*n)++;
	}
	if (*n == 0)
		return tc_err_set(err, TC_ERR_USAGE, "--ports: no port given");
	return 0;
}

int
gate_authorized_key(const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	const char *device = o->device, *ports_arg = o->ports, *bind = o->bind ? o->bind : "127.0.0.1";
	const char *max_time = o->max_time, *registry = o->registry, *key_arg = o->key, *comment = "", *gate;
	char line[KEYLINE_MAX + 2], key[KEYLINE_MAX + 1];
	uint16_t ports[TC_GATE_PORTS_MAX];
	size_t nports, i;
	int64_t secs;

	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.32s'", argv[0]);
	if (!device || !tc_gate_valid_device(device))
		return tc_err_set(err, TC_ERR_USAGE, "--device: %s", device ?
				  "not a device id ([A-Za-z0-9][A-Za-z0-9._-]{0,63})" : "required");
	if (!ports_arg)
		return tc_err_set(err, TC_ERR_USAGE, "--ports: required (0 lets sshd choose the port)");
	if (parse_ports(ports_arg, ports, &nports, err) < 0)
		return -1;
	if (!tc_valid_host(bind))
		return tc_err_set(err, TC_ERR_USAGE, "--bind: '%.64s' is not a host name or address", bind);
	if (max_time && tc_parse_duration(max_time, &secs, "--max-time", err) < 0) {
		err->kind = TC_ERR_USAGE;
		return -1;
	}
	if (registry && !safe_path(registry))
		return tc_err_set(err, TC_ERR_USAGE,
				  "--registry: an absolute path of letters, digits and /._+- only");
	gate = gate_path();
	if (!safe_path(gate))
		return tc_err_set(err, TC_ERR_USAGE, "the gate's path '%.100s' cannot go into a command=", gate);
	if (key_arg) {
		if (strlen(key_arg) > KEYLINE_MAX)
			return tc_err_set(err, TC_ERR_USAGE, "--key: longer than %d bytes", KEYLINE_MAX);
		memcpy(line, key_arg, strlen(key_arg) + 1);
	} else if (!fgets(line, sizeof(line), stdin)) {
		return tc_err_set(err, TC_ERR_USAGE, "no key: give --key or a public key line on stdin");
	} else if (strlen(line) > KEYLINE_MAX) {
		return tc_err_set(err, TC_ERR_USAGE, "the key line is longer than %d bytes", KEYLINE_MAX);
	}
	if (parse_key(line, key, sizeof(key), &comment, err) < 0)
		return -1;

	printf("restrict,port-forwarding");
	for (i = 0; i < nports; i++) {
		int v6 = strchr(bind, ':') != NULL;
		char p[8];

		if (ports[i] == 0)
			snprintf(p, sizeof(p), "*");
		else
			snprintf(p, sizeof(p), "%u", (unsigned)ports[i]);
		printf(",permitlisten=\"%s%s%s:%s\"", v6 ? "[" : "", bind, v6 ? "]" : "", p);
	}
	printf(",command=\"%s serve --device %s --ports ", gate, device);
	for (i = 0; i < nports; i++)
		printf("%s%u", i ? "," : "", (unsigned)ports[i]);
	if (max_time)
		printf(" --max-time %s", max_time);
	if (registry)
		printf(" --registry %s", registry);
	printf("\" %s%s%s\n", key, comment[0] ? " " : "", comment);
	if (fflush(stdout) != 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "writing the line failed");
	return 0;
}
