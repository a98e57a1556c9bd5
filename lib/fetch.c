/* fetch.c: get a config document with libcurl (http, https) or from a local
 * file (file://, plain path), bounded in size and time, with a conditional GET. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "doc.h"
#include "fdsnap.h"
#include "fetch.h"

/* A dead server is noticed within 10 s; a whole fetch, even a slow cellular
 * one, must end well inside a one-minute cron period: 30 s. */
#define CONNECT_TIMEOUT_S	10L
#define TOTAL_TIMEOUT_S		30L
/* A connection that moves less than 1 byte/s for 10 s is stalled (a dropped
 * cellular link leaves TCP silent, not closed): give up before the total
 * timeout. A slow but moving link is bounded by TOTAL_TIMEOUT_S instead. */
#define LOW_SPEED_LIMIT_BPS	1L
#define LOW_SPEED_TIME_S	10L
#define MAX_REDIRS		5L
/* Real ETags and HTTP dates are far shorter; longer ones are ignored. */
#define VALIDATOR_MAX		256
/* The URL as shown in messages. */
#define SHOWN_URL_MAX		200

enum source_kind { SRC_HTTP, SRC_FILE_URL, SRC_PATH, SRC_BAD };

/* The write callback's buffer: grows up to max bytes, then refuses. */
struct sink {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	int over;
};

static int curl_ready;
/* One easy handle for the whole process, reset before each fetch: its
 * connection and DNS caches survive curl_easy_reset(), so the two requests
 * of a SORACOM poll share one TCP connection (when the server keeps it
 * open) and one name lookup. tc_fetch_cleanup() closes it and them. */
static CURL *curl_h;
/* The handle has not performed yet: its first transfer makes the internal
 * multi handle and its wake-up socketpair, which it keeps until cleanup. */
static int curl_h_fresh;

/* The tool is single-threaded, so a static flag is enough; curl_global_init
 * must run before any other libcurl call and only once. */
static int
global_init(struct tc_err *err)
{
	CURLcode rc;

	if (curl_ready)
		return 0;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return tc_err_set(err, TC_ERR_RUNTIME, "curl_global_init: %s",
				  curl_easy_strerror(rc));
	curl_ready = 1;
	return 0;
}

/* The process's handle, ready for a new transfer, or NULL. */
static CURL *
handle_get(void)
{
	if (curl_h == NULL) {
		curl_h = curl_easy_init();
		curl_h_fresh = 1;
	} else {
		curl_easy_reset(curl_h);
	}
	return curl_h;
}

void
tc_fetch_cleanup(void)
{
	if (curl_h != NULL)
		curl_easy_cleanup(curl_h);
	curl_h = NULL;
}

const char *
tc_fetch_version(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v != NULL && v->version != NULL ? v->version : "unknown";
}

/* The URL without userinfo, query or fragment (they may hold secrets), and
 * with anything unprintable replaced, so messages and logs can show it. */
