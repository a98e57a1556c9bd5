/* nft_read.c: the `ip tunnelctl` table read back over netlink: a snapshot of
 * it, its DNAT rules decoded, and comparisons with what nft_build.c would make. */
#include "config.h"

/* glibc's netinet/in.h must come before the kernel headers that pull linux/in.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nft_priv.h"
#include "xalloc.h"

/* A key longer than this is no rule of ours (a DNAT rule's key is ~600 bytes). */
#define KEY_MAX 4096

/* ---------- snapshot ---------- */

/* The table, its chains and its rules as the kernel has them now. */
struct snapshot {
	bool exists;
	struct nft_objs table, chains, rules;
};

static void
snapshot_free(struct snapshot *s)
{
	nft_objs_free(&s->table);
	nft_objs_free(&s->chains);
	nft_objs_free(&s->rules);
}

/* What nft_get's positive errno means for a reader. Returns -1. */
static int
get_failed(int rc, struct tc_err *err)
{
	if (rc <= 0)
		return -1;	/* err already says why */
	if (nft_errno_kind(rc) == TC_ERR_PERM)
		return tc_err_set(err, TC_ERR_PERM, NFT_PERM_MSG);
	return tc_err_set(err, TC_ERR_RUNTIME, "nftables: reading table ip " TC_NFT_TABLE ": %s",
			  strerror(rc));
}

/* GET our table into o: 1 if it exists, 0 if not, -1 with err. */
static int
table_get(struct mnl_socket *nl, uint32_t seq, struct nft_objs *o, struct tc_err *err)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = XCHECK(nftnl_table_alloc());
	struct nlmsghdr *nlh;
	int rc;

	memset(req, 0, sizeof(req));	/* attribute padding goes to the kernel too */
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, TC_NFT_TABLE) < 0)
		tc_oom();
	/* The ack ends the answer: a GET of one object is not a multipart dump. */
	nlh = nftnl_table_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	rc = nft_get(nl, nlh, o, err);
	if (rc == ENOENT)
		return 0;
	return rc == 0 ? 1 : get_failed(rc, err);
}

int
nft_table_probe(struct mnl_socket *nl, uint32_t seq, struct tc_err *err)
{
	struct nft_objs o = nft_objs_tables();
	int r = table_get(nl, seq, &o, err);

	nft_objs_free(&o);
	return r;
}

static int
snapshot_take(struct snapshot *s, struct tc_err *err)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nftnl_chain *c;
	struct nftnl_rule *r;
	uint32_t seq = (uint32_t)time(NULL);
	int rc;

	memset(s, 0, sizeof(*s));
	s->table = nft_objs_tables();
	s->chains = nft_objs_chains();
	s->rules = nft_objs_rules();
	nl = nft_sock_open(0, 0, err);
	if (nl == NULL)
		return -1;
	rc = table_get(nl, seq++, &s->table, err);
	if (rc <= 0) {
		mnl_socket_close(nl);	/* absent: nothing more to read */
		if (rc < 0)
			snapshot_free(s);
		return rc;
	}
	s->exists = true;
	/* Dumps filtered by table; the kernel filters, and readers check again. */
	memset(req, 0, sizeof(req));
	c = XCHECK(nftnl_chain_alloc());
	if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TC_NFT_TABLE) < 0)
		tc_oom();
	nlh = nftnl_chain_nlmsg_build_hdr(req, NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_DUMP, seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	rc = nft_get(nl, nlh, &s->chains, err);
	if (rc == 0) {
		memset(req, 0, sizeof(req));
		r = XCHECK(nftnl_rule_alloc());
		if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TC_NFT_TABLE) < 0)
			tc_oom();
		nlh = nftnl_rule_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, seq++);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
		rc = nft_get(nl, nlh, &s->rules, err);
	}
	mnl_socket_close(nl);
	if (rc != 0) {
		snapshot_free(s);
		return get_failed(rc, err);
	}
	return 0;
}

static bool
in_our_table(const char *table)
{
	return table != NULL && strcmp(table, TC_NFT_TABLE) == 0;
}

/* ---------- decoding a DNAT rule ---------- */

