/* key.h: SSH keys as users paste them: a private key (PEM text, or base64
 * of it) checked and normalised for ssh, and public host keys. Pure: no I/O. */
#ifndef TC_KEY_H
#define TC_KEY_H

#include <stddef.h>

#include "err.h"

#define TC_HOSTKEY_MAX	4096		/* "TYPE BASE64": an RSA-8192 public key fits */
#define TC_KEY_MAX	(16 * 1024)	/* PEM private key; RSA-8192 PEM is ~6.5 KiB */
#define TC_CERT_MAX	8192		/* an RSA-8192 user certificate line is ~3 KiB */

/* A key is PEM text or base64 of PEM text. On success *pem is heap memory the
 * caller owns (free with tc_key_free), NUL-terminated, normalised to LF line
 * ends. Messages start with `what` and never quote key bytes.
 * 0 or -1 (TC_ERR_INVALID). */
int tc_key_normalize(const char *in, size_t len, char **pem, size_t *pem_len,
		     const char *what, struct tc_err *err);
/* Wipe and free what tc_key_normalize returned (NULL is fine). */
void tc_key_free(char *pem, size_t len);

/* 1 if s is exactly "TYPE BASE64" of a public key whose blob names TYPE. */
int tc_valid_host_key(const char *s);

/* A server's public host key as people copy it, reduced to "TYPE BASE64"
 * in out (valid for tc_valid_host_key): "TYPE BASE64 [COMMENT]" (a .pub
 * file, `cat host.pub`) or a line of ssh-keyscan / known_hosts
 * ("HOST TYPE BASE64", "[HOST]:PORT TYPE BASE64", hashed hosts; the host
 * field is dropped). One line, surrounding whitespace ignored. 0, or -1
 * (TC_ERR_INVALID, message starts with `what`). */
int tc_host_key_normalize(const char *in, char out[TC_HOSTKEY_MAX + 1], const char *what,
			  struct tc_err *err);

/* An OpenSSH user certificate as `ssh-keygen -s` writes it ("TYPE BASE64
 * [COMMENT]", TYPE one of the *-cert-v01@openssh.com types, the blob naming
 * TYPE), reduced to "TYPE BASE64" in out. It is public: no secret is in it.
 * 0, or -1 (TC_ERR_INVALID, message starts with `what`). */
int tc_cert_normalize(const char *in, char out[TC_CERT_MAX + 1], const char *what, struct tc_err *err);

#endif
