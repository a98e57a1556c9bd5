#!/bin/bash
# t_fetch.sh: lib/fetch.c against tests/helpers/httpd.py on 127.0.0.1, through
# tests/helpers/fetchctl: validators and 304, every fault mode, scheme
# allow-list, local files, connection refused, TLS verification. TAP output.
set -u

TC_SRCDIR=${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TC_BUILDDIR=${TC_BUILDDIR:-$PWD}
FETCHCTL=$TC_BUILDDIR/tests/helpers/fetchctl
HTTPD=$TC_SRCDIR/tests/helpers/httpd.py
EX_FETCH=69

n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { # check NAME COND...: pass when the command COND succeeds
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name" "rc=$rc" "out: $(tr '\n' ' ' <"$T/out")" "err: $(cat "$T/err")"; fi
}

if [ ! -x "$FETCHCTL" ]; then
	echo "Bail out! $FETCHCTL not built (make check builds it)"
	exit 1
fi

T=$(mktemp -d /tmp/t_fetch.XXXXXX) || exit 1
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_httpd NAME [ARGS...]: sets PORT; the server's files are $T/NAME.*
start_httpd() {
	local name=$1 i; shift
	python3 "$HTTPD" --root "$T/root" --portfile "$T/$name.port" \
		--logfile "$T/$name.log" "$@" 2>"$T/$name.stderr" &
	PIDS+=($!)
	for i in $(seq 100); do
		[ -s "$T/$name.port" ] && break
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$T/$name.port" ]; then
		echo "Bail out! httpd.py $name did not start: $(cat "$T/$name.stderr")"
		exit 1
	fi
	PORT=$(cat "$T/$name.port")
}

# fc ARGS...: run fetchctl; sets rc, ms (wall time), and $T/out, $T/err
fc() {
	local t0 t1
	t0=$(date +%s%N)
	"$FETCHCTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
}
field() { sed -n "s/^$1=//p" "$T/out"; }
err_has() { grep -qi -- "$1" "$T/err"; }
last_log() { tail -n 1 "$T/$1.log"; }
log_field() { # log_field SERVER KEY: KEY of the last request line, JSON null as ""
	last_log "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}
mode() { echo "$2" >"$T/root/$1.mode"; }
nomode() { rm -f "$T/root/$1.mode"; }

mkdir -p "$T/root/v1"
printf '{"version": 1, "devices": {}}\n' >"$T/root/doc.json"
printf '{"imsi": "440101234567890"}\n' >"$T/root/v1/subscriber"
DOCLEN=$(stat -c %s "$T/root/doc.json")
start_httpd plain
H=http://127.0.0.1:$PORT

# --- validators -----------------------------------------------------------

fc "$H/doc.json" --body "$T/body"
ETAG=$(field etag)
check "plain GET: 200, body, ETag and bytes on the wire" \
	test $rc = 0 -a "$(field http_code)" = 200 -a "$(field len)" = "$DOCLEN" \
	-a -n "$ETAG" -a "$(field bytes)" -gt "$DOCLEN" -a "$(field not_modified)" = 0
check "plain GET: body written intact" cmp -s "$T/body" "$T/root/doc.json"

fc "$H/doc.json" --etag "$ETAG"
check "GET with the ETag: 304, not_modified=1, empty body" \
	test $rc = 0 -a "$(field http_code)" = 304 -a "$(field not_modified)" = 1 -a "$(field len)" = 0
check "server saw If-None-Match with the ETag" \
	test "$(log_field plain if_none_match)" = "$ETAG" -a "$(log_field plain status)" = 304

mode doc.json lastmod
fc "$H/doc.json"
LM=$(field last_modified)
check "lastmod mode: no ETag, a Last-Modified" test $rc = 0 -a -z "$(field etag)" -a -n "$LM"
fc "$H/doc.json" --last-modified "$LM"
check "GET with If-Modified-Since: 304" \
	test $rc = 0 -a "$(field not_modified)" = 1 -a "$(log_field plain if_modified_since)" = "$LM"
printf '{"version": 1, "devices": {"x": {"tunnels": []}}}\n' >"$T/root/doc.json"
touch -d '+2 seconds' "$T/root/doc.json"
fc "$H/doc.json" --last-modified "$LM"
check "If-Modified-Since after a change: 200 with the new body" \
	test $rc = 0 -a "$(field http_code)" = 200 -a "$(field not_modified)" = 0
nomode doc.json
DOCLEN=$(stat -c %s "$T/root/doc.json")

fc "$H/doc.json" --etag '"bogus" injected: yes'
check "validator with a stale ETag: full 200" test $rc = 0 -a "$(field http_code)" = 200

# --- HTTP errors and faults ---------------------------------------------------

mode doc.json 500
fc "$H/doc.json"
check "500 -> exit 69, says HTTP 500" test $rc = $EX_FETCH -a -n "$(grep 'HTTP 500' "$T/err")"
nomode doc.json
fc "$H/doc.json"
check "mode flipped back at run time -> 200" test $rc = 0 -a "$(field http_code)" = 200

mode doc.json 503
fc "$H/doc.json"
check "503 -> exit 69, says HTTP 503" test $rc = $EX_FETCH -a -n "$(grep 'HTTP 503' "$T/err")"

mode doc.json 404
fc "$H/doc.json"
check "404 mode -> exit 69, says HTTP 404" test $rc = $EX_FETCH -a -n "$(grep 'HTTP 404' "$T/err")"
nomode doc.json
fc "$H/missing.json"
check "missing file -> 404 -> exit 69" test $rc = $EX_FETCH -a -n "$(grep 'HTTP 404' "$T/err")"

mode doc.json hang
fc "$H/doc.json" --timeout 2
check "hang with --timeout 2 -> exit 69 within 4 s, says timed out" \
	test $rc = $EX_FETCH -a $ms -lt 4000 -a $ms -ge 1900 -a -n "$(grep 'timed out' "$T/err")"

mode doc.json truncate
fc "$H/doc.json"
check "truncated body -> exit 69, says truncated" test $rc = $EX_FETCH -a -n "$(grep 'truncated' "$T/err")"

mode doc.json big
fc "$H/doc.json"
check "2 MiB chunked body -> exit 69, size cap" \
	test $rc = $EX_FETCH -a -n "$(grep 'over the size cap (1048576 bytes)' "$T/err")"

mode doc.json big-cl
fc "$H/doc.json"
check "2 MiB Content-Length body -> exit 69, size cap" \
	test $rc = $EX_FETCH -a -n "$(grep 'over the size cap' "$T/err")"
fc "$H/doc.json" --max-bytes 4096
check "--max-bytes 4096 -> the cap is the caller's" \
	test $rc = $EX_FETCH -a -n "$(grep 'over the size cap (4096 bytes)' "$T/err")"

mode doc.json empty
fc "$H/doc.json"
check "empty 200 -> exit 0, len=0 (the caller judges it)" test $rc = 0 -a "$(field len)" = 0

mode doc.json html
fc "$H/doc.json"
check "captive-portal HTML page -> exit 69" test $rc = $EX_FETCH -a -n "$(grep -i 'html' "$T/err")"

mode doc.json "redirect file:///etc/hostname"
rm -f "$T/body"
fc "$H/doc.json" --body "$T/body"
check "redirect to file:///etc/hostname -> refused, exit 69, nothing read" \
	test $rc = $EX_FETCH -a ! -e "$T/body" -a -n "$(grep 'redirect' "$T/err")"

mode doc.json "redirect $H/v1/subscriber"
fc "$H/doc.json" --body "$T/body"
check "redirect to another path on the server -> followed" \
	test $rc = 0 -a "$(field http_code)" = 200 -a "$(log_field plain path)" = /v1/subscriber
check "redirect: body is the target's" cmp -s "$T/body" "$T/root/v1/subscriber"

mode doc.json "redirect $H/doc.json"
fc "$H/doc.json"
check "redirect loop -> exit 69 after 5 redirects" \
	test $rc = $EX_FETCH -a -n "$(grep 'redirects' "$T/err")"
nomode doc.json

fc "http://tc:s3cr3t@127.0.0.1:$PORT/missing.json?token=t0k3n"
check "messages never show userinfo or query" \
	test $rc = $EX_FETCH -a -z "$(grep -e s3cr3t -e t0k3n "$T/err")" -a -n "$(grep missing.json "$T/err")"

# --- schemes and local files --------------------------------------------------

fc ftp://127.0.0.1/doc.json
check "ftp:// -> exit 69, unsupported scheme" test $rc = $EX_FETCH -a -n "$(grep 'unsupported URL scheme' "$T/err")"
fc gopher://127.0.0.1/
check "gopher:// -> exit 69" test $rc = $EX_FETCH
fc ""
check "empty URL -> exit 69" test $rc = $EX_FETCH

fc "$T/root/doc.json"
check "plain path -> read" test $rc = 0 -a "$(field len)" = "$DOCLEN" -a "$(field http_code)" = 0
ln -s "$T/root/doc.json" "$T/link.json"
fc "$T/link.json"
check "plain path through a symlink -> read" test $rc = 0 -a "$(field len)" = "$DOCLEN"
fc "file://$T/root/doc.json" --body "$T/body"
check "file:// -> read" test $rc = 0 -a "$(field len)" = "$DOCLEN"
check "file://: body intact" cmp -s "$T/body" "$T/root/doc.json"
fc "$T/root/nonexistent.json"
check "nonexistent path -> exit 69" test $rc = $EX_FETCH
fc /dev/zero
check "a device is not a regular file -> exit 69" test $rc = $EX_FETCH
head -c 2000000 /dev/zero >"$T/bigfile"
fc "$T/bigfile"
check "local file over the cap -> exit 69" test $rc = $EX_FETCH -a -n "$(grep 'size cap' "$T/err")"

# --- connection refused ------------------------------------------------------

DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
fc "http://127.0.0.1:$DEAD/doc.json"
check "connection refused -> exit 69 in under 2 s" \
	test $rc = $EX_FETCH -a $ms -lt 2000 -a -n "$(grep 'connection refused' "$T/err")"

# --- a kept connection (watch) -------------------------------------------------

mkdir -p "$T/root/ka"
printf '{"version": 1, "devices": {"ka-1": {"tunnels": []}}}\n' >"$T/root/ka/doc.json"
start_httpd keep --keep-alive
conns() { grep -o '"conn": [0-9]*' "$T/keep.log" | sort -u | wc -l; }
fc --load ka-1 --repeat 3 --keep --state "$T/kstate" "http://127.0.0.1:$PORT/ka/doc.json"
check "three loads with keep_connection: 200 then two 304s from the validator cache" \
	test $rc = 0 -a "$(grep -c 'not_modified=1 has_device=1' "$T/out")" = 2 \
	-a "$(log_field keep status)" = 304
check "three loads with keep_connection: one connection" test "$(conns)" = 1
check "the kept connection is open and CLOEXEC (nothing leaks into a tunnel)" \
	test "$(field sockets)" -ge 1 -a -z "$(field sockets_not_cloexec)" \
	-a -n "$(grep '^sockets_not_cloexec=$' "$T/out")"
: >"$T/keep.log"
fc --load ka-1 --repeat 2 --state "$T/kstate2" "http://127.0.0.1:$PORT/ka/doc.json"
check "two loads as sync does them: a connection each, none left open" \
	test $rc = 0 -a "$(conns)" = 2 -a "$(field sockets)" = 0

# --- TLS ----------------------------------------------------------------------

if command -v openssl >/dev/null 2>&1 &&
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1; then
	start_httpd tls --tls "$T/cert.pem" "$T/key.pem"
	S=https://127.0.0.1:$PORT
	fc "$S/doc.json"
	check "https, self-signed, no --cacert -> exit 69, says certificate" \
		test $rc = $EX_FETCH -a -n "$(grep -i 'certificate' "$T/err")"
	fc "$S/doc.json" --cacert "$T/cert.pem"
	check "https with --cacert -> 200" test $rc = 0 -a "$(field http_code)" = 200 -a "$(field len)" = "$DOCLEN"
	fc "https://localhost:$PORT/doc.json" --cacert "$T/cert.pem"
	check "https://localhost with --cacert -> 200" test $rc = 0 -a "$(field http_code)" = 200
	fc "$S/doc.json" --cacert "$T/nonexistent.pem"
	check "https with an unreadable --cacert -> exit 69" test $rc = $EX_FETCH
else
	for t in "https without --cacert refused" "https with --cacert" \
		 "https://localhost with --cacert" "https with an unreadable --cacert"; do
		skip "$t (openssl missing)"
	done
fi

echo "1..$n"
