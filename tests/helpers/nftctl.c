/* nftctl: drive lib/nft_*.c and lib/localnet.c from the command line, for the
 * integration tests and bench/nft_bench.sh. Not installed. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "localnet.h"
#include "nft.h"
#include "num.h"
#include "xalloc.h"

enum { EX_OK = 0, EX_RUNTIME = 1, EX_USAGE = 2, EX_NOTVERIFIED = 3, EX_PERM = 77 };

static int
usage(void)
{
	fprintf(stderr,
		"usage: nftctl apply [NAME:LPORT:TARGETIP:TPORT ...]\n"
		"       nftctl apply-bad NAME:LPORT:TARGETIP:TPORT ...\n"
		"       nftctl list | verify [SPEC ...] | perm | version\n"
		"       nftctl route IP | localnet SAVEDIR [IFACE ...] | bench N\n");
	return EX_USAGE;
}

static int
fail(const struct tc_err *err)
{
	fprintf(stderr, "nftctl: %s\n", err->msg);
	return err->kind == TC_ERR_PERM ? EX_PERM : EX_RUNTIME;
}

static int
parse_port(const char *s, uint16_t *out)
{
	unsigned long long v;

	if (tc_parse_uint(s, 65535, &v) < 0 || v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* NAME:LPORT:TARGETIP:TPORT */
static int
parse_spec(const char *arg, struct tc_dnat *d)
{
	char buf[128], *f[4], *save = NULL, *p;
	int i;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -1;
	p = buf;
	for (i = 0; i < 4; i++) {
		f[i] = strtok_r(p, ":", &save);
		p = NULL;
		if (f[i] == NULL)
			return -1;
	}
	if (strtok_r(NULL, ":", &save) != NULL)
		return -1;
	memset(d, 0, sizeof(*d));
	if (snprintf(d->name, sizeof(d->name), "%s", f[0]) >= (int)sizeof(d->name))
		return -1;
	if (parse_port(f[1], &d->local_port) < 0 || parse_port(f[3], &d->target_port) < 0)
		return -1;
	if (inet_pton(AF_INET, f[2], &d->target) != 1)
		return -1;
	return 0;
}

static struct tc_dnat *
parse_specs(int argc, char **argv)
{
	struct tc_dnat *v;
	int i;

	v = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*v));
	for (i = 0; i < argc; i++) {
		if (parse_spec(argv[i], &v[i]) < 0) {
			fprintf(stderr, "nftctl: bad rule spec: %s\n", argv[i]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static int
cmd_apply(int argc, char **argv, unsigned flags)
{
	struct tc_err err = { 0 };
	struct tc_dnat *v;
	int ret;

	v = parse_specs(argc, argv);
	if (v == NULL)
		return EX_USAGE;
	ret = tc_nft_apply_flags(v, (size_t)argc, flags, &err);
	free(v);
	return ret < 0 ? fail(&err) : EX_OK;
}

static int
cmd_list(void)
{
	struct tc_err err = { 0 };
	struct tc_dnat *v;
	size_t n, i;
	int exists;
	char ip[INET_ADDRSTRLEN];

	if (tc_nft_list(&v, &n, &exists, &err) < 0)
		return fail(&err);
	if (!exists)
		printf("absent\n");
	for (i = 0; i < n; i++) {
		if (inet_ntop(AF_INET, &v[i].target, ip, sizeof(ip)) == NULL)
			ip[0] = '\0';
		printf("%s %u %s:%u\n", v[i].name, v[i].local_port, ip, v[i].target_port);
	}
	free(v);
	return EX_OK;
}

static int
cmd_verify(int argc, char **argv)
{
	struct tc_err err = { 0 };
	struct tc_dnat *v;
	int ret;

	v = parse_specs(argc, argv);
	if (v == NULL)
		return EX_USAGE;
	ret = tc_nft_verify(v, (size_t)argc, &err);
	free(v);
	if (ret < 0)
		return fail(&err);
	printf("%s\n", ret ? "verified" : "not verified");
	return ret ? EX_OK : EX_NOTVERIFIED;
}

static int
cmd_perm(void)
{
	struct tc_err err = { 0 };

	if (tc_nft_check_perm(&err) < 0)
		return fail(&err);
	printf("permitted\n");
	return EX_OK;
}

static int
cmd_route(const char *ip)
{
	struct tc_err err = { 0 };
	struct in_addr a;
	char ifname[IF_NAMESIZE];

	if (inet_pton(AF_INET, ip, &a) != 1)
		return usage();
	if (tc_route_iface(a, ifname, &err) < 0)
		return fail(&err);
	printf("%s\n", ifname);
	return EX_OK;
}

static int
cmd_localnet(const char *dir, int argc, char **argv)
{
	struct tc_err err = { 0 };
	char (*ifs)[IF_NAMESIZE];
	int i, ret;

	ifs = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*ifs));
	for (i = 0; i < argc; i++) {
		if (snprintf(ifs[i], IF_NAMESIZE, "%s", argv[i]) >= IF_NAMESIZE) {
			free(ifs);
			return usage();
		}
	}
	ret = tc_localnet_set(dir, ifs, (size_t)argc, &err);
	free(ifs);
	return ret < 0 ? fail(&err) : EX_OK;
}

/* N rules, local ports 20000+i, targets spread over 192.0.2.0/24; prints
 * the seconds the apply call alone took. */
static int
cmd_bench(const char *arg)
{
	struct tc_err err = { 0 };
	struct tc_dnat *v;
	struct timespec t0, t1;
	unsigned long long n, i;
	int ret;

	/* local ports 20000+i must stay below 65536 */
	if (tc_parse_uint(arg, 45000, &n) < 0 || n == 0)
		return usage();
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		(void)snprintf(v[i].name, sizeof(v[i].name), "bench%llu", i);
		v[i].local_port = (uint16_t)(20000 + i);
		v[i].target.s_addr = htonl(0xc0000200u | (uint32_t)(1 + i % 254));
		v[i].target_port = 443;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = tc_nft_apply(v, n, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(v);
	if (ret < 0)
		return fail(&err);
	printf("%.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (strcmp(cmd, "apply") == 0)
		return cmd_apply(argc - 2, argv + 2, 0);
	if (strcmp(cmd, "apply-bad") == 0)
		return argc < 3 ? usage() : cmd_apply(argc - 2, argv + 2, TC_NFT_F_TEST_BAD_LAST);
	if (strcmp(cmd, "list") == 0 && argc == 2)
		return cmd_list();
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if (strcmp(cmd, "perm") == 0 && argc == 2)
		return cmd_perm();
	if (strcmp(cmd, "version") == 0 && argc == 2)
		return printf("%s\n", tc_nft_version()) < 0 ? EX_RUNTIME : EX_OK;
	if (strcmp(cmd, "route") == 0 && argc == 3)
		return cmd_route(argv[2]);
	if (strcmp(cmd, "localnet") == 0 && argc >= 3)
		return cmd_localnet(argv[2], argc - 3, argv + 3);
	if (strcmp(cmd, "bench") == 0 && argc == 3)
		return cmd_bench(argv[2]);
	return usage();
}
