/* docctl: drive lib/doc.c on one file, for integration tests and the corpus.
 *   docctl FILE ID       one line per tunnel spec (never the key), or device=absent
 *   docctl --imsi FILE   the IMSI of a SORACOM subscriber document
 * Exit 0, 65 with the error on stderr when the document is invalid, 1 on I/O
 * errors, 2 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

#define EX_DATAERR 65
/* Read a little past the cap so that an oversized file reaches tc_doc_parse
 * and is refused there, by the code under test. */
#define READ_MAX (TC_DOC_MAX + 4096)

static int
read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "docctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*buf = malloc(READ_MAX);
	if (*buf == NULL) {
		fclose(f);
		fprintf(stderr, "docctl: out of memory\n");
		return -1;
	}
	n = fread(*buf, 1, READ_MAX, f);
	if (ferror(f)) {
		fprintf(stderr, "docctl: %s: read error\n", path);
		fclose(f);
		free(*buf);
		return -1;
	}
	fclose(f);
	*len = n;
	return 0;
}

static void
print_spec(const struct tc_spec *s)
{
	char digest[TC_DIGEST_HEX];

	tc_spec_digest(s, 0, digest);
	printf("name=%s user=%s host=%s port=%u remote_bind=%s remote_port=%u target=%s:%u via=%s "
	       "local_port=%u timeout=%lld keepalive=%u,%u host_key=%s digest=%s\n",
	       s->name, s->user, s->host, (unsigned)s->port, s->remote_bind, (unsigned)s->remote_port,
	       s->target_host, (unsigned)s->target_port, s->via == TC_VIA_DNAT ? "dnat" : "direct",
	       (unsigned)s->local_port, (long long)s->timeout_s, s->keepalive_interval, s->keepalive_count,
	       s->host_key[0] ? "yes" : "no", digest);
}

static int
cmd_doc(const char *path, const char *id)
{
	struct tc_doc_result r;
	struct tc_err err;
	char *buf;
	size_t len, i;

	if (read_file(path, &buf, &len) < 0)
		return 1;
	if (tc_doc_parse(buf, len, id, &r, &err) < 0) {
		free(buf);
		fprintf(stderr, "docctl: %s\n", err.msg);
		return err.kind == TC_ERR_INVALID ? EX_DATAERR : 1;
	}
	free(buf);
	if (!r.has_device)
		printf("device=absent\n");
	for (i = 0; i < r.n; i++)
		print_spec(&r.specs[i]);
	tc_doc_result_free(&r);
	return 0;
}

static int
cmd_imsi(const char *path)
{
	struct tc_err err;
	char imsi[16], *buf;
	size_t len;
	int rc;

	if (read_file(path, &buf, &len) < 0)
		return 1;
	rc = tc_doc_imsi(buf, len, imsi, sizeof(imsi), &err);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "docctl: %s\n", err.msg);
		return EX_DATAERR;
	}
	printf("%s\n", imsi);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--imsi") == 0)
		return cmd_imsi(argv[2]);
	if (argc == 3 && argv[1][0] != '-')
		return cmd_doc(argv[1], argv[2]);
	fprintf(stderr, "usage: docctl FILE ID | docctl --imsi FILE\n");
	return 2;
}
