/* test_json_strict.c: strict JSON over json-c (RELIABILITY A6: every
 * leniency closed) and the typed getters' messages, which name the value by
 * its JSON path. */
#include <stdlib.h>
#include <string.h>

#include "echo.h"
#include "json_strict.h"
#include "tap.h"

static const struct tc_json_rules rules = { "document", "", 4096, 4 };
static const struct tc_json_rules sub_rules = { "subscriber", "subscriber", 4096, 4 };

/* Parse s (its strlen) with r; 0 and *root, or -1 with err. */
static int
parse(const char *s, const struct tc_json_rules *r, struct json_object **root, struct tc_err *err)
{
	memset(err, 0, sizeof(*err));
	*root = NULL;
	return tc_json_parse(s, strlen(s), r, root, err);
}

/* s (n bytes) is refused by `rules` with a message containing want. */
static void
bad_n(const char *s, size_t n, const char *want, const char *label)
{
	struct json_object *root = NULL;
	struct tc_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = tc_json_parse(s, n, &rules, &root, &err);
	ok(rc < 0 && root == NULL && err.kind == TC_ERR_INVALID && strstr(err.msg, want) != NULL,
	   "refused: %s", label);
	if (rc == 0 || strstr(err.msg, want) == NULL)
		printf("#   rc=%d message: %s (wanted '%s')\n", rc, err.msg, want);
	if (rc == 0)
		json_object_put(root);
}

#define BAD(s, want) bad_n((s), sizeof(s) - 1, (want), #s)

static void
test_parse(void)
{
	struct json_object *root;
	struct tc_err err;
	char big[5000];

	ok(parse("{\"a\":[1,{\"b\":\"c\"}],\"d\":true}", &rules, &root, &err) == 0 && root != NULL,
	   "an object parses");
	json_object_put(root);
	ok(parse(" \r\n\t{}\n ", &rules, &root, &err) == 0, "whitespace around the value");
	json_object_put(root);
	ok(parse("{\"a\":\"\\u00e9\\n\\\"\"}", &rules, &root, &err) == 0, "escapes in a string");
	json_object_put(root);
	ok(parse("{\"a\":[[[]]]}", &rules, &root, &err) == 0, "depth 4 (the limit) parses");
	json_object_put(root);

	BAD("", "document: is empty");
	BAD("{\"a\":[[[[]]]]}", "nesting too deep");
	memset(big, ' ', sizeof(big));
	memcpy(big, "{}", 2);
	bad_n(big, sizeof(big), "document: is larger than 4 KiB (5000 bytes)", "over max_len");
	BAD("{\"a\":1}x", "document: trailing data after the JSON value at byte 7");
	BAD("{\"a\":1}{}", "document: trailing data after the JSON value at byte 7");
	BAD("{\"a\":1}\n 1", "document: trailing data after the JSON value at byte 9");
	BAD("{\"a\":1}]", "document: trailing data after the JSON value at byte 7");
	BAD("{\"a\":1", "truncated");
	BAD("{'a':1}", "not valid JSON");
	BAD("{\"a\":1/*c*/}", "not valid JSON");
	BAD("{\"a\":NaN}", "not valid JSON (bare word");
	BAD("{\"a\":Infinity}", "not valid JSON (bare word");
	BAD("{\"a\":01}", "not valid JSON");
	BAD("{\"a\":1,}", "not valid JSON");
	BAD("{\"a\":\"\xc0\xaf\"}", "not valid UTF-8");
	BAD("{\"a\":\"\xed\xa0\x80\"}", "not valid UTF-8");
	BAD("{\"a\":\"\xf4\x90\x80\x80\"}", "not valid UTF-8");
	BAD("{\"a\":\"\xff\"}", "not valid UTF-8");
	BAD("{\"a\":\0}", "not valid JSON");
	BAD("{\"a\":\"x\\u0000y\"}", "NUL");
	BAD("{\"a\":\"x\ty\"}", "control character");
	BAD("{\"a\":1,\"a\":2}", "duplicate key");
	BAD("{\"a\":1,\"\\u0061\":2}", "duplicate key");
	ok(parse("{\"imsi\":\"x\\u0000\"}", &sub_rules, &root, &err) < 0 && strncmp(err.msg, "subscriber", 10) == 0,
	   "messages name the document as its rules say");
}

