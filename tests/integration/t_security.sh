#!/bin/bash
# t_security.sh: hostile environment, planted symlinks, secrets, run_as,
# non-root callers (issue: hardening). Real sshd on loopback, real autossh.
. "${TC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
loopback_fixture
keybody=$(sed -n 3p "$KEY")	# line 2 is common to all ed25519 keys; 3 is this key's own
start() { # NAME RPORT [extra...]
	local n=$1 p=$2
	shift 2
	tc start "$n" --server "root@127.0.0.1:$SPORT" --remote-port "$p" --target "127.0.0.1:$TPORT" \
		--key "$KEY" --host-key "$SSHD_HOSTKEY_PUB" "$@"
}

# --- a hostile caller environment changes nothing ----------------------------
MARK=$WORK/pwned
mkdir -p "$WORK/evilhome/.ssh"
printf '#!/bin/sh\ntouch %s\nexec /usr/bin/ssh "$@"\n' "$MARK" >"$WORK/evil.sh"
chmod +x "$WORK/evil.sh"
printf 'Host *\n  ProxyCommand sh -c "touch %s; exec nc %%h %%p"\n' "$MARK" >"$WORK/evilhome/.ssh/config"
RP=$(free_port)
env AUTOSSH_PATH="$WORK/evil.sh" AUTOSSH_GATETIME=30 LD_PRELOAD=/nonexistent/evil.so HOME="$WORK/evilhome" \
	SSH_AUTH_SOCK=/nonexistent PATH="$WORK:$PATH" \
	"$TC_BIN" --state-dir "$STATE" --settings "$SETTINGS" start env1 --server "root@127.0.0.1:$SPORT" \
	--remote-port "$RP" --target "127.0.0.1:$TPORT" --key "$KEY" --host-key "$SSHD_HOSTKEY_PUB" >/dev/null 2>&1
check "tunnel up despite a hostile environment" wait_for 15 state_is env1 up
is "$(fetch_token "$RP")" "$TOKEN" "and it carries traffic"
check "AUTOSSH_PATH, HOME/.ssh/config ProxyCommand from the caller never ran" [ ! -e "$MARK" ]
sup=$(jfield env1 pid)
bad=0
for p in $(pgrep -s "$sup"); do
	tr '\0' '\n' </proc/$p/environ | grep -q '^LD_PRELOAD=\|^HOME=\|^SSH_AUTH_SOCK=\|AUTOSSH_PATH=/.*evil' && bad=1
done
is "$bad" 0 "no caller variable reached the supervisor, autossh or ssh"
tc stop env1 >/dev/null

# --- secrets never leave the key file ----------------------------------------
RP=$(free_port)
out=$(start sec "$RP" -v 2>&1; tc -v status --json 2>&1; tc -v status 2>&1)
wait_for 15 state_is sec up
out="$out$(tc -v status --json 2>&1; tc -v sync --source "$WORK/nonexistent.json" --id x 2>&1)"
check "no key bytes in any output, even verbose" sh -c "! printf '%s' \"\$1\" | grep -qF -- \"\$2\"" _ "$out" "$keybody"
check "no key bytes in spec.json or run.json" sh -c "! cat $STATE/sec/spec.json $STATE/sec/run.json | grep -qF -- '$keybody'"
leak=0
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
	grep -qaF -- "$keybody" "$f" 2>/dev/null && leak=1
done
is "$leak" 0 "no key bytes in any /proc/*/cmdline or environ while it runs"
check "key file 0600 root" [ "$(stat -c '%a %u' "$STATE/sec/key")" = "600 0" ]
sup=$(jfield sec pid)
check "the supervisor can leave no core file (RLIMIT_CORE 0)" \
	sh -c "grep '^Max core file size' /proc/$sup/limits | grep -q ' 0  *0 '"
tc stop sec >/dev/null
check "key removed on stop" [ ! -e "$STATE/sec" ]
copies=$(grep -rlF -- "$keybody" /tmp 2>/dev/null | grep -v "^$SSHD/")
is "$copies" "" "no copy of the key left under /tmp"

