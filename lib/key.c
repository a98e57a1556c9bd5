/* key.c: private keys (PEM text or base64 of it) checked and normalised
 * before they reach a key file, and public host keys checked before they
 * reach known_hosts (key.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"
#include "key.h"
#include "xalloc.h"

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict RFC 4648 base64: standard alphabet, padded, no whitespace, zero
 * unused bits (so one blob has exactly one encoding). Writes at most outsz
 * bytes; -1 if the input is not base64 or decodes to more than outsz. */
static int
b64_decode(const char *in, size_t len, unsigned char *out, size_t outsz, size_t *outlen)
{
	size_t i, o = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], j, pad = 0;
		uint32_t q;

		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[j] = b64_value(in[i + j])) < 0)
				return -1;
		}
		q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 1 && (q & 0xff) != 0) || (pad == 2 && (q & 0xffff) != 0))
			return -1;
		if (o + 3 - (size_t)pad > outsz)
			return -1;
		out[o++] = (unsigned char)(q >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(q >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)q;
	}
	*outlen = o;
	return 0;
}

/* ---- public host keys ---- */

static const char *const host_key_types[] = {
	"ssh-ed25519", "ssh-rsa",
	"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
};

/* The blob's first field (uint32 length + string) must repeat the type, as
 * in every OpenSSH public key, so a key of one type cannot be passed off as
 * another and random base64 is caught. */
int
tc_valid_host_key(const char *s)
{
	unsigned char blob[TC_HOSTKEY_MAX];
	const char *sp;
	size_t tlen, blen, i;

	if (s == NULL || strnlen(s, TC_HOSTKEY_MAX + 1) > TC_HOSTKEY_MAX)
		return 0;
	sp = strchr(s, ' ');
	if (sp == NULL)
		return 0;
	tlen = (size_t)(sp - s);
	for (i = 0; i < sizeof(host_key_types) / sizeof(host_key_types[0]); i++)
		if (strlen(host_key_types[i]) == tlen && memcmp(s, host_key_types[i], tlen) == 0)
			break;
	if (i == sizeof(host_key_types) / sizeof(host_key_types[0]))
		return 0;
	if (b64_decode(sp + 1, strlen(sp + 1), blob, sizeof(blob), &blen) < 0)
		return 0;
	if (blen <= 4 + tlen)
		return 0;
	if (((uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3]) != tlen)
		return 0;
	return memcmp(blob + 4, s, tlen) == 0;
}

/* Index of the host key type t[0..n) in host_key_types, or -1. */
static int
host_key_type(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(host_key_types) / sizeof(host_key_types[0]); i++)
		if (strlen(host_key_types[i]) == n && memcmp(t, host_key_types[i], n) == 0)
			return (int)i;
	return -1;
}

/* What OpenSSH key types look like, supported or not (ssh-dss). */
static int
looks_like_type(const char *t, size_t n)
{
	return (n > 4 && memcmp(t, "ssh-", 4) == 0) || (n > 6 && memcmp(t, "ecdsa-", 6) == 0) ||
	       (n > 3 && memcmp(t, "sk-", 3) == 0);
}