/* Defect: a document's NUL, control character or duplicate key named no
 * field; null and whitespace-only documents were called truncated. */
static void
test_messages(void)
{
	struct json_object *root;
	struct tc_err err;

	/* the message is exactly the path, then what is wrong */
	BAD("{\"a\":{\"b\":\"x\\u0000y\"}}", "a.b: \\u0000 (NUL) in a string");
	BAD("{\"a\":[1,{\"c\":2},\"x\\u0000\"]}", "a[2]: \\u0000 (NUL) in a string");
	BAD("{\"a\":{\"k\\u0000z\":1}}", "a.k?z: \\u0000 (NUL) in a key");
	BAD("{\"\\u0061b\":{\"c\":\"\\u0000\"}}", "ab.c: \\u0000 (NUL) in a string");
	BAD("{\"a\\\"b\":\"\\u0000\"}", "a\"b: \\u0000 (NUL) in a string");
	BAD("{\"a\":{\"b\":\"x\ty\"}}", "a.b: control character (0x09) in a string");
	BAD("{\"a\":[\"ok\",\"x\ny\"]}", "a[1]: control character (0x0a) in a string");
	BAD("{\"a\":{\"k\x01\":1}}", "a.k?: control character (0x01) in a key");
	BAD("{\"a\":[[],[],{\"b\":[\"x\",\"\\u0000\"]}]}", "a[2].b[1]: \\u0000 (NUL) in a string");
	BAD("\"x\\u0000\"", "document: \\u0000 (NUL) in a string");
	BAD("{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":\"\\u0000\"}",
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...: \\u0000");
	ok(parse("{\"imsi\":\"x\\u0000\"}", &sub_rules, &root, &err) < 0 &&
	   strcmp(err.msg, "subscriber.imsi: \\u0000 (NUL) in a string") == 0, "the root path of the rules comes first");
	/* the escaped \u0000 is found where it is, not in a later string */
	BAD("{\"a\":\"\\\\u0000\",\"b\":\"\\u0000\"}", "b: \\u0000 (NUL)");
	ok(parse("{\"a\":\"\\\\u0000\"}", &rules, &root, &err) == 0, "an escaped backslash before u0000 is no NUL");
	json_object_put(root);
	/* so do JSON's syntax errors */
	BAD("{\"a\":{\"b\":tru}}", "a.b: is not valid JSON (bare word at byte 10)");
	BAD("{\"a\":[1,2 3]}", "a[1]: is not valid JSON: ");
	BAD("{\"a\":{\"b\":\"\xc0\xaf\"}}", "a.b: is not valid UTF-8 (a string, byte 11)");
	BAD("{\"a\":{\"\xe9\":1}}", "a.?: is not valid UTF-8 (a key, byte 7)");
	BAD("{\"a\":[[[[]]]]}", "a[0][0][0]: nesting too deep (more than 4 levels)");
	BAD("{\"a\":{\"b\":1}/}", "a: is not valid JSON (byte 12)");
	/* duplicate keys name the key where it repeats */
	BAD("{\"a\":1,\"a\":2}", "a: duplicate key");
	BAD("{\"o\":{\"x\":1,\"y\":{\"z\":1},\"\\u0078\":2}}", "o.x: duplicate key");
	BAD("{\"o\":[{},{\"p\":{\"q\":1,\"q\":2}}],\"z\":{\"z\":1,\"z\":2}}", "o[1].p.q: duplicate key");
	BAD("{\"a\":{\"x\":1,\"x\":{\"b\":1}},\"c\":{\"d\":1,\"d\":2}}", "a.x: duplicate key");
	/* what the document is, rather than "truncated" */
	BAD("null", "document: is null, expected an object");
	BAD(" null\n", "document: is null, expected an object");
	BAD("   ", "document: is empty (only whitespace)");
	BAD("\r\n\t", "document: is empty (only whitespace)");
	BAD("[]", "document: is an array, expected an object");
	BAD("\"x\"", "document: is a string, expected an object");
	BAD("12", "document: is an integer, expected an object");
	BAD("1.5", "document: is a non-integer number, expected an object");
	BAD("true", "document: is a boolean, expected an object");
	BAD("\n4\"", "document: is not valid JSON");	/* found by fuzz_doc: an open string at the end */
	BAD("{\"a\":\"x", "document: is truncated");
	BAD("{\"a\":[1,2", "document: is truncated");
	BAD("{\"a\":", "document: is truncated");
	ok(parse("   ", &sub_rules, &root, &err) < 0 && strcmp(err.msg, "subscriber: is empty (only whitespace)") == 0,
	   "whitespace-only subscriber document");
}

static int
starts_with_s(const char *v)
{
	return v[0] == 's';
}

static void
test_getters(void)
{
	static const char *const keys[] = { "s", "n", "neg", "f", "b", "z", "o", "a", "nul", "e", NULL };
	static const char *const few[] = { "s", NULL };
	struct json_object *root, *o;
	struct tc_err err;
	char buf[8], p[TC_JSON_PATH_MAX], longkey[200];
	const char *s;
	size_t n;
	int64_t v;
	int b;

	/* the NUL is refused by the parse; a tree with it is built by hand below */
	root = json_object_new_object();
	json_object_object_add(root, "s", json_object_new_string("str"));
	json_object_object_add(root, "n", json_object_new_int64(42));
	json_object_object_add(root, "neg", json_object_new_int64(-3));
	json_object_object_add(root, "f", json_object_new_double(1.5));
	json_object_object_add(root, "b", json_object_new_boolean(1));
	json_object_object_add(root, "z", NULL);
	o = json_object_new_object();
	json_object_object_add(o, "x", json_object_new_int64(1));
	json_object_object_add(root, "o", o);
	json_object_object_add(root, "a", json_object_new_array());
	json_object_object_add(root, "nul", json_object_new_string_len("a\0b", 3));
	json_object_object_add(root, "e", json_object_new_string("\x1b[31m"));

	is_str(tc_json_type_name(NULL), "null", "type name null");
	json_object_object_get_ex(root, "f", &o);
	is_str(tc_json_type_name(o), "a non-integer number", "type name double");

	ok(tc_json_only_keys(root, keys, "top", &err) == 0, "only_keys: all allowed");
	ok(tc_json_only_keys(root, few, "top", &err) < 0 && strcmp(err.msg, "top.n: unknown key") == 0,
	   "only_keys names the first unknown key");
	ok(tc_json_member(root, "s", 1, &o, "top", &err) == 1, "member present");
	ok(tc_json_member(root, "q", 0, &o, "top", &err) == 0, "optional member absent");
	ok(tc_json_member(root, "q", 1, &o, "top", &err) < 0 && strcmp(err.msg, "top.q: is missing") == 0,
	   "required member missing");
	ok(tc_json_member(root, "q", 1, &o, "", &err) < 0 && strcmp(err.msg, "q: is missing") == 0,
	   "a top-level path has no leading dot");

	json_object_object_get_ex(root, "s", &o);
	ok(tc_json_string(o, &s, &n, "top.s", &err) == 0 && n == 3 && strcmp(s, "str") == 0, "string");
	json_object_object_get_ex(root, "nul", &o);
	ok(tc_json_string(o, &s, &n, "top.nul", &err) < 0 && strstr(err.msg, "top.nul: contains a NUL") != NULL,
	   "a string with NUL is refused");
	json_object_object_get_ex(root, "n", &o);
	ok(tc_json_string(o, &s, &n, "top.n", &err) < 0 && strcmp(err.msg, "top.n: is an integer, expected a string") == 0,
	   "an integer is not a string");

	ok(tc_json_str_field(root, "s", 1, buf, sizeof(buf), NULL, "text", "", &err) == 1 && strcmp(buf, "str") == 0,
	   "str_field copies");
	ok(tc_json_str_field(root, "s", 1, buf, sizeof(buf), starts_with_s, "s-thing", "", &err) == 1,
	   "str_field with a validator");
	ok(tc_json_str_field(root, "s", 1, buf, 3, NULL, "short", "", &err) < 0 && strcmp(err.msg, "s: 'str' is not short") == 0,
	   "str_field: too long for the buffer");
	ok(tc_json_str_field(root, "e", 1, buf, sizeof(buf), starts_with_s, "an s-thing", "", &err) < 0 &&
	   strcmp(err.msg, "e: '?[31m' is not an s-thing") == 0, "str_field echoes a refused value safely");
	ok(tc_json_str_field(root, "q", 0, buf, sizeof(buf), NULL, "x", "", &err) == 0, "str_field optional absent");

	ok(tc_json_int_field(root, "n", 1, 1, 65535, &v, "a port", "", &err) == 1 && v == 42, "int_field");
	ok(tc_json_int_field(root, "neg", 1, 1, 65535, &v, "a port", "", &err) < 0 &&
	   strcmp(err.msg, "neg: -3 is not a port (1-65535)") == 0, "int_field range");
	ok(tc_json_int_field(root, "f", 1, 1, 65535, &v, "a port", "", &err) < 0 &&
	   strstr(err.msg, "f: is a non-integer number, expected a port") != NULL, "int_field never coerces a double");
	ok(tc_json_int_field(root, "b", 1, 0, 1, &v, "a flag", "", &err) < 0, "int_field never coerces a boolean");
	ok(tc_json_int_field(root, "s", 1, 0, 1, &v, "a flag", "", &err) < 0, "int_field never coerces a string");
	ok(tc_json_int_field(root, "z", 1, 0, 1, &v, "a flag", "", &err) < 0 && strstr(err.msg, "z: is null") != NULL,
	   "int_field: null");

	ok(tc_json_bool_field(root, "b", 1, &b, "", &err) == 1 && b == 1, "bool_field");
	ok(tc_json_bool_field(root, "n", 1, &b, "", &err) < 0 && strstr(err.msg, "n: is an integer, expected a boolean") != NULL,
	   "bool_field never coerces an integer");
	ok(tc_json_bool_field(root, "q", 0, &b, "", &err) == 0, "bool_field optional absent");

	ok(tc_json_obj_field(root, "o", 1, &o, NULL, p, "", &err) == 1 && strcmp(p, "o") == 0, "obj_field and its path");
	ok(tc_json_obj_field(root, "o", 1, &o, few, p, "", &err) < 0 && strcmp(err.msg, "o.x: unknown key") == 0,
	   "obj_field checks its keys");
	ok(tc_json_obj_field(root, "a", 1, &o, NULL, p, "", &err) < 0 && strcmp(err.msg, "a: is an array, expected an object") == 0,
	   "obj_field: an array is not an object");
	json_object_put(root);

	tc_json_path(p, "devices", "edge\n0042");
	is_str(p, "devices.edge?0042", "paths echo keys safely");
	tc_json_path_idx(p, "devices.edge.tunnels", 3);
	is_str(p, "devices.edge.tunnels[3]", "array index path");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	tc_json_path(p, "a", longkey);
	ok(strlen(p) == 2 + TC_ECHO_MAX + 3 && strcmp(p + strlen(p) - 3, "...") == 0, "a long key is cut in a path");
	memset(p, 'p', TC_JSON_PATH_MAX - 1);
	p[TC_JSON_PATH_MAX - 1] = '\0';
	{
		char q[TC_JSON_PATH_MAX];

		tc_json_path(q, p, "x");
		ok(strlen(q) == TC_JSON_PATH_MAX - 1 && strcmp(q + strlen(q) - 3, "...") == 0,
		   "a path that does not fit ends in ...");
	}
}

int
main(void)
{
	test_parse();
	test_messages();
	test_getters();
	return tap_done();
}