# --- planted symlinks are refused, never followed ------------------------------
VICTIM=$WORK/victim
echo precious >"$VICTIM"
ln -s "$WORK/elsewhere" "$STATE/lnk" 2>/dev/null || { mkdir -p "$STATE"; ln -s "$WORK/elsewhere" "$STATE/lnk"; }
mkdir -p "$WORK/elsewhere"
out=$(start lnk "$(free_port)" 2>&1); rc=$?
check "a tunnel dir planted as a symlink is refused (rc $rc)" [ "$rc" != 0 ]
check "nothing was written through it" [ -z "$(ls -A "$WORK/elsewhere")" ]
rm -f "$STATE/lnk"
mv "$STATE" "$WORK/realstate"
ln -s "$WORK/realstate" "$STATE"
out=$(tc status 2>&1); rc=$?
is "$rc" 77 "a symlinked state dir is refused (exit 77)"
rm -f "$STATE"
mv "$WORK/realstate" "$STATE"
rm -f "$STATE/.lock"
ln -s "$VICTIM" "$STATE/.lock"
out=$(start lk "$(free_port)" 2>&1); rc=$?
check "a .lock planted as a symlink is refused" [ "$rc" != 0 ]
is "$(cat "$VICTIM")" precious "the symlink's target is untouched"
rm -f "$STATE/.lock"
mkdir -p "$STATE/.fetch"
rm -rf "$STATE/.fetch"
ln -s "$WORK/elsewhere" "$STATE/.fetch"
echo '{"version":1,"devices":{}}' >"$WORK/doc.json"
tc sync --source "$WORK/doc.json" --id edge >/dev/null 2>&1
check "a .fetch planted as a symlink is not written through" [ -z "$(ls -A "$WORK/elsewhere")" ]
rm -f "$STATE/.fetch"
chmod 777 "$STATE"
out=$(tc status 2>&1); rc=$?
is "$rc" 77 "a world-writable state dir is refused (exit 77)"
chmod 700 "$STATE"

# --- run_as: ssh runs unprivileged -------------------------------------------
if id nobody >/dev/null 2>&1; then
	chmod 711 "$WORK"	# as /run is: the user must traverse to its key
	RP=$(free_port)
	start ra "$RP" --run-as nobody >/dev/null 2>&1
	check "run_as tunnel comes up" wait_for 15 state_is ra up
	is "$(fetch_token "$RP")" "$TOKEN" "run_as tunnel carries traffic"
	sup=$(jfield ra pid)
	sp=$(pgrep -s "$sup" -x ssh | head -1)
	is "$(stat -c %u /proc/"$sp")" "$(id -u nobody)" "ssh runs as nobody"
	ap=$(pgrep -s "$sup" -f /usr/lib/autossh/autossh | head -1)
	[ -n "$ap" ] && is "$(stat -c %u /proc/"$ap")" "$(id -u nobody)" "autossh runs as nobody"
	is "$(stat -c %u /proc/"$sup")" 0 "the supervisor keeps root (for netlink)"
	is "$(stat -c '%a %U' "$STATE/ra/key")" "600 nobody" "the key is readable by that user only"
	grp=$(awk '/^Groups:/{print $2}' /proc/"$sp"/status)
	is "${grp:-none}" "$( [ -n "$(id -G nobody | tr ' ' '\n' | head -1)" ] && id -G nobody | cut -d' ' -f1 || echo none)" "ssh has the user's groups, not root's"
	tc stop ra >/dev/null
else
	skip "no user nobody"
fi

# --- a non-root caller is refused without side effects -----------------------
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TC_BIN" --state-dir "$STATE" --settings /dev/null status 2>&1); rc=$?
	is "$rc" 77 "a non-root status on root's state dir exits 77"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TC_BIN" --state-dir "$STATE" --settings /dev/null \
		start x --server root@127.0.0.1 --remote-port 1 --target 127.0.0.1:1 --key "$KEY" 2>&1); rc=$?
	check "a non-root start is refused ($rc)" [ "$rc" = 77 -o "$rc" = 2 ]
	check "and left nothing" [ ! -e "$STATE/x" ]
else
	skip "no setpriv"
fi

done_testing
