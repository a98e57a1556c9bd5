/* gate_list.c: `tunnelctl-gate list`: the live sessions as a table, the
 * contract's JSON, an HTML page, or an nginx map body. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "gateout.h"
#include "log.h"
#include "registry.h"
#include "xalloc.h"

enum fmt { FMT_TABLE, FMT_JSON, FMT_HTML, FMT_NGINX };

int
gate_list(const struct gate_opts *o, int argc, char **argv, struct tc_err *err)
{
	char domain[TC_GATE_DOMAIN_MAX + 1] = "", *text, *warn = NULL;
	struct tc_gate_rec *v;
	enum fmt fmt = FMT_TABLE;
	int nfmt = 0, fd;
	size_t n, i;

	if (argc > 0)
		return tc_err_set(err, TC_ERR_USAGE, "unexpected argument '%.32s'", argv[0]);
	nfmt = !!(o->given & GO_JSON) + !!(o->given & GO_HTML) + !!(o->given & GO_NGINX_MAP);
	fmt = o->given & GO_JSON ? FMT_JSON : o->given & GO_HTML ? FMT_HTML :
	      o->given & GO_NGINX_MAP ? FMT_NGINX : FMT_TABLE;
	if (o->domain) {
		if (!tc_gate_valid_domain(o->domain))
			return tc_err_set(err, TC_ERR_USAGE, "--domain: '%.64s' is not a domain name",
					  o->domain);
		for (i = 0; o->domain[i]; i++)
			domain[i] = (char)tolower((unsigned char)o->domain[i]);
		domain[i] = '\0';
	}
	if (nfmt > 1)
		return tc_err_set(err, TC_ERR_USAGE, "--json, --html and --nginx-map exclude each other");
	if (fmt == FMT_NGINX && !domain[0])
		return tc_err_set(err, TC_ERR_USAGE, "--nginx-map needs --domain DOMAIN");
	if (domain[0] && fmt != FMT_NGINX && fmt != FMT_HTML)
		return tc_err_set(err, TC_ERR_USAGE, "--domain goes with --html or --nginx-map");
	fd = tc_reg_open(gate_registry(o->registry), 0, err);
	if (fd < 0)
		return -1;
	/* Records of dead serves are dropped, and removed when we may. */
	if (tc_reg_list(fd, 1, &v, &n, err) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	switch (fmt) {
	case FMT_JSON: text = tc_gate_out_json(v, n); break;
	case FMT_HTML: text = tc_gate_out_html(v, n, domain[0] ? domain : NULL, time(NULL)); break;
	case FMT_NGINX: text = tc_gate_out_nginx(v, n, domain, &warn); break;
	default: text = tc_gate_out_table(v, n, time(NULL)); break;
	}
	free(v);
	fputs(text, stdout);
	if (fmt == FMT_JSON)
		fputc('\n', stdout);
	free(text);
	if (warn) {
		char *line, *save = NULL;

		for (line = strtok_r(warn, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			tc_log(TC_LOG_WARN, "list: %s", line);
		free(warn);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return tc_err_set(err, TC_ERR_RUNTIME, "writing the list failed");
	return 0;
}
