/* sha256.h: SHA-256 (FIPS 180-4), enough for spec digests; no I/O, no allocation. */
#ifndef TC_SHA256_H
#define TC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TC_SHA256_LEN 32

struct tc_sha256 {
	uint32_t h[8];
	uint64_t total;		/* bytes fed so far */
	uint8_t buf[64];
	size_t used;		/* bytes waiting in buf */
};

void tc_sha256_init(struct tc_sha256 *c);
void tc_sha256_update(struct tc_sha256 *c, const void *data, size_t len);
/* Writes the digest and wipes the context (it may have held key bytes). */
void tc_sha256_final(struct tc_sha256 *c, uint8_t out[TC_SHA256_LEN]);
/* One-shot digest as lowercase hex + NUL. */
void tc_sha256_hex(const void *data, size_t len, char out[2 * TC_SHA256_LEN + 1]);

#endif
