/* devkey.c: create (once) and read the device's own key. ssh-keygen does the
 * cryptography; this file only runs it safely and reads what it wrote. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devkey.h"
#include "spec.h"
#include "state.h"
#include "tools.h"
#include "xalloc.h"

#define KEYGEN_WAIT_MS 10000	/* ed25519 generation takes milliseconds; never hang */

/* keygen with argv, no shell, a fixed environment: 0 when it exited 0. */
static int
run(char *const argv[], char *out, size_t outsz)
{
	char *const envp[] = { "LC_ALL=C", NULL };
	char scratch[512];

	return tc_run_capture(argv, envp, out ? out : scratch, out ? outsz : sizeof(scratch),
			      KEYGEN_WAIT_MS) == 0 ? 0 : -1;
}

/* The directory part of path, made 0700 when missing. */
static int
key_dir(const char *path, struct tc_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int r;

	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return tc_err_set(err, TC_ERR_USAGE, "key: '%.64s' is not an absolute file path", path);
	r = snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (r < 0 || (size_t)r >= sizeof(dir))
		return tc_err_set(err, TC_ERR_USAGE, "key: path too long");
	if (dir[0] && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return tc_err_set(err, errno == EACCES || errno == EPERM || errno == EROFS ? TC_ERR_PERM :
				  TC_ERR_RUNTIME, "key: %s: %s", dir, strerror(errno));
	return 0;
}

static int
create(const char *path, const char *keygen, struct tc_err *err)
{
	char tmp[PATH_MAX], tmppub[PATH_MAX], comment[300], host[256] = "device";
	char *argv[] = { (char *)keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", tmp, NULL };
	int r;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(comment, sizeof(comment), "tunnelctl@%s", host);
	r = snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
	if (r < 0 || (size_t)r >= sizeof(tmp) - 4)
		return tc_err_set(err, TC_ERR_USAGE, "key: path too long");
	if (snprintf(tmppub, sizeof(tmppub), "%s.pub", tmp) >= (int)sizeof(tmppub))
		return tc_err_set(err, TC_ERR_USAGE, "key: path too long");
	unlink(tmp);
	unlink(tmppub);
	if (run(argv, NULL, 0) < 0) {
		unlink(tmp);
		unlink(tmppub);
		return tc_err_set(err, TC_ERR_RUNTIME, "key: %s could not make a key in %s", keygen, path);
	}
	chmod(tmp, 0600);
	/* link() fails if another `tunnelctl key` got there first: keep theirs. */
	if (link(tmp, path) == 0) {
		char pub[PATH_MAX];

		/* The .pub beside it is for the operator; `ssh-keygen -y` is what
		 * is read back, so a lost .pub changes nothing. */
		if (snprintf(pub, sizeof(pub), "%s.pub", path) < (int)sizeof(pub))
			(void)rename(tmppub, pub);
	}
	unlink(tmp);
	unlink(tmppub);
	return 0;
}

/* The public line: ssh-keygen -y reads it back from the private key, so a
 * missing or stale .pub file never matters. */
static int
public_of(const char *path, const char *keygen, struct tc_devkey *k, struct tc_err *err)
{
	char *yv[] = { (char *)keygen, "-y", "-f", (char *)path, NULL };
	char *lv[] = { (char *)keygen, "-l", "-E", "sha256", "-f", (char *)path, NULL };
	char out[512], *p;

	if (run(yv, k->public_key, sizeof(k->public_key)) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "key: %s: not a readable unencrypted private key", path);
	k->public_key[strcspn(k->public_key, "\r\n")] = '\0';
	if (run(lv, out, sizeof(out)) < 0 || (p = strstr(out, "SHA256:")) == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "key: %s: no fingerprint", path);
	p[strcspn(p, " \r\n")] = '\0';
	snprintf(k->fingerprint, sizeof(k->fingerprint), "%s", p);
	return 0;
}

int
tc_devkey_ensure(const char *path, const char *keygen, struct tc_devkey *k, struct tc_err *err)
{
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (key_dir(path, err) < 0)
		return -1;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return tc_err_set(err, errno == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME, "key: %s: %s",
					  path, strerror(errno));
		if (create(path, keygen, err) < 0)
			return -1;
		k->created = 1;
	} else if (!S_ISREG(st.st_mode)) {
		return tc_err_set(err, TC_ERR_RUNTIME, "key: %s: not a regular file", path);
	}
	return public_of(path, keygen, k, err);
}

int
tc_devkey_load(const char *path, char **pem, size_t *len, struct tc_err *err)
{
	char *buf;
	size_t n;
	int r;

	if (tc_read_file(AT_FDCWD, path, 2 * TC_KEY_MAX, &buf, &n, NULL) < 0) {
		if (errno == ENOENT)
			return tc_err_set(err, TC_ERR_RUNTIME, "no private key in the spec and no device key "
					  "at %s: run `tunnelctl key` once", path);
		return tc_err_set(err, errno == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME,
				  "device key %s: %s", path,
				  errno == EINVAL ? "not a regular file of at most 32 KiB" : strerror(errno));
	}
	r = tc_key_normalize(buf, n, pem, len, "device key", err);
	explicit_bzero(buf, n);
	free(buf);
	return r;
}