static int
comment_cb(const struct nftnl_udata *attr, void *data)
{
	struct tc_dnat *d = data;
	const char *s = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) != NFTNL_UDATA_RULE_COMMENT)
		return 0;
	/* strz: must end in NUL and fit a comment */
	if (len == 0 || len > sizeof(d->name) || s[len - 1] != '\0')
		return -1;
	memcpy(d->name, s, len);
	return 0;
}

/* Decode one of our DNAT rules; false if it is not one (anything unexpected). */
static bool
dnat_decode(const struct nftnl_rule *r, struct tc_dnat *d)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const void *data, *ud;
	uint32_t len, ulen;
	bool port_next = false, have_port = false, have_addr = false, have_tport = false;
	bool have_nat = false;

	memset(d, 0, sizeof(*d));
	it = XCHECK(nftnl_expr_iter_create(r));
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (strcmp(name, "payload") == 0) {
			port_next = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) ==
					    NFT_PAYLOAD_TRANSPORT_HEADER &&
				    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) ==
					    offsetof(struct tcphdr, dest);
			continue;
		}
		if (strcmp(name, "cmp") == 0 && port_next) {
			data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
			if (data != NULL && len == sizeof(uint16_t)) {
				d->local_port = ntohs(*(const uint16_t *)data);
				have_port = true;
			}
		} else if (strcmp(name, "immediate") == 0 &&
			   nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
			data = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
			if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_1 &&
			    len == sizeof(d->target.s_addr)) {
				memcpy(&d->target.s_addr, data, len);
				have_addr = true;
			} else if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_2 &&
				   len == sizeof(uint16_t)) {
				d->target_port = ntohs(*(const uint16_t *)data);
				have_tport = true;
			}
		} else if (strcmp(name, "nat") == 0) {
			have_nat = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT;
		}
		port_next = false;
	}
	nftnl_expr_iter_destroy(it);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
	if (ud == NULL || nftnl_udata_parse(ud, ulen, comment_cb, d) < 0 || d->name[0] == '\0')
		return false;
	return have_port && have_addr && have_tport && have_nat;
}

int
tc_nft_list(struct tc_dnat **out, size_t *n, int *table_exists, struct tc_err *err)
{
	struct snapshot s;
	struct tc_dnat *v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	*table_exists = 0;
	if (snapshot_take(&s, err) < 0)
		return -1;
	*table_exists = s.exists;
	v = xcalloc(s.rules.n ? s.rules.n : 1, sizeof(*v));
	for (i = 0; i < s.rules.n; i++) {
		const struct nftnl_rule *r = s.rules.v[i];
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);

		if (!in_our_table(nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) || chain == NULL ||
		    strcmp(chain, nft_chains[CH_OUTPUT].name) != 0)
			continue;
		if (dnat_decode(r, &v[k]))
			k++;
	}
	snapshot_free(&s);
	*out = v;
	*n = k;
	return 0;
}

/* ---------- comparing with what nft_build.c makes ---------- */

/* A rule's identity for comparison: chain, every expression as libnftnl
 * prints it (the `nft --debug=netlink` form) and the userdata bytes.
 * NULL when it would be longer than KEY_MAX: not one of ours. */
