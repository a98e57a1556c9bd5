#!/bin/bash
# t_cli.sh: the command line as a user meets it: every command answers a bad
# option the same way, help comes from the command table, the settings file
# refuses what it cannot read unambiguously (inline comments, quotes, BOM,
# duplicate keys, over-long lines, directories), exit codes and messages of
# the black-box pass, stdout write errors, and every error line (per-tunnel
# ones included) reaching syslog. ssh is a stand-in that just sleeps: no
# tunnel here needs a server. TAP.
set -u
. "${TC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

tc_setup
SLEEPSSH=$WORK/sleepssh
printf '#!/bin/sh\nexec sleep 300\n' >"$SLEEPSSH"
chmod 755 "$SLEEPSSH"
printf 'ssh = %s\nautossh = no\n' "$SLEEPSSH" >"$SETTINGS"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key" -C t_cli >/dev/null || { echo "Bail out! ssh-keygen"; exit 1; }
flags=(--server tunnel@127.0.0.1:9 --remote-port 8080 --target 127.0.0.1:22 --key "$WORK/key")

# --- one answer to a bad option, from every command ---
for c in start stop restart status sync version help; do
	tc "$c" --wait >/dev/null 2>"$WORK/err"
	is "$?" 2 "$c --wait (no value) exits 2"
	check "$c --wait says it needs a value" grep -q "^tunnelctl: $c: --wait: needs a value" "$WORK/err"
	tc "$c" --frobnicate >/dev/null 2>"$WORK/err"
	is "$?" 2 "$c --frobnicate exits 2"
	check "$c --frobnicate is an unknown option" grep -q "unknown option '--frobnicate'" "$WORK/err"
done
tc stop --server x web >/dev/null 2>"$WORK/err"
is "$?" 2 "stop --server: exits 2"
check "stop --server: not an option of stop" grep -q -- "--server: not an option of stop" "$WORK/err"
tc --server x status >/dev/null 2>"$WORK/err"
is "$?" 2 "--server before the command exits 2"

# --- help and the command table ---
tc help >"$WORK/help"
is "$?" 0 "help exits 0"
cmds=$(sed -n 's/^  \([a-z]*\) .*/\1/p' "$WORK/help")
check "help lists commands" test -n "$cmds"
for c in $cmds; do
	tc "$c" -h >"$WORK/h" 2>&1
	is "$?" 0 "every listed command dispatches: $c -h exits 0"
	check "$c -h shows $c's own line" grep -qE "^  $c( |\$)" "$WORK/h"
done
tc help start >"$WORK/h"
is "$?" 0 "help start exits 0"
check "help start shows start" grep -q '^  start NAME' "$WORK/h"
check "help start shows the tunnel options" grep -q '^tunnel options:' "$WORK/h"
check "help start does not show sync" bash -c '! grep -q "^  sync" "$1"' _ "$WORK/h"
tc help bogus >/dev/null 2>"$WORK/err"
is "$?" 2 "help bogus exits 2"
check "help bogus names it" grep -q "unknown command 'bogus'" "$WORK/err"
is "$(tc -V 2>&1)" "$(tc version 2>&1)" "-V prints what version prints"
is "$(tc --json -V 2>&1)" "$(tc --json version 2>&1)" "--json -V is --json version"

# --- messages and exit codes ---
tc restart ../x >/dev/null 2>"$WORK/err"
is "$?" 2 "restart ../x exits 2"
check "restart ../x: not a tunnel name" grep -q "NAME: '../x' is not a tunnel name" "$WORK/err"
tc stop >/dev/null 2>"$WORK/err"
is "$(cat "$WORK/err")" "tunnelctl: stop: name a tunnel, or give --all" "stop without NAME: one prefix, no 'stop: stop:'"
for args in "start" "start a b" "sync x" "version x" "restart"; do
	tc $args >/dev/null 2>"$WORK/err"
	check "'$args': no doubled command word" bash -c '! grep -qE "^tunnelctl: ([a-z]+): \1:" "$1"' _ "$WORK/err"
done
: >"$WORK/plainfile"
"$TC_BIN" --settings "$SETTINGS" --state-dir "$WORK/plainfile" status >/dev/null 2>"$WORK/err"
is "$?" 2 "a regular file as --state-dir exits 2"
check "... and says it is not a directory, no symlink hint" \
	bash -c 'grep -q "not a directory" "$1" && ! grep -q symlink "$1"' _ "$WORK/err"
