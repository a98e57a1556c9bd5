/* nft.c: the `ip tunnelctl` table over netlink. Every change is one nfnetlink
 * batch built with libnftnl and sent with libmnl; each message asks for an ack
 * so a refusal is matched, by sequence number, to the object it concerns. */
#include "config.h"

/* glibc's netinet/in.h must come before the kernel headers that pull linux/in.h */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nft.h"

/* A netlink reply slower than this means the kernel side is stuck; give up
 * rather than hang a cron job. */
#define NL_TIMEOUT_S 5
/* Upper bound on one of our messages in the batch (a DNAT rule is ~400 bytes);
 * used to size the batch buffer and the socket buffers. */
#define MSG_MAX 2048
/* Receive buffer for dumps: the kernel fills dump skbs up to 32 KiB. */
#define DUMP_BUF (64 * 1024)
/* Socket buffer headroom on top of what the batch and its acks need. */
#define SOCKBUF_SLACK (64 * 1024)
/* The kernel charges roughly this much receive buffer per queued ack. */
#define ACK_TRUESIZE 2048

#define PERM_MSG "nftables: Operation not permitted (tunnelctl needs CAP_NET_ADMIN)"

enum { CH_OUTPUT, CH_POSTROUTING, CH_PREROUTING, CH_COUNT };

