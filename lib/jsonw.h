/* jsonw.h: adding members to a json-c object we write (records, registry,
 * watch.json), with the out-of-memory policy of xalloc.h. */
#ifndef TC_JSONW_H
#define TC_JSONW_H

#include <stdint.h>

#include <json-c/json.h>

#include "xalloc.h"

static inline void
tc_json_add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, XCHECK(json_object_new_string(v)));
}

static inline void
tc_json_add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, XCHECK(json_object_new_int64(v)));
}

#endif