void
tc_fetch_shown_url(const char *url, char *out, size_t outsz)
{
	const char *p = url, *sep, *auth, *at, *end;
	size_t o = 0;

	sep = strstr(url, "://");
	if (sep != NULL) {
		auth = sep + 3;
		end = auth + strcspn(auth, "/?#");
		at = NULL;
		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		/* Copy "scheme://", then skip userinfo. */
		for (; p < auth && o + 1 < outsz; p++)
			out[o++] = *p;
		p = at != NULL ? at + 1 : auth;
	}
	for (; *p != '\0' && *p != '?' && *p != '#' && o + 1 < outsz; p++)
		out[o++] = isprint((unsigned char)*p) ? *p : '?';
	out[o] = '\0';
	if (*p != '\0' && *p != '?' && *p != '#' && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
}

static enum source_kind
classify(const char *url)
{
	size_t n;

	if (url == NULL || url[0] == '\0' || url[0] == '-')
		return SRC_BAD;
	if (strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0)
		return SRC_HTTP;
	if (strncasecmp(url, "file://", 7) == 0)
		return SRC_FILE_URL;
	/* "scheme:" (RFC 3986) of anything else is a URL we do not speak. */
	n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789+.-");
	if (n > 0 && isalpha((unsigned char)url[0]) && url[n] == ':')
		return SRC_BAD;
	return SRC_PATH;
}

static void
result_init(struct tc_fetch_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
tc_fetch_result_free(struct tc_fetch_result *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->etag);
	free(r->last_modified);
	result_init(r);
}

/* --- local files -------------------------------------------------------- */

/* Read a regular file, at most max bytes. Symlinks are followed on purpose:
 * an admin's path may be /etc/alternatives/...; FIFOs and devices are not
 * regular and are refused (O_NONBLOCK keeps opening a FIFO from blocking). */
static int
read_local(const char *shown, const char *path, size_t max,
	   struct tc_fetch_result *out, struct tc_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return tc_err_set(err, TC_ERR_FETCH, "%s: %s", shown,
				  strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return tc_err_set(err, TC_ERR_FETCH, "%s: %s", shown,
				  strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return tc_err_set(err, TC_ERR_FETCH, "%s: not a regular file",
				  shown);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return tc_err_set(err, TC_ERR_FETCH,
				  "%s: over the size cap (%zu bytes)", shown, max);
	}
	/* One byte more than the cap, to notice a file that grew meanwhile. */
	buf = malloc(max + 2);
	if (buf == NULL) {
		close(fd);
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: out of memory", shown);
	}
	while (len <= max) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return tc_err_set(err, TC_ERR_FETCH, "%s: read: %s",
					  shown, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > max) {
		free(buf);
		return tc_err_set(err, TC_ERR_FETCH,
				  "%s: over the size cap (%zu bytes)", shown, max);
	}
	buf[len] = '\0';
	out->body = buf;
	out->len = len;
	out->bytes_received = len;
	return 0;
}

/* file://[localhost]/path -> /path (percent-decoded by curl's URL parser). */
static int
read_file_url(const char *url, const char *shown, size_t max,
	      struct tc_fetch_result *out, struct tc_err *err)
{
	CURLU *u;
	char *host = NULL, *path = NULL;
	int ret;

	u = curl_url();
	if (u == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: out of memory", shown);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
		curl_url_cleanup(u);
		return tc_err_set(err, TC_ERR_FETCH, "%s: not a local file URL "
				  "(file:///PATH or file://localhost/PATH)", shown);
	}
	/* Only this machine's files: file://otherhost/... is not ours to read. */
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    host[0] != '\0' && strcasecmp(host, "localhost") != 0) {
		ret = tc_err_set(err, TC_ERR_FETCH,
				 "%s: file:// URL names another host", shown);
	} else if (path[0] == '\0') {
		ret = tc_err_set(err, TC_ERR_FETCH, "%s: empty path", shown);
	} else {
		ret = read_local(shown, path, max, out, err);
	}
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	return ret;
}

/* --- http(s) ------------------------------------------------------------- */

/* The cap is enforced here: libcurl 7.88's MAXFILESIZE does not stop a
 * chunked body (RELIABILITY.md A5/V7). Returning short aborts the transfer
 * with CURLE_WRITE_ERROR. */
static size_t
sink_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct sink *s = userp;
	size_t n = size * nmemb;
	size_t ncap;
	char *nbuf;

	if (n > s->max - s->len) {
		s->over = 1;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap == 0 ? 16384 : s->cap;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		nbuf = realloc(s->buf, ncap);
		if (nbuf == NULL)
			return 0;
		s->buf = nbuf;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return n;
}

/* A validator we store or send: bounded, printable ASCII, so it can neither
 * inject a header line nor bloat the state file. */
static int
validator_ok(const char *v)
{
	size_t n = 0;

	if (v == NULL || v[0] == '\0')
		return 0;
	for (; v[n] != '\0'; n++)
		if (n >= VALIDATOR_MAX || v[n] < 0x20 || v[n] > 0x7e)
			return 0;
	return 1;
}

static struct curl_slist *
add_header_raw(struct curl_slist *list, const char *line, int *failed)
{
	struct curl_slist *nl;

	if (*failed)
		return list;
	nl = curl_slist_append(list, line);
	if (nl == NULL)
		*failed = 1;
	return nl ? nl : list;
}

static struct curl_slist *
add_header(struct curl_slist *list, const char *name, const char *value,
	   int *failed)
{
	char line[VALIDATOR_MAX + 64];
	struct curl_slist *nl;
	int n;

	if (*failed || !validator_ok(value))
		return list;
	n = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return list;
	nl = curl_slist_append(list, line);
	if (nl == NULL) {
		*failed = 1;
		return list;
	}
	return nl;
}

/* Copy a response header of the last request (after redirects), or NULL. */
static char *
copy_header(CURL *h, const char *name)
{
	struct curl_header *hdr;

	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
		return NULL;
	if (!validator_ok(hdr->value))
		return NULL;
	return strdup(hdr->value);
}

/* libcurl 7.88 opens its sockets without SOCK_CLOEXEC; a connection kept
 * between watch's polls must not live on in a program started meanwhile. */
static int
sockopt_cloexec(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	int f = fcntl(fd, F_GETFD);

	(void)clientp;
	(void)purpose;
	if (f >= 0 && !(f & FD_CLOEXEC))
		fcntl(fd, F_SETFD, f | FD_CLOEXEC);
	return CURL_SOCKOPT_OK;
}

static int
set_options(CURL *h, const char *url, const struct tc_fetch_opts *o,
	    struct sink *s, struct curl_slist *hdrs, char *errbuf)
{
	long ct = o->connect_timeout_s > 0 ? o->connect_timeout_s : CONNECT_TIMEOUT_S;
	long tt = o->total_timeout_s > 0 ? o->total_timeout_s : TOTAL_TIMEOUT_S;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, url);
	/* file:// is read by read_file_url(), never by curl; and a redirect may
	 * never lead to a local file. */
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, MAX_REDIRS);
	SET(CURLOPT_CONNECTTIMEOUT, ct);
	SET(CURLOPT_TIMEOUT, tt);
	SET(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT_BPS);
	SET(CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	/* No SIGALRM for DNS timeouts: signals belong to the caller. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cloexec);
	SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, s);
	/* Refuses a too large Content-Length before any body byte arrives. */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	if (hdrs != NULL)
		SET(CURLOPT_HTTPHEADER, hdrs);
	/* Verification of peer and host stays on (libcurl's default); a CA
	 * bundle only adds trust for a private server. */
	if (o->cacert != NULL)
		SET(CURLOPT_CAINFO, o->cacert);
	if (o->interface != NULL) {
		/* "if!": an interface name only, never read as an address or
		 * host name; the socket is bound to it (SO_BINDTODEVICE). */
		char ifopt[32];

		if (snprintf(ifopt, sizeof(ifopt), "if!%s", o->interface) >= (int)sizeof(ifopt))
			return -1;
		SET(CURLOPT_INTERFACE, ifopt);
	}
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* Why the transfer failed, as a message after "URL: ". */
static int
transfer_error(CURL *h, CURLcode rc, const struct sink *s, const struct tc_fetch_opts *o,
	       const char *shown, const char *errbuf, struct tc_err *err)
{
	const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
	double secs = 0;
	long oserr = 0, redirects = 0;

	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &secs);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	switch (rc) {
	case CURLE_WRITE_ERROR:
		if (s->over)
			return tc_err_set(err, TC_ERR_FETCH,
					  "%s: over the size cap (%zu bytes)",
					  shown, s->max);
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: out of memory", shown);
	case CURLE_FILESIZE_EXCEEDED:
		return tc_err_set(err, TC_ERR_FETCH,
				  "%s: over the size cap (%zu bytes)", shown, s->max);
	case CURLE_OPERATION_TIMEDOUT:
		return tc_err_set(err, TC_ERR_FETCH, "%s: timed out after %.0f s (%s)",
				  shown, secs, why);
	case CURLE_COULDNT_CONNECT:
		if (oserr == ECONNREFUSED)
			return tc_err_set(err, TC_ERR_FETCH,
					  "%s: connection refused", shown);
		return tc_err_set(err, TC_ERR_FETCH, "%s: cannot connect (%s)",
				  shown, why);
	case CURLE_PARTIAL_FILE:
		return tc_err_set(err, TC_ERR_FETCH, "%s: truncated body (%s)",
				  shown, why);
	case CURLE_RECV_ERROR:
		/* A reset after part of the body is a truncated body too. */
		if (s->len > 0)
			return tc_err_set(err, TC_ERR_FETCH,
					  "%s: truncated body (%s)", shown, why);
		return tc_err_set(err, TC_ERR_FETCH, "%s: %s", shown, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* The first URL was http(s): a redirect to another scheme, or a
		 * server that does not speak HTTP (an ssh port says "SSH-2.0",
		 * which libcurl sees as HTTP/0.9 and refuses). */
		if (curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects) == CURLE_OK && redirects > 0)
			return tc_err_set(err, TC_ERR_FETCH,
					  "%s: redirect refused: only http and https are "
					  "followed (%s)", shown, why);
		return tc_err_set(err, TC_ERR_FETCH, "%s: the server did not answer in HTTP (%s)",
				  shown, why);
	case CURLE_TOO_MANY_REDIRECTS:
		return tc_err_set(err, TC_ERR_FETCH, "%s: more than %ld redirects",
				  shown, MAX_REDIRS);
	case CURLE_INTERFACE_FAILED:
		return tc_err_set(err, TC_ERR_FETCH, "%s: cannot use interface %s (%s)",
				  shown, o->interface ? o->interface : "?", why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return tc_err_set(err, TC_ERR_FETCH,
				  "%s: TLS certificate not trusted (%s)", shown, why);
	default:
		return tc_err_set(err, TC_ERR_FETCH, "%s: %s", shown, why);
	}
}

/* The transfer worked; decide what the HTTP status means. */
static int
check_status(CURL *h, long code, int sent_validator, const char *shown,
	     struct tc_err *err)
{
	struct curl_header *ct;

	if (code == 304) {
		if (!sent_validator)
			return tc_err_set(err, TC_ERR_FETCH,
					  "%s: HTTP 304 to an unconditional request",
					  shown);
		return 0;
	}
	if (code >= 400)
		return tc_err_set(err, TC_ERR_FETCH, "%s: HTTP %ld", shown, code);
	if (code >= 300)
		return tc_err_set(err, TC_ERR_FETCH,
				  "%s: HTTP %ld redirect not followed", shown, code);
	if (code < 200)
		return tc_err_set(err, TC_ERR_FETCH, "%s: HTTP %ld", shown, code);
	/* A captive portal answers 200 with its login page: say so, instead of
	 * letting the document parser call it invalid JSON. */
	if (curl_easy_header(h, "Content-Type", 0, CURLH_HEADER, -1, &ct) ==
	    CURLHE_OK && strncasecmp(ct->value, "text/html", 9) == 0)
		return tc_err_set(err, TC_ERR_FETCH,
				  "%s: got an HTML page, not a config document "
				  "(captive portal?)", shown);
	return 0;
}

static int
fetch_http(const char *url, const char *shown, const struct tc_fetch_opts *o,
	   size_t max, struct tc_fetch_result *out, struct tc_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct tc_fdsnap snap;
	struct sink s = { .max = max };
	struct curl_slist *hdrs = NULL;
	int failed = 0, sent_validator, ret = -1;
	curl_off_t body = 0;
	long code = 0, hsize = 0;
	CURL *h;
	CURLcode rc;

	if (global_init(err) < 0)
		return -1;
	/* A server must ignore If-Modified-Since when If-None-Match is present
	 * (RFC 9110 13.1.3), so the date is sent only without an ETag: an idle
	 * poll on a metered cellular link costs as few bytes as it can. */
	hdrs = add_header(hdrs, "If-None-Match", o->etag, &failed);
	if (!o->etag || !*o->etag)
		hdrs = add_header(hdrs, "If-Modified-Since", o->last_modified, &failed);
	sent_validator = hdrs != NULL;
	/* libcurl's default Accept header (any type) says nothing: "Accept:"
	 * with no value makes libcurl leave it out. */
	hdrs = add_header_raw(hdrs, "Accept:", &failed);
	h = handle_get();
	if (failed || h == NULL ||
	    set_options(h, url, o, &s, hdrs, errbuf) < 0) {
		tc_err_set(err, TC_ERR_RUNTIME, "%s: cannot set up libcurl", shown);
		goto done;
	}
	/* The socket has CLOEXEC from sockopt_cloexec; what libcurl keeps
	 * besides (its multi handle's wake-up socketpair, made by the handle's
	 * first transfer) gets it here, once: a kept handle's later polls do
	 * not scan /proc/self/fd. */
	if (curl_h_fresh)
		tc_fdsnap_take(&snap);
	rc = curl_easy_perform(h);
	if (curl_h_fresh)
		tc_fdsnap_cloexec_new(&snap, NULL, 0);
	curl_h_fresh = 0;
	curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hsize);
	curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &body);
	out->bytes_received = (size_t)hsize + (size_t)body;
	if (rc != CURLE_OK) {
		transfer_error(h, rc, &s, o, shown, errbuf, err);
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	out->http_code = code;
	if (check_status(h, code, sent_validator, shown, err) < 0)
		goto done;
	out->etag = copy_header(h, "ETag");
	out->last_modified = copy_header(h, "Last-Modified");
	if (code == 304) {
		out->not_modified = 1;
		s.len = 0;
	}
	if (s.buf == NULL) {
		s.buf = malloc(1);
		if (s.buf == NULL) {
			tc_err_set(err, TC_ERR_RUNTIME, "%s: out of memory", shown);
			goto done;
		}
	}
	s.buf[s.len] = '\0';
	out->body = s.buf;
	out->len = s.len;
	s.buf = NULL;
	ret = 0;
done:
	free(s.buf);
	/* The handle keeps pointers to these until the next reset. */
	if (h != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	}
	curl_slist_free_all(hdrs);
	return ret;
}

int
tc_fetch(const char *url, const struct tc_fetch_opts *o,
	 struct tc_fetch_result *out, struct tc_err *err)
{
	static const struct tc_fetch_opts defaults;
	char shown[SHOWN_URL_MAX];
	size_t max;
	int ret;

	result_init(out);
	if (o == NULL)
		o = &defaults;
	max = o->max_bytes > 0 ? o->max_bytes : TC_DOC_MAX;
	tc_fetch_shown_url(url != NULL && url[0] != '\0' ? url : "(empty URL)", shown,
		  sizeof(shown));
	switch (classify(url)) {
	case SRC_HTTP:
		ret = fetch_http(url, shown, o, max, out, err);
		break;
	case SRC_FILE_URL:
		ret = read_file_url(url, shown, max, out, err);
		break;
	case SRC_PATH:
		ret = read_local(shown, url, max, out, err);
		break;
	default:
		ret = tc_err_set(err, TC_ERR_FETCH, "%s: unsupported URL scheme "
				 "(http://, https://, file:// or a path)", shown);
		break;
	}
	if (ret < 0)
		tc_fetch_result_free(out);
	return ret;
}