int
tc_host_key_normalize(const char *in, char out[TC_HOSTKEY_MAX + 1], const char *what, struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];
	const char *f[3];
	size_t fl[3], len, start = 0, i, j;
	int nf = 0, t;

	if (in == NULL)
		in = "";
	len = strlen(in);
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t' || in[len - 1] == '\r' || in[len - 1] == '\n'))
		len--;
	while (start < len && (in[start] == ' ' || in[start] == '\t' || in[start] == '\r' || in[start] == '\n'))
		start++;
	if (start == len)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is empty", what);
	for (i = start; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\n' || c == '\r')
			return tc_err_set(err, TC_ERR_INVALID, "%s: holds more than one line; give one key "
					  "('TYPE BASE64', e.g. from ssh-keyscan -t ed25519 HOST)", what);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return tc_err_set(err, TC_ERR_INVALID, "%s: contains a control character", what);
	}
	/* known_hosts markers: a CA's key or a revoked one, not the server's */
	if (in[start] == '@') {
		char m[TC_ECHO_MAX + 1];

		for (j = start; j < len && in[j] != ' ' && in[j] != '\t' && j - start < TC_ECHO_MAX; j++)
			m[j - start] = in[j];
		m[j - start] = '\0';
		return tc_err_set(err, TC_ERR_INVALID, "%s: is a known_hosts %s line, not a host key", what,
				  tc_echo(m, e));
	}
	for (i = start; i < len && nf < 3; nf++) {
		for (j = i; j < len && in[j] != ' ' && in[j] != '\t'; j++)
			;
		f[nf] = in + i;
		fl[nf] = j - i;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		i = j;
	}
	/* "TYPE BASE64 [COMMENT]", or "HOSTS TYPE BASE64 [COMMENT]" of ssh-keyscan and known_hosts */
	if (host_key_type(f[0], fl[0]) >= 0)
		t = 0;
	else if (nf > 1 && host_key_type(f[1], fl[1]) >= 0)
		t = 1;
	else if (looks_like_type(f[0], fl[0]) || (nf > 1 && looks_like_type(f[1], fl[1]))) {
		char ty[41];

		t = looks_like_type(f[0], fl[0]) ? 0 : 1;
		/* the type as typed, through tc_echo: it may hold any byte */
		snprintf(ty, sizeof(ty), "%.*s", (int)(fl[t] < 40 ? fl[t] : 40), f[t]);
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not a supported host key type (ssh-ed25519, "
				  "ssh-rsa, ecdsa-sha2-nistp256/384/521, sk-ssh-ed25519@openssh.com, "
				  "sk-ecdsa-sha2-nistp256@openssh.com)", what, tc_echo(ty, e));
	} else {
		char v[TC_ECHO_MAX + 1];
		size_t n = len - start < TC_ECHO_MAX ? len - start : TC_ECHO_MAX;

		memcpy(v, in + start, n);
		v[n] = '\0';
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s%s' is not a host key ('TYPE BASE64 [COMMENT]', "
				  "or a line of ssh-keyscan)", what, tc_echo(v, e), len - start > n ? "..." : "");
	}
	if (t + 1 < nf && fl[t] + 1 + fl[t + 1] > TC_HOSTKEY_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is longer than %d bytes (TYPE BASE64)", what,
				  TC_HOSTKEY_MAX);
	memcpy(out, f[t], fl[t]);
	out[fl[t]] = ' ';
	j = t + 1 < nf ? fl[t + 1] : 0;
	if (j > 0)
		memcpy(out + fl[t] + 1, f[t + 1], j);
	out[fl[t] + 1 + j] = '\0';
	if (!tc_valid_host_key(out)) {
		out[0] = '\0';
		return tc_err_set(err, TC_ERR_INVALID, "%s: what follows %.*s is not the base64 of an %.*s key",
				  what, (int)fl[t], f[t], (int)fl[t], f[t]);
	}
	return 0;
}

/* ---- private keys ---- */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The kinds of "-----BEGIN X PRIVATE KEY-----" that ssh reads. */
static const char *const pem_kinds[] = { "OPENSSH ", "RSA ", "EC ", "" };

/* Why a key is refused when it has a passphrase: ssh runs with
 * BatchMode=yes, cannot ask for it, and the server then sees no key at all
 * ("Permission denied (publickey)", retried for ever). */
static const char encrypted[] = "is encrypted with a passphrase; tunnelctl needs an unencrypted key "
				"(remove the passphrase with ssh-keygen -p -N '' -f FILE)";

static int
pem_armor(const char *line, size_t n, const char *pre, const char **kind)
{
	static const char post[] = "PRIVATE KEY-----";
	size_t pl = strlen(pre), i;

	if (n < pl || memcmp(line, pre, pl) != 0)
		return -1;
	for (i = 0; i < sizeof(pem_kinds) / sizeof(pem_kinds[0]); i++) {
		size_t kl = strlen(pem_kinds[i]);

		if (n == pl + kl + strlen(post) && memcmp(line + pl, pem_kinds[i], kl) == 0 &&
		    memcmp(line + pl + kl, post, strlen(post)) == 0) {
			*kind = pem_kinds[i];
			return 0;
		}
	}
	return -1;
}

static int
line_is(const char *line, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(line, s, n) == 0;
}