static const struct chain_def {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
} chain_defs[CH_COUNT] = {
	/* dstnat for locally generated packets */
	[CH_OUTPUT] = { "output", "nat", NF_INET_LOCAL_OUT, -100 },
	/* srcnat: 127.x sources must be rewritten before they leave (V9) */
	[CH_POSTROUTING] = { "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
	/* raw priority: drop before conntrack sees the packet (CVE-2020-8558) */
	[CH_PREROUTING] = { "prerouting", "filter", NF_INET_PRE_ROUTING, -300 },
};

/* ---------- netlink socket ---------- */

static struct mnl_socket *
nl_open(size_t sndbuf, size_t rcvbuf, struct tc_err *err)
{
	struct mnl_socket *nl;
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	int one = 1, fd, sz;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (nl == NULL) {
		tc_err_set(err, errno == EPERM || errno == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME,
			   "nftables: netlink socket: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "nftables: netlink bind: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "nftables: SO_RCVTIMEO: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	/* Best effort: extended acks carry the kernel's reason; capped acks keep
	 * a big batch's errors from echoing every message back. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* A large batch must fit the send buffer in one sendto and its acks the
	 * receive buffer; FORCE needs CAP_NET_ADMIN, which changing rules needs
	 * anyway, so fall back to the capped variant without it. */
	sz = (int)(sndbuf > (size_t)1 << 30 ? (size_t)1 << 30 : sndbuf);
	if (sz > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	sz = (int)(rcvbuf > (size_t)1 << 30 ? (size_t)1 << 30 : rcvbuf);
	if (sz > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return nl;
}

static int
errno_kind(int e)
{
	return e == EPERM || e == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME;
}

/* ---------- expressions ---------- */

/* Collects expressions for one rule; the first allocation failure sticks in
 * `bad`, so builders stay linear and are checked once at the end. */
struct rb {
	struct nftnl_rule *r;
	bool bad;
};

static struct nftnl_expr *
rb_expr(struct rb *b, const char *name)
{
	struct nftnl_expr *e;

	if (b->bad)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (e == NULL) {
		b->bad = true;
		return NULL;
	}
	nftnl_rule_add_expr(b->r, e);
	return e;
}

static void
rb_meta(struct rb *b, uint32_t key)
{
	struct nftnl_expr *e = rb_expr(b, "meta");

	if (e == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void
rb_payload(struct rb *b, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(b, "payload");

	if (e == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void
rb_cmp(struct rb *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(b, "cmp");

	if (e == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
rb_imm(struct rb *b, uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(b, "immediate");

	if (e == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

/* The interface-name compare nft emits: a full IFNAMSIZ buffer, zero padded. */
static void
rb_ifname_ne_lo(struct rb *b, uint32_t key)
{
	char lo[16] = "lo";

	rb_meta(b, key);
	rb_cmp(b, NFT_CMP_NEQ, lo, sizeof(lo));
}

static struct nftnl_rule *
rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TC_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

static struct nftnl_rule *
rule_finish(struct rb *b)
{
	if (!b->bad)
		return b->r;
	nftnl_rule_free(b->r);
	return NULL;
}

/* The tunnel name as nft's comment TLV, so `nft list` shows it too. */
static bool
rule_set_comment(struct nftnl_rule *r, const char *name)
{
	struct nftnl_udata_buf *ud;
	bool ok;

	ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (ud == NULL)
		return false;
	ok = nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, name);
	if (ok)
		ok = nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
					 nftnl_udata_buf_len(ud)) == 0;
	nftnl_udata_buf_free(ud);
	return ok;
}

/* meta l4proto tcp tcp dport LPORT fib daddr type local dnat to TARGET:TPORT */
static struct nftnl_rule *
rule_dnat(const struct tc_dnat *d, const char *chain)
{
	struct rb b = { .r = rule_new(chain) };
	uint8_t tcp = IPPROTO_TCP;
	uint16_t lport = htons(d->local_port), tport = htons(d->target_port);
	uint32_t local = RTN_LOCAL;
	struct nftnl_expr *e;

	if (b.r == NULL)
		return NULL;
	rb_meta(&b, NFT_META_L4PROTO);
	rb_cmp(&b, NFT_CMP_EQ, &tcp, sizeof(tcp));
	rb_payload(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, sizeof(lport));	/* tcphdr.dest */
	rb_cmp(&b, NFT_CMP_EQ, &lport, sizeof(lport));
	/* "type local" covers 127.0.0.1 and every address of the device */
	e = rb_expr(&b, "fib");
	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	rb_cmp(&b, NFT_CMP_EQ, &local, sizeof(local));
	rb_imm(&b, NFT_REG_1, &d->target.s_addr, sizeof(d->target.s_addr));
	rb_imm(&b, NFT_REG_2, &tport, sizeof(tport));
	e = rb_expr(&b, "nat");
	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
		/* Spelled out as the kernel reports them back (max = min, MAP_IPS),
		 * so tc_nft_verify can compare what we would send with what is there. */
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
				   NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
	}
	if (!b.bad && !rule_set_comment(b.r, d->name))
		b.bad = true;
	return rule_finish(&b);
}

/* oifname != "lo" ip saddr 127.0.0.0/8 masquerade */
static struct nftnl_rule *
rule_masq(void)
{
	struct rb b = { .r = rule_new(chain_defs[CH_POSTROUTING].name) };
	uint8_t net127 = 127;

	if (b.r == NULL)
		return NULL;
	rb_ifname_ne_lo(&b, NFT_META_OIFNAME);
	rb_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 12, 1);	/* iphdr.saddr, first byte */
	rb_cmp(&b, NFT_CMP_EQ, &net127, sizeof(net127));
	(void)rb_expr(&b, "masq");
	return rule_finish(&b);
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
	struct rb b = { .r = rule_new(chain_defs[CH_POSTROUTING].name) };
	uint8_t tcp = IPPROTO_TCP;
	uint16_t tport = htons(d->target_port);
	uint32_t local = RTN_LOCAL;
	struct nftnl_expr *e;

	if (b.r == NULL)
		return NULL;
	rb_meta(&b, NFT_META_L4PROTO);
	rb_cmp(&b, NFT_CMP_EQ, &tcp, sizeof(tcp));
	e = rb_expr(&b, "fib");
	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	rb_cmp(&b, NFT_CMP_EQ, &local, sizeof(local));
	rb_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);	/* iphdr.daddr */
	rb_cmp(&b, NFT_CMP_EQ, &d->target.s_addr, sizeof(d->target.s_addr));
	rb_payload(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, sizeof(tport));	/* tcphdr.dest */
	rb_cmp(&b, NFT_CMP_EQ, &tport, sizeof(tport));
	(void)rb_expr(&b, "masq");
	if (!b.bad && !rule_set_comment(b.r, d->name))
		b.bad = true;
	return rule_finish(&b);
}

/* iifname != "lo" ip daddr 127.0.0.0/8 drop */
static struct nftnl_rule *
rule_drop_loopback(void)
{
	struct rb b = { .r = rule_new(chain_defs[CH_PREROUTING].name) };
	uint8_t net127 = 127;
	struct nftnl_expr *e;

	if (b.r == NULL)
		return NULL;
	rb_ifname_ne_lo(&b, NFT_META_IIFNAME);
	rb_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 16, 1);	/* iphdr.daddr, first byte */
	rb_cmp(&b, NFT_CMP_EQ, &net127, sizeof(net127));
	e = rb_expr(&b, "immediate");
	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	}
	return rule_finish(&b);
}

static void
rules_free(struct nftnl_rule **v, size_t n)
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

/* Rules in the table for n tunnels: the fixed two, then two per tunnel. */
#define NRULES(n) (2 + 2 * (n))

/* Every rule the table should hold, in batch order: the fixed two, then per
 * tunnel its DNAT rule and its masquerade rule. Returns a heap array of
 * NRULES(n) rules (free with rules_free). */
static struct nftnl_rule **
rules_build(const struct tc_dnat *rules, size_t n)
{
	struct nftnl_rule **v;
	size_t i;

	v = calloc(NRULES(n), sizeof(*v));
	if (v == NULL)
		return NULL;
	v[0] = rule_masq();
	v[1] = rule_drop_loopback();
	for (i = 0; i < n; i++) {
		v[2 + 2 * i] = rule_dnat(&rules[i], chain_defs[CH_OUTPUT].name);
		v[3 + 2 * i] = rule_masq_target(&rules[i]);
	}
	for (i = 0; i < NRULES(n); i++) {
		if (v[i] == NULL) {
			rules_free(v, NRULES(n));
			return NULL;
		}
	}
	return v;
}

/* ---------- the batch ---------- */

#define DESC_LEN 96

/* One batch and the human description of each message, indexed by
 * seq - seq0, so an error ack can say what the kernel refused. */
struct txn {
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq0, nseq;
	size_t cap;			/* messages the desc array holds */
	char (*desc)[DESC_LEN];
	bool *acked;			/* message asked for an ack */
	bool overflow;
};

static struct nlmsghdr *
txn_slot(struct txn *t, uint32_t *seq)
{
	if (t->overflow || t->nseq >= t->cap) {
		t->overflow = true;
		return NULL;
	}
	*seq = t->seq0 + t->nseq;
	return mnl_nlmsg_batch_current(t->b);
}

static void txn_commit(struct txn *t, bool ack, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Close the message just built: remember what it does and whether it asked
 * for an ack, then advance the batch. */
static void
txn_commit(struct txn *t, bool ack, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(t->desc[t->nseq], DESC_LEN, fmt, ap);	/* shortened is fine */
	va_end(ap);
	t->acked[t->nseq] = ack;
	t->nseq++;
	if (!mnl_nlmsg_batch_next(t->b))
		t->overflow = true;
}

static void
txn_table(struct txn *t, uint16_t type, const char *what)
{
	struct nftnl_table *tb;
	struct nlmsghdr *nlh;
	uint32_t seq;
	uint16_t flags = type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0;

	nlh = txn_slot(t, &seq);
	if (nlh == NULL)
		return;
	tb = nftnl_table_alloc();
	if (tb == NULL) {
		t->overflow = true;
		return;
	}
	nftnl_table_set_u32(tb, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(tb, NFTNL_TABLE_NAME, TC_NFT_TABLE);
	/* No owner flag: the table must outlive this short-lived process (A4). */
	nftnl_table_set_u32(tb, NFTNL_TABLE_FLAGS, 0);
	nlh = nftnl_table_nlmsg_build_hdr((char *)nlh, type, NFPROTO_IPV4,
					  flags | NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, tb);
	nftnl_table_free(tb);
	txn_commit(t, true, "%s table ip " TC_NFT_TABLE, what);
}

static void
txn_chain(struct txn *t, const struct chain_def *def)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	uint32_t seq;

	nlh = txn_slot(t, &seq);
	if (nlh == NULL)
		return;
	c = nftnl_chain_alloc();
	if (c == NULL) {
		t->overflow = true;
		return;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TC_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, def->name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, def->type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, def->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, def->prio);
	nlh = nftnl_chain_nlmsg_build_hdr((char *)nlh, NFT_MSG_NEWCHAIN, NFPROTO_IPV4,
					  NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	txn_commit(t, true, "adding chain %s", def->name);
}

/* `what` describes the rule for error messages ("rule for tunnel X"). */
static void
txn_rule(struct txn *t, struct nftnl_rule *r, const char *what, const char *name)
{
	struct nlmsghdr *nlh;
	uint32_t seq;

	nlh = txn_slot(t, &seq);
	if (nlh == NULL)
		return;
	nlh = nftnl_rule_nlmsg_build_hdr((char *)nlh, NFT_MSG_NEWRULE, NFPROTO_IPV4,
					 NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	txn_commit(t, true, "adding %s%s", what, name);
}

static void
txn_marker(struct txn *t, bool begin)
{
	struct nlmsghdr *nlh;
	uint32_t seq;

	nlh = txn_slot(t, &seq);
	if (nlh == NULL)
		return;
	if (begin)
		nftnl_batch_begin((char *)nlh, seq);
	else
		nftnl_batch_end((char *)nlh, seq);
	txn_commit(t, false, "%s", begin ? "starting the batch" : "committing the batch");
}

static void
txn_free(struct txn *t)
{
	if (t->b != NULL)
		mnl_nlmsg_batch_stop(t->b);
	free(t->buf);
	free(t->desc);
	free(t->acked);
}

static int
txn_init(struct txn *t, size_t nmsg, struct tc_err *err)
{
	size_t limit = (nmsg + 2) * MSG_MAX;

	memset(t, 0, sizeof(*t));
	t->cap = nmsg + 2;
	/* libmnl wants twice the limit: the message that crosses it still fits */
	t->buf = calloc(2, limit);
	t->desc = calloc(t->cap, sizeof(*t->desc));
	t->acked = calloc(t->cap, sizeof(*t->acked));
	if (t->buf == NULL || t->desc == NULL || t->acked == NULL) {
		txn_free(t);
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	}
	t->b = mnl_nlmsg_batch_start(t->buf, limit);
	if (t->b == NULL) {
		txn_free(t);
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	}
	/* Distinct per run so a stale ack from an earlier socket cannot match. */
	t->seq0 = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	return 0;
}

/* ---------- acks ---------- */

struct acks {
	const struct txn *t;
	bool *seen;
	size_t pending;
	bool done;			/* the kernel answered for the whole batch */
	int error;			/* first errno the kernel reported, 0 if none */
	uint32_t err_idx;
	char ext[160];			/* NLMSGERR_ATTR_MSG, if the kernel gave one */
};

static int
ext_attr_cb(const struct nlattr *attr, void *data)
{
	struct acks *a = data;
	int len;

	if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG ||
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	len = snprintf(a->ext, sizeof(a->ext), "%s", mnl_attr_get_str(attr));
	if (len < 0 || (size_t)len >= sizeof(a->ext))
		a->ext[sizeof(a->ext) - 1] = '\0';
	return MNL_CB_OK;
}

static void
ack_ext(const struct nlmsghdr *nlh, const struct nlmsgerr *e, struct acks *a)
{
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (mnl_nlmsg_size(off) > nlh->nlmsg_len)
		return;
	(void)mnl_attr_parse(nlh, (unsigned int)off, ext_attr_cb, a);
}

static int
ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct acks *a = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint32_t idx = nlh->nlmsg_seq - a->t->seq0;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (idx >= a->t->nseq)
		return MNL_CB_OK;	/* not one of ours */
	if (!a->seen[idx]) {
		a->seen[idx] = true;
		if (a->t->acked[idx] && a->pending > 0)
			a->pending--;
	}
	if (e->error == 0)
		return MNL_CB_OK;
	if (a->error == 0) {
		a->error = -e->error;
		a->err_idx = idx;
		ack_ext(nlh, e, a);
	}
	/* An error on the batch markers (no permission, commit failed) is the
	 * kernel's one answer for the whole batch; nothing else is owed. */
	if (!a->t->acked[idx])
		a->done = true;
	return MNL_CB_OK;
}

static int
acks_read(struct mnl_socket *nl, struct acks *a, struct tc_err *err)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
	char *buf;
	ssize_t len;
	int ret = 0;

	buf = malloc(DUMP_BUF);
	if (buf == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	while (!a->done && a->pending > 0) {
		len = mnl_socket_recvfrom(nl, buf, DUMP_BUF);
		if (len < 0) {
			ret = tc_err_set(err, TC_ERR_RUNTIME, "nftables: reading acknowledgements: %s",
					 errno == EAGAIN ? "timed out" : strerror(errno));
			break;
		}
		if (mnl_cb_run2(buf, (size_t)len, 0, mnl_socket_get_portid(nl), NULL, a,
				ctl, NLMSG_MIN_TYPE) < 0) {
			ret = tc_err_set(err, TC_ERR_RUNTIME, "nftables: bad acknowledgement: %s",
					 strerror(errno));
			break;
		}
	}
	free(buf);
	return ret;
}

static int
txn_send(struct txn *t, size_t nacks, struct tc_err *err)
{
	struct mnl_socket *nl;
	struct acks a = { .t = t, .pending = nacks };
	size_t size = mnl_nlmsg_batch_size(t->b);
	ssize_t sent;
	int ret;

	a.seen = calloc(t->nseq, sizeof(*a.seen));
	if (a.seen == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	nl = nl_open(size + SOCKBUF_SLACK, nacks * ACK_TRUESIZE + SOCKBUF_SLACK, err);
	if (nl == NULL) {
		free(a.seen);
		return -1;
	}
	sent = mnl_socket_sendto(nl, mnl_nlmsg_batch_head(t->b), size);
	if (sent < 0 || (size_t)sent != size) {
		ret = tc_err_set(err, errno_kind(errno), "nftables: sending the batch: %s",
				 sent < 0 ? strerror(errno) : "short write");
		goto out;
	}
	ret = acks_read(nl, &a, err);
	if (ret == 0 && a.error != 0) {
		if (a.error == EPERM || a.error == EACCES)
			ret = tc_err_set(err, TC_ERR_PERM, PERM_MSG);
		else
			ret = tc_err_set(err, TC_ERR_RUNTIME, "nftables: %s: %s%s%s",
					 t->desc[a.err_idx], strerror(a.error),
					 a.ext[0] != '\0' ? " - " : "", a.ext);
	}
out:
	mnl_socket_close(nl);
	free(a.seen);
	return ret;
}

static int
dnat_valid(const struct tc_dnat *d, struct tc_err *err)
{
	size_t len = strnlen(d->name, sizeof(d->name));

	if (len == 0 || len == sizeof(d->name))
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: a DNAT rule has no valid tunnel name");
	if (d->local_port == 0 || d->target_port == 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: tunnel %s: port 0", d->name);
	return 0;
}

int
tc_nft_apply_flags(const struct tc_dnat *rules, size_t n, unsigned flags, struct tc_err *err)
{
	struct nftnl_rule **v = NULL;
	struct txn t;
	size_t i, nmsg;
	int ret;

	for (i = 0; i < n; i++) {
		if (dnat_valid(&rules[i], err) < 0)
			return -1;
	}
	if ((flags & TC_NFT_F_TEST_BAD_LAST) && n == 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: the test hook needs a rule");
	if (n > 0) {
		v = rules_build(rules, n);
		if (v == NULL)
			return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	}
	/* table add+del(+add) [+ chains + fixed rules + DNAT rules] [+ test rule] */
	nmsg = n > 0 ? 3 + CH_COUNT + NRULES(n) : 2;
	nmsg += (flags & TC_NFT_F_TEST_BAD_LAST) ? 1 : 0;
	if (txn_init(&t, nmsg, err) < 0) {
		rules_free(v, n > 0 ? NRULES(n) : 0);
		return -1;
	}
	txn_marker(&t, true);
	/* Add then delete: succeeds whether or not the table exists, and
	 * drops whatever anyone put in it; the re-add makes it fresh. */
	txn_table(&t, NFT_MSG_NEWTABLE, "adding");
	txn_table(&t, NFT_MSG_DELTABLE, "deleting");
	if (n > 0) {
		txn_table(&t, NFT_MSG_NEWTABLE, "re-adding");
		for (i = 0; i < CH_COUNT; i++)
			txn_chain(&t, &chain_defs[i]);
		txn_rule(&t, v[0], "the masquerade rule of postrouting", "");
		txn_rule(&t, v[1], "the loopback drop rule of prerouting", "");
		for (i = 0; i < n; i++) {
			txn_rule(&t, v[2 + 2 * i], "rule for tunnel ", rules[i].name);
			txn_rule(&t, v[3 + 2 * i], "masquerade rule for tunnel ", rules[i].name);
		}
	}
	if (flags & TC_NFT_F_TEST_BAD_LAST) {
		struct nftnl_rule *bad = rule_dnat(&rules[0], "missing");

		if (bad != NULL) {
			txn_rule(&t, bad, "test rule to a missing chain for tunnel ",
				 rules[0].name);
			nftnl_rule_free(bad);
		} else
			t.overflow = true;
	}
	txn_marker(&t, false);
	rules_free(v, n > 0 ? NRULES(n) : 0);
	if (t.overflow)
		ret = tc_err_set(err, TC_ERR_RUNTIME, "nftables: building the batch failed");
	else
		ret = txn_send(&t, nmsg, err);
	txn_free(&t);
	return ret;
}

int
tc_nft_apply(const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	return tc_nft_apply_flags(rules, n, 0, err);
}

/* ---------- reading the table back ---------- */

/* Objects parsed from a dump; owned by the list, freed with objs_free. */
struct objs {
	void **v;
	size_t n, cap;
	void *(*alloc)(void);
	int (*parse)(const struct nlmsghdr *, void *);
	void (*free)(void *);
	bool bad;
};

static void *rule_alloc_v(void) { return nftnl_rule_alloc(); }
static void rule_free_v(void *p) { nftnl_rule_free(p); }
static int rule_parse_v(const struct nlmsghdr *h, void *p) { return nftnl_rule_nlmsg_parse(h, p); }
static void *chain_alloc_v(void) { return nftnl_chain_alloc(); }
static void chain_free_v(void *p) { nftnl_chain_free(p); }
static int chain_parse_v(const struct nlmsghdr *h, void *p) { return nftnl_chain_nlmsg_parse(h, p); }
static void *table_alloc_v(void) { return nftnl_table_alloc(); }
static void table_free_v(void *p) { nftnl_table_free(p); }
static int table_parse_v(const struct nlmsghdr *h, void *p) { return nftnl_table_nlmsg_parse(h, p); }

static int
objs_cb(const struct nlmsghdr *nlh, void *data)
{
	struct objs *o = data;
	void *obj, **nv;

	if (o->n == o->cap) {
		nv = realloc(o->v, (o->cap ? o->cap * 2 : 16) * sizeof(*nv));
		if (nv == NULL) {
			o->bad = true;
			return MNL_CB_OK;
		}
		o->v = nv;
		o->cap = o->cap ? o->cap * 2 : 16;
	}
	obj = o->alloc();
	if (obj == NULL || o->parse(nlh, obj) < 0) {
		if (obj != NULL)
			o->free(obj);
		o->bad = true;
		return MNL_CB_OK;
	}
	o->v[o->n++] = obj;
	return MNL_CB_OK;
}

static void
objs_free(struct objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		o->free(o->v[i]);
	free(o->v);
	o->v = NULL;
	o->n = o->cap = 0;
}

/* Send one GET request and collect the answer. Returns 0, the kernel's errno
 * (ENOENT: no such table) as a positive number, or -1 with err filled. */
static int
nl_get(struct mnl_socket *nl, struct nlmsghdr *req, struct objs *o, struct tc_err *err)
{
	uint32_t seq = req->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	char *buf;
	ssize_t len;
	int ret = MNL_CB_OK, rc = 0;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return tc_err_set(err, errno_kind(errno), "nftables: netlink send: %s",
				  strerror(errno));
	buf = malloc(DUMP_BUF);
	if (buf == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	while (ret > MNL_CB_STOP) {
		len = mnl_socket_recvfrom(nl, buf, DUMP_BUF);
		if (len < 0) {
			rc = tc_err_set(err, TC_ERR_RUNTIME, "nftables: netlink receive: %s",
					errno == EAGAIN ? "timed out" : strerror(errno));
			break;
		}
		ret = mnl_cb_run(buf, (size_t)len, seq, portid, objs_cb, o);
		if (ret < 0) {
			rc = errno != 0 ? errno : EIO;
			break;
		}
	}
	free(buf);
	if (rc == 0 && o->bad)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: cannot parse the kernel's answer");
	return rc;
}

/* The table, its chains and its rules as the kernel has them now. */
struct snapshot {
	bool exists;
	struct objs table, chains, rules;
};

static void
snapshot_free(struct snapshot *s)
{
	objs_free(&s->table);
	objs_free(&s->chains);
	objs_free(&s->rules);
}

static int
snapshot_take(struct snapshot *s, struct tc_err *err)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	struct nftnl_chain *c;
	struct nftnl_rule *r;
	uint32_t seq = (uint32_t)time(NULL);
	int rc = -1;

	memset(s, 0, sizeof(*s));
	memset(req, 0, sizeof(req));	/* attribute padding goes to the kernel too */
	s->table = (struct objs){ .alloc = table_alloc_v, .parse = table_parse_v, .free = table_free_v };
	s->chains = (struct objs){ .alloc = chain_alloc_v, .parse = chain_parse_v, .free = chain_free_v };
	s->rules = (struct objs){ .alloc = rule_alloc_v, .parse = rule_parse_v, .free = rule_free_v };
	t = nftnl_table_alloc();
	c = nftnl_chain_alloc();
	r = nftnl_rule_alloc();
	nl = nl_open(0, 0, err);
	if (t == NULL || c == NULL || r == NULL || nl == NULL) {
		if (nl != NULL)
			tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
		goto out;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TC_NFT_TABLE);
	nlh = nftnl_table_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	rc = nl_get(nl, nlh, &s->table, err);
	if (rc == ENOENT) {
		rc = 0;		/* absent table: nothing more to read */
		goto out;
	}
	if (rc != 0)
		goto fail;
	s->exists = true;
	/* Dumps filtered by table; the kernel filters, and we check again below. */
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TC_NFT_TABLE);
	nlh = nftnl_chain_nlmsg_build_hdr(req, NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_DUMP, seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	rc = nl_get(nl, nlh, &s->chains, err);
	if (rc != 0)
		goto fail;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TC_NFT_TABLE);
	nlh = nftnl_rule_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	rc = nl_get(nl, nlh, &s->rules, err);
	if (rc != 0)
		goto fail;
	goto out;
fail:
	if (rc > 0)
		tc_err_set(err, errno_kind(rc), "%s", errno_kind(rc) == TC_ERR_PERM ? PERM_MSG :
			   "nftables: reading table ip " TC_NFT_TABLE);
	if (rc > 0 && errno_kind(rc) != TC_ERR_PERM)
		tc_err_set(err, TC_ERR_RUNTIME, "nftables: reading table ip " TC_NFT_TABLE ": %s",
			   strerror(rc));
	rc = -1;
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	if (t != NULL)
		nftnl_table_free(t);
	if (c != NULL)
		nftnl_chain_free(c);
	if (r != NULL)
		nftnl_rule_free(r);
	if (rc < 0)
		snapshot_free(s);
	return rc;
}

static bool
in_our_table(const char *table)
{
	return table != NULL && strcmp(table, TC_NFT_TABLE) == 0;
}

static int
comment_cb(const struct nftnl_udata *attr, void *data)
{
	struct tc_dnat *d = data;
	const char *s = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) != NFTNL_UDATA_RULE_COMMENT)
		return 0;
	/* strz: must end in NUL and fit a tunnel name */
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
	it = nftnl_expr_iter_create(r);
	if (it == NULL)
		return false;
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (strcmp(name, "payload") == 0) {
			port_next = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) ==
					    NFT_PAYLOAD_TRANSPORT_HEADER &&
				    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 2;
			continue;
		}
		if (strcmp(name, "cmp") == 0 && port_next) {
			data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
			if (data != NULL && len == 2) {
				d->local_port = ntohs(*(const uint16_t *)data);
				have_port = true;
			}
		} else if (strcmp(name, "immediate") == 0 &&
			   nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
			data = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
			if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_1 && len == 4) {
				memcpy(&d->target.s_addr, data, 4);
				have_addr = true;
			} else if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_2 && len == 2) {
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
	v = calloc(s.rules.n ? s.rules.n : 1, sizeof(*v));
	if (v == NULL) {
		snapshot_free(&s);
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
	}
	for (i = 0; i < s.rules.n; i++) {
		const struct nftnl_rule *r = s.rules.v[i];

		if (!in_our_table(nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) ||
		    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain_defs[CH_OUTPUT].name) != 0)
			continue;
		if (dnat_decode(r, &v[k]))
			k++;
	}
	snapshot_free(&s);
	*out = v;
	*n = k;
	return 0;
}

/* A rule's identity for comparison: chain, every expression as libnftnl
 * prints it (the `nft --debug=netlink` form) and the userdata bytes. */
static char *
rule_key(const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const unsigned char *ud;
	uint32_t ulen = 0, i;
	size_t cap = 4096, len;
	char *k;
	int w;

	k = malloc(cap);
	it = nftnl_expr_iter_create(r);
	if (k == NULL || it == NULL) {
		free(k);
		if (it != NULL)
			nftnl_expr_iter_destroy(it);
		return NULL;
	}
	w = snprintf(k, cap, "%s|", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	len = w < 0 ? cap : (size_t)w;
	while ((e = nftnl_expr_iter_next(it)) != NULL && len < cap) {
		w = snprintf(k + len, cap - len, "%s[", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
		len += w < 0 ? cap : (size_t)w;
		if (len >= cap)
			break;
		w = nftnl_expr_snprintf(k + len, cap - len, e, NFTNL_OUTPUT_DEFAULT, 0);
		len += w < 0 ? cap : (size_t)w;
		if (len < cap) {
			w = snprintf(k + len, cap - len, "]");
			len += w < 0 ? cap : (size_t)w;
		}
	}
	nftnl_expr_iter_destroy(it);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
	for (i = 0; ud != NULL && i < ulen && len < cap; i++) {
		w = snprintf(k + len, cap - len, "%02x", ud[i]);
		len += w < 0 ? cap : (size_t)w;
	}
	if (len >= cap) {
		free(k);	/* our rules are far smaller: treat as foreign */
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

/* Sorted keys of `n` rules; NULL on failure. */
static char **
keys_of(struct nftnl_rule *const *v, size_t n)
{
	char **k;
	size_t i;

	k = calloc(n ? n : 1, sizeof(*k));
	if (k == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		k[i] = rule_key(v[i]);
		if (k[i] == NULL) {
			keys_free(k, n);
			return NULL;
		}
	}
	qsort(k, n, sizeof(*k), key_cmp);
	return k;
}

static bool
chain_matches(const struct nftnl_chain *c, const struct chain_def *def)
{
	const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);

	return nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
	       nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == def->hook &&
	       nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == def->prio &&
	       type != NULL && strcmp(type, def->type) == 0 &&
	       (!nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ||
		nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT);
}

/* The table itself: no flags (owner, dormant) and nothing in it but our
 * chains (the kernel's use count covers chains, sets, objects, flowtables). */
static bool
snapshot_shape_ok(const struct snapshot *s)
{
	const struct nftnl_table *t;
	size_t i, j, found = 0;

	if (!s->exists || s->table.n != 1)
		return false;
	t = s->table.v[0];
	if (nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) != 0 ||
	    nftnl_table_get_u32(t, NFTNL_TABLE_USE) != CH_COUNT)
		return false;
	for (i = 0; i < s->chains.n; i++) {
		const struct nftnl_chain *c = s->chains.v[i];
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);

		if (!in_our_table(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)))
			continue;
		for (j = 0; j < CH_COUNT; j++) {
			if (name != NULL && strcmp(name, chain_defs[j].name) == 0)
				break;
		}
		if (j == CH_COUNT || !chain_matches(c, &chain_defs[j]))
			return false;
		found++;
	}
	return found == CH_COUNT;
}

int
tc_nft_verify(const struct tc_dnat *rules, size_t n, struct tc_err *err)
{
	struct snapshot s;
	struct nftnl_rule **want = NULL, **have = NULL;
	char **kw = NULL, **kh = NULL;
	size_t i, nh = 0;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (dnat_valid(&rules[i], err) < 0)
			return -1;
	}
	if (snapshot_take(&s, err) < 0)
		return -1;
	if (n == 0) {
		ret = !s.exists;
		snapshot_free(&s);
		return ret;
	}
	if (!snapshot_shape_ok(&s))
		goto out;
	have = calloc(s.rules.n ? s.rules.n : 1, sizeof(*have));
	want = rules_build(rules, n);
	if (have == NULL || want == NULL) {
		ret = tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory");
		goto out;
	}
	for (i = 0; i < s.rules.n; i++) {
		if (in_our_table(nftnl_rule_get_str(s.rules.v[i], NFTNL_RULE_TABLE)))
			have[nh++] = s.rules.v[i];
	}
	if (nh != NRULES(n))
		goto out;
	kw = keys_of(want, NRULES(n));
	kh = keys_of(have, nh);
	if (kw == NULL || kh == NULL) {
		/* an oversized foreign rule cannot be ours */
		ret = kw == NULL ? tc_err_set(err, TC_ERR_RUNTIME, "nftables: out of memory") : 0;
		goto out;
	}
	for (i = 0; i < nh; i++) {
		if (strcmp(kw[i], kh[i]) != 0)
			goto out;
	}
	ret = 1;
out:
	keys_free(kw, kw ? NRULES(n) : 0);
	keys_free(kh, kh ? nh : 0);
	rules_free(want, NRULES(n));
	free(have);
	snapshot_free(&s);
	return ret;
}

int
tc_nft_check_perm(struct tc_err *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	/* Asks about this process only; changes nothing in the kernel. */
	if (syscall(SYS_capget, &hdr, data) < 0)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: capget: %s", strerror(errno));
	if (data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN))
		return 0;
	return tc_err_set(err, TC_ERR_PERM, PERM_MSG);
}

const char *
tc_nft_version(void)
{
	return "libnftnl " TC_NFTNL_VERSION " / libmnl " TC_MNL_VERSION;
}
