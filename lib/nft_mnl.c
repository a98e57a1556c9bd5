/* nft_mnl.c: netlink transport for the `ip tunnelctl` table: socket, batch and
 * acks (matched to their message by sequence number), GET requests and dumps. */
#include "config.h"

/* glibc's netinet/in.h must come before the kernel headers that pull linux/in.h */
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "nft_priv.h"
#include "nlsock.h"
#include "xalloc.h"

struct mnl_socket *
nft_sock_open(size_t sndbuf, size_t rcvbuf, struct tc_err *err)
{
	return tc_nl_open(NETLINK_NETFILTER, 0, TC_NL_EXT_ACK, NFT_TIMEOUT_S, sndbuf, rcvbuf, err);
}

int
nft_errno_kind(int e)
{
	return e == EPERM || e == EACCES ? TC_ERR_PERM : TC_ERR_RUNTIME;
}

/* libnftnl's setters fail only when their strdup does. */
static void
must(int r)
{
	if (r < 0)
		tc_oom();
}

/* ---------- the batch ---------- */

void
nft_txn_init(struct nft_txn *t, size_t nmsg, uint32_t seq0)
{
	size_t limit;

	memset(t, 0, sizeof(*t));
	t->cap = nmsg + 2;
	limit = t->cap * NFT_MSG_MAX;
	/* libmnl wants twice the limit: the message that crosses it still fits */
	t->buf = xcalloc(2, limit);
	t->desc = xcalloc(t->cap, sizeof(*t->desc));
	t->acked = xcalloc(t->cap, sizeof(*t->acked));
	t->b = XCHECK(mnl_nlmsg_batch_start(t->buf, limit));
	t->seq0 = seq0;
}

void
nft_txn_free(struct nft_txn *t)
{
	if (t->b != NULL)
		mnl_nlmsg_batch_stop(t->b);
	free(t->buf);
	free(t->desc);
	free(t->acked);
	memset(t, 0, sizeof(*t));
}

static struct nlmsghdr *
txn_slot(struct nft_txn *t, uint32_t *seq)
{
	if (t->overflow || t->nseq >= t->cap) {
		t->overflow = true;
		return NULL;
	}
	*seq = t->seq0 + t->nseq;
	return mnl_nlmsg_batch_current(t->b);
}

static void txn_commit(struct nft_txn *t, bool ack, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Close the message just built: remember what it does and whether it asked
 * for an ack, then advance the batch. */
static void
txn_commit(struct nft_txn *t, bool ack, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(t->desc[t->nseq], NFT_DESC_LEN, fmt, ap);	/* shortened is fine */
	va_end(ap);
	t->acked[t->nseq] = ack;
	t->nseq++;
	if (!mnl_nlmsg_batch_next(t->b))
		t->overflow = true;
}

void
nft_txn_table(struct nft_txn *t, uint16_t type, uint16_t flags, const char *what)
{
	struct nftnl_table *tb;
	struct nlmsghdr *nlh;
	uint32_t seq;

	nlh = txn_slot(t, &seq);
	if (nlh == NULL)
		return;
	tb = XCHECK(nftnl_table_alloc());
	nftnl_table_set_u32(tb, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	must(nftnl_table_set_str(tb, NFTNL_TABLE_NAME, TC_NFT_TABLE));
	/* No owner flag: the table must outlive this short-lived process (A4). */
	nftnl_table_set_u32(tb, NFTNL_TABLE_FLAGS, 0);
	nlh = nftnl_table_nlmsg_build_hdr((char *)nlh, type, NFPROTO_IPV4, flags | NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, tb);
	nftnl_table_free(tb);
	txn_commit(t, true, "%s table ip " TC_NFT_TABLE, what);
}

void
nft_txn_chain(struct nft_txn *t, const struct nft_chain_def *def)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	uint32_t seq;

	nlh = txn_slot(t, &seq);
	if (nlh == NULL)
		return;
	c = XCHECK(nftnl_chain_alloc());
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	must(nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TC_NFT_TABLE));
	must(nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, def->name));
	must(nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, def->type));
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, def->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, def->prio);
	nlh = nftnl_chain_nlmsg_build_hdr((char *)nlh, NFT_MSG_NEWCHAIN, NFPROTO_IPV4,
					  NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	txn_commit(t, true, "adding chain %s", def->name);
}

void
nft_txn_rule(struct nft_txn *t, struct nftnl_rule *r, const char *what, const char *name)
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

void
nft_txn_marker(struct nft_txn *t, bool begin)
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

/* ---------- acks ---------- */

