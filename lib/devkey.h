/* devkey.h: the device's own SSH key (SPEC "Device identity"): made once
 * with ssh-keygen, kept 0600 in a 0700 directory, used by every tunnel whose
 * spec carries no key, so no config document needs to carry a secret. */
#ifndef TC_DEVKEY_H
#define TC_DEVKEY_H

#include <stddef.h>

#include "err.h"

#define TC_DEVKEY_DEFAULT "/etc/tunnelctl/id_ed25519"
#define TC_SSH_KEYGEN_DEFAULT "/usr/bin/ssh-keygen"
#define TC_PUBKEY_MAX 2048		/* ed25519 ~100 bytes; an RSA-8192 line ~1.4 KiB */
#define TC_FINGERPRINT_MAX 128

struct tc_devkey {
	char public_key[TC_PUBKEY_MAX];	/* "ssh-ed25519 AAAA... tunnelctl@HOST" */
	char fingerprint[TC_FINGERPRINT_MAX];	/* "SHA256:..." */
	int created;				/* 1: made by this call */
};

/* Make the key at `path` if it does not exist (ed25519, ssh-keygen run with
 * an explicit argv and no shell, into a temporary name then linked into
 * place, so two concurrent calls never overwrite each other; its directory
 * is made 0700 if missing), then read its public half and fingerprint.
 * An existing key is never changed. */
int tc_devkey_ensure(const char *path, const char *keygen, struct tc_devkey *k, struct tc_err *err);

/* Read the private key at `path` for a tunnel (heap, wiped by tc_key_free()
 * of lib/spec.h). A missing key says to run `tunnelctl key`. */
int tc_devkey_load(const char *path, char **pem, size_t *len, struct tc_err *err);

#endif