/* The body (the lines between BEGIN and END) of an OPENSSH PRIVATE KEY is
 * base64 of an openssh-key-v1 blob: the magic with its NUL, then the cipher
 * name as a uint32 length and bytes (OpenSSH's PROTOCOL.key), "none" unless
 * a passphrase protects the key. 1 if it names another cipher. A body that
 * is no such blob is left to ssh to judge. */
static int
openssh_encrypted(const char *body, size_t n)
{
	static const char magic[] = "openssh-key-v1";	/* sizeof counts its NUL, as the blob does */
	char b64[64];		/* 48 bytes of blob: magic, length and a cipher name fit */
	unsigned char blob[48];
	size_t i, k = 0, blen;
	uint32_t cl;

	for (i = 0; i < n && k < sizeof(b64); i++)
		if (body[i] != '\n')
			b64[k++] = body[i];
	if (b64_decode(b64, k - k % 4, blob, sizeof(blob), &blen) < 0 ||
	    blen < sizeof(magic) + 4 || memcmp(blob, magic, sizeof(magic)) != 0)
		return 0;
	cl = (uint32_t)blob[15] << 24 | (uint32_t)blob[16] << 16 | (uint32_t)blob[17] << 8 | blob[18];
	return !(cl == 4 && blen >= 23 && memcmp(blob + 19, "none", 4) == 0);
}

/* RFC 1421 headers of a traditional PEM key (RSA, EC): an encrypted one
 * says "Proc-Type: 4,ENCRYPTED" (and names its cipher in DEK-Info). */
static int
pem_encrypted(const char *body, size_t n)
{
	const char *line = body, *end = body + n;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t ln = nl ? (size_t)(nl - line) : (size_t)(end - line);

		if (ln >= 10 && memcmp(line, "Proc-Type:", 10) == 0 && memmem(line, ln, "ENCRYPTED", 9) != NULL)
			return 1;
		line += ln + 1;
	}
	return 0;
}

/* The armour lines of in[0..len) (trimmed, LF or CRLF): 0, or -1 with *why. */
static int
pem_lines(const char *in, size_t len, const char **kind, const char **why)
{
	const char *first_nl, *last_nl, *ek;
	size_t i, bn;

	if (len == 0 || memcmp(in, "-----BEGIN ", len < 11 ? len : 11) != 0) {
		*why = "does not start with -----BEGIN ... PRIVATE KEY-----";
		return -1;
	}
	first_nl = memchr(in, '\n', len);
	last_nl = first_nl;
	for (i = len; first_nl != NULL && i-- > 0;)
		if (in[i] == '\n') {
			last_nl = in + i;
			break;
		}
	bn = first_nl ? (size_t)(first_nl - in) : len;
	if (bn > 0 && in[bn - 1] == '\r')
		bn--;
	if (line_is(in, bn, "-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
		*why = encrypted;
		return -1;
	}
	if (first_nl == NULL || first_nl == last_nl) {
		*why = "is not a PEM block (BEGIN line, body, END line)";
		return -1;
	}
	if (pem_armor(in, bn, "-----BEGIN ", kind) < 0) {
		*why = "does not start with -----BEGIN [OPENSSH |RSA |EC ]PRIVATE KEY-----";
		return -1;
	}
	if (pem_armor(last_nl + 1, (size_t)(in + len - last_nl - 1), "-----END ", &ek) < 0 || ek != *kind) {
		*why = "does not end with the matching -----END ... PRIVATE KEY-----";
		return -1;
	}
	return 0;
}

/* A public key where the private key belongs: an OpenSSH public key line
 * (a .pub file, a certificate: "TYPE AAAA..."; every blob starts with its
 * first field's length, < 2^24, so "AAAA"), or a PEM or RFC 4716 public
 * key block. in is trimmed. */
static int
is_public_key(const char *in, size_t len)
{
	static const char *const armours[] = { "-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----",
		"---- BEGIN SSH2 PUBLIC KEY ----" };
	static const char *const types[] = { "ssh-", "ecdsa-", "sk-" };
	size_t i, t = 0;

	for (i = 0; i < sizeof(armours) / sizeof(armours[0]); i++)
		if (len >= strlen(armours[i]) && memcmp(in, armours[i], strlen(armours[i])) == 0)
			return 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (len >= strlen(types[i]) && memcmp(in, types[i], strlen(types[i])) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0]))
		return 0;
	while (t < len && ((in[t] >= 'a' && in[t] <= 'z') || (in[t] >= '0' && in[t] <= '9') ||
			   in[t] == '-' || in[t] == '@' || in[t] == '.'))
		t++;
	return t + 5 <= len && in[t] == ' ' && memcmp(in + t + 1, "AAAA", 4) == 0;
}

