/* test_key.c: private keys (PEM, base64 of PEM) checked and normalised
 * (RELIABILITY B13/B14), public host keys checked. */
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "tap.h"

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRUU"
#define ECDSA "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIkN6i/gBq8q8yJ2rYlknfXodceEfsNn3509p2xLI7H3Lz4l1+4KVRJ2qwet4JdYPNpeqb31jPr6ycOZkFdB74w="
#define PEM "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRETKEYBYTES\n-----END OPENSSH PRIVATE KEY-----\n"

static void
test_host_keys(void)
{
	ok(tc_valid_host_key(ED25519), "ed25519 host key");
	ok(tc_valid_host_key(ECDSA), "ecdsa host key");
	ok(!tc_valid_host_key(ED25519 " root@vm"), "host key with comment");
	ok(!tc_valid_host_key(ED25519 "\n"), "host key with newline");
	ok(!tc_valid_host_key("ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRUU"),
	   "host key with two spaces");
	ok(!tc_valid_host_key("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRUU"),
	   "type does not match blob");
	ok(!tc_valid_host_key("ssh-dss AAAAB3NzaC1kc3MAAAA="), "unknown type");
	ok(!tc_valid_host_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRU"),
	   "bad base64 length");
	ok(!tc_valid_host_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRU!"),
	   "bad base64 alphabet");
	ok(!tc_valid_host_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"), "blob is only the type");
	ok(!tc_valid_host_key("ssh-ed25519"), "type only");
	ok(!tc_valid_host_key(""), "empty host key");
	ok(!tc_valid_host_key("-oProxyCommand=x AAAA"), "option as host key");
}

static int
key_ok(const char *in, size_t len, const char *want)
{
	struct tc_err err;
	char *pem = NULL;
	size_t n = 0;
	int r;

	if (tc_key_normalize(in, len, &pem, &n, "private_key", &err) < 0)
		return 0;
	r = strlen(pem) == n && (want == NULL || strcmp(pem, want) == 0);
	tc_key_free(pem, n);
	return r;
}

static int
key_bad(const char *in, size_t len)
{
	struct tc_err err;
	char *pem = NULL;
	size_t n = 0;

	memset(&err, 0, sizeof(err));
	if (tc_key_normalize(in, len, &pem, &n, "private_key", &err) == 0) {
		tc_key_free(pem, n);
		return 0;
	}
	/* no message ever carries key bytes */
	return strstr(err.msg, "SECRET") == NULL && strstr(err.msg, "AAAA") == NULL &&
	       strncmp(err.msg, "private_key: ", 13) == 0 && pem == NULL;
}

#define KB(s) key_bad((s), sizeof(s) - 1)
#define KO(s, w) key_ok((s), sizeof(s) - 1, (w))

static void
test_keys(void)
{
	/* base64 of PEM */
	static const char b64[] = "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0KQUFBQVNFQ1JFVEtFWUJZVEVTCi0tLS0tRU5EIE9QRU5TU0ggUFJJVkFURSBLRVktLS0tLQo=";
	static const char crlf[] = "-----BEGIN OPENSSH PRIVATE KEY-----\r\nAAAASECRETKEYBYTES\r\n-----END OPENSSH PRIVATE KEY-----\r\n";
	static const char nonl[] = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRETKEYBYTES\n-----END OPENSSH PRIVATE KEY-----";
	static const char ws[] = "\n  -----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRETKEYBYTES\n-----END OPENSSH PRIVATE KEY-----\n\n ";
	char *big;

	ok(key_ok(PEM, strlen(PEM), PEM), "PEM accepted unchanged");
	ok(key_ok(crlf, strlen(crlf), PEM), "CRLF normalised");
	ok(key_ok(nonl, strlen(nonl), PEM), "trailing newline added");
	ok(key_ok(ws, strlen(ws), PEM), "surrounding whitespace dropped");
	ok(key_ok(b64, strlen(b64), PEM), "base64 of PEM decoded");
	ok(KO("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", NULL), "RSA PEM");
	ok(KO("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", NULL), "EC PEM");
	ok(KO("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", NULL), "PKCS8 PEM");
	ok(KB(""), "empty key");
	ok(KB("not a key"), "not PEM");
	ok(KB("hello SECRET world"), "text with spaces");
	ok(KB("junk\n" PEM), "junk before BEGIN");
	ok(KB(PEM "junk\n"), "junk after END");
	ok(KB("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRET\n-----END RSA PRIVATE KEY-----\n"), "END kind mismatch");
	ok(KB("-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n"), "no body");
	ok(KB("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRET\n"), "no END");
	ok(KB("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAASECRET\n-----END ENCRYPTED PRIVATE KEY-----\n"),
	   "encrypted PKCS8 refused");
	ok(KB("-----BEGIN PUBLIC KEY-----\nAAAASECRET\n-----END PUBLIC KEY-----\n"), "public key refused");
	ok(KB("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\x01SECRET\n-----END OPENSSH PRIVATE KEY-----\n"),
	   "control byte");
	ok(KB("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\rSECRET\n-----END OPENSSH PRIVATE KEY-----\n"), "lone CR");
	ok(KB("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\xc3\xa9SECRET\n-----END OPENSSH PRIVATE KEY-----\n"),
	   "non-ASCII byte");
	ok(key_bad("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\0SECRET\n-----END OPENSSH PRIVATE KEY-----\n", 75),
	   "NUL byte");
	ok(KB(PEM PEM), "two PEM blocks");
	ok(KB("LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K!"), "base64 bad alphabet");
	ok(KB("LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0KQUFBQVNFQ1JFVEtFWUJZVEVTCi0tLS0tRU5EIE9QRU5TU0ggUFJJVkFURSBLRVktLS0tLQo"),
	   "base64 bad padding");
	ok(KB("LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K\nQUFBQVNFQ1JFVEtFWUJZVEVTCi0tLS0tRU5EIE9QRU5TU0ggUFJJVkFURSBLRVktLS0tLQo="),
	   "base64 with whitespace");
	ok(KB("QUFBQVNFQ1JFVA=="), "base64 of non-PEM");
	big = malloc(3 * TC_KEY_MAX);
	memset(big, 'A', 3 * TC_KEY_MAX);
	memcpy(big, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36);
	memcpy(big + TC_KEY_MAX + 100 - 34, "\n-----END OPENSSH PRIVATE KEY-----", 34);
	ok(key_bad(big, TC_KEY_MAX + 100), "PEM over 16 KiB");
	memcpy(big + TC_KEY_MAX - 100 - 34, "\n-----END OPENSSH PRIVATE KEY-----", 34);
	ok(key_ok(big, TC_KEY_MAX - 100, NULL), "PEM under 16 KiB");
	ok(key_bad(big, 3 * TC_KEY_MAX), "input of 48 KiB");
	free(big);
}

int
main(void)
{
	test_host_keys();
	test_keys();
	return tap_done();
}