ln -s "$WORK" "$WORK/link"
"$TC_BIN" --settings "$SETTINGS" --state-dir "$WORK/link" status >/dev/null 2>"$WORK/err"
is "$?" 77 "a symlink as --state-dir exits 77"
check "... and says it is a symlink" grep -q "is a symlink" "$WORK/err"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p "$WORK/nobody" && chown 65534:65534 "$WORK/nobody" && chmod 755 "$WORK"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TC_BIN" --settings /dev/null \
		--state-dir "$WORK/nobody/st" start web "${flags[@]}" --run-as root >/dev/null 2>"$WORK/err"
	is "$?" 77 "--run-as as non-root exits 77"
	check "... and says --run-as needs root" grep -q -- "--run-as: needs root" "$WORK/err"
	chmod 700 "$WORK"
else
	skip "--run-as as non-root: needs root and setpriv"
	skip "--run-as message"
fi

# --- settings ---
mkdir -p "$WORK/docs dir"
cat >"$WORK/docs dir/doc.json" <<EOF
{"version": 1, "devices": {"edge-1": {"tunnels": [
 {"name": "web", "server": {"host": "127.0.0.1", "port": 9, "user": "tunnel"},
  "remote": {"port": 8080}, "target": {"host": "127.0.0.1", "port": 22},
  "private_key": "$(base64 -w0 "$WORK/key")"}]}}}
EOF
setwith() { { printf 'ssh = %s\nautossh = no\n' "$SLEEPSSH"; printf "$@"; } >"$SETTINGS"; }
setwith 'id = edge-1   # cabinet 3\nsource = "%s"   # quoted: it has a space\n' "$WORK/docs dir/doc.json"
out=$(tc start web 2>"$WORK/err")
is "$?" 0 "inline comment and quoted path: start from the document works"
is "$out" "web: started" "... the id was edge-1, the path had its space"
tc -q stop web
printf '\xef\xbb\xbfid = edge-1\nsource = "%s"\nssh = %s\nautossh = no\n' "$WORK/docs dir/doc.json" "$SLEEPSSH" >"$SETTINGS"
out=$(tc start web 2>"$WORK/err")
is "$out" "web: started" "a UTF-8 BOM before the first key is not part of it"
tc -q stop web
setwith 'id = edge-1\nid = edge-2\n'
tc status >/dev/null 2>"$WORK/err"
is "$?" 2 "a key set twice exits 2"
check "... naming both lines" grep -q ":4: id is already set on line 3" "$WORK/err"
setwith 'id = edge 1\n'
tc status >/dev/null 2>"$WORK/err"
is "$?" 2 "a bare value with a blank exits 2"
check "... naming the line and the key" grep -q ":3: id: the value has a blank" "$WORK/err"
setwith 'source = "/unterminated\n'
tc status >/dev/null 2>"$WORK/err"
is "$?" 2 "an unterminated quote exits 2"
{ printf '# %s' "$(head -c 2100 /dev/zero | tr '\0' x)"; printf 'run_as = root\n'; } >"$SETTINGS"
tc status >/dev/null 2>"$WORK/err"
is "$?" 2 "a line over 2047 bytes exits 2 (its tail never becomes a setting)"
check "... naming the line" grep -q ":1: line longer than 2047 bytes" "$WORK/err"
tc --settings "$WORK" status >/dev/null 2>"$WORK/err"
is "$?" 2 "a directory as --settings exits 2"
check "... saying it is a directory" grep -q "Is a directory" "$WORK/err"
printf 'ssh = %s\nautossh = no\n' "$SLEEPSSH" >"$SETTINGS"

# --- a source that is not an HTTP server (an ssh port) is named as such ---
BPORT=$(free_port)
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
while True:
    c, _ = s.accept(); c.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n"); c.close()
' "$BPORT" &
at_exit "kill $!"
wait_port 127.0.0.1 "$BPORT" 5
tc sync --source "http://127.0.0.1:$BPORT/doc.json" --id edge-1 >/dev/null 2>"$WORK/err"
is "$?" 69 "a source answering with an ssh banner exits 69"
check "... saying the server did not answer in HTTP, not 'redirect'" \
	bash -c 'grep -q "did not answer in HTTP" "$1" && ! grep -q redirect "$1"' _ "$WORK/err"

# --- stdout that cannot be written ---
tc start web "${flags[@]}" >/dev/null 2>&1
if [ -w /dev/full ]; then
	tc --json status >/dev/full 2>"$WORK/err"
	is "$?" 1 "status --json > /dev/full exits 1"
	check "... saying stdout failed" grep -q "stdout: No space left on device" "$WORK/err"
	tc stop web >/dev/full 2>"$WORK/err"
	is "$?" 1 "stop > /dev/full exits 1 ..."
	check "... after stopping the tunnel all the same" test ! -e "$STATE/web"
