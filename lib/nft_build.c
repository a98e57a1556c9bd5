/* nft_build.c: what the `ip tunnelctl` table holds, as libnftnl objects (its
 * chains, every rule's expressions) and the one batch that installs them. */
#include "config.h"

/* glibc's netinet/in.h must come before the kernel headers that pull linux/in.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

#include "nft_priv.h"
#include "xalloc.h"

const struct nft_chain_def nft_chains[CH_COUNT] = {
	/* dstnat for locally generated packets */
	[CH_OUTPUT] = { "output", "nat", NF_INET_LOCAL_OUT, -100 },
	/* srcnat: 127.x sources must be rewritten before they leave (V9) */
	[CH_POSTROUTING] = { "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
	/* raw priority: drop before conntrack sees the packet (CVE-2020-8558) */
	[CH_PREROUTING] = { "prerouting", "filter", NF_INET_PRE_ROUTING, -300 },
};

/* The first byte of an IPv4 address: enough to match 127.0.0.0/8. */
#define NET127_LEN 1

/* ---------- expressions ---------- */

static struct nftnl_expr *
expr_add(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = XCHECK(nftnl_expr_alloc(name));

	nftnl_rule_add_expr(r, e);
	return e;
}

static void
add_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = expr_add(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void
add_payload(struct nftnl_rule *r, uint32_t base, size_t off, size_t len)
{
	struct nftnl_expr *e = expr_add(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, (uint32_t)off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, (uint32_t)len);
}

static void
add_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr_add(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
add_imm(struct nftnl_rule *r, uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr_add(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

/* The interface-name compare nft emits: a full IFNAMSIZ buffer, zero padded. */
static void
add_ifname_ne_lo(struct nftnl_rule *r, uint32_t key)
{
	char lo[16] = "lo";

	add_meta(r, key);
	add_cmp(r, NFT_CMP_NEQ, lo, sizeof(lo));
}

/* meta l4proto tcp */
static void
add_l4proto_tcp(struct nftnl_rule *r)
{
	uint8_t tcp = IPPROTO_TCP;

	add_meta(r, NFT_META_L4PROTO);
	add_cmp(r, NFT_CMP_EQ, &tcp, sizeof(tcp));
}

/* tcp dport PORT (port in host order) */
static void
add_tcp_dport(struct nftnl_rule *r, uint16_t port)
{
	uint16_t p = htons(port);

	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, offsetof(struct tcphdr, dest), sizeof(p));
	add_cmp(r, NFT_CMP_EQ, &p, sizeof(p));
}

/* fib FLAGS type local: FLAGS NFTA_FIB_F_DADDR or _SADDR */
static void
add_fib_local(struct nftnl_rule *r, uint32_t flags)
{
	struct nftnl_expr *e = expr_add(r, "fib");
	uint32_t local = RTN_LOCAL;

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	add_cmp(r, NFT_CMP_EQ, &local, sizeof(local));
}

/* ---------- rules ---------- */

static struct nftnl_rule *
rule_new(const char *chain)
{
	struct nftnl_rule *r = XCHECK(nftnl_rule_alloc());

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TC_NFT_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0)
		tc_oom();
	return r;
}

/* The tunnel name as nft's comment TLV, so `nft list` shows it too. */
static void
rule_set_comment(struct nftnl_rule *r, const char *name)
{
	struct nftnl_udata_buf *ud = XCHECK(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));

	/* A valid comment (nft_dnat_valid) always fits the buffer, so only
	 * nftnl_rule_set_data's copy can fail. */
	if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, name) ||
	    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				nftnl_udata_buf_len(ud)) < 0)
		tc_oom();
	nftnl_udata_buf_free(ud);
}

