/* test_record.c: spec.json and run.json round trips, and times past January
 * 2038 through the record and the status output, on every architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "out.h"
#include "record.h"
#include "state.h"
#include "tap.h"

/* 2039-12-31T23:00:00Z, 2040-01-01T00:00:00Z and 2100-01-01T00:00:00Z: past
 * 2^31 - 1 (2038-01-19T03:14:07Z), where a 32-bit time_t or long wraps. */
#define T_START 2208985200LL
#define T_EXPIRY 2208988800LL
#define T_2100 4102444800LL
#define T_2024 1704067200LL	/* 2024-01-01T00:00:00Z */

static const char *root;

static void
diag_lines(const char *s)
{
	const char *p = s, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		printf("# %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
	}
}

/* `needle` occurs in the status output; shows the output when not. */
static int
has(const char *out, const char *needle)
{
	if (out && strstr(out, needle))
		return 1;
	printf("# no '%s' in:\n", needle);
	diag_lines(out ? out : "(null)");
	return 0;
}

static void
fill_spec(struct tc_record *r)
{
	struct tc_spec *s = &r->spec;

	memset(r, 0, sizeof(*r));
	tc_spec_init(s);
	snprintf(s->name, sizeof(s->name), "edge");
	snprintf(s->user, sizeof(s->user), "tunnel");
	snprintf(s->host, sizeof(s->host), "192.0.2.10");
	s->port = 22;
	snprintf(s->remote_bind, sizeof(s->remote_bind), "127.0.0.1");
	s->remote_port = 20022;
	snprintf(s->target_host, sizeof(s->target_host), "127.0.0.1");
	s->target_port = 22;
	s->timeout_s = 365LL * 86400;	/* the longest timeout the contract allows */
	r->origin_sync = 1;
}

int
main(void)
{
	struct tc_err err;
	struct tc_view v;
	struct tc_run run;
	struct tc_record rec;
	char path[256], *buf, *out;
	size_t len;
	int dfd, tdir;

	/* The build itself: without these, nothing below can hold on 32-bit. */
	ok(sizeof(time_t) >= 8, "time_t is 64 bits (it is %zu bytes)", sizeof(time_t));
	ok(sizeof(off_t) >= 8 && sizeof(ino_t) >= 8, "off_t and ino_t are 64 bits (%zu, %zu bytes)",
	   sizeof(off_t), sizeof(ino_t));

	if ((root = tap_tmpdir("tcrecord")) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state", root);
	dfd = tc_state_open(path, 1, &err);
	tdir = dfd >= 0 ? tc_subdir_open(dfd, "edge", 1, &err) : -1;
	ok(tdir >= 0, "tunnel dir");
	if (tdir < 0)
		return tap_done();

	fill_spec(&rec);
	ok(tc_record_write(tdir, &rec, &err) == 0, "spec.json written");
	ok(tc_record_read(tdir, &v.rec, &err) == 0, "spec.json read back");
	is_str(v.rec.spec.name, "edge", "name survives");
	is_int(v.rec.spec.timeout_s, 365LL * 86400, "a 365 d timeout survives");
	ok(v.rec.origin_sync == 1 && v.rec.spec.remote_port == 20022, "origin and remote port survive");

	memset(&run, 0, sizeof(run));
	run.state = TC_ST_UP;
	run.pid = 4242;
	run.started_at = T_START;
	run.expires_at = T_EXPIRY;
	ok(tc_run_write(tdir, &run, &err) == 0, "run.json with an expiry in 2040 written");
	ok(tc_read_file(tdir, "run.json", 4096, &buf, &len, &err) == 0, "run.json read as text");
	ok(has(buf, "\"expires_at\":2208988800") && has(buf, "\"started_at\":2208985200"),
	   "the file holds the full 64-bit seconds");
	free(buf);
	ok(tc_run_read(tdir, &v.run, &err) == 0, "run.json read back");
	is_int(v.run.expires_at, T_EXPIRY, "expires_at survives (2040-01-01T00:00:00Z)");
	is_int(v.run.started_at, T_START, "started_at survives (2039-12-31T23:00:00Z)");
	v.alive = 1;
	v.rule_missing = 0;
	v.cleaned = 0;

	/* status, ten minutes before the expiry */
	out = tc_out_status(&v, 1, NULL, 1, (time_t)(T_EXPIRY - 600));
	ok(has(out, "\"expires_at\":\"2040-01-01T00:00:00Z\""), "status --json prints expires_at in 2040");
	ok(has(out, "\"started_at\":\"2039-12-31T23:00:00Z\""), "status --json prints started_at in 2039");
	ok(has(out, "\"remaining_s\":600,"), "remaining_s is 600 ten minutes before");
	diag_lines(out);
	free(out);
	out = tc_out_status(&v, 1, NULL, 0, (time_t)(T_EXPIRY - 600));
	ok(has(out, " 600s "), "the table says 600s remaining");
	diag_lines(out);
	free(out);

	/* after the expiry, and a remaining time that needs more than 31 bits */
	out = tc_out_status(&v, 1, NULL, 1, (time_t)(T_EXPIRY + 1));
	ok(has(out, "\"remaining_s\":0,"), "remaining_s is 0 once past the expiry");
	free(out);
	v.run.expires_at = T_2100;
	out = tc_out_status(&v, 1, NULL, 1, (time_t)T_2024);
	ok(has(out, "\"expires_at\":\"2100-01-01T00:00:00Z\""), "an expiry in 2100 prints");
	ok(has(out, "\"remaining_s\":2398377600,"), "76 years remaining do not wrap (over 2^31 s)");
	free(out);

	close(tdir);
	ok(tc_subdir_remove(dfd, "edge", &err) == 0, "tunnel dir removed");
	close(dfd);
	return tap_done();
}