else
	skip "/dev/full not writable"; skip "/dev/full"; skip "/dev/full"; skip "/dev/full"
fi

# --- --host-key as users paste it: with its comment, or an ssh-keyscan line ---
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey" -C "root@server" >/dev/null
hk=$(cut -d' ' -f1,2 "$WORK/hostkey.pub")
for pasted in "$(cat "$WORK/hostkey.pub")" "127.0.0.1 $hk" "[127.0.0.1]:9 $hk"; do
	tc start web "${flags[@]}" --host-key "$pasted" >/dev/null 2>"$WORK/err"
	is "$?" 0 "--host-key '$(cut -c1-24 <<<"$pasted")...' is accepted"
	is "$(cut -d' ' -f2- "$STATE/web/known_hosts" 2>/dev/null)" "$hk" "... and pinned as TYPE BASE64 only"
	tc -q stop web
done
tc start web "${flags[@]}" --host-key "ssh-ed25519 not-base64" >/dev/null 2>"$WORK/err"
is "$?" 2 "a host key that is not one is still refused (2)"

# --- status table: a 32-character name does not shift the row ---
long=abcdefghijklmnopqrstuvwxyz012345
tc -q start "$long" "${flags[@]}"
tc status >"$WORK/table"
hdr=$(sed -n 1p "$WORK/table" | grep -bo 'STATE' | cut -d: -f1)
row=$(grep "^$long " "$WORK/table" | sed 's/^[^ ]* *//' | head -1)
col=$(( $(grep "^$long " "$WORK/table" | head -1 | wc -c) - ${#row} - 1 ))
is "$col" "$hdr" "STATE starts at the same column in the header and a 32-character name's row"
tc -q stop "$long"

# --- --wait counts fractions of a second ---
mkdir -p "$STATE"
flock "$STATE/.lock" sleep 5 &
holder=$!
at_exit "kill $holder"
wait_for 3 test -e "$STATE/.lock"
sleep 0.2
t0=$(date +%s%N)
tc --wait 1 stop web >/dev/null 2>"$WORK/err"
rc=$?
t1=$(date +%s%N)
is "$rc" 75 "--wait 1 behind a held lock exits 75"
check "... after waiting at least 1 s ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -ge 1000
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# --- every error line reaches syslog, the per-tunnel ones too ---
if syslog_ok; then
	SL=$WORK/sl
	mkdir -p "$SL"
	syslog_run "$SL" 0 "$TC_BIN" --settings "$SETTINGS" --state-dir "$STATE" status nosuch
	is "$(cat "$SL/rc")" 3 "status of an unknown tunnel exits 3"
	check "status's per-tunnel line reached syslog" grep -q 'tunnelctl\[[0-9]*\]: status: nosuch: unknown tunnel' "$SL/syslog"
	printf 'ssh = %s\nautossh = no\nrun_as = nosuchuser%s\n' "$SLEEPSSH" "$$" >"$SETTINGS"
	syslog_run "$SL" 0 "$TC_BIN" --settings "$SETTINGS" --state-dir "$STATE" \
		sync --source "$WORK/docs dir/doc.json" --id edge-1
	is "$(cat "$SL/rc")" 1 "sync whose tunnel cannot start exits 1"
	check "sync's per-tunnel failure reached syslog as daemon.err" \
		grep -q '^<27>.*tunnelctl\[[0-9]*\]: sync: web: start failed: run_as: no user' "$SL/syslog"
	check "... and stderr" grep -q '^tunnelctl: sync: web: start failed' "$SL/stderr"
	printf 'ssh = %s\nautossh = no\n' "$SLEEPSSH" >"$SETTINGS"
	# Under systemd stderr is the journal (JOURNAL_STREAM names it): the
	# journal has the line, syslog would store it a second time.
	: >"$SL/stderr"
	syslog_run "$SL" 0 env JOURNAL_STREAM="$(stat -c '%d:%i' "$SL/stderr")" \
		"$TC_BIN" --settings "$SETTINGS" --state-dir "$STATE" status nosuch
	check "stderr as systemd's journal stream: the line is on stderr" grep -q 'status: nosuch: unknown tunnel' "$SL/stderr"
	check "... and not sent to syslog a second time" test ! -s "$SL/syslog"
else
	skip "syslog: needs root and mount namespaces"; skip "syslog"; skip "syslog"; skip "syslog"; skip "syslog"
	skip "journal stream"; skip "journal stream"
fi

done_testing