static const char public_key[] = "is a public key; give the private key (the file without .pub)";

/* The end of the line that starts at in[i] (the '\n' or len), and its
 * length without a CR of CRLF and without trailing blanks: what ssh and
 * OpenSSL ignore, and what a paste from a web console adds. */
static size_t
line_end(const char *in, size_t len, size_t i, size_t *n)
{
	const char *nl = memchr(in + i, '\n', len - i);
	size_t e = nl ? (size_t)(nl - in) : len;

	*n = e - i;
	if (*n > 0 && in[i + *n - 1] == '\r' && nl != NULL)
		(*n)--;
	while (*n > 0 && (in[i + *n - 1] == ' ' || in[i + *n - 1] == '\t'))
		(*n)--;
	return e;
}

/* Check and normalise PEM text in[0..len): CRLF -> LF, trailing blanks of
 * each line and surrounding whitespace dropped, one trailing LF. The reason
 * (never key bytes) goes to *why. */
static int
pem_normalize(const char *in, size_t len, char **pem, size_t *pem_len, const char **why)
{
	const char *kind, *body, *body_end;
	size_t i, o = 0;
	char *out;

	while (len > 0 && is_space(in[0])) {
		in++;
		len--;
	}
	while (len > 0 && is_space(in[len - 1]))
		len--;
	if (is_public_key(in, len)) {
		*why = public_key;
		return -1;
	}
	if (len < 11 || memcmp(in, "-----BEGIN ", 11) != 0) {
		*why = "does not start with -----BEGIN ... PRIVATE KEY-----";
		return -1;
	}
	out = xmalloc(len + 2);
	for (i = 0; i < len;) {
		size_t n, e = line_end(in, len, i, &n), j;

		for (j = i; j < i + n; j++) {
			unsigned char c = (unsigned char)in[j];

			if (c < 0x20 || c > 0x7e) {
				*why = "contains bytes that are not printable ASCII";
				goto bad;
			}
			out[o++] = (char)c;
		}
		out[o++] = '\n';
		i = e + 1;
	}
	out[o] = '\0';
	if (pem_lines(out, o - 1, &kind, why) < 0)
		goto bad;
	body = (const char *)memchr(out, '\n', o) + 1;
	body_end = out + o - 1;
	while (body_end > body && body_end[-1] != '\n')
		body_end--;
	/* One block only: a second BEGIN/END inside would smuggle another key or junk. */
	for (i = (size_t)(body - out); i + 5 <= (size_t)(body_end - out); i++)
		if (out[i - 1] == '\n' && memcmp(out + i, "-----", 5) == 0) {
			*why = "holds more than one PEM block";
			goto bad;
		}
	if (pem_encrypted(body, (size_t)(body_end - body)) ||
	    (strcmp(kind, "OPENSSH ") == 0 && openssh_encrypted(body, (size_t)(body_end - body)))) {
		*why = encrypted;
		goto bad;
	}
	if (o > TC_KEY_MAX) {
		*why = "is larger than 16 KiB";
		goto bad;
	}
	*pem = out;
	*pem_len = o;
	return 0;
bad:
	explicit_bzero(out, len + 2);
	free(out);
	return -1;
}

/* Base64 as people keep it: on one line, or wrapped at any column (GNU
 * base64 wraps at 76, OpenSSL at 64), LF or CRLF, trailing blanks and
 * surrounding whitespace ignored. Blanks inside a line and empty lines are
 * refused: they are not a wrapping but another text. The base64 alone goes
 * to out (len bytes at most); its length is returned, or 0 if refused. */