/* meta l4proto tcp tcp dport LPORT fib daddr type local dnat to TARGET:TPORT */
static struct nftnl_rule *
rule_dnat(const struct tc_dnat *d, const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	uint16_t tport = htons(d->target_port);
	struct nftnl_expr *e;

	add_l4proto_tcp(r);
	add_tcp_dport(r, d->local_port);
	/* "type local" covers 127.0.0.1 and every address of the device */
	add_fib_local(r, NFTA_FIB_F_DADDR);
	add_imm(r, NFT_REG_1, &d->target.s_addr, sizeof(d->target.s_addr));
	add_imm(r, NFT_REG_2, &tport, sizeof(tport));
	e = expr_add(r, "nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	/* Spelled out as the kernel reports them back (max = min, MAP_IPS), so
	 * nft_read.c can compare what we would send with what is there. */
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
			   NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
	rule_set_comment(r, d->name);
	return r;
}

/* oifname != "lo" ip saddr 127.0.0.0/8 masquerade */
static struct nftnl_rule *
rule_masq(void)
{
	struct nftnl_rule *r = rule_new(nft_chains[CH_POSTROUTING].name);
	uint8_t net127 = 127;

	add_ifname_ne_lo(r, NFT_META_OIFNAME);
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offsetof(struct iphdr, saddr), NET127_LEN);
	add_cmp(r, NFT_CMP_EQ, &net127, sizeof(net127));
	(void)expr_add(r, "masq");
	return r;
}

/* meta l4proto tcp fib saddr type local ip daddr TARGET tcp dport TPORT masquerade
 * A connection made on the device to one of its own addresses keeps that
 * address as source after the DNAT (say the WAN address); the target has no
 * route back to it, so locally made connections to a tunnel's target leave
 * with the address of the interface toward it. Forwarded traffic (non-local
 * source) is left alone; for the device's own direct connections to the
 * target the source already is that address, so this changes nothing. */
static struct nftnl_rule *
rule_masq_target(const struct tc_dnat *d)
{
	struct nftnl_rule *r = rule_new(nft_chains[CH_POSTROUTING].name);

	add_l4proto_tcp(r);
	add_fib_local(r, NFTA_FIB_F_SADDR);
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offsetof(struct iphdr, daddr),
		    sizeof(d->target.s_addr));
	add_cmp(r, NFT_CMP_EQ, &d->target.s_addr, sizeof(d->target.s_addr));
	add_tcp_dport(r, d->target_port);
	(void)expr_add(r, "masq");
	rule_set_comment(r, d->name);
	return r;
}

/* iifname != "lo" ip daddr 127.0.0.0/8 drop */
static struct nftnl_rule *
rule_drop_loopback(void)
{
	struct nftnl_rule *r = rule_new(nft_chains[CH_PREROUTING].name);
	uint8_t net127 = 127;
	struct nftnl_expr *e;

	add_ifname_ne_lo(r, NFT_META_IIFNAME);
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, offsetof(struct iphdr, daddr), NET127_LEN);
	add_cmp(r, NFT_CMP_EQ, &net127, sizeof(net127));
	e = expr_add(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	return r;
}

void
nft_rules_free(struct nftnl_rule **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (v[i] != NULL)
			nftnl_rule_free(v[i]);
	}
	free(v);
}

struct nftnl_rule **
nft_rules_build(const struct tc_dnat *rules, size_t n)
{
	struct nftnl_rule **v = xcalloc(NFT_NRULES(n), sizeof(*v));
	size_t i;

	v[0] = rule_masq();
	v[1] = rule_drop_loopback();
	for (i = 0; i < n; i++) {
		v[2 + 2 * i] = rule_dnat(&rules[i], nft_chains[CH_OUTPUT].name);
		v[3 + 2 * i] = rule_masq_target(&rules[i]);
	}
	return v;
}

