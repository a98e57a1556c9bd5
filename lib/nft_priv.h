/* nft_priv.h: what nft_mnl.c (transport), nft_build.c (building) and
 * nft_read.c (reading back) share; not part of the API (that is nft.h). */
#ifndef TC_NFT_PRIV_H
#define TC_NFT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nft.h"

struct mnl_socket;
struct nlmsghdr;
struct nftnl_rule;

/* A netlink reply slower than this means the kernel side is stuck; give up
 * rather than hang a cron job. */
#define NFT_TIMEOUT_S 5
/* Upper bound on one of our messages in the batch (a DNAT rule is ~400 bytes);
 * sizes the batch buffer and the send buffer. */
#define NFT_MSG_MAX 2048
/* Receive buffer for dumps and acks: the kernel fills dump skbs up to 32 KiB. */
#define NFT_RECV_BUF (64 * 1024)
/* Socket buffer headroom on top of what the batch and its acks need. */
#define NFT_SOCKBUF_SLACK (64 * 1024)
/* The kernel charges roughly this much receive buffer per queued ack. */
#define NFT_ACK_TRUESIZE 2048

#define NFT_PERM_MSG "nftables: Operation not permitted (tunnelctl needs CAP_NET_ADMIN)"

/* ---------- the table's definition (nft_build.c) ---------- */

enum { CH_OUTPUT, CH_POSTROUTING, CH_PREROUTING, CH_COUNT };

struct nft_chain_def {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
};
extern const struct nft_chain_def nft_chains[CH_COUNT];

/* Rules in the table for n tunnels: the fixed two, then two per tunnel. */
#define NFT_NRULES(n) (2 + 2 * (n))

/* Every rule the table should hold, in batch order: the fixed two (postrouting
 * masquerade of 127.0.0.0/8, prerouting loopback drop), then per tunnel its
 * DNAT rule and its masquerade rule. A heap array of NFT_NRULES(n) rules. */
struct nftnl_rule **nft_rules_build(const struct tc_dnat *rules, size_t n);
void nft_rules_free(struct nftnl_rule **v, size_t n);

/* 0 if d can become a rule (a comment, ports not 0), else -1 with err. */
int nft_dnat_valid(const struct tc_dnat *d, struct tc_err *err);

/* ---------- transport (nft_mnl.c) ---------- */

/* A NETLINK_NETFILTER socket with a receive timeout and buffers for a batch
 * of sndbuf bytes whose acks need rcvbuf bytes (0: system defaults). */
struct mnl_socket *nft_sock_open(size_t sndbuf, size_t rcvbuf, struct tc_err *err);

/* TC_ERR_PERM for EPERM/EACCES, else TC_ERR_RUNTIME. */
int nft_errno_kind(int e);

/* One batch and the human description of each message, indexed by
 * seq - seq0, so an error ack can say what the kernel refused. */
#define NFT_DESC_LEN 96
struct nft_txn {
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq0, nseq;
	size_t cap;			/* messages the desc array holds */
	char (*desc)[NFT_DESC_LEN];
	bool *acked;			/* message asked for an ack */
	bool overflow;			/* more messages than nft_txn_init was told */
};

/* Room for nmsg messages besides the two batch markers; sequence numbers
 * start at seq0. */
void nft_txn_init(struct nft_txn *t, size_t nmsg, uint32_t seq0);
void nft_txn_free(struct nft_txn *t);
void nft_txn_marker(struct nft_txn *t, bool begin);
/* NFT_MSG_NEWTABLE / DELTABLE of our table with extra nlmsg flags
 * (NLM_F_CREATE, NLM_F_EXCL); `what` for error messages ("adding"). */
void nft_txn_table(struct nft_txn *t, uint16_t type, uint16_t flags, const char *what);
void nft_txn_chain(struct nft_txn *t, const struct nft_chain_def *def);
/* Append r; `what` and `name` describe it ("rule for tunnel ", "web"). */
void nft_txn_rule(struct nft_txn *t, struct nftnl_rule *r, const char *what, const char *name);
/* Send the batch and read its acks. 0, or -1 with err saying which message
 * the kernel refused and why; *kerr gets the kernel's errno (0 if none). */
int nft_txn_send(struct mnl_socket *nl, struct nft_txn *t, int *kerr, struct tc_err *err);

/* Objects parsed from a GET answer; owned by the list, freed with nft_objs_free. */
struct nft_objs {
	void **v;
	size_t n, cap;
	void *(*alloc)(void);
	int (*parse)(const struct nlmsghdr *, void *);
	void (*free)(void *);
	bool bad;			/* a message could not be parsed */
};
struct nft_objs nft_objs_tables(void);
struct nft_objs nft_objs_chains(void);
struct nft_objs nft_objs_rules(void);
void nft_objs_free(struct nft_objs *o);

/* Send one GET request (a table, or a dump) and collect the answer into o.
 * Returns 0, the kernel's errno (ENOENT: no such table) as a positive
 * number, or -1 with err filled. */
int nft_get(struct mnl_socket *nl, struct nlmsghdr *req, struct nft_objs *o,
	    struct tc_err *err);

/* ---------- reading back (nft_read.c) ---------- */

/* 1 if table ip tunnelctl exists, 0 if not, -1 with err; one GET with seq. */
int nft_table_probe(struct mnl_socket *nl, uint32_t seq, struct tc_err *err);

#endif