struct acks {
	const struct nft_txn *t;
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
	char *buf = xmalloc(NFT_RECV_BUF);
	ssize_t len;
	int ret = 0;

	while (!a->done && a->pending > 0) {
		len = mnl_socket_recvfrom(nl, buf, NFT_RECV_BUF);
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

int
nft_txn_send(struct mnl_socket *nl, struct nft_txn *t, int *kerr, struct tc_err *err)
{
	struct acks a = { .t = t };
	size_t size = mnl_nlmsg_batch_size(t->b), i;
	ssize_t sent;
	int ret;

	*kerr = 0;
	if (t->overflow)
		return tc_err_set(err, TC_ERR_RUNTIME, "nftables: building the batch failed");
	for (i = 0; i < t->nseq; i++)
		a.pending += t->acked[i];
	a.seen = xcalloc(t->nseq, sizeof(*a.seen));
	sent = mnl_socket_sendto(nl, mnl_nlmsg_batch_head(t->b), size);
	if (sent < 0 || (size_t)sent != size) {
		ret = tc_err_set(err, nft_errno_kind(errno), "nftables: sending the batch: %s",
				 sent < 0 ? strerror(errno) : "short write");
		goto out;
	}
	ret = acks_read(nl, &a, err);
	if (ret == 0 && a.error != 0) {
		*kerr = a.error;
		if (a.error == EPERM || a.error == EACCES)
			ret = tc_err_set(err, TC_ERR_PERM, NFT_PERM_MSG);
		else
			ret = tc_err_set(err, TC_ERR_RUNTIME, "nftables: %s: %s%s%s",
					 t->desc[a.err_idx], strerror(a.error),
					 a.ext[0] != '\0' ? " - " : "", a.ext);
	}
out:
	free(a.seen);
	return ret;
}

/* ---------- GET requests and dumps ---------- */

static void *rule_alloc_v(void) { return nftnl_rule_alloc(); }
static void rule_free_v(void *p) { nftnl_rule_free(p); }
static int rule_parse_v(const struct nlmsghdr *h, void *p) { return nftnl_rule_nlmsg_parse(h, p); }
static void *chain_alloc_v(void) { return nftnl_chain_alloc(); }
static void chain_free_v(void *p) { nftnl_chain_free(p); }
static int chain_parse_v(const struct nlmsghdr *h, void *p) { return nftnl_chain_nlmsg_parse(h, p); }
static void *table_alloc_v(void) { return nftnl_table_alloc(); }
static void table_free_v(void *p) { nftnl_table_free(p); }
static int table_parse_v(const struct nlmsghdr *h, void *p) { return nftnl_table_nlmsg_parse(h, p); }

struct nft_objs
nft_objs_tables(void)
{
	return (struct nft_objs){ .alloc = table_alloc_v, .parse = table_parse_v, .free = table_free_v };
}

struct nft_objs
nft_objs_chains(void)
{
	return (struct nft_objs){ .alloc = chain_alloc_v, .parse = chain_parse_v, .free = chain_free_v };
}

struct nft_objs
nft_objs_rules(void)
{
	return (struct nft_objs){ .alloc = rule_alloc_v, .parse = rule_parse_v, .free = rule_free_v };
}

static int
objs_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_objs *o = data;
	void *obj;

	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	obj = XCHECK(o->alloc());
	if (o->parse(nlh, obj) < 0) {
		o->free(obj);
		o->bad = true;
		return MNL_CB_OK;
	}
	o->v[o->n++] = obj;
	return MNL_CB_OK;
}

void
nft_objs_free(struct nft_objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		o->free(o->v[i]);
	free(o->v);
	o->v = NULL;
	o->n = o->cap = 0;
}

int
nft_get(struct mnl_socket *nl, struct nlmsghdr *req, struct nft_objs *o, struct tc_err *err)
{
	uint32_t seq = req->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	char *buf;
	ssize_t len;
	int ret = MNL_CB_OK, rc = 0;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return tc_err_set(err, nft_errno_kind(errno), "nftables: netlink send: %s",
				  strerror(errno));
	buf = xmalloc(NFT_RECV_BUF);
	while (ret > MNL_CB_STOP) {
		len = mnl_socket_recvfrom(nl, buf, NFT_RECV_BUF);
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

/* ---------- permission and versions ---------- */

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
	return tc_err_set(err, TC_ERR_PERM, NFT_PERM_MSG);
}

const char *
tc_nft_version(void)
{
	return "libnftnl " TC_NFTNL_VERSION " / libmnl " TC_MNL_VERSION;
}