static size_t
unwrap_b64(const char *in, size_t len, char *out)
{
	size_t i = 0, o = 0, n, e, j;

	while (len > 0 && is_space(in[len - 1]))
		len--;
	while (i < len && is_space(in[i]))
		i++;
	while (i < len) {
		e = line_end(in, len, i, &n);
		if (n == 0)
			return 0;
		for (j = i; j < i + n; j++) {
			if (is_space(in[j]))
				return 0;
			out[o++] = in[j];
		}
		i = e + 1;
	}
	return o;
}

int
tc_key_normalize(const char *in, size_t len, char **pem, size_t *pem_len,
		 const char *what, struct tc_err *err)
{
	const char *why = NULL;
	unsigned char *dec;
	char *b64;
	size_t declen, start = 0, n;
	int rc;

	if (in == NULL || len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is empty", what);
	/* CRLF can at most double a key's size; anything larger is not one. */
	if (len > 2 * (size_t)TC_KEY_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is larger than 16 KiB", what);
	while (start < len && is_space(in[start]))
		start++;
	if (is_public_key(in + start, len - start))
		return tc_err_set(err, TC_ERR_INVALID, "%s: %s", what, public_key);
	if (len - start >= 5 && memcmp(in + start, "-----", 5) == 0) {
		if (pem_normalize(in, len, pem, pem_len, &why) < 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s: %s", what, why);
		return 0;
	}
	/* Otherwise it must be base64 of PEM text. */
	b64 = xmalloc(len);
	n = unwrap_b64(in, len, b64);
	if (n == 0) {
		explicit_bzero(b64, len);
		free(b64);
		return tc_err_set(err, TC_ERR_INVALID, "%s: is neither PEM text nor base64 (base64 may be "
				  "wrapped, but has no blanks inside a line and no empty line)", what);
	}
	dec = xmalloc(n);
	rc = b64_decode(b64, n, dec, n, &declen);
	explicit_bzero(b64, len);
	free(b64);
	if (rc < 0) {
		explicit_bzero(dec, n);
		free(dec);
		return tc_err_set(err, TC_ERR_INVALID, "%s: is neither PEM text nor valid base64", what);
	}
	rc = pem_normalize((const char *)dec, declen, pem, pem_len, &why);
	explicit_bzero(dec, n);
	free(dec);
	if (rc < 0)
		return tc_err_set(err, TC_ERR_INVALID, "%s: base64 decodes to a text that %s", what, why);
	return 0;
}

void
tc_key_free(char *pem, size_t len)
{
	if (pem == NULL)
		return;
	explicit_bzero(pem, len);
	free(pem);
}

static const char *const cert_types[] = {
	"ssh-ed25519-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
};

int
tc_cert_normalize(const char *in, char out[TC_CERT_MAX + 1], const char *what, struct tc_err *err)
{
	static const char shape[] = "is not an OpenSSH user certificate ('TYPE-cert-v01@openssh.com BASE64', "
				    "as ssh-keygen -s writes it)";
	unsigned char *blob;
	const char *t, *b, *end;
	size_t tl, bl, blen, i;
	int ok;

	if (in == NULL)
		in = "";
	for (t = in; *t == ' ' || *t == '\t'; t++)
		;
	for (end = t + strlen(t); end > t && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
					    end[-1] == '\n'); end--)
		;
	tl = strcspn(t, " \t");
	if (t + tl >= end)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %s", what, shape);
	for (b = t + tl; *b == ' ' || *b == '\t'; b++)
		;
	bl = strcspn(b, " \t\r\n");
	for (i = 0; i < sizeof(cert_types) / sizeof(cert_types[0]); i++)
		if (strlen(cert_types[i]) == tl && memcmp(t, cert_types[i], tl) == 0)
			break;
	if (i == sizeof(cert_types) / sizeof(cert_types[0]) || bl == 0 || tl + 1 + bl > TC_CERT_MAX ||
	    memchr(t, '\n', (size_t)(end - t)) != NULL)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %s", what, shape);
	blob = xmalloc(bl);
	ok = b64_decode(b, bl, blob, bl, &blen) == 0 && blen > 4 + tl &&
	     ((uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3]) == tl &&
	     memcmp(blob + 4, t, tl) == 0;
	free(blob);
	if (!ok)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %s", what, shape);
	memcpy(out, t, tl);
	out[tl] = ' ';
	memcpy(out + tl + 1, b, bl);
	out[tl + 1 + bl] = '\0';
	return 0;
}
