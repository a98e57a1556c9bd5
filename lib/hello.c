/* hello.c: the device's hello to tunnelctl-gate, parsed as hostile input
 * (as git-shell and rrsync treat SSH_ORIGINAL_COMMAND): a fixed grammar,
 * every value validated by the same rules as the device's own spec. */
#include <string.h>

#include "hello.h"
#include "num.h"

#define HELLO_WORDS 6	/* tunnelctl-gate hello 1 + three keys */

static const char *const lead[] = { "tunnelctl-gate", "hello" };

static int
set_tunnel(struct tc_hello *h, const char *v, struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];

	if (!tc_valid_name(v))
		return tc_err_set(err, TC_ERR_INVALID,
				  "tunnel '%s' is not a name ([a-z0-9][a-z0-9_-]{0,31})", tc_echo(v, e));
	memcpy(h->tunnel, v, strlen(v) + 1);
	return 0;
}

static int
set_target(struct tc_hello *h, const char *v, struct tc_err *err)
{
	if (strlen(v) > TC_TARGET_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "target is longer than %d bytes", TC_TARGET_MAX);
	if (tc_parse_hostport(v, h->target_host, sizeof(h->target_host), &h->target_port,
			      "target", err) < 0)
		return -1;
	memcpy(h->target, v, strlen(v) + 1);
	return 0;
}

static int
set_expires(struct tc_hello *h, const char *v, struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];
	unsigned long long x;

	if (tc_parse_uint(v, TC_HELLO_EXPIRES_MAX, &x) < 0)
		return tc_err_set(err, TC_ERR_INVALID,
				  "expires '%s' is not a unix time (decimal seconds, 0 for none)",
				  tc_echo(v, e));
	h->expires = (int64_t)x;
	return 0;
}

static const struct key {
	const char *name;
	int (*set)(struct tc_hello *, const char *, struct tc_err *);
} keys[] = {
	{ "tunnel", set_tunnel },
	{ "target", set_target },
	{ "expires", set_expires },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* One key=value word; seen[] catches a repeated key. */
static int
parse_pair(struct tc_hello *h, char *w, int seen[NKEYS], struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];
	char *eq = strchr(w, '=');
	size_t i;

	if (!eq)
		return tc_err_set(err, TC_ERR_INVALID, "'%s' is not KEY=VALUE", tc_echo(w, e));
	*eq = '\0';
	for (i = 0; i < NKEYS; i++)
		if (strcmp(w, keys[i].name) == 0)
			break;
	if (i == NKEYS)
		return tc_err_set(err, TC_ERR_INVALID, "unknown key '%s'", tc_echo(w, e));
	if (seen[i]++)
		return tc_err_set(err, TC_ERR_INVALID, "key '%s' given twice", keys[i].name);
	return keys[i].set(h, eq + 1, err);
}

int
tc_hello_parse(const char *buf, size_t len, struct tc_hello *h, struct tc_err *err)
{
	char copy[TC_HELLO_MAX + 1], e[TC_ECHO_MAX + 4];
	char *word[HELLO_WORDS + 1], *p;
	int seen[NKEYS] = { 0 };
	size_t i, n = 0;

	memset(h, 0, sizeof(*h));
	if (len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "empty hello");
	if (len > TC_HELLO_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "hello longer than %d bytes", TC_HELLO_MAX);
	if (memchr(buf, '\0', len))
		return tc_err_set(err, TC_ERR_INVALID, "hello contains a NUL byte");
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] <= 0x20 && buf[i] != ' ')
			return tc_err_set(err, TC_ERR_INVALID, "hello contains a control character");
		else if ((unsigned char)buf[i] >= 0x7f)
			return tc_err_set(err, TC_ERR_INVALID, "hello contains a byte that is not printable ASCII");
	if (buf[0] == ' ' || buf[len - 1] == ' ' || memmem(buf, len, "  ", 2))
		return tc_err_set(err, TC_ERR_INVALID, "hello words must be separated by exactly one space");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	/* Split on single spaces; an empty word means a doubled, leading or
	 * trailing space, which the grammar does not allow. */
	for (p = copy; n <= HELLO_WORDS; n++) {
		char *sp = strchr(p, ' ');

		word[n] = p;
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	if (n >= HELLO_WORDS)
		return tc_err_set(err, TC_ERR_INVALID, "hello has more than %d words", HELLO_WORDS);
	n++;
	for (i = 0; i < 2; i++)
		if (i >= n || strcmp(word[i], lead[i]) != 0)
			return tc_err_set(err, TC_ERR_INVALID,
					  "not a hello (expected 'tunnelctl-gate hello %s ...')",
					  TC_HELLO_VERSION);
	if (n < 3 || strcmp(word[2], TC_HELLO_VERSION) != 0)
		return tc_err_set(err, TC_ERR_INVALID, "hello version '%s' is not supported (this gate speaks %s)",
				  n < 3 ? "" : tc_echo(word[2], e), TC_HELLO_VERSION);
	for (i = 3; i < n; i++)
		if (parse_pair(h, word[i], seen, err) < 0)
			return -1;
	for (i = 0; i < NKEYS; i++)
		if (!seen[i])
			return tc_err_set(err, TC_ERR_INVALID, "key '%s' is missing", keys[i].name);
	return 0;
}