int
nft_dnat_valid(const struct tc_dnat *d, struct tc_err *err)
{
	size_t len = strnlen(d->name, sizeof(d->name));

	if (len == 0 || len == sizeof(d->name))
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: a DNAT rule has no valid tunnel name");
	if (d->local_port == 0 || d->target_port == 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: tunnel %s: port 0", d->name);
	return 0;
}

/* ---------- the batch ---------- */

/* Messages of the batch besides its markers: the table (created, or added,
 * deleted and added again), chains, rules, the test hook's rule. */
static size_t
batch_len(size_t n, bool replace, unsigned flags)
{
	size_t m = n == 0 ? 2 : (replace ? 3 : 1) + CH_COUNT + NFT_NRULES(n);

	return m + ((flags & TC_NFT_F_TEST_BAD_LAST) ? 1 : 0);
}

/* One batch that leaves the table holding exactly `v` (the rules of
 * nft_rules_build for `rules`), or deletes it when n == 0. `replace`: the
 * table exists, so it is added (a no-op), deleted with whatever anyone put
 * in it, and made afresh; else it is created, and refused (EEXIST) if it
 * appeared since we looked. */
static void
batch_build(struct nft_txn *t, const struct tc_dnat *rules, struct nftnl_rule **v, size_t n,
	    bool replace, unsigned flags)
{
	size_t i;

	nft_txn_marker(t, true);
	if (n == 0) {
		nft_txn_table(t, NFT_MSG_NEWTABLE, NLM_F_CREATE, "adding");
		nft_txn_table(t, NFT_MSG_DELTABLE, 0, "deleting");
	} else if (replace) {
		nft_txn_table(t, NFT_MSG_NEWTABLE, NLM_F_CREATE, "adding");
		nft_txn_table(t, NFT_MSG_DELTABLE, 0, "deleting");
		nft_txn_table(t, NFT_MSG_NEWTABLE, NLM_F_CREATE, "re-adding");
	} else {
		nft_txn_table(t, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "creating");
	}
	if (n > 0) {
		for (i = 0; i < CH_COUNT; i++)
			nft_txn_chain(t, &nft_chains[i]);
		nft_txn_rule(t, v[0], "the masquerade rule of postrouting", "");
		nft_txn_rule(t, v[1], "the loopback drop rule of prerouting", "");
		for (i = 0; i < n; i++) {
			nft_txn_rule(t, v[2 + 2 * i], "rule for tunnel ", rules[i].name);
			nft_txn_rule(t, v[3 + 2 * i], "masquerade rule for tunnel ", rules[i].name);
		}
	}
	if (flags & TC_NFT_F_TEST_BAD_LAST) {
		struct nftnl_rule *bad = rule_dnat(&rules[0], "missing");

		nft_txn_rule(t, bad, "test rule to a missing chain for tunnel ", rules[0].name);
		nftnl_rule_free(bad);
	}
	nft_txn_marker(t, false);
}

int
tc_nft_apply_flags(const struct tc_dnat *rules, size_t n, unsigned flags, struct tc_err *err)
{
	struct mnl_socket *nl;
	struct nftnl_rule **v = NULL;
	struct nft_txn t;
	/* Distinct per run so a stale answer from an earlier socket cannot match. */
	uint32_t seq = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	size_t i, most = batch_len(n, true, flags) + 2;
	int exists, kerr, ret;

	for (i = 0; i < n; i++) {
		if (nft_dnat_valid(&rules[i], err) < 0)
			return -1;
	}
	if ((flags & TC_NFT_F_TEST_BAD_LAST) && n == 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: the test hook needs a rule");
	/* A large batch must fit the send buffer in one sendto, its acks the
	 * receive buffer. */
	nl = nft_sock_open(most * NFT_MSG_MAX + NFT_SOCKBUF_SLACK,
			   most * NFT_ACK_TRUESIZE + NFT_SOCKBUF_SLACK, err);
	if (nl == NULL)
		return -1;
	exists = nft_table_probe(nl, seq++, err);
	if (exists < 0 || (exists == 0 && n == 0)) {
		mnl_socket_close(nl);
		return exists < 0 ? -1 : 0;	/* absent and wanted absent: nothing to send */
	}
	if (n > 0)
		v = nft_rules_build(rules, n);
	nft_txn_init(&t, batch_len(n, exists, flags), seq);
	batch_build(&t, rules, v, n, exists, flags);
	ret = nft_txn_send(nl, &t, &kerr, err);
	seq += t.nseq;
	nft_txn_free(&t);
	if (ret < 0 && !exists && kerr == EEXIST) {
		/* made by someone else since the probe: replace it after all */
		nft_txn_init(&t, batch_len(n, true, flags), seq);
		batch_build(&t, rules, v, n, true, flags);
		ret = nft_txn_send(nl, &t, &kerr, err);
		nft_txn_free(&t);
	}
	nft_rules_free(v, n > 0 ? NFT_NRULES(n) : 0);
	mnl_socket_close(nl);
	return ret;
}

int
tc_nft_apply(const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	return tc_nft_apply_flags(rules, n, 0, err);
}
