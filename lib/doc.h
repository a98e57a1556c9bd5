/* doc.h: a fetched config document (SORACOM-compatible or native schema)
 * -> this device's validated tunnel specs. json-c lives behind this header. */
#ifndef TC_DOC_H
#define TC_DOC_H

#include <stddef.h>

#include "err.h"
#include "spec.h"

#define TC_DOC_MAX	(1024 * 1024)	/* contract: larger documents are refused */
#define TC_DOC_DEPTH	32		/* contract: deeper nesting is refused */
#define TC_DOC_TUNNELS_MAX 64		/* tunnels per device; more is an error */

enum tc_doc_schema { TC_SCHEMA_SORACOM = 1, TC_SCHEMA_NATIVE = 2 };

struct tc_doc_result {
	enum tc_doc_schema schema;
	int has_device;		/* 0: valid document, but no entry for this id */
	char id[TC_ECHO_MAX + 4];	/* the id looked up, as tc_echo() shows it */
	size_t n;		/* number of specs */
	struct tc_spec *specs;	/* owned; free with tc_doc_result_free() */
};

/* Parse and validate `len` bytes (not NUL-terminated necessarily) for device `id`.
 * Strict: valid UTF-8, no trailing garbage, no duplicate keys, no unknown keys,
 * exact JSON types, depth <= TC_DOC_DEPTH, len <= TC_DOC_MAX, len > 0.
 * The whole document must be well-formed JSON of one schema's shape, but only
 * this device's entry is validated in depth: one device's typo in a shared
 * fleet document must not stop every other device from converging.
 * Errors are TC_ERR_INVALID with a message naming the JSON path, e.g.
 * "devices.edge-0042.tunnels[1].target.port: 70000 is not a port";
 * a key is never quoted in a message. */
int tc_doc_parse(const char *buf, size_t len, const char *id,
		 struct tc_doc_result *out, struct tc_err *err);
void tc_doc_result_free(struct tc_doc_result *r);

/* The SORACOM subscriber document (BASE/v1/subscriber): extract .imsi, which
 * must be a JSON string of 5-15 ASCII digits. 0 or -1 (TC_ERR_INVALID). */
int tc_doc_imsi(const char *buf, size_t len, char *imsi, size_t imsisz, struct tc_err *err);

#endif