static char *
rule_key(const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const unsigned char *ud;
	uint32_t ulen = 0, i;
	size_t len;
	char *k = xmalloc(KEY_MAX);
	int w;

	it = XCHECK(nftnl_expr_iter_create(r));
	w = snprintf(k, KEY_MAX, "%s|", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	len = w < 0 ? KEY_MAX : (size_t)w;
	while ((e = nftnl_expr_iter_next(it)) != NULL && len < KEY_MAX) {
		w = snprintf(k + len, KEY_MAX - len, "%s[", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
		len += w < 0 ? KEY_MAX : (size_t)w;
		if (len >= KEY_MAX)
			break;
		w = nftnl_expr_snprintf(k + len, KEY_MAX - len, e, NFTNL_OUTPUT_DEFAULT, 0);
		len += w < 0 ? KEY_MAX : (size_t)w;
		if (len < KEY_MAX) {
			w = snprintf(k + len, KEY_MAX - len, "]");
			len += w < 0 ? KEY_MAX : (size_t)w;
		}
	}
	nftnl_expr_iter_destroy(it);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
	for (i = 0; ud != NULL && i < ulen && len < KEY_MAX; i++) {
		w = snprintf(k + len, KEY_MAX - len, "%02x", ud[i]);
		len += w < 0 ? KEY_MAX : (size_t)w;
	}
	if (len >= KEY_MAX) {
		free(k);
		return NULL;
	}
	return k;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
keys_free(char **k, size_t n)
{
	size_t i;

	for (i = 0; k != NULL && i < n; i++)
		free(k[i]);
	free(k);
}

/* Sorted keys of those of the n rules `v` that are in our table (oversized
 * ones, which cannot be ours, left out); *nk their count, *nall how many
 * rules of our table there were. */
static char **
keys_of(struct nftnl_rule *const *v, size_t n, size_t *nk, size_t *nall)
{
	char **k = xcalloc(n ? n : 1, sizeof(*k));
	size_t i;

	*nk = *nall = 0;
	for (i = 0; i < n; i++) {
		if (!in_our_table(nftnl_rule_get_str(v[i], NFTNL_RULE_TABLE)))
			continue;
		(*nall)++;
		k[*nk] = rule_key(v[i]);
		if (k[*nk] != NULL)
			(*nk)++;
	}
	qsort(k, *nk, sizeof(*k), key_cmp);
	return k;
}

static bool
chain_matches(const struct nftnl_chain *c, const struct nft_chain_def *def)
{
	const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);

	return nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
	       nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == def->hook &&
	       nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == def->prio &&
	       type != NULL && strcmp(type, def->type) == 0 &&
	       (!nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ||
		nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT);
}

/* The table itself: no flags (owner, dormant) and our chains as we make
 * them. `exact`: nothing else in it either (the kernel's use count covers
 * chains, sets, objects, flowtables). */
static bool
shape_ok(const struct snapshot *s, bool exact)
{
	const struct nftnl_table *t;
	size_t i, j, found = 0;

	if (!s->exists || s->table.n != 1)
		return false;
	t = s->table.v[0];
	if (nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) != 0 ||
	    (exact && nftnl_table_get_u32(t, NFTNL_TABLE_USE) != CH_COUNT))
		return false;
	for (i = 0; i < s->chains.n; i++) {
		const struct nftnl_chain *c = s->chains.v[i];
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);

		if (!in_our_table(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)))
			continue;
		for (j = 0; j < CH_COUNT; j++) {
			if (name != NULL && strcmp(name, nft_chains[j].name) == 0)
				break;
		}
		if (j == CH_COUNT && !exact)
			continue;	/* someone else's chain: not ours to judge here */
		if (j == CH_COUNT || !chain_matches(c, &nft_chains[j]))
			return false;
		found++;
	}
	return found == CH_COUNT;
}

/* 1 if the table has the shape and (exact: exactly; else at least) the
 * rules nft_build.c makes for `rules`, 0 if not, -1 on error. */
static int
compare(const struct tc_dnat *rules, size_t n, bool exact, struct tc_err *err)
{
	struct snapshot s;
	struct nftnl_rule **want;
	char **kw, **kh;
	size_t i, nw, nwall, nh, nhall;
	int ret = 1;

	for (i = 0; i < n; i++) {
		if (nft_dnat_valid(&rules[i], err) < 0)
			return -1;
	}
	if (snapshot_take(&s, err) < 0)
		return -1;
	if (!shape_ok(&s, exact)) {
		snapshot_free(&s);
		return 0;
	}
	want = nft_rules_build(rules, n);
	kw = keys_of(want, NFT_NRULES(n), &nw, &nwall);
	kh = keys_of((struct nftnl_rule *const *)s.rules.v, s.rules.n, &nh, &nhall);
	if (exact && (nhall != nw || nh != nw))
		ret = 0;
	for (i = 0; ret == 1 && i < nw; i++) {
		if (exact ? strcmp(kw[i], kh[i]) != 0 :
			    bsearch(&kw[i], kh, nh, sizeof(*kh), key_cmp) == NULL)
			ret = 0;
	}
	keys_free(kw, nw);
	keys_free(kh, nh);
	nft_rules_free(want, NFT_NRULES(n));
	snapshot_free(&s);
	return ret;
}

int
tc_nft_verify(const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	struct snapshot s;
	int ret;

	if (n > 0)
		return compare(rules, n, true, err);
	if (snapshot_take(&s, err) < 0)
		return -1;
	ret = !s.exists;
	snapshot_free(&s);
	return ret;
}

int
tc_nft_contains(const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	return compare(rules, n, false, err);
}
